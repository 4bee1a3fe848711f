"""Shared machinery of the preprocessing layers: host/device conversion, adapt, random draws.

Preprocessing layers are not differentiated: they compute on raw arrays and return Tensors.
String inputs stay NumPy arrays on the host (a GPU holds no strings); lookups and hashing run
there and only their numeric outputs move to the device. Numeric inputs stay on their device.

Random layers draw their parameters (angles, flips, factors ...) on the host from a NumPy
generator created from ``seed``; with ``seed=None`` the generator's seed is drawn from gpuk's
global generator, so ``gpuk.utils.set_random_seed(s)`` before building the layers makes a run
reproducible, as in Keras.
"""

import numpy as np

from gpuk._array import asarray, default_module, fresh_seed, get_array_module, is_array, to_numpy
from gpuk.autograd import Tensor
from gpuk.layers.base import KerasTensor, Layer

__all__ = ["PreprocessingLayer", "host", "is_string_array", "to_device"]


def is_string_array(value):
    """True for NumPy arrays of str, bytes or Python objects (how strings arrive)."""
    return isinstance(value, np.ndarray) and value.dtype.kind in "OUS"


def host(value):
    """``value`` (Tensor, NumPy/CuPy array, list, scalar) as a NumPy array."""
    if isinstance(value, Tensor):
        value = value.data
    if is_array(value):
        return np.asarray(to_numpy(value))
    return np.asarray(value)


def raw(value):
    """The array inside a Tensor; NumPy for anything that is not yet an array."""
    if isinstance(value, Tensor):
        return value.data
    if is_array(value):
        return value
    return np.asarray(value)


def to_device(array, like=None):
    """A Tensor on the device of ``like`` (an array), else on the current device."""
    xp = get_array_module(like) if like is not None else default_module()
    return Tensor(asarray(array, xp=xp))


def iterate_batches(data, batch_size=None, steps=None):
    """Yield NumPy batches from an array, list, dict-free iterable or ``tf.data``-like dataset."""
    if isinstance(data, Tensor) or is_array(data) or isinstance(data, (list, tuple)):
        array = host(data)
        if batch_size is None:
            yield array
            return
        for start in range(0, len(array), int(batch_size)):
            yield array[start : start + int(batch_size)]
        return
    count = 0
    for item in data:
        if steps is not None and count >= steps:
            break
        if isinstance(item, tuple) and len(item) in (1, 2, 3):
            item = item[0]  # (x, y) pairs: adapt uses x, as Keras does
        if hasattr(item, "numpy") and not isinstance(item, Tensor):
            item = item.numpy()
        yield host(item)
        count += 1


def string_dtype(dtype):
    """True for the spellings of a string dtype (``"string"``, ``str``, ``object``)."""
    return dtype in ("string", "str", "object", str, object, bytes) or (
        isinstance(dtype, np.dtype) and dtype.kind in "OUS"
    )


class PreprocessingLayer(Layer):
    """Base of gpuk's preprocessing layers: string inputs stay on the host; ``adapt`` API.

    Subclasses that learn state implement ``update_state(batch)`` (a NumPy batch) and
    ``finalize_state()``; :meth:`adapt` feeds them.
    """

    _adapt_required = False
    _single_input = True

    def __call__(self, *args, **kwargs):
        if self._single_input and args:
            first = args[0]
            if isinstance(first, (str, bytes)) or (
                isinstance(first, (list, tuple)) and _contains_strings(first)
            ):
                # A (nested) list of strings is one string array, not a structure of inputs.
                args = (np.asarray(first, dtype=object), *args[1:])
        return super().__call__(*args, **kwargs)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._is_adapted = False

    @property
    def is_adapted(self):
        """Whether :meth:`adapt` has run."""
        return self._is_adapted

    def _convert_input(self, value):
        if is_string_array(value):
            return Tensor(value)
        if isinstance(value, (list, tuple)) and _contains_strings(value):
            return Tensor(np.asarray(value, dtype=object))
        if isinstance(value, (str, bytes)):
            return Tensor(np.asarray(value, dtype=object))
        if isinstance(value, Tensor) or is_array(value):
            return value if isinstance(value, Tensor) else Tensor(value)
        if isinstance(value, (int, float, np.generic, list, tuple)):
            return Tensor(np.asarray(value))
        return value

    def adapt(self, data, batch_size=None, steps=None):
        """Compute the layer's state (vocabulary, mean, bins ...) from ``data``.

        Args:
            data: an array or list, or an iterable of batches (a generator, a ``tf.data``
                dataset, a ``PyDataset``); ``(x, y)`` batches use ``x``.
            batch_size: cut an array into batches of this size.
            steps: at most this many batches of an iterable.
        """
        self.reset_state()
        for batch in iterate_batches(data, batch_size, steps):
            self.update_state(batch)
        self.finalize_state()
        self._is_adapted = True

    def reset_state(self):
        """Forget what :meth:`adapt` learned."""

    def update_state(self, data):
        raise NotImplementedError(f"{type(self).__name__} cannot be adapted")

    def finalize_state(self):
        """Turn the accumulated statistics into the layer's state."""

    def compute_output_spec(self, *args, **kwargs):
        shape = self.compute_output_shape(args[0].shape)
        return KerasTensor(shape, dtype=self._symbolic_dtype(args[0].dtype), name=self.name)

    def _symbolic_dtype(self, input_dtype):
        return self.compute_dtype


def _contains_strings(value):
    for item in value:
        if isinstance(item, (str, bytes)):
            return True
        if isinstance(item, (list, tuple)):
            return _contains_strings(item)
        return False
    return False


class SeededLayerMixin:
    """A per-layer NumPy generator seeded from ``seed`` (or from gpuk's global generator)."""

    def _init_seed(self, seed):
        self.seed = seed
        self._rng = np.random.default_rng(seed if seed is not None else fresh_seed())

    @property
    def rng(self):
        return self._rng
