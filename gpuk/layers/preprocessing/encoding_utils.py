"""Index encodings shared by the lookup, hashing and category layers (Keras's rules)."""

import numpy as np

OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")


def encode(indices, output_mode, depth, dtype, count_weights=None):
    """Encode int64 ``indices`` (NumPy) as Keras's ``encode_categorical_inputs`` does.

    ``one_hot`` squeezes a trailing axis of size 1; ``multi_hot`` and ``count`` reduce the last
    axis (a rank-1 input is one sample). Indices outside ``[0, depth)`` contribute nothing.
    """
    if output_mode == "int":
        return indices.astype(dtype)
    indices = np.asarray(indices)
    if indices.ndim == 0:
        indices = indices[None]
    if output_mode == "one_hot":
        if indices.ndim > 1 and indices.shape[-1] == 1:
            indices = indices[..., 0]
        out = np.zeros((*indices.shape, depth), dtype=dtype)
        valid = (indices >= 0) & (indices < depth)
        np.put_along_axis(out, np.where(valid, indices, 0)[..., None], 1, axis=-1)
        out[~valid] = 0
        return out
    lead = indices.shape[:-1]
    flat = indices.reshape(-1, indices.shape[-1])
    weights = None
    if count_weights is not None:
        weights = np.asarray(count_weights).reshape(-1, indices.shape[-1])
        dtype = weights.dtype
    out = np.zeros((flat.shape[0], depth), dtype=np.float64 if weights is not None else np.int64)
    rows = np.repeat(np.arange(flat.shape[0]), flat.shape[1])
    cols = flat.reshape(-1)
    valid = (cols >= 0) & (cols < depth)
    w = weights.reshape(-1)[valid] if weights is not None else 1
    np.add.at(out, (rows[valid], cols[valid]), w)
    if output_mode == "multi_hot":
        out = np.minimum(out, 1)
    return out.reshape(*lead, depth).astype(dtype)


def encoded_shape(input_shape, output_mode, depth):
    """The output shape of :func:`encode` for ``input_shape``."""
    input_shape = tuple(input_shape)
    if output_mode == "int":
        return input_shape
    if not input_shape:
        return (depth,)
    if output_mode == "one_hot":
        if len(input_shape) > 1 and input_shape[-1] == 1:
            return (*input_shape[:-1], depth)
        return (*input_shape, depth)
    return (*input_shape[:-1], depth)
