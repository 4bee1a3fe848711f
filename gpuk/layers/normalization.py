"""Normalization layers with Keras 3's arguments, weights and numerics: BatchNormalization,
LayerNormalization, GroupNormalization, UnitNormalization, RMSNormalization and the
SpectralNormalization wrapper (``gpuk.layers.spectral_normalization``)."""

import numpy as np

from gpuk import constraints, initializers, ops, regularizers
from gpuk._array import to_numpy
from gpuk.autograd import Tensor, as_array
from gpuk.layers.base import InputSpec, Layer
from gpuk.ops import normalization as norm_ops
from gpuk.ops._util import xp_of

__all__ = [
    "BatchNormalization",
    "GroupNormalization",
    "LayerNormalization",
    "RMSNormalization",
    "UnitNormalization",
]


def _check_axes(layer, axes, input_shape):
    rank = len(input_shape)
    for axis in axes:
        if not -rank <= axis < rank:
            raise ValueError(
                f"{type(layer).__name__} {layer.name!r}: axis {axis} is out of bounds for input "
                f"shape {tuple(input_shape)} (rank {rank}). Received: axis={layer.axis}"
            )


def _known_dims(layer, input_shape, axes):
    dims = []
    for axis in axes:
        size = input_shape[axis]
        if size is None:
            raise ValueError(
                f"{type(layer).__name__} {layer.name!r}: axis {axis} of the input must have a "
                f"known size, received input shape {tuple(input_shape)}"
            )
        dims.append(int(size))
    return tuple(dims)


def _sqrt_of(initializer):
    """An initializer giving the square root of ``initializer``'s values."""

    def init(shape, dtype=None):
        value = initializer(shape, dtype=dtype)
        return np.sqrt(np.asarray(to_numpy(value.data if isinstance(value, Tensor) else value)))

    return init


class _GammaBetaConfig:
    """Shared ``gamma``/``beta`` arguments, creation and config of the normalization layers."""

    def _init_gamma_beta(self, center, scale, beta_initializer, gamma_initializer, **kw):
        self.center = center
        self.scale = scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(kw.get("beta_regularizer"))
        self.gamma_regularizer = regularizers.get(kw.get("gamma_regularizer"))
        self.beta_constraint = constraints.get(kw.get("beta_constraint"))
        self.gamma_constraint = constraints.get(kw.get("gamma_constraint"))

    def _add_gamma_beta(self, shape, scale=True, center=True):
        self.gamma = self.beta = None
        if scale:
            self.gamma = self.add_weight(
                name="gamma",
                shape=shape,
                initializer=self.gamma_initializer,
                regularizer=self.gamma_regularizer,
                constraint=self.gamma_constraint,
            )
        if center:
            self.beta = self.add_weight(
                name="beta",
                shape=shape,
                initializer=self.beta_initializer,
                regularizer=self.beta_regularizer,
                constraint=self.beta_constraint,
            )

    def _gamma_beta_config(self):
        return {
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
        }


