"""NumPy helpers Keras scripts call on their data: to_categorical, normalize, pad_sequences."""

import numpy as np

from gpuk._array import to_numpy


def to_categorical(x, num_classes=None):
    """One-hot encode integer class labels (a trailing axis of size 1 is dropped, as Keras).

    Example: ``to_categorical([0, 2], 3)`` is ``[[1, 0, 0], [0, 0, 1]]`` (float32).
    """
    labels = np.asarray(to_numpy(x), dtype="int64")  # CuPy labels come to the host
    shape = labels.shape
    if shape and shape[-1] == 1 and len(shape) > 1:
        shape = shape[:-1]
    labels = labels.reshape(-1)
    if labels.size and labels.min() < 0:
        raise ValueError(f"to_categorical: labels must be >= 0, got {labels.min()}")
    num_classes = int(labels.max()) + 1 if num_classes is None else int(num_classes)
    if labels.size and labels.max() >= num_classes:
        raise ValueError(
            f"to_categorical: label {labels.max()} is out of range for num_classes={num_classes}"
        )
    categorical = np.zeros((labels.size, num_classes), dtype="float32")
    categorical[np.arange(labels.size), labels] = 1
    return categorical.reshape(shape + (num_classes,))


def normalize(x, axis=-1, order=2):
    """Scale ``x`` to unit ``order``-norm along ``axis`` (zero vectors stay zero)."""
    x = to_numpy(x)
    norm = np.atleast_1d(np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    return x / np.expand_dims(norm, axis)


def pad_sequences(
    sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre", value=0.0
):
    """Pad (or cut) a list of sequences to one length, Keras's defaults: pad and cut in front.

    Returns an array of shape ``(len(sequences), maxlen) + item_shape``.
    """
    for name, choice in (("padding", padding), ("truncating", truncating)):
        if choice not in ("pre", "post"):
            raise ValueError(f"pad_sequences: {name} must be 'pre' or 'post', got {choice!r}")
    lengths = [len(s) for s in sequences]
    maxlen = max(lengths, default=0) if maxlen is None else int(maxlen)
    item_shape = next((np.asarray(s).shape[1:] for s in sequences if len(s)), ())
    out = np.full((len(sequences), maxlen) + item_shape, value, dtype=dtype)
    for i, sequence in enumerate(sequences):
        if not len(sequence) or maxlen == 0:
            continue
        kept = np.asarray(sequence, dtype=dtype)
        kept = kept[-maxlen:] if truncating == "pre" else kept[:maxlen]
        if padding == "post":
            out[i, : len(kept)] = kept
        else:
            out[i, maxlen - len(kept) :] = kept
    return out
