"""Models with convolution/pooling/reshaping/ConvLSTM layers move between Keras 3 and gpuk:
Keras-written ``.keras``, ``.h5`` and ``.weights.h5`` (``tools/make_keras_fixtures_conv.py``)
load in gpuk and predict as Keras did; gpuk's own files round-trip. (gpuk's files in Keras:
``tools/check_gpuk_conv_files_in_keras.py``, run by hand.)"""

import os
import warnings

import numpy as np
import pytest

import gpuk
from gpuk.models import load_model
from tests.saving.conv_models import MODELS

FIX = os.path.join(os.path.dirname(__file__), "..", "fixtures", "keras", "conv")


def fixture(name):
    return os.path.join(FIX, name)


def quiet_load(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_model(path)


def assert_predicts(model, name, atol=2e-5):
    ref = np.load(fixture(f"{name}.npz"))
    pred = model.predict(ref["x"], verbose=0)
    np.testing.assert_allclose(np.asarray(pred), ref["pred"], atol=atol, rtol=1e-4)


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("ext", [".keras", ".h5"])
def test_keras_written_model_files_load(name, ext):
    model = quiet_load(fixture(name + ext))
    assert_predicts(model, name)
    built = MODELS[name](gpuk)
    assert [type(layer).__name__ for layer in model.layers] == [
        type(layer).__name__ for layer in built.layers
    ]


@pytest.mark.parametrize("name", sorted(MODELS))
def test_keras_written_weights_load_into_gpuk_model(name):
    model = MODELS[name](gpuk)
    model.load_weights(fixture(f"{name}.weights.h5"))
    assert_predicts(model, name)


@pytest.mark.parametrize("name", ["zoo2d", "zoo3d"])
@pytest.mark.parametrize("ext", [".keras", ".h5", ".weights.h5"])
def test_gpuk_round_trip(name, ext, tmp_path):
    model = MODELS[name](gpuk)
    model.load_weights(fixture(f"{name}.weights.h5"))
    model.compile(optimizer="adam", loss="mse")
    path = str(tmp_path / f"m{ext}")
    if ext == ".weights.h5":
        model.save_weights(path)
        again = MODELS[name](gpuk)
        again.load_weights(path)
    else:
        model.save(path)
        again = quiet_load(path)
    assert_predicts(again, name)


def test_json_round_trip_keeps_layers_and_configs():
    from gpuk.models import model_from_json

    model = MODELS["zoo1d"](gpuk)
    model.load_weights(fixture("zoo1d.weights.h5"))
    again = model_from_json(model.to_json())
    assert [layer.get_config() for layer in again.layers] == [
        layer.get_config() for layer in model.layers
    ]
    again.set_weights(model.get_weights())
    assert_predicts(again, "zoo1d")
