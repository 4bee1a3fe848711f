"""MultiHeadAttention with Keras 3's weights and numerics, and the pieces shared with
GroupedQueryAttention (``gpuk.layers.grouped_query_attention``).

Every product is a batched matrix product (``gpuk.ops.contraction.einsum`` lowers to one BLAS /
cuBLAS ``matmul``); there is no Python loop over heads or positions.
"""

import math
import string

import numpy as np

from gpuk import constraints, initializers, regularizers
from gpuk._array import asarray
from gpuk.autograd import Tensor, as_array, as_tensor
from gpuk.layers.base import KerasTensor, Layer, is_keras_tensor
from gpuk.layers.einsum_dense import EinsumDense
from gpuk.ops._util import xp_of
from gpuk.ops.attention import causal_mask, masked_softmax
from gpuk.ops.contraction import einsum

__all__ = ["MultiHeadAttention"]


def _letter(i):
    return string.ascii_lowercase[i]


def _build_proj_equation(free_dims, bound_dims, output_dims):
    input_str = kernel_str = output_str = bias_axes = ""
    offset = 0
    for i in range(free_dims):
        input_str += _letter(i + offset)
        output_str += _letter(i + offset)
    offset += free_dims
    for i in range(bound_dims):
        input_str += _letter(i + offset)
        kernel_str += _letter(i + offset)
    offset += bound_dims
    for i in range(output_dims):
        kernel_str += _letter(i + offset)
        output_str += _letter(i + offset)
        bias_axes += _letter(i + offset)
    return f"{input_str},{kernel_str}->{output_str}", bias_axes, len(output_str)


def _build_attention_equation(rank, attn_axes):
    target = "".join(_letter(i) for i in range(rank))
    batch_dims = tuple(i for i in range(rank) if i not in attn_axes and i != rank - 1)
    offset = rank
    source = ""
    for i in range(rank):
        if i in batch_dims or i == rank - 1:
            source += target[i]
        else:
            source += _letter(offset)
            offset += 1
    product = "".join(
        [target[i] for i in batch_dims]
        + [target[i] for i in attn_axes]
        + [source[i] for i in attn_axes]
    )
    return f"{source},{target}->{product}", f"{product},{source}->{target}", len(product)


def _output_shape(rank, known_last_dims):
    return [None] * (rank - len(known_last_dims)) + list(known_last_dims)


def _shape_of(value):
    if is_keras_tensor(value) or isinstance(value, Tensor):
        return tuple(value.shape)
    return tuple(np.shape(value))


def _mask_data(mask, like=None):
    """A boolean array of ``mask`` on the device of ``like`` (a Tensor)."""
    if mask is None:
        return None
    data = as_array(mask)
    if like is not None and xp_of(data) is not xp_of(like.data):
        data = asarray(data, xp=xp_of(like.data))
    return data.astype(bool) if data.dtype != bool else data


def _combine_masks(query, value, query_mask, value_mask, key_mask, attention_mask, causal):
    """Keras's ``_compute_attention_mask``: all masks and-ed into a (B, T, S) boolean array."""
    query_mask, value_mask, key_mask, attention_mask = (
        _mask_data(m, query) for m in (query_mask, value_mask, key_mask, attention_mask)
    )
    auto = None
    if query_mask is not None:
        auto = _mask_data(query_mask)[..., :, None]
    for m in (value_mask, key_mask):
        if m is not None:
            m = _mask_data(m)[..., None, :]
            auto = m if auto is None else auto & m
    if causal:
        c = causal_mask(query.shape[1], value.shape[1], xp_of(query.data))
        auto = c if auto is None else auto & c
    if attention_mask is not None:
        attention_mask = _mask_data(attention_mask)
        return attention_mask if auto is None else attention_mask & auto
    return auto


