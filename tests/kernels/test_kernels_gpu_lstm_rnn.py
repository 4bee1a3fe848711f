"""On a GPU: the fused LSTM and SimpleRNN kernels against a float64 generic reference.

Skipped without a CUDA device; tests/kernels/test_kernels_lstm_rnn_emulated.py covers the same
code paths on the CPU emulator. The reference is the generic whole-sequence op run in float64
on the same (rounded) values, so float32 results are judged against the exact answer with a
tolerance above float32 accumulation error, not against another float32 computation.
"""

import numpy as np
import pytest

import gpuk
from gpuk import _array
from gpuk.ops import recurrent
from gpuk.ops.fused import lstm as fused_lstm
from gpuk.ops.fused import simple_rnn as fused_rnn

_reason = _array.gpu_unavailable_reason()
pytestmark = [pytest.mark.gpu, pytest.mark.skipif(_reason is not None, reason=str(_reason))]
TOL = {np.float32: dict(rtol=1e-4, atol=2e-5), np.float64: dict(rtol=1e-11, atol=1e-12)}
DTYPES = pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])


@pytest.fixture
def cp():
    previous = _array.device()
    _array.set_device("gpu")
    yield _array.cupy_module()
    _array.set_device(previous)


def _grads(cp, fn, arrays, mask, seed):
    tensors = [gpuk.Variable(cp.asarray(a)) for a in arrays]
    with gpuk.GradientTape() as tape:
        outputs = fn(*tensors, mask)
        rng = np.random.default_rng(seed)
        loss = sum(
            gpuk.ops.sum(o * cp.asarray(rng.normal(size=o.shape).astype(o.data.dtype)))
            for o in outputs
        )
    grads = tape.gradient(loss, tensors)
    return [_array.to_numpy(o.data) for o in outputs] + [_array.to_numpy(g.data) for g in grads]


def _check(cp, fused, generic, arrays, mask, dtype):
    actual = _grads(cp, fused, arrays, mask, 1)
    expected = _grads(cp, generic, [a.astype(np.float64) for a in arrays], mask, 1)
    for a, e in zip(actual, expected):
        assert a.dtype == dtype
        np.testing.assert_allclose(a, e, **TOL[dtype])


@DTYPES
@pytest.mark.parametrize(
    "units,backwards,masked", [(24, False, False), (64, True, True), (200, False, True)]
)
def test_fused_lstm_vs_generic(cp, dtype, units, backwards, masked):
    rng = np.random.default_rng(units)
    batch, steps, features = 5, 37, 11
    arrays = [
        rng.normal(size=(batch, steps, features)).astype(dtype),
        (rng.normal(size=(features, 4 * units)) / np.sqrt(features)).astype(dtype),
        (rng.normal(size=(units, 4 * units)) / np.sqrt(units)).astype(dtype),
        (rng.normal(size=(4 * units,)) * 0.1).astype(dtype),
        (rng.normal(size=(batch, units)) * 0.1).astype(dtype),
        (rng.normal(size=(batch, units)) * 0.1).astype(dtype),
    ]
    mask = cp.asarray(rng.random((batch, steps)) > 0.3) if masked else None
    _check(
        cp,
        lambda *a: fused_lstm.lstm_fused(*a, go_backwards=backwards),
        lambda *a: recurrent.lstm(*a, go_backwards=backwards, fused=False),
        arrays,
        mask,
        dtype,
    )


@DTYPES
@pytest.mark.parametrize(
    "units,act,masked", [(32, "tanh", False), (128, "relu", True), (300, "tanh", False)]
)
def test_fused_simple_rnn_vs_generic(cp, dtype, units, act, masked):
    rng = np.random.default_rng(units)
    batch, steps, features = 5, 37, 11
    arrays = [
        rng.normal(size=(batch, steps, features)).astype(dtype),
        (rng.normal(size=(features, units)) / np.sqrt(features)).astype(dtype),
        (rng.normal(size=(units, units)) / np.sqrt(units) * 0.9).astype(dtype),
        (rng.normal(size=(units,)) * 0.1).astype(dtype),
        np.zeros((batch, units), dtype),
    ]
    mask = cp.asarray(rng.random((batch, steps)) > 0.3) if masked else None
    _check(
        cp,
        lambda *a: fused_rnn.simple_rnn_fused(*a, activation=act),
        lambda *a: recurrent.simple_rnn(*a, activation=act, fused=False),
        arrays,
        mask,
        dtype,
    )
