"""Keras layers: ``from gpuk.layers import Input, Dense, GRU, Dropout, concatenate``."""

from gpuk import backend as _backend
from gpuk.layers import preprocessing as _preprocessing
from gpuk.layers.base import InputSpec, KerasTensor, Layer, clear_session
from gpuk.layers.core import (
    Activation,
    Dense,
    Dropout,
    Embedding,
    Flatten,
    Lambda,
    Masking,
    Permute,
    RepeatVector,
    Reshape,
)
from gpuk.layers.input_layer import Input, InputLayer
from gpuk.layers.merging import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Merge,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)
from gpuk.layers.preprocessing import *  # noqa: F403  (the names in its __all__)
from gpuk.layers.recurrent import (
    GRU,
    LSTM,
    GRUCell,
    LSTMCell,
    SimpleRNN,
    SimpleRNNCell,
)
from gpuk.layers.recurrent_bidirectional import Bidirectional
from gpuk.layers.serialization import deserialize, get, register_layer_class, serialize
from gpuk.layers.wrappers import TimeDistributed, Wrapper

for _cls in (
    Layer,
    InputLayer,
    Dense,
    Activation,
    Dropout,
    Flatten,
    Reshape,
    Permute,
    RepeatVector,
    Lambda,
    Masking,
    Embedding,
    TimeDistributed,
    Concatenate,
    Add,
    Subtract,
    Multiply,
    Average,
    Maximum,
    Minimum,
    Dot,
    *[globals()[_n] for _n in _preprocessing.__all__ if _n != "PreprocessingLayer"],
):
    register_layer_class(_cls)
del _cls
# gpuk.backend.clear_session() (Keras's K.clear_session) resets the layer-name counters too.
_backend._register_clear_session_hook(clear_session)

__all__ = [
    *[_n for _n in _preprocessing.__all__ if _n != "PreprocessingLayer"],
    "Bidirectional",
    "GRU",
    "GRUCell",
    "LSTM",
    "LSTMCell",
    "SimpleRNN",
    "SimpleRNNCell",
    "Activation",
    "Add",
    "Average",
    "Concatenate",
    "Dense",
    "Dot",
    "Dropout",
    "Embedding",
    "Flatten",
    "Input",
    "InputLayer",
    "InputSpec",
    "KerasTensor",
    "Lambda",
    "Layer",
    "Masking",
    "Maximum",
    "Merge",
    "Minimum",
    "Multiply",
    "Permute",
    "RepeatVector",
    "Reshape",
    "Subtract",
    "TimeDistributed",
    "Wrapper",
    "add",
    "average",
    "clear_session",
    "concatenate",
    "deserialize",
    "dot",
    "get",
    "maximum",
    "minimum",
    "multiply",
    "register_layer_class",
    "serialize",
    "subtract",
]