class BatchNormalization(_GammaBetaConfig, Layer):
    """Normalize with the batch statistics while training, the moving statistics otherwise.

    In training (``training=True`` and the layer trainable) the output is
    ``gamma * (x - mean(x)) / sqrt(var(x) + epsilon) + beta`` with the statistics over every
    axis but ``axis``, and ``moving_mean``/``moving_variance`` move by
    ``moving = moving * momentum + batch * (1 - momentum)``; in inference the moving statistics
    are used. A frozen layer (``trainable=False``) always runs in inference mode, as in Keras 3.

    Args:
        axis: the features axis (``-1``; ``1`` for ``channels_first`` images).
        momentum: of the moving averages (0.99).
        epsilon: added to the variance (1e-3).
        center, scale: whether to add ``beta``/multiply by ``gamma``.
        beta_initializer, gamma_initializer, moving_mean_initializer,
        moving_variance_initializer, beta_regularizer, gamma_regularizer, beta_constraint,
        gamma_constraint: as Keras.
        synchronized: accepted (one device).

    Weights, in Keras's order: ``gamma``, ``beta`` (trainable), ``moving_mean``,
    ``moving_variance`` (non-trainable), each of shape ``(input_shape[axis],)``.
    """

    supports_masking = True

    def __init__(
        self,
        axis=-1,
        momentum=0.99,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        moving_mean_initializer="zeros",
        moving_variance_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        renorm=False,
        renorm_clipping=None,
        renorm_momentum=0.99,
        synchronized=False,
        **kwargs,
    ):
        # tf.keras 2 keys that Keras 3 dropped.
        for legacy in ("fused", "virtual_batch_size", "adjustment"):
            value = kwargs.pop(legacy, None)
            if value not in (None, False, True) or (legacy != "fused" and value):
                raise ValueError(f"BatchNormalization: {legacy}={value!r} is not supported")
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            if len(axis) != 1:
                raise ValueError(
                    f"BatchNormalization {self.name!r}: axis must be one int, received {axis!r}"
                )
            axis = axis[0]
        self.axis = int(axis)
        if renorm:
            renorm_clipping = dict(renorm_clipping or {})
            unknown = set(renorm_clipping) - {"rmax", "rmin", "dmax"}
            if unknown:
                raise ValueError(
                    f"BatchNormalization {self.name!r}: invalid keys for `renorm_clipping`: "
                    f"{sorted(unknown)}. Supported values: ['rmax', 'rmin', 'dmax']."
                )
            rmax, rmin = renorm_clipping.get("rmax"), renorm_clipping.get("rmin")
            if rmax is not None and rmin is not None and rmax < rmin:
                raise ValueError(
                    f"BatchNormalization {self.name!r}: rmax should be greater than rmin in "
                    f"`renorm_clipping`. Received: rmax={rmax}, rmin={rmin}."
                )
            dmax = renorm_clipping.get("dmax")
            if dmax is not None and dmax < 0:
                raise ValueError(
                    f"BatchNormalization {self.name!r}: dmax should be non-negative in "
                    f"`renorm_clipping`. Received: dmax={dmax}."
                )
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self._init_gamma_beta(
            center,
            scale,
            beta_initializer,
            gamma_initializer,
            beta_regularizer=beta_regularizer,
            gamma_regularizer=gamma_regularizer,
            beta_constraint=beta_constraint,
            gamma_constraint=gamma_constraint,
        )
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.renorm = renorm
        self.renorm_clipping = renorm_clipping
        self.renorm_momentum = renorm_momentum
        self.synchronized = synchronized

    def build(self, input_shape):
        _check_axes(self, [self.axis], input_shape)
        (dim,) = _known_dims(self, input_shape, [self.axis])
        shape = (dim,)
        self._add_gamma_beta(shape, self.scale, self.center)
        self.moving_mean = self.add_weight(
            name="moving_mean",
            shape=shape,
            initializer=self.moving_mean_initializer,
            trainable=False,
        )
        self.moving_variance = self.add_weight(
            name="moving_variance",
            shape=shape,
            initializer=self.moving_variance_initializer,
            trainable=False,
        )
        if self.renorm:
            self.moving_stddev = self.add_weight(
                name="moving_stddev",
                shape=shape,
                initializer=_sqrt_of(self.moving_variance_initializer),
                trainable=False,
            )
            self.renorm_mean = self.add_weight(
                name="renorm_mean",
                shape=shape,
                initializer=self.moving_mean_initializer,
                trainable=False,
            )
            self.renorm_stddev = self.add_weight(
                name="renorm_stddev",
                shape=shape,
                initializer=_sqrt_of(self.moving_variance_initializer),
                trainable=False,
            )
        rank = len(input_shape)
        self.input_spec = InputSpec(ndim=rank, axes={self.axis: dim})
        self._axis = self.axis % rank
        self._reduction_axes = tuple(a for a in range(rank) if a != self._axis)
        self.built = True

    def _param_shape(self, ndim):
        shape = [1] * ndim
        shape[self._axis] = -1
        return tuple(shape)

    def call(self, inputs, training=None, mask=None):
        x = inputs
        if mask is not None and len(tuple(mask.shape)) != x.ndim - 1:
            raise ValueError(
                f"BatchNormalization {self.name!r}: the mask must have one dimension less than "
                f"the inputs; received mask shape {tuple(mask.shape)}, inputs shape {x.shape}"
            )
        shape = self._param_shape(x.ndim)
        gamma = ops.reshape(self.gamma, shape) if self.scale else None
        beta = ops.reshape(self.beta, shape) if self.center else None
        if training and self.trainable and self.renorm:
            return self._renorm_call(x, mask)
        if training and self.trainable:
            if mask is None:
                out, mean, var = norm_ops.normalize_moments(
                    x, self._reduction_axes, scale=gamma, offset=beta, epsilon=self.epsilon
                )
            else:
                mean, var = self._masked_moments(x, mask)
                out = norm_ops.batch_normalization(
                    x, mean, var, self._axis, offset=self.beta, scale=self.gamma,
                    epsilon=self.epsilon,
                )  # fmt: skip
            m = self.momentum
            self.moving_mean.assign(
                self.moving_mean.data * m + as_array(mean).reshape(-1) * (1 - m)
            )
            self.moving_variance.assign(
                self.moving_variance.data * m + as_array(var).reshape(-1) * (1 - m)
            )
            return out
        return norm_ops.batch_normalization(
            x,
            self.moving_mean.value,
            self.moving_variance.value,
            self._axis,
            offset=self.beta,
            scale=self.gamma,
            epsilon=self.epsilon,
        )

    def _renorm_call(self, x, mask):
        """Batch renormalization (Ioffe, 2017), Keras's formulas: the batch statistics
        corrected by stop-gradient factors ``r`` and ``d`` towards the renorm averages."""
        if mask is None:
            mean, var = norm_ops.moments(x, self._reduction_axes)
        else:
            mean, var = self._masked_moments(x, mask)
        xp = xp_of(x.data)
        eps = self.epsilon
        m_data, v_data = as_array(mean), as_array(var)
        stddev = xp.sqrt(v_data + eps)
        renorm_stddev = xp.maximum(self.renorm_stddev.data, np.sqrt(eps).astype(stddev.dtype))
        r = stddev / renorm_stddev
        d = (m_data - self.renorm_mean.data) / renorm_stddev
        clip = self.renorm_clipping or {}
        if clip.get("rmin") is not None:
            r = xp.maximum(r, clip["rmin"])
        if clip.get("rmax") is not None:
            r = xp.minimum(r, clip["rmax"])
        if clip.get("dmax") is not None:
            d = xp.clip(d, -clip["dmax"], clip["dmax"])
        r, d = Tensor(r.astype(x.dtype)), Tensor(d.astype(x.dtype))
        if self.scale:
            gamma, beta = r * self.gamma, d * self.gamma
        else:
            gamma, beta = r, d
        if self.center:
            beta = beta + self.beta
        out = norm_ops.batch_normalization(
            x, mean, var, self._axis, offset=beta, scale=gamma, epsilon=eps
        )
        rm, m = self.renorm_momentum, self.momentum
        self.renorm_mean.assign(self.renorm_mean.data * rm + m_data * (1 - rm))
        self.renorm_stddev.assign(self.renorm_stddev.data * rm + stddev * (1 - rm))
        self.moving_mean.assign(self.moving_mean.data * m + m_data * (1 - m))
        moving_stddev = self.moving_stddev.data * m + stddev * (1 - m)
        self.moving_stddev.assign(moving_stddev)
        self.moving_variance.assign(xp.maximum(moving_stddev * moving_stddev - eps, 0))
        return out

    def _masked_moments(self, x, mask):
        from gpuk._config import epsilon as backend_epsilon

        xp = xp_of(x.data)
        keep = xp.broadcast_to(xp.expand_dims(as_array(mask).astype(bool), -1), x.shape)
        weights = Tensor(keep.astype(x.dtype))
        axes = self._reduction_axes
        total = ops.sum(weights, axis=axes, keepdims=True) + backend_epsilon()
        mean = ops.sum(ops.where(keep, x, 0.0), axis=axes, keepdims=True) / total
        diff = ops.where(keep, x - mean, 0.0)
        var = ops.sum(ops.square(diff), axis=axes, keepdims=True) / total
        return ops.reshape(mean, (-1,)), ops.reshape(var, (-1,))

    def compute_output_shape(self, input_shape):
        _check_axes(self, [self.axis], input_shape)
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "axis": self.axis,
                "momentum": self.momentum,
                "epsilon": self.epsilon,
                **self._gamma_beta_config(),
                "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
                "moving_variance_initializer": initializers.serialize(
                    self.moving_variance_initializer
                ),
                "synchronized": self.synchronized,
                "renorm": self.renorm,
                "renorm_clipping": self.renorm_clipping,
                "renorm_momentum": self.renorm_momentum,
            }
        )
        return config


