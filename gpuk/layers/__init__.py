"""Keras layers: ``from gpuk.layers import Input, Dense, GRU, Dropout, concatenate``."""

from gpuk import backend as _backend
from gpuk.layers.activation_layers import ELU, LeakyReLU, PReLU, ReLU, Softmax
from gpuk.layers.attention import MultiHeadAttention
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
from gpuk.layers.dot_attention import AdditiveAttention, Attention
from gpuk.layers.einsum_dense import EinsumDense
from gpuk.layers.grouped_query_attention import GroupedQueryAttention, GroupQueryAttention
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
from gpuk.layers.noise import (
    ActivityRegularization,
    AlphaDropout,
    GaussianDropout,
    GaussianNoise,
    Identity,
    Rescaling,
)
from gpuk.layers.normalization import (
    BatchNormalization,
    GroupNormalization,
    LayerNormalization,
    RMSNormalization,
    UnitNormalization,
)
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
from gpuk.layers.spectral_normalization import SpectralNormalization
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
):
    register_layer_class(_cls)
for _cls in (
    ELU,
    LeakyReLU,
    PReLU,
    ReLU,
    Softmax,
    MultiHeadAttention,
    AdditiveAttention,
    Attention,
    EinsumDense,
    ActivityRegularization,
    AlphaDropout,
    GaussianDropout,
    GaussianNoise,
    Identity,
    Rescaling,
    BatchNormalization,
    GroupNormalization,
    LayerNormalization,
    RMSNormalization,
    SpectralNormalization,
    UnitNormalization,
):
    register_layer_class(_cls)
register_layer_class(GroupedQueryAttention, "GroupQueryAttention")
del _cls
# gpuk.backend.clear_session() (Keras's K.clear_session) resets the layer-name counters too.
_backend._register_clear_session_hook(clear_session)

__all__ = [
    "ELU",
    "LeakyReLU",
    "PReLU",
    "ReLU",
    "Softmax",
    "MultiHeadAttention",
    "AdditiveAttention",
    "Attention",
    "EinsumDense",
    "GroupQueryAttention",
    "GroupedQueryAttention",
    "ActivityRegularization",
    "AlphaDropout",
    "GaussianDropout",
    "GaussianNoise",
    "Identity",
    "Rescaling",
    "BatchNormalization",
    "GroupNormalization",
    "LayerNormalization",
    "RMSNormalization",
    "SpectralNormalization",
    "UnitNormalization",
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
