"""Fused softmax-cross-entropy and multi-tensor Adam under the CPU CUDA emulator.

References: the generic twins on NumPy -- ``gpuk.losses`` categorical and sparse categorical
cross-entropy (values and GradientTape gradients), and ``adam_step_reference`` (Keras 3's Adam).
"""

import numpy as np
import pytest

import gpuk
from gpuk import losses
from gpuk.ops.fused import adam as fused_adam
from gpuk.ops.fused import launch, softmax_xent
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

TOL = {np.float32: dict(rtol=2e-5, atol=1e-6), np.float64: dict(rtol=1e-11, atol=1e-13)}
DTYPES = pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])


@pytest.fixture(scope="module")
def provider():
    return cuda_emulator.Provider()


def _loss_and_grad(fn, target, output, weights):
    variable = gpuk.Variable(output)
    with gpuk.GradientTape() as tape:
        loss = fn(target, variable)
        total = gpuk.ops.sum(loss * weights)
    return loss.data, tape.gradient(total, [variable])[0].data


@DTYPES
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("from_logits", [True, False], ids=["logits", "probabilities"])
@pytest.mark.parametrize("classes", [7, 300])
def test_softmax_xent_matches_losses(provider, dtype, sparse, from_logits, classes):
    rng = np.random.default_rng(classes + 2 * sparse)
    rows = 3
    logits = (rng.normal(size=(rows, classes)) * 3).astype(dtype)
    output = logits
    if not from_logits:  # probabilities of a softmax layer, one tiny enough to be clipped
        output = np.exp(logits - logits.max(-1, keepdims=True))
        output[0, 1] = 1e-12
        output = (output / output.sum(-1, keepdims=True)).astype(dtype)
    labels = rng.integers(0, classes, size=rows)
    labels[0] = 1  # the clipped class
    if sparse:
        target = labels.astype(dtype)
        generic = losses.sparse_categorical_crossentropy
    else:
        target = rng.random((rows, classes)).astype(dtype)
        target /= target.sum(-1, keepdims=True)
        generic = losses.categorical_crossentropy
    weights = rng.normal(size=rows).astype(dtype)

    def reference(t, o):
        return generic(t, o, from_logits=from_logits)

    def fused(t, o):
        return softmax_xent.softmax_cross_entropy_fused(
            t, o, from_logits=from_logits, sparse=sparse
        )

    expected = _loss_and_grad(reference, target, output, weights)
    with launch.use_kernel_provider(provider):
        actual = _loss_and_grad(fused, target, output, weights)
    for name, a, e in zip(("loss", "gradient"), actual, expected):
        assert a.dtype == dtype
        np.testing.assert_allclose(a, e, err_msg=name, **TOL[dtype])
    config = launch.softmax_xent_config(rows, classes)
    assert (
        f"xent_forward<{launch.type_name(dtype)}>",
        config["grid"] + (1, 1),
        config["block"] + (1, 1),
        0,
    ) in provider.launches("xent_forward")


def test_softmax_xent_config():
    assert launch.softmax_xent_config(16384, 32768) == {
        "grid": (16384,),
        "block": (1024,),
        "shared": 0,
    }
    assert launch.softmax_xent_config(4, 10)["block"] == (32,)


def test_softmax_xent_shape_error(provider):
    with launch.use_kernel_provider(provider), pytest.raises(ValueError, match="target shape"):
        softmax_xent.softmax_cross_entropy_fused(np.zeros((2, 3)), np.zeros((2, 4)))


