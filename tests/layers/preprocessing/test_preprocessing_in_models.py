"""Preprocessing layers inside models: string inputs through fit/predict/evaluate and .keras."""

import numpy as np
import pytest

import gpuk


def _model():
    L = gpuk.layers
    animal = gpuk.Input((1,), dtype="string", name="animal")
    age = gpuk.Input((1,), dtype="int64", name="age")
    num = gpuk.Input((2,), name="num")
    text = gpuk.Input((), dtype="string", name="text")
    lookup = L.StringLookup(output_mode="multi_hot")
    lookup.adapt(np.array([["cat"], ["dog"], ["eel"]]))
    ints = L.IntegerLookup(output_mode="one_hot")
    ints.adapt(np.array([[1], [2], [3]]))
    norm = L.Normalization()
    norm.adapt(np.random.default_rng(1).random((20, 2)))
    vec = L.TextVectorization(max_tokens=10, output_mode="tf_idf")
    vec.adapt(["a b", "c d a"])
    h = L.concatenate([lookup(animal), ints(age), norm(num), vec(text)])
    out = L.Dense(1, activation="sigmoid")(L.Dense(4, activation="relu")(h))
    return gpuk.Model([animal, age, num, text], out)


def _data(n=32):
    rng = np.random.default_rng(0)
    x = {
        "animal": rng.choice(["cat", "dog", "eel", "yak"], (n, 1)),
        "age": rng.integers(0, 5, (n, 1)),
        "num": rng.random((n, 2)).astype("float32"),
        "text": rng.choice(["a b", "c", "d a x"], (n,)).astype(object),
    }
    return x, rng.integers(0, 2, (n, 1))


def test_fit_predict_evaluate_on_strings(tmp_path):
    gpuk.utils.clear_session()  # the test looks layers up by their automatic names
    gpuk.utils.set_random_seed(0)
    model = _model()
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    x, y = _data()
    history = model.fit(x, y, epochs=2, batch_size=8, validation_split=0.25, verbose=0)
    assert len(history.history["loss"]) == 2 and "val_accuracy" in history.history
    pred = model.predict(x, verbose=0)
    assert pred.shape == (32, 1)
    path = str(tmp_path / "m.keras")
    model.save(path)
    again = gpuk.saving.load_model(path)
    np.testing.assert_allclose(again.predict(x, verbose=0), pred, rtol=1e-6)
    assert again.get_layer("string_lookup").get_vocabulary() == ["[UNK]", "eel", "dog", "cat"]


def test_string_input_dtype_is_symbolic_string():
    x = gpuk.Input((1,), dtype="string")
    assert x.dtype == "string"
    out = gpuk.layers.StringLookup(vocabulary=["a"])(x)
    assert out.dtype == "int64" and out.shape == (None, 1)


def test_lookup_errors_name_the_problem():
    with pytest.raises(ValueError, match="output_mode"):
        gpuk.layers.StringLookup(output_mode="dense")
    with pytest.raises(ValueError, match="repeated"):
        gpuk.layers.StringLookup(vocabulary=["a", "a"])
    layer = gpuk.layers.StringLookup(output_mode="multi_hot")
    with pytest.raises(RuntimeError, match="vocabulary"):
        layer(np.array(["a"]))
    with pytest.raises(ValueError, match="num_oov_indices=0"):
        gpuk.layers.StringLookup(vocabulary=["a"], num_oov_indices=0)(np.array(["b"]))


def test_vocabulary_file_and_keras_vocabulary_layout(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("x\ny\nz\n")
    layer = gpuk.layers.StringLookup(vocabulary=str(path), mask_token="")
    assert layer.get_vocabulary() == ["", "[UNK]", "x", "y", "z"]
    np.testing.assert_array_equal(layer(np.array(["z", "", "q"])).numpy(), [4, 0, 1])
    assert layer.get_vocabulary(include_special_tokens=False) == ["x", "y", "z"]


def test_one_dimensional_columns_feed_inputs_of_shape_one():
    """Keras's rank adjustment: ``(n,)`` data (a DataFrame column) feeds ``Input((1,))``."""
    horsepower = np.linspace(50, 200, 40)
    normalizer = gpuk.layers.Normalization(input_shape=[1], axis=None)
    normalizer.adapt(horsepower)
    np.testing.assert_allclose(normalizer.mean.numpy(), [horsepower.mean()], rtol=1e-5)
    model = gpuk.Sequential([normalizer, gpuk.layers.Dense(1)])
    model.compile("adam", "mae")
    model.fit(horsepower, horsepower * 0.1, epochs=1, verbose=0, validation_split=0.25)
    assert model.predict(horsepower[:3], verbose=0).shape == (3, 1)
    assert model(horsepower[:2]).shape == (2, 1)
    animal = gpuk.Input((1,), dtype="string", name="animal")
    lookup = gpuk.layers.StringLookup(output_mode="one_hot")
    lookup.adapt(np.array(["x", "y", "z"]))
    model = gpuk.Model(animal, gpuk.layers.Dense(1)(lookup(animal)))
    model.compile("adam", "mse")
    model.fit({"animal": np.array(["x", "y", "q", "z"])}, np.ones(4), verbose=0)
    assert model.predict({"animal": np.array(["x", "y"])}, verbose=0).shape == (2, 1)


def test_python_lists_and_scalars_of_strings_are_one_input():
    L = gpuk.layers
    lookup = L.StringLookup(vocabulary=["a", "b"])
    np.testing.assert_array_equal(lookup(["a", "b", "c"]).numpy(), [1, 2, 0])
    np.testing.assert_array_equal(lookup([["a"], ["c"]]).numpy(), [[1], [0]])
    assert int(lookup("b").numpy()) == 2
    vec = L.TextVectorization(vocabulary=["a"])
    np.testing.assert_array_equal(vec(["a b", "a"]).numpy(), [[2, 1], [2, 0]])
    crossed = L.HashedCrossing(num_bins=5)((["A", "B"], [101, 7])).numpy()
    assert crossed.shape == (2,) and crossed[0] == 1  # Keras's docstring value for (A, 101)
    inverse = L.StringLookup(vocabulary=["a", "b"], invert=True)([1, 2, 0])
    assert [str(v) for v in inverse.numpy()] == ["a", "b", "[UNK]"]
