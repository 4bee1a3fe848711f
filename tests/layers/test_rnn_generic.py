"""The generic ``RNN(cell)`` layer and ``StackedRNNCells`` against Keras 3
(tools/make_keras_fixtures_rnn_generic.py): Keras-written files, values with masks and
go_backwards, user-written cells, nested states, gradients."""

import json
import os

import numpy as np
import pytest

import gpuk as keras
from gpuk import layers
from tests.gradcheck import assert_gradients_match

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures", "keras", "rnn_generic")
R = np.load(os.path.join(FIXTURES, "values.npz"))
META = json.loads(str(R["meta"]))


@keras.utils.register_keras_serializable(package="gpuk_tests")
class MinimalRNNCell(keras.layers.Layer):
    """The cell of Keras's RNN docstring: ``h = x @ W + h_prev @ U``."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(
            shape=(input_shape[-1], self.units), initializer="uniform", name="kernel"
        )
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, self.units), initializer="uniform", name="recurrent_kernel"
        )

    def call(self, inputs, states):
        prev_output = states[0]
        output = keras.ops.matmul(inputs, self.kernel) + keras.ops.matmul(
            prev_output, self.recurrent_kernel
        )
        return output, [output]

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def _flat(value):
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in _flat(item)]
    return [value.numpy()]


@pytest.mark.parametrize("name", ["simple_seq", "stacked_state", "custom_stacked"])
def test_keras_written_files_load_and_match(name):
    model = keras.saving.load_model(os.path.join(FIXTURES, f"{name}.keras"))
    outputs = _flat(model(R["x"]))
    assert len(outputs) == META[name]["outputs"]
    for i, out in enumerate(outputs):
        np.testing.assert_allclose(out, R[f"{name}/out{i}"], rtol=1e-5, atol=1e-6)
    assert [w.path for w in model.weights] == META[name]["paths"]


def _masked_model(name):
    x = keras.Input((5, 3))
    masked = layers.Masking()(x)
    if name == "lstm_backwards_masked":
        y = layers.RNN(layers.LSTMCell(3), go_backwards=True, return_sequences=True)(masked)
    else:
        y = layers.RNN(MinimalRNNCell(4), return_sequences=True, zero_output_for_mask=True)(masked)
    return keras.Model(x, y)


@pytest.mark.parametrize("name", ["lstm_backwards_masked", "custom_cell_masked"])
def test_masks_and_go_backwards_match_keras(name):
    model = _masked_model(name)
    model.set_weights([R[f"{name}/w{i}"] for i in range(len(model.weights))])
    np.testing.assert_allclose(model(R["x"]).numpy(), R[f"{name}/out0"], rtol=1e-5, atol=1e-6)


def test_composed_loop_equals_the_whole_sequence_op_for_builtin_cells():
    x = R["x"]
    cell = layers.GRUCell(3)
    fast = layers.RNN(cell, return_sequences=True, return_state=True)
    ref_out = fast(x)
    slow = layers.RNN(layers.StackedRNNCells([cell]), return_sequences=True, return_state=True)
    slow_out = slow(x)
    for a, b in zip(_flat(ref_out), _flat(slow_out)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_config_round_trip_and_keras_keys():
    rnn = layers.RNN([MinimalRNNCell(3), layers.LSTMCell(2)], return_state=True, go_backwards=True)
    config = rnn.get_config()
    keras_config = META["stacked_state"]["rnn_config"]
    assert set(keras_config) <= set(config)
    assert config["cell"]["class_name"] == "StackedRNNCells"
    clone = layers.RNN.from_config(config)
    assert isinstance(clone.cell, layers.StackedRNNCells)
    assert [type(c).__name__ for c in clone.cell.cells] == ["MinimalRNNCell", "LSTMCell"]
    assert clone.state_size == [3, [2, 2]]


def test_return_state_nesting_and_initial_state():
    x = R["x"]
    rnn = layers.RNN([layers.LSTMCell(3), layers.GRUCell(2)], return_state=True)
    output, lstm_states, gru_state = rnn(x)
    assert output.shape == (2, 2) and [s.shape for s in lstm_states] == [(2, 3), (2, 3)]
    np.testing.assert_allclose(gru_state.numpy(), output.numpy())
    initial = rnn.get_initial_state(2)
    assert [s.shape for s in initial[0]] == [(2, 3), (2, 3)] and initial[1].shape == (2, 2)
    again = rnn(x, initial_state=initial)
    np.testing.assert_allclose(again[0].numpy(), output.numpy())


def test_stateful_carries_states():
    x = R["x"]
    rnn = layers.RNN(MinimalRNNCell(2), stateful=True)
    first = rnn(x[:, :2]).numpy()
    second = rnn(x[:, 2:]).numpy()
    fresh = layers.RNN(MinimalRNNCell(2))
    fresh(x)
    fresh.set_weights(rnn.get_weights())
    np.testing.assert_allclose(second, fresh(x).numpy(), rtol=1e-5)
    rnn.reset_states()
    np.testing.assert_allclose(rnn(x[:, :2]).numpy(), first, rtol=1e-6)


def test_gradients_through_the_composed_loop(xp):
    cell = MinimalRNNCell(2, dtype="float64")
    rnn = layers.RNN(cell, return_sequences=True, go_backwards=True, dtype="float64")
    x = np.random.default_rng(0).normal(size=(2, 4, 3))
    mask = np.ones((2, 4), bool)
    mask[1, 2:] = False

    def fn(inputs):
        return keras.ops.sum(keras.ops.square(rnn(inputs, mask=xp.asarray(mask))))

    assert_gradients_match(fn, [x], xp)
    with keras.GradientTape() as tape:
        loss = keras.ops.sum(keras.ops.square(rnn(xp.asarray(x))))
    grads = tape.gradient(loss, rnn.trainable_weights)
    assert all(g is not None and g.shape == w.shape for g, w in zip(grads, rnn.weights))


def test_trains_and_saves(tmp_path):
    x = keras.Input((5, 3))
    y = layers.Dense(1)(layers.RNN([MinimalRNNCell(4), layers.SimpleRNNCell(3)])(x))
    model = keras.Model(x, y)
    model.compile(optimizer="adam", loss="mse")
    data = np.random.default_rng(1).normal(size=(8, 5, 3)).astype("float32")
    target = data.sum(axis=(1, 2))[:, None].astype("float32")
    before = model.evaluate(data, target, verbose=0)
    model.fit(data, target, epochs=20, verbose=0)
    assert model.evaluate(data, target, verbose=0) < before
    path = str(tmp_path / "rnn.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(loaded.predict(data, verbose=0), model.predict(data, verbose=0))


def test_bad_cells_are_refused():
    with pytest.raises(ValueError, match="`call` method"):
        layers.RNN(object())

    class NoState:
        def call(self, inputs, states):
            return inputs, states

    with pytest.raises(ValueError, match="state_size"):
        layers.RNN(NoState())
