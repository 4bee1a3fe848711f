"""LAMB (You et al., 2019), Keras 3's update: Adam steps scaled by a layer-wise trust ratio."""

from gpuk._array import get_array_module
from gpuk.optimizers.base import Optimizer, resolve_epsilon


class Lamb(Optimizer):
    """Adam's bias-corrected step ``m_hat / (sqrt(v_hat) + epsilon)`` multiplied by
    ``||variable|| / ||step||`` (1 where either norm is 0).

    Args:
        learning_rate: 0.001.
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
        self._momentums, self._velocities = self.add_optimizer_variables(
            variables, ["momentum", "velocity"]
        )

    def update_step(self, gradient, variable, learning_rate):
        xp = get_array_module(variable.data)
        dtype = variable.data.dtype.type
        index = self._get_variable_index(variable)
        m, v = self._momentums[index], self._velocities[index]
        step = dtype(self._step_count() + 1)
        beta_1_power = dtype(self.beta_1) ** step
        beta_2_power = dtype(self.beta_2) ** step
        m.data = m.data + (gradient - m.data) * (1 - self.beta_1)
        v.data = v.data + (xp.square(gradient) - v.data) * (1 - self.beta_2)
        m_hat = m.data / (1.0 - beta_1_power)
        v_sqrt = xp.sqrt(v.data / (1.0 - beta_2_power)) + self.epsilon
        update = m_hat / v_sqrt
        w_norm = xp.sqrt(xp.sum(xp.square(variable.data)))
        g_norm = xp.sqrt(xp.sum(xp.square(update)))
        safe_g = xp.where(g_norm > 0, g_norm, xp.ones_like(g_norm))
        ratio = xp.where((w_norm > 0) & (g_norm > 0), w_norm / safe_g, xp.ones_like(w_norm))
        variable.assign(variable.data - ratio * dtype(learning_rate) * update)

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config
