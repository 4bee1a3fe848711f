"""Keras 3's preprocessing layers: lookup and encoding, text, numeric, image and audio.

See ``docs/preprocessing.md``. Lookups, hashing and text processing run on the host (strings
never go to a GPU); numeric and image layers run on the array module of their inputs.
"""

from gpuk.layers.preprocessing.audio import MelSpectrogram, STFTSpectrogram
from gpuk.layers.preprocessing.base import PreprocessingLayer
from gpuk.layers.preprocessing.categorical import CategoryEncoding, HashedCrossing, Hashing
from gpuk.layers.preprocessing.feature_space import FeatureSpace  # keras.utils, not layers
from gpuk.layers.preprocessing.image_augment import AugMix, RandAugment
from gpuk.layers.preprocessing.image_color import (
    AutoContrast,
    RandomBrightness,
    RandomColorDegeneration,
    RandomColorJitter,
    RandomContrast,
    RandomGrayscale,
    RandomHue,
    RandomInvert,
    RandomPosterization,
    RandomSaturation,
    RandomSharpness,
    Solarization,
)
from gpuk.layers.preprocessing.image_geometry import (
    CenterCrop,
    RandomCrop,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
    Resizing,
)
from gpuk.layers.preprocessing.image_mix import (
    ContrastLimitedAdaptiveHistogramEqualization,
    CutMix,
    Equalization,
    MaxNumBoundingBoxes,
    MixUp,
    Pipeline,
    RandomErasing,
    RandomGaussianBlur,
)
from gpuk.layers.preprocessing.image_warp import (
    RandomElasticTransform,
    RandomPerspective,
    RandomShear,
)
from gpuk.layers.preprocessing.lookup import IntegerLookup, StringLookup
from gpuk.layers.preprocessing.numeric import Discretization, Normalization
from gpuk.layers.preprocessing.text import TextVectorization

__all__ = [
    "AugMix",
    "ContrastLimitedAdaptiveHistogramEqualization",
    "CutMix",
    "Equalization",
    "MaxNumBoundingBoxes",
    "MixUp",
    "Pipeline",
    "RandAugment",
    "RandomElasticTransform",
    "RandomErasing",
    "RandomGaussianBlur",
    "RandomPerspective",
    "MelSpectrogram",
    "STFTSpectrogram",
    "AutoContrast",
    "CenterCrop",
    "RandomBrightness",
    "RandomColorDegeneration",
    "RandomColorJitter",
    "RandomContrast",
    "RandomCrop",
    "RandomFlip",
    "RandomGrayscale",
    "RandomHue",
    "RandomInvert",
    "RandomPosterization",
    "RandomRotation",
    "RandomSaturation",
    "RandomSharpness",
    "RandomShear",
    "RandomTranslation",
    "RandomZoom",
    "Resizing",
    "Solarization",
    "CategoryEncoding",
    "Discretization",
    "HashedCrossing",
    "Hashing",
    "IntegerLookup",
    "Normalization",
    "PreprocessingLayer",
    "StringLookup",
    "TextVectorization",
]
