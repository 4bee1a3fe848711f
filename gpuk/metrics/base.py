"""Stateful metrics: the ``Metric`` base, ``Mean``, ``Sum`` and ``MeanMetricWrapper``.

Metric state lives in non-trainable Variables on the device; ``update_state`` works on the
device arrays and never copies to the host. ``result()`` returns a 0-d Tensor; converting it
(``float(...)``, ``.numpy()``) is the caller's business at the API boundary.
"""

import numpy as np

from gpuk import _config
from gpuk._array import default_module, get_array_module
from gpuk.autograd import Tensor, Variable, as_array, is_recording, no_grad
from gpuk.metrics.serialization import deserialize
from gpuk.utils.naming import to_snake_case
from gpuk.utils.serialization import get_registered_name


def _data(value):
    return value.data if isinstance(value, Tensor) else value


def _rank(a):
    return len(a.shape)


def _is_number(value):
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def squeeze_or_expand(x1, x2, expand_rank_1=True):
    """Keras's rank alignment on raw arrays (see ``gpuk.losses.loss``)."""
    r1, r2 = _rank(x1), _rank(x2)
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = x2[..., None]
        else:
            x1 = x1[..., 0]
    elif r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = x1[..., None]
        else:
            x2 = x2[..., 0]
    return x1, x2


def _initial_array(xp, shape, dtype, initializer):
    if initializer is None or initializer in ("zeros", "Zeros"):
        return xp.zeros(shape, dtype=dtype)
    if initializer in ("ones", "Ones"):
        return xp.ones(shape, dtype=dtype)
    if isinstance(initializer, (int, float)):
        return xp.full(shape, initializer, dtype=dtype)
    if callable(initializer):
        value = initializer(shape, dtype=dtype)
        return xp.asarray(_data(value), dtype=dtype)
    raise ValueError(
        f"Metric.add_variable: unsupported initializer {initializer!r} "
        "(use 'zeros', 'ones', a number or a callable(shape, dtype))"
    )


class Metric:
    """Base class of stateful metrics.

    Subclasses create their state with :meth:`add_variable` (or ``add_weight``) in
    ``__init__``, accumulate in ``update_state(y_true, y_pred, sample_weight=None)`` and
    compute the value in ``result()``. ``reset_state()`` sets every variable back to zero.

    Args:
        name: the metric's name (used in logs); the snake-case class name by default.
        dtype: dtype of the state, ``floatx()`` by default.
    """

    def __init__(self, name=None, dtype=None):
        self.name = name or to_snake_case(type(self).__name__)
        self._dtype = np.dtype(dtype or _config.floatx()).name
        self._variables = []

    @property
    def dtype(self):
        """The state's dtype name, such as ``'float32'``."""
        return self._dtype

    @property
    def variables(self):
        """The state Variables, in creation order."""
        return list(self._variables)

    weights = variables

    @property
    def non_trainable_weights(self):
        return list(self._variables)

    @property
    def trainable_weights(self):
        return []

    def add_variable(self, shape=(), initializer="zeros", dtype=None, aggregation="sum", name=None):
        """Create a state Variable (non-trainable) on the current device and track it."""
        if isinstance(shape, str):  # tf.keras's add_weight(name, shape=...)
            shape, name = (), shape
        shape = (shape,) if isinstance(shape, int) else tuple(shape or ())
        dtype = np.dtype(dtype or self._dtype)
        value = _initial_array(default_module(), shape, dtype, initializer)
        variable = Variable(value, trainable=False, name=name or f"variable_{len(self._variables)}")
        variable.path = f"{self.name}/{variable.name}"
        variable.aggregation = aggregation
        self._variables.append(variable)
        return variable

    def add_weight(
        self, name=None, shape=(), initializer="zeros", dtype=None, aggregation="sum", **kwargs
    ):
        """tf.keras spelling of :meth:`add_variable` (``name`` first)."""
        if not isinstance(name, (str, type(None))):  # Keras 3's add_weight(shape, ...)
            name, shape = kwargs.pop("name", None), name
        return self.add_variable(shape, initializer, dtype, aggregation, name)

    def update_state(self, *args, **kwargs):
        """Accumulate statistics; subclasses implement it."""
        raise NotImplementedError(f"{type(self).__name__} must implement update_state")

    def result(self):
        """The metric value from the accumulated state; subclasses implement it."""
        raise NotImplementedError(f"{type(self).__name__} must implement result")

    def reset_state(self):
        """Set every state variable to zero (one new zero array per variable)."""
        for variable in self._variables:
            data = variable.data
            variable.data = get_array_module(data).zeros(data.shape, data.dtype)

    def reset_states(self):
        """tf.keras spelling of :meth:`reset_state`."""
        self.reset_state()

    def __call__(self, *args, **kwargs):
        """``update_state(*args, **kwargs)``, then return ``result()``."""
        self.update_state(*args, **kwargs)
        return self.result()

    def _like(self, value, dtype=None):
        """``value`` as an array on the state's device, in the state dtype by default."""
        like = self._variables[0].data if self._variables else None
        array = as_array(_data(value), like)
        return array.astype(dtype or self._dtype, copy=False)

    def get_config(self):
        """``{'name': ..., 'dtype': ...}`` plus the subclass's constructor arguments."""
        return {"name": self.name, "dtype": self._dtype}

    @classmethod
    def from_config(cls, config):
        """Build the metric from :meth:`get_config`'s output."""
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


