"""Turns what users pass to fit/evaluate/predict into batches for the step functions.

A batch is packed as Keras 3 packs it (``gpuk.utils.pack_x_y_sample_weight``): ``x`` alone,
``(x, y)`` or ``(x, y, sample_weight)``, each keeping the structure the user gave (one array,
a list, a tuple or a dict), with every array leaf a ``gpuk.Tensor`` on the current device.

Arrays are moved to the device once per call and sliced there, so a training step copies no
data between host and device. Generators and ``PyDataset`` objects are converted per batch.
"""

import inspect
import math

import numpy as np

from gpuk._array import asarray, default_module, generator, is_array, to_numpy
from gpuk._config import floatx
from gpuk.autograd import Tensor
from gpuk.layers.base import flatten, pack_like
from gpuk.utils.data import PyDataset, iterate_batches
from gpuk.utils.packing import pack_x_y_sample_weight, unpack_x_y_sample_weight


def _is_number_list(data):
    return (
        isinstance(data, (list, tuple))
        and len(data) > 0
        and all(isinstance(v, (int, float, np.number)) for v in flatten(list(data)))
        and not any(isinstance(v, dict) for v in data)
        and isinstance(data[0], (int, float, np.number, list))
    )


def standardize(structure):
    """Plain nested lists of numbers become one array; other structures are kept."""
    if structure is None:
        return None
    if _is_number_list(structure):
        return np.asarray(structure)
    if isinstance(structure, dict):
        return {k: standardize(v) for k, v in structure.items()}
    if isinstance(structure, (list, tuple)):
        return type(structure)(standardize(v) for v in structure)
    return structure


def to_device(value, xp=None):
    """Float data in floatx on the current device; other numeric dtypes kept, strings on host."""
    if value is None:
        return None
    if isinstance(value, Tensor):
        return value.data
    array = value if is_array(value) else np.asarray(value)
    if array.dtype.kind in "US" or array.dtype == object and _holds_strings(array):
        return array  # strings stay on the host: preprocessing layers turn them into numbers
    dtype = floatx() if array.dtype.kind == "f" or array.dtype == object else None
    return asarray(array, dtype=dtype, xp=xp)


def _wrap(array):
    if array is None or not is_array(array) or array.dtype.kind in "USO":
        return array
    return Tensor(array)


def leaves(structure):
    """The array leaves of a data structure (``None`` for no structure)."""
    return [] if structure is None else flatten(structure)


def _holds_strings(array):
    return array.size > 0 and isinstance(array.reshape(-1)[0], (str, bytes))


def num_samples(arrays, what="inputs"):
    sizes = {int(a.shape[0]) for a in arrays if a is not None and hasattr(a, "shape")}
    if len(sizes) > 1:
        raise ValueError(
            f"All {what} must have the same number of samples; got sizes {sorted(sizes)}"
        )
    return sizes.pop() if sizes else 0


def batch_size_of(x):
    """Samples in a batch: the first dimension of the first array in ``x``."""
    for leaf in leaves(x):
        shape = getattr(leaf, "shape", None)
        if shape is not None and len(shape):
            return int(shape[0])
    return 1


def is_generator_like(data):
    return (
        inspect.isgenerator(data)
        or isinstance(data, PyDataset)
        or (hasattr(data, "__next__") and not is_array(data))
        or (
            hasattr(data, "__getitem__")
            and hasattr(data, "__len__")
            and hasattr(data, "on_epoch_end")
        )
    )


def _cut(structure, start, stop):
    if structure is None:
        return None
    return pack_like(structure, [None if a is None else a[start:stop] for a in flatten(structure)])


def split_validation(x, y, sample_weight, validation_split):
    """Keras's rule: the last ``validation_split`` fraction, taken before any shuffling."""
    if not 0.0 < validation_split < 1.0:
        raise ValueError(f"validation_split must be in (0, 1), got {validation_split}")
    n = num_samples(leaves(x) + leaves(y) + leaves(sample_weight), "inputs and targets")
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at in (0, n):
        raise ValueError(
            f"validation_split={validation_split} leaves no samples for training or validation "
            f"out of {n}"
        )
    return (
        (_cut(x, 0, split_at), _cut(y, 0, split_at), _cut(sample_weight, 0, split_at)),
        (_cut(x, split_at, n), _cut(y, split_at, n), _cut(sample_weight, split_at, n)),
    )


