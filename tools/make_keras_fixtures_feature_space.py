"""Keras 3.15 FeatureSpace fixtures (run with /work/tfvenv: Keras's lookups need TensorFlow).

    KERAS_BACKEND=tensorflow /work/tfvenv/bin/python tools/make_keras_fixtures_feature_space.py

Writes tests/fixtures/keras/feature_space/: heart.npz (synthetic heart-disease columns and
the encoded outputs of the keras-io example's two FeatureSpaces), configs.json and
heart_fs.keras (a saved adapted FeatureSpace).
"""

import json
import os

import keras
import numpy as np
from keras.utils import FeatureSpace

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "keras", "feature_space")


def heart_data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "sex": rng.integers(0, 2, n).astype("int64"),
        "cp": rng.integers(0, 5, n).astype("int64"),
        "fbs": rng.integers(0, 2, n).astype("int64"),
        "restecg": rng.integers(0, 3, n).astype("int64"),
        "exang": rng.integers(0, 2, n).astype("int64"),
        "ca": rng.integers(0, 4, n).astype("int64"),
        "thal": rng.choice(np.array(["normal", "fixed", "reversible", "1", "2"]), n),
        "age": rng.integers(29, 78, n).astype("float32"),
        "trestbps": rng.normal(131, 17, n).round().astype("float32"),
        "chol": rng.normal(246, 51, n).round().astype("float32"),
        "thalach": rng.normal(150, 23, n).round().astype("float32"),
        "oldpeak": rng.exponential(1.0, n).round(1).astype("float32"),
        "slope": rng.integers(1, 4, n).astype("float32"),
    }


def simple_space():
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
    """The remaining feature types: float, float_rescaled, hashed, int output modes."""
    return FeatureSpace(
        features={
            "age": FeatureSpace.float(),
            "chol": FeatureSpace.float_rescaled(scale=0.01, offset=-1.0),
            "thal": FeatureSpace.string_hashed(num_bins=8),
            "cp": FeatureSpace.integer_hashed(num_bins=4),
            "ca": FeatureSpace.integer_categorical(output_mode="int"),
            # (Keras 3.15 cannot adapt a float_discretized with bin_boundaries.)
            "oldpeak": FeatureSpace.float_discretized(num_bins=3, output_mode="int"),
        },
        crosses=[FeatureSpace.cross(("thal", "cp"), crossing_dim=8, output_mode="int")],
        output_mode="dict",
    )


def docstring_examples():
    """The examples of Keras's FeatureSpace docstring: TF-IDF text, int dict, default concat."""
    out = {}
    text = {"text": ["1st string", "2nd string", "3rd string"]}
    space = FeatureSpace(
        features={
            "text": FeatureSpace.feature(
                preprocessor=keras.layers.TextVectorization(output_mode="tf_idf"),
                dtype="string",
                output_mode="float",
            )
        },
        output_mode="concat",
    )
    space.adapt(text)
    out["tf_idf"] = np.asarray(space(text)).tolist()
    data = {
        "string_values": np.array(["a", "b", "a", "c"]),
        "int_values": np.array([1, 2, 3, 1]),
        "float_values": np.array([0.5, 1.5, 2.5, -1.0]),
    }
    cats = {k: data[k] for k in ("string_values", "int_values")}
    space = FeatureSpace(
        features={
            "string_values": FeatureSpace.string_categorical(output_mode="int"),
            "int_values": FeatureSpace.integer_categorical(output_mode="int"),
        },
        crosses=[FeatureSpace.cross(("string_values", "int_values"), 32, output_mode="int")],
        output_mode="dict",
    )
    space.adapt(cats)
    out["int_dict"] = {k: np.asarray(v).tolist() for k, v in space(cats).items()}
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
    out["concat"] = np.asarray(space(data)).tolist()
    out["data"] = {k: v.tolist() for k, v in data.items()}
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    data = heart_data()
    arrays = {f"data_{k}": v for k, v in data.items()}
    configs = {}
    for tag, space in (
        ("simple", simple_space()),
        ("custom", custom_space()),
        ("custom_dict", custom_space("dict")),
        ("other", other_space()),
    ):
        data = {k: v for k, v in heart_data().items() if k in space.features}
        space.adapt(data)
        out = space(data)
        if isinstance(out, dict):
            for k, v in out.items():
                arrays[f"{tag}__{k}"] = np.asarray(v)
        else:
            arrays[f"{tag}"] = np.asarray(out)
        one = space({k: v[0] for k, v in data.items()})
        if isinstance(one, dict):
            for k, v in one.items():
                arrays[f"{tag}_one__{k}"] = np.asarray(v)
        else:
            arrays[f"{tag}_one"] = np.asarray(one)
        configs[tag] = space.get_config()
        if tag == "custom":
            space.save(os.path.join(OUT, "heart_fs.keras"))
    np.savez_compressed(os.path.join(OUT, "heart.npz"), **arrays)
    with open(os.path.join(OUT, "docstring_examples.json"), "w") as f:
        json.dump(docstring_examples(), f)
    with open(os.path.join(OUT, "configs.json"), "w") as f:
        json.dump({k: configs[k] for k in ("custom", "other")}, f, default=str)
    try:
        space = simple_space()
        space.adapt((dict(heart_data()), 0) for _ in range(1))
    except Exception as e:  # noqa: BLE001
        print("tuple adapt:", type(e).__name__, str(e)[:200])
    print(keras.__version__, sorted(arrays)[:5], len(arrays))


if __name__ == "__main__":
    main()
