"""Adagrad, Keras 3's update."""

from gpuk._array import get_array_module
from gpuk.optimizers.base import Optimizer, cast_scalar, resolve_epsilon


class Adagrad(Optimizer):
    """Per-parameter rates scaled by the accumulated squared gradients.

    ``accumulator += g**2``; ``param -= lr * g / sqrt(accumulator + epsilon)``.

    Args:
        learning_rate: defaults to 0.001.
        initial_accumulator_value: starting value of the accumulators (0.1).
        epsilon: 1e-7.
        **kwargs: the base ``Optimizer`` arguments.
    """

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = resolve_epsilon(epsilon)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._accumulators = self.add_optimizer_variables(
            variables, "accumulator", initializer=float(self.initial_accumulator_value)
        )

    def update_step(self, gradient, variable, learning_rate):
        xp = get_array_module(variable.data)
        lr = cast_scalar(learning_rate, variable.data.dtype)
        accumulator = self._accumulators[self._get_variable_index(variable)]
        accumulator.data = accumulator.data + xp.square(gradient)
        variable.assign(variable.data - (lr * gradient) / xp.sqrt(accumulator.data + self.epsilon))

    def get_config(self):
        config = super().get_config()
        config.update(
            {"initial_accumulator_value": self.initial_accumulator_value, "epsilon": self.epsilon}
        )
        return config
