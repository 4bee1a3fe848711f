"""Models: ``Model`` (functional or subclassed) and ``Sequential``, and Keras's
``keras.models`` functions (``load_model``, ``save_model``, ``model_from_json``,
``clone_model``), which live in :mod:`gpuk.saving`."""

from gpuk.models.functional import Functional, Model
from gpuk.models.sequential import Sequential
from gpuk.saving.saving_api import (
    clone_model,
    load_model,
    model_from_config,
    model_from_json,
    save_model,
)

__all__ = [
    "Functional",
    "Model",
    "Sequential",
    "clone_model",
    "load_model",
    "model_from_json",
    "save_model",
]
