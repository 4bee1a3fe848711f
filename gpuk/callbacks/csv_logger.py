"""CSVLogger: stream each epoch's logs to a CSV file."""

import collections.abc
import csv
import os

import numpy as np

from gpuk.callbacks.base import Callback


class CSVLogger(Callback):
    """Write one CSV row per epoch: ``epoch`` then the logs keys in sorted order.

    As in Keras 3, when the first epoch has no ``val_`` keys the ``val_`` columns are still
    written (``NA``), and a key missing in a later epoch is written as ``NA``.

    Args:
        filename: the CSV file.
        separator: the field separator.
        append: append to an existing file (the header is written only if it is empty).
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.sep = separator
        self.filename = os.fspath(filename)
        self.append = append
        self.writer = None
        self.keys = None
        self.append_header = True
        self.csv_file = None

    def on_train_begin(self, logs=None):
        if self.append:
            if os.path.exists(self.filename):
                with open(self.filename) as f:
                    self.append_header = not bool(len(f.readline()))
            mode = "a"
        else:
            self.append_header = True
            mode = "w"
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        folder = os.path.dirname(self.filename)
        if folder:
            os.makedirs(folder, exist_ok=True)
        self.csv_file = open(self.filename, mode, newline="")  # noqa: SIM115 - kept open per run
        self.writer = None
        self.keys = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.csv_file is None:
            self.on_train_begin()

        def handle_value(value):
            if isinstance(value, str):
                return value
            if isinstance(value, collections.abc.Iterable) and not (
                isinstance(value, np.ndarray) and value.ndim == 0
            ):
                return f'"[{", ".join(map(str, value))}]"'
            return value

        if self.keys is None:
            self.keys = sorted(logs.keys())
            if self.keys and not any(k.startswith("val_") for k in self.keys):
                self.keys.extend([f"val_{k}" for k in self.keys])
        if self.writer is None:

            class Dialect(csv.excel):
                delimiter = self.sep

            self.writer = csv.DictWriter(
                self.csv_file, fieldnames=["epoch"] + self.keys, dialect=Dialect
            )
            if self.append_header:
                self.writer.writeheader()
        row = {"epoch": epoch}
        row.update((key, handle_value(logs.get(key, "NA"))) for key in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.writer = None