class _HeadsAttention(Layer):
    """Shared call plumbing of the multi-head layers: building from (query, value, key) shapes,
    symbolic outputs, masks from the inputs, and the build config Keras writes."""

    supports_masking = True

    def __call__(self, query, value=None, key=None, **kwargs):
        if value is None:
            value = kwargs.pop("value", None)
        if value is None:
            raise ValueError(f"{type(self).__name__} {self.name!r} needs `query` and `value`.")
        if not self.built:
            key_shape = None if key is None else _shape_of(key)
            self._build_checked(_shape_of(query), _shape_of(value), key_shape)
        if key is not None:
            kwargs["key"] = key
        return super().__call__(query, value, **kwargs)

    def _build_checked(self, query_shape, value_shape, key_shape=None):
        for name, shape in (("query", query_shape), ("value", value_shape), ("key", key_shape)):
            if shape is not None and len(shape) < 3:
                raise ValueError(
                    f"{type(self).__name__} {self.name!r}: {name} must have rank >= 3 "
                    f"(batch, time..., features), received shape {tuple(shape)}"
                )
        self.build(query_shape, value_shape, key_shape)
        self.built = True

    def _record_build_shapes(self, query_shape, value_shape, key_shape):
        if query_shape is None or value_shape is None:
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: build needs query_shape and value_shape, "
                f"received {query_shape} and {value_shape}"
            )
        self._build_shapes = {"query_shape": tuple(query_shape), "value_shape": tuple(value_shape)}
        if key_shape is not None:
            self._build_shapes["key_shape"] = tuple(key_shape)

    def _make_softmax_dropout(self, norm_axes, rate):
        # Keras builds these two sub-layers too: same automatic names, same file layout.
        from gpuk.layers.activation_layers import Softmax
        from gpuk.layers.core import Dropout

        self._softmax = Softmax(axis=norm_axes, dtype=self.dtype)
        self._dropout_layer = Dropout(rate=rate, dtype=self.dtype, seed=self.seed)

    def _w3_children(self):
        """``(attribute, sub-layer)`` pairs as Keras 3 keys them in ``.weights.h5``."""
        names = self._W3_NAMES
        pairs = [("_softmax", self._softmax), ("_dropout_layer", self._dropout_layer)]
        for attr, key in names.items():
            layer = getattr(self, attr, None)
            if layer is not None:
                pairs.append((key, layer))
        return sorted(pairs)

    # Keras's private names of the projection sub-layers, read by some user subclasses.
    _query_dense = property(lambda self: self.query_dense)
    _key_dense = property(lambda self: self.key_dense)
    _value_dense = property(lambda self: self.value_dense)
    _output_dense = property(lambda self: self.output_dense)

    def _own_paths(self, *sublayers):
        for layer in sublayers:
            for variable in layer.weights:
                variable.path = f"{self.name}/{layer.name}/{variable.name}"

    def _convert(self, value):
        return self._convert_input(value) if value is not None else None

    def get_build_config(self):
        shapes = getattr(self, "_build_shapes", None)
        if shapes is None:
            return None
        return {"shapes_dict": {k: list(v) for k, v in shapes.items()}}

    def build_from_config(self, config):
        if not config or self.built:
            return
        shapes = config.get("shapes_dict")
        if shapes is None and config.get("input_shape") is not None:
            shape = config["input_shape"]
            shapes = {"query_shape": shape[0], "value_shape": shape[1]}
            if len(shape) > 2:
                shapes["key_shape"] = shape[2]
        if shapes:
            self._build_checked(
                tuple(shapes["query_shape"]),
                tuple(shapes["value_shape"]),
                tuple(shapes["key_shape"]) if shapes.get("key_shape") else None,
            )

    def compute_output_spec(self, query, value, key=None, return_attention_scores=False, **kwargs):
        key_shape = None if key is None else key.shape
        out = KerasTensor(
            self.compute_output_shape(query.shape, value.shape, key_shape), self.compute_dtype
        )
        if not return_attention_scores:
            return out
        kv_len = value.shape[1] if key is None else key.shape[1]
        scores = KerasTensor(
            (query.shape[0], self._score_heads(), query.shape[1], kv_len), self.compute_dtype
        )
        return out, scores


