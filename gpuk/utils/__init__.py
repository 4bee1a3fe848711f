"""Utilities with no dependencies inside gpuk: serialization registry, seeding, progress bar."""

from gpuk.utils.data import PyDataset, Sequence
from gpuk.utils.numerical import normalize, pad_sequences, to_categorical
from gpuk.utils.packing import pack_x_y_sample_weight, unpack_x_y_sample_weight
from gpuk.utils.progbar import Progbar
from gpuk.utils.random import set_random_seed
from gpuk.utils.serialization import (
    CustomObjectScope,
    custom_object_scope,
    deserialize_keras_object,
    get_custom_objects,
    get_registered_name,
    register_keras_serializable,
    serialize_keras_object,
)

__all__ = [
    "Progbar",
    "PyDataset",
    "Sequence",
    "CustomObjectScope",
    "custom_object_scope",
    "deserialize_keras_object",
    "get_custom_objects",
    "get_registered_name",
    "register_keras_serializable",
    "serialize_keras_object",
    "set_random_seed",
    "normalize",
    "pack_x_y_sample_weight",
    "unpack_x_y_sample_weight",
    "pad_sequences",
    "to_categorical",
]
