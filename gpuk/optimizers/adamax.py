"""Adamax (Adam with the infinity norm), Keras 3's update."""

import numpy as np

from gpuk._array import get_array_module
from gpuk.optimizers.base import Optimizer, resolve_epsilon


class Adamax(Optimizer):
    """A variant of Adam based on the infinity norm.

    ``m += (g - m) * (1 - beta_1)``; ``u = max(beta_2 * u, |g|)``;
    ``param -= lr * m / ((1 - beta_1**t) * (u + epsilon))``.

    Args:
        learning_rate: defaults to 0.001.
        beta_1: 0.9. beta_2: 0.999. epsilon: 1e-7.
        **kwargs: the base ``Optimizer`` arguments.
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = resolve_epsilon(epsilon)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._m, self._u = self.add_optimizer_variables(variables, ["momentum", "norm"])

    def update_step(self, gradient, variable, learning_rate):
        xp = get_array_module(variable.data)
        dtype = variable.data.dtype.type
        lr = dtype(learning_rate)
        beta_1_power = np.power(dtype(self.beta_1), dtype(self._step_count() + 1))
        index = self._get_variable_index(variable)
        m, u = self._m[index], self._u[index]
        m.data = m.data + (gradient - m.data) * (1 - self.beta_1)
        u.data = xp.maximum(self.beta_2 * u.data, xp.abs(gradient))
        variable.assign(
            variable.data - (lr * m.data) / ((dtype(1) - beta_1_power) * (u.data + self.epsilon))
        )

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config
