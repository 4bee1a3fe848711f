"""StringLookup and IntegerLookup: tokens to indices (and back), learned by ``adapt``.

Index layout, as in Keras: ``[mask_token]`` (only when set and ``output_mode="int"``), then
``num_oov_indices`` OOV slots, then the vocabulary. ``adapt`` orders tokens by count (most
frequent first), ties by token, highest first. Lookups run on the host; outputs go to the device.
"""

import collections
import os

import numpy as np

from gpuk._config import floatx
from gpuk.layers.preprocessing.base import PreprocessingLayer, host, to_device
from gpuk.layers.preprocessing.encoding_utils import encode, encoded_shape
from gpuk.layers.preprocessing.hashing_utils import hash_buckets

__all__ = ["IndexLookup", "IntegerLookup", "StringLookup"]

_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")


class IndexLookup(PreprocessingLayer):
    """Common base of :class:`StringLookup` and :class:`IntegerLookup` (Keras's IndexLookup)."""

    _is_string = True

    def __init__(
        self,
        max_tokens=None,
        num_oov_indices=1,
        mask_token=None,
        oov_token=None,
        vocabulary=None,
        idf_weights=None,
        invert=False,
        output_mode="int",
        pad_to_max_tokens=False,
        sparse=False,
        oov_method="floormod",
        salt=None,
        vocabulary_dtype=None,
        **kwargs,
    ):
        frozen_size = kwargs.pop("vocabulary_size", None)
        kwargs.pop("has_input_vocabulary", None)
        kwargs.pop("dtype", None)
        kwargs.pop("trainable", None)
        if output_mode == "binary":  # tf.keras 2.x spelling
            output_mode = "multi_hot"
        if output_mode not in _MODES:
            raise ValueError(
                f"Invalid value for argument `output_mode` of {type(self).__name__}. Expected "
                f"one of {_MODES}. Received: output_mode={output_mode!r}"
            )
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError(
                f"If `max_tokens` is set for {type(self).__name__}, it must be greater than 1. "
                f"Received: max_tokens={max_tokens}"
            )
        if num_oov_indices < 0:
            raise ValueError(
                f"`num_oov_indices` must be >= 0. Received: num_oov_indices={num_oov_indices}"
            )
        if invert and output_mode != "int":
            raise ValueError(
                "`output_mode` must be `'int'` when `invert` is true. "
                f"Received: output_mode={output_mode}"
            )
        if sparse:
            raise ValueError("`sparse=True` needs the TensorFlow backend; gpuk has no sparse.")
        dtype = "int64" if output_mode == "int" else floatx()
        if invert:
            dtype = "string" if self._is_string else "int64"
        super().__init__(dtype=dtype if dtype != "string" else None, **kwargs)
        self._output_dtype_name = dtype
        self.max_tokens = max_tokens
        self.num_oov_indices = int(num_oov_indices)
        self.mask_token = mask_token
        self.oov_token = oov_token
        self.invert = bool(invert)
        self.output_mode = output_mode
        self.pad_to_max_tokens = bool(pad_to_max_tokens)
        self.sparse = False
        self.oov_method = oov_method
        self.salt = salt
        self.vocabulary_dtype = vocabulary_dtype
        self.input_vocabulary = vocabulary if not isinstance(vocabulary, str) else None
        self.input_idf_weights = idf_weights
        self._tokens = []
        self._index = {}
        self.idf_weights = None
        self._frozen_vocab_size = frozen_size
        self._has_input_vocabulary = vocabulary is not None
        self.reset_state()
        if output_mode == "tf_idf" and vocabulary is not None and idf_weights is None:
            raise ValueError(
                "When specifying the `vocabulary` argument, in TF-IDF output mode, the "
                "`idf_weights` argument must also be provided."
            )
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)
        self.built = True

    # ------------------------------------------------------------------ vocabulary

    def _oov_start_index(self):
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start_index(self):
        return self._oov_start_index() + self.num_oov_indices

    def _normalize_token(self, token):
        raise NotImplementedError

    def vocabulary_size(self):
        """The vocabulary size, mask and OOV slots included."""
        return len(self._tokens) + self._token_start_index()

    def get_vocabulary(self, include_special_tokens=True):
        """The vocabulary; with special tokens a term's position is its index."""
        start = self._token_start_index()
        vocab = [self.oov_token] * start + list(self._tokens)
        if self.mask_token is not None and self.output_mode == "int":
            vocab[0] = self.mask_token
        return vocab if include_special_tokens else vocab[start:]

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Set the vocabulary (array, list or a text file path) and, for tf_idf, the weights."""
        if self.output_mode == "tf_idf":
            if idf_weights is None:
                raise ValueError("`idf_weights` must be set if output_mode is 'tf_idf'.")
        elif idf_weights is not None:
            raise ValueError(
                "`idf_weights` should only be set if output_mode is `'tf_idf'`. Received: "
                f"output_mode={self.output_mode} and idf_weights={idf_weights}"
            )
        if isinstance(vocabulary, (str, os.PathLike)):
            path = os.fspath(vocabulary)
            if not os.path.exists(path):
                raise ValueError(f"Vocabulary file {path} does not exist.")
            with open(path, encoding="utf-8") as f:
                lines = f.read().splitlines()
            while lines and lines[-1] == "":
                lines.pop()
            vocabulary = lines
        tokens = [self._normalize_token(t) for t in host(vocabulary).reshape(-1).tolist()]
        if not tokens:
            raise ValueError(f"Cannot set an empty vocabulary. Received: vocabulary={vocabulary}")
        start = self._token_start_index()
        special = [self.mask_token] * self._oov_start_index() + [
            self.oov_token
        ] * self.num_oov_indices
        if start and tokens[:start] == [self._normalize_token(t) for t in special]:
            tokens = tokens[start:]
        repeated = [t for t, c in collections.Counter(tokens).items() if c > 1]
        if repeated:
            raise ValueError(
                "The passed vocabulary has at least one repeated term. Please uniquify your "
                f"dataset. The repeated terms are: {repeated}"
            )
        if self.mask_token is not None and self._normalize_token(self.mask_token) in tokens:
            raise ValueError(
                "Found reserved mask token at unexpected location in `vocabulary`. Either remove "
                "all mask and OOV tokens, or include them only at the start of the vocabulary "
                f"in precisely this order: {special}. Received: mask_token={self.mask_token}"
            )
        if self.invert and self.oov_token is not None and self.oov_token in tokens:
            raise ValueError(
                "Found reserved OOV token at unexpected location in `vocabulary`. "
                f"Received: oov_token={self.oov_token}"
            )
        if self.max_tokens is not None and start + len(tokens) > self.max_tokens:
            raise ValueError(
                "Attempted to set a vocabulary larger than the maximum vocab size. Received "
                f"vocabulary size is {start + len(tokens)}; `max_tokens` is {self.max_tokens}."
            )
        self._set_tokens(tokens)
        if self.output_mode == "tf_idf":
            weights = np.asarray(host(idf_weights), dtype=floatx()).reshape(-1)
            if len(weights) == len(tokens):
                # Keras pads the special slots with the mean weight.
                weights = np.concatenate([np.full(start, weights.mean(), weights.dtype), weights])
            self._set_idf(weights)

    def _set_tokens(self, tokens):
        self._tokens = list(tokens)
        self._index = {t: i + self._token_start_index() for i, t in enumerate(self._tokens)}
        self._frozen_vocab_size = self.vocabulary_size()

    def _set_idf(self, weights):
        if self.pad_to_max_tokens and self.max_tokens is not None:
            weights = np.pad(weights, (0, self.max_tokens - len(weights)))
        self.idf_weights = weights.astype(floatx())

    # ------------------------------------------------------------------ adapt

    def reset_state(self):
        self._counts = collections.Counter()
        self._doc_counts = collections.Counter()
        self._num_documents = 0

    def adapt(self, data, batch_size=None, steps=None):
        """Learn the vocabulary (and document frequencies for tf_idf) from ``data``."""
        if self._has_input_vocabulary:
            raise ValueError(
                f"Cannot adapt layer '{self.name}' after setting a static vocabulary via "
                "`vocabulary` argument or `set_vocabulary()` method."
            )
        super().adapt(data, batch_size=batch_size, steps=steps)

    def update_state(self, data):
        data = np.asarray(data)
        if data.ndim == 0:
            data = data[None]
        if data.ndim == 1:
            data = data[None]
        tokens = [self._normalize_token(t) for t in data.reshape(-1).tolist()]
        self._counts.update(tokens)
        if self.output_mode == "tf_idf":
            for row in data.reshape(data.shape[0], -1):
                self._doc_counts.update({self._normalize_token(t) for t in row.tolist()})
            self._num_documents += data.shape[0]

    def finalize_state(self):
        counts = dict(self._counts)
        for special in (self.mask_token, self.oov_token):
            if special is not None:
                counts.pop(self._normalize_token(special), None)
        if not counts:
            return
        ordered = sorted(counts.items(), key=lambda kv: (kv[1], self._sort_key(kv[0])))[::-1]
        if self.max_tokens:
            ordered = ordered[: self.max_tokens - self._token_start_index()]
        tokens = [t for t, _ in ordered]
        self._set_tokens(tokens)
        if self.output_mode == "tf_idf":
            docs = np.array([self._doc_counts[t] for t in tokens], dtype=np.float64)
            idf = np.log(1.0 + self._num_documents / (1.0 + docs)).astype(floatx())
            mean = idf.mean() if len(idf) else 0.0
            idf = np.concatenate([np.full(self._token_start_index(), mean, idf.dtype), idf])
            self._set_idf(idf)

    def _sort_key(self, token):
        return token.encode("utf-8") if isinstance(token, str) else token

    # ------------------------------------------------------------------ call

    def _lookup(self, values):
        flat = values.reshape(-1)
        unique, inverse = np.unique(flat, return_inverse=True)
        keys = [self._normalize_token(u) for u in unique.tolist()]
        default = self._oov_start_index() if self.num_oov_indices == 1 else -1
        found = np.array([self._index.get(k, default) for k in keys], dtype=np.int64)
        out = found[inverse.reshape(-1)].reshape(values.shape)
        if self.num_oov_indices > 1:
            oov = out == -1
            if oov.any():
                out[oov] = self._oov_indices(values[oov]) + self._oov_start_index()
        elif self.num_oov_indices == 0 and (out == -1).any():
            bad = np.unique(values[out == -1])
            raise ValueError(
                "When `num_oov_indices=0` all inputs should be in vocabulary, found OOV values "
                f"{bad.tolist()}, consider setting `num_oov_indices=1`."
            )
        if self.mask_token is not None:
            mask = values == self._mask_key()
            out[mask] = 0 if self.output_mode == "int" else np.iinfo(np.int64).max
        return out

    def _oov_indices(self, values):
        return hash_buckets(values, self.num_oov_indices, self._salt_pair())

    def _salt_pair(self):
        if self.salt is None:
            return None
        return list(self.salt) if isinstance(self.salt, (list, tuple)) else [self.salt] * 2

    def _mask_key(self):
        return self.mask_token

    def _inverse(self, indices):
        vocab = self.get_vocabulary()
        table = {i: v for i, v in enumerate(vocab) if i >= self._token_start_index()}
        if self.mask_token is not None:
            table[0] = self.mask_token
        flat = [table.get(int(i), self.oov_token) for i in indices.reshape(-1).tolist()]
        return np.asarray(flat, dtype=object if self._is_string else np.int64).reshape(
            indices.shape
        )

    def call(self, inputs):
        values = host(inputs)
        if self.invert:
            return self._finish(self._inverse(values.astype(np.int64)))
        if self.output_mode != "int" and not self.pad_to_max_tokens:
            if self._frozen_vocab_size is None:
                raise RuntimeError(
                    f"When using `output_mode={self.output_mode}` and `pad_to_max_tokens=False`, "
                    "you must set the layer's vocabulary before calling it. Either pass a "
                    "`vocabulary` argument to the layer, or call `adapt` with some sample data."
                )
        indices = self._lookup(values)
        if self.output_mode == "int":
            return to_device(indices)
        depth = self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size
        mode = "count" if self.output_mode == "tf_idf" else self.output_mode
        out = encode(indices, mode, depth, "int64")
        if self.output_mode == "tf_idf":
            out = out.astype(floatx()) * self.idf_weights[:depth]
        return to_device(out)

    def _finish(self, array):
        if self._is_string:
            return array  # strings stay a NumPy array (Keras returns a string tensor)
        return to_device(array)

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        depth = self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size
        return encoded_shape(input_shape, self.output_mode, depth)

    def _symbolic_dtype(self, input_dtype):
        if self.invert:
            return "string" if self._is_string else "int64"
        return "int64" if self.output_mode != "tf_idf" else floatx()

    # ------------------------------------------------------------------ config and saving

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "invert": self.invert,
                "max_tokens": self.max_tokens,
                "num_oov_indices": self.num_oov_indices,
                "oov_token": self.oov_token,
                "mask_token": self.mask_token,
                "output_mode": self.output_mode,
                "sparse": self.sparse,
                "pad_to_max_tokens": self.pad_to_max_tokens,
                "vocabulary_dtype": self.vocabulary_dtype,
                "idf_weights": _listify(self.input_idf_weights),
                "vocabulary": _listify(self.input_vocabulary),
                "vocabulary_size": self._frozen_vocab_size,
                "oov_method": self.oov_method,
                "salt": self.salt,
            }
        )
        return config

    def save_own_variables(self, store):
        """Keras's layout: the tf_idf weights under key ``idf_weights``."""
        if self.output_mode == "tf_idf" and self.idf_weights is not None:
            store["idf_weights"] = np.asarray(self.idf_weights)

    def load_own_variables(self, store):
        if self.output_mode == "tf_idf" and "idf_weights" in store:
            self.idf_weights = np.asarray(store["idf_weights"]).astype(floatx())

    def save_assets(self, dir_path):
        """Write the adapted vocabulary to ``vocabulary.txt`` (Keras's asset)."""
        if self.input_vocabulary is not None:
            return
        with open(os.path.join(dir_path, "vocabulary.txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(str(w) for w in self.get_vocabulary(include_special_tokens=True)))

    def load_assets(self, dir_path):
        if self.input_vocabulary is not None:
            return
        path = os.path.join(dir_path, "vocabulary.txt")
        if not os.path.exists(path):
            return
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
        while lines and lines[-1] == "":
            lines.pop()
        values = [self._parse_line(line) for line in lines]
        weights = self.idf_weights if self.output_mode == "tf_idf" else None
        has_input = self._has_input_vocabulary
        self.set_vocabulary(values, idf_weights=weights)
        self._has_input_vocabulary = has_input
        self.input_vocabulary = None


def _listify(value):
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return [v.item() if isinstance(v, np.generic) else v for v in value]
    return host(value).tolist()


class StringLookup(IndexLookup):
    """Map strings to integer indices (Keras 3's ``StringLookup``).

    Args:
        max_tokens: maximum vocabulary size, special tokens included (None: no limit).
        num_oov_indices: out-of-vocabulary slots; with more than one, OOV strings are
            distributed by FarmHash, as in Keras.
        mask_token: token mapped to index 0 (``output_mode="int"``), or None.
        oov_token: the string returned for OOV indices when ``invert=True``.
        vocabulary: list/array of strings or a text file path (one term per line).
        idf_weights: with ``output_mode="tf_idf"`` and a ``vocabulary``.
        invert: map indices back to strings.
        output_mode: ``"int"``, ``"one_hot"``, ``"multi_hot"``, ``"count"`` or ``"tf_idf"``.
        pad_to_max_tokens: pad encoded outputs to ``max_tokens``.
        encoding: text encoding of bytes inputs.

    Strings arrive as NumPy ``str``/``object``/``bytes`` arrays or lists; indices are int64.
    """

    _is_string = True

    def __init__(
        self,
        max_tokens=None,
        num_oov_indices=1,
        mask_token=None,
        oov_token="[UNK]",
        vocabulary=None,
        idf_weights=None,
        invert=False,
        output_mode="int",
        pad_to_max_tokens=False,
        sparse=False,
        encoding="utf-8",
        name=None,
        salt=None,
        **kwargs,
    ):
        self.encoding = encoding or "utf-8"
        kwargs.pop("vocabulary_dtype", None)
        super().__init__(
            max_tokens=max_tokens,
            num_oov_indices=num_oov_indices,
            mask_token=mask_token,
            oov_token=oov_token,
            vocabulary=vocabulary,
            idf_weights=idf_weights,
            invert=invert,
            output_mode=output_mode,
            pad_to_max_tokens=pad_to_max_tokens,
            sparse=sparse,
            name=name,
            salt=salt,
            vocabulary_dtype="string",
            **kwargs,
        )

    def _normalize_token(self, token):
        if isinstance(token, bytes):
            return token.decode(self.encoding)
        return token if isinstance(token, str) else str(token)

    def _mask_key(self):
        return self.mask_token

    def _lookup(self, values):
        if values.dtype.kind == "S" or values.dtype == object:
            values = np.vectorize(self._normalize_token, otypes=[object])(values)
        return super()._lookup(values.astype(object))

    def _oov_indices(self, values):
        return hash_buckets(values, self.num_oov_indices, self._salt_pair())

    def _parse_line(self, line):
        return str(line)

    def get_config(self):
        config = super().get_config()
        del config["vocabulary_dtype"]
        config["encoding"] = self.encoding
        return config


class IntegerLookup(IndexLookup):
    """Map integers to contiguous indices (Keras 3's ``IntegerLookup``).

    Same arguments as :class:`StringLookup` with integer tokens; ``oov_token`` defaults to -1,
    ``vocabulary_dtype`` must be ``"int64"``, and with ``num_oov_indices > 1`` OOV values go to
    ``value % num_oov_indices`` (``oov_method="floormod"``) or FarmHash (``"farmhash"``).
    """

    _is_string = False

    def __init__(
        self,
        max_tokens=None,
        num_oov_indices=1,
        mask_token=None,
        oov_token=-1,
        vocabulary=None,
        vocabulary_dtype="int64",
        idf_weights=None,
        invert=False,
        output_mode="int",
        sparse=False,
        pad_to_max_tokens=False,
        oov_method="floormod",
        salt=None,
        name=None,
        **kwargs,
    ):
        if vocabulary_dtype != "int64":
            raise ValueError(
                "Only `vocabulary_dtype='int64'` is supported at this time. Received: "
                f"vocabulary_dtype={vocabulary_dtype}"
            )
        if oov_method not in ("floormod", "farmhash"):
            raise ValueError(
                f"`oov_method` must be 'floormod' or 'farmhash'. Received: {oov_method!r}"
            )
        if salt is not None and oov_method != "farmhash":
            raise ValueError(
                "`salt` can only be used when `oov_method='farmhash'`. "
                f"Received: oov_method={oov_method}"
            )
        super().__init__(
            max_tokens=max_tokens,
            num_oov_indices=num_oov_indices,
            mask_token=mask_token,
            oov_token=oov_token,
            vocabulary=vocabulary,
            idf_weights=idf_weights,
            invert=invert,
            output_mode=output_mode,
            pad_to_max_tokens=pad_to_max_tokens,
            sparse=sparse,
            oov_method=oov_method,
            salt=salt,
            name=name,
            vocabulary_dtype=vocabulary_dtype,
            **kwargs,
        )

    def _normalize_token(self, token):
        return int(token)

    def _lookup(self, values):
        return super()._lookup(np.asarray(values).astype(np.int64))

    def _oov_indices(self, values):
        if self.oov_method == "floormod":
            return np.mod(values.astype(np.int64), self.num_oov_indices)
        return hash_buckets(values, self.num_oov_indices, self._salt_pair())

    def _parse_line(self, line):
        return int(line)
