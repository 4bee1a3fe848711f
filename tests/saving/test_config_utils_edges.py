"""Edges of the model-config reader and writer (gpuk/saving/config_utils.py) that mutation
testing showed untested: JSON fallbacks, envelopes, old-Keras spellings, config keys a layer
rejects, unknown model classes and the hard_sigmoid warning."""

import json
import warnings

import numpy as np
import pytest

import gpuk
import gpuk.saving  # noqa: F401
from gpuk import layers, models
from gpuk.saving import config_utils


def test_json_default_converts_numpy_and_containers():
    text = config_utils.dumps(
        {"a": np.float32(1.5), "b": np.arange(3), "c": (1, 2), "d": {7}, "e": np.int64(4)}
    )
    assert json.loads(text) == {"a": 1.5, "b": [0, 1, 2], "c": [1, 2], "d": [7], "e": 4}
    assert isinstance(json.loads(text)["e"], int)
    with pytest.raises(TypeError, match="Object of type object is not JSON serializable"):
        config_utils.dumps({"x": object()})
    assert config_utils.dumps({"k": 1}, indent=2) == '{\n  "k": 1\n}'


def test_parse_json_names_the_file():
    assert config_utils.parse_json(b'{"a": [1]}', "f.json") == {"a": [1]}
    with pytest.raises(ValueError, match="f.json"):
        config_utils.parse_json("{not json", "f.json")


@pytest.mark.parametrize(
    "version,major", [("2.2.4-tf", 2), ("3.15.1", 3), (None, 1), ("", 1), (" 10.0", 10)]
)
def test_keras_major(version, major):
    assert config_utils.keras_major(version) == major


def test_unwrap_envelope():
    assert config_utils.unwrap_envelope({"class_name": "Sequential"}, "f") == ("Sequential", {})
    assert config_utils.unwrap_envelope({"class_name": "M", "config": {"a": 1}}, "f") == (
        "M",
        {"a": 1},
    )
    for bad in ([1, 2], {"config": {}}):
        with pytest.raises(ValueError, match=r"f: not a Keras model config .*got"):
            config_utils.unwrap_envelope(bad, "f")


def _fix(class_name, config, major=2, shapes=None):
    return config_utils._fix_layer_config(class_name, config, major, shapes)


def test_old_keras_spellings_are_fixed():
    assert _fix("Dense", {"activation": "hard_sigmoid"})["activation"] == "hard_sigmoid_legacy"
    assert _fix("Dense", {"activation": "hard_sigmoid"}, 3)["activation"] == "hard_sigmoid"
    gru = _fix("GRU", {"recurrent_activation": "hard_sigmoid", "activation": "tanh"})
    assert gru["recurrent_activation"] == "hard_sigmoid_legacy" and gru["activation"] == "tanh"
    assert _fix("Concatenate", {"axis": [-1]})["axis"] == -1
    assert _fix("Concatenate", {"axis": 1})["axis"] == 1
    assert _fix("LSTM", {"implementation": 0})["implementation"] == 1
    assert _fix("LSTM", {"implementation": 2})["implementation"] == 2
    assert _fix("Dense", {"implementation": 0})["implementation"] == 0
    # GRU without reset_after: inferred from the bias shape; no weights -> the old default
    assert _fix("GRU", {}, shapes=[(3, 12), (4, 12), (2, 12)])["reset_after"] is True
    assert _fix("GRU", {}, shapes=[(3, 12), (4, 12), (12,)])["reset_after"] is False
    assert _fix("GRU", {})["reset_after"] is False
    assert _fix("GRU", {"reset_after": True})["reset_after"] is True
    assert "reset_after" not in _fix("LSTM", {}, shapes=[(2, 12)])
    # wrapped layers are fixed too
    wrapped = _fix(
        "Bidirectional",
        {
            "layer": {"class_name": "GRU", "config": {"activation": "hard_sigmoid"}},
            "backward_layer": {"class_name": "LSTM", "config": {"implementation": 0}},
        },
    )
    assert wrapped["layer"]["config"]["activation"] == "hard_sigmoid_legacy"
    assert wrapped["layer"]["config"]["reset_after"] is False
    assert wrapped["backward_layer"]["config"]["implementation"] == 1


