"""FeatureSpace against Keras 3.15 (fixtures from tools/make_keras_fixtures_feature_space.py)
and the keras-io example "Structured data classification with FeatureSpace"."""

import json
import pathlib

import numpy as np
import pytest

import gpuk as keras
from gpuk._array import get_array_module
from gpuk.utils import FeatureSpace

FIXTURES = pathlib.Path(__file__).parents[2] / "fixtures" / "keras" / "feature_space"


@pytest.fixture(scope="module")
def ref():
    with np.load(FIXTURES / "heart.npz") as f:
        return dict(f)


def heart(ref, keys=None):
    data = {k[5:]: v for k, v in ref.items() if k.startswith("data_")}
    return {k: v for k, v in data.items() if keys is None or k in keys}


def simple_space():
    # As the keras-io example's first FeatureSpace (feature types given by name).
    return FeatureSpace(
        features={
            "sex": "integer_categorical",
            "cp": "integer_categorical",
            "fbs": "integer_categorical",
            "restecg": "integer_categorical",
            "exang": "integer_categorical",
            "ca": "integer_categorical",
            "thal": "string_categorical",
            "age": "float_discretized",
            "trestbps": "float_normalized",
            "chol": "float_normalized",
            "thalach": "float_normalized",
            "oldpeak": "float_normalized",
            "slope": "float_normalized",
        },
        crosses=[("sex", "age"), ("thal", "ca")],
        crossing_dim=32,
        output_mode="concat",
    )


def custom_space(output_mode="concat"):
    # As the keras-io example's second FeatureSpace (Feature objects, custom crosses).
    return FeatureSpace(
        features={
            "sex": FeatureSpace.integer_categorical(num_oov_indices=0),
            "cp": FeatureSpace.integer_categorical(num_oov_indices=0),
            "fbs": FeatureSpace.integer_categorical(num_oov_indices=0),
            "restecg": FeatureSpace.integer_categorical(num_oov_indices=0),
            "exang": FeatureSpace.integer_categorical(num_oov_indices=0),
            "ca": FeatureSpace.integer_categorical(num_oov_indices=0),
            "thal": FeatureSpace.string_categorical(num_oov_indices=0),
            "age": FeatureSpace.float_discretized(num_bins=30),
            "trestbps": FeatureSpace.float_normalized(),
            "chol": FeatureSpace.float_normalized(),
            "thalach": FeatureSpace.float_normalized(),
            "oldpeak": FeatureSpace.float_normalized(),
            "slope": FeatureSpace.float_normalized(),
        },
        crosses=[
            FeatureSpace.cross(feature_names=("sex", "age"), crossing_dim=64),
            FeatureSpace.cross(feature_names=("thal", "ca"), crossing_dim=16),
        ],
        output_mode=output_mode,
    )


def other_space():
    return FeatureSpace(
        features={
            "age": FeatureSpace.float(),
            "chol": FeatureSpace.float_rescaled(scale=0.01, offset=-1.0),
            "thal": FeatureSpace.string_hashed(num_bins=8),
            "cp": FeatureSpace.integer_hashed(num_bins=4),
            "ca": FeatureSpace.integer_categorical(output_mode="int"),
            "oldpeak": FeatureSpace.float_discretized(num_bins=3, output_mode="int"),
        },
        crosses=[FeatureSpace.cross(("thal", "cp"), crossing_dim=8, output_mode="int")],
        output_mode="dict",
    )


SPACES = {
    "simple": simple_space,
    "custom": custom_space,
    "custom_dict": lambda: custom_space("dict"),
    "other": other_space,
}


def _np(x):
    return np.asarray(x.numpy() if hasattr(x, "numpy") else x)


