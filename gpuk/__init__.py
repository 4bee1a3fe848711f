"""gpuk: Keras's API on a small eager autodiff, GPU-first through CuPy, NumPy on any CPU.

``import gpuk as keras`` gives the Keras names a script uses.
"""

from gpuk import backend, config, layers, ops
from gpuk._version import __version__
from gpuk.autograd import GradientTape, Tensor, Variable, no_grad
from gpuk.layers import Input


def __getattr__(name):
    # Models load on first use: gpuk.models pulls in the training loop and its dependencies.
    if name in ("Model", "Sequential", "models", "saving"):
        import importlib

        # gpuk.saving attaches Model.save/save_weights/load_weights/to_json and
        # gpuk.models.load_model & co. (it sits above gpuk.models in the import levels).
        saving = importlib.import_module("gpuk.saving")
        models = importlib.import_module("gpuk.models")
        if name == "saving":
            return saving
        return models if name == "models" else getattr(models, name)
    raise AttributeError(f"module 'gpuk' has no attribute {name!r}")


__all__ = [
    "GradientTape",
    "Input",
    "Model",
    "Sequential",
    "Tensor",
    "Variable",
    "__version__",
    "backend",
    "config",
    "layers",
    "models",
    "no_grad",
    "ops",
    "saving",
]
