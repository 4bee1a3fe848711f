"""The CuPy stand-in itself: it refuses what CuPy refuses, exposes only CuPy's names, launches
kernels as CuPy does, and counts syncs, uploads and launches."""

import json
import pathlib

import numpy as np
import pytest

from tests import cuda_emulator, cupy_standin
from tests.cupy_standin import _core, _raw

pytestmark = [
    pytest.mark.standin,
    pytest.mark.skipif(
        cuda_emulator.unavailable_reason() is not None,
        reason=str(cuda_emulator.unavailable_reason()),
    ),
]
NAMES = json.loads((pathlib.Path(_core.__file__).parent / "cupy_names.json").read_text())

KERNELS = r"""
#ifdef GPUK_EMULATOR
#define SHARED(T, name) T* name = reinterpret_cast<T*>(gpuk_emu::dynamic_shared())
#else
#define SHARED(T, name) extern __shared__ unsigned char name##_b[]; T* name = (T*)name##_b
#endif
template <typename T>
__global__ void scale(T* x, T a, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) x[i] *= a;
}
template <typename T>
__global__ void read_shared(T* out) {  // reads before anything writes: NaN on the stand-in
  SHARED(T, buffer);
  out[threadIdx.x] = buffer[threadIdx.x];
}
"""


@pytest.fixture
def module(standin):
    return standin.RawModule(
        code=KERNELS,
        options=("--std=c++17",),
        name_expressions=("scale<float>", "scale<double>", "read_shared<float>"),
    )


def _public(module):
    return {n for n in dir(module) if not n.startswith("_")}


@pytest.mark.parametrize(
    "name",
    [
        "cupy",
        "cupy.random",
        "cupy.linalg",
        "cupy.cuda",
        "cupy.cuda.runtime",
        "cupy.cuda.compiler",
        "cupy.cuda.memory",
        "cupy.cuda.driver",
        "cupyx",
        "cupyx.scipy",
        "cupyx.scipy.special",
    ],
)
def test_exposes_only_names_real_cupy_has(standin, name):
    import sys

    extra = _public(sys.modules[name]) - set(NAMES["modules"][name])
    assert not extra, f"{name} exposes names real CuPy {NAMES['cupy_version']} lacks: {extra}"


def test_class_attributes_are_cupys(standin):
    for dotted, cls in {
        "cupy.ndarray": standin.ndarray,
        "cupy.ufunc": standin.ufunc,
        "cupy.random.RandomState": standin.random.RandomState,
        "cupy.random.Generator": type(standin.random.default_rng(0)),
        "cupy.RawModule": standin.RawModule,
        "cupy.RawKernel": standin.RawKernel,
        "cupy.cuda.Device": standin.cuda.Device,
    }.items():
        extra = _public(cls) - set(NAMES["classes"][dotted])
        assert not extra, f"{dotted} has attributes real CuPy lacks: {extra}"


def test_refuses_implicit_conversion_and_numpy_operands(standin):
    x = standin.arange(4.0)
    with pytest.raises(TypeError, match="Implicit conversion to a NumPy array is not allowed"):
        np.asarray(x)
    for bad in (
        lambda: x + np.ones(4),
        lambda: np.ones(4) * x,
        lambda: standin.add(x, np.ones(4)),
        lambda: standin.maximum(x, [1.0, 2.0, 3.0, 4.0]),
        lambda: standin.concatenate([x, np.ones(2)]),
        lambda: np.add(x, np.ones(4)),
    ):
        with pytest.raises(TypeError, match="Unsupported type"):
            bad()
    # Python and NumPy scalars are kernel arguments, not arrays
    assert (x * 2.0 + np.float32(1)).dtype == np.float64


def test_cupy_signatures_are_enforced(standin):
    x = standin.arange(4.0)
    with pytest.raises(TypeError, match="mode"):
        standin.take(x, standin.asarray([0]), mode="clip")
    with pytest.raises(ValueError, match="stably"):
        standin.argsort(x, kind="quicksort")


def test_reductions_and_indexing_give_0d_arrays(standin):
    x = standin.arange(6.0).reshape(2, 3)
    for value in (x.sum(), standin.max(x), x[1, 2], np.mean(x), x[0][1]):
        assert isinstance(value, standin.ndarray) and value.shape == ()


def test_out_of_range_integer_indices_wrap(standin):
    x = standin.arange(5.0)
    index = standin.asarray([5, 7, -6])
    np.testing.assert_array_equal(x[index].get(), [0.0, 2.0, 4.0])
    np.testing.assert_array_equal(x.take(index).get(), [0.0, 2.0, 4.0])
    np.testing.assert_array_equal(standin.take(x, index).get(), [0.0, 2.0, 4.0])
    with pytest.raises(IndexError):
        x[5]  # a scalar index is checked on the host


