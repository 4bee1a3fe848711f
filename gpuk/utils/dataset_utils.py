"""What the ``*_dataset_from_directory`` functions share: indexing a folder tree the way Keras
does (same file order, labels, shuffling and validation split for a given seed), and
``FileDataset``, the ``PyDataset`` that reads one batch of files at a time."""

import math
import os

import numpy as np

from gpuk.utils.data import BatchArray, PyDataset
from gpuk.utils.logging import print_msg

LABEL_MODES = ("int", "categorical", "binary", None)


def check_validation_split_arg(validation_split, subset, shuffle, seed):
    """Keras's checks on ``validation_split``/``subset``/``seed``, with its messages."""
    if validation_split and not 0 < validation_split < 1:
        raise ValueError(
            f"`validation_split` must be between 0 and 1, received: {validation_split}"
        )
    if (validation_split or subset) and not (validation_split and subset):
        raise ValueError("If `subset` is set, `validation_split` must be set, and inversely.")
    if subset not in ("training", "validation", "both", None):
        raise ValueError(
            f'`subset` must be either "training", "validation" or "both", received: {subset}'
        )
    if validation_split and shuffle and seed is None:
        raise ValueError(
            "If using `validation_split` and shuffling the data, you must provide a `seed` "
            "argument, to make sure that there is no overlap between the training and "
            "validation subset."
        )


def check_labels_args(labels, label_mode, class_names, what):
    """Validate ``labels``/``label_mode``/``class_names``; return the effective pair
    ``(labels, label_mode)`` (``None`` for both when either asks for no labels)."""
    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple)):
            raise ValueError(
                "`labels` argument should be a list/tuple of integer labels, of the same size "
                f"as the number of {what} files in the target directory. If you wish to infer "
                "the labels from the subdirectory names in the target directory, pass "
                '`labels="inferred"`. If you wish to get a dataset that only contains '
                f"{what}s (no labels), pass `labels=None`. Received: labels={labels}"
            )
        if class_names:
            raise ValueError(
                'You can only pass `class_names` if `labels="inferred"`. Received: '
                f"labels={labels}, and class_names={class_names}"
            )
    if label_mode not in LABEL_MODES:
        raise ValueError(
            '`label_mode` argument must be one of "int", "categorical", "binary", or None. '
            f"Received: label_mode={label_mode}"
        )
    if labels is None or label_mode is None:
        return None, None
    return labels, label_mode


def _valid_files(directory, follow_links, formats):
    walk = os.walk(directory, followlinks=follow_links)
    for root, _, files in sorted(walk, key=lambda entry: entry[0]):
        for name in sorted(files):
            if name.lower().endswith(formats):
                yield root, name


def index_directory(
    directory,
    labels,
    formats,
    class_names=None,
    shuffle=True,
    seed=None,
    follow_links=False,
    verbose=True,
):
    """List the files under ``directory`` with their labels, in Keras's order.

    Returns:
        ``(file_paths, labels, class_names)``: labels an int32 array (or None), shuffled
        together with the paths by ``numpy.random.RandomState(seed)`` as Keras does.
    """
    if not os.path.isdir(directory):
        raise ValueError(f"The directory {directory!r} does not exist or is not a folder")
    if labels == "inferred":
        subdirs = [
            name
            for name in sorted(os.listdir(directory))
            if os.path.isdir(os.path.join(directory, name)) and not name.startswith(".")
        ]
        if class_names is not None:
            if not set(class_names).issubset(subdirs):
                raise ValueError(
                    "The `class_names` passed did not match the names of the subdirectories "
                    f"of the target directory. Expected: {subdirs} (or a subset of it), but "
                    f"received: class_names={class_names}"
                )
            subdirs = list(class_names)
    else:
        subdirs = [""]
        if class_names is not None:
            raise ValueError(
                "When `labels=None` (no labels), argument `class_names` cannot be specified."
                if labels is None
                else "When argument `labels` is specified, argument `class_names` cannot be "
                "specified (the `class_names` will be the sorted list of labels)."
            )
    filenames, inferred = [], []
    for index, subdir in enumerate(subdirs):
        folder = os.path.join(directory, subdir)
        for root, name in _valid_files(folder, follow_links, formats):
            relative = os.path.relpath(os.path.join(root, name), folder)
            filenames.append(os.path.join(os.path.basename(folder), relative))
            inferred.append(index)
    if labels == "inferred":
        labels = np.asarray(inferred, dtype="int32")
        class_names = subdirs
    elif labels is None:
        class_names = None
    else:
        if len(labels) != len(filenames):
            raise ValueError(
                "Expected the lengths of `labels` to match the number of files in the target "
                f"directory. len(labels) is {len(labels)} while we found {len(filenames)} "
                f"files in directory {directory}."
            )
        class_names = [str(label) for label in sorted(set(labels))]
        labels = np.asarray(labels)
    if verbose:
        if labels is None:
            print_msg(f"Found {len(filenames)} files.")
        else:
            print_msg(f"Found {len(filenames)} files belonging to {len(class_names)} classes.")
    file_paths = [os.path.join(directory, name) for name in filenames]
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)
        np.random.RandomState(seed).shuffle(file_paths)
        if labels is not None:
            np.random.RandomState(seed).shuffle(labels)
    return file_paths, labels, class_names


