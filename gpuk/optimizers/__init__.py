"""Optimizers with Keras 3's names, arguments, defaults, update math, configs and variables.

``gpuk.optimizers.get("adam")`` (any case), a config dict (Keras 3, tf.keras ``Custom>Adam`` or
Keras 2 ``lr``/``decay`` form) or an instance. ``schedules`` holds the learning-rate schedules.
Each rule is a small subclass of :class:`Optimizer` (see ``base.py`` for the order of operations
in one step and ``adam.py`` for the fused-kernel hook).
"""

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
from gpuk.optimizers.serialization import (
    deserialize,
    get,
    register_builtin_classes,
    serialize,
)
from gpuk.optimizers.sgd import SGD

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

register_builtin_classes(SGD, RMSprop, Adagrad, Adadelta, Adam, AdamW, Adamax, Nadam)
register_builtin_classes(Adafactor, Ftrl, Lamb, Lion, Muon, ScheduleFreeAdamW, LossScaleOptimizer)
register_builtin_classes(MultiOptimizer)