@DTYPES
@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_matches_reference(provider, dtype, amsgrad):
    rng = np.random.default_rng(3)
    # sizes cover a multi-block tensor (ADAM_CHUNK = 4096), ragged tails and a misaligned view
    shapes = [(3, 5), (4200,), (1,), (9, 4)]
    params = [rng.normal(size=s).astype(dtype) for s in shapes]
    buffer = np.zeros(38, dtype)
    params[3] = buffer[1:37].reshape(9, 4)  # data not 16-byte aligned: scalar path
    params[3][...] = rng.normal(size=(9, 4))
    state = {
        "p": params,
        "m": [rng.normal(size=s).astype(dtype) * 0.1 for s in shapes],
        "v": [rng.random(size=s).astype(dtype) * 0.1 for s in shapes],
        "vh": [rng.random(size=s).astype(dtype) * 0.1 for s in shapes],
    }
    expected = {k: [a.copy() for a in v] for k, v in state.items()}
    options = dict(learning_rate=1e-2, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=amsgrad)
    with launch.use_kernel_provider(provider):
        for step in (1, 2, 3):
            grads = [rng.normal(size=s).astype(dtype) for s in shapes]
            fused_adam.adam_step_fused(
                state["p"], grads, state["m"], state["v"], state["vh"], step=step, **options
            )
            fused_adam.adam_step_reference(
                expected["p"],
                grads,
                expected["m"],
                expected["v"],
                expected["vh"],
                step=step,
                **options,
            )
    for key in ("p", "m", "v") + (("vh",) if amsgrad else ()):
        for a, e in zip(state[key], expected[key]):
            np.testing.assert_allclose(a, e, err_msg=key, **TOL[dtype])
    sizes = [int(np.prod(s)) for s in shapes]
    assert provider.launches("adam_multi_tensor")[-1][1:] == (
        launch.adam_config(sizes)["grid"] + (1, 1),
        (launch.ADAM_THREADS, 1, 1),
        0,
    )


def test_adam_reference_is_keras_adam():
    """One step from zero slots: p -= lr * sqrt(1 - b2) / (1 - b1) * m / (sqrt(v) + eps)."""
    p, g = np.array([1.0, -2.0]), np.array([0.5, -0.25])
    m, v = np.zeros(2), np.zeros(2)
    fused_adam.adam_step_reference(
        [p], [g], [m], [v], learning_rate=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-7, step=1
    )
    np.testing.assert_allclose(m, 0.1 * g)
    np.testing.assert_allclose(v, 0.001 * g * g)
    alpha = 0.1 * np.sqrt(0.001) / 0.1
    np.testing.assert_allclose(p, [1.0, -2.0] - alpha * m / (np.sqrt(v) + 1e-7))


@DTYPES
@pytest.mark.parametrize("amsgrad", [False, True])
def test_optimizer_hook_matches_the_optimizers_own_adam_update(provider, dtype, amsgrad):
    """``adam_multi_tensor`` (what gpuk.optimizers.Adam calls on the GPU) equals adam_update."""
    from gpuk.optimizers.adam import adam_alpha, adam_update

    rng = np.random.default_rng(5)
    shapes = [(4, 3), (5000,)]
    params = [rng.normal(size=s).astype(dtype) for s in shapes]
    slots = [[np.zeros(s, dtype) for s in shapes] for _ in range(3)]
    expected = [p.copy() for p in params], [[a.copy() for a in group] for group in slots]
    for step in (1, 2):
        grads = [rng.normal(size=s).astype(dtype) for s in shapes]
        alpha = adam_alpha(1e-2, 0.9, 0.999, step, np.dtype(dtype))
        # as the optimizer passes them: Python betas (1 - beta is rounded from double)
        scalars = dict(beta_1=0.9, beta_2=0.999, epsilon=dtype(1e-7))
        with launch.use_kernel_provider(provider):
            handled = fused_adam.adam_multi_tensor(
                params,
                grads,
                slots[0],
                slots[1],
                slots[2] if amsgrad else None,
                lr=dtype(1e-2),
                amsgrad=amsgrad,
                alpha=alpha,
                **scalars,
            )
        assert handled
        for i in range(len(shapes)):
            p, m, v, vh = adam_update(
                np,
                expected[0][i],
                grads[i],
                expected[1][0][i],
                expected[1][1][i],
                expected[1][2][i],
                1e-2,
                scalars["beta_1"],
                scalars["beta_2"],
                scalars["epsilon"],
                amsgrad,
                step,
            )
            expected[0][i], expected[1][0][i], expected[1][1][i], expected[1][2][i] = p, m, v, vh
    for got, want in zip(
        params + slots[0] + slots[1], expected[0] + expected[1][0] + expected[1][1]
    ):
        np.testing.assert_allclose(got, want, **TOL[dtype])
