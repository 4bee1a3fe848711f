"""CategoryEncoding, Hashing and HashedCrossing (Keras 3's layers, computed on the host)."""

import numpy as np

from gpuk._config import floatx
from gpuk.layers.preprocessing.base import PreprocessingLayer, host, to_device
from gpuk.layers.preprocessing.encoding_utils import encode, encoded_shape
from gpuk.layers.preprocessing.hashing_utils import (
    CROSS_HASH_KEY,
    feature_hash,
    fingerprint_cat64,
    hash_buckets,
)

__all__ = ["CategoryEncoding", "HashedCrossing", "Hashing"]


class CategoryEncoding(PreprocessingLayer):
    """Encode integer indices in ``[0, num_tokens)`` as one-hot, multi-hot or count vectors.

    Args:
        num_tokens: the number of categories (the last output dimension).
        output_mode: ``"multi_hot"`` (default, ``"binary"`` accepted), ``"one_hot"``, ``"count"``.
        sparse: not supported (Keras supports it on TensorFlow only).

    Call arguments:
        inputs: integer indices, rank 0 to 2.
        count_weights: per-index weights, with ``output_mode="count"``.
    """

    def __init__(self, num_tokens=None, output_mode="multi_hot", sparse=False, **kwargs):
        super().__init__(**kwargs)
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode not in ("count", "one_hot", "multi_hot"):
            raise ValueError(f"Unknown arg for output_mode: {output_mode}")
        if num_tokens is None:
            raise ValueError(
                "num_tokens must be set to use this layer. If the number of tokens is not known "
                "beforehand, use the IntegerLookup layer instead."
            )
        if num_tokens < 1:
            raise ValueError(f"`num_tokens` must be >= 1. Received: num_tokens={num_tokens}.")
        if sparse:
            raise ValueError("CategoryEncoding: `sparse=True` is not supported by gpuk.")
        self.num_tokens = int(num_tokens)
        self.output_mode = output_mode
        self.sparse = False

    def call(self, inputs, count_weights=None):
        if count_weights is not None and self.output_mode != "count":
            raise ValueError(
                "`count_weights` is not used when `output_mode` is not `'count'`. "
                f"Received `count_weights={count_weights}`."
            )
        indices = host(inputs).astype(np.int64)
        if indices.size and (indices.min() < 0 or indices.max() >= self.num_tokens):
            raise ValueError(
                f"CategoryEncoding {self.name!r}: inputs must be in [0, {self.num_tokens}); "
                f"received values from {indices.min()} to {indices.max()}."
            )
        weights = None if count_weights is None else host(count_weights).astype(self.dtype)
        out = encode(indices, self.output_mode, self.num_tokens, self.dtype, weights)
        return to_device(out)

    def compute_output_shape(self, input_shape):
        return encoded_shape(input_shape, self.output_mode, self.num_tokens)

    def get_config(self):
        config = super().get_config()
        config.update({"num_tokens": self.num_tokens, "output_mode": self.output_mode})
        return config


class Hashing(PreprocessingLayer):
    """Hash strings or integers into ``num_bins`` bins (Keras 3's ``Hashing``).

    The bins equal Keras's: FarmHash Fingerprint64 of the value's string form modulo the
    number of bins, or SipHash-2-4 keyed by ``salt`` (TensorFlow's hash ops). Floats are cast to
    int64 first. With ``mask_value``, bin 0 is reserved for it.

    Args:
        num_bins: number of bins (mask bin included).
        mask_value: value that maps to bin 0, or None.
        salt: an int or a pair of ints for the keyed hash, or None.
        output_mode: ``"int"`` (default), ``"one_hot"``, ``"multi_hot"``, ``"count"``.
        sparse: not supported.
    """

    def __init__(
        self,
        num_bins,
        mask_value=None,
        salt=None,
        output_mode="int",
        sparse=False,
        **kwargs,
    ):
        if kwargs.get("dtype") is None:
            kwargs["dtype"] = "int64" if output_mode == "int" else floatx()
        super().__init__(**kwargs)
        if num_bins is None or num_bins <= 0:
            raise ValueError(
                "The `num_bins` for `Hashing` cannot be `None` or non-positive values. "
                f"Received: num_bins={num_bins}."
            )
        if output_mode not in ("int", "one_hot", "multi_hot", "count"):
            raise ValueError(
                "Invalid value for argument `output_mode`. Expected one of "
                f"('int', 'one_hot', 'multi_hot', 'count'). Received: output_mode={output_mode}"
            )
        if output_mode == "int" and self.dtype not in ("int32", "int64"):
            raise ValueError(
                "When `output_mode=\"int\"`, `dtype` should be an integer type, 'int32' or "
                f"'int64'. Received: dtype={self.dtype}"
            )
        if sparse:
            raise ValueError("Hashing: `sparse=True` is not supported by gpuk.")
        self.num_bins = int(num_bins)
        self.mask_value = mask_value
        self.strong_hash = salt is not None
        self.output_mode = output_mode
        self.sparse = False
        self.salt = None
        if salt is not None:
            if isinstance(salt, (tuple, list)) and len(salt) == 2:
                self.salt = list(salt)
            elif isinstance(salt, int):
                self.salt = [salt, salt]
            else:
                raise ValueError(
                    "The `salt` argument for `Hashing` can only be a tuple of size 2 integers, "
                    f"or a single integer. Received: salt={salt}."
                )

    def _hash(self, values):
        bins = self.num_bins
        mask = None
        if self.mask_value is not None and bins > 1:
            bins -= 1
            mask = values == _like(self.mask_value, values)
        if values.dtype.kind == "S" or values.dtype == object:
            values = np.vectorize(
                lambda v: v.decode("utf-8") if isinstance(v, bytes) else v, otypes=[object]
            )(values)
        out = hash_buckets(values, bins, self.salt)
        if mask is not None:
            out = np.where(mask, 0, out + 1)
        return out

    def call(self, inputs):
        values = host(inputs)
        if self.output_mode == "one_hot" and values.ndim and values.shape[-1] == 1:
            values = values[..., 0]
        indices = self._hash(values)
        return to_device(encode(indices, self.output_mode, self.num_bins, self.dtype))

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        if len(input_shape) == 0:
            return (self.num_bins,)
        return tuple(input_shape[:-1]) + (self.num_bins,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_bins": self.num_bins,
                "salt": self.salt,
                "mask_value": self.mask_value,
                "output_mode": self.output_mode,
                "sparse": self.sparse,
            }
        )
        return config


