"""The fused GRU kernels run under the CPU CUDA emulator and match the generic GRU.

The fused Function runs unchanged over NumPy arrays, with the launch configurations it really
uses; the reference is the generic twin ``gpuk.ops.recurrent.gru(fused=False)`` on NumPy,
forward and backward (through GradientTape), float32 and float64.
"""

import dataclasses

import numpy as np
import pytest

import gpuk
from gpuk.ops import recurrent
from gpuk.ops.fused import gru as fused_gru
from gpuk.ops.fused import launch
from gpuk.ops.fused._recurrent import RecurrentConfig
from tests import cuda_emulator

pytestmark = [
    pytest.mark.skipif(
        cuda_emulator.unavailable_reason() is not None,
        reason=str(cuda_emulator.unavailable_reason()),
    ),
    # The emulator runs kernels over NumPy arrays: variables must land on the CPU even when
    # the run's device is a GPU (GPUK_DEVICE=gpu, --cupy=standin).
    pytest.mark.usefixtures("on_cpu"),
]

TOL = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-11, atol=1e-12)}


@pytest.fixture(scope="module")
def provider():
    return cuda_emulator.Provider()


def _weights(rng, batch, steps, features, units, reset_after, dtype):
    bias_shape = (2, 3 * units) if reset_after else (3 * units,)
    return [
        rng.normal(size=(batch, steps, features)).astype(dtype),
        (rng.normal(size=(features, 3 * units)) * 0.5).astype(dtype),
        (rng.normal(size=(units, 3 * units)) * 0.4).astype(dtype),
        (rng.normal(size=bias_shape) * 0.3).astype(dtype),
        (rng.normal(size=(batch, units)) * 0.5).astype(dtype),
    ]


def _run(fn, arrays, mask, seed):
    """Outputs and gradients of a weighted sum of both outputs, for every input."""
    tensors = [gpuk.Variable(a) for a in arrays]
    rng = np.random.default_rng(seed)
    with gpuk.GradientTape() as tape:
        seq, last = fn(*tensors, mask)
        wseq = rng.normal(size=seq.shape).astype(seq.data.dtype)
        wlast = rng.normal(size=last.shape).astype(seq.data.dtype)
        loss = gpuk.ops.sum(seq * wseq) + gpuk.ops.sum(last * wlast)
    grads = tape.gradient(loss, tensors)
    return [seq.data, last.data] + [g.data for g in grads]


CASES = [
    # units, activation, recurrent_activation, reset_after, go_backwards, masked, sequence
    (8, "tanh", "sigmoid", True, False, False, True),
    (8, "relu", "sigmoid", False, False, False, True),
    (5, "tanh", "hard_sigmoid", True, True, True, True),
    (16, "linear", "hard_sigmoid_legacy", False, True, True, True),
    (6, "sigmoid", "sigmoid", True, False, True, False),
    (6, "relu", "hard_sigmoid", False, False, True, False),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(map(str, c)))
