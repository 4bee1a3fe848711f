"""The fused LSTM and SimpleRNN kernels run under the CPU CUDA emulator and match the generic ops.

The fused Functions run unchanged over NumPy arrays with the launch configurations they really
use. References on NumPy: the whole-sequence Functions (``recurrent.lstm`` /
``recurrent.simple_rnn`` with ``fused=False``) and the composed step-by-step oracles (the only
generic path with dropout masks); forward and backward (GradientTape), float32 and float64;
masks, ``go_backwards``, weights in shared or global memory, several rows per block.
"""

import numpy as np
import pytest

import gpuk
from gpuk import _array
from gpuk.ops import recurrent
from gpuk.ops.fused import launch
from gpuk.ops.fused import lstm as fused_lstm
from gpuk.ops.fused import simple_rnn as fused_rnn
from gpuk.ops.fused._recurrent import RecurrentConfig
from tests import cuda_emulator

pytestmark = pytest.mark.skipif(
    cuda_emulator.unavailable_reason() is not None,
    reason=str(cuda_emulator.unavailable_reason()),
)


@pytest.fixture(autouse=True)
def _numpy_arrays():
    """The emulator runs kernels over NumPy arrays: keep new arrays on the CPU even where
    GPUK_DEVICE=gpu (or 'auto' on a GPU machine)."""
    try:
        previous = _array.device()
    except RuntimeError:  # GPUK_DEVICE=gpu on a machine without one
        previous = "cpu"
    _array.set_device("cpu")
    yield
    _array.set_device(previous)


TOL = {np.float32: dict(rtol=3e-5, atol=3e-6), np.float64: dict(rtol=1e-11, atol=1e-12)}
DTYPES = pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])


@pytest.fixture(scope="module")
def provider():
    return cuda_emulator.Provider()


def _run(fn, arrays, seed):
    """Outputs and gradients of a weighted sum of all outputs, for every input."""
    tensors = [gpuk.Variable(a) for a in arrays]
    rng = np.random.default_rng(seed)
    with gpuk.GradientTape() as tape:
        outputs = fn(*tensors)
        loss = 0
        for out in outputs:
            weights = rng.normal(size=out.shape).astype(out.data.dtype)
            loss = loss + gpuk.ops.sum(out * weights)
    grads = tape.gradient(loss, tensors)
    return [o.data for o in outputs] + [g.data for g in grads]


def _compare(actual, expected, dtype, names):
    for name, a, e in zip(names, actual, expected):
        assert a.dtype == dtype, name
        np.testing.assert_allclose(a, e, err_msg=name, **TOL[dtype])


def _dropout(rng, batch, size, count, dtype):
    return [((rng.random((batch, size)) > 0.3) / 0.7).astype(dtype) for _ in range(count)]


LAYOUTS = {
    # name: (max shared bytes, multiprocessors): weights on chip, one row per block
    "shared": (227 * 1024, 132),
    "global": (None, 132),  # room for one row's buffers only: weights read from global memory
    "rows": (227 * 1024, 1),  # every row in one block
    "narrow": (227 * 1024, 132),  # 32 threads per block: every loop strides
}


def _limits(layout, row_elements, monkeypatch=None):
    """(max shared bytes, multiprocessors) of a layout, installed with monkeypatch if given."""
    shared, sms = LAYOUTS[layout]
    shared = row_elements * 8 if shared is None else shared
    if monkeypatch is not None:
        monkeypatch.setattr(launch, "DEFAULT_MAX_SHARED_BYTES", shared)
        monkeypatch.setattr(launch, "DEFAULT_SM_COUNT", sms)
        monkeypatch.setattr(launch, "MAX_THREADS", 32 if layout == "narrow" else 1024)
    return shared, sms


LSTM_CASES = [
    # units, activation, recurrent_activation, go_backwards, masked, layout
    (8, "tanh", "sigmoid", False, False, "shared"),
    (5, "relu", "hard_sigmoid", True, True, "global"),
    (6, "tanh", "hard_sigmoid_legacy", False, True, "rows"),
    (40, "linear", "sigmoid", True, False, "global"),
    (40, "tanh", "sigmoid", False, True, "narrow"),  # 160 columns, 40 units on 32 threads
]


