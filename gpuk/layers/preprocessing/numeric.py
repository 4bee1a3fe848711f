"""Normalization and Discretization: numeric features scaled or bucketed, learned by ``adapt``."""

import math

import numpy as np

from gpuk._array import asarray, get_array_module
from gpuk._config import epsilon as _epsilon
from gpuk.autograd import Tensor
from gpuk.layers.preprocessing.base import PreprocessingLayer, host, iterate_batches, raw, to_device
from gpuk.layers.preprocessing.encoding_utils import encode, encoded_shape

__all__ = ["Discretization", "Normalization"]


class Normalization(PreprocessingLayer):
    """Shift and scale inputs to zero mean and unit variance: ``(x - mean) / sqrt(var)``.

    Args:
        axis: the axis (or axes) that keep their own mean and variance (``-1``: per feature);
            None: one mean and variance for everything.
        mean, variance: fixed statistics (both or neither); otherwise :meth:`adapt` them.
        invert: apply the inverse, ``mean + x * sqrt(var)``.

    After :meth:`build` the layer has non-trainable weights ``mean``, ``variance`` and ``count``
    (as Keras's), which ``.keras``/``.weights.h5`` files carry.
    """

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        elif isinstance(axis, int):
            axis = (axis,)
        else:
            axis = tuple(axis)
        self.axis = axis
        self.input_mean = mean
        self.input_variance = variance
        self.invert = bool(invert)
        self.supports_masking = True
        self._build_input_shape = None
        self.mean = None
        self.variance = None
        if (mean is not None) != (variance is not None):
            raise ValueError(
                "When setting values directly, both `mean` and `variance` must be set. "
                f"Received: mean={mean} and variance={variance}"
            )
        if mean is not None and np.shape(mean) != np.shape(variance):
            raise ValueError(
                "When setting values directly, `mean` and `variance` must have the same shape. "
                f"Received: mean shape {np.shape(mean)} and variance shape {np.shape(variance)}"
            )
        if mean is not None and len(np.shape(mean)) > len(self.axis):
            raise ValueError(
                "The rank of `mean` must be less than or equal to the number of axes "
                f"({len(self.axis)}). Received: mean shape {np.shape(mean)} for axis {self.axis}"
            )

    def build(self, input_shape):
        if input_shape is None:
            return
        input_shape = tuple(input_shape)
        ndim = len(input_shape)
        self._build_input_shape = input_shape
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError(
                "All `axis` values must be in the range [-ndim, ndim). Received inputs with "
                f"ndim={ndim}, while axis={self.axis}"
            )
        self._keep_axis = tuple(sorted(a % ndim for a in self.axis))
        for d in self._keep_axis:
            if input_shape[d] is None:
                raise ValueError(
                    f"All `axis` values to be kept must have a known shape. Received axis="
                    f"{self.axis}, inputs.shape={input_shape}, with unknown axis at index {d}"
                )
        self._reduce_axis = tuple(d for d in range(ndim) if d not in self._keep_axis)
        self._broadcast_shape = [input_shape[d] if d in self._keep_axis else 1 for d in range(ndim)]
        self._mean_and_var_shape = tuple(input_shape[d] for d in self._keep_axis)
        if self.input_mean is None:
            self.adapt_mean = self.add_weight(
                name="mean", shape=self._mean_and_var_shape, initializer="zeros", trainable=False
            )
            self.adapt_variance = self.add_weight(
                name="variance",
                shape=self._mean_and_var_shape,
                initializer="ones",
                trainable=False,
            )
            self.count = self.add_weight(
                name="count", shape=(), dtype="int64", initializer="zeros", trainable=False
            )
            self.built = True
            self.finalize_state()
        else:
            mean = np.asarray(host(self.input_mean), dtype=np.float64)
            variance = np.asarray(host(self.input_variance), dtype=np.float64)
            if mean.ndim:
                expanded = [1] * ndim
                for i in range(1, mean.ndim + 1):
                    expanded[self._keep_axis[-i]] = mean.shape[-i]
                mean = mean.reshape(expanded)
                variance = variance.reshape(expanded)
            self._set_statistics(
                np.broadcast_to(mean, self._broadcast_shape),
                np.broadcast_to(variance, self._broadcast_shape),
            )
            self.built = True

    def adapt(self, data, batch_size=None, steps=None):
        """Compute the mean and variance of ``data`` (an array or an iterable of batches)."""
        if self.input_mean is not None:
            raise ValueError(
                f"Normalization {self.name!r} was given `mean` and `variance`; it cannot adapt."
            )
        batches = iterate_batches(data, batch_size, steps)
        first = next(batches, None)
        if first is None:
            raise ValueError(
                "adapt() received an empty iterable (no batches). Expected at least one batch."
            )
        if not self.built:
            self.build(first.shape)
        else:
            for d in self._keep_axis:
                if first.shape[d] != self._build_input_shape[d]:
                    raise ValueError(
                        f"The layer was built with input_shape={self._build_input_shape}, but "
                        "adapt() is being called with data with an incompatible shape, "
                        f"data.shape={first.shape}"
                    )
        total_mean = np.zeros(self._mean_and_var_shape)
        total_var = np.zeros(self._mean_and_var_shape)
        total_count = 0
        for batch in _chain(first, batches):
            batch = np.asarray(batch, dtype=np.float64)
            batch_mean = batch.mean(axis=self._reduce_axis)
            batch_var = batch.var(axis=self._reduce_axis)
            count = math.prod(batch.shape[d] for d in self._reduce_axis) if self._reduce_axis else 1
            total_count += count
            w = count / total_count
            new_mean = total_mean * (1 - w) + batch_mean * w
            total_var = (total_var + (total_mean - new_mean) ** 2) * (1 - w) + (
                batch_var + (batch_mean - new_mean) ** 2
            ) * w
            total_mean = new_mean
        self.adapt_mean.assign(total_mean.astype(self.compute_dtype))
        self.adapt_variance.assign(total_var.astype(self.compute_dtype))
        self.count.assign(np.asarray(total_count, dtype=np.int64))
        self.finalize_state()
        self._is_adapted = True

    def finalize_state(self):
        if self.input_mean is not None or not self.built:
            return
        self._set_statistics(
            host(self.adapt_mean).reshape(self._broadcast_shape),
            host(self.adapt_variance).reshape(self._broadcast_shape),
        )

    def _set_statistics(self, mean, variance):
        """``mean``/``variance`` as Tensors on the device (``layer.mean.numpy()`` works)."""
        self._statistics = (
            to_device(np.asarray(mean, dtype=self.compute_dtype)),
            to_device(np.asarray(variance, dtype=self.compute_dtype)),
        )
        object.__setattr__(self, "mean", self._statistics[0])
        object.__setattr__(self, "variance", self._statistics[1])

    def load_own_variables(self, store):
        """Restore ``mean``/``variance``/``count`` (Keras's order) and refresh the statistics."""
        keys = sorted(store, key=lambda k: int(k) if str(k).isdigit() else -1)
        for variable, key in zip(self._trainable_variables + self._non_trainable_variables, keys):
            variable.assign(np.asarray(store[key]).astype(variable.dtype))
        self.finalize_state()

    def call(self, inputs):
        if self.mean is None:
            raise ValueError("You must call `.build(input_shape)` on the layer before using it.")
        # computed where the statistics live: host inputs meet device statistics on the GPU
        xp = get_array_module(self.mean.data)
        x = asarray(raw(inputs), xp=xp)
        if x.dtype.name != self.compute_dtype:
            x = x.astype(self.compute_dtype)
        mean = self.mean.data
        variance = self.variance.data
        std = xp.maximum(xp.sqrt(variance), float(_epsilon())).astype(x.dtype)
        if self.invert:
            return Tensor(mean + x * std)
        return Tensor((x - mean) / std)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "axis": self.axis,
                "invert": self.invert,
                "mean": np.array(
                    host(self.input_mean) if self.input_mean is not None else None
                ).tolist(),
                "variance": np.array(
                    host(self.input_variance) if self.input_variance is not None else None
                ).tolist(),
            }
        )
        return config

    def get_build_config(self):
        if self._build_input_shape:
            return {"input_shape": list(self._build_input_shape)}
        return None

    def build_from_config(self, config):
        if config and config.get("input_shape") is not None:
            self.build(tuple(config["input_shape"]))


