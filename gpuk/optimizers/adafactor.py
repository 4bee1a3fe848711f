"""Adafactor (Shazeer & Stern, 2018), Keras 3's update: factored second moments."""

import numpy as np

from gpuk._array import get_array_module
from gpuk.optimizers.base import Optimizer


class Adafactor(Optimizer):
    """Adam-like updates with second moments factored into row and column averages.

    For a variable of rank >= 2 it keeps ``r`` (the mean of the squared gradient over the last
    axis) and ``c`` (over the second-to-last axis) and rebuilds ``v`` from them; for rank < 2 a
    full ``velocity``. The step is ``alpha_t * u / max(1, rms(u) / clip_threshold)`` with
    ``u = g / sqrt(v)`` and ``alpha_t = max(epsilon_2, rms(variable)) * min(lr, 1/sqrt(t))``.

    Args:
        learning_rate: 0.001.
        beta_2_decay: -0.8; the second-moment decay is ``1 - t ** beta_2_decay``.
        epsilon_1: 1e-30, added to the squared gradient.
        epsilon_2: 1e-3, the smallest scale of the step.
        clip_threshold: 1.0.
        relative_step: True: cap the learning rate at ``1 / sqrt(t)`` (not for schedules).
        **kwargs: the base ``Optimizer`` arguments.
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_2_decay=-0.8,
        epsilon_1=1e-30,
        epsilon_2=1e-3,
        clip_threshold=1.0,
        relative_step=True,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_2_decay = beta_2_decay
        self.epsilon_1 = epsilon_1
        self.epsilon_2 = epsilon_2
        self.clip_threshold = clip_threshold
        self.relative_step = relative_step

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._r, self._c, self._v = [], [], []
        for variable in variables:
            data = variable.data
            name = getattr(variable, "name", None) or "variable"
            if data.ndim < 2:
                # Keras keeps two (unused) int32 scalars per low-rank variable; kept for files.
                for store in (self._r, self._c):
                    store.append(self.add_variable((), dtype="int32", name=name, reference=data))
            else:
                shape = data.shape
                self._r.append(
                    self.add_variable(shape[:-1], dtype=data.dtype, name=name, reference=data)
                )
                self._c.append(
                    self.add_variable(
                        shape[:-2] + shape[-1:], dtype=data.dtype, name=name, reference=data
                    )
                )
            self._v.append(self.add_variable_from_reference(variable, name="velocity"))

    def update_step(self, gradient, variable, learning_rate):
        xp = get_array_module(variable.data)
        dtype = variable.data.dtype.type
        index = self._get_variable_index(variable)
        r, c, v = self._r[index], self._c[index], self._v[index]
        step = dtype(self._step_count() + 1)
        lr = dtype(learning_rate)
        inv_sqrt = dtype(1) / np.sqrt(step)
        if not callable(self._learning_rate) and self.relative_step:
            lr = min(lr, inv_sqrt)
        rho_t = min(lr, inv_sqrt)
        rms_var = xp.sqrt(xp.mean(xp.square(variable.data)))
        alpha_t = xp.maximum(dtype(self.epsilon_2), rms_var) * rho_t
        squared = xp.square(gradient) + dtype(self.epsilon_1)
        beta_2_t = dtype(1) - np.power(step, dtype(self.beta_2_decay))
        one_minus = dtype(1) - beta_2_t
        if variable.data.ndim >= 2:
            r.data = beta_2_t * r.data + one_minus * xp.mean(squared, axis=-1)
            c.data = beta_2_t * c.data + one_minus * xp.mean(squared, axis=-2)
            row = r.data / xp.mean(r.data, axis=-1, keepdims=True)
            v.data = xp.expand_dims(row, -1) * xp.expand_dims(c.data, -2)
        else:
            v.data = beta_2_t * v.data + one_minus * squared
        u = gradient / xp.sqrt(v.data)
        rms_u = xp.sqrt(xp.mean(xp.square(u)))
        u_hat = u / xp.maximum(dtype(1), rms_u / dtype(self.clip_threshold))
        variable.assign(variable.data - alpha_t * u_hat)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "beta_2_decay": self.beta_2_decay,
                "epsilon_1": self.epsilon_1,
                "epsilon_2": self.epsilon_2,
                "clip_threshold": self.clip_threshold,
                "relative_step": self.relative_step,
            }
        )
        return config
