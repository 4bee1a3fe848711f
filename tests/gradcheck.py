"""Central-difference gradient checks in float64, on any backend."""

import numpy as np

import gpuk
from gpuk._array import to_numpy


def numerical_gradient(fn, arrays, index, eps=1e-6):
    """d sum(fn(*arrays)) / d arrays[index] by central differences (NumPy float64)."""
    base = [np.array(a, dtype=np.float64) for a in arrays]
    target = base[index]
    grad = np.zeros_like(target)
    flat, gflat = target.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        plus = float(np.sum(to_numpy(_value(fn(*base)))))
        flat[i] = old - eps
        minus = float(np.sum(to_numpy(_value(fn(*base)))))
        flat[i] = old
        gflat[i] = (plus - minus) / (2 * eps)
    return grad


def _value(result):
    return result.data if isinstance(result, gpuk.Tensor) else result


def tape_gradients(fn, arrays, xp):
    """Gradients of sum(fn(*tensors)) for every input, through GradientTape on ``xp``."""
    tensors = [gpuk.Variable(xp.asarray(np.array(a, dtype=np.float64))) for a in arrays]
    with gpuk.GradientTape() as tape:
        out = fn(*tensors)
    grads = tape.gradient(out, tensors)
    return [None if g is None else to_numpy(g.data) for g in grads]


def assert_gradients_match(fn, arrays, xp, rtol=1e-6, atol=1e-7, eps=1e-6, skip=()):
    """Assert the tape's float64 gradients match central differences for every input."""
    analytic = tape_gradients(fn, arrays, xp)
    for i, grad in enumerate(analytic):
        if i in skip:
            continue
        numeric = numerical_gradient(
            lambda *a: fn(*[gpuk.Tensor(xp.asarray(v)) for v in a]), arrays, i, eps
        )
        assert grad is not None, f"input {i} got no gradient"
        np.testing.assert_allclose(grad, numeric, rtol=rtol, atol=atol, err_msg=f"input {i}")
