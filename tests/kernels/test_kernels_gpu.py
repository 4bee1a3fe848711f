"""On a GPU: every fused kernel against its generic twin (float32 1e-5 relative, float64 1e-12).

Skipped without a CUDA device; the CPU emulator tests cover the same code paths there.
"""

import dataclasses

import numpy as np
import pytest

import gpuk
from gpuk import _array, losses
from gpuk.ops import recurrent
from gpuk.ops.fused import adam as fused_adam
from gpuk.ops.fused import gru as fused_gru
from gpuk.ops.fused import registry, softmax_xent
from gpuk.optimizers.adam import adam_alpha, adam_update
from tests import cupy_standin

_reason = _array.gpu_unavailable_reason()
#: On the CuPy stand-in the kernels run on the CPU emulator: shorter sequences, fewer rows.
EMULATED = cupy_standin.installed()
pytestmark = [
    pytest.mark.gpu,
    pytest.mark.standin,  # on a CPU, these run on the CuPy stand-in (docs/gpu-standin.md)
    pytest.mark.skipif(_reason is not None, reason=str(_reason)),
]
TOL = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-13)}
DTYPES = pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])


@pytest.fixture
def cp():
    previous = _array.device()
    _array.set_device("gpu")
    yield _array.cupy_module()
    _array.set_device(previous)


def _grads(cp, fn, arrays, seed):
    tensors = [gpuk.Variable(cp.asarray(a)) for a in arrays]
    with gpuk.GradientTape() as tape:
        outputs = fn(*tensors)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        rng = np.random.default_rng(seed)
        loss = sum(
            gpuk.ops.sum(o * cp.asarray(rng.normal(size=o.shape).astype(o.data.dtype)))
            for o in outputs
        )
    grads = tape.gradient(loss, tensors)
    return [_array.to_numpy(o.data) for o in outputs] + [_array.to_numpy(g.data) for g in grads]


@DTYPES
@pytest.mark.parametrize(
    "units,act,reset_after,backwards,masked",
    [
        (24, "relu", False, False, False),
        (48, "tanh", True, True, True),
        (96, "tanh", True, False, False),
        (128, "relu", False, False, True),
        (300, "tanh", True, False, False),
    ],
)
def test_fused_gru_vs_generic(cp, dtype, units, act, reset_after, backwards, masked):
    """The fused GRU against the generic twin computed in float64 (a float32 reference would
    carry float32 accumulation error of its own, ~2e-5 relative at these sizes)."""
    rng = np.random.default_rng(units)
    batch, steps, features = 5, 9 if EMULATED else 37, 11
    arrays = [
        rng.normal(size=(batch, steps, features)),
        rng.normal(size=(features, 3 * units)) / np.sqrt(features),
        rng.normal(size=(units, 3 * units)) / np.sqrt(units),
        rng.normal(size=(2, 3 * units) if reset_after else (3 * units,)) * 0.1,
        np.zeros((batch, units)),
    ]
    arrays = [a.astype(dtype) for a in arrays]
    mask = cp.asarray(rng.random((batch, steps)) > 0.3) if masked else None
    options = dict(activation=act, reset_after=reset_after, go_backwards=backwards)
    reference = [a.astype(np.float64) for a in arrays]
    expected = _grads(cp, lambda *a: recurrent.gru(*a, mask, fused=False, **options), reference, 1)
    actual = _grads(cp, lambda *a: fused_gru.gru_fused(*a, mask, **options), arrays, 1)
    tolerance = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else TOL[dtype]
    for a, e in zip(actual, expected):
        assert a.dtype == dtype
        np.testing.assert_allclose(a, e, **tolerance)


@DTYPES
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("from_logits", [True, False])
def test_fused_xent_vs_generic(cp, dtype, sparse, from_logits):
    """The kernel against the composed ops (``gpuk.ops`` crossentropy): the loss functions
    themselves dispatch to the kernel on the GPU, so they cannot be the reference."""
    rng = np.random.default_rng(0)
    output = rng.normal(size=(16 if EMULATED else 64, 1000)).astype(dtype)
    if not from_logits:
        output = np.exp(output) / np.exp(output).sum(-1, keepdims=True)
    labels = rng.integers(0, 1000, output.shape[0])
    target = labels if sparse else np.eye(1000, dtype=dtype)[labels]
    composed = (
        gpuk.ops.sparse_categorical_crossentropy if sparse else gpuk.ops.categorical_crossentropy
    )
    t = gpuk.Tensor(cp.asarray(target))
    expected = _grads(cp, lambda o: composed(t, o, from_logits=from_logits), [output], 2)
    actual = _grads(
        cp,
        lambda o: softmax_xent.softmax_cross_entropy_fused(
            t, o, from_logits=from_logits, sparse=sparse
        ),
        [output],
        2,
    )
    for a, e in zip(actual, expected):
        np.testing.assert_allclose(a, e, **TOL[dtype])


def test_loss_functions_take_the_fused_kernel(cp, monkeypatch):
    calls = []
    entry = registry.FUSED_OPS["softmax_cross_entropy"]
    original = entry.implementation
    counting = dataclasses.replace(
        entry, implementation=lambda *a, **k: calls.append(k) or original(*a, **k)
    )
    monkeypatch.setitem(registry.FUSED_OPS, "softmax_cross_entropy", counting)
    logits = gpuk.Tensor(cp.asarray(np.zeros((4, 10), np.float32)))
    losses.categorical_crossentropy(cp.asarray(np.eye(10, dtype=np.float32)[:4]), logits)
    assert calls, "categorical_crossentropy did not dispatch to the fused kernel on the GPU"


@DTYPES
@pytest.mark.parametrize("amsgrad", [False, True])
def test_fused_adam_vs_reference(cp, dtype, amsgrad):
    """The kernel against the optimizer's own per-variable update, the one Adam reference."""
    rng = np.random.default_rng(0)
    shapes = [(300, 7), (5,), (70000,)]
    state = [[cp.asarray(rng.random(s).astype(dtype)) for s in shapes] for _ in range(4)]
    copy = [[a.copy() for a in group] for group in state]
    for step in (1, 2):
        grads = [cp.asarray(rng.normal(size=s).astype(dtype)) for s in shapes]
        alpha = adam_alpha(1e-3, 0.9, 0.999, step, np.dtype(dtype))
        fused_adam.adam_multi_tensor(
            state[0],
            grads,
            state[1],
            state[2],
            state[3] if amsgrad else None,
            alpha=alpha,
            beta_1=0.9,
            beta_2=0.999,
            epsilon=dtype(1e-7),
            amsgrad=amsgrad,
        )
        for i in range(len(shapes)):
            updated = adam_update(
                cp,
                copy[0][i],
                grads[i],
                copy[1][i],
                copy[2][i],
                copy[3][i],
                1e-3,
                0.9,
                0.999,
                dtype(1e-7),
                amsgrad,
                step,
            )
            for group, value in zip(copy, updated):
                group[i] = value
    for group_a, group_e in zip(state if amsgrad else state[:3], copy):
        for a, e in zip(group_a, group_e):
            np.testing.assert_allclose(_array.to_numpy(a), _array.to_numpy(e), **TOL[dtype])
