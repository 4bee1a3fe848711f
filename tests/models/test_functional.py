"""Functional models and Sequential: Keras's layer order, parameter counts, configs, summary,
eager execution and the graph-time errors. Reference values come from Keras 3.15 (JAX)."""

import numpy as np
import pytest

from gpuk import layers
from gpuk.layers import clear_session
from gpuk.models import Model, Sequential

# Keras 3.15: rnnoise topology with Dense in place of the GRUs.
RNNOISE_ORDER = [
    "main_input",
    "input_dense",
    "vad_gru",
    "concatenate",
    "noise_gru",
    "concatenate_1",
    "denoise_gru",
    "denoise_output",
    "vad_output",
]


def rnnoise_like():
    x = layers.Input((None, 42), name="main_input")
    d = layers.Dense(24, activation="tanh", name="input_dense")(x)
    g1 = layers.Dense(24, activation="tanh", name="vad_gru")(d)
    vad = layers.Dense(1, activation="sigmoid", name="vad_output")(g1)
    c = layers.concatenate([d, g1, x])
    g2 = layers.Dense(48, activation="relu", name="noise_gru")(c)
    c2 = layers.concatenate([g1, g2, x])
    g3 = layers.Dense(96, activation="tanh", name="denoise_gru")(c2)
    den = layers.Dense(22, activation="sigmoid", name="denoise_output")(g3)
    return Model(inputs=x, outputs=[den, vad])


def setup_function():
    clear_session()


def test_rnnoise_order_params_and_shapes():
    model = rnnoise_like()
    assert [la.name for la in model.layers] == RNNOISE_ORDER
    assert model.count_params() == 19199
    assert model.output_shape == [(None, None, 22), (None, None, 1)]
    out = model(np.zeros((2, 5, 42), "float32"), training=False)
    assert [o.shape for o in out] == [(2, 5, 22), (2, 5, 1)]


def test_config_round_trip_keeps_order_and_outputs():
    model = rnnoise_like()
    config = model.get_config()
    assert config["input_layers"] == [["main_input", 0, 0]]
    assert config["output_layers"] == [["denoise_output", 0, 0], ["vad_output", 0, 0]]
    concat = next(e for e in config["layers"] if e["name"] == "concatenate")
    assert concat["inbound_nodes"] == [
        [["input_dense", 0, 0, {}], ["vad_gru", 0, 0, {}], ["main_input", 0, 0, {}]]
    ]
    clone = Model.from_config(config)
    assert [la.name for la in clone.layers] == RNNOISE_ORDER
    clone.set_weights(model.get_weights())
    x = np.random.default_rng(0).normal(size=(2, 3, 42)).astype("float32")
    for a, b in zip(model(x), clone(x)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)


def test_two_inputs_shared_layer_and_keras_order():
    a = layers.Input((8,), name="a")
    b = layers.Input((4,), name="b")
    h = layers.Dense(6, name="h")(a)
    o = layers.Dot(axes=1, name="dot")([h, layers.Dense(6, name="g")(b)])
    s = layers.add([h, h], name="s")
    model = Model([a, b], [s, o])
    # Keras 3.15 reference
    assert [la.name for la in model.layers] == ["a", "b", "h", "g", "s", "dot"]
    assert model.count_params() == 84
    assert model.output_shape == [(None, 6), (None, 1)]
    assert model.input_names == ["a", "b"]
    out = model({"a": np.ones((3, 8)), "b": np.ones((3, 4))})
    assert [t.shape for t in out] == [(3, 6), (3, 1)]
    shared = layers.Dense(2, name="shared")
    y1, y2 = shared(a), shared(layers.Dense(8)(a))
    twice = Model(a, [y1, y2])
    assert len(twice.get_layer("shared")._inbound_nodes) == 2
    assert twice.count_params() == 18 + 72


def test_model_as_layer_inside_model():
    inner_in = layers.Input((4,))
    inner = Model(inner_in, layers.Dense(3, name="inner_dense")(inner_in), name="inner")
    x = layers.Input((4,))
    y = layers.Dense(2)(inner(x))
    outer = Model(x, y)
    assert outer.count_params() == 15 + 8
    assert inner in outer.layers
    value = outer(np.ones((5, 4)))
    assert value.shape == (5, 2)


