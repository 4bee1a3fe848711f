"""keras.ops calls and Python operators on symbolic tensors build functional models."""

import numpy as np
import pytest

import gpuk as keras
from gpuk import ops


def _model():
    inp = keras.Input((6,))
    x = ops.expand_dims(inp, -1)
    x = keras.layers.Dense(4, name="dense")(ops.concatenate([x, x * 2.0], axis=-1))
    x = ops.mean(x, axis=1) + 1.0
    return keras.Model(inp, ops.softmax(-x[:, :3] / 2.0))


def test_symbolic_ops_build_train_and_match_eager(tmp_path):
    model = _model()
    assert [type(layer).__name__ for layer in model.layers].count("OpLayer") == 9
    assert model.output_shape == (None, 3)
    x = np.random.default_rng(0).uniform(size=(5, 6)).astype("float32")
    kernel, bias = (w.numpy() for w in model.get_layer("dense").weights)
    stacked = np.stack([x, 2 * x], axis=-1)
    expected = (stacked @ kernel + bias).mean(axis=1) + 1.0
    expected = -expected[:, :3] / 2.0
    expected = np.exp(expected) / np.exp(expected).sum(-1, keepdims=True)
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5)
    model.compile("adam", "mse")
    history = model.fit(x, np.full((5, 3), 1 / 3, "float32"), epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    for name in ("m.keras", "m.h5"):
        model.save(tmp_path / name)
        again = keras.models.load_model(tmp_path / name)
        np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0))


def test_static_facts_of_symbolic_tensors():
    inp = keras.Input((6, 3))
    assert ops.shape(inp) == (None, 6, 3)
    assert ops.ndim(inp) == 3 and ops.dtype(inp) == "float32"
    assert ops.image.resize(ops.expand_dims(inp, -1), (4, 4)).shape == (None, 4, 4, 1)
    assert (1.0 - inp).shape == (None, 6, 3) and (inp @ np.ones((3, 2))).shape == (None, 6, 2)


def test_symbolic_op_errors_name_the_op():
    inp = keras.Input((6,))
    with pytest.raises(ValueError, match="reshape"):
        ops.reshape(inp, (4, 4))


def test_loads_a_keras_saved_graph_of_ops():
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[1] / "fixtures/keras/ops"
    data = np.load(root / "ops_graph.npz")
    model = keras.models.load_model(root / "ops_graph.keras")
    outputs = model.predict(data["x"], verbose=0)
    assert len(outputs) == 4
    for k, got in enumerate(outputs):
        expected = data[f"out{k}"]
        assert got.shape == expected.shape and got.dtype == expected.dtype, k
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6, err_msg=f"output {k}")