def _common_sublayer_kwargs(layer):
    def clone(init):
        return type(init).from_config(init.get_config())

    return dict(
        kernel_regularizer=layer._kernel_regularizer,
        bias_regularizer=layer._bias_regularizer,
        activity_regularizer=layer._activity_regularizer,
        kernel_constraint=layer._kernel_constraint,
        bias_constraint=layer._bias_constraint,
        kernel_initializer=clone(layer._kernel_initializer),
        bias_initializer=clone(layer._bias_initializer),
        dtype=layer.dtype,
    )


def _init_common(layer, kwargs, kernel_initializer, bias_initializer, **others):
    layer._kernel_initializer = initializers.get(kernel_initializer)
    layer._bias_initializer = initializers.get(bias_initializer)
    layer._kernel_regularizer = regularizers.get(others.get("kernel_regularizer"))
    layer._bias_regularizer = regularizers.get(others.get("bias_regularizer"))
    layer._activity_regularizer = regularizers.get(others.get("activity_regularizer"))
    layer._kernel_constraint = constraints.get(others.get("kernel_constraint"))
    layer._bias_constraint = constraints.get(others.get("bias_constraint"))


def _common_config(layer):
    return {
        "kernel_initializer": initializers.serialize(layer._kernel_initializer),
        "bias_initializer": initializers.serialize(layer._bias_initializer),
        "kernel_regularizer": regularizers.serialize(layer._kernel_regularizer),
        "bias_regularizer": regularizers.serialize(layer._bias_regularizer),
        "activity_regularizer": regularizers.serialize(layer._activity_regularizer),
        "kernel_constraint": constraints.serialize(layer._kernel_constraint),
        "bias_constraint": constraints.serialize(layer._bias_constraint),
    }


def _fast_attention(query, key, value, mask, scale, dot_eq, combine_eq, norm_axes, key_first):
    """Keras's ``ops.dot_product_attention`` route (no dropout, no scores returned): logits
    scaled after the product, and a fully masked row attends uniformly."""
    pair = (key, query) if key_first else (query, key)
    scores = einsum(dot_eq, *pair) * scale
    mask = _expand_mask(mask, scores, norm_axes)
    fill = -0.7 * float(np.finfo(scores.dtype).max)
    probs = masked_softmax(scores, mask, axis=norm_axes, zero_masked=False, fill=fill)
    return einsum(combine_eq, probs, value)


def _expand_mask(mask, scores, norm_axes):
    """A (B, T, S) mask with singleton axes inserted (Keras's rule) up to the scores' rank."""
    if mask is None:
        return None
    xp = xp_of(scores.data)
    mask = as_array(mask)
    if xp_of(mask) is not xp:
        mask = xp.asarray(mask)
    while mask.ndim < scores.ndim:
        mask = xp.expand_dims(mask, -len(norm_axes) * 2 - 1)
    return mask


def _sliding_band(mask, query, value, window):
    """``mask`` and-ed with the ``|query step - key step| < window`` band (``sliding_window``)."""
    xp = xp_of(query.data)
    rows = xp.arange(query.shape[1])[:, None]
    cols = xp.arange(value.shape[1])[None, :]
    band = (xp.abs(rows - cols) < window)[None]
    return band if mask is None else mask & band


def _with_causal(attention_mask, query, value):
    causal = causal_mask(query.shape[1], value.shape[1], xp_of(query.data))
    return causal if attention_mask is None else attention_mask & causal


def _scored_attention(layer, query, key, value, attention_mask, training, scale, key_first):
    """The unfused path: scores through the layer's Softmax and Dropout sub-layers."""
    query = query * scale
    pair = (key, query) if key_first else (query, key)
    scores = einsum(layer._dot_product_equation, *pair)
    scores = layer._masked_softmax(scores, attention_mask)
    final = layer._dropout_layer(scores, training=training) if layer._dropout_rate else scores
    return einsum(layer._combine_equation, final, value), scores


