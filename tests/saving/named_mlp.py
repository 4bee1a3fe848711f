"""Shared by the saving tests: Keras fixture paths and a small Dense chain with chosen layer
names and seeded weights (the files are matched to it by name or by position)."""

import os

import numpy as np

from gpuk import layers, models

FIX = os.path.join(os.path.dirname(__file__), "..", "fixtures", "keras")


def fixture(*parts):
    """The path of a committed Keras fixture under tests/fixtures/keras."""
    return os.path.join(FIX, *parts)


def named_mlp(names=("d1", "d2"), units=(3, 2), inputs=4, seed=0):
    """``Input((inputs,))`` then one Dense per name, weights drawn from ``seed``."""
    x = first = layers.Input((inputs,))
    for name, n in zip(names, units):
        x = layers.Dense(n, name=name)(x)
    model = models.Model(first, x)
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(size=w.shape).astype("float32") for w in model.get_weights()])
    return model