def test_fused_gru_matches_generic(provider, monkeypatch, case, dtype):
    units, act, ract, reset_after, backwards, masked, sequence = case
    if not sequence:  # force the per-step kernels: no shared memory for the persistent ones
        monkeypatch.setattr(launch, "DEFAULT_MAX_SHARED_BYTES", 16)
    batch, steps, features = 3, 5, 4
    rng = np.random.default_rng(units + 7 * reset_after)
    arrays = _weights(rng, batch, steps, features, units, reset_after, dtype)
    mask = None
    if masked:
        mask = rng.random((batch, steps)) > 0.35
        mask[0, :2] = False  # zeros before the first unmasked step, a non-zero initial state
    options = dict(activation=act, recurrent_activation=ract, reset_after=reset_after)
    options["go_backwards"] = backwards
    generic_options = dict(options, activation=act, recurrent_activation=ract)

    def generic(*args):
        return recurrent.gru(*args[:5], args[5], fused=False, **generic_options)

    def fused(*args):
        return fused_gru.gru_fused(*args[:5], args[5], **options)

    expected = _run(generic, arrays, mask, seed=1)
    with launch.use_kernel_provider(provider):
        actual = _run(fused, arrays, mask, seed=1)
    names = ["sequence", "last_state", "d_inputs", "d_kernel", "d_recurrent", "d_bias", "d_h0"]
    for name, a, e in zip(names, actual, expected):
        assert a.dtype == dtype, name
        np.testing.assert_allclose(a, e, err_msg=name, **TOL[dtype])
    kernel = "gru_sequence" if sequence else "gru_step"
    launches = provider.launches(kernel)
    assert launches, f"{kernel} kernels were not used"
    if sequence:
        config = launch.gru_sequence_config(batch, units, np.dtype(dtype).itemsize)
        assert (
            f"gru_sequence_forward<{launch.type_name(dtype)}>",
            config["grid"] + (1, 1),
            config["block_forward"] + (1, 1),
            config["shared_forward"],
        ) in launches


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("reset_after", [True, False], ids=["reset_after", "reset_before"])
@pytest.mark.parametrize("layout", ["global", "rows", "narrow"])
def test_persistent_layouts(provider, monkeypatch, layout, reset_after, dtype):
    """Weights read from global memory (too big for shared), several batch rows per block, and
    blocks narrower than the columns (every loop strides), against the generic GRU."""
    batch, steps, features, units = 3, 4, 3, 12
    itemsize = np.dtype(dtype).itemsize
    if layout == "global":  # room for one row's buffers only
        monkeypatch.setattr(launch, "DEFAULT_MAX_SHARED_BYTES", 5 * units * itemsize)
    if layout == "rows":
        monkeypatch.setattr(launch, "DEFAULT_SM_COUNT", 1)
    if layout == "narrow":
        monkeypatch.setattr(launch, "MAX_THREADS", 32)
    rng = np.random.default_rng(21 + reset_after)
    arrays = _weights(rng, batch, steps, features, units, reset_after, dtype)
    mask = rng.random((batch, steps)) > 0.3
    options = dict(reset_after=reset_after, go_backwards=layout == "rows")
    expected = _run(lambda *a: recurrent.gru(*a[:5], a[5], fused=False, **options), arrays, mask, 2)
    counting = cuda_emulator.Provider()
    with launch.use_kernel_provider(counting):
        actual = _run(lambda *a: fused_gru.gru_fused(*a[:5], a[5], **options), arrays, mask, 2)
    for a, e in zip(actual, expected):
        np.testing.assert_allclose(a, e, **TOL[dtype])
    config = launch.gru_sequence_config(batch, units, itemsize, *launch.device_limits(np))
    assert config["weights_shared"] == (layout != "global")
    assert config["rows"] == (3 if layout == "rows" else 1)
    ((name, grid, block, shared),) = counting.launches("gru_sequence_forward")
    assert block == config["block_forward"] + (1, 1) and shared == config["shared_forward"]
    assert len(counting.launches("gru_sequence_backward")) == 1


def test_sequence_config_budget():
    """float32 weights fit on chip up to at least 128 units on an H100/H200 (227 KiB)."""
    config = launch.gru_sequence_config(32, 128, 4)
    assert config is not None and config["shared_backward"] <= 227 * 1024
    assert config["block_forward"] == (384,) and config["block_backward"] == (128,)
    assert launch.gru_sequence_config(32, 96, 4)["grid"] == (32,)
    assert launch.gru_sequence_config(1000, 24, 4)["rows"] == 8
    assert config["weights_shared"] == 1
    big = launch.gru_sequence_config(32, 160, 4)  # 300 KiB of weights: read from global memory
    assert big["weights_shared"] == 0 and big["shared_backward"] == 5 * 160 * 4
    assert launch.gru_sequence_config(32, 128, 8)["weights_shared"] == 0
    assert launch.gru_sequence_config(32, 400, 4)["block_forward"] == (1024,)
    assert launch.gru_sequence_config(4, 10**5, 8) is None  # per-step kernels


