"""Nadam (Adam with Nesterov momentum), Keras 3's update and momentum-cache schedule."""

import warnings

import numpy as np

from gpuk._array import get_array_module
from gpuk._config import floatx
from gpuk.optimizers.base import Optimizer, resolve_epsilon


class Nadam(Optimizer):
    """Adam with Nesterov momentum (Dozat), with Keras's momentum schedule.

    With ``u_t = beta_1 * (1 - 0.5 * 0.96**t)`` and the running product ``U_t = u_1 ... u_t``:
    ``m_hat = u_{t+1} * m / (1 - U_t * u_{t+1}) + (1 - u_t) * g / (1 - U_t)``,
    ``v_hat = v / (1 - beta_2**t)``, ``param -= lr * m_hat / (sqrt(v_hat) + epsilon)``.

    Args:
        learning_rate: defaults to 0.001.
        beta_1: 0.9. beta_2: 0.999. epsilon: 1e-7.
        **kwargs: the base ``Optimizer`` arguments (Keras 2's ``schedule_decay`` is ignored with
            a warning).
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        if "schedule_decay" in kwargs:
            kwargs.pop("schedule_decay")
            warnings.warn(
                "Nadam: Keras 2's `schedule_decay` is not supported; Keras 3's fixed 0.96 "
                "momentum schedule is used",
                stacklevel=2,
            )
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = resolve_epsilon(epsilon)

    def build(self, variables):
        if self.built:
            return
        variables = list(variables)
        dtype = variables[0].data.dtype if variables else np.dtype(floatx())
        super().build(variables)
        self._momentums, self._velocities = self.add_optimizer_variables(
            variables, ["momentum", "velocity"]
        )
        # The running product of the momentum cache; Keras names this variable "variable".
        self._u_product = self.add_variable((), initializer=1.0, dtype=dtype, name="variable")

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        dtype = self._u_product.data.dtype.type
        t = dtype(self._step_count() + 1)
        self._u_product.data = np.asarray(
            self._u_product.data
            * dtype(self.beta_1)
            * (dtype(1) - dtype(0.5) * np.power(dtype(0.96), t))
        )
        super()._backend_update_step(grads, trainable_variables, learning_rate)

    def update_step(self, gradient, variable, learning_rate):
        xp = get_array_module(variable.data)
        dtype = variable.data.dtype.type
        lr = dtype(learning_rate)
        step = self._step_count()
        local_step, next_step = dtype(step + 1), dtype(step + 2)
        decay, beta_1, beta_2, one = dtype(0.96), dtype(self.beta_1), dtype(self.beta_2), dtype(1)
        u_t = beta_1 * (one - dtype(0.5) * np.power(decay, local_step))
        u_t_1 = beta_1 * (one - dtype(0.5) * np.power(decay, next_step))
        u_product_t = dtype(self._u_product.data)
        u_product_t_1 = u_product_t * u_t_1
        beta_2_power = np.power(beta_2, local_step)
        index = self._get_variable_index(variable)
        m, v = self._momentums[index], self._velocities[index]
        m.data = m.data + (gradient - m.data) * (one - beta_1)
        v.data = v.data + (xp.square(gradient) - v.data) * (one - beta_2)
        m_hat = (u_t_1 * m.data) / (one - u_product_t_1) + ((one - u_t) * gradient) / (
            one - u_product_t
        )
        v_hat = v.data / (one - beta_2_power)
        variable.assign(variable.data - (m_hat * lr) / (xp.sqrt(v_hat) + self.epsilon))

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config
