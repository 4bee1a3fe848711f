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
from gpuk.optimizers.base import Optimizer, cast_scalar, resolve_epsilon


def adam_alpha(lr, beta_1, beta_2, step, dtype):
    """The bias-corrected step size ``lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)`` on the host.

    Args:
        lr: the learning rate (host scalar).
        beta_1, beta_2: the decay rates.
        step: ``t = iterations + 1``.
        dtype: the parameter's dtype; Keras computes these scalars in it.

    ``step`` (and ``lr``) may be 0-d device arrays (a step captured as a CUDA graph): the same
    operations then run on the device and the result is a 0-d device array.
    """
    if not isinstance(step, (int, np.integer)):
        xp = get_array_module(step)
        t = step.astype(dtype)
        one = dtype.type(1)
        beta_1_power = xp.power(dtype.type(beta_1), t)
        beta_2_power = xp.power(dtype.type(beta_2), t)
        return cast_scalar(lr, dtype) * xp.sqrt(one - beta_2_power) / (one - beta_1_power)
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


def adam_update_inplace(xp, param, grad, m, v, vhat, alpha, beta_1, beta_2, epsilon, amsgrad):
    """:func:`adam_update`'s arithmetic written into ``param``, ``m``, ``v`` (and ``vhat``) in
    place: the same operations in the same order, so the same bits, with 4 temporaries instead
    of 12. ``alpha`` is :func:`adam_alpha` of the step."""
    param -= _moments_and_step(xp, grad, m, v, vhat, alpha, beta_1, beta_2, epsilon, amsgrad)


def _moments_and_step(xp, grad, m, v, vhat, alpha, beta_1, beta_2, epsilon, amsgrad):
    """Update ``m``, ``v`` (``vhat``) in place; return the step ``m * alpha / (sqrt(v) + eps)``
    (elementwise, so it runs on one variable or on all of them concatenated)."""
    t = grad - m
    t *= 1 - beta_1
    m += t
    t = xp.square(grad)
    t -= v
    t *= 1 - beta_2
    v += t
    denominator_v = v
    if amsgrad:
        xp.maximum(vhat, v, out=vhat)
        denominator_v = vhat
    denominator = xp.sqrt(denominator_v)
    denominator += epsilon
    t = m * alpha
    t /= denominator
    return t


