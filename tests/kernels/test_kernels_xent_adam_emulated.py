"""Fused softmax-cross-entropy and multi-tensor Adam under the CPU CUDA emulator.

References: the generic twins on NumPy -- ``gpuk.losses`` categorical and sparse categorical
cross-entropy (values and GradientTape gradients), and the optimizer's own per-variable Adam
update ``gpuk.optimizers.adam.adam_update`` (the one Adam reference).
"""

import numpy as np
import pytest

import gpuk
from gpuk import losses
from gpuk.ops.fused import FusedUnsupported, launch, softmax_xent
from gpuk.ops.fused import adam as fused_adam
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


def test_the_losses_check_shapes_before_the_kernel():
    """Shapes are checked once, by the public loss; the fused op trusts them."""
    counting = cuda_emulator.Provider()
    with launch.use_kernel_provider(counting), pytest.raises(ValueError, match="shape"):
        losses.categorical_crossentropy(np.zeros((2, 3)), np.zeros((2, 4)))
    assert not counting.launches("xent_")
    with launch.use_kernel_provider(counting):
        losses.categorical_crossentropy(np.eye(4)[:2], np.full((2, 4), 0.25))
    assert counting.launches("xent_forward<double>"), "the loss did not take the kernel"


@DTYPES
@pytest.mark.parametrize("amsgrad", [False, True])
def test_optimizer_hook_matches_the_optimizers_own_adam_update(provider, dtype, amsgrad):
    """``adam_multi_tensor`` (what gpuk.optimizers.Adam calls on the GPU) equals the optimizer's
    own per-variable update ``adam_update``, the one Adam reference. The sizes cover a
    multi-block tensor (ADAM_CHUNK = 4096), a ragged tail, one element and a view whose data is
    not 16-byte aligned (the kernel's scalar path)."""
    from gpuk.optimizers.adam import adam_alpha, adam_update

    rng = np.random.default_rng(5)
    shapes = [(4, 3), (5000,), (1,), (9, 4)]
    params = [rng.normal(size=s).astype(dtype) for s in shapes]
    buffer = np.zeros(38, dtype)
    params[3] = buffer[1:37].reshape(9, 4)
    params[3][...] = rng.normal(size=(9, 4))
    slots = [[np.zeros(s, dtype) for s in shapes] for _ in range(3)]
    expected = [p.copy() for p in params], [[a.copy() for a in group] for group in slots]
    for step in (1, 2):
        grads = [rng.normal(size=s).astype(dtype) for s in shapes]
        alpha = adam_alpha(1e-2, 0.9, 0.999, step, np.dtype(dtype))
        # as the optimizer passes them: Python betas (1 - beta is rounded from double)
        scalars = dict(beta_1=0.9, beta_2=0.999, epsilon=dtype(1e-7))
        with launch.use_kernel_provider(provider):
            fused_adam.adam_multi_tensor(
                params,
                grads,
                slots[0],
                slots[1],
                slots[2] if amsgrad else None,
                amsgrad=amsgrad,
                alpha=alpha,
                **scalars,
            )
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
    got = params + slots[0] + slots[1] + (slots[2] if amsgrad else [])
    want = expected[0] + expected[1][0] + expected[1][1] + (expected[1][2] if amsgrad else [])
    for a, e in zip(got, want, strict=True):
        np.testing.assert_allclose(a, e, **TOL[dtype])
    sizes = [int(np.prod(s)) for s in shapes]
    assert provider.launches("adam_multi_tensor")[-1][1:] == (
        launch.adam_config(sizes)["grid"] + (1, 1),
        (launch.ADAM_THREADS, 1, 1),
        0,
    )


def test_adam_multi_tensor_refuses_what_supports_declines():
    params = [np.zeros(3, np.float32)]
    with pytest.raises(FusedUnsupported, match="adam_multi_tensor: xp: .*GPU"):
        fused_adam.adam_multi_tensor(
            params,
            params,
            params,
            params,
            None,
            alpha=1.0,
            beta_1=0.9,
            beta_2=0.9,
            epsilon=1e-7,
            amsgrad=False,
        )


def test_adam_caches_keep_what_a_step_just_added():
    """A nearly full cache used to be emptied while one step added its pointer tables, so
    the next steps uploaded them again (an order-dependent upload in the GPU budget test)."""
    cache = {("old", i): i for i in range(fused_adam._POINTER_TABLES_KEPT - 2)}
    for key in ("params", "grads", "ms", "vs"):
        fused_adam._cached(cache, key, lambda: object(), fused_adam._POINTER_TABLES_KEPT)
    assert {"params", "grads", "ms", "vs"} <= set(cache)
    assert len(cache) == fused_adam._POINTER_TABLES_KEPT
    made = []
    fused_adam._cached(cache, "vs", lambda: made.append(1), fused_adam._POINTER_TABLES_KEPT)
    assert made == []
