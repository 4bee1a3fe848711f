"""Keras layers: ``from gpuk.layers import Input, Dense, GRU, Dropout, concatenate``."""

from gpuk.layers import preprocessing as _preprocessing
from gpuk.layers.activation_layers import ELU, LeakyReLU, PReLU, ReLU, Softmax
from gpuk.layers.attention import MultiHeadAttention
from gpuk.layers.base import InputSpec, KerasTensor, Layer, clear_session
from gpuk.layers.conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from gpuk.layers.convolutional import (
    Conv1D,
    Conv1DTranspose,
    Conv2D,
    Conv2DTranspose,
    Conv3D,
    Conv3DTranspose,
)
from gpuk.layers.convolutional_depthwise import (
    DepthwiseConv1D,
    DepthwiseConv2D,
    SeparableConv1D,
    SeparableConv2D,
)
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
from gpuk.layers.op_layer import install as _install_symbolic_ops
from gpuk.layers.pooling import (
    AdaptiveAveragePooling1D,
    AdaptiveAveragePooling2D,
    AdaptiveAveragePooling3D,
    AdaptiveMaxPooling1D,
    AdaptiveMaxPooling2D,
    AdaptiveMaxPooling3D,
    AveragePooling1D,
    AveragePooling2D,
    AveragePooling3D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAveragePooling3D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    GlobalMaxPooling3D,
    MaxPooling1D,
    MaxPooling2D,
    MaxPooling3D,
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
from gpuk.layers.reshaping import (
    Cropping1D,
    Cropping2D,
    Cropping3D,
    SpatialDropout1D,
    SpatialDropout2D,
    SpatialDropout3D,
    UpSampling1D,
    UpSampling2D,
    UpSampling3D,
    ZeroPadding1D,
    ZeroPadding2D,
    ZeroPadding3D,
)
from gpuk.layers.reversible_embedding import ReversibleEmbedding
from gpuk.layers.rnn import RNN, StackedRNNCells
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
    *[globals()[_n] for _n in _preprocessing.__all__ if _n != "PreprocessingLayer"],
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

# Convolution, pooling and spatial reshaping layers (docs/layers-conv.md), with the aliases
# Keras exports (the same classes under a second name, as in Keras).
_CONV_ALIASES = {
    Conv1D: ("Convolution1D",),
    Conv2D: ("Convolution2D",),
    Conv3D: ("Convolution3D",),
    Conv1DTranspose: ("Convolution1DTranspose",),
    Conv2DTranspose: ("Convolution2DTranspose", "Deconvolution2D"),
    Conv3DTranspose: ("Convolution3DTranspose", "Deconvolution3D"),
    SeparableConv1D: ("SeparableConvolution1D",),
    SeparableConv2D: ("SeparableConvolution2D",),
    DepthwiseConv1D: (),
    DepthwiseConv2D: (),
    MaxPooling1D: ("MaxPool1D",),
    MaxPooling2D: ("MaxPool2D",),
    MaxPooling3D: ("MaxPool3D",),
    AveragePooling1D: ("AvgPool1D",),
    AveragePooling2D: ("AvgPool2D",),
    AveragePooling3D: ("AvgPool3D",),
    GlobalMaxPooling1D: ("GlobalMaxPool1D",),
    GlobalMaxPooling2D: ("GlobalMaxPool2D",),
    GlobalMaxPooling3D: ("GlobalMaxPool3D",),
    GlobalAveragePooling1D: ("GlobalAvgPool1D",),
    GlobalAveragePooling2D: ("GlobalAvgPool2D",),
    GlobalAveragePooling3D: ("GlobalAvgPool3D",),
    AdaptiveAveragePooling1D: (),
    AdaptiveAveragePooling2D: (),
    AdaptiveAveragePooling3D: (),
    AdaptiveMaxPooling1D: (),
    AdaptiveMaxPooling2D: (),
    AdaptiveMaxPooling3D: (),
    ZeroPadding1D: (),
    ZeroPadding2D: (),
    ZeroPadding3D: (),
    Cropping1D: (),
    Cropping2D: (),
    Cropping3D: (),
    UpSampling1D: (),
    UpSampling2D: (),
    UpSampling3D: (),
    SpatialDropout1D: (),
    SpatialDropout2D: (),
    SpatialDropout3D: (),
    ConvLSTM1D: (),
    ConvLSTM2D: (),
    ConvLSTM3D: (),
}
for _cls, _aliases in _CONV_ALIASES.items():
    register_layer_class(_cls, *_aliases)
del _cls, _aliases
Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution3D = Conv3D
Convolution1DTranspose = Conv1DTranspose
Convolution2DTranspose = Conv2DTranspose
Convolution3DTranspose = Conv3DTranspose
SeparableConvolution1D = SeparableConv1D
SeparableConvolution2D = SeparableConv2D
MaxPool1D = MaxPooling1D
MaxPool2D = MaxPooling2D
MaxPool3D = MaxPooling3D
AvgPool1D = AveragePooling1D
AvgPool2D = AveragePooling2D
AvgPool3D = AveragePooling3D
GlobalMaxPool1D = GlobalMaxPooling1D
GlobalMaxPool2D = GlobalMaxPooling2D
GlobalMaxPool3D = GlobalMaxPooling3D
GlobalAvgPool1D = GlobalAveragePooling1D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalAvgPool3D = GlobalAveragePooling3D

__all__ = [
    *(_cls.__name__ for _cls in _CONV_ALIASES),
    *(_alias for _names in _CONV_ALIASES.values() for _alias in _names if _alias in globals()),
    "ReversibleEmbedding",
    "RNN",
    "StackedRNNCells",
    *[_n for _n in _preprocessing.__all__ if _n != "PreprocessingLayer"],
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

_install_symbolic_ops()