def _gate_and_project(layer, output, gate, scores, return_attention_scores):
    if gate is not None:
        output = output * gate
    output = layer.output_dense(output)
    if return_attention_scores:
        return output, scores
    return output


class MultiHeadAttention(_HeadsAttention):
    """Multi-head attention (Vaswani et al., 2017) as Keras 3 builds it.

    ``query``, ``value`` (and ``key``, default ``value``) are projected by ``EinsumDense``
    sub-layers named ``query``, ``key``, ``value`` (kernels ``(dim, num_heads, key_dim)``, biases
    ``(num_heads, key_dim)``), scaled dot products are softmaxed over the key positions and
    combined, and ``attention_output`` (kernel ``(num_heads, value_dim, out_dim)``) projects back.

    Args:
        num_heads, key_dim: number and size of the heads; value_dim defaults to key_dim.
        dropout: on the attention probabilities (training only).
        use_bias, output_shape, attention_axes, kernel_*/bias_*: as Keras.

    Call: ``layer(query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
    attention_mask=None, return_attention_scores=False, training=None,
    use_causal_mask=False)``. The inputs' Keras masks are used as the query/value/key masks.
    """

    def __init__(
        self,
        num_heads,
        key_dim,
        value_dim=None,
        dropout=0.0,
        use_bias=True,
        output_shape=None,
        attention_axes=None,
        sliding_window=None,
        flash_attention=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        use_gate=False,
        seed=None,
        **kwargs,
    ):
        for name, v in (("num_heads", num_heads), ("key_dim", key_dim)):
            if not isinstance(v, (int, np.integer)) or v <= 0:
                raise ValueError(
                    f"Received an invalid value for argument `{name}`, expected a positive "
                    f"integer. Received: {name}={v!r}"
                )
        if value_dim is not None and (
            not isinstance(value_dim, (int, np.integer)) or value_dim <= 0
        ):
            raise ValueError(
                "Received an invalid value for argument `value_dim`, expected a positive integer "
                f"or `None`. Received: value_dim={value_dim!r}"
            )
        if flash_attention:
            raise ValueError("MultiHeadAttention: flash_attention is not available in gpuk")
        # tf.keras 2 configs carry the build shapes.
        legacy_shapes = [kwargs.pop(k, None) for k in ("query_shape", "value_shape", "key_shape")]
        super().__init__(**kwargs)
        self._num_heads = int(num_heads)
        self._key_dim = int(key_dim)
        self._value_dim = int(value_dim) if value_dim else self._key_dim
        self._dropout = dropout
        self._dropout_rate = float(dropout)
        self._use_bias = use_bias
        self._use_gate = use_gate
        if output_shape:
            output_shape = (output_shape,) if isinstance(output_shape, int) else tuple(output_shape)
        self._output_shape = output_shape or None
        _init_common(
            self,
            kwargs,
            kernel_initializer,
            bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint,
        )
        if isinstance(attention_axes, int):
            attention_axes = (attention_axes,)
        elif attention_axes and not isinstance(attention_axes, (list, tuple)):
            raise ValueError(
                f"`attention_axes` must be an int, list, or tuple. Received: {attention_axes!r}"
            )
        self._attention_axes = tuple(attention_axes) if attention_axes else None
        if sliding_window is not None and (
            not isinstance(sliding_window, int) or sliding_window <= 0
        ):
            raise ValueError(
                "`sliding_window` must be `None` or a positive integer. "
                f"Received: sliding_window={sliding_window}"
            )
        self._sliding_window = sliding_window
        self.seed = seed
        self._inverse_sqrt_key_dim = 1.0 / math.sqrt(float(self._key_dim))
        if legacy_shapes[0] is not None and legacy_shapes[1] is not None:
            self._build_checked(*(None if s is None else tuple(s) for s in legacy_shapes))

    _W3_NAMES = {
        "query_dense": "query_dense",
        "key_dense": "key_dense",
        "value_dense": "value_dense",
        "output_dense": "output_dense",
        "gate_dense": "gate_dense",
    }

    num_heads = property(lambda self: self._num_heads)
    key_dim = property(lambda self: self._key_dim)
    value_dim = property(lambda self: self._value_dim)
    dropout = property(lambda self: self._dropout)
    use_bias = property(lambda self: self._use_bias)
    attention_axes = property(lambda self: self._attention_axes)

    def _score_heads(self):
        return self._num_heads

    def _dense(self, equation, rank, last_dims, bias_axes, name, **extra):
        return EinsumDense(
            equation,
            output_shape=_output_shape(rank - 1, last_dims),
            bias_axes=bias_axes if self._use_bias else None,
            name=name,
            **_common_sublayer_kwargs(self),
            **extra,
        )

    def build(self, query_shape, value_shape=None, key_shape=None):
        if value_shape is None:
            raise ValueError(
                f"MultiHeadAttention {self.name!r}: build needs query_shape and value_shape"
            )
        self._record_build_shapes(query_shape, value_shape, key_shape)
        key_shape = value_shape if key_shape is None else key_shape
        if tuple(value_shape[1:-1]) != tuple(key_shape[1:-1]):
            raise ValueError(
                f"MultiHeadAttention {self.name!r}: all dimensions of `value` and `key`, except "
                f"the last one, must be equal. Received: value_shape={tuple(value_shape)} and "
                f"key_shape={tuple(key_shape)}"
            )
        if len(query_shape) != len(value_shape):
            raise ValueError(
                f"MultiHeadAttention {self.name!r}: query and value must have the same rank. "
                f"Received: query_shape={tuple(query_shape)}, value_shape={tuple(value_shape)}"
            )
        for name, shape in (("query", query_shape), ("value", value_shape), ("key", key_shape)):
            if shape[-1] is None:
                raise ValueError(
                    f"MultiHeadAttention {self.name!r}: the last dimension of {name} must be "
                    f"known, received shape {tuple(shape)}"
                )
        heads = [self._num_heads, self._key_dim]
        eq, bias, rank = _build_proj_equation(len(query_shape) - 1, 1, 2)
        self.query_dense = self._dense(eq, rank, heads, bias, "query")
        self.query_dense._maybe_build(tuple(query_shape))
        eq, bias, rank = _build_proj_equation(len(key_shape) - 1, 1, 2)
        self.key_dense = self._dense(eq, rank, heads, bias, "key")
        self.key_dense._maybe_build(tuple(key_shape))
        subs = [self.query_dense, self.key_dense]
        if self._use_gate:
            eq, bias, rank = _build_proj_equation(len(query_shape) - 1, 1, 2)
            self.gate_dense = self._dense(
                eq, rank, [self._num_heads, self._value_dim], bias, "gate", activation="sigmoid"
            )
            self.gate_dense._maybe_build(tuple(query_shape))
            subs.append(self.gate_dense)
        eq, bias, rank = _build_proj_equation(len(value_shape) - 1, 1, 2)
        self.value_dense = self._dense(eq, rank, [self._num_heads, self._value_dim], bias, "value")
        self.value_dense._maybe_build(tuple(value_shape))
        subs.append(self.value_dense)
        self._build_attention(rank)
        out_shape = list(self._output_shape) if self._output_shape else [query_shape[-1]]
        eq, bias, rank = _build_proj_equation(len(query_shape) - 1, 2, len(out_shape))
        self.output_dense = self._dense(eq, rank, out_shape, bias, "attention_output")
        dense_in = list(self.query_dense.compute_output_shape(tuple(query_shape)))
        dense_in[-1] = self._value_dim
        self.output_dense._maybe_build(tuple(dense_in))
        subs.append(self.output_dense)
        self._own_paths(*subs)
        self.built = True

    def _build_attention(self, rank):
        if self._attention_axes is None:
            self._attention_axes = tuple(range(1, rank - 2))
        else:
            self._attention_axes = tuple(
                a if a >= 0 else (rank - 1) + a for a in self._attention_axes
            )
        self._dot_product_equation, self._combine_equation, scores_rank = _build_attention_equation(
            rank, self._attention_axes
        )
        n = len(self._attention_axes)
        self._norm_axes = tuple(range(scores_rank - n, scores_rank))
        self._make_softmax_dropout(self._norm_axes, self._dropout)

    def call(
        self,
        query,
        value,
        key=None,
        query_mask=None,
        value_mask=None,
        key_mask=None,
        attention_mask=None,
        return_attention_scores=False,
        training=None,
        use_causal_mask=False,
    ):
        query = as_tensor(query)
        value = self._convert(value)
        key = value if key is None else self._convert(key)
        # Keras takes the query mask from the query tensor itself.
        query_mask = getattr(query, "_keras_mask", None)
        if value_mask is None:
            value_mask = getattr(value, "_keras_mask", None)
        if key_mask is None and key is not value:
            key_mask = getattr(key, "_keras_mask", None)
        mask = _combine_masks(
            query, value, query_mask, value_mask, key_mask, attention_mask, use_causal_mask
        )
        if self._sliding_window is not None:
            mask = _sliding_band(mask, query, value, self._sliding_window)
        gate = self.gate_dense(query) if self._use_gate else None
        q = self.query_dense(query)
        k = self.key_dense(key)
        v = self.value_dense(value)
        output, scores = self._compute_attention(q, k, v, mask, training, return_attention_scores)
        return _gate_and_project(self, output, gate, scores, return_attention_scores)

    def _masked_softmax(self, attention_scores, attention_mask=None):
        """The Softmax sub-layer on the scores, the mask broadcast as Keras does."""
        mask = _expand_mask(attention_mask, attention_scores, self._attention_axes)
        return self._softmax(attention_scores, mask=mask)

    def _compute_attention(
        self,
        query,
        key,
        value,
        attention_mask=None,
        training=None,
        return_attention_scores=False,
        use_causal_mask=False,
    ):
        """Attention on projected ``(B, T, N, H)`` tensors; returns ``(output, scores)``.

        Subclasses may override it, as in Keras (``self._dot_product_equation``,
        ``self._combine_equation``, ``self._masked_softmax``, ``self._dropout_layer``).
        """
        if use_causal_mask:
            attention_mask = _with_causal(attention_mask, query, value)
        fast = not (self._dropout_rate > 0 or return_attention_scores or query.ndim != 4)
        if fast:
            output = _fast_attention(
                query,
                key,
                value,
                attention_mask,
                self._inverse_sqrt_key_dim,
                self._dot_product_equation,
                self._combine_equation,
                self._norm_axes,
                key_first=True,
            )
            return output, None
        scale = self._inverse_sqrt_key_dim
        return _scored_attention(self, query, key, value, attention_mask, training, scale, True)

    def compute_mask(self, inputs, mask=None):
        return getattr(inputs, "_keras_mask", None)

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        query_shape = tuple(query_shape)
        if value_shape is not None:
            key_shape = tuple(value_shape) if key_shape is None else tuple(key_shape)
            if tuple(value_shape)[1:-1] != key_shape[1:-1]:
                raise ValueError(
                    f"MultiHeadAttention {self.name!r}: all dimensions of `value` and `key`, "
                    f"except the last one, must be equal. Received: value_shape="
                    f"{tuple(value_shape)} and key_shape={key_shape}"
                )
        if self._output_shape:
            return query_shape[:-1] + tuple(self._output_shape)
        return query_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self._num_heads,
                "key_dim": self._key_dim,
                "value_dim": self._value_dim,
                "dropout": self._dropout,
                "use_bias": self._use_bias,
                "use_gate": self._use_gate,
                "output_shape": self._output_shape,
                "attention_axes": self._attention_axes,
                "sliding_window": self._sliding_window,
                **_common_config(self),
                "seed": self.seed,
            }
        )
        return config