class LayerNormalization(_GammaBetaConfig, Layer):
    """Normalize each sample over ``axis`` (the last by default): ``gamma * (x - mean) /
    sqrt(var + epsilon) + beta``.

    Args:
        axis: int or list of ints.
        epsilon: 1e-3 (Keras's default).
        center, scale, beta_*/gamma_*: as Keras.
        rms_scaling: Keras's deprecated flag, accepted.

    Weights: ``gamma`` then ``beta``, of shape ``input_shape[axis]`` (the sizes of all axes).
    """

    supports_masking = True

    def __init__(
        self,
        axis=-1,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        **kwargs,
    ):
        rms_scaling = kwargs.pop("rms_scaling", False)
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            self.axis = [int(a) for a in axis]
        elif isinstance(axis, (int, np.integer)):
            self.axis = int(axis)
        else:
            raise TypeError(
                "Expected an int or a list/tuple of ints for the argument 'axis', but received: "
                f"{axis!r}"
            )
        self.epsilon = epsilon
        self.rms_scaling = rms_scaling
        self._init_gamma_beta(
            center,
            scale,
            beta_initializer,
            gamma_initializer,
            beta_regularizer=beta_regularizer,
            gamma_regularizer=gamma_regularizer,
            beta_constraint=beta_constraint,
            gamma_constraint=gamma_constraint,
        )

    def _axes(self):
        return self.axis if isinstance(self.axis, list) else [self.axis]

    def build(self, input_shape):
        axes = self._axes()
        _check_axes(self, axes, input_shape)
        if isinstance(self.axis, list):
            self.axis = sorted(self.axis)
            axes = self.axis
        else:
            self.axis = [self.axis]
        shape = _known_dims(self, input_shape, axes)
        self._add_gamma_beta(
            shape, self.scale or self.rms_scaling, self.center and not self.rms_scaling
        )
        self.built = True

    def call(self, inputs):
        return norm_ops._layer_normalization(
            inputs, self.gamma, self.beta, self.axis, self.epsilon, self.rms_scaling
        )

    def compute_output_shape(self, input_shape):
        _check_axes(self, self._axes(), input_shape)
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "axis": self.axis,
                "epsilon": self.epsilon,
                "rms_scaling": self.rms_scaling,
                **self._gamma_beta_config(),
            }
        )
        return config


