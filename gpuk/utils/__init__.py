"""Keras 3's ``keras.utils``: data sets from folders and arrays, images, ``get_file``,
``plot_model``, serialization registry, seeding, progress bar, and small helpers.

Everything here depends only on the lowest levels of gpuk (settings and arrays); questions
about models and symbolic tensors are answered through the layer graph they record.
"""

from gpuk.utils.array_datasets import split_dataset, timeseries_dataset_from_array
from gpuk.utils.config_object import Config
from gpuk.utils.data import PyDataset, Sequence
from gpuk.utils.directory_datasets import (
    audio_dataset_from_directory,
    image_dataset_from_directory,
    text_dataset_from_directory,
)
from gpuk.utils.dtypes import standardize_dtype
from gpuk.utils.file_utils import get_file
from gpuk.utils.image_utils import array_to_img, img_to_array, load_img, save_img
from gpuk.utils.logging import (
    disable_interactive_logging,
    enable_interactive_logging,
    is_interactive_logging_enabled,
)
from gpuk.utils.model_visualization import model_to_dot, plot_model
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
    get_registered_object,
    register_keras_serializable,
    serialize_keras_object,
)
from gpuk.utils.session import clear_session
from gpuk.utils.symbolic import get_source_inputs, is_keras_tensor

__all__ = [
    "Config",
    "CustomObjectScope",
    "Progbar",
    "PyDataset",
    "Sequence",
    "array_to_img",
    "audio_dataset_from_directory",
    "clear_session",
    "custom_object_scope",
    "deserialize_keras_object",
    "disable_interactive_logging",
    "enable_interactive_logging",
    "get_custom_objects",
    "get_file",
    "get_registered_name",
    "get_registered_object",
    "get_source_inputs",
    "image_dataset_from_directory",
    "img_to_array",
    "is_interactive_logging_enabled",
    "is_keras_tensor",
    "load_img",
    "model_to_dot",
    "normalize",
    "pack_x_y_sample_weight",
    "pad_sequences",
    "plot_model",
    "register_keras_serializable",
    "save_img",
    "serialize_keras_object",
    "set_random_seed",
    "split_dataset",
    "standardize_dtype",
    "text_dataset_from_directory",
    "timeseries_dataset_from_array",
    "to_categorical",
    "unpack_x_y_sample_weight",
]