def _config(units=16, activation="tanh", recurrent_activation="sigmoid", dtype="float32", **flags):
    return RecurrentConfig(
        cell="gru",
        xp=np,
        dtype=np.dtype(dtype),
        batch_size=1,
        timesteps=3,
        input_dim=4,
        units=units,
        activation=activation,
        recurrent_activation=recurrent_activation,
        **flags,
    )


def test_supports_reasons():
    reason = fused_gru.supports(_config())
    assert reason.startswith("xp:") and "GPU" in reason
    with launch.use_kernel_provider(lambda *a: None):
        config = _config(activation="relu", recurrent_activation="hard_sigmoid_legacy")
        assert fused_gru.supports(dataclasses.replace(config, dtype=np.dtype("float64"))) is None
        reason = fused_gru.supports(_config(activation="selu"))
        assert reason.startswith("activation:") and "selu" in reason
        reason = fused_gru.supports(_config(dtype="float16"))
        assert reason.startswith("dtype:") and "float16" in reason


def test_gru_fused_on_cpu_is_a_clear_error():
    rng = np.random.default_rng(0)
    arrays = _weights(rng, 2, 3, 4, 5, True, np.float32)
    with pytest.raises(RuntimeError, match="GPU"):
        fused_gru.gru_fused(*arrays)


def test_mixed_dtypes_compute_in_the_promoted_type(provider):
    """float64 inputs with float32 weights: the kernel template follows float64, so every
    operand is cast to it first (it used to read the float32 buffers as doubles)."""
    rng = np.random.default_rng(8)
    arrays = _weights(rng, 2, 4, 3, 5, True, np.float32)
    arrays[0] = arrays[0].astype(np.float64)
    arrays[4] = arrays[4].astype(np.float64)
    expected = _run(lambda *a: recurrent.gru(*a[:5], a[5], fused=False), arrays, None, seed=4)
    with launch.use_kernel_provider(provider):
        actual = _run(lambda *a: fused_gru.gru_fused(*a[:5], a[5]), arrays, None, seed=4)
    assert actual[0].dtype == actual[1].dtype == np.float64
    for grad, operand in zip(actual[2:], arrays):
        assert grad.dtype == operand.dtype
    for a, e in zip(actual, expected):
        np.testing.assert_allclose(a, e, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("reset_after", [True, False], ids=["reset_after", "reset_before"])
def test_recurrent_dropout_inside_the_kernels(provider, reset_after, dtype):
    """Keras's per-gate input and recurrent dropout masks (GRU with recurrent_dropout in
    training) against the composed oracle: one persistent launch per direction, not per step."""
    batch, steps, features, units = 3, 4, 4, 6
    rng = np.random.default_rng(9 + reset_after)
    arrays = _weights(rng, batch, steps, features, units, reset_after, dtype)
    mask = rng.random((batch, steps)) > 0.3
    mask[:, 0] = True

    def drop(size):
        return [((rng.random((batch, size)) > 0.3) / 0.7).astype(dtype) for _ in range(3)]

    options = dict(reset_after=reset_after, go_backwards=True, input_dropout_masks=drop(features))
    options["recurrent_dropout_masks"] = drop(units)
    expected = _run(lambda *a: recurrent.gru_composed(*a, **options), arrays, mask, seed=6)
    counting = cuda_emulator.Provider()
    with launch.use_kernel_provider(counting):
        actual = _run(lambda *a: fused_gru.gru_fused(*a, **options), arrays, mask, seed=6)
    for a, e in zip(actual, expected):
        assert a.dtype == dtype
        np.testing.assert_allclose(a, e, **TOL[dtype])
    names = sorted(launch[0].split("<")[0] for launch in counting.launches("gru_"))
    assert names == ["gru_sequence_backward", "gru_sequence_forward"]


def test_recurrent_dropout_declines_without_the_persistent_kernels():
    with launch.use_kernel_provider(lambda *a: None):
        reason = fused_gru.supports(_config(10**5, has_recurrent_dropout=True))
        assert reason.startswith("has_recurrent_dropout:") and "shared memory" in reason
        assert fused_gru.supports(_config(10**5)) is None
        assert fused_gru.supports(_config(160, has_recurrent_dropout=True)) is None
