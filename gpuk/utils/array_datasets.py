"""Data sets made from arrays, as Keras 3's ``keras.utils`` has them:
``timeseries_dataset_from_array`` (sliding windows, built lazily a batch at a time) and
``split_dataset``."""

import math
import random

import numpy as np

from gpuk.utils.data import BatchArray, PyDataset


class TimeseriesDataset(PyDataset):
    """Windows over a series, gathered one batch at a time (no copy of all windows)."""

    def __init__(self, data, targets, starts, sequence_length, sampling_rate, batch_size, seed):
        super().__init__()
        self.data = data
        self.targets = targets
        self.starts = starts
        self.offsets = np.arange(sequence_length) * sampling_rate
        self.batch_size = batch_size
        self._shuffle_rng = None if seed is None else np.random.RandomState(seed)

    def __len__(self):
        if self.batch_size is None:
            return len(self.starts)
        return math.ceil(len(self.starts) / self.batch_size)

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"batch index {index} out of range for {len(self)} batches")
        size = self.batch_size or 1
        starts = self.starts[index * size : (index + 1) * size]
        x = BatchArray.of(self.data[starts[:, None] + self.offsets])
        if self.batch_size is None:
            x = x[0]
        if self.targets is None:
            return x
        y = BatchArray.of(self.targets[starts])
        return x, (y[0] if self.batch_size is None else y)

    def on_epoch_end(self):
        if self._shuffle_rng is not None:
            self._shuffle_rng.shuffle(self.starts)


def timeseries_dataset_from_array(
    data,
    targets,
    sequence_length,
    sequence_stride=1,
    sampling_rate=1,
    batch_size=128,
    shuffle=False,
    seed=None,
    start_index=None,
    end_index=None,
    format="tf",
):
    """Sliding windows over ``data`` (and the matching ``targets``), as Keras's function.

    Window ``i`` is ``data[s_i : s_i + sequence_length * sampling_rate : sampling_rate]`` with
    ``s_i = start_index + i * sequence_stride``; its target is ``targets[s_i]`` (relative to
    ``start_index``, as in Keras). Returns a ``PyDataset`` of ``(windows, targets)`` batches
    (windows only when ``targets`` is None) that ``fit`` takes directly.
    """
    length = len(data)
    if start_index:
        if start_index < 0:
            raise ValueError(
                f"`start_index` must be 0 or greater. Received: start_index={start_index}"
            )
        if start_index >= length:
            raise ValueError(
                "`start_index` must be lower than the length of the data. Received: "
                f"start_index={start_index}, for data of length {length}"
            )
    if end_index:
        if start_index and end_index <= start_index:
            raise ValueError(
                "`end_index` must be higher than `start_index`. Received: "
                f"start_index={start_index}, and end_index={end_index} "
            )
        if end_index >= length:
            raise ValueError(
                "`end_index` must be lower than the length of the data. Received: "
                f"end_index={end_index}, for data of length {length}"
            )
        if end_index <= 0:
            raise ValueError(f"`end_index` must be higher than 0. Received: end_index={end_index}")
    for name, value in (("sampling_rate", sampling_rate), ("sequence_stride", sequence_stride)):
        if value <= 0:
            raise ValueError(f"`{name}` must be higher than 0. Received: {name}={value}")
        if value >= length:
            raise ValueError(
                f"`{name}` must be lower than the length of the data. Received: {name}={value}, "
                f"for data of length {length}"
            )
    if format not in ("tf", "grain"):
        raise ValueError(f'`format` should be either "tf" or "grain". Received: format={format}')
    start_index = start_index or 0
    end_index = end_index or length
    num_seqs = end_index - start_index - (sequence_length - 1) * sampling_rate
    if targets is not None:
        num_seqs = min(num_seqs, len(targets))
    starts = np.arange(0, max(num_seqs, 0), sequence_stride, dtype=np.int64)
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)
        np.random.RandomState(seed).shuffle(starts)
    window_data = np.asarray(data)[start_index:end_index]
    window_targets = None if targets is None else np.asarray(targets)[start_index:end_index]
    return TimeseriesDataset(
        window_data,
        window_targets,
        starts,
        sequence_length,
        sampling_rate,
        batch_size,
        seed if shuffle else None,
    )


