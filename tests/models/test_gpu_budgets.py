"""Budgets of the GPU branch, counted under the CuPy stand-in (counts, not timings).

A steady-state training step of rnnoise's two-output denoiser (``examples/rnnoise_train.py``)
with ``verbose=0`` makes no host sync and no host-to-device copy: logs reach the host only when
a callback consumes batch logs, Python scalars stay kernel arguments, and the fused-Adam tables
are cached.
"""

import importlib.util
import pathlib

import numpy as np
import pytest

import gpuk
from gpuk import _array
from tests import cupy_standin

pytestmark = pytest.mark.standin
EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / "examples" / "rnnoise_train.py"


def _example():
    spec = importlib.util.spec_from_file_location("rnnoise_train", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class StepCounter(gpuk.callbacks.Callback):
    """Counts per training step, from one batch begin to the next (the whole step, including
    the end-of-batch dispatch). Overrides only ``on_train_batch_begin``: it consumes no logs."""

    def __init__(self, counts):
        super().__init__()
        self.counts = counts
        self.steps = []
        self._last = None

    def on_train_batch_begin(self, batch, logs=None):
        now = self.counts.snapshot()
        if self._last is not None:
            self.steps.append({k: now[k] - self._last[k] for k in now})
        self._last = now


def _data(samples=24, steps=6):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(samples, steps, 42)).astype("float32")
    y_denoise = rng.uniform(size=(samples, steps, 22)).astype("float32")
    y_vad = (rng.uniform(size=(samples, steps, 1)) > 0.5).astype("float32")
    return x, [y_denoise, y_vad]


def test_steady_training_step_makes_no_sync_and_no_upload(gpu):
    gpuk.utils.set_random_seed(0)
    model = _example().build_model()
    x, y = _data()
    with cupy_standin.counting(sites=True) as counts:
        counter = StepCounter(counts)
        model.fit(x, y, batch_size=4, epochs=1, verbose=0, callbacks=[counter], shuffle=True)
    steady = counter.steps[1:]  # the first step builds slots and compiles kernels
    assert len(steady) >= 3
    for step in steady:
        assert step["syncs"] == 0 and step["uploads"] == 0, (
            step,
            dict(counts.sites["syncs"]),
            dict(counts.sites["uploads"]),
        )
    assert all(step["kernel_launches"] > 0 for step in steady)  # the fused kernels ran


def _custom_objects(example):
    return {
        "WeightClip": example.WeightClip,
        "mycost": example.mycost,
        "my_crossentropy": example.my_crossentropy,
        "msse": example.msse,
    }


def _denoiser_run(example, device, x, y, path):
    _array.set_device(device)
    gpuk.utils.set_random_seed(0)
    model = example.build_model()
    with cupy_standin.counting() as counts:
        history = model.fit(
            x, y, batch_size=4, epochs=2, verbose=0, validation_split=0.25, shuffle=False
        )
    evaluation = model.evaluate(x, y, batch_size=4, verbose=0)
    prediction = model.predict(x, batch_size=4, verbose=0)
    model.save(path)
    reloaded = gpuk.models.load_model(path, custom_objects=_custom_objects(example))
    assert isinstance(reloaded.weights[0].data, _array.default_module().ndarray)
    again = reloaded.predict(x, batch_size=4, verbose=0)
    return history.history, evaluation, prediction, again, counts


def test_denoiser_fit_evaluate_predict_save_load_match_the_cpu(gpu, tmp_path):
    example = _example()
    x, y = _data(samples=12, steps=5)
    cpu = _denoiser_run(example, "cpu", x, y, tmp_path / "cpu.h5")
    gpu_run = _denoiser_run(example, "gpu", x, y, tmp_path / "gpu.keras")
    assert gpu_run[4].kernel_launches > 0 and cpu[4].kernel_launches == 0  # fused kernels ran
    assert sorted(gpu_run[0]) == sorted(cpu[0])
    for key, values in cpu[0].items():
        np.testing.assert_allclose(gpu_run[0][key], values, rtol=2e-4, atol=1e-6, err_msg=key)
    np.testing.assert_allclose(gpu_run[1], cpu[1], rtol=2e-4, atol=1e-6)
    for got, want in zip(gpu_run[2], cpu[2]):
        assert isinstance(got, np.ndarray)
        np.testing.assert_allclose(got, want, rtol=2e-4, atol=1e-6)
    for reloaded, original in zip(gpu_run[3], gpu_run[2]):
        np.testing.assert_allclose(reloaded, original, rtol=1e-6, atol=1e-7)