def _like(value, values):
    if values.dtype.kind in "US" or values.dtype == object:
        return value
    return np.asarray(value).astype(values.dtype)


class HashedCrossing(PreprocessingLayer):
    """Cross categorical features by hashing (TensorFlow's ``sparse.cross_hashed``, as Keras).

    Args:
        num_bins: number of hash bins.
        output_mode: ``"int"`` (default) or ``"one_hot"``.
        sparse: not supported.

    Call with a list/tuple of at least two inputs of identical shape (rank 0, 1, or ``(n, 1)``).
    """

    _single_input = False

    def __init__(self, num_bins, output_mode="int", sparse=False, name=None, dtype=None, **kwargs):
        if output_mode == "int" and dtype is None:
            dtype = "int64"
        super().__init__(name=name, dtype=dtype, **kwargs)
        if output_mode not in ("int", "one_hot"):
            raise ValueError(
                "Invalid value for argument `output_mode`. Expected one of ('int', 'one_hot'). "
                f"Received: output_mode={output_mode}"
            )
        if sparse:
            raise ValueError("HashedCrossing: `sparse=True` is not supported by gpuk.")
        self.num_bins = int(num_bins)
        self.output_mode = output_mode
        self.sparse = False

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(
                "`HashedCrossing` should be called on a list or tuple of inputs. "
                f"Received: inputs={inputs}"
            )
        if len(inputs) < 2:
            raise ValueError(
                "`HashedCrossing` should be called on at least two inputs. "
                f"Received: inputs={inputs}"
            )
        arrays = [host(x) for x in inputs]
        shape = arrays[0].shape
        if len(shape) > 2 or (len(shape) == 2 and shape[-1] != 1):
            raise ValueError(
                "All `HashedCrossing` inputs should have shape `()`, `(batch_size)` or "
                f"`(batch_size, 1)`. Received: inputs={inputs}"
            )
        if any(a.shape != shape for a in arrays[1:]):
            raise ValueError(
                f"All `HashedCrossing` inputs should have equal shape. Received: inputs={inputs}"
            )
        columns = [[_decode(v) for v in a.reshape(-1).tolist()] for a in arrays]
        out = np.empty(len(columns[0]), dtype=np.int64)
        for i in range(len(out)):
            hashed = CROSS_HASH_KEY
            for column in columns:
                hashed = fingerprint_cat64(hashed, feature_hash(column[i]))
            out[i] = hashed % self.num_bins
        out = out.reshape(shape)
        return to_device(encode(out, self.output_mode, self.num_bins, self.compute_dtype))

    def compute_output_shape(self, input_shape):
        first = tuple(input_shape[0])
        if self.output_mode == "int":
            return first
        if not first:
            return (self.num_bins,)
        if first[-1] != 1:
            return first + (self.num_bins,)
        return first[:-1] + (self.num_bins,)

    def compute_output_spec(self, *args, **kwargs):
        from gpuk.layers.base import KerasTensor

        shapes = [t.shape for t in args[0]]
        return KerasTensor(self.compute_output_shape(shapes), dtype=self.dtype, name=self.name)

    def get_config(self):
        return {
            "num_bins": self.num_bins,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
            "name": self.name,
            "dtype": self.dtype,
        }


def _decode(value):
    return value.decode("utf-8") if isinstance(value, bytes) else value