class _FlatSlots:
    """The slots of all variables as views into one buffer per slot kind, so that a step is a
    dozen array operations for the whole model instead of a dozen per variable."""

    def __init__(self, optimizer, variables):
        self.variables = list(variables)
        indices = [optimizer._trainable_variables_indices[id(v)] for v in self.variables]
        kinds = [optimizer._momentums, optimizer._velocities]
        if optimizer.amsgrad:
            kinds.append(optimizer._velocity_hats)
        self.slots = [[kind[i] for i in indices] for kind in kinds]
        self.params = [v.data for v in self.variables]
        self.xp = get_array_module(self.params[0])
        self.dtype = self.params[0].dtype
        self.spans = []
        offset = 0
        for param in self.params:
            self.spans.append((offset, offset + param.size, param.shape))
            offset += param.size
        self.size = offset
        self.buffers, self.views = [], []
        for slots in self.slots:
            flat = self.xp.concatenate([slot.data.reshape(-1) for slot in slots])
            views = []
            for slot, (start, stop, shape) in zip(slots, self.spans):
                slot.data = flat[start:stop].reshape(shape)
                views.append(slot.data)
            self.buffers.append(flat)
            self.views.append(views)

    @staticmethod
    def applicable(optimizer, variables):
        """One dtype and array module, each variable once, C-contiguous slots."""
        if len({id(v) for v in variables}) != len(variables) or not variables:
            return False
        first = variables[0].data
        xp = get_array_module(first)
        return all(
            v.data.dtype == first.dtype
            and get_array_module(v.data) is xp
            and v.data.flags.c_contiguous
            for v in variables
        )

    def valid_for(self, variables):
        """The same variables, holding the arrays this optimizer wrote last (a value assigned
        since, to a variable or a slot, means a fresh start)."""
        if len(variables) != len(self.variables):
            return False
        for i, variable in enumerate(variables):
            if variable is not self.variables[i] or variable.data is not self.params[i]:
                return False
        for slots, views in zip(self.slots, self.views):
            for slot, view in zip(slots, views):
                if slot.data is not view:
                    return False
        return True

    def step(self, grads, alpha, beta_1, beta_2, epsilon, amsgrad):
        xp = self.xp
        grad = xp.concatenate([g.reshape(-1) for g in grads])
        if grad.dtype != self.dtype or grad.size != self.size:
            return False
        vhat = self.buffers[2] if amsgrad else None
        t = _moments_and_step(
            xp,
            grad,
            self.buffers[0],
            self.buffers[1],
            vhat,
            alpha,
            beta_1,
            beta_2,
            epsilon,
            amsgrad,
        )
        for param, (start, stop, shape) in zip(self.params, self.spans):
            param -= t[start:stop].reshape(shape)
        return True


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
            self._step_number(),
        )
        if vhat is not None:
            vhat.data = new_vhat
        variable.assign(param)

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        if self._fused_update(grads, trainable_variables, learning_rate):
            return
        if type(self).update_step is not Adam.update_step:
            super()._backend_update_step(grads, trainable_variables, learning_rate)
            return
        # In place into arrays this optimizer allocated (an array a caller assigned is first
        # replaced by a fresh one, so arrays the caller holds are never written): all variables
        # at once through flat slot buffers, else one variable at a time.
        step = self._step_number()
        flat = self.__dict__.get("_flat_slots")
        if flat is not None and flat.valid_for(trainable_variables):
            alpha = adam_alpha(learning_rate, self.beta_1, self.beta_2, step, flat.dtype)
            args = (alpha, self.beta_1, self.beta_2, self.epsilon, self.amsgrad)
            if flat.step(grads, *args):
                return
        alphas = {}
        owned = self.__dict__.setdefault("_owned_arrays", {})
        fresh = False
        for grad, variable in zip(grads, trainable_variables):
            index = self._trainable_variables_indices[id(variable)]
            m, v = self._momentums[index], self._velocities[index]
            vhat = self._velocity_hats[index] if self.amsgrad else None
            arrays = (variable.data, m.data, v.data, None if vhat is None else vhat.data)
            mine = owned.get(index)
            if (
                mine is None
                or mine[0] is not arrays[0]
                or mine[1] is not arrays[1]
                or mine[2] is not arrays[2]
                or mine[3] is not arrays[3]
            ):
                self.update_step(grad, variable, learning_rate)
                owned[index] = (variable.data, m.data, v.data, None if vhat is None else vhat.data)
                fresh = True
                continue
            dtype = arrays[0].dtype
            alpha = alphas.get(dtype)
            if alpha is None:
                alpha = alphas[dtype] = adam_alpha(
                    learning_rate, self.beta_1, self.beta_2, step, dtype
                )
            adam_update_inplace(
                get_array_module(arrays[0]),
                arrays[0],
                grad,
                *arrays[1:],
                alpha,
                self.beta_1,
                self.beta_2,
                self.epsilon,
                self.amsgrad,
            )
        if not fresh and _FlatSlots.applicable(self, trainable_variables):
            # Every array was this optimizer's: gather the slots for the next steps.
            self._flat_slots = _FlatSlots(self, trainable_variables)

    def _fused_update(self, grads, variables, learning_rate):
        """Update every variable with the fused kernel and return True, or touch nothing and
        return False when :func:`gpuk.ops.fused.registry.select` declines a dtype group (or a
        step is captured: the kernel takes the bias correction as a host argument)."""
        if self._device_scalars is not None:
            return False
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
