"""Shared fixtures: ``xp`` runs a test on NumPy always and on CuPy when a GPU answers.

``pytest --cupy=standin`` (or ``GPUK_TEST_CUPY=standin``) installs the strict CuPy stand-in
(``tests/cupy_standin``) before anything imports CuPy: gpuk's CuPy branch then runs on the CPU,
``xp`` offers the stand-in module as well, and ``auto`` resolves to the (emulated) GPU.
"""

import numpy as np
import pytest

from gpuk import _array
from tests import cupy_standin


def pytest_addoption(parser):
    parser.addoption(
        "--cupy",
        choices=("real", "standin"),
        default=None,
        help="standin: run gpuk's CuPy branch on the CPU under tests/cupy_standin "
        "(also GPUK_TEST_CUPY=standin); real (default): CuPy itself when a GPU answers",
    )


def pytest_configure(config):
    if cupy_standin.requested(config.getoption("--cupy")):
        cupy_standin.install()


def pytest_collection_modifyitems(config, items):
    """Tests that need the stand-in run in the stand-in pass (``--cupy=standin``), where the
    whole GPU branch is active; the plain pass skips them instead of installing it."""
    if cupy_standin.installed():
        return
    skip = pytest.mark.skip(reason="runs under --cupy=standin (see docs/gpu-standin.md)")
    for item in items:
        if "standin" in getattr(item, "fixturenames", ()):
            item.add_marker(skip)


def backends():
    """The array modules ``xp`` runs: NumPy, and CuPy (or the stand-in) when it answers."""
    if _array.gpu_unavailable_reason() is None:
        return [np, _array.cupy_module()]
    return [np]


def pytest_generate_tests(metafunc):
    if "xp" in metafunc.fixturenames:
        modules = backends()
        if cupy_standin.installed() and metafunc.config.getoption("markexpr") == "standin":
            # CI's stand-in pass: the NumPy variants already ran in the plain pass
            modules = [m for m in modules if m is not np]
        metafunc.parametrize("xp", modules, ids=[m.__name__ for m in modules], indirect=True)


@pytest.fixture
def xp(request):
    """The array module under test; new arrays are created on its device for the test."""
    module = request.param
    previous = _array.device()
    _array.set_device("gpu" if module is not np else "cpu")
    yield module
    _array.set_device(previous)


@pytest.fixture
def on_cpu():
    """Pin new arrays to the CPU for the test (emulator tests hand NumPy arrays to kernels)."""
    previous = _array.device()
    _array.set_device("cpu")
    yield
    _array.set_device(previous)


@pytest.fixture
def standin():
    """The CuPy stand-in module (tests using it run only in the ``--cupy=standin`` pass)."""
    return cupy_standin.install()


@pytest.fixture
def gpu(standin):
    """The stand-in, with gpuk's device set to the GPU for the test."""
    previous = _array.device()
    _array.set_device("gpu")
    yield standin
    _array.set_device(previous)


@pytest.fixture(autouse=True)
def _reset_floatx():
    from gpuk import _config

    saved = (_config.floatx(), _config.epsilon())
    yield
    _config.set_floatx(saved[0])
    _config.set_epsilon(saved[1])
