"""Keras-style data containers for ``fit``: ``PyDataset`` (alias ``Sequence``), and the
iteration that loads batches ahead of the training step."""

import collections
import concurrent.futures
import itertools
import os

import numpy as np


class PyDataset:
    """Base class of batch-indexed data sets, as Keras's ``PyDataset``/``Sequence``.

    Subclasses implement ``__len__`` (batches per epoch) and ``__getitem__(index)`` returning
    ``(x, y)``, ``(x, y, sample_weight)`` or ``x`` alone; ``on_epoch_end`` runs after every
    epoch. With ``workers > 1`` (threads) or ``use_multiprocessing=True`` (processes), up to
    ``max_queue_size`` batches are loaded ahead of the one being trained on, as in Keras.
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self.workers = workers
        self.use_multiprocessing = use_multiprocessing
        self.max_queue_size = max_queue_size

    def __getitem__(self, index):
        raise NotImplementedError

    def __len__(self):
        raise NotImplementedError

    def __iter__(self):
        return iterate_batches(self)

    @property
    def num_batches(self):
        return len(self)

    def on_epoch_end(self):
        """Called after each epoch; shuffle here if needed."""

    # A few tf.data methods keras-io scripts call on the data sets keras.utils returns.
    def map(self, function, num_parallel_calls=None, deterministic=None, name=None):
        """A data set whose batches are ``function(*batch)`` (or ``function(batch)``); the
        tf.data arguments are accepted and ignored (batches already load in parallel)."""
        return MappedDataset(self, function)

    def take(self, count, name=None):
        """The first ``count`` batches, for a look at the data."""
        return MappedDataset(self, None, limit=count)

    def prefetch(self, buffer_size=None, name=None):
        """Returns the data set itself: ``fit`` loads batches ahead when ``workers > 1``."""
        return self

    def cache(self, filename="", name=None):
        """Returns the data set itself (batches are produced again each epoch)."""
        return self


Sequence = PyDataset


class MappedDataset(PyDataset):
    """Another data set's batches passed through a function, or the first ``limit`` of them."""

    def __init__(self, source, function, limit=None):
        super().__init__(
            workers=getattr(source, "workers", 1),
            use_multiprocessing=getattr(source, "use_multiprocessing", False),
            max_queue_size=getattr(source, "max_queue_size", 10),
        )
        self.source = source
        self.function = function
        self.limit = limit
        self.class_names = getattr(source, "class_names", None)
        self.file_paths = getattr(source, "file_paths", None)

    def __len__(self):
        size = len(self.source)
        return size if self.limit is None else min(size, self.limit)

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"batch index {index} out of range for {len(self)} batches")
        batch = self.source[index]
        if self.function is None:
            return batch
        return self.function(*batch) if isinstance(batch, tuple) else self.function(batch)

    def on_epoch_end(self):
        self.source.on_epoch_end()


class BatchArray(np.ndarray):
    """A NumPy batch with tf's ``.numpy()``, so ``for images, labels in ds.take(1):
    images.numpy()`` works as in keras-io scripts; everything else is a plain ndarray."""

    @classmethod
    def of(cls, array):
        return np.asarray(array).view(cls)

    def numpy(self):
        """The batch as a plain NumPy array."""
        return np.asarray(self)


def _load(dataset, index):
    return dataset[index]


def iterate_batches(dataset, steps=None, order=None):
    """Yield ``dataset[0] ... dataset[steps - 1]`` in order (or ``dataset[i]`` for each ``i``
    of ``order``), loading ahead in the background when the data set asks for workers (Keras's
    rule: ``workers > 1``, or ``workers > 0`` with ``use_multiprocessing``). At most
    ``max_queue_size`` batches wait in memory."""
    steps = len(dataset) if steps is None else min(steps, len(dataset))
    order = range(steps) if order is None else [int(i) for i in order][:steps]
    workers = getattr(dataset, "workers", 1) or 0
    processes = bool(getattr(dataset, "use_multiprocessing", False))
    if not (workers > 1 or (workers > 0 and processes)):
        for index in order:
            yield dataset[index]
        return
    ahead = max(1, int(getattr(dataset, "max_queue_size", 10) or 1))
    pool_class = (
        concurrent.futures.ProcessPoolExecutor
        if processes and os.name == "posix"
        else concurrent.futures.ThreadPoolExecutor
    )
    with pool_class(max_workers=workers) as pool:
        pending = collections.deque()
        indices = iter(order)
        for index in itertools.islice(indices, ahead):
            pending.append(pool.submit(_load, dataset, index))
        while pending:
            batch = pending.popleft().result()
            for index in itertools.islice(indices, 1):
                pending.append(pool.submit(_load, dataset, index))
            yield batch