def training_or_validation_split(samples, labels, validation_split, subset):
    """Keras's split: the last ``int(validation_split * n)`` samples are the validation set."""
    if not validation_split:
        return samples, labels
    num_val = int(validation_split * len(samples))
    if subset == "training":
        print_msg(f"Using {len(samples) - num_val} files for training.")
        keep = slice(None, len(samples) - num_val)
    elif subset == "validation":
        print_msg(f"Using {num_val} files for validation.")
        keep = slice(len(samples) - num_val, None)
    else:
        raise ValueError(f'`subset` must be either "training" or "validation", received: {subset}')
    return samples[keep], None if labels is None else labels[keep]


def encode_labels(labels, label_mode, num_classes):
    """Integer labels as Keras delivers them for ``label_mode``."""
    labels = np.asarray(labels)
    if label_mode == "int":
        return labels.astype("int32")
    if label_mode == "binary":
        return labels.astype("float32").reshape(-1, 1)
    if label_mode == "categorical":
        return np.eye(num_classes, dtype="float32")[labels.astype("int64")]
    raise ValueError(f"Invalid `label_mode`: {label_mode}")


class FileDataset(PyDataset):
    """A ``PyDataset`` over files: each batch is read from disk when asked for, in background
    threads ahead of the training step, so memory holds a few batches whatever the folder's size.

    Attributes:
        file_paths: the files, in the order of the first epoch.
        class_names: the class names (index = label), or None without labels.
    """

    def __init__(
        self,
        file_paths,
        labels,
        label_mode,
        class_names,
        load,
        collate,
        batch_size=32,
        shuffle=False,
        seed=None,
        workers=2,
        max_queue_size=10,
    ):
        super().__init__(workers=workers, use_multiprocessing=False, max_queue_size=max_queue_size)
        self.file_paths = list(file_paths)
        self.class_names = class_names
        self.label_mode = label_mode
        self.batch_size = batch_size
        self._labels = (
            None
            if label_mode is None
            else encode_labels(labels, label_mode, len(class_names or ()))
        )
        self._load = load
        self._collate = collate
        self._shuffle = shuffle
        self._rng = np.random.RandomState(seed)
        self._order = np.arange(len(self.file_paths))

    def __len__(self):
        if self.batch_size is None:
            return len(self.file_paths)
        return math.ceil(len(self.file_paths) / self.batch_size)

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"batch index {index} out of range for {len(self)} batches")
        if self.batch_size is None:
            rows = self._order[index : index + 1]
        else:
            rows = self._order[index * self.batch_size : (index + 1) * self.batch_size]
        samples = [self._load(self.file_paths[row]) for row in rows]
        x = BatchArray.of(samples[0] if self.batch_size is None else self._collate(samples))
        if self._labels is None:
            return x
        y = self._labels[rows]
        return x, BatchArray.of(y[0] if self.batch_size is None else y)

    def on_epoch_end(self):
        """Reshuffle the order of the files for the next epoch (when ``shuffle``)."""
        if self._shuffle:
            self._order = self._rng.permutation(len(self.file_paths))


def directory_dataset(
    directory,
    formats,
    what,
    load,
    collate,
    labels,
    label_mode,
    class_names,
    batch_size,
    shuffle,
    seed,
    validation_split,
    subset,
    follow_links,
    verbose,
):
    """Index ``directory`` and build one ``FileDataset`` (or ``[training, validation]`` for
    ``subset="both"``), with Keras's argument checks and messages."""
    labels, label_mode = check_labels_args(labels, label_mode, class_names, what)
    check_validation_split_arg(validation_split, subset, shuffle, seed)
    if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"`batch_size` must be a positive integer or None; got {batch_size!r}")
    if seed is None:
        seed = np.random.randint(1e6)
    paths, all_labels, class_names = index_directory(
        directory,
        "inferred" if labels == "inferred" else labels,
        formats=formats,
        class_names=class_names,
        shuffle=shuffle,
        seed=seed,
        follow_links=follow_links,
        verbose=verbose,
    )
    if label_mode is None:
        all_labels = None
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError(
            'When passing `label_mode="binary"`, there must be exactly 2 class_names. '
            f"Received: class_names={class_names}"
        )

    def build(subset_name, subset_shuffle):
        subset_paths, subset_labels = training_or_validation_split(
            paths, all_labels, validation_split, subset_name
        )
        if not subset_paths:
            kind = {"training": "training ", "validation": "validation "}.get(subset_name, "")
            raise ValueError(
                f"No {kind}{what}s found in directory {directory}. Allowed formats: {formats}"
            )
        dataset = FileDataset(
            subset_paths,
            subset_labels,
            label_mode,
            class_names,
            load,
            collate,
            batch_size=batch_size,
            shuffle=subset_shuffle,
            seed=seed,
        )
        dataset.on_epoch_end()
        return dataset

    if subset == "both":
        return [build("training", shuffle), build("validation", False)]
    return build(subset, shuffle)
