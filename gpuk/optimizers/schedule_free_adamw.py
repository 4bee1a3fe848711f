"""Schedule-Free AdamW (Defazio et al., 2024), Keras 3's update."""

from gpuk._array import get_array_module
from gpuk.optimizers.base import Optimizer


class ScheduleFreeAdamW(Optimizer):
    """AdamW without a learning-rate schedule: the weights are an interpolation between a fast
    iterate (the ``momentum`` slot, where the Adam steps land) and its running average.

    Evaluate with the variables as they are (Keras 3 keeps the interpolated point).

    Args:
        learning_rate: 0.0025.
        beta_1: 0.9 (the interpolation). beta_2: 0.999. epsilon: 1e-8.
        warmup_steps: 0; the rate ramps up linearly over that many steps.
        **kwargs: the base ``Optimizer`` arguments.
    """

    def __init__(
        self,
        learning_rate=0.0025,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        warmup_steps=0,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.warmup_steps = warmup_steps

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._momentums, self._velocities = self.add_optimizer_variables(
            variables, ["momentum", "velocity"]
        )
        for momentum, variable in zip(self._momentums, variables):
            momentum.data = variable.data.copy()

    def update_step(self, gradient, variable, learning_rate):
        xp = get_array_module(variable.data)
        dtype = variable.data.dtype.type
        lr = dtype(learning_rate)
        step = dtype(self._step_count() + 1)
        beta_1, beta_2 = dtype(self.beta_1), dtype(self.beta_2)
        if self.warmup_steps > 0:
            lr = lr * min(step / dtype(self.warmup_steps), dtype(1))
        index = self._get_variable_index(variable)
        momentum, velocity = self._momentums[index], self._velocities[index]
        momentum_old = momentum.data
        bias_correction_2 = dtype(1) - beta_2**step
        velocity.data = velocity.data + (xp.square(gradient) - velocity.data) * (dtype(1) - beta_2)
        denom = xp.sqrt(velocity.data / bias_correction_2) + dtype(self.epsilon)
        momentum.data = momentum.data - (lr * gradient) / denom
        weight = dtype(1) / step
        x_old = (variable.data - (dtype(1) - beta_1) * momentum_old) / beta_1
        x_new = (dtype(1) - weight) * x_old + weight * momentum.data
        variable.assign((dtype(1) - beta_1) * momentum.data + beta_1 * x_new)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "beta_1": self.beta_1,
                "beta_2": self.beta_2,
                "epsilon": self.epsilon,
                "warmup_steps": self.warmup_steps,
            }
        )
        return config
