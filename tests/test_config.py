"""Settings: floatx, epsilon and the compute device."""

import os
import subprocess
import sys

import numpy as np
import pytest

import gpuk
from gpuk import _array, config
from gpuk import backend as K
from tests import cupy_standin

HAS_GPU = _array.gpu_unavailable_reason() is None
#: What a fresh interpreter sees (the CuPy stand-in lives only in this test process).
REAL_GPU = HAS_GPU and not cupy_standin.installed()


def test_defaults():
    assert config.floatx() == "float32"
    assert config.epsilon() == 1e-7


@pytest.mark.parametrize("name", ["float16", "float32", "float64", np.float64])
def test_set_floatx_accepts_float_types(name):
    config.set_floatx(name)
    assert config.floatx() == np.dtype(name).name


@pytest.mark.parametrize("bad", ["float17", "int32", "double-ish", "bfloat64"])
def test_unknown_floatx_lists_allowed(bad):
    with pytest.raises(ValueError, match=r"float16, float32, float64"):
        config.set_floatx(bad)
    assert config.floatx() == "float32"


def test_floatx_drives_new_values():
    config.set_floatx("float64")
    assert gpuk.Variable(1.0).dtype == "float64"
    assert K.variable([1, 2]).dtype == "float64"
    assert gpuk.ops.random_uniform((2,)).dtype == "float64"
    assert gpuk.ops.one_hot([0], 2).dtype == "float64"
    x = gpuk.Tensor(np.ones(2, dtype="float64"))
    assert (x * 0.5).dtype == "float64"


def test_set_epsilon():
    config.set_epsilon(1e-4)
    assert config.epsilon() == K.epsilon() == 1e-4
    np.testing.assert_allclose(
        K.binary_crossentropy(np.array([1.0]), np.array([0.0])).numpy(), [-np.log(2e-4)]
    )


def test_device_reports_choice():
    assert config.device() in ("cpu", "gpu")
    if not HAS_GPU:
        assert config.device() == "cpu"


def test_unknown_device_lists_allowed():
    with pytest.raises(ValueError, match="Allowed: auto, cpu, gpu"):
        config.set_device("tpu")


@pytest.mark.skipif(HAS_GPU, reason="checks the error without a GPU")
def test_gpu_without_gpu_says_why():
    previous = config.device()
    try:
        with pytest.raises(RuntimeError, match="GPU requested but unavailable: .+"):
            config.set_device("gpu")
    finally:
        config.set_device(previous)
    assert config.device() == previous


def _run(code, **env):
    environ = dict(os.environ, **env)
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environ, check=False
    )


def test_environment_variable_chooses_cpu():
    result = _run("import gpuk; print(gpuk.config.device())", GPUK_DEVICE="cpu")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "cpu"


def test_environment_variable_unknown_device():
    result = _run("import gpuk; gpuk.config.device()", GPUK_DEVICE="tpu")
    assert result.returncode != 0
    assert "Allowed: auto, cpu, gpu" in result.stderr


@pytest.mark.skipif(REAL_GPU, reason="checks the error without a GPU")
def test_environment_variable_gpu_without_gpu_says_why():
    result = _run("import gpuk; gpuk.config.device()", GPUK_DEVICE="gpu")
    assert result.returncode != 0
    assert "GPU requested but unavailable" in result.stderr


def test_auto_resolves_to_cpu_without_gpu():
    result = _run("import gpuk; print(gpuk.config.device())", GPUK_DEVICE="auto")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ("gpu" if REAL_GPU else "cpu")


def test_arrays_land_on_the_chosen_device(xp):
    assert isinstance(K.zeros((2,)).data, xp.ndarray)
    assert isinstance(gpuk.ops.random_normal((2,)).data, xp.ndarray)
