"""RMSprop (optionally centered, with momentum), Keras 3's update."""

from gpuk._array import get_array_module
from gpuk.optimizers.base import Optimizer, cast_scalar, resolve_epsilon


class RMSprop(Optimizer):
    """Divide the gradient by a running root mean square of recent gradients.

    ``velocity = rho * velocity + (1 - rho) * g**2``; ``increment = lr * g / sqrt(velocity +
    epsilon)`` (centered: ``sqrt(velocity - average_gradient**2 + epsilon)``); with momentum the
    increment feeds a momentum buffer that is subtracted instead.

    Args:
        learning_rate: defaults to 0.001.
        rho: discounting factor of the gradient history (0.9).
        momentum: 0.0 for none.
        epsilon: 1e-7.
        centered: normalise by the estimated variance instead of the second moment.
        **kwargs: the base ``Optimizer`` arguments.
    """

    def __init__(
        self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, **kwargs
    ):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.rho = rho
        self.momentum = momentum
        self.epsilon = resolve_epsilon(epsilon)
        self.centered = centered

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._velocities = self.add_optimizer_variables(variables, "velocity")
        self._momentums = []
        if self.momentum > 0:
            self._momentums = self.add_optimizer_variables(variables, "momentum")
        self._average_gradients = []
        if self.centered:
            self._average_gradients = self.add_optimizer_variables(variables, "average_gradient")

    def update_step(self, gradient, variable, learning_rate):
        xp = get_array_module(variable.data)
        lr = cast_scalar(learning_rate, variable.data.dtype)
        index = self._get_variable_index(variable)
        velocity = self._velocities[index]
        rho = self.rho
        velocity.data = rho * velocity.data + (1 - rho) * xp.square(gradient)
        if self.centered:
            average = self._average_gradients[index]
            average.data = rho * average.data + (1 - rho) * gradient
            denominator = velocity.data - xp.square(average.data) + self.epsilon
        else:
            denominator = velocity.data + self.epsilon
        increment = (lr * gradient) / xp.sqrt(denominator)
        if self.momentum > 0:
            momentum = self._momentums[index]
            momentum.data = self.momentum * momentum.data + increment
            variable.assign(variable.data - momentum.data)
        else:
            variable.assign(variable.data - increment)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "rho": self.rho,
                "momentum": self.momentum,
                "epsilon": self.epsilon,
                "centered": self.centered,
            }
        )
        return config
