"""Fused Adam, reached through ``gpuk.optimizers.Adam`` as on a GPU, follows Keras 3 for 60 steps.

The kernel runs under the CPU CUDA emulator. Reference: a Keras 3 trajectory
(``tools/make_keras_fixtures_fused_adam.py``) and the optimizer's generic per-variable update.
Sixty steps expose a per-step bias of a few ulp -- such as ``1 - beta`` rounded in the kernel's
float type (``1 - 0.999f = 0.0009999871``) where Keras rounds ``1 - 0.999`` computed in double
(``0.001``) -- which the five-step trajectories of tests/optimizers do not.
"""

import json
import os
import types

import numpy as np
import pytest

import gpuk
from gpuk import _array, optimizers
from gpuk.ops.fused import launch
from gpuk.optimizers import adam as adam_module
from tests import cuda_emulator

pytestmark = pytest.mark.skipif(
    cuda_emulator.unavailable_reason() is not None,
    reason=str(cuda_emulator.unavailable_reason()),
)


@pytest.fixture(autouse=True)
def _numpy_arrays():
    """The emulator runs kernels over NumPy arrays: keep new arrays on the CPU even where
    GPUK_DEVICE=gpu (or 'auto' on a GPU machine)."""
    try:
        previous = _array.device()
    except RuntimeError:  # GPUK_DEVICE=gpu on a machine without one
        previous = "cpu"
    _array.set_device("cpu")
    yield
    _array.set_device(previous)


FIXTURE = os.path.join(
    os.path.dirname(__file__), "..", "fixtures", "keras", "fused_adam", "adam_trajectories.npz"
)
REFERENCE = np.load(FIXTURE)
META = json.loads(str(REFERENCE["meta"]))


def _trajectory(case, fused, provider, monkeypatch):
    optimizer = optimizers.Adam(**META["cases"][case])
    optimizer.fused = fused
    variable = gpuk.Variable(REFERENCE["init"].copy(), name="w")
    if fused:
        # Make the optimizer treat the emulator's NumPy arrays as device arrays, so it calls the
        # fused hook exactly as it does with CuPy variables (fused=True: no silent fallback).
        monkeypatch.setattr(adam_module, "get_array_module", lambda *a: types.SimpleNamespace())
    with launch.use_kernel_provider(provider):
        for grads in REFERENCE["grads"]:
            optimizer.apply_gradients([(grads, variable)])
    monkeypatch.undo()
    slots = [v.numpy() for v in optimizer.variables[2:]]
    return variable.numpy(), slots


@pytest.mark.parametrize("case", ["adam", "adam_amsgrad"])
def test_fused_adam_follows_keras_for_60_steps(case, monkeypatch):
    provider = cuda_emulator.Provider()
    fused, fused_slots = _trajectory(case, True, provider, monkeypatch)
    assert provider.launches("adam_multi_tensor<float>"), "the fused kernel did not run"
    generic, generic_slots = _trajectory(case, False, provider, monkeypatch)
    keras_param = REFERENCE[f"{case}/param"]
    keras_slots = [REFERENCE[k] for k in sorted(REFERENCE.files) if k.startswith(f"{case}/w_")]
    # float32 rounding: the same operations in the same order; a few ulp of freedom for
    # contraction (FMA) differences between XLA, NumPy and the device.
    tolerance = dict(rtol=4e-7, atol=1e-7)
    np.testing.assert_allclose(fused, generic, err_msg="fused vs generic", **tolerance)
    np.testing.assert_allclose(fused, keras_param, err_msg="fused vs Keras", **tolerance)
    np.testing.assert_allclose(generic, keras_param, err_msg="generic vs Keras", **tolerance)
    assert len(fused_slots) == len(keras_slots) == len(generic_slots)
    for got, want in zip(fused_slots, keras_slots):
        np.testing.assert_allclose(got, want, err_msg="slots", **tolerance)
