"""Keras 3's ``keras.preprocessing``: the data-set functions and the image and sequence helpers,
under the names older scripts import them by (``keras.preprocessing.image.load_img``,
``keras.preprocessing.sequence.pad_sequences``). The preprocessing *layers* are in
``gpuk.layers``."""

from gpuk.preprocessing import image, sequence
from gpuk.utils import (
    image_dataset_from_directory,
    text_dataset_from_directory,
    timeseries_dataset_from_array,
)

__all__ = [
    "image",
    "image_dataset_from_directory",
    "sequence",
    "text_dataset_from_directory",
    "timeseries_dataset_from_array",
]