def class_weights_to_sample_weights(y, class_weight):
    """Per-sample weights from a ``{class: weight}`` dict and the targets (sparse or one-hot)."""
    targets = leaves(y)
    if len(targets) != 1:
        raise ValueError(
            "class_weight is only supported for models with one output; the targets have "
            f"{len(targets)} arrays"
        )
    labels = np.asarray(to_numpy(targets[0].data if isinstance(targets[0], Tensor) else targets[0]))
    if labels.ndim > 1 and labels.shape[-1] > 1:
        labels = labels.argmax(axis=-1)
    labels = labels.reshape(labels.shape[0], -1)[:, 0].astype(int)
    table = np.ones(max(max(class_weight) + 1, labels.max() + 1), dtype=np.float64)
    for cls, weight in class_weight.items():
        table[int(cls)] = weight
    return table[labels]


class ArrayBatches:
    """Batches of arrays already on the device; shuffles a fresh order each epoch."""

    def __init__(self, x, y, sample_weight, batch_size, shuffle=False, steps=None):
        self.xp = default_module()
        self.structures = [standardize(x), standardize(y), standardize(sample_weight)]
        self.flat = [
            None if s is None else [to_device(a, self.xp) for a in flatten(s)]
            for s in self.structures
        ]
        arrays = [a for part in self.flat if part for a in part]
        self.size = num_samples(arrays, "inputs and targets")
        if self.size == 0 and self.flat[0]:
            # An empty epoch would never advance ``step``: refuse instead of looping forever.
            raise ValueError("Expected input data to be non-empty; received 0 samples")
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.batches_per_pass = max(1, math.ceil(self.size / batch_size))
        self.steps = steps or self.batches_per_pass
        self.exhausted = False

    def __len__(self):
        return self.steps

    def epoch(self):
        """Yield packed batches ``x`` / ``(x, y)`` / ``(x, y, sample_weight)`` for one epoch."""
        order = None
        step = 0
        while step < self.steps:
            if self.shuffle:
                if self.shuffle == "batch":
                    starts = generator(np).permutation(self.batches_per_pass) * self.batch_size
                    order = np.concatenate(
                        [np.arange(s, min(s + self.batch_size, self.size)) for s in starts]
                    )
                else:
                    order = generator(np).permutation(self.size)
                order = self.xp.asarray(order)
            for start in range(0, self.size, self.batch_size):
                if step >= self.steps:
                    return
                index = (
                    slice(start, start + self.batch_size)
                    if order is None
                    else order[start : start + self.batch_size]
                )
                parts = [
                    None if flat is None else pack_like(s, [_take(a, index) for a in flat])
                    for s, flat in zip(self.structures, self.flat)
                ]
                yield pack_x_y_sample_weight(*parts)
                step += 1


def _take(array, index):
    if array is None:
        return None
    if isinstance(array, np.ndarray) and not isinstance(index, slice):
        index = to_numpy(index)  # host string data indexed by a device permutation
    return _wrap(array[index])


def convert_batch(item):
    """One generator/PyDataset item as a packed batch of device Tensors."""
    x, y, sw = unpack_x_y_sample_weight(item)

    def convert(structure):
        if structure is None:
            return None
        structure = standardize(structure)
        return pack_like(structure, [_wrap(to_device(a)) for a in flatten(structure)])

    return pack_x_y_sample_weight(convert(x), convert(y), convert(sw))


class GeneratorBatches:
    """Batches from a Python generator/iterator or a ``PyDataset``/``Sequence``."""

    def __init__(self, data, steps=None):
        self.data = data
        self.indexable = hasattr(data, "__getitem__") and hasattr(data, "__len__")
        self.steps = steps if steps is not None else (len(data) if self.indexable else None)
        self.exhausted = False

    def __len__(self):
        return self.steps

    def epoch(self):
        if self.indexable:
            items = iterate_batches(self.data, self.steps)
        else:
            iterator = iter(self.data)
            items = _take_items(iterator, self.steps)
        count = 0
        for item in items:
            count += 1
            yield convert_batch(item)
        if not self.indexable and self.steps is not None and count < self.steps:
            self.exhausted = True
        if hasattr(self.data, "on_epoch_end"):
            self.data.on_epoch_end()
        if not self.indexable and self.steps is None:
            self.exhausted = True


def _take_items(iterator, limit):
    count = 0
    while limit is None or count < limit:
        try:
            yield next(iterator)
        except StopIteration:
            return
        count += 1