class GroupNormalization(_GammaBetaConfig, Layer):
    """Normalize over groups of channels: the ``axis`` channels split into ``groups`` groups,
    each normalized over its channels and all the other non-batch axes.

    ``groups=-1`` is instance normalization (one group per channel); ``groups=1`` is layer
    normalization over all non-batch axes. ``groups`` must divide the number of channels.

    Weights: ``gamma``, ``beta`` of shape ``(channels,)``.
    """

    supports_masking = True

    def __init__(
        self,
        groups=32,
        axis=-1,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        **kwargs,
    ):
        if not isinstance(groups, (int, np.integer)) or (groups <= 0 and groups != -1):
            raise ValueError(
                "Received an invalid value for argument `groups`, expected a positive integer "
                f"(or `-1` for instance normalization). Received: groups={groups!r}"
            )
        super().__init__(**kwargs)
        self.groups = int(groups)
        self.axis = axis
        self.epsilon = epsilon
        self._init_gamma_beta(
            center,
            scale,
            beta_initializer,
            gamma_initializer,
            beta_regularizer=beta_regularizer,
            gamma_regularizer=gamma_regularizer,
            beta_constraint=beta_constraint,
            gamma_constraint=gamma_constraint,
        )

    def build(self, input_shape):
        _check_axes(self, [self.axis], input_shape)
        (dim,) = _known_dims(self, input_shape, [self.axis])
        if self.groups == -1:
            self.groups = dim
        if dim < self.groups or dim % self.groups:
            raise ValueError(
                f"GroupNormalization {self.name!r}: groups={self.groups} must divide the number "
                f"of channels {dim} (axis {self.axis} of input shape {tuple(input_shape)})"
            )
        self.input_spec = InputSpec(ndim=len(input_shape), axes={self.axis: dim})
        self._add_gamma_beta((dim,), self.scale, self.center)
        self.built = True

    def call(self, inputs):
        x = inputs
        rank = x.ndim
        axis = self.axis % rank
        dim = x.shape[axis]
        grouped_shape = (*x.shape[:axis], self.groups, dim // self.groups, *x.shape[axis + 1 :])
        grouped = ops.reshape(x, grouped_shape)
        # Statistics over every axis but the batch and the group axis.
        axes = tuple(a for a in range(1, rank + 1) if a != axis)
        param_shape = [1] * (rank + 1)
        param_shape[axis] = self.groups
        param_shape[axis + 1] = dim // self.groups
        gamma = ops.reshape(self.gamma, param_shape) if self.scale else None
        beta = ops.reshape(self.beta, param_shape) if self.center else None
        out = norm_ops.normalize_moments(
            grouped, axes, scale=gamma, offset=beta, epsilon=self.epsilon
        )[0]
        return ops.reshape(out, x.shape)

    def compute_output_shape(self, input_shape):
        _check_axes(self, [self.axis], input_shape)
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "groups": self.groups,
                "axis": self.axis,
                "epsilon": self.epsilon,
                **self._gamma_beta_config(),
            }
        )
        return config