def _set(variable, new):
    """``variable.assign(new)`` for the result of arithmetic on its own 0-d value: the
    array is taken as it is when its type, dtype and shape already match (a NumPy scalar
    becomes a 0-d array), skipping ``assign``'s conversions."""
    old = variable.data
    if type(new) is not type(old) and isinstance(new, np.generic) and type(old) is np.ndarray:
        new = np.asarray(new)
    if type(new) is type(old) and new.dtype == old.dtype and new.shape == old.shape == ():
        variable.data = new
    else:
        variable.assign(new)


def reduce_to_samplewise(xp, values, sample_weight, reduce_fn):
    """Keras's per-sample reduction of metric values, weighting first when weights are given.

    Returns ``(values of shape (batch,) or (), weights or None)``.
    """
    if sample_weight is not None:
        values, sample_weight = squeeze_or_expand(values, sample_weight)
        wdim, vdim = _rank(sample_weight), _rank(values)
        if vdim > wdim:
            values = reduce_fn(values, axis=tuple(range(wdim, vdim)))
        try:
            if isinstance(sample_weight, np.generic):  # a number: a fill, not an upload
                sample_weight = xp.full(values.shape, sample_weight, dtype=sample_weight.dtype)
            else:
                sample_weight = xp.broadcast_to(sample_weight, values.shape)
        except ValueError:
            raise ValueError(
                f"sample_weight of shape {tuple(sample_weight.shape)} cannot be broadcast to "
                f"the metric values of shape {tuple(values.shape)}"
            ) from None
        values = values * sample_weight
        if wdim > 1:
            sample_weight = reduce_fn(sample_weight, axis=tuple(range(1, wdim)))
    if _rank(values) > 1:
        values = reduce_fn(values, axis=tuple(range(1, _rank(values))))
    return values, sample_weight


