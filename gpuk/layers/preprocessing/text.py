"""TextVectorization: strings to token indices or bag-of-words vectors (Keras 3's layer).

Standardization, splitting and n-grams follow TensorFlow's string ops as Keras uses them:
``lower`` lowers ASCII letters only, punctuation is the ASCII set Keras strips, whitespace
splitting drops empty tokens, n-grams of each width are listed width by width, joined by a
space. The vocabulary lives in an inner :class:`StringLookup` with mask token ``""``.
"""

import re

import numpy as np

from gpuk._config import floatx
from gpuk.autograd import Tensor
from gpuk.layers.base import KerasTensor
from gpuk.layers.preprocessing.base import PreprocessingLayer, host, iterate_batches, to_device
from gpuk.layers.preprocessing.encoding_utils import encode
from gpuk.layers.preprocessing.lookup import StringLookup, _listify

__all__ = ["TextVectorization"]

_PUNCTUATION = re.compile(r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']')
_WHITESPACE = re.compile(r"[ \t\n\r\f\v]+")
_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}
_STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation")


class TextVectorization(PreprocessingLayer):
    """Map text to integer sequences or to multi-hot/count/tf-idf vectors.

    Args:
        max_tokens: vocabulary size limit (padding and OOV tokens included).
        standardize: ``"lower_and_strip_punctuation"`` (default), ``"lower"``,
            ``"strip_punctuation"``, None, or a callable on a NumPy array of str.
        split: ``"whitespace"`` (default), ``"character"``, None, or a callable returning a list
            of tokens for one string.
        ngrams: None, an int ``n`` (all 1..n-grams) or a tuple of widths.
        output_mode: ``"int"`` (default), ``"multi_hot"``, ``"count"``, ``"tf_idf"``.
        output_sequence_length: with ``"int"``, pad or truncate sequences to this length
            (otherwise to the longest in the batch).
        pad_to_max_tokens: pad vector outputs to ``max_tokens``.
        vocabulary: list/array of terms or a text file path; idf_weights with ``"tf_idf"``.
        encoding: text encoding of bytes inputs.
    """

    def __init__(
        self,
        max_tokens=None,
        standardize="lower_and_strip_punctuation",
        split="whitespace",
        ngrams=None,
        output_mode="int",
        output_sequence_length=None,
        pad_to_max_tokens=False,
        vocabulary=None,
        idf_weights=None,
        sparse=False,
        ragged=False,
        encoding="utf-8",
        name=None,
        **kwargs,
    ):
        if not (standardize is None or callable(standardize) or standardize in _STANDARDIZE):
            raise ValueError(
                f"Invalid value for argument `standardize` of TextVectorization. Expected one of "
                f"{_STANDARDIZE}, None or a callable. Received: standardize={standardize!r}"
            )
        if not (split is None or callable(split) or split in ("whitespace", "character")):
            raise ValueError(
                "Invalid value for argument `split` of TextVectorization. Expected one of "
                f"('whitespace', 'character'), None or a callable. Received: split={split!r}"
            )
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode not in ("int", "one_hot", "multi_hot", "count", "tf_idf"):
            raise ValueError(
                "Invalid value for argument `output_mode` of TextVectorization. Expected one of "
                "('int', 'one_hot', 'multi_hot', 'count', 'tf_idf'). "
                f"Received: output_mode={output_mode!r}"
            )
        if isinstance(ngrams, list):
            ngrams = tuple(ngrams)
        if not (
            ngrams is None
            or isinstance(ngrams, int)
            or isinstance(ngrams, tuple)
            and all(isinstance(i, int) for i in ngrams)
        ):
            raise ValueError(
                "`ngrams` must be None, an integer, or a tuple of integers. "
                f"Received: ngrams={ngrams}"
            )
        if output_mode == "int" and not (
            output_sequence_length is None or isinstance(output_sequence_length, int)
        ):
            raise ValueError(
                "`output_sequence_length` must be either None or an integer when `output_mode` "
                f"is 'int'. Received: output_sequence_length={output_sequence_length}"
            )
        if output_mode != "int" and output_sequence_length is not None:
            raise ValueError(
                "`output_sequence_length` must not be set if `output_mode` is not 'int'. "
                f"Received output_sequence_length={output_sequence_length}."
            )
        if sparse or ragged:
            raise ValueError("TextVectorization: `sparse` and `ragged` are not supported by gpuk.")
        vocabulary_size = kwargs.pop("vocabulary_size", None)
        has_input = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        kwargs.pop("dtype", None)
        super().__init__(name=name, **kwargs)
        self._max_tokens = max_tokens
        self._standardize = standardize
        self._split = split
        self._ngrams_arg = ngrams
        self._ngrams = tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else ngrams
        self._ragged = False
        self._output_mode = output_mode
        self._output_sequence_length = output_sequence_length
        self._encoding = encoding
        self._lookup_layer = StringLookup(
            max_tokens=max_tokens,
            vocabulary=vocabulary,
            idf_weights=idf_weights,
            pad_to_max_tokens=pad_to_max_tokens,
            mask_token="",
            output_mode=output_mode,
            encoding=encoding,
            vocabulary_size=vocabulary_size,
        )
        self._lookup_layer._has_input_vocabulary = has_input
        self.built = True

    # ------------------------------------------------------------------ text processing

    def _strings(self, inputs):
        array = host(inputs)
        if array.dtype.kind == "S" or array.dtype == object:
            array = np.vectorize(
                lambda v: v.decode(self._encoding) if isinstance(v, bytes) else str(v),
                otypes=[object],
            )(array)
        return array.astype(object)

    def _standardized(self, strings):
        if callable(self._standardize):
            result = self._standardize(strings.astype(str))
            return host(result).astype(object)
        mode = self._standardize

        def one(text):
            if mode in ("lower", "lower_and_strip_punctuation"):
                text = text.translate(_ASCII_LOWER)
            if mode in ("strip_punctuation", "lower_and_strip_punctuation"):
                text = _PUNCTUATION.sub("", text)
            return text

        return np.vectorize(one, otypes=[object])(strings) if mode else strings

    def _tokens(self, strings):
        """A list of token lists (split), or the strings themselves (``split=None``)."""
        if self._split is None:
            return None
        if strings.ndim > 1:
            if strings.shape[-1] != 1:
                raise ValueError(
                    "When using `TextVectorization` to tokenize strings, the input rank must be 1 "
                    f"or the last shape dimension must be 1. Received: inputs.shape="
                    f"{strings.shape} with rank={strings.ndim}"
                )
            strings = strings[..., 0]
        rows = strings.reshape(-1).tolist()
        if self._split == "whitespace":
            tokens = [[t for t in _WHITESPACE.split(s) if t] for s in rows]
        elif self._split == "character":
            tokens = [list(s) for s in rows]
        else:
            tokens = [[_decode(t) for t in host(self._split(s)).reshape(-1).tolist()] for s in rows]
        return tokens, strings.shape

    def _ngrammed(self, tokens):
        if self._ngrams is None:
            return tokens
        out = []
        for row in tokens:
            grams = []
            for width in self._ngrams:
                grams.extend(" ".join(row[i : i + width]) for i in range(len(row) - width + 1))
            out.append(grams)
        return out

    def _preprocess(self, inputs):
        """Token lists per row (split) or a string array (no split)."""
        strings = self._standardized(self._strings(inputs))
        split = self._tokens(strings)
        if split is None:
            return None, strings
        tokens, shape = split
        return self._ngrammed(tokens), shape

    # ------------------------------------------------------------------ adapt and call

    def adapt(self, data, batch_size=None, steps=None):
        """Learn the vocabulary (and document frequencies for tf_idf) from text ``data``."""
        self.reset_state()
        for batch in iterate_batches(data, batch_size, steps):
            self.update_state(batch)
        self.finalize_state()
        self._is_adapted = True

    def update_state(self, data):
        data = np.asarray(data)
        if data.ndim == 0:
            data = data[None]
        tokens, strings = self._preprocess(data)
        lookup = self._lookup_layer
        if lookup._has_input_vocabulary:
            raise ValueError(
                f"Cannot adapt layer '{self.name}' after setting a static vocabulary via "
                "`vocabulary` argument or `set_vocabulary()` method."
            )
        if tokens is None:
            lookup.update_state(strings.reshape(strings.shape[0], -1) if strings.ndim else strings)
            return
        for row in tokens:
            lookup._counts.update(row)
            if self._output_mode == "tf_idf":
                lookup._doc_counts.update(set(row))
                lookup._num_documents += 1

    def finalize_state(self):
        self._lookup_layer.finalize_state()

    def reset_state(self):
        self._lookup_layer.reset_state()

    def get_vocabulary(self, include_special_tokens=True):
        """The vocabulary (with ``""`` and ``"[UNK]"`` first unless excluded)."""
        return self._lookup_layer.get_vocabulary(include_special_tokens)

    def vocabulary_size(self):
        """The vocabulary size, padding and OOV tokens included."""
        return self._lookup_layer.vocabulary_size()

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Set the vocabulary (and tf_idf weights) directly instead of adapting."""
        self._lookup_layer.set_vocabulary(vocabulary, idf_weights=idf_weights)
        self._lookup_layer._has_input_vocabulary = True

    def call(self, inputs):
        tokens, shape = self._preprocess(inputs)
        lookup = self._lookup_layer
        if tokens is None:
            out = lookup.call(Tensor(shape))
            return out
        if self._output_mode == "int":
            length = self._output_sequence_length
            if length is None:
                length = max((len(r) for r in tokens), default=0)
            out = np.zeros((len(tokens), length), dtype=np.int64)
            for i, row in enumerate(tokens):
                row = row[:length]
                if row:
                    out[i, : len(row)] = lookup._lookup(np.asarray(row, dtype=object))
            return to_device(out.reshape(*shape, length))
        width = max((len(r) for r in tokens), default=0)
        index_rows = []
        for row in tokens:
            ids = lookup._lookup(np.asarray(row, dtype=object)) if row else np.zeros(0, np.int64)
            index_rows.append(np.concatenate([ids, np.full(width - len(ids), -1, np.int64)]))
        indices = np.stack(index_rows) if index_rows else np.zeros((0, width), np.int64)
        depth = lookup.max_tokens if lookup.pad_to_max_tokens else lookup._frozen_vocab_size
        mode = "count" if self._output_mode == "tf_idf" else self._output_mode
        out = encode(indices, mode, depth, floatx())
        if self._output_mode == "tf_idf":
            out = out * lookup.idf_weights[:depth]
        return to_device(out.reshape(*shape, depth))

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self._output_mode == "int":
            return (input_shape[0], self._output_sequence_length)
        lookup = self._lookup_layer
        depth = lookup.max_tokens if lookup.pad_to_max_tokens else lookup._frozen_vocab_size
        if self._split is None:
            if len(input_shape) <= 1:
                input_shape = input_shape + (1,)
        else:
            input_shape = input_shape + (None,)
        return (*input_shape[:-1], depth)

    def compute_output_spec(self, *args, **kwargs):
        shape = self.compute_output_shape(args[0].shape)
        dtype = "int64" if self._output_mode == "int" else floatx()
        return KerasTensor(shape, dtype=dtype, name=self.name)

    # ------------------------------------------------------------------ config and saving

    def get_config(self):
        config = super().get_config()
        lookup = self._lookup_layer
        config.update(
            {
                "max_tokens": lookup.max_tokens,
                "standardize": self._standardize,
                "split": self._split,
                "ngrams": self._ngrams_arg,
                "output_mode": self._output_mode,
                "output_sequence_length": self._output_sequence_length,
                "pad_to_max_tokens": lookup.pad_to_max_tokens,
                "sparse": False,
                "ragged": False,
                "vocabulary": _listify(lookup.input_vocabulary),
                "idf_weights": _listify(lookup.input_idf_weights),
                "encoding": self._encoding,
                "vocabulary_size": self.vocabulary_size(),
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config.pop("dtype", None)
        if isinstance(config.get("ngrams"), list):
            config["ngrams"] = tuple(config["ngrams"])
        return cls(**config)

    def _saveable_children(self):
        """Keras saves the inner lookup layer as a child at ``<path>/_lookup_layer``."""
        return [("_lookup_layer", self._lookup_layer)]

    def save_own_variables(self, store):
        self._lookup_layer.save_own_variables(store)

    def load_own_variables(self, store):
        self._lookup_layer.load_own_variables(store)

    def save_assets(self, dir_path):
        self._lookup_layer.save_assets(dir_path)

    def load_assets(self, dir_path):
        self._lookup_layer.load_assets(dir_path)


def _decode(value):
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)
