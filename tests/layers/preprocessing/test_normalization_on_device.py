"""Normalization on the GPU branch (CuPy stand-in) called with host inputs, as users do."""

import numpy as np
import pytest

import gpuk

pytestmark = pytest.mark.standin


@pytest.mark.parametrize("invert", [False, True])
def test_host_inputs_meet_device_statistics(gpu, invert):
    data = np.arange(12, dtype="float32").reshape(6, 2)
    layer = gpuk.layers.Normalization(invert=invert)
    layer.adapt(data)
    got = layer(data).numpy()
    mean, std = data.mean(axis=0), data.std(axis=0)
    expected = mean + data * std if invert else (data - mean) / std
    np.testing.assert_allclose(got, expected, rtol=1e-5)