def test_random_is_cupys_api(standin):
    rs = standin.random.RandomState(1)
    assert rs.uniform(size=(3,), dtype=np.float32).dtype == np.float32
    assert rs.random_sample((2,)).shape == (2,)
    assert not hasattr(rs, "random") and not hasattr(rs, "integers")  # NumPy Generator names
    assert isinstance(standin.random.rand(2), standin.ndarray)
    a = standin.random.RandomState(7).normal(size=(4,)).get()
    np.testing.assert_array_equal(a, standin.random.RandomState(7).normal(size=(4,)).get())


def test_counts_syncs_uploads_and_launches(standin):
    x = standin.arange(4.0)
    with cupy_standin.counting(sites=True) as counts:
        y = x * 2.0
        float(y.sum())
        y.get()
        int(y[0])
        y[y > 2.0]
        standin.asarray(np.ones(2))
        standin.asnumpy(y)
        y.tolist()
    assert counts.syncs == 6
    assert counts.uploads == 1
    assert counts.launches >= 4
    assert any("test_cupy_standin.py" in site for site in counts.sites["syncs"])
    with cupy_standin.counting() as quiet:
        float(y.sum())
    assert quiet.syncs == 1 and not quiet.sites["syncs"]


def test_raw_kernel_marshals_like_cupy_and_checks_the_signature(standin, module):
    scale = module.get_function("scale<float>")
    x = standin.arange(5, dtype=np.float32)
    scale((1,), (32,), (x, np.float32(2.0), np.int32(5)))
    np.testing.assert_array_equal(x.get(), [0.0, 2.0, 4.0, 6.0, 8.0])
    with pytest.raises(TypeError, match=r"argument 1 .*float.*float64"):
        scale((1,), (32,), (x, 2.0, np.int32(5)))  # a Python float is a double
    with pytest.raises(TypeError, match=r"argument 2 .*int32.*int64"):
        scale((1,), (32,), (x, np.float32(2.0), 5))  # a Python int is 8 bytes
    with pytest.raises(TypeError, match=r"argument 0 .*float32.*float64"):
        scale((1,), (32,), (standin.zeros(5), np.float32(2.0), np.int32(5)))
    with pytest.raises(TypeError, match="Unsupported type"):
        scale((1,), (32,), (np.zeros(5, np.float32), np.float32(2.0), np.int32(5)))
    with pytest.raises(TypeError, match="takes 3 arguments"):
        scale((1,), (32,), (x, np.float32(2.0)))
    with cupy_standin.counting() as counts:
        module.get_function("scale<double>")((1,), (8,), (standin.ones(3), 2.0, np.int32(3)))
    assert counts.kernel_launches == 1


def test_launch_limits_of_an_h200(standin, module):
    scale = module.get_function("scale<float>")
    args = (standin.ones(4, dtype=np.float32), np.float32(1.0), np.int32(4))
    driver_error = standin.cuda.driver.CUDADriverError
    with pytest.raises(driver_error):
        scale((1,), (1025,), args)
    with pytest.raises(driver_error):
        scale((1,), (32, 1, 65), args)
    with pytest.raises(driver_error, match="max_dynamic_shared_size_bytes"):
        scale((1,), (32,), args, shared_mem=48 * 1024 + 4)
    scale.max_dynamic_shared_size_bytes = 100 * 1024
    scale((1,), (32,), args, shared_mem=100 * 1024)
    with pytest.raises(driver_error):
        scale((1,), (32,), args, shared_mem=100 * 1024 + 4)
    with pytest.raises(driver_error):
        scale.max_dynamic_shared_size_bytes = 228 * 1024


def test_shared_memory_starts_as_nan(standin, module):
    out = standin.zeros(32, dtype=np.float32)
    module.get_function("read_shared<float>")((2,), (32,), (out,), shared_mem=32 * 4)
    assert np.isnan(out.get()).all()


def test_compile_errors_carry_the_nvrtc_log(standin):
    broken = standin.RawModule(code="__global__ void f() { undeclared(); }")
    with pytest.raises(standin.cuda.compiler.CompileException, match="undeclared"):
        broken.compile()


def test_cupy_options_are_passed_to_nvrtc(standin, monkeypatch):
    seen = []
    nvrtc = _raw._nvrtc()
    original = nvrtc.compileProgram
    monkeypatch.setattr(nvrtc, "compileProgram", lambda p, o: seen.append(o) or original(p, o))
    _raw.compile_source.cache_clear()
    standin.RawModule(
        code='extern "C" __global__ void g(float* x) {}', options=("-DX=1",)
    ).compile()
    assert seen[-1] == ["-DX=1", "-ftz=true", "-arch=sm_90", "--device-as-default-execution-space"]


def test_ndarray_special_methods_are_cupys(standin):
    ours = {n for n in vars(standin.ndarray) if n.startswith("__") and n.endswith("__")}
    ours -= {"__module__", "__slots__", "__weakref__", "__dict__", "__doc__", "__init__"}
    extra = ours - set(NAMES["ndarray_special_methods"])
    assert not extra, f"cupy.ndarray lacks {extra}"
    with pytest.raises(TypeError):
        range(standin.asarray(3))  # no __index__: CuPy arrays are not Python indices
