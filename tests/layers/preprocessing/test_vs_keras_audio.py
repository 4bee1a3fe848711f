"""STFTSpectrogram and MelSpectrogram against Keras 3.15 (fixtures from tools/)."""

import os

import numpy as np
import pytest

import gpuk
from gpuk import layers as L

HERE = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "keras", "preprocessing")
DATA = np.load(os.path.join(HERE, "audio.npz"))


def _np(t):
    data = t.data if hasattr(t, "data") else t
    return np.asarray(data.get() if hasattr(data, "get") else data)


def test_mel_spectrogram_matches_keras(xp):
    signal = xp.asarray(DATA["signal"])
    out = L.MelSpectrogram(fft_length=256, sequence_stride=64, num_mel_bins=20)(signal)
    np.testing.assert_allclose(_np(out), DATA["mel_default"], rtol=1e-4, atol=2e-3)
    layer = L.MelSpectrogram(
        fft_length=128,
        sequence_stride=50,
        sequence_length=100,
        num_mel_bins=16,
        power_to_db=False,
        window="hamming",
        mag_exp=1.0,
        sampling_rate=8000,
        max_freq=3000,
    )
    np.testing.assert_allclose(_np(layer(signal)), DATA["mel_no_db"], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("mode", ["log", "magnitude", "psd", "real", "imag", "angle", "stft"])
def test_stft_spectrogram_matches_keras(mode, xp):
    layer = L.STFTSpectrogram(mode=mode, frame_length=40, frame_step=16, fft_length=64)
    out = layer(xp.asarray(DATA["stereo"]))
    expected = DATA[f"stft_{mode}"]
    got = _np(out)
    if mode == "angle":  # the angle of near-zero bins is noise in both libraries
        got, expected = np.cos(got), np.cos(expected)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


def test_stft_same_padding_expand_dims_and_kernel_gradient():
    layer = L.STFTSpectrogram(
        frame_length=32,
        padding="same",
        expand_dims=True,
        window="hamming",
        periodic=True,
        scaling="spectrum",
    )
    x = DATA["stereo"]
    np.testing.assert_allclose(layer(x).numpy(), DATA["stft_same_expand"], rtol=1e-4, atol=1e-4)
    assert [w.name for w in layer.weights] == ["real_kernel", "imag_kernel"]
    with gpuk.GradientTape() as tape:
        loss = gpuk.ops.sum(layer(x))
    grads = tape.gradient(loss, layer.trainable_weights)
    assert all(g is not None and g.shape == w.shape for g, w in zip(grads, layer.weights))
