"""Adadelta, Keras 3's update."""

from gpuk._array import get_array_module
from gpuk.optimizers.base import Optimizer, cast_scalar, resolve_epsilon


class Adadelta(Optimizer):
    """Adaptive rates from moving windows of gradient and update magnitudes.

    ``acc_g = rho * acc_g + (1 - rho) * g**2``; ``delta = -sqrt(acc_dx + eps) * g / sqrt(acc_g
    + eps)``; ``acc_dx = rho * acc_dx + (1 - rho) * delta**2``; ``param += lr * delta``.

    Args:
        learning_rate: defaults to 0.001 (Keras 2 used 1.0).
        rho: decay rate (0.95).
        epsilon: 1e-7.
        **kwargs: the base ``Optimizer`` arguments.
    """

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.rho = rho
        self.epsilon = resolve_epsilon(epsilon)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._accumulated_grads, self._accumulated_delta_vars = self.add_optimizer_variables(
            variables, ["accumulated_grad", "accumulated_delta_var"]
        )

    def update_step(self, gradient, variable, learning_rate):
        xp = get_array_module(variable.data)
        lr = cast_scalar(learning_rate, variable.data.dtype)
        rho = self.rho
        index = self._get_variable_index(variable)
        acc_grad = self._accumulated_grads[index]
        acc_delta = self._accumulated_delta_vars[index]
        acc_grad.data = rho * acc_grad.data + (1 - rho) * xp.square(gradient)
        delta = -(
            (xp.sqrt(acc_delta.data + self.epsilon) * gradient)
            / xp.sqrt(acc_grad.data + self.epsilon)
        )
        acc_delta.data = rho * acc_delta.data + (1 - rho) * xp.square(delta)
        variable.assign(variable.data + lr * delta)

    def get_config(self):
        config = super().get_config()
        config.update({"rho": self.rho, "epsilon": self.epsilon})
        return config