def _chain(first, rest):
    yield first
    yield from rest


def _summarize(values, epsilon):
    """Keras's quantile summary of one batch: every ``step``-th sorted value, weight ``step``."""
    values = np.sort(np.reshape(values, [-1]))
    step = max(values.size * epsilon, 1)
    boundaries = values[int(step - 1) :: int(step)]
    return np.stack([boundaries, np.ones_like(boundaries) * step])


def _compress(summary, epsilon):
    """Re-bin a summary to ``1 / epsilon`` points by interpolating its cumulative weights."""
    if summary.shape[1] * epsilon < 1:
        return summary
    percents = epsilon + np.arange(0.0, 1.0, epsilon)
    cumulative = summary[1].cumsum()
    fractions = cumulative / cumulative[-1]
    bins = np.interp(percents, fractions, summary[0])
    cumulative = np.interp(percents, fractions, cumulative)
    weights = cumulative - np.concatenate((np.array([0]), cumulative[:-1]))
    return np.stack((bins, weights)).astype("float32")


class Discretization(PreprocessingLayer):
    """Bucket numeric inputs by boundaries (given, or learned as quantiles by ``adapt``).

    Args:
        bin_boundaries: sorted boundaries; ``x`` goes to bin ``i`` with
            ``bins[i-1] <= x < bins[i]``.
        num_bins: number of bins to learn with :meth:`adapt` (instead of ``bin_boundaries``).
        epsilon: error tolerance of the quantile summary (Keras's algorithm, same results).
        output_mode: ``"int"`` (int32 indices), ``"one_hot"``, ``"multi_hot"``, ``"count"``.
        sparse: not supported.
    """

    def __init__(
        self,
        bin_boundaries=None,
        num_bins=None,
        epsilon=0.01,
        output_mode="int",
        sparse=False,
        dtype=None,
        name=None,
        **kwargs,
    ):
        super().__init__(name=name, dtype=dtype, **kwargs)
        if sparse:
            raise ValueError("Discretization: `sparse=True` is not supported by gpuk.")
        if output_mode not in ("int", "one_hot", "multi_hot", "count"):
            raise ValueError(
                "Invalid value for argument `output_mode` of Discretization. Expected one of "
                f"('int', 'one_hot', 'multi_hot', 'count'). Received: output_mode={output_mode}"
            )
        if num_bins is not None and num_bins < 0:
            raise ValueError(
                f"`num_bins` must be greater than or equal to 0. Received: `num_bins={num_bins}`"
            )
        if num_bins is not None and bin_boundaries is not None:
            raise ValueError(
                "Both `num_bins` and `bin_boundaries` should not be set. Received: "
                f"`num_bins={num_bins}` and `bin_boundaries={bin_boundaries}`"
            )
        if num_bins is None and bin_boundaries is None:
            raise ValueError("You need to set either `num_bins` or `bin_boundaries`.")
        self.bin_boundaries = list(bin_boundaries) if bin_boundaries is not None else None
        self.num_bins = num_bins
        self.epsilon = epsilon
        self.output_mode = output_mode
        self.sparse = False
        self.summary = None if self.bin_boundaries else np.array([[], []], dtype="float32")

    @property
    def output_dtype(self):
        return self.compute_dtype if self.output_mode != "int" else "int32"

    def adapt(self, data, batch_size=None, steps=None):
        """Learn ``num_bins`` quantile boundaries from ``data``."""
        if self.num_bins is None:
            raise ValueError(
                "Cannot adapt a Discretization layer that has been initialized with "
                "`bin_boundaries`, use `num_bins` instead."
            )
        super().adapt(data, batch_size=batch_size, steps=steps)

    def reset_state(self):
        if self.num_bins is not None:
            self.summary = np.array([[], []], dtype="float32")

    def update_state(self, data):
        summary = _summarize(np.asarray(data).astype("float32"), self.epsilon)
        merged = np.concatenate((summary, self.summary), axis=1)
        merged = np.take(merged, np.argsort(merged[0]), axis=1)
        self.summary = _compress(merged, self.epsilon)

    def finalize_state(self):
        if self.num_bins is None:
            return
        self.bin_boundaries = _compress(self.summary, 1.0 / self.num_bins)[0, :-1].tolist()

    def load_own_variables(self, store):
        if len(store) == 1:
            self.summary = np.asarray(store["0"])
            self.finalize_state()

    def call(self, inputs):
        if self.bin_boundaries is None:
            raise ValueError(
                "You need to either pass the `bin_boundaries` argument at construction time or "
                "call `adapt(dataset)` before you can start using the `Discretization` layer."
            )
        x = raw(inputs)
        xp = get_array_module(x)
        bins = xp.asarray(np.asarray(self.bin_boundaries, dtype=np.float64))
        indices = xp.digitize(x.astype(np.float64) if x.dtype.kind != "f" else x, bins)
        depth = len(self.bin_boundaries) + 1
        if self.output_mode == "int":
            return Tensor(indices.astype("int32"))
        return to_device(encode(host(indices), self.output_mode, depth, self.output_dtype), x)

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        depth = len(self.bin_boundaries) + 1 if self.bin_boundaries is not None else self.num_bins
        return encoded_shape(input_shape, self.output_mode, depth)

    def _symbolic_dtype(self, input_dtype):
        return self.output_dtype

    def get_config(self):
        return {
            "bin_boundaries": self.bin_boundaries,
            "num_bins": self.num_bins,
            "epsilon": self.epsilon,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
            "name": self.name,
            "dtype": self.dtype,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        if config.get("bin_boundaries") is not None and config.get("num_bins") is not None:
            boundaries = config.pop("bin_boundaries")
            layer = cls(**config)
            layer.bin_boundaries = boundaries
            return layer
        return cls(**config)
