"""Keras 3's ``keras.mixed_precision``: dtype policies and the loss-scale optimizer.

``gpuk.mixed_precision.set_global_policy("mixed_float16")`` makes layers created afterwards
keep float32 variables and compute in float16; ``Model.compile`` then wraps the optimizer in
a :class:`LossScaleOptimizer` (dynamic loss scaling), as Keras does. See
``docs/mixed-precision.md``.
"""

from gpuk.dtype_policies import DTypePolicy, global_policy, set_global_policy
from gpuk.optimizers.loss_scale_optimizer import LossScaleOptimizer

Policy = DTypePolicy
dtype_policy = global_policy
set_dtype_policy = set_global_policy

__all__ = [
    "DTypePolicy",
    "LossScaleOptimizer",
    "Policy",
    "dtype_policy",
    "global_policy",
    "set_dtype_policy",
    "set_global_policy",
]
