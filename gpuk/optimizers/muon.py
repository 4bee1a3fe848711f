"""Muon (Jordan et al., 2024; Moonlight scaling), Keras 3's update.

2-D variables get momentum orthogonalised by a quintic Newton-Schulz iteration; the others
(and embeddings, and paths matching ``exclude_layers``) get AdamW.
"""

import re

import numpy as np

from gpuk._array import get_array_module
from gpuk.optimizers.base import Optimizer


class Muon(Optimizer):
    """MomentUm Orthogonalized by Newton-Schulz, with AdamW for non-matrix variables.

    Args:
        learning_rate: 0.001.
        adam_beta_1: 0.9. adam_beta_2: 0.999. epsilon: 1e-7 (the AdamW part).
        adam_weight_decay: 0.004, the weight decay of AdamW-updated variables.
        weight_decay: 0.004, the weight decay of Muon-updated variables.
        exclude_layers: regular expressions; variables whose path matches use AdamW.
        exclude_embeddings: True: variables with "embedding" in their path use AdamW.
        muon_a, muon_b, muon_c: 3.4445, -4.7750, 2.0315, the Newton-Schulz coefficients.
        adam_lr_ratio: 1, the AdamW learning rate relative to ``learning_rate``.
        momentum: 0.95. ns_steps: 5. nesterov: True.
        rms_rate: 0.2; the update is scaled by ``sqrt(max(rows, cols)) * rms_rate`` (None: not).
        **kwargs: the base ``Optimizer`` arguments.
    """

    def __init__(
        self,
        learning_rate=0.001,
        adam_beta_1=0.9,
        adam_beta_2=0.999,
        adam_weight_decay=0.004,
        epsilon=1e-7,
        weight_decay=0.004,
        exclude_layers=None,
        exclude_embeddings=True,
        muon_a=3.4445,
        muon_b=-4.7750,
        muon_c=2.0315,
        adam_lr_ratio=1,
        momentum=0.95,
        ns_steps=5,
        nesterov=True,
        rms_rate=0.2,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, **kwargs)
        self.adam_beta_1 = adam_beta_1
        self.adam_beta_2 = adam_beta_2
        self.epsilon = epsilon
        self.muon_a = muon_a
        self.muon_b = muon_b
        self.muon_c = muon_c
        self.adam_lr_ratio = adam_lr_ratio
        self.momentum = momentum
        self.ns_steps = ns_steps
        self.nesterov = nesterov
        self.exclude_embeddings = exclude_embeddings
        self.exclude_layers = exclude_layers or []
        self.adam_weight_decay = adam_weight_decay
        self.rms_rate = rms_rate

    def _should_use_adamw(self, variable):
        if variable.data.ndim != 2:
            return True
        path = str(getattr(variable, "path", None) or variable.name)
        if self.exclude_embeddings and "embedding" in path.lower():
            return True
        return any(re.search(keyword, path) for keyword in self.exclude_layers)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.momentums = [None] * len(variables)
        self.adam_velocities = [None] * len(variables)
        for variable in variables:
            index = self._get_variable_index(variable)
            self.momentums[index] = self.add_variable_from_reference(variable, name="momentum")
            if self._should_use_adamw(variable):
                self.adam_velocities[index] = self.add_variable_from_reference(
                    variable, name="velocity"
                )

    def update_step(self, gradient, variable, learning_rate):
        index = self._get_variable_index(variable)
        m, v = self.momentums[index], self.adam_velocities[index]
        if v is not None:
            self._adamw_update_step(gradient, variable, learning_rate * self.adam_lr_ratio, m, v)
        else:
            self._muon_update_step(gradient, variable, learning_rate, m)

    def _muon_update_step(self, gradient, variable, learning_rate, m):
        dtype = variable.data.dtype.type
        m.data = m.data + (gradient + m.data * dtype(self.momentum - 1))
        g = gradient + dtype(self.momentum) * m.data if self.nesterov else m.data
        update = self.zeropower_via_newtonschulz5(g, self.ns_steps)
        variable.assign(variable.data - self.lr_adjust(dtype(learning_rate) * update))

    def _adamw_update_step(self, gradient, variable, learning_rate, m, v):
        xp = get_array_module(variable.data)
        dtype = variable.data.dtype.type
        lr = dtype(learning_rate)
        step = dtype(self._step_count() + 1)
        beta_1_power = dtype(self.adam_beta_1) ** step
        beta_2_power = dtype(self.adam_beta_2) ** step
        alpha = lr * np.sqrt(dtype(1) - beta_2_power) / (dtype(1) - beta_1_power)
        m.data = m.data + (gradient - m.data) * (1 - self.adam_beta_1)
        v.data = v.data + (xp.square(gradient) - v.data) * (1 - self.adam_beta_2)
        variable.assign(variable.data - (m.data * alpha) / (xp.sqrt(v.data) + self.epsilon))

    @staticmethod
    def transpose_last_axis(x):
        """Swap the last two axes."""
        return get_array_module(x).swapaxes(x, -1, -2)

    def lr_adjust(self, x):
        """Scale an update by ``sqrt(max(rows, cols)) * rms_rate`` (Moonlight's rule)."""
        if self.rms_rate is None:
            return x
        scale = np.sqrt(np.float32(max(x.shape[0], x.shape[1])))
        return x * x.dtype.type(scale) * self.rms_rate

    def zeropower_via_newtonschulz5(self, x, steps):
        """The quintic Newton-Schulz approximation of the orthogonal factor of ``x``."""
        xp = get_array_module(x)
        if x.ndim < 2:
            raise ValueError(
                "Expected gradient or momentum to have at least 2 dimensions. "
                f"Received: shape={x.shape}"
            )
        a, b, c = self.muon_a, self.muon_b, self.muon_c
        tall = x.shape[-2] > x.shape[-1]
        if tall:
            x = self.transpose_last_axis(x)
        norm = xp.sqrt(xp.sum(xp.square(x), axis=(-2, -1), keepdims=True))
        x = x / (norm + 1e-7)
        for _ in range(steps):
            temp_a = x @ self.transpose_last_axis(x)
            temp_b = b * temp_a + c * temp_a @ temp_a
            x = a * x + temp_b @ x
        if tall:
            x = self.transpose_last_axis(x)
        return x

    def _apply_weight_decay(self, variables, learning_rate):
        for variable in variables:
            if not self._use_weight_decay(variable):
                continue
            if self._should_use_adamw(variable):
                decay = self.adam_weight_decay
            else:
                decay = self.weight_decay
            if decay is None:
                continue
            dtype = variable.data.dtype.type
            variable.assign(variable.data - variable.data * dtype(decay) * dtype(learning_rate))

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "adam_beta_1": self.adam_beta_1,
                "adam_beta_2": self.adam_beta_2,
                "epsilon": self.epsilon,
                "exclude_layers": self.exclude_layers,
                "muon_a": self.muon_a,
                "muon_b": self.muon_b,
                "muon_c": self.muon_c,
                "adam_lr_ratio": self.adam_lr_ratio,
                "momentum": self.momentum,
                "ns_steps": self.ns_steps,
                "nesterov": self.nesterov,
                "exclude_embeddings": self.exclude_embeddings,
                "adam_weight_decay": self.adam_weight_decay,
                "rms_rate": self.rms_rate,
            }
        )
        return config