@pytest.mark.parametrize("tag", sorted(SPACES))
def test_encoding_equals_keras(ref, tag, xp):
    space = SPACES[tag]()
    data = heart(ref, space.features)
    space.adapt(data)
    out = space(data)
    one = space({k: v[0] for k, v in data.items()})
    if isinstance(out, dict):
        expected = {k.split("__")[1]: v for k, v in ref.items() if k.startswith(f"{tag}__")}
        assert sorted(out) == sorted(expected)
        for key, value in expected.items():
            got = _np(out[key])
            assert got.shape == value.shape, key
            np.testing.assert_allclose(got, value, rtol=1e-6, atol=1e-6, err_msg=key)
            np.testing.assert_allclose(_np(one[key]), ref[f"{tag}_one__{key}"], atol=1e-6)
    else:
        assert _np(out).dtype == np.float32
        assert get_array_module(out.data) is xp  # encoded on the current device
        np.testing.assert_allclose(_np(out), ref[tag], rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(_np(one), ref[f"{tag}_one"], rtol=1e-6, atol=1e-6)


def test_config_equals_keras(ref):
    configs = json.loads((FIXTURES / "configs.json").read_text())
    space = custom_space()
    space.adapt(heart(ref))
    mine = space.get_config()
    theirs = configs["custom"]
    mine = json.loads(json.dumps(mine))  # tuples as lists, as in Keras's JSON
    assert {k: v for k, v in mine.items() if k != "features"} == {
        k: v for k, v in theirs.items() if k != "features"
    }
    for key, entry in theirs["features"].items():
        got = mine["features"][key]
        assert got["class_name"] == entry["class_name"] == "Feature"
        assert got["config"]["output_mode"] == entry["config"]["output_mode"]
        assert got["config"]["dtype"] == entry["config"]["dtype"]
        assert (
            got["config"]["preprocessor"]["class_name"]
            == entry["config"]["preprocessor"]["class_name"]
        )
    # Keras's config builds an equal (unadapted) FeatureSpace in gpuk.
    rebuilt = FeatureSpace.from_config(theirs)
    assert list(rebuilt.features) == list(theirs["features"])
    assert [c.name for c in rebuilt.crosses] == ["sex_X_age", "thal_X_ca"]


def test_keras_io_example(ref, xp):
    """keras-io "Structured data classification with FeatureSpace", with dicts of arrays in
    place of tf.data (the FeatureSpace, model and inference code are the example's)."""
    keras.utils.set_random_seed(1)
    data = heart(ref)
    rng = np.random.default_rng(0)
    target = (data["thalach"] < 150).astype("float32") * (rng.random(96) < 0.9)
    train = {k: v[:76] for k, v in data.items()}
    val = {k: v[76:] for k, v in data.items()}
    feature_space = custom_space()

    feature_space.adapt(train)
    preprocessed_x = feature_space({k: v[:32] for k, v in train.items()})
    assert tuple(preprocessed_x.shape) == (32, 138)
    assert str(preprocessed_x.dtype) == "float32"

    dict_inputs = feature_space.get_inputs()
    encoded_features = feature_space.get_encoded_features()

    x = keras.layers.Dense(32, activation="relu")(encoded_features)
    x = keras.layers.Dropout(0.5)(x)
    predictions = keras.layers.Dense(1, activation="sigmoid")(x)

    training_model = keras.Model(inputs=encoded_features, outputs=predictions)
    training_model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    inference_model = keras.Model(inputs=dict_inputs, outputs=predictions)

    history = training_model.fit(
        feature_space(train),
        target[:76],
        batch_size=32,
        epochs=20,
        validation_data=(feature_space(val), target[76:]),
        verbose=0,
    )
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert set(history.history) == {"accuracy", "loss", "val_accuracy", "val_loss"}

    sample = {
        "age": 60,
        "sex": 1,
        "cp": 1,
        "trestbps": 145,
        "chol": 233,
        "fbs": 1,
        "restecg": 2,
        "thalach": 150,
        "exang": 0,
        "oldpeak": 2.3,
        "slope": 3,
        "ca": 0,
        "thal": "fixed",
    }
    input_dict = {name: keras.ops.convert_to_tensor([value]) for name, value in sample.items()}
    predicted = inference_model.predict(input_dict, verbose=0)
    assert predicted.shape == (1, 1)
    # The end-to-end model equals encoding first and running the training model.
    direct = training_model.predict(feature_space(sample)[None], verbose=0)
    np.testing.assert_allclose(predicted, direct, rtol=1e-5)
    batch = inference_model.predict(val, verbose=0)
    np.testing.assert_allclose(
        batch, training_model.predict(feature_space(val), verbose=0), rtol=1e-5
    )


def _assert_same(a, b):
    if isinstance(a, dict):
        assert sorted(a) == sorted(b)
        for key in a:
            np.testing.assert_allclose(_np(a[key]), _np(b[key]), atol=1e-6, err_msg=key)
    else:
        np.testing.assert_allclose(_np(a), _np(b), atol=1e-6)


@pytest.mark.parametrize("tag", ["custom", "other"])
def test_keras_file_round_trip(ref, tag, tmp_path):
    space = SPACES[tag]()
    data = heart(ref, space.features)
    space.adapt(data)
    path = tmp_path / "fs.keras"
    space.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, FeatureSpace)
    _assert_same(loaded(data), space(data))
    assert loaded.get_config() == space.get_config()


