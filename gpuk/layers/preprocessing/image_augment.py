"""RandAugment and AugMix: compositions of the other image layers (Keras 3's arguments).

Both pick operations at random per call from the layer's seeded generator; the operations are
gpuk's own layers, so each one's transform is Keras's, while the random choices are gpuk's.
"""

from gpuk._array import get_array_module
from gpuk.layers.preprocessing.image_base import BaseImagePreprocessingLayer
from gpuk.layers.preprocessing.image_color import (
    AutoContrast,
    RandomBrightness,
    RandomColorDegeneration,
    RandomContrast,
    RandomPosterization,
    RandomSharpness,
    Solarization,
)
from gpuk.layers.preprocessing.image_geometry import RandomRotation, RandomTranslation
from gpuk.layers.preprocessing.image_mix import Equalization
from gpuk.layers.preprocessing.image_warp import RandomShear

__all__ = ["AugMix", "RandAugment"]


def _operations(factor, value_range, interpolation, seed, data_format, all_ops=True):
    low, high = factor
    magnitude = max(abs(low), abs(high))
    common = {"seed": seed, "data_format": data_format}
    ops = [
        AutoContrast(value_range=value_range, data_format=data_format),
        Equalization(value_range=value_range, data_format=data_format),
        Solarization(
            addition_factor=magnitude,
            threshold_factor=magnitude,
            value_range=value_range,
            seed=seed,
        ),
        RandomPosterization(
            factor=max(1, int(8 - 4 * magnitude)), value_range=value_range, **common
        ),
        RandomRotation(factor=magnitude, interpolation=interpolation, **common),
        RandomShear(magnitude, magnitude, interpolation=interpolation, **common),
        RandomTranslation(magnitude, magnitude, interpolation=interpolation, **common),
    ]
    if all_ops:
        ops += [
            RandomBrightness(factor=magnitude, value_range=value_range, seed=seed),
            RandomColorDegeneration(factor=magnitude, value_range=value_range, **common),
            RandomContrast(factor=magnitude, value_range=value_range, seed=seed),
            RandomSharpness(factor=magnitude, value_range=value_range, **common),
        ]
    return ops


def _run(op, images):
    transformation = op.get_random_transformation(images, training=True)
    return op.transform_images(images, transformation, training=True)


class RandAugment(BaseImagePreprocessingLayer):
    """Apply ``num_ops`` operations drawn at random, with magnitude ``factor``, in training."""

    _USE_BASE_FACTOR = False

    def __init__(
        self,
        value_range=(0, 255),
        num_ops=2,
        factor=0.5,
        interpolation="bilinear",
        seed=None,
        data_format=None,
        **kwargs,
    ):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self.value_range = value_range
        self.num_ops = num_ops
        self._FACTOR_BOUNDS = (0, 1)
        self._set_factor(factor)
        self.interpolation = interpolation
        self._ops = _operations(self.factor, value_range, interpolation, seed, self.data_format)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        return {"ops": self.rng.choice(len(self._ops), self.num_ops, replace=True).tolist()}

    def transform_images(self, images, transformation, training=True):
        if not training or transformation is None:
            return images
        xp = get_array_module(images)
        for index in transformation["ops"]:
            images = _run(self._ops[index], images)
        return xp.clip(images, self.value_range[0], self.value_range[1])

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "value_range": self.value_range,
                "num_ops": self.num_ops,
                "factor": self.factor,
                "interpolation": self.interpolation,
                "seed": self.seed,
                "data_format": self.data_format,
            }
        )
        return config


class AugMix(BaseImagePreprocessingLayer):
    """AugMix: ``num_chains`` chains of ``chain_depth`` random operations, mixed with
    Dirichlet(alpha) weights, then blended with the original by Beta(alpha, alpha)."""

    _USE_BASE_FACTOR = False

    def __init__(
        self,
        value_range=(0, 255),
        num_chains=3,
        chain_depth=3,
        factor=0.3,
        alpha=1.0,
        all_ops=True,
        interpolation="bilinear",
        seed=None,
        data_format=None,
        **kwargs,
    ):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self.value_range = value_range
        self.num_chains = num_chains
        self.chain_depth = chain_depth
        self._FACTOR_BOUNDS = (0, 1)
        self._set_factor(factor)
        self.alpha = alpha
        self.all_ops = all_ops
        self.interpolation = interpolation
        self._ops = _operations(
            self.factor, value_range, interpolation, seed, self.data_format, all_ops
        )

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        depth = (
            self.chain_depth
            if isinstance(self.chain_depth, int)
            else int(self.rng.integers(self.chain_depth[0], self.chain_depth[1] + 1))
        )
        return {
            "chain_mixing_weights": self.rng.dirichlet([self.alpha] * self.num_chains),
            "weight_sample": float(self.rng.beta(self.alpha, self.alpha)),
            "chains": [
                self.rng.choice(len(self._ops), depth).tolist() for _ in range(self.num_chains)
            ],
        }

    def transform_images(self, images, transformation, training=True):
        if not training or transformation is None:
            return images
        xp = get_array_module(images)
        mixed = xp.zeros_like(images)
        for weight, chain in zip(transformation["chain_mixing_weights"], transformation["chains"]):
            out = images
            for index in chain:
                out = _run(self._ops[index], out)
            mixed = mixed + float(weight) * out
        m = transformation["weight_sample"]
        out = m * images + (1.0 - m) * mixed
        return xp.clip(out, self.value_range[0], self.value_range[1]).astype(images.dtype)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "value_range": self.value_range,
                "num_chains": self.num_chains,
                "chain_depth": self.chain_depth,
                "factor": self.factor,
                "alpha": self.alpha,
                "all_ops": self.all_ops,
                "interpolation": self.interpolation,
                "seed": self.seed,
                "data_format": self.data_format,
            }
        )
        return config