@DTYPES
@pytest.mark.parametrize("case", LSTM_CASES, ids=lambda c: "-".join(map(str, c)))
def test_fused_lstm_matches_generic(provider, monkeypatch, case, dtype):
    units, act, ract, backwards, masked, layout = case
    limits = _limits(layout, 6 * units, monkeypatch)
    batch, steps, features = 3, 4, 3
    rng = np.random.default_rng(units + 3 * backwards)
    arrays = [
        rng.normal(size=(batch, steps, features)).astype(dtype),
        (rng.normal(size=(features, 4 * units)) * 0.5).astype(dtype),
        (rng.normal(size=(units, 4 * units)) * 0.4).astype(dtype),
        (rng.normal(size=(4 * units,)) * 0.3).astype(dtype),
        (rng.normal(size=(batch, units)) * 0.5).astype(dtype),
        (rng.normal(size=(batch, units)) * 0.5).astype(dtype),
    ]
    mask = None
    if masked:
        mask = rng.random((batch, steps)) > 0.35
        mask[0, :2] = False
    options = dict(activation=act, recurrent_activation=ract, go_backwards=backwards)
    generic_options = dict(options, recurrent_activation=ract)
    expected = _run(
        lambda *a: recurrent.lstm(*a, mask, fused=False, **generic_options), arrays, seed=1
    )
    with launch.use_kernel_provider(provider):
        actual = _run(lambda *a: fused_lstm.lstm_fused(*a, mask, **options), arrays, seed=1)
    names = ["sequence", "last_h", "last_c", "d_inputs", "d_kernel", "d_recurrent", "d_bias"]
    _compare(actual, expected, dtype, names + ["d_h0", "d_c0"])
    config = launch.recurrent_sequence_config(
        batch, units, 4, np.dtype(dtype).itemsize, 6 * units, *limits
    )
    assert config["weights_shared"] == (layout != "global")
    assert (
        f"lstm_sequence_forward<{launch.type_name(dtype)}>",
        config["grid"] + (1, 1),
        config["block_forward"] + (1, 1),
        config["shared"],
    ) in provider.launches("lstm_sequence_forward")


RNN_CASES = [
    # units, activation, go_backwards, masked, layout
    (8, "tanh", False, False, "shared"),
    (5, "relu", True, True, "global"),
    (6, "sigmoid", False, True, "rows"),
    (36, "hard_sigmoid_legacy", True, False, "narrow"),  # more units than threads
]


@DTYPES
@pytest.mark.parametrize("case", RNN_CASES, ids=lambda c: "-".join(map(str, c)))
def test_fused_simple_rnn_matches_generic(provider, monkeypatch, case, dtype):
    units, act, backwards, masked, layout = case
    _limits(layout, 2 * units, monkeypatch)
    batch, steps, features = 3, 5, 4
    rng = np.random.default_rng(units + 5 * backwards)
    arrays = [
        rng.normal(size=(batch, steps, features)).astype(dtype),
        (rng.normal(size=(features, units)) * 0.5).astype(dtype),
        (rng.normal(size=(units, units)) * 0.4).astype(dtype),
        (rng.normal(size=(units,)) * 0.3).astype(dtype),
        (rng.normal(size=(batch, units)) * 0.5).astype(dtype),
    ]
    mask = None
    if masked:
        mask = rng.random((batch, steps)) > 0.35
        mask[0, :2] = False
    options = dict(activation=act, go_backwards=backwards)
    generic_options = dict(options, activation=act)
    expected = _run(
        lambda *a: recurrent.simple_rnn(*a, mask, fused=False, **generic_options), arrays, seed=2
    )
    with launch.use_kernel_provider(provider):
        actual = _run(lambda *a: fused_rnn.simple_rnn_fused(*a, mask, **options), arrays, seed=2)
    names = ["sequence", "last", "d_inputs", "d_kernel", "d_recurrent", "d_bias", "d_h0"]
    _compare(actual, expected, dtype, names)
    assert provider.launches("simple_rnn_sequence_backward")


