"""SGD with optional (Nesterov) momentum, Keras 3's update."""

from gpuk.optimizers.base import Optimizer, cast_scalar


def sgd_update(param, grad, m, lr, momentum, nesterov):
    """One SGD step; returns ``(param, m)`` (``m`` is None without momentum).

    ``m = momentum * m - lr * g``; ``param += m`` (Nesterov: ``param += momentum * m - lr * g``).
    """
    if m is None:
        return param - grad * lr, None
    m = m * momentum - grad * lr
    if nesterov:
        return param + (m * momentum - grad * lr), m
    return param + m, m


class SGD(Optimizer):
    """Gradient descent with momentum.

    Args:
        learning_rate: float, schedule or callable; defaults to 0.01.
        momentum: float in [0, 1]; 0 is plain gradient descent (no slot variables).
        nesterov: use Nesterov momentum.
        **kwargs: the base ``Optimizer`` arguments (``weight_decay``, ``clipnorm``, ...).
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        if (
            isinstance(momentum, bool)
            or not isinstance(momentum, (int, float))
            or not (0 <= momentum <= 1)
        ):
            raise ValueError(f"`momentum` must be a float between [0, 1]. Received: {momentum!r}")
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.momentums = []
        if self.momentum != 0:
            self.momentums = self.add_optimizer_variables(variables, "momentum")

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.data.dtype.type
        m = self.momentums[self._get_variable_index(variable)] if self.momentums else None
        new_param, new_m = sgd_update(
            variable.data,
            gradient,
            None if m is None else m.data,
            cast_scalar(learning_rate, dtype),
            dtype(self.momentum),
            self.nesterov,
        )
        if m is not None:
            m.data = new_m
        variable.assign(new_param)

    def get_config(self):
        config = super().get_config()
        config.update({"momentum": self.momentum, "nesterov": self.nesterov})
        return config
