"""SpectralNormalization: a wrapper that divides a layer's kernel by its spectral norm."""

import numpy as np

from gpuk import initializers, ops
from gpuk.autograd import Tensor
from gpuk.layers.base import InputSpec
from gpuk.layers.wrappers import Wrapper
from gpuk.ops._util import xp_of

__all__ = ["SpectralNormalization"]


class SpectralNormalization(Wrapper):
    """Divide the wrapped layer's ``kernel`` (or ``embeddings``) by its largest singular value,
    estimated by ``power_iterations`` steps of power iteration, during training.

    Weights: the wrapped layer's, plus the non-trainable ``vector_u`` of shape
    ``(1, kernel.shape[-1])``.
    """

    def __init__(self, layer, power_iterations=1, **kwargs):
        super().__init__(layer, **kwargs)
        if power_iterations <= 0:
            raise ValueError(
                "`power_iterations` should be greater than zero. Received: "
                f"`power_iterations={power_iterations}`"
            )
        self.power_iterations = power_iterations

    def build(self, input_shape):
        self.layer._maybe_build(input_shape)
        self.input_spec = InputSpec(min_ndim=1, axes={-1: input_shape[-1]})
        if getattr(self.layer, "kernel", None) is not None:
            kernel = self.layer.kernel
        elif getattr(self.layer, "embeddings", None) is not None:
            kernel = self.layer.embeddings
        else:
            raise ValueError(
                f"{type(self.layer).__name__} object has no attribute 'kernel' nor 'embeddings'"
            )
        # Public, so the kernel is also this layer's own variable (Keras saves it there too).
        self.kernel = kernel
        self.kernel_shape = tuple(kernel.shape)
        for variable in self.layer.weights:
            variable.path = f"{self.name}/{self.layer.name}/{variable.name}"
        self.vector_u = self.add_weight(
            name="vector_u",
            shape=(1, self.kernel_shape[-1]),
            initializer=initializers.TruncatedNormal(stddev=0.02),
            trainable=False,
        )
        self.built = True

    def _power_iteration(self):
        """Updated ``(u, v)`` (arrays, no gradient) for the current kernel."""
        kernel = self.kernel.data
        xp = xp_of(kernel)
        weights = kernel.reshape(-1, self.kernel_shape[-1])
        u = self.vector_u.data

        def unit(v):
            # Keras's normalize: x * min(rsqrt(sum(x**2)), 1 / epsilon), no host sync.
            with np.errstate(divide="ignore"):
                inv = 1.0 / xp.sqrt((v * v).sum())
            return v * xp.minimum(inv, v.dtype.type(1e7))

        for _ in range(self.power_iterations):
            v = unit(u @ weights.T)
            u = unit(v @ weights)
        return u, v

    def normalized_weights(self):
        """``(new vector_u, kernel / sigma)``; the kernel part is differentiable.

        An all-zero kernel is left as it is with ``vector_u`` unchanged (Keras's rule), decided
        on the device without a host round trip.
        """
        u, v = self._power_iteration()
        xp = xp_of(u)
        zero = (self.kernel.data == 0).all()
        u = xp.where(zero, self.vector_u.data, u)
        weights = ops.reshape(self.kernel, (-1, self.kernel_shape[-1]))
        sigma = ops.matmul(ops.matmul(Tensor(v), weights), Tensor(u.T))
        sigma = ops.where(zero, 1.0, sigma)
        return u, ops.reshape(ops.divide(self.kernel, sigma), self.kernel_shape)

    def call(self, inputs, training=False):
        if not training:
            return self.layer(inputs)
        u, kernel = self.normalized_weights()
        self.vector_u.assign(u)
        # Run the wrapped layer on the normalized kernel so that gradients reach the stored
        # kernel through the division (as Keras's stateless call does), then store it.
        attr = "kernel" if getattr(self.layer, "kernel", None) is self.kernel else "embeddings"
        object.__setattr__(self.layer, attr, kernel)
        try:
            outputs = self.layer(inputs)
        finally:
            object.__setattr__(self.layer, attr, self.kernel)
        self.kernel.assign(kernel.data)
        return outputs

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        config = super().get_config()
        config["power_iterations"] = self.power_iterations
        return config
