"""Keras-style data containers for ``fit``: ``PyDataset`` (alias ``Sequence``)."""


class PyDataset:
    """Base class of batch-indexed data sets, as Keras's ``PyDataset``/``Sequence``.

    Subclasses implement ``__len__`` (batches per epoch) and ``__getitem__(index)`` returning
    ``(x, y)`` or ``(x, y, sample_weight)``; ``on_epoch_end`` runs after every epoch.
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self.workers = workers
        self.use_multiprocessing = use_multiprocessing
        self.max_queue_size = max_queue_size

    def __getitem__(self, index):
        raise NotImplementedError

    def __len__(self):
        raise NotImplementedError

    @property
    def num_batches(self):
        return len(self)

    def on_epoch_end(self):
        """Called after each epoch; shuffle here if needed."""


Sequence = PyDataset
