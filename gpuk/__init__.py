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
    distribution,
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
from gpuk.initializers import Initializer
from gpuk.layers import Input, InputSpec, KerasTensor, Layer
from gpuk.losses import Loss
from gpuk.metrics import Metric
from gpuk.models import Model, Sequential
from gpuk.optimizers import Optimizer
from gpuk.regularizers import Regularizer
from gpuk.scopes import device, name_scope


def version():
    """gpuk's version string (Keras's ``keras.version()``)."""
    return __version__


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
__all__ += [
    "Initializer",
    "InputSpec",
    "KerasTensor",
    "Loss",
    "Metric",
    "Optimizer",
    "Regularizer",
    "device",
    "distribution",
    "name_scope",
    "version",
]
