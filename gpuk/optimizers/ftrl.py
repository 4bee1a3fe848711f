"""FTRL-Proximal (McMahan et al., 2013), Keras 3's update with its shrinkage variant."""

from gpuk._array import get_array_module
from gpuk.optimizers.base import Optimizer, cast_scalar


class Ftrl(Optimizer):
    """Follow The Regularized Leader, with L1, L2 and L2-shrinkage regularisation.

    Args:
        learning_rate: 0.001.
        learning_rate_power: -0.5 (<= 0); how the per-coordinate rate decays.
        initial_accumulator_value: 0.1 (>= 0), the start of the squared-gradient sums.
        l1_regularization_strength: 0.0 (>= 0).
        l2_regularization_strength: 0.0 (>= 0).
        l2_shrinkage_regularization_strength: 0.0 (>= 0): an L2 penalty on the gradient only.
        beta: 0.0, as in the paper.
        **kwargs: the base ``Optimizer`` arguments.
    """

    def __init__(
        self,
        learning_rate=0.001,
        learning_rate_power=-0.5,
        initial_accumulator_value=0.1,
        l1_regularization_strength=0.0,
        l2_regularization_strength=0.0,
        l2_shrinkage_regularization_strength=0.0,
        beta=0.0,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, **kwargs)
        checks = (
            ("initial_accumulator_value", initial_accumulator_value, "non-negative"),
            ("learning_rate_power", learning_rate_power, "less than or equal to zero"),
            ("l1_regularization_strength", l1_regularization_strength, "non-negative"),
            ("l2_regularization_strength", l2_regularization_strength, "non-negative"),
            (
                "l2_shrinkage_regularization_strength",
                l2_shrinkage_regularization_strength,
                "non-negative",
            ),
        )
        for arg, value, rule in checks:
            bad = value > 0 if rule.startswith("less") else value < 0
            if bad:
                raise ValueError(
                    f"Ftrl: `{arg}` needs to be {rule} float. Received: {arg}={value}."
                )
        self.learning_rate_power = learning_rate_power
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self.beta = beta

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._accumulators, self._linears = self.add_optimizer_variables(
            variables,
            ["accumulator", "linear"],
            initializer=[float(self.initial_accumulator_value), "zeros"],
        )

    def update_step(self, gradient, variable, learning_rate):
        xp = get_array_module(variable.data)
        dtype = variable.data.dtype.type
        index = self._get_variable_index(variable)
        accum, linear = self._accumulators[index], self._linears[index]
        lr = cast_scalar(learning_rate, dtype)
        power = -self.learning_rate_power
        l2 = self.l2_regularization_strength + self.beta / (2.0 * lr)
        grad = gradient + 2 * self.l2_shrinkage_regularization_strength * variable.data
        new_accum = accum.data + xp.square(gradient)
        new_pow = xp.power(new_accum, dtype(power))
        linear.data = linear.data + (
            grad - (new_pow - xp.power(accum.data, dtype(power))) / lr * variable.data
        )
        quadratic = new_pow / lr + dtype(2 * l2)
        l1 = self.l1_regularization_strength
        clipped = xp.clip(linear.data, -l1, l1)
        variable.assign((clipped - linear.data) / quadratic)
        accum.data = new_accum

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "learning_rate_power": self.learning_rate_power,
                "initial_accumulator_value": self.initial_accumulator_value,
                "l1_regularization_strength": self.l1_regularization_strength,
                "l2_regularization_strength": self.l2_regularization_strength,
                "l2_shrinkage_regularization_strength": (self.l2_shrinkage_regularization_strength),
                "beta": self.beta,
            }
        )
        return config