def _split_sizes(left_size, right_size, total):
    """Keras's ``_rescale_dataset_split_sizes``: ints are counts, floats fractions."""
    for name, size in (("left_size", left_size), ("right_size", right_size)):
        if size is not None and type(size) not in (int, float):
            raise TypeError(
                f"Invalid `{name}` Type. Expected: int or float or None, "
                f"Received: type({name})={type(size)}."
            )
    if left_size is None and right_size is None:
        raise ValueError(
            "At least one of the `left_size` or `right_size` must be specified. "
            "Received: left_size=None and right_size=None"
        )
    if left_size == 0 and right_size == 0:
        raise ValueError(
            "Both `left_size` and `right_size` are zero. At least one of the split sizes must "
            "be non-zero."
        )
    for name, size in (("left_size", left_size), ("right_size", right_size)):
        if (type(size) is int and not 0 < size < total) or (
            type(size) is float and not 0 < size < 1
        ):
            raise ValueError(
                f"`{name}` should be either a positive integer smaller than {total}, or a float "
                f"within the range `[0, 1]`. Received: {name}={size}"
            )
    if type(left_size) is float and type(right_size) is float and left_size + right_size > 1:
        raise ValueError(
            "The sum of `left_size` and `right_size` is greater than 1. It must be less than "
            "or equal to 1."
        )
    left = round(left_size * total) if type(left_size) is float else left_size
    right = round(right_size * total) if type(right_size) is float else right_size
    left = total - right if left is None else left
    right = total - left if right is None else right
    if left + right > total:
        raise ValueError(
            f"The sum of `left_size` and `right_size` should be smaller than the {total}. "
            f"Received: left_size + right_size = {left + right}and total_length = {total}"
        )
    for size, side in ((left, "left"), (right, "right")):
        if size == 0:
            raise ValueError(
                f"With `dataset` of length={total}, `left_size`={left} and `right_size`="
                f"{right}.Resulting {side} side dataset split will be empty. Adjust any of "
                "the aforementioned parameters"
            )
    return int(left), int(right)


def split_dataset(
    dataset, left_size=None, right_size=None, shuffle=False, seed=None, preferred_backend=None
):
    """Split arrays (or a tuple/list/dict of arrays with one sample axis) in two, as Keras's
    ``split_dataset``: ``left_size``/``right_size`` are sample counts (int) or fractions
    (float); ``shuffle`` uses Python's ``random`` with ``seed`` as Keras does.

    Returns:
        ``(left, right)`` with the same structure as ``dataset``, ready for ``fit``.
    """
    if isinstance(dataset, dict):
        keys = list(dataset)
        columns = [np.asarray(dataset[key]) for key in keys]
    elif isinstance(dataset, (tuple, list)) and dataset and hasattr(dataset[0], "shape"):
        columns = [np.asarray(column) for column in dataset]
    elif hasattr(dataset, "shape") or isinstance(dataset, list):
        columns = [np.asarray(dataset)]
    else:
        raise TypeError(
            "The `dataset` argument must be an array, or a list/tuple/dict of arrays with the "
            f"same number of samples. Received: dataset of type {type(dataset).__name__}"
        )
    total = {len(column) for column in columns}
    if len(total) != 1:
        raise ValueError(
            f"The arrays of `dataset` must have the same number of samples; got {sorted(total)}"
        )
    total = total.pop()
    order = list(range(total))
    if shuffle:
        random.Random(random.randint(0, int(1e6)) if seed is None else seed).shuffle(order)
    left, right = _split_sizes(left_size, right_size, total)
    left_rows, right_rows = np.asarray(order[:left]), np.asarray(order[total - right :])

    def rebuild(rows):
        parts = [column[rows] for column in columns]
        if isinstance(dataset, dict):
            return dict(zip(keys, parts))
        if len(parts) == 1 and not isinstance(dataset, tuple):
            return parts[0]
        return type(dataset)(parts) if isinstance(dataset, tuple) else parts

    return rebuild(left_rows), rebuild(right_rows)
