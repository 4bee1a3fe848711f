"""Turns what users pass to fit/evaluate/predict into batches of device arrays.

Arrays are moved to the device once per call and sliced there, so a training step copies no
data between host and device. Generators and ``PyDataset`` objects are converted per batch.
"""

import inspect
import math

import numpy as np

from gpuk._array import asarray, default_module, generator, is_array, to_numpy
from gpuk._config import floatx
from gpuk.autograd import Tensor
from gpuk.utils.data import PyDataset


def as_list(data, names, what):
    """Order ``data`` (one array, a list/tuple, or a dict by name) as a list matching ``names``."""
    if data is None:
        return None
    if isinstance(data, dict):
        unknown = sorted(set(data) - set(names))
        missing = [n for n in names if n not in data]
        if unknown:
            raise ValueError(
                f"Unknown {what} names {unknown} in the data; the model's {what}s are {names}"
            )
        if missing and what == "input":
            raise ValueError(f"Missing data for {what}s {missing}; the model's {what}s are {names}")
        return [data.get(n) for n in names]
    if isinstance(data, (list, tuple)) and not _is_plain_nested_numbers(data):
        if len(data) != len(names):
            raise ValueError(
                f"The model has {len(names)} {what}(s) {names} but the data has {len(data)} arrays"
            )
        return list(data)
    if len(names) != 1:
        raise ValueError(
            f"The model has {len(names)} {what}s {names}; pass a list or a dict with one array each"
        )
    return [data]


def _is_plain_nested_numbers(data):
    return len(data) > 0 and isinstance(data[0], (int, float, list))


def to_device(value, xp=None):
    """Float data in floatx on the current device; other dtypes kept."""
    if value is None:
        return None
    if isinstance(value, Tensor):
        return value.data
    array = value if is_array(value) else np.asarray(value)
    dtype = floatx() if array.dtype.kind == "f" or array.dtype == object else None
    return asarray(array, dtype=dtype, xp=xp)


def num_samples(arrays, what="inputs"):
    sizes = {int(a.shape[0]) for a in arrays if a is not None}
    if len(sizes) > 1:
        raise ValueError(
            f"All {what} must have the same number of samples; got sizes {sorted(sizes)}"
        )
    return sizes.pop() if sizes else 0


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


def split_validation(x, y, sample_weight, validation_split):
    """Keras's rule: the last ``validation_split`` fraction, taken before any shuffling."""
    if not 0.0 < validation_split < 1.0:
        raise ValueError(f"validation_split must be in (0, 1), got {validation_split}")
    n = num_samples([a for a in x])
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at in (0, n):
        raise ValueError(
            f"validation_split={validation_split} leaves no samples for training or validation "
            f"out of {n}"
        )

    def cut(arrays, start, stop):
        return None if arrays is None else [None if a is None else a[start:stop] for a in arrays]

    return (cut(x, 0, split_at), cut(y, 0, split_at), cut(sample_weight, 0, split_at)), (
        cut(x, split_at, n),
        cut(y, split_at, n),
        cut(sample_weight, split_at, n),
    )


def class_weights_to_sample_weights(y, class_weight):
    """Per-sample weights from a ``{class: weight}`` dict and the targets (sparse or one-hot)."""
    labels = to_numpy(y)
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
        self.x = [to_device(a, self.xp) for a in x]
        self.y = None if y is None else [to_device(a, self.xp) for a in y]
        self.sample_weight = (
            None if sample_weight is None else [to_device(a, self.xp) for a in sample_weight]
        )
        self.size = num_samples(
            self.x + (self.y or []) + [w for w in self.sample_weight or []], "inputs and targets"
        )
        if self.size == 0 and self.x:
            # An empty epoch would never advance ``step``: refuse instead of looping forever.
            raise ValueError("Expected input data to be non-empty; received 0 samples")
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.batches_per_pass = max(1, math.ceil(self.size / batch_size))
        self.steps = steps or self.batches_per_pass

    def __len__(self):
        return self.steps

    def epoch(self):
        """Yield ``(x_list, y_list, sample_weight_list)`` for one epoch."""
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
                yield (
                    self._take(self.x, index),
                    self._take(self.y, index),
                    self._take(self.sample_weight, index),
                )
                step += 1

    @staticmethod
    def _take(arrays, index):
        if arrays is None:
            return None
        return [None if a is None else a[index] for a in arrays]


class GeneratorBatches:
    """Batches from a Python generator/iterator or a ``PyDataset``/``Sequence``."""

    def __init__(self, data, input_names, output_names, steps=None):
        self.data = data
        self.input_names = input_names
        self.output_names = output_names
        self.indexable = hasattr(data, "__getitem__") and hasattr(data, "__len__")
        self.steps = steps if steps is not None else (len(data) if self.indexable else None)
        self.exhausted = False

    def __len__(self):
        return self.steps

    def epoch(self):
        if self.indexable:
            items = (self.data[i] for i in range(self.steps))
        else:
            iterator = iter(self.data)
            items = _take(iterator, self.steps)
        count = 0
        for item in items:
            count += 1
            yield self._unpack(item)
        if not self.indexable and self.steps is not None and count < self.steps:
            self.exhausted = True
        if hasattr(self.data, "on_epoch_end"):
            self.data.on_epoch_end()
        if not self.indexable and self.steps is None:
            self.exhausted = True

    def _unpack(self, item):
        if not isinstance(item, tuple) or not 1 <= len(item) <= 3:
            raise ValueError(
                "A data generator must yield (x,), (x, y) or (x, y, sample_weight) tuples; "
                f"got {type(item).__name__}"
            )
        x, y, sw = (list(item) + [None, None])[:3]
        x = [to_device(a) for a in as_list(x, self.input_names, "input")]
        y = None if y is None else [to_device(a) for a in as_list(y, self.output_names, "output")]
        if sw is not None:
            sw = (
                [to_device(a) for a in as_list(sw, self.output_names, "output")]
                if isinstance(sw, (list, tuple, dict))
                else [to_device(sw)] * len(self.output_names)
            )
        return x, y, sw


def _take(iterator, limit):
    count = 0
    while limit is None or count < limit:
        try:
            yield next(iterator)
        except StopIteration:
            return
        count += 1
