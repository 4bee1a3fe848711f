"""The stand-in against the real CuPy, on a machine with a GPU (skipped elsewhere).

Each probe runs on both modules; results (values, dtypes, shapes, types) and refusals
(exception type and message) must agree, so the stand-in cannot drift from CuPy.
"""

import numpy as np
import pytest

from gpuk import _array
from tests import cupy_standin

REAL = _array.gpu_unavailable_reason() is None and not cupy_standin.installed()
pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not REAL, reason="needs the real CuPy and a CUDA GPU"),
]

KERNEL = r"""
template <typename T>
__global__ void scale(T* x, T a, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) x[i] *= a;
}
"""


def _host(value, cp):
    if isinstance(value, cp.ndarray):
        return ("ndarray", value.dtype.str, value.shape, value.get().tolist())
    if isinstance(value, tuple):
        return tuple(_host(v, cp) for v in value)
    return (type(value).__name__, value)


def _launch(cp):
    module = cp.RawModule(code=KERNEL, name_expressions=("scale<float>",))
    x = cp.arange(5, dtype=np.float32)
    module.get_function("scale<float>")((1,), (32,), (x, np.float32(3), np.int32(5)))
    return x


def _capture_and_launch(cp):
    x = cp.arange(4, dtype=np.float32)
    stream, pool = cp.cuda.Stream(), cp.cuda.MemoryPool()
    with cp.cuda.using_allocator(pool.malloc), stream:
        stream.begin_capture()
        y = x * 2 + 1
        graph = stream.end_capture()
    graph.launch(stream=stream)
    x[...] = 1
    graph.launch(stream=stream)
    stream.synchronize()
    return y


def _sync_during_capture(cp, end=False):
    x = cp.arange(4, dtype=np.float32)
    stream = cp.cuda.Stream()
    with stream:
        stream.begin_capture()
        try:
            return float(x.sum())
        finally:
            try:
                stream.end_capture()
            except Exception as error:
                if end:
                    raise error from None


PROBES = {
    "capture and launch a graph": _capture_and_launch,
    "host sync during capture": _sync_during_capture,
    "end of a capture invalidated by a sync": lambda cp: _sync_during_capture(cp, end=True),
    "null stream cannot capture": lambda cp: cp.cuda.Stream.null.begin_capture(),
    "implicit conversion": lambda cp: np.asarray(cp.arange(3)),
    "numpy operand in operator": lambda cp: cp.arange(3.0) + np.ones(3),
    "numpy operand in ufunc": lambda cp: cp.add(cp.arange(3.0), np.ones(3)),
    "list operand in ufunc": lambda cp: cp.maximum(cp.arange(3.0), [1.0, 2.0, 3.0]),
    "numpy operand in concatenate": lambda cp: cp.concatenate([cp.ones(2), np.ones(2)]),
    "reduction is 0-d": lambda cp: cp.arange(6.0).reshape(2, 3).sum(),
    "np.mean dispatches": lambda cp: np.mean(cp.arange(4.0)),
    "integer index is 0-d": lambda cp: cp.arange(4.0)[2],
    "fancy index wraps": lambda cp: cp.arange(5.0)[cp.asarray([5, 7, -6])],
    "take wraps": lambda cp: cp.take(cp.arange(5.0), cp.asarray([6, -7])),
    "take has no mode": lambda cp: cp.take(cp.arange(5.0), cp.asarray([0]), mode="clip"),
    "scalar index checked": lambda cp: cp.arange(5.0)[5],
    "argsort kind": lambda cp: cp.argsort(cp.arange(3.0), kind="quicksort"),
    "float32 with python float": lambda cp: cp.ones(2, dtype=np.float32) * 2.5,
    "float32 with numpy float64 scalar": lambda cp: cp.ones(2, dtype=np.float32) * np.float64(2),
    "int with python float": lambda cp: cp.arange(3) * 0.5,
    "astype keeps fortran": lambda cp: (
        cp.asfortranarray(cp.ones((2, 3))).astype("f").flags.f_contiguous
    ),
    "random has no random()": lambda cp: cp.random.RandomState(0).random((2,)),
    "random dtype": lambda cp: cp.random.RandomState(0).uniform(size=(2,), dtype=np.float32).dtype,
    "raw kernel launch": _launch,
    "block of 1025 threads": lambda cp: cp.RawKernel(
        'extern "C" __global__ void f(float* x) {}', "f"
    )((1,), (1025,), (cp.ones(1, dtype=np.float32),)),
    "ascontiguousarray of numpy": lambda cp: cp.ascontiguousarray(np.ones(3)),
}


def _outcome(probe, cp):
    try:
        return ("ok", _host(probe(cp), cp))
    except Exception as error:  # the refusal is the behaviour under test
        return ("raises", type(error).__name__, str(error).split("\n")[0][:80])


@pytest.mark.parametrize("name", sorted(PROBES))
def test_standin_behaves_like_cupy(name):
    real = _array.cupy_module()
    fake = cupy_standin.modules()["cupy"]
    expected = _outcome(PROBES[name], real)
    actual = _outcome(PROBES[name], fake)
    if expected[0] == "raises":
        assert actual[0] == "raises", (expected, actual)
        assert actual[1] == expected[1] or actual[2] == expected[2], (expected, actual)
    else:
        assert actual == expected
