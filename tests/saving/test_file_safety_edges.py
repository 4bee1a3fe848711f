"""The structural checks of gpuk/saving/file_safety.py on malformed configs and errors: every
refusal names the file, the config path and what was expected (mutation-testing holes)."""

import pytest

from gpuk.saving import file_safety


def _functional(layers=None, inputs=None, outputs=None):
    return {
        "layers": [] if layers is None else layers,
        "input_layers": [["in", 0, 0]] if inputs is None else inputs,
        "output_layers": [["out", 0, 0]] if outputs is None else outputs,
    }


def _dense(**extra):
    entry = {"class_name": "Dense", "name": "d", "config": {"name": "d"}, "inbound_nodes": []}
    entry.update(extra)
    return entry


BAD = [
    ("Functional", [1], "config: expected a dict, got list"),
    (
        "Model",
        {"layers": [], "input_layers": []},
        "config: the functional model config has no 'output_layers' key",
    ),
    (
        "Functional",
        {"layers": {}, "input_layers": [], "output_layers": []},
        "config.layers: expected a list, got dict",
    ),
    ("Sequential", {"layers": "x"}, "config.layers: expected a list, got str"),
    ("Sequential", 5, "config.layers: expected a list, got NoneType"),
    (
        "Functional",
        _functional(inputs=[["in", 0]]),
        r"config.input_layers\[0\]: expected \[layer_name, node_index, tensor_index\], "
        r"got \[.in., 0\]",
    ),
    ("Functional", _functional(inputs=[["in", -1, 0]]), "config.input_layers\\[0\\]: expected"),
    ("Functional", _functional(inputs=[["in", True, 0]]), "config.input_layers\\[0\\]: expected"),
    ("Functional", _functional(outputs={"a": ["out", 0, 1.5]}), "config.output_layers.a: expected"),
    (
        "Functional",
        _functional(outputs=[[["o", 0, 0]], 7]),
        r"config.output_layers\[1\]: expected layer references, got '7'",
    ),
    (
        "Functional",
        _functional(outputs=[]),
        "config.output_layers: expected layer references, got '\\[\\]'",
    ),
    ("Functional", _functional([3]), r"config.layers\[0\]: expected a layer dict, got '3'"),
    (
        "Functional",
        _functional([_dense(class_name=1)]),
        r"config.layers\[0\].class_name: expected a string, got 1",
    ),
    (
        "Functional",
        _functional([_dense(config=[1])]),
        r"config.layers\[0\].config: expected a dict, got list",
    ),
    (
        "Functional",
        _functional([_dense(name=5)]),
        r"config.layers\[0\].name: expected a string, got 5",
    ),
    (
        "Functional",
        _functional([_dense(config={"name": 6})]),
        r"config.layers\[0\].name: expected a string, got 6",
    ),
    (
        "Functional",
        _functional([_dense(inbound_nodes="n")]),
        r"config.layers\[0\].inbound_nodes: expected a list, got 'n'",
    ),
    (
        "Functional",
        _functional([_dense(inbound_nodes=[5])]),
        r"inbound_nodes\[0\]: expected a list of layer references, got 5",
    ),
    (
        "Functional",
        _functional([_dense(inbound_nodes=[[["a", 0]]])]),
        r"inbound_nodes\[0\]\[0\]: expected \[layer_name, node, tensor\]",
    ),
    (
        "Functional",
        _functional([_dense(inbound_nodes=[[[1, 0, 0]]])]),
        r"inbound_nodes\[0\]\[0\]: expected",
    ),
    (
        "Functional",
        _functional([_dense(inbound_nodes=[[["a", 0, False]]])]),
        r"inbound_nodes\[0\]\[0\]: expected",
    ),
    (
        "Functional",
        _functional([_dense(inbound_nodes=[{"args": {}, "kwargs": {}}])]),
        r"inbound_nodes\[0\]: expected \{'args'",
    ),
    (
        "Functional",
        _functional([_dense(inbound_nodes=[{"args": [], "kwargs": []}])]),
        r"inbound_nodes\[0\]: expected \{'args'",
    ),
    (
        "Functional",
        _functional(
            [
                _dense(
                    inbound_nodes=[
                        {
                            "args": [
                                {
                                    "class_name": "__keras_tensor__",
                                    "config": {"keras_history": ["a", 0]},
                                }
                            ]
                        }
                    ]
                )
            ]
        ),
        r"inbound_nodes\[0\]: malformed keras_history \['a', 0\]",
    ),
    (
        "Functional",
        _functional(
            [
                _dense(
                    inbound_nodes=[
                        {
                            "args": [
                                {
                                    "class_name": "__keras_tensor__",
                                    "config": {"keras_history": [1, 0, 0]},
                                }
                            ]
                        }
                    ]
                )
            ]
        ),
        r"inbound_nodes\[0\]: malformed keras_history",
    ),
    (
        "Functional",
        _functional(
            [
                _dense(
                    inbound_nodes=[
                        {
                            "args": [
                                [
                                    {
                                        "class_name": "__keras_tensor__",
                                        "config": {"keras_history": ["a", 0, -2]},
                                    }
                                ]
                            ]
                        }
                    ]
                )
            ]
        ),
        r"inbound_nodes\[0\]: malformed keras_history",
    ),
    (
        "Functional",
        _functional(
            [
                _dense(
                    inbound_nodes=[
                        {"args": [], "kwargs": {"m": {"class_name": "__keras_tensor__"}}}
                    ]
                )
            ]
        ),
        r"inbound_nodes\[0\]: malformed keras_history None",
    ),
    (
        "Functional",
        _functional([_dense(config={"batch_input_shape": 3})]),
        r"config.layers\[0\].config.batch_input_shape: expected a list of sizes, got 3",
    ),
    (
        "Functional",
        _functional([_dense(config={"batch_shape": [0, 3]})]),
        r"config.layers\[0\].config.batch_shape: expected sizes >= 0 or null, got \[0, 3\]",
    ),
    (
        "Functional",
        _functional([_dense(config={"shape": [3, -1]})]),
        r"config.layers\[0\].config.shape: expected sizes >= 0 or null",
    ),
    (
        "Functional",
        _functional([_dense(config={"input_shape": [True]})]),
        r"config.layers\[0\].config.input_shape: expected sizes",
    ),
    (
        "Functional",
        _functional([_dense(config={"batch_input_shape": [None, 2.0]})]),
        r"config.layers\[0\].config.batch_input_shape: expected sizes >= 0",
    ),
]


