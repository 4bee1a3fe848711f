"""Shared fixtures: ``xp`` runs a test on NumPy always and on CuPy when a GPU answers."""

import numpy as np
import pytest

from gpuk import _array

_gpu_reason = _array.gpu_unavailable_reason()
BACKENDS = [np] + ([_array.cupy_module()] if _gpu_reason is None else [])


@pytest.fixture(params=BACKENDS, ids=lambda m: m.__name__)
def xp(request):
    """The array module under test; new arrays are created on its device for the test."""
    module = request.param
    previous = _array.device()
    _array.set_device("gpu" if module is not np else "cpu")
    yield module
    _array.set_device(previous)


@pytest.fixture(autouse=True)
def _reset_floatx():
    from gpuk import _config

    saved = (_config.floatx(), _config.epsilon())
    yield
    _config.set_floatx(saved[0])
    _config.set_epsilon(saved[1])
