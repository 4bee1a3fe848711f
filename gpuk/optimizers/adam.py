"""Adam (and AMSGrad), Keras 3's update, with the hook for a fused multi-tensor GPU kernel.

The math of one step for one tensor is :func:`adam_update`; ``Adam.update_step`` is that call plus
the bookkeeping. Fused kernel: ``Adam._backend_update_step`` groups the variables by dtype and asks
:func:`gpuk.ops.fused.registry.select` about each group's ``AdamConfig`` (CuPy arrays of one
float type, contiguous). When every group is accepted it calls the fused implementation
``adam_multi_tensor(params, grads, ms, vs, vhats, *, alpha, beta_1, beta_2, epsilon, amsgrad)``
once per group, which updates ``params``, ``ms``, ``vs`` (and ``vhats``) **in place**;
``alpha`` (= ``lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)``, :func:`adam_alpha`) and
``epsilon`` are host scalars of that dtype, ``beta_1`` and ``beta_2`` the Python floats the
optimizer was given, so the kernel's ``1 - beta`` is rounded from double as in Keras. It
computes exactly what :func:`adam_update` computes: that per-variable update is the one
reference the kernel is tested against. Otherwise nothing is touched and the per-variable loop
runs. ``fused`` (an attribute of the instance or the class, not a Keras argument): ``"auto"``
(default) uses the kernel when it can, ``False`` never, ``True`` always (``FusedUnsupported``,
a RuntimeError, where it cannot run).
"""

import numpy as np

from gpuk._array import get_array_module
from gpuk.ops.fused import adam as fused_adam
from gpuk.ops.fused import registry as fused_registry
from gpuk.optimizers.base import Optimizer, resolve_epsilon


def adam_alpha(lr, beta_1, beta_2, step, dtype):
    """The bias-corrected step size ``lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)`` on the host.

    Args:
        lr: the learning rate (host scalar).
        beta_1, beta_2: the decay rates.
        step: ``t = iterations + 1``.
        dtype: the parameter's dtype; Keras computes these scalars in it.
    """
    t = dtype.type(step)
    one = dtype.type(1)
    beta_1_power = np.power(dtype.type(beta_1), t)
    beta_2_power = np.power(dtype.type(beta_2), t)
    return dtype.type(lr) * np.sqrt(one - beta_2_power) / (one - beta_1_power)


def adam_update(xp, param, grad, m, v, vhat, lr, beta_1, beta_2, epsilon, amsgrad, step):
    """One Adam step for one tensor: the generic twin of the fused kernel.

    Args:
        xp: the array module of the arrays.
        param, grad, m, v: arrays of one shape and dtype.
        vhat: the AMSGrad maximum (array) or None.
        lr: learning rate (host scalar); beta_1, beta_2, epsilon: floats.
        amsgrad: use ``max(vhat, v)`` in the denominator.
        step: ``iterations + 1``.

    Returns:
        ``(param, m, v, vhat)``, new arrays (the inputs are not modified).
    """
    alpha = adam_alpha(lr, beta_1, beta_2, step, param.dtype)
    m = m + (grad - m) * (1 - beta_1)
    v = v + (xp.square(grad) - v) * (1 - beta_2)
    denominator_v = v
    if amsgrad:
        vhat = xp.maximum(vhat, v)
        denominator_v = vhat
    param = param - (m * alpha) / (xp.sqrt(denominator_v) + epsilon)
    return param, m, v, vhat


class Adam(Optimizer):
    """Adam: adaptive moment estimation (Kingma & Ba), Keras 3's formulation.

    ``m += (g - m) * (1 - beta_1)``; ``v += (g**2 - v) * (1 - beta_2)``;
    ``param -= alpha * m / (sqrt(v) + epsilon)`` with ``alpha = lr * sqrt(1 - beta_2**t) / (1 -
    beta_1**t)`` (epsilon is "epsilon hat" of the paper). AMSGrad uses the running maximum of
    ``v``.

    Args:
        learning_rate: defaults to 0.001.
        beta_1: 0.9. beta_2: 0.999. epsilon: 1e-7.
        amsgrad: use AMSGrad.
        **kwargs: the base ``Optimizer`` arguments.
    """

    fused = "auto"

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        amsgrad=False,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = resolve_epsilon(epsilon)
        self.amsgrad = amsgrad

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._momentums, self._velocities = self.add_optimizer_variables(
            variables, ["momentum", "velocity"]
        )
        if self.amsgrad:
            self._velocity_hats = self.add_optimizer_variables(variables, "velocity_hat")

    def _slots(self, variable):
        index = self._get_variable_index(variable)
        vhat = self._velocity_hats[index] if self.amsgrad else None
        return self._momentums[index], self._velocities[index], vhat

    def update_step(self, gradient, variable, learning_rate):
        m, v, vhat = self._slots(variable)
        param, m.data, v.data, new_vhat = adam_update(
            get_array_module(variable.data),
            variable.data,
            gradient,
            m.data,
            v.data,
            None if vhat is None else vhat.data,
            learning_rate,
            self.beta_1,
            self.beta_2,
            self.epsilon,
            self.amsgrad,
            self._step_count() + 1,
        )
        if vhat is not None:
            vhat.data = new_vhat
        variable.assign(param)

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        if self._fused_update(grads, trainable_variables, learning_rate):
            return
        super()._backend_update_step(grads, trainable_variables, learning_rate)

    def _fused_update(self, grads, variables, learning_rate):
        """Update every variable with the fused kernel and return True, or touch nothing and
        return False when :func:`gpuk.ops.fused.registry.select` declines a dtype group."""
        groups = {}
        for grad, variable in zip(grads, variables):
            groups.setdefault(variable.data.dtype, []).append((grad, variable))
        kernels = []
        for pairs in groups.values():
            config = fused_adam.adam_config([v.data for _, v in pairs], self.amsgrad)
            kernel, _ = fused_registry.select("adam", config, self.fused)
            if kernel is None:
                return False
            kernels.append(kernel)
        step = self._step_count() + 1
        for kernel, (dtype, pairs) in zip(kernels, groups.items()):
            slots = [self._slots(v) for _, v in pairs]
            kernel(
                [v.data for _, v in pairs],
                [g for g, _ in pairs],
                [s[0].data for s in slots],
                [s[1].data for s in slots],
                [s[2].data for s in slots] if self.amsgrad else None,
                beta_1=float(self.beta_1),
                beta_2=float(self.beta_2),
                epsilon=dtype.type(self.epsilon),
                amsgrad=self.amsgrad,
                alpha=adam_alpha(learning_rate, self.beta_1, self.beta_2, step, dtype),
            )
        return True

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "beta_1": self.beta_1,
                "beta_2": self.beta_2,
                "epsilon": self.epsilon,
                "amsgrad": self.amsgrad,
            }
        )
        return config