@DTYPES
@pytest.mark.parametrize("cell", ["lstm", "simple_rnn"])
def test_fused_dropout_masks_match_the_composed_oracle(provider, cell, dtype):
    """Per-gate input and recurrent dropout masks, as the layers draw them in training."""
    gates, units, batch, steps, features = (4 if cell == "lstm" else 1), 6, 3, 4, 5
    rng = np.random.default_rng(11)
    arrays = [
        rng.normal(size=(batch, steps, features)).astype(dtype),
        (rng.normal(size=(features, gates * units)) * 0.5).astype(dtype),
        (rng.normal(size=(units, gates * units)) * 0.4).astype(dtype),
        (rng.normal(size=(gates * units,)) * 0.3).astype(dtype),
    ] + [(rng.normal(size=(batch, units)) * 0.5).astype(dtype) for _ in range(gates // 4 + 1)]
    x_masks = _dropout(rng, batch, features, gates, dtype)
    h_masks = _dropout(rng, batch, units, gates, dtype)
    mask = rng.random((batch, steps)) > 0.3
    mask[:, 0] = True
    if cell == "lstm":
        composed, fused = recurrent.lstm_composed, fused_lstm.lstm_fused
        masks = dict(input_dropout_masks=x_masks, recurrent_dropout_masks=h_masks)
    else:
        composed, fused = recurrent.simple_rnn_composed, fused_rnn.simple_rnn_fused
        masks = dict(input_dropout_mask=x_masks[0], recurrent_dropout_mask=h_masks[0])
    options = dict(go_backwards=True, **masks)
    expected = _run(lambda *a: composed(*a, mask, **options), arrays, seed=3)
    with launch.use_kernel_provider(provider):
        actual = _run(lambda *a: fused(*a, mask, **options), arrays, seed=3)
    _compare(actual, expected, dtype, [f"output {i}" for i in range(len(actual))])


def test_mixed_dtypes_compute_in_the_promoted_type(provider):
    """float64 inputs with float32 weights: computed in float64 like the generic op, with
    gradients in each operand's own type (the kernels read every buffer as one type)."""
    rng = np.random.default_rng(4)
    batch, steps, features, units = 2, 3, 4, 5
    arrays = [
        rng.normal(size=(batch, steps, features)),
        (rng.normal(size=(features, units)) * 0.5).astype(np.float32),
        (rng.normal(size=(units, units)) * 0.4).astype(np.float32),
        (rng.normal(size=(units,)) * 0.3).astype(np.float32),
        rng.normal(size=(batch, units)),
    ]
    expected = _run(lambda *a: recurrent.simple_rnn(*a, fused=False), arrays, seed=5)
    with launch.use_kernel_provider(provider):
        actual = _run(lambda *a: fused_rnn.simple_rnn_fused(*a), arrays, seed=5)
    assert actual[0].dtype == actual[1].dtype == np.float64
    for a, operand in zip(actual[2:], arrays):
        assert a.dtype == operand.dtype
    for a, e in zip(actual, expected):
        np.testing.assert_allclose(a, e, rtol=1e-6, atol=1e-7)


def test_sequence_config():
    """Weights on chip when they fit (before more rows), else global memory; any size runs."""
    config = launch.recurrent_sequence_config(32, 96, 4, 4, 6 * 96)
    assert config["weights_shared"] == 1 and config["block_forward"] == (384,)
    assert config["shared"] == 4 * 96 * 96 * 4 + 6 * 96 * 4
    assert launch.recurrent_sequence_config(32, 128, 4, 4, 6 * 128)["weights_shared"] == 0
    big = launch.recurrent_sequence_config(32, 512, 4, 4, 6 * 512)
    assert big["weights_shared"] == 0 and big["block_forward"] == (1024,)
    assert big["block_backward"] == (512,) and big["shared"] == 6 * 512 * 4
    rows = launch.recurrent_sequence_config(1000, 16, 1, 8, 2 * 16)
    assert rows["rows"] == 8 and rows["grid"] == (125,)
    assert launch.recurrent_sequence_config(4, 10**6, 1, 8, 2 * 10**6) is None


def _config(cell, units=16, dtype="float32", **activations):
    return RecurrentConfig(
        cell=cell,
        xp=np,
        dtype=np.dtype(dtype),
        batch_size=1,
        timesteps=3,
        input_dim=4,
        units=units,
        **activations,
    )


def test_supports_reasons():
    reason = fused_lstm.supports(_config("lstm", recurrent_activation="sigmoid"))
    assert reason.startswith("xp:") and "GPU" in reason
    with launch.use_kernel_provider(lambda *a: None):
        config = _config(
            "lstm", dtype="float64", activation="relu", recurrent_activation="hard_sigmoid_legacy"
        )
        assert fused_lstm.supports(config) is None
        reason = fused_lstm.supports(
            _config("lstm", activation="selu", recurrent_activation="sigmoid")
        )
        assert reason.startswith("activation:") and "selu" in reason
        reason = fused_lstm.supports(_config("lstm", activation="tanh", recurrent_activation=None))
        assert reason.startswith("recurrent_activation:")
        reason = fused_rnn.supports(_config("simple_rnn", dtype="float16"))
        assert reason.startswith("dtype:") and "float16" in reason
        reason = fused_rnn.supports(_config("simple_rnn", 10**6, "float64"))
        assert reason.startswith("units:") and "shared memory" in reason


def test_fused_on_cpu_is_a_clear_error():
    x = np.zeros((2, 3, 4), np.float32)
    with pytest.raises(RuntimeError, match="GPU"):
        fused_rnn.simple_rnn_fused(
            x, np.zeros((4, 5), np.float32), np.zeros((5, 5), np.float32), None, None
        )
    with pytest.raises(RuntimeError, match="GPU"):
        fused_lstm.lstm_fused(
            x, np.zeros((4, 20), np.float32), np.zeros((5, 20), np.float32), None, None, None
        )