@pytest.mark.parametrize("class_name,config,message", BAD)
def test_malformed_model_configs_are_named(class_name, config, message):
    prefix = "^m.json: " if message.startswith("config") else r"^m.json: config.layers\[0\]\."
    with pytest.raises(ValueError, match=prefix + message):
        file_safety.check_model_config(class_name, config, "m.json")


GOOD = [
    ("Functional", _functional()),
    ("Functional", _functional(inputs={"a": ["in", 0, 0]}, outputs=[["o", 1, 2, 3]])),
    ("Functional", _functional([_dense(config={"batch_input_shape": [None, 3], "shape": [0, 2]})])),
    ("Functional", _functional([_dense(config={"shape": [0, 3], "input_shape": (2, None)})])),
    (
        "Functional",
        _functional(
            [
                _dense(
                    inbound_nodes=[
                        [["a", 0, 0, {}]],
                        {
                            "args": [
                                {
                                    "class_name": "__keras_tensor__",
                                    "config": {"keras_history": ["a", 1, 0]},
                                }
                            ],
                            "kwargs": {},
                        },
                    ]
                )
            ]
        ),
    ),
    ("Sequential", [_dense(inbound_nodes=[5])]),  # Sequential entries' nodes are not used
    ("Sequential", {"layers": [_dense()]}),
    ("Sequential", {}),
    ("SomethingElse", 12),
]


@pytest.mark.parametrize("class_name,config", GOOD)
def test_well_formed_model_configs_pass(class_name, config):
    file_safety.check_model_config(class_name, config, "m.json")


def test_class_name_must_be_a_string():
    with pytest.raises(ValueError, match=r"m.json: config.class_name: expected a string, got 3"):
        file_safety.check_model_config(3, {}, "m.json")


def test_reading_turns_errors_into_named_value_errors():
    with pytest.raises(ValueError, match=r"^f.h5: the part: nested too deeply to be a thing$"):
        with file_safety.reading("f.h5", "the part", "a thing"):
            raise RecursionError("deep")
    with pytest.raises(FileNotFoundError):
        with file_safety.reading("f.h5", "the part", "a thing"):
            raise FileNotFoundError("gone")
    with pytest.raises(ValueError, match=r"^f.h5: the part: expected a thing; KeyError: 'k'$"):
        with file_safety.reading("f.h5", "the part", "a thing"):
            raise KeyError("k")
    with pytest.raises(ValueError, match=r"^f.h5: the part: plain$"):
        with file_safety.reading("f.h5", "the part", "a thing"):
            raise ValueError("plain")
    with pytest.raises(ValueError, match=r"^f.h5 says so$"):
        with file_safety.reading("f.h5", "the part", "a thing"):
            raise ValueError("f.h5 says so")


def test_parse_json_refusals():
    with pytest.raises(ValueError, match=r"^f: the model config: expected JSON text, received int"):
        file_safety.parse_json(3, "f")
    with pytest.raises(ValueError, match=r"^f: cfg is not valid JSON"):
        file_safety.parse_json("{", "f", "cfg")
    with pytest.raises(ValueError, match=r"f: the model config: .*UTF-8 JSON text"):
        file_safety.parse_json(b"\xff\xfe", "f")
    assert file_safety.parse_json(bytearray(b"[1]"), "f") == [1]
    with pytest.raises(ValueError, match=r"^f: x: nested more than \d+ levels deep"):
        file_safety.check_depth([[[[]]]] * 1 if False else _nested(200), "f", "x")
    file_safety.check_depth(_nested(20), "f", "x")
    file_safety.check_depth({"a": ({"b": 1},)}, "f", "x")


def _nested(depth):
    value = []
    for _ in range(depth):
        value = [value]
    return value
