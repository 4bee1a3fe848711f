"""Keras-style data containers for ``fit``: ``PyDataset`` (alias ``Sequence``), and the
iteration that loads batches ahead of the training step."""

import collections
import concurrent.futures
import itertools
import os


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


Sequence = PyDataset


def _load(dataset, index):
    return dataset[index]


def iterate_batches(dataset, steps=None):
    """Yield ``dataset[0] ... dataset[steps - 1]`` in order, loading ahead in the background
    when the data set asks for workers (Keras's rule: ``workers > 1``, or ``workers > 0`` with
    ``use_multiprocessing``). At most ``max_queue_size`` batches wait in memory."""
    steps = len(dataset) if steps is None else min(steps, len(dataset))
    workers = getattr(dataset, "workers", 1) or 0
    processes = bool(getattr(dataset, "use_multiprocessing", False))
    if not (workers > 1 or (workers > 0 and processes)):
        for index in range(steps):
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
        indices = iter(range(steps))
        for index in itertools.islice(indices, ahead):
            pending.append(pool.submit(_load, dataset, index))
        while pending:
            batch = pending.popleft().result()
            for index in itertools.islice(indices, 1):
                pending.append(pool.submit(_load, dataset, index))
            yield batch
