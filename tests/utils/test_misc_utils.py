"""Config, standardize_dtype, registry look-up, logging switches, symbolic-tensor helpers,
clear_session."""

import logging

import numpy as np
import pytest

import gpuk
from gpuk import layers, utils


def test_config_attribute_and_item_access_and_freezing():
    config = utils.Config(learning_rate=0.1)
    config.momentum = 0.9
    config["dropout"] = 0.5
    assert config.as_dict() == {"learning_rate": 0.1, "momentum": 0.9, "dropout": 0.5}
    assert list(config) == ["dropout", "learning_rate", "momentum"]
    assert "momentum" in config and len(config) == 3
    assert config.to_json() == '{"learning_rate": 0.1, "momentum": 0.9, "dropout": 0.5}'
    config.freeze()
    assert config.frozen
    with pytest.raises(ValueError, match="frozen"):
        config.momentum = 0.0
    with pytest.raises(ValueError, match="frozen"):
        del config["dropout"]
    config.unfreeze()
    config.pop("dropout")
    with pytest.raises(AttributeError, match="Did you mean 'momentum'"):
        _ = config.momentun


@pytest.mark.parametrize(
    "given, expected",
    [
        (None, "float32"),
        ("float16", "float16"),
        (np.float64, "float64"),
        (np.dtype("int8"), "int8"),
        (int, "int32"),
        (float, "float32"),
        (bool, "bool"),
        (str, "string"),
        ("int", "int32"),
        ("bfloat16", "bfloat16"),
    ],
)
def test_standardize_dtype_as_keras(given, expected):
    assert utils.standardize_dtype(given) == expected


def test_standardize_dtype_refuses_unknown():
    with pytest.raises(ValueError, match="Invalid dtype: float128x"):
        utils.standardize_dtype("float128x")


def test_get_registered_object_order():
    @utils.register_keras_serializable(package="utilstest")
    def scaled(x):
        return x

    assert utils.get_registered_object("utilstest>scaled") is scaled
    assert utils.get_registered_object("nothing") is None
    assert utils.get_registered_object("m", module_objects={"m": 1}) == 1
    with utils.custom_object_scope({"utilstest>scaled": "scoped"}):
        assert utils.get_registered_object("utilstest>scaled") == "scoped"


def test_interactive_logging_switch_routes_progress_to_logging(capsys, caplog):
    assert utils.is_interactive_logging_enabled()
    utils.disable_interactive_logging()
    try:
        with caplog.at_level(logging.INFO, logger="gpuk"):
            bar = utils.Progbar(2, verbose=2)
            bar.update(2, [("loss", 1.0)])
        assert capsys.readouterr().out == ""
        assert "loss: 1.0000" in caplog.text
    finally:
        utils.enable_interactive_logging()
    utils.Progbar(1, verbose=2).update(1)
    assert "1/1" in capsys.readouterr().out


def test_is_keras_tensor_and_get_source_inputs():
    a = gpuk.Input((3,), name="a")
    b = gpuk.Input((3,), name="b")
    x = layers.Dense(2)(a)
    y = layers.add([x, layers.Dense(2)(b), x])
    assert utils.is_keras_tensor(y) and not utils.is_keras_tensor(np.zeros(3))
    sources = utils.get_source_inputs(y)
    assert len(sources) == 2 and sources[0] is a and sources[1] is b
    assert utils.get_source_inputs(a) == [a]
    value = np.zeros(2)
    assert utils.get_source_inputs(value) is value


def test_clear_session_resets_names_everywhere():
    layers.Dense(1)
    utils.clear_session()
    assert layers.Dense(1).name == "dense"
    layers.Dense(1)
    gpuk.backend.clear_session()
    assert layers.Dense(1).name == "dense"


def test_smart_resize_crops_to_the_aspect_ratio_then_resizes():
    image = np.arange(4 * 8 * 1, dtype="float32").reshape(4, 8, 1)
    out = gpuk.preprocessing.image.smart_resize(image, (2, 2))
    assert out.shape == (2, 2, 1)
    # centre 4x4 crop (columns 2-5), then 2x2 bilinear
    expected = image[:, 2:6].reshape(2, 2, 2, 2, 1).mean(axis=(1, 3))
    np.testing.assert_allclose(out, expected)
    batch = gpuk.preprocessing.image.smart_resize(np.stack([image, image]), (2, 2))
    assert batch.shape == (2, 2, 2, 1)
    first = gpuk.preprocessing.image.smart_resize(
        image.transpose(2, 0, 1), (2, 2), data_format="channels_first"
    )
    np.testing.assert_allclose(first, expected.transpose(2, 0, 1))
    with pytest.raises(ValueError, match="incorrect rank"):
        gpuk.preprocessing.image.smart_resize(np.zeros((3, 3)), (2, 2))


def test_keras_preprocessing_namespace():
    assert gpuk.preprocessing.sequence.pad_sequences([[1], [1, 2]]).shape == (2, 2)
    assert gpuk.preprocessing.timeseries_dataset_from_array is utils.timeseries_dataset_from_array
    assert gpuk.preprocessing.image.load_img is utils.load_img