def test_loads_keras_written_file(ref):
    loaded = keras.models.load_model(FIXTURES / "heart_fs.keras")
    assert isinstance(loaded, FeatureSpace)
    data = heart(ref)
    np.testing.assert_allclose(_np(loaded(data)), ref["custom"], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(_np(loaded({k: v[0] for k, v in data.items()})), ref["custom_one"])


class _Batches(keras.utils.PyDataset):
    def __init__(self, data, labels=False):
        super().__init__()
        self.data, self.labels = data, labels

    def __len__(self):
        return 3

    def __getitem__(self, index):
        batch = {k: v[index * 32 : (index + 1) * 32] for k, v in self.data.items()}
        return (batch, batch["sex"]) if self.labels else batch


def test_adapt_on_batches_and_samples(ref):
    data = heart(ref)
    expected = custom_space()
    expected.adapt(data)
    for source in (
        _Batches(data),  # a PyDataset of dict batches
        [{k: v[i : i + 32] for k, v in data.items()} for i in range(0, 96, 32)],
        ({k: v[i] for k, v in data.items()} for i in range(96)),  # unbatched samples
    ):
        space = custom_space()
        space.adapt(source)
        np.testing.assert_allclose(_np(space(data)), _np(expected(data)), atol=1e-6)


def test_bad_input_gives_clear_errors(ref):
    data = heart(ref)
    space = custom_space()
    with pytest.raises(ValueError, match="call `.adapt"):
        space(data)
    with pytest.raises(ValueError, match="yields tuples"):
        space.adapt(_Batches(data, labels=True))
    with pytest.raises(ValueError, match="can only be called on a dict"):
        space.adapt(np.zeros(3))
    with pytest.raises(ValueError, match="Invalid feature type"):
        FeatureSpace({"a": "floaty"})
    with pytest.raises(ValueError, match="unknown features"):
        FeatureSpace({"a": "float"}, crosses=[("a", "b")])
    with pytest.raises(ValueError, match="output_mode"):
        FeatureSpace({"a": "float"}, output_mode="list")
    with pytest.raises(ValueError, match="cannot be None or empty"):
        FeatureSpace({})
    space.adapt(data)
    with pytest.raises(ValueError, match="only be called with a dict"):
        space([1, 2])
    with pytest.raises(ValueError, match="missing"):
        space({"sex": data["sex"]})
    with pytest.raises(ValueError, match="has not been encoded"):
        bad = FeatureSpace({"ca": FeatureSpace.integer_categorical(output_mode="int")})
        bad.adapt({"ca": data["ca"]})
    with pytest.raises(ValueError, match="should return an integer dtype"):
        FeatureSpace({"x": FeatureSpace.feature("float32", keras.layers.Dense(2), "one_hot")})(
            {"x": np.zeros((2, 1), "float32")}
        )


def test_custom_feature_and_no_adapt_needed():
    # A custom preprocessor (feature()) and features with nothing to learn: usable at once.
    space = FeatureSpace(
        {
            "x": FeatureSpace.feature("float32", keras.layers.Lambda(lambda t: t * 2.0), "float"),
            "h": "string_hashed",
            "d": FeatureSpace.float_discretized(num_bins=None, bin_boundaries=[0.0, 1.0]),
        },
        hashing_dim=4,
    )
    inputs = space.get_inputs()
    assert sorted(inputs) == ["d", "h", "x"]
    out = _np(space({"x": np.array([1.5, 2.0]), "h": np.array(["a", "b"]), "d": [-1.0, 0.5]}))
    assert out.shape == (2, 3 + 4 + 1)
    np.testing.assert_array_equal(out[:, :3], [[1, 0, 0], [0, 1, 0]])  # d sorts first
    np.testing.assert_allclose(out[:, 7], [3.0, 4.0])


def test_keras_docstring_examples():
    expected = json.loads((FIXTURES / "docstring_examples.json").read_text())
    text = {"text": ["1st string", "2nd string", "3rd string"]}
    custom_layer = keras.layers.TextVectorization(output_mode="tf_idf")
    space = FeatureSpace(
        features={
            "text": FeatureSpace.feature(
                preprocessor=custom_layer, dtype="string", output_mode="float"
            )
        },
        output_mode="concat",
    )
    space.adapt(text)
    np.testing.assert_allclose(_np(space(text)), expected["tf_idf"], rtol=1e-6)
    data = {k: np.array(v) for k, v in expected["data"].items()}
    cats = {k: data[k] for k in ("string_values", "int_values")}
    space = FeatureSpace(
        features={
            "string_values": FeatureSpace.string_categorical(output_mode="int"),
            "int_values": FeatureSpace.integer_categorical(output_mode="int"),
        },
        crosses=[
            FeatureSpace.cross(
                feature_names=("string_values", "int_values"), crossing_dim=32, output_mode="int"
            )
        ],
        output_mode="dict",
    )
    space.adapt(cats)
    assert {k: _np(v).tolist() for k, v in space(cats).items()} == expected["int_dict"]
    space = FeatureSpace(
        features={
            "float_values": "float_normalized",
            "string_values": "string_categorical",
            "int_values": "integer_categorical",
        },
        crosses=[("string_values", "int_values")],
        output_mode="concat",
    )
    space.adapt(data)
    np.testing.assert_allclose(_np(space(data)), expected["concat"], rtol=1e-6, atol=1e-6)
