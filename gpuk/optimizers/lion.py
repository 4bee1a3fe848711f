"""Lion (Chen et al., 2023), Keras 3's update: the sign of an interpolated momentum."""

from gpuk._array import get_array_module
from gpuk.optimizers.base import Optimizer, cast_scalar


class Lion(Optimizer):
    """``variable -= lr * sign(beta_1 * m + (1 - beta_1) * g)``, then
    ``m = beta_2 * m + (1 - beta_2) * g``.

    Args:
        learning_rate: 0.001 (Lion wants a rate 3-10x smaller than AdamW's).
        beta_1: 0.9, in (0, 1]. beta_2: 0.99.
        **kwargs: the base ``Optimizer`` arguments.
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        if beta_1 <= 0 or beta_1 > 1:
            raise ValueError(
                "Argument `beta_1` must be in the [0, 1] range. Otherwise, the optimizer "
                f"degenerates to SignSGD. Received: beta_1={beta_1}."
            )

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._momentums = self.add_optimizer_variables(variables, "momentum")

    def update_step(self, gradient, variable, learning_rate):
        xp = get_array_module(variable.data)
        dtype = variable.data.dtype.type
        m = self._momentums[self._get_variable_index(variable)]
        beta_1, beta_2 = dtype(self.beta_1), dtype(self.beta_2)
        direction = xp.sign(m.data * beta_1 + gradient * (dtype(1) - beta_1))
        variable.assign(variable.data - cast_scalar(learning_rate, dtype) * direction)
        m.data = m.data * beta_2 + gradient * (dtype(1) - beta_2)

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2})
        return config
