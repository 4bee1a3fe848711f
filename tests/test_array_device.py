"""Device choice on a machine whose GPU answers but cannot compile kernels (CuPy 14 without
the CUDA headers), checked under the CuPy stand-in."""

import importlib
import warnings

import numpy as np
import pytest

from gpuk import _array

# Part of the GPU-branch subset CI runs under the CuPy stand-in (docs/gpu-standin.md).
pytestmark = pytest.mark.standin

device_module = importlib.import_module("gpuk._array.device")


@pytest.fixture
def headerless(standin, monkeypatch):
    """The stand-in GPU, with NVRTC failing as it does when CUDA headers are missing."""
    from tests.cupy_standin import _raw

    def fail(code, options, names):
        raise standin.cuda.compiler.CompileException(
            "Failed to find CUDA headers", code, "kern.cu", options
        )

    monkeypatch.setattr(_raw, "compile_source", fail)
    saved = dict(device_module._state)
    device_module._state.update(probe=None, resolved=None, requested=None)
    yield
    device_module._state.update(saved)


def test_auto_falls_back_to_the_cpu_with_a_warning_saying_why(headerless, monkeypatch):
    monkeypatch.setenv("GPUK_DEVICE", "auto")
    with pytest.warns(RuntimeWarning, match="using the CPU: CUDA kernels do not compile"):
        assert _array.device() == "cpu"
    assert _array.default_module() is np
    assert "cuda12" in _array.gpu_unavailable_reason()


def test_gpu_request_says_kernels_do_not_compile(headerless):
    with pytest.raises(RuntimeError, match="GPU requested but unavailable: CUDA kernels"):
        _array.set_device("gpu")


def test_a_working_gpu_is_chosen_without_warning(standin, monkeypatch):
    saved = dict(device_module._state)
    device_module._state.update(probe=None, resolved=None, requested=None)
    monkeypatch.setenv("GPUK_DEVICE", "auto")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert _array.device() == "gpu"
    finally:
        device_module._state.update(saved)