def test_legacy_hard_sigmoid_model_computes_keras2_formula():
    config = {
        "class_name": "Sequential",
        "config": [
            {
                "class_name": "Dense",
                "config": {
                    "name": "d",
                    "units": 1,
                    "activation": "hard_sigmoid",
                    "batch_input_shape": [None, 1],
                    "kernel_initializer": "ones",
                },
            }
        ],
    }
    old = config_utils.prepare_model_config(config, "f", "2.1.6")
    new = config_utils.prepare_model_config(config, "f", "3.1.0")
    assert old[0] == "Sequential" and old[1][0]["config"]["activation"] == "hard_sigmoid_legacy"
    assert new[1][0]["config"]["activation"] == "hard_sigmoid"
    model = config_utils.model_from_prepared(*old, "f")
    x = np.array([[1.0]], "float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), [[0.7]], rtol=1e-6)  # 0.2x + 0.5
    model = config_utils.model_from_prepared(*new, "f")
    np.testing.assert_allclose(model.predict(x, verbose=0), [[1 / 6 + 0.5]], rtol=1e-6)


def test_layer_entries_of_every_envelope():
    entries = [{"class_name": "Dense", "config": {}}]
    assert config_utils._layer_entries("Sequential", entries) == entries
    assert config_utils._layer_entries("Sequential", {"layers": entries}) == entries
    assert config_utils._layer_entries("Functional", {"layers": entries}) == entries
    assert config_utils._layer_entries("Functional", {}) == []
    assert config_utils._layer_entries("Functional", [1]) == []


@pytest.mark.parametrize(
    "message,keys",
    [
        ("Unrecognized keyword arguments passed to Dense: {'a': 1, 'bb': 2}", ["a", "bb"]),
        ("Unrecognized keyword arguments: ['x_y']", ["x_y"]),
        ("__init__() got an unexpected keyword argument 'time_major'", ["time_major"]),
        ("unexpected keyword arguments ['p', 'q']", ["p", "q"]),
        ("Keyword argument(s) not recognized: {'ragged': True}", ["ragged"]),
        ("something else", []),
    ],
)
def test_bad_keys_from_error_messages(message, keys):
    assert config_utils._bad_keys(message) == keys


def test_remove_key_reaches_wrapped_layers():
    config = {"a": 1, "layer": {"class_name": "GRU", "config": {"b": 2}}}
    assert config_utils._remove_key(config, "a") is True and "a" not in config
    assert config_utils._remove_key(config, "b") is True
    assert config["layer"]["config"] == {}
    assert config_utils._remove_key(config, "c") is False
    back = {"backward_layer": {"config": {"z": 1}}, "layer": "not a dict"}
    assert config_utils._remove_key(back, "z") is True and back["backward_layer"]["config"] == {}
    assert config_utils._flat_keys({"a": 1, "layer": {"config": {"b": 2}}}) == {"a", "b", "layer"}


def test_unsupported_config_keys_are_dropped_with_a_warning():
    entry = {"class_name": "Dense", "config": {"name": "dd", "units": 2, "bogus": 1}}
    with pytest.warns(UserWarning, match=r"f.h5: layer 'dd' \(Dense\): ignored .*\['bogus'\]"):
        out = config_utils.clean_layer_entry(entry, "f.h5", None)
    assert out["config"] == {"name": "dd", "units": 2}
    nested = {
        "class_name": "Bidirectional",
        "config": {
            "name": "bi",
            "layer": {"class_name": "GRU", "config": {"units": 2, "bogus2": 3}},
        },
    }
    with pytest.warns(UserWarning, match=r"'bi' \(Bidirectional\): .*\['bogus2'\]"):
        config_utils.clean_layer_entry(nested, "f.h5", None)
    assert "bogus2" not in nested["config"]["layer"]["config"]
    # a TypeError that names no config key is not hidden
    bad = {"class_name": "Dense", "config": {"name": "no_units"}}
    with pytest.raises(TypeError):
        config_utils.clean_layer_entry(bad, "f.h5", None)
    # a clean entry passes untouched, without warnings
    ok = {"class_name": "Dense", "config": {"units": 2}}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert config_utils.clean_layer_entry(ok, "f.h5", None) is ok


def test_a_file_layer_with_an_extra_key_still_loads(tmp_path):
    inputs = layers.Input((3,))
    model = models.Model(inputs, layers.Dense(2, name="dd")(inputs))
    config = json.loads(model.to_json())
    for entry in config["config"]["layers"]:
        if entry["class_name"] == "Dense":
            entry["config"]["bogus"] = 1
    with pytest.warns(UserWarning, match=r"'dd' \(Dense\): ignored unsupported config keys") as w:
        loaded = gpuk.models.model_from_json(json.dumps(config))
    assert [x.filename for x in w if "ignored" in str(x.message)] == [__file__]
    assert loaded.get_layer("dd").units == 2


def test_malformed_entries_and_unknown_classes():
    # a layer entry that is not a dict with a class name is refused (file_safety's check)
    with pytest.raises(ValueError, match=r"f: config.layers\[0\].class_name: expected a string"):
        config_utils.prepare_model_config(
            {"class_name": "Sequential", "config": {"layers": [{"config": {}}]}}, "f"
        )
    with pytest.raises(ValueError, match=r"f: unknown model class 'MyNet'; pass it in custom"):
        config_utils.model_from_prepared("MyNet", {"layers": []}, "f")
    assert config_utils._model_class("Model", "f") is gpuk.models.Functional
    assert config_utils._model_class("Functional", "f") is gpuk.models.Functional
    assert config_utils._model_class("Sequential", "f") is gpuk.models.Sequential
    assert config_utils._model_class("Other", "f") is None


def test_hard_sigmoid_h5_save_warns_once_per_model(tmp_path):
    inputs = layers.Input((3, 2))
    x = layers.GRU(2, recurrent_activation="hard_sigmoid", name="g")(inputs)
    x = layers.Dense(1, activation="hard_sigmoid", name="d")(x)
    model = models.Model(inputs, x)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.save(str(tmp_path / "m.h5"))
    messages = [str(w.message) for w in caught if "hard_sigmoid" in str(w.message)]
    assert [w.filename for w in caught if "hard_sigmoid" in str(w.message)] == [__file__]
    assert len(messages) == 1
    assert "m.h5: layer 'g' uses hard_sigmoid" in messages[0]
    plain = models.Model(inputs, layers.Dense(1, name="p")(inputs))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        config_utils.warn_hard_sigmoid(plain, "x.h5")
    with pytest.warns(UserWarning, match="x.h5: layer 'd' uses hard_sigmoid"):
        config_utils.warn_hard_sigmoid(models.Model(inputs, model.get_layer("d")(inputs)), "x.h5")


def test_sequential_entries_find_their_weights_by_inner_name():
    # Keras 2 Sequential entries carry the name only inside "config"
    config = {
        "class_name": "Sequential",
        "config": [
            {
                "class_name": "GRU",
                "config": {"name": "g", "units": 4, "batch_input_shape": [None, 5, 3]},
            }
        ],
    }
    shapes = {"g": [(3, 12), (4, 12), (2, 12)]}
    _, prepared = config_utils.prepare_model_config(config, "f", "2.2.4", shapes)
    assert prepared[0]["config"]["reset_after"] is True
    config["config"][0]["name"] = "g"
    config["config"][0]["config"]["name"] = "other"
    _, prepared = config_utils.prepare_model_config(config, "f", "2.2.4", shapes)
    assert prepared[0]["config"]["reset_after"] is True  # the entry's own name first


def test_nested_models_are_prepared_too():
    inner = {
        "class_name": "Sequential",
        "config": {
            "name": "inner",
            "layers": [
                {
                    "class_name": "Dense",
                    "config": {"name": "d", "units": 1, "activation": "hard_sigmoid"},
                }
            ],
        },
    }
    config = {"class_name": "Sequential", "config": {"name": "outer", "layers": [inner]}}
    _, prepared = config_utils.prepare_model_config(config, "f", "2.4.0")
    nested = prepared["layers"][0]["config"]["layers"][0]["config"]
    assert nested["activation"] == "hard_sigmoid_legacy"


def test_zero_sized_dimensions_are_allowed_negative_ones_are_not():
    inputs = layers.Input((0, 3))
    model = models.Model(inputs, layers.Dense(2, name="d")(inputs))
    loaded = gpuk.models.model_from_json(model.to_json())
    assert tuple(loaded.outputs[0].shape) == (None, 0, 2)
    inputs = layers.Input((3,))
    bad = json.loads(models.Model(inputs, layers.RepeatVector(2, name="rep")(inputs)).to_json())
    for entry in bad["config"]["layers"]:
        if entry["class_name"] == "RepeatVector":
            entry["config"]["n"] = -1
    with pytest.raises(ValueError, match=r"layer 'rep' \(RepeatVector\) outputs shape .*negative"):
        gpuk.models.model_from_json(json.dumps(bad))


def test_call_arguments_a_layer_does_not_take_are_refused():
    inputs = layers.Input((3,))
    x = layers.Dense(2, name="dd")(inputs)
    model = models.Model(inputs, layers.Dropout(0.5, name="drop")(x))
    config = json.loads(model.to_json())
    for entry in config["config"]["layers"]:
        if entry["class_name"] in ("Dense", "Dropout"):
            node = entry["inbound_nodes"][0]
            assert isinstance(node, list) and len(node[0]) == 4
            node[0][3] = {"bogus": 1, "training": True} if entry["class_name"] == "Dense" else {}
    with pytest.raises(
        ValueError, match=r"layer 'dd' \(Dense\) is called with arguments \['bogus'"
    ):
        gpuk.models.model_from_json(json.dumps(config))
    for entry in config["config"]["layers"]:
        if entry["class_name"] in ("Dense", "Dropout"):
            entry["inbound_nodes"][0][0][3] = (
                {"training": True} if entry["class_name"] == "Dropout" else {}
            )
    assert gpuk.models.model_from_json(json.dumps(config)).get_layer("drop").rate == 0.5


def test_conservative_entries_drop_keras3_only_defaults():
    defaults = {
        "quantization_config": None,
        "lora_rank": None,
        "lora_alpha": None,
        "seed": None,
        "zero_output_for_mask": False,
    }
    entry = {
        "module": "keras.layers",
        "registered_name": None,
        "build_config": {"input_shape": [None, 3]},
        "class_name": "Dense",
        "config": {"name": "d", "units": 2, "fused": True, **defaults},
    }
    out = config_utils._conservative_layer(entry)
    assert out == {"class_name": "Dense", "config": {"name": "d", "units": 2}}
    kept = {"quantization_config": {"q": 1}, "lora_rank": 4, "lora_alpha": 2.0, "seed": 3}
    kept["zero_output_for_mask"] = True
    out = config_utils._conservative_layer({"class_name": "Dense", "config": dict(kept)})
    assert out["config"] == kept
    gru = config_utils._conservative_layer({"class_name": "GRU", "config": {}})["config"]
    assert gru == {"implementation": 2, "reset_after": True}
    lstm = config_utils._conservative_layer({"class_name": "LSTM", "config": {}})["config"]
    assert lstm == {"implementation": 2}


def test_wrapped_layers_keep_the_module_keras3_needs():
    inner = {
        "module": "keras.layers",
        "class_name": "GRU",
        "config": {"units": 2, "seed": None},
        "registered_name": None,
        "name": "g",
        "inbound_nodes": [],
        "build_config": {"input_shape": [None, 3, 2]},
    }
    entry = {"class_name": "Bidirectional", "config": {"layer": inner, "backward_layer": None}}
    layer = config_utils._conservative_layer(entry)["config"]["layer"]
    assert layer == {
        "class_name": "GRU",
        "config": {"units": 2, "implementation": 2, "reset_after": True},
        "module": "keras.layers",
        "registered_name": None,
    }
    plain = dict(inner, module=None, registered_name="pkg>G")
    layer = config_utils._conservative_layer(
        {"class_name": "TimeDistributed", "config": {"layer": plain}}
    )
    assert layer["config"]["layer"] == {
        "class_name": "GRU",
        "config": {"units": 2, "implementation": 2, "reset_after": True},
    }


def test_registered_names_are_split_for_keras():
    value = {
        "class_name": "pkg>Clip",
        "config": {"inner": [{"class_name": "a>B", "config": {}, "registered_name": "keep"}]},
    }
    out = config_utils._split_registered_names(value)
    assert out["class_name"] == "Clip"
    assert out["registered_name"] == "pkg>Clip" and out["module"] is None
    assert out["config"]["inner"][0] == {
        "class_name": "B",
        "config": {},
        "registered_name": "keep",
        "module": None,
    }
    plain = {"class_name": "Dense", "config": {"units": 1}}
    assert config_utils._split_registered_names(plain) == plain
    assert config_utils._split_registered_names({"class_name": "a>b"}) == {"class_name": "a>b"}
    assert config_utils._split_registered_names([1, "x>y"]) == [1, "x>y"]


def test_nested_models_are_written_conservatively():
    entry = {
        "class_name": "Functional",
        "module": "keras.src.models.functional",
        "config": {"layers": [{"class_name": "Dense", "config": {"units": 1, "fused": True}}]},
    }
    out = config_utils._conservative_layer(entry)
    assert out == {
        "class_name": "Functional",
        "config": {"layers": [{"class_name": "Dense", "config": {"units": 1}}]},
    }