class _Reduce(Metric):
    def __init__(self, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable((), name="total")

    def _samplewise(self, values, sample_weight):
        mask = getattr(values, "_keras_mask", None)
        values = self._like(values)
        xp = get_array_module(values)
        if sample_weight is not None:
            sample_weight = self._like(sample_weight)
            if mask is not None:
                # Keras 3 applies a mask carried by the values only along with sample weights.
                mask, sample_weight = squeeze_or_expand(self._like(mask), sample_weight)
                sample_weight = sample_weight * mask
        reduce_fn = xp.sum if self._reduction == "sum" else xp.mean
        return reduce_to_samplewise(xp, values, sample_weight, reduce_fn)


class Sum(_Reduce):
    """Weighted sum of the given values over all updates.

    Args:
        name, dtype: see :class:`Metric`.
    """

    _reduction = "sum"

    def update_state(self, values, sample_weight=None):
        """Add ``sum(values * sample_weight)``."""
        values, _ = self._samplewise(values, sample_weight)
        _set(self.total, self.total.data + values.sum())

    def result(self):
        return Tensor(self.total.data.copy())


class Mean(_Reduce):
    """Weighted mean of the given values over all updates: ``total / count``.

    Per-sample values are first averaged over their trailing axes; ``count`` grows by the
    number of samples, or by the sum of the sample weights.

    Args:
        name, dtype: see :class:`Metric`.
    """

    _reduction = "mean"

    def __init__(self, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.count = self.add_variable((), name="count")

    def update_state(self, values, sample_weight=None):
        """Accumulate ``values`` (any shape), weighted by ``sample_weight``."""
        if sample_weight is None or _is_number(sample_weight):
            total = self.total.data
            scalar = values.data if isinstance(values, Tensor) else values
            if type(scalar) is not type(total) or scalar.dtype != total.dtype:
                scalar = self._like(values)
            if scalar.ndim == 0:
                # A scalar weighted by a Python number (fit's loss tracker): Python numbers
                # enter the device computation as kernel arguments, with no host transfer.
                weight = 1 if sample_weight is None else sample_weight
                _set(self.total, total + scalar * weight)
                _set(self.count, self.count.data + weight)
                return
        values, sample_weight = self._samplewise(values, sample_weight)
        _set(self.total, self.total.data + values.sum())
        if sample_weight is not None:
            count = sample_weight.sum()
        else:
            count = values.shape[0] if _rank(values) >= 1 else 1
        _set(self.count, self.count.data + count)

    def result(self):
        """``total / count``, 0 before any update."""
        total, count = self.total.data, self.count.data
        empty = count == 0
        value = total / (count + empty)  # count, or 1 where it is 0
        xp = get_array_module(total)
        return Tensor(xp.where(empty, xp.zeros(value.shape, value.dtype), value))


class MeanMetricWrapper(Mean):
    """The sample-weighted mean of ``fn(y_true, y_pred, **kwargs)`` over all updates.

    A user metric function is averaged over samples across the whole epoch this way (not
    averaged per batch and then over batches). A mask carried by ``y_pred``
    (``_keras_mask``) leaves masked entries out.

    Args:
        fn: ``fn(y_true, y_pred, **kwargs)`` returning per-sample (or per-element) values.
        name: the metric's name; the function's name by default.
        dtype: see :class:`Metric`.
        **kwargs: passed to ``fn``.
    """

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", None), dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Evaluate ``fn`` on the batch (without recording gradients) and accumulate it."""
        mask = getattr(y_pred, "_keras_mask", None)
        if is_recording():
            with no_grad():
                values = self._fn(y_true, y_pred, **self._fn_kwargs)
        else:  # nothing records here (train_step updates metrics after its tape)
            values = self._fn(y_true, y_pred, **self._fn_kwargs)
        if mask is not None:
            mask = self._like(mask)
            if sample_weight is None:
                sample_weight = mask
            else:
                weight, mask = squeeze_or_expand(self._like(sample_weight), mask)
                if _rank(weight) < _rank(mask):
                    weight = weight.reshape(weight.shape + (1,) * (_rank(mask) - _rank(weight)))
                sample_weight = weight * mask
        super().update_state(values, sample_weight=sample_weight)

    def get_config(self):
        config = super().get_config()
        if type(self) is MeanMetricWrapper:
            config["fn"] = get_registered_name(self._fn)
        config.update(self._fn_kwargs)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if cls is MeanMetricWrapper and isinstance(config.get("fn"), str):
            # A saved name is a function's name: Keras's table resolves it as
            # gpuk.metrics.get does (get differs only for the shape-dependent
            # 'crossentropy'/'ce' shorthands, which name no function).
            config["fn"] = deserialize(config["fn"])
            if isinstance(config["fn"], MeanMetricWrapper):
                config["fn"] = config["fn"]._fn
        return cls(**config)