class UnitNormalization(Layer):
    """Scale each sample to unit L2 norm over ``axis``: ``x / max(||x||, 1e-6)`` (as Keras,
    ``x * min(rsqrt(sum(x**2)), 1e12)``). No weights."""

    supports_masking = True

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            self.axis = [int(a) for a in axis]
        elif isinstance(axis, (int, np.integer)):
            self.axis = int(axis)
        else:
            raise TypeError(
                "Invalid value for `axis` argument: expected an int or a list/tuple of ints. "
                f"Received: axis={axis!r}"
            )
        self.built = True

    def call(self, inputs):
        axis = tuple(self.axis) if isinstance(self.axis, list) else self.axis
        return norm_ops.normalize(inputs, axis=axis, order=2, epsilon=1e-12)

    def compute_output_shape(self, input_shape):
        _check_axes(self, self.axis if isinstance(self.axis, list) else [self.axis], input_shape)
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


class RMSNormalization(Layer):
    """Root-mean-square normalization: ``x * rsqrt(mean(x**2, axis) + epsilon) * scale``.

    Weight: ``scale`` (ones), of shape ``input_shape[axis]``.
    """

    def __init__(self, axis=-1, epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis
        self.epsilon = epsilon

    def build(self, input_shape):
        axes = list(self.axis) if isinstance(self.axis, (list, tuple)) else [self.axis]
        _check_axes(self, axes, input_shape)
        if isinstance(self.axis, (list, tuple)):
            self.axis = sorted(self.axis)
            axes = self.axis
        else:
            self.axis = [self.axis]
        shape = _known_dims(self, input_shape, axes)
        self.scale = self.add_weight(name="scale", shape=shape, initializer="ones")
        self.built = True

    def call(self, x):
        return norm_ops.rms_normalization(x, scale=self.scale, axis=self.axis, epsilon=self.epsilon)

    def compute_output_shape(self, input_shape):
        axes = self.axis if isinstance(self.axis, (list, tuple)) else [self.axis]
        _check_axes(self, axes, input_shape)
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"axis": self.axis, "epsilon": self.epsilon})
        return config
