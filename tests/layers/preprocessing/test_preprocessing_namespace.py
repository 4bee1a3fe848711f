"""gpuk's preprocessing layers against Keras 3.15's list, plus behaviour shared by all of them:
config round trips, training=False identity, seeded reproducibility."""

import json
import os

import numpy as np
import pytest

import gpuk
from gpuk import layers as L

HERE = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "keras", "preprocessing")
with open(os.path.join(HERE, "names.json")) as _f:
    KERAS_NAMES = json.load(_f)["names"]

# Rescaling is delivered with the normalization layers (another change); counted when present.
NOT_HERE = {"Rescaling"}


def test_coverage_of_keras_preprocessing_names():
    missing = [n for n in KERAS_NAMES if not hasattr(L, n)]
    coverage = 1 - len(missing) / len(KERAS_NAMES)
    print(f"preprocessing coverage {coverage:.1%}; missing: {missing}")
    assert set(missing) <= NOT_HERE, missing
    assert coverage >= 0.95


def _build(name):
    cls = getattr(L, name)
    special = {
        "CategoryEncoding": {"num_tokens": 4},
        "Hashing": {"num_bins": 4},
        "HashedCrossing": {"num_bins": 4},
        "Discretization": {"bin_boundaries": [0.0, 1.0]},
        "Resizing": {"height": 4, "width": 4},
        "CenterCrop": {"height": 4, "width": 4},
        "RandomCrop": {"height": 4, "width": 4, "seed": 1},
        "RandomRotation": {"factor": 0.2, "seed": 1},
        "RandomZoom": {"height_factor": 0.2, "seed": 1},
        "RandomTranslation": {"height_factor": 0.2, "width_factor": 0.1, "seed": 1},
        "RandomContrast": {"factor": 0.3, "seed": 1},
        "RandomBrightness": {"factor": 0.3, "seed": 1},
        "RandomSaturation": {"factor": 0.3, "seed": 1},
        "RandomHue": {"factor": 0.3, "seed": 1},
        "RandomSharpness": {"factor": 0.3, "seed": 1},
        "RandomColorDegeneration": {"factor": 0.3, "seed": 1},
        "RandomPosterization": {"factor": 3, "seed": 1},
        "MaxNumBoundingBoxes": {"max_number": 2},
        "Pipeline": {"layers": [L.RandomFlip(seed=1)]},
        "StringLookup": {"vocabulary": ["a", "b"]},
        "IntegerLookup": {"vocabulary": [3, 4]},
        "TextVectorization": {"vocabulary": ["a", "b"]},
    }
    kwargs = special.get(name, {})
    if "seed" not in kwargs and "seed" in cls.__init__.__code__.co_varnames:
        kwargs["seed"] = 1
    return cls(**kwargs)


NAMES = [n for n in KERAS_NAMES if hasattr(L, n) and n not in NOT_HERE]


@pytest.mark.parametrize("name", NAMES)
def test_config_round_trip(name):
    layer = _build(name)
    config = layer.get_config()
    json.dumps(config, default=str)
    again = type(layer).from_config(config)
    assert type(again) is type(layer)
    assert (
        gpuk.layers.deserialize(gpuk.layers.serialize(layer)).get_config().keys() == config.keys()
    )


IMAGE_RANDOM = [
    n for n in NAMES if n.startswith("Random") or n in ("MixUp", "CutMix", "AugMix", "RandAugment")
]


@pytest.mark.parametrize("name", IMAGE_RANDOM)
def test_random_image_layers_identity_outside_training_and_seeded(name):
    img = (np.random.default_rng(0).random((2, 8, 8, 3)) * 255).astype("float32")
    np.testing.assert_array_equal(_build(name)(img, training=False).numpy(), img)
    a, b = _build(name)(img).numpy(), _build(name)(img).numpy()
    np.testing.assert_array_equal(a, b)


def test_set_random_seed_reproduces_unseeded_layers():
    img = (np.random.default_rng(0).random((2, 8, 8, 3)) * 255).astype("float32")
    outs = []
    for _ in range(2):
        gpuk.utils.set_random_seed(7)
        outs.append(L.RandomRotation(0.3)(img).numpy())
    np.testing.assert_array_equal(outs[0], outs[1])
    assert not np.array_equal(L.RandomRotation(0.3)(img).numpy(), outs[0])


def test_augmentation_in_fit_and_not_in_predict():
    gpuk.utils.set_random_seed(0)
    inputs = gpuk.Input((8, 8, 3))
    x = L.RandomFlip()(inputs)
    x = L.RandomRotation(0.1)(x)
    x = L.Resizing(4, 4)(x)
    out = L.Dense(1)(L.Flatten()(x))
    model = gpuk.Model(inputs, out)
    model.compile("sgd", "mse")
    data = np.random.default_rng(0).random((8, 8, 8, 3)).astype("float32")
    model.fit(data, np.zeros((8, 1)), epochs=1, batch_size=4, verbose=0)
    p1, p2 = model.predict(data, verbose=0), model.predict(data, verbose=0)
    np.testing.assert_array_equal(p1, p2)


def _keras_configs():
    out = {}
    for backend in ("jax", "tensorflow"):
        with open(os.path.join(HERE, f"configs_{backend}.json")) as f:
            out.update(json.load(f))
    return out


KERAS_CONFIGS = _keras_configs()


@pytest.mark.parametrize("name", [n for n in sorted(KERAS_CONFIGS) if n not in NOT_HERE])
def test_keras_configs_load_with_the_same_keys(name):
    config = KERAS_CONFIGS[name]
    layer = gpuk.layers.deserialize(config)
    assert type(layer).__name__ == name
    assert set(layer.get_config()) == set(config["config"])
