"""gpuk: Keras's API on a small eager autodiff, GPU-first through CuPy, NumPy on any CPU.

``import gpuk as keras`` gives the Keras names a script uses: ``keras.Input``,
``keras.Model``, ``keras.layers``, ``keras.optimizers``, ``keras.callbacks`` ...
"""

# Issue 17: dtype policies and mixed precision.
from gpuk import (  # noqa: E402
    activations,
    backend,
    callbacks,
    config,
    constraints,
    dtype_policies,
    initializers,
    layers,
    losses,
    metrics,
    mixed_precision,
    models,
    ops,
    optimizers,
    preprocessing,
    random,
    regularizers,
    saving,
    utils,
)
from gpuk._version import __version__
from gpuk.autograd import GradientTape, Tensor, Variable, no_grad
from gpuk.dtype_policies import DTypePolicy, FloatDTypePolicy  # noqa: E402
from gpuk.layers import Input, Layer
from gpuk.models import Model, Sequential

# keras.utils.FeatureSpace is a layer; gpuk.utils (level 2) cannot import layers (level 5).
utils.FeatureSpace = layers.preprocessing.FeatureSpace

__all__ = [
    "GradientTape",
    "Input",
    "Layer",
    "Model",
    "Sequential",
    "Tensor",
    "Variable",
    "__version__",
    "activations",
    "backend",
    "callbacks",
    "config",
    "constraints",
    "initializers",
    "layers",
    "losses",
    "metrics",
    "models",
    "no_grad",
    "ops",
    "optimizers",
    "preprocessing",
    "random",
    "regularizers",
    "saving",
    "utils",
]
__all__ += ["DTypePolicy", "FloatDTypePolicy", "dtype_policies", "mixed_precision"]