def test_errors_name_layers_and_shapes():
    x3 = layers.Input((None, 24))
    x2 = layers.Input((24,))
    with pytest.raises(ValueError, match=r"\(None, None, 24\).*\(None, 24\)"):
        layers.concatenate([x3, x2], name="bad_concat")
    with pytest.raises(ValueError, match="dense_rank1"):
        layers.Dense(3, name="dense_rank1")(layers.Input(batch_shape=(7,)))
    other = layers.Input((3,), name="other_input")
    with pytest.raises(ValueError, match="other_input"):
        Model(x2, layers.Dense(1)(other))
    a = layers.Input((3,), name="a_in")
    y = layers.Dense(2, name="twin")(layers.Dense(3, name="twin")(a))
    with pytest.raises(ValueError, match="twin"):
        Model(a, y)
    model = Model(a, layers.Dense(1)(a))
    with pytest.raises(ValueError, match="a_in"):
        model(np.ones((2, 5)))


def test_layer_weights_set_weights_and_freezing():
    layer = layers.Dense(2, name="d")
    layer(np.ones((1, 3)))
    assert [w.path for w in layer.weights] == ["d/kernel", "d/bias"]
    with pytest.raises(ValueError, match="'d'"):
        layer.set_weights([np.ones((3, 2))])
    with pytest.raises(ValueError, match=r"\(3, 2\)"):
        layer.set_weights([np.ones((2, 2)), np.ones(2)])
    layer.set_weights([np.ones((3, 2)), np.zeros(2)])
    np.testing.assert_allclose(layer(np.ones((1, 3))).numpy(), [[3.0, 3.0]])
    layer.trainable = False
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 2
    assert layers.Dense(1).name == "dense" and layers.Dense(1).name == "dense_1"


def test_regularization_losses_follow_weights():
    layer = layers.Dense(1, kernel_regularizer="l2", name="reg")
    layer(np.ones((1, 2)))
    layer.set_weights([np.full((2, 1), 2.0), np.zeros(1)])
    assert float(layer.losses[0]) == pytest.approx(0.01 * 8)
    layer.set_weights([np.full((2, 1), 1.0), np.zeros(1)])
    assert float(layer.losses[0]) == pytest.approx(0.01 * 2)


def test_masks_reach_layers_that_take_them():
    seen = {}

    class Probe(layers.Layer):
        def call(self, inputs, mask=None):
            seen["mask"] = None if mask is None else np.asarray(mask)
            return inputs

    x = np.array([[1, 2, 0, 0]])
    Probe()(layers.Embedding(5, 3, mask_zero=True)(x))
    np.testing.assert_array_equal(seen["mask"], [[True, True, False, False]])
    seq = np.zeros((1, 3, 2), "float32")
    seq[0, 0] = 1.0
    Probe()(layers.Masking()(seq))
    np.testing.assert_array_equal(seen["mask"], [[True, False, False]])


def test_subclassed_layer_keras_way():
    class Scale(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)

        def build(self, input_shape):
            self.w = self.add_weight(name="w", shape=(input_shape[-1],), initializer="ones")

        def call(self, inputs):
            return inputs * self.w

    x = layers.Input((None, 3))
    y = Scale(name="scale")(x)
    assert y.shape == (None, None, 3)
    model = Model(x, y)
    assert model.count_params() == 3


def test_sequential_forms_and_summary():
    model = Sequential([layers.Dense(8, input_shape=(4,)), layers.Dense(1)])
    assert [la.name for la in model.layers] == ["dense", "dense_1"]
    assert model.count_params() == 49
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "Total params: 49" in text and "dense_1 (Dense)" in text
    config = model.get_config()
    assert config["layers"][0]["class_name"] == "InputLayer"
    clone = Sequential.from_config(config)
    assert clone.count_params() == 49
    deferred = Sequential([layers.Dense(3), layers.Dense(2)])
    assert deferred.weights == []
    assert deferred(np.ones((5, 7))).shape == (5, 2)
    assert deferred.count_params() == 7 * 3 + 3 + 3 * 2 + 2
    stack = Sequential()
    stack.add(layers.Input((3,)))
    stack.add(layers.Dense(2))
    stack.add(layers.Dense(4))
    stack.pop()
    assert stack.output_shape == (None, 2)


def test_functional_summary_lists_connections():
    lines = []
    rnnoise_like().summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "Connected to" in text and "Total params: 19,199" in text
    assert "input_dense[0][0]" in text
