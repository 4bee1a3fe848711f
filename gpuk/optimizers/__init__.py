"""Optimizers with Keras 3's names, arguments, defaults, update math, configs and variables.

``gpuk.optimizers.get("adam")`` (any case), a config dict (Keras 3, tf.keras ``Custom>Adam`` or
Keras 2 ``lr``/``decay`` form) or an instance. ``schedules`` holds the learning-rate schedules.
Each rule is a small subclass of :class:`Optimizer` (see ``base.py`` for the order of operations
in one step and ``adam.py`` for the fused-kernel hook).
"""

import inspect

from gpuk.optimizers import experimental, legacy, schedules
from gpuk.optimizers.adadelta import Adadelta
from gpuk.optimizers.adafactor import Adafactor
from gpuk.optimizers.adagrad import Adagrad
from gpuk.optimizers.adam import Adam, adam_update
from gpuk.optimizers.adamax import Adamax
from gpuk.optimizers.adamw import AdamW
from gpuk.optimizers.base import Optimizer, clip_by_global_norm, global_norm
from gpuk.optimizers.ftrl import Ftrl
from gpuk.optimizers.lamb import Lamb
from gpuk.optimizers.lion import Lion
from gpuk.optimizers.loss_scale_optimizer import LossScaleOptimizer
from gpuk.optimizers.multi_optimizer import MultiOptimizer, OptimizerMap
from gpuk.optimizers.muon import Muon
from gpuk.optimizers.nadam import Nadam
from gpuk.optimizers.rmsprop import RMSprop
from gpuk.optimizers.schedule_free_adamw import ScheduleFreeAdamW
from gpuk.optimizers.sgd import SGD
from gpuk.utils.serialization import deserialize_keras_object, get_registered_name

__all__ = [
    "SGD",
    "Adadelta",
    "Adafactor",
    "Ftrl",
    "Lamb",
    "Lion",
    "LossScaleOptimizer",
    "MultiOptimizer",
    "Muon",
    "OptimizerMap",
    "ScheduleFreeAdamW",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "Nadam",
    "Optimizer",
    "RMSprop",
    "adam_update",
    "clip_by_global_norm",
    "deserialize",
    "experimental",
    "get",
    "global_norm",
    "legacy",
    "schedules",
    "serialize",
]

_CLASSES = (SGD, RMSprop, Adagrad, Adadelta, Adam, AdamW, Adamax, Nadam)
_CLASSES += (Adafactor, Ftrl, Lamb, Lion, Muon, ScheduleFreeAdamW, LossScaleOptimizer)
_CLASSES += (MultiOptimizer,)
# Keras 3 resolves built-in names case-insensitively through their lower-case spelling.
_BUILTINS = {cls.__name__.lower(): cls for cls in _CLASSES}


def serialize(optimizer):
    """Keras 3's form: ``{"module", "class_name", "config", "registered_name"}``."""
    cls = type(optimizer)
    builtin = _BUILTINS.get(cls.__name__.lower()) is cls
    return {
        "module": "keras.optimizers" if builtin else cls.__module__,
        "class_name": cls.__name__,
        "config": optimizer.get_config(),
        "registered_name": None if builtin else get_registered_name(cls),
    }


def deserialize(config, custom_objects=None):
    """An optimizer from a config dict (Keras 3, tf.keras or Keras 2 form).

    Built-in names are case-insensitive; tf.keras's ``"Custom>Adam"`` resolves to ``Adam`` when
    no user object of that name exists.

    Raises:
        ValueError: for unknown names (listing the known ones).
    """
    if isinstance(config, str):
        config = {"class_name": config, "config": {}}
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            f"Could not interpret optimizer config: {config!r} (expected a dict with "
            "'class_name' and 'config')"
        )
    config = dict(config)
    class_name = str(config["class_name"])
    if class_name.lower() in _BUILTINS:
        config["class_name"] = class_name.lower()
    elif ">" in class_name:
        from gpuk.utils.serialization import lookup_custom_object

        if (
            lookup_custom_object([config.get("registered_name"), class_name], custom_objects)
            is None
            and class_name.split(">")[-1].lower() in _BUILTINS
        ):
            config["class_name"] = class_name.split(">")[-1].lower()
            config["registered_name"] = None
    config["config"] = dict(config.get("config") or {})
    known = dict(_BUILTINS)
    known.update({cls.__name__: cls for cls in _CLASSES})
    try:
        return deserialize_keras_object(config, known, custom_objects, "optimizer")
    except ValueError as error:
        if str(error).startswith("Unknown optimizer"):
            raise ValueError(
                f"Unknown optimizer: {class_name!r}. Known: "
                f"{', '.join(sorted(_BUILTINS))}. Pass user objects with custom_objects="
            ) from None
        raise


def get(identifier):
    """Resolve an optimizer identifier.

    Args:
        identifier: an ``Optimizer`` instance (returned as it is), a name (``"adam"``,
            ``"Adam"``, ``"rmsprop"``, ...; created with its defaults), a config dict, an optimizer
            class, or None (returned as None).

    Raises:
        ValueError: for unknown names (listing the known ones) and other identifiers.
    """
    if identifier is None or isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, (str, dict)):
        obj = deserialize(identifier)
    elif inspect.isclass(identifier) and issubclass(identifier, Optimizer):
        obj = identifier()
    else:
        obj = identifier
    if isinstance(obj, Optimizer):
        return obj
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}")
