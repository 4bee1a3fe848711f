"""``LossScaleOptimizer``: dynamic loss scaling around another optimizer (Keras 3's rules).

The loss is multiplied by ``dynamic_scale`` before differentiation (``scale_loss``); ``apply``
divides the gradients by it. Finite gradients go to the inner optimizer and, after
``dynamic_growth_steps`` such steps in a row, the scale doubles; a step with any non-finite
gradient is skipped and halves the scale. Deciding to skip reads one boolean from the device
per step (the only host synchronisation it adds).
"""

import numpy as np

from gpuk._array import get_array_module
from gpuk.autograd import as_array, no_grad
from gpuk.optimizers.base import Optimizer
from gpuk.optimizers.serialization import deserialize, serialize

_BASE_DEFAULTS = {
    "weight_decay": None,
    "clipnorm": None,
    "global_clipnorm": None,
    "clipvalue": None,
    "use_ema": False,
    "ema_momentum": 0.99,
    "ema_overwrite_frequency": None,
    "loss_scale_factor": None,
    "gradient_accumulation_steps": None,
}


class LossScaleOptimizer(Optimizer):
    """Dynamically scale the loss to keep float16 gradients from underflowing.

    Args:
        inner_optimizer: the ``Optimizer`` that applies the unscaled gradients.
        initial_scale: 2**15, the first loss scale.
        dynamic_growth_steps: 2000; after that many finite steps in a row the scale doubles.
        name: the optimizer name.
        **kwargs: the base arguments are rejected (set them on ``inner_optimizer``);
            ``dynamic=False`` is rejected as in Keras 3.
    """

    def __init__(
        self, inner_optimizer, initial_scale=2.0**15, dynamic_growth_steps=2000, name=None, **kwargs
    ):
        if not kwargs.pop("dynamic", True):
            raise ValueError(
                "LossScaleOptimizer no longer supports `dynamic=False`. Instead, simply set "
                "`loss_scale_factor` directly on the `inner_optimizer`."
            )
        for arg, default in _BASE_DEFAULTS.items():
            if arg in kwargs and kwargs.pop(arg) != default:
                raise ValueError(
                    f"LossScaleOptimizer does not support `{arg}`. Instead, set `{arg}` on the "
                    "`inner_optimizer`."
                )
        if kwargs:
            raise ValueError(
                f"LossScaleOptimizer does not support arguments: `{'`, `'.join(kwargs)}`."
            )
        if not isinstance(inner_optimizer, Optimizer):
            raise TypeError(
                "LossScaleOptimizer: `inner_optimizer` must be an Optimizer instance. "
                f"Received: inner_optimizer={inner_optimizer!r}"
            )
        super().__init__(learning_rate=0.0, name=name)
        self.inner_optimizer = inner_optimizer
        self.initial_scale = initial_scale
        self.dynamic_growth_steps = dynamic_growth_steps
        self.inner_optimizer.loss_scale_factor = None

    def build(self, variables):
        if self.built:
            return
        variables = list(variables)
        self.step_counter = self.add_variable(
            (), initializer="zeros", dtype="int32", name="step_counter"
        )
        self.dynamic_scale = self.add_variable(
            (), initializer=float(self.initial_scale), dtype="float32", name="dynamic_scale"
        )
        self.inner_optimizer.build(variables)
        self.inner_optimizer.built = True
        super().build(variables)

    @property
    def variables(self):
        """Own variables (iteration, learning_rate, step_counter, dynamic_scale), then the
        inner optimizer's."""
        return list(self._variables) + self.inner_optimizer.variables

    def check_finite(self, grads):
        """Whether every gradient is finite (a Python bool: one device read)."""
        grads = [g for g in grads if g is not None]
        if not grads:
            return True
        xp = get_array_module(*grads)
        return bool(xp.all(xp.stack([xp.all(xp.isfinite(g)) for g in grads])))

    def apply(self, grads, trainable_variables=None):
        grads = list(grads)
        if trainable_variables is not None:
            trainable_variables = list(trainable_variables)
        if not self.built:
            if trainable_variables is None:
                raise ValueError(
                    "When passing `grads` without `variables`, the optimizer must already be "
                    "built on a list of variables. Call `optimizer.build(trainable_variables)` "
                    "first."
                )
            self.build(trainable_variables)
        variables = trainable_variables or self._trainable_variables
        arrays = [None if g is None else as_array(g, like=v.data) for g, v in zip(grads, variables)]
        with no_grad():
            if self.check_finite(arrays):
                scale = float(self.dynamic_scale.data)
                unscaled = [None if g is None else g / g.dtype.type(scale) for g in arrays]
                self.inner_optimizer.apply(unscaled, trainable_variables)
                if int(self.step_counter.data) == self.dynamic_growth_steps - 1:
                    self._set(0, scale * 2.0)
                else:
                    self._set(int(self.step_counter.data) + 1, scale)
            else:
                self._set(0, float(self.dynamic_scale.data) * 0.5)

    def _set(self, counter, scale):
        self.step_counter.data = np.asarray(counter, dtype=np.int32)
        self.dynamic_scale.data = np.asarray(scale, dtype=np.float32)

    @property
    def learning_rate(self):
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        self.inner_optimizer.learning_rate = value

    @property
    def iterations(self):
        return self.inner_optimizer.iterations

    def _step_count(self):
        return self.inner_optimizer._step_count()

    def scale_loss(self, loss):
        """``loss * dynamic_scale`` (``initial_scale`` before the first step)."""
        scale = float(self.dynamic_scale.data) if self.built else float(self.initial_scale)
        return loss * scale

    def finalize_variable_values(self, var_list):
        self.inner_optimizer.finalize_variable_values(var_list)

    def get_config(self):
        return {
            "name": self.name,
            "inner_optimizer": serialize(self.inner_optimizer),
            "initial_scale": self.initial_scale,
            "dynamic_growth_steps": self.dynamic_growth_steps,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        inner = deserialize(config.pop("inner_optimizer"), custom_objects=custom_objects)
        return cls(inner, **config)
