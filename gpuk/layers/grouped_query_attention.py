"""GroupedQueryAttention (exported as ``GroupQueryAttention``) with Keras 3's weights and
numerics; the shared plumbing lives in ``gpuk.layers.attention``."""

import math

import numpy as np

from gpuk import ops
from gpuk.autograd import as_tensor
from gpuk.layers.attention import (
    _combine_masks,
    _common_config,
    _common_sublayer_kwargs,
    _expand_mask,
    _fast_attention,
    _gate_and_project,
    _HeadsAttention,
    _init_common,
    _scored_attention,
    _sliding_band,
    _with_causal,
)
from gpuk.layers.einsum_dense import EinsumDense

__all__ = ["GroupQueryAttention", "GroupedQueryAttention"]


class GroupedQueryAttention(_HeadsAttention):
    """Grouped-query attention (Ainslie et al., 2023): ``num_query_heads`` query heads share
    ``num_key_value_heads`` key/value heads. Exported as ``GroupQueryAttention``.

    Sub-layers ``query`` (kernel ``(dim, num_query_heads, head_dim)``), ``key``, ``value``
    (``(dim, num_key_value_heads, head_dim)``) and ``attention_output``
    (``(num_query_heads, head_dim, dim)``).
    """

    _W3_NAMES = {
        "query_dense": "_query_dense",
        "key_dense": "_key_dense",
        "value_dense": "_value_dense",
        "output_dense": "_output_dense",
        "gate_dense": "_gate_dense",
    }

    def __init__(
        self,
        head_dim,
        num_query_heads,
        num_key_value_heads,
        dropout=0.0,
        use_bias=True,
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
        super().__init__(**kwargs)
        for name, v in (
            ("head_dim", head_dim),
            ("num_query_heads", num_query_heads),
            ("num_key_value_heads", num_key_value_heads),
        ):
            if not isinstance(v, (int, np.integer)) or v <= 0:
                raise ValueError(
                    f"GroupQueryAttention {self.name!r}: `{name}` must be a positive integer, "
                    f"received {name}={v!r}"
                )
        if num_query_heads % num_key_value_heads != 0:
            raise ValueError(
                f"GroupQueryAttention {self.name!r}: `num_query_heads` ({num_query_heads}) must "
                f"be divisible by `num_key_value_heads` ({num_key_value_heads})."
            )
        if flash_attention:
            raise ValueError("GroupQueryAttention: flash_attention is not available in gpuk")
        self.head_dim = head_dim
        self.num_query_heads = num_query_heads
        self.num_key_value_heads = num_key_value_heads
        self.num_repeats = num_query_heads // num_key_value_heads
        self.dropout = dropout
        self._dropout_rate = float(dropout)
        self.use_bias = use_bias
        self.use_gate = use_gate
        self.sliding_window = sliding_window
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
        self.seed = seed
        self._inverse_sqrt_head_dim = 1.0 / math.sqrt(float(head_dim))
        self._return_attention_scores = False

    def _score_heads(self):
        return self.num_query_heads

    def _dense(self, equation, output_shape, bias_axes, name, **extra):
        return EinsumDense(
            equation,
            output_shape=output_shape,
            bias_axes=bias_axes if self.use_bias else None,
            name=name,
            **_common_sublayer_kwargs(self),
            **extra,
        )

    def build(self, query_shape, value_shape=None, key_shape=None):
        self._record_build_shapes(query_shape, value_shape, key_shape)
        key_shape = value_shape if key_shape is None else key_shape
        for name, shape in (("query", query_shape), ("value", value_shape), ("key", key_shape)):
            if len(shape) != 3:
                raise ValueError(
                    f"GroupQueryAttention {self.name!r}: {name} must have rank 3 (batch, time, "
                    f"features), received shape {tuple(shape)}"
                )
        self.feature_dim = query_shape[-1]
        q_heads, kv_heads, h = self.num_query_heads, self.num_key_value_heads, self.head_dim
        self.query_dense = self._dense("bqm,muh->bquh", (None, q_heads, h), "uh", "query")
        self.query_dense._maybe_build(tuple(query_shape))
        self.key_dense = self._dense("bkm,mvh->bkvh", (None, kv_heads, h), "vh", "key")
        self.key_dense._maybe_build(tuple(key_shape))
        subs = [self.query_dense, self.key_dense]
        if self.use_gate:
            self.gate_dense = self._dense(
                "bqm,muh->bquh", (None, q_heads, h), "uh", "gate", activation="sigmoid"
            )
            self.gate_dense._maybe_build(tuple(query_shape))
            subs.append(self.gate_dense)
        self.value_dense = self._dense("bkm,mvh->bkvh", (None, kv_heads, h), "vh", "value")
        self.value_dense._maybe_build(tuple(value_shape))
        self._make_softmax_dropout(-1, self.dropout)
        self._dot_product_equation = "bquh,bkuh->buqk"
        self._combine_equation = "buqk,bkuh->bquh"
        self.output_dense = self._dense(
            "bquh,uhm->bqm", (None, self.feature_dim), "m", "attention_output"
        )
        self.output_dense._maybe_build((None, None, q_heads, h))
        subs += [self.value_dense, self.output_dense]
        self._own_paths(*subs)
        self.built = True

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
        mask = _combine_masks(
            query, value, query_mask, value_mask, key_mask, attention_mask, use_causal_mask
        )
        if self.sliding_window is not None:
            mask = _sliding_band(mask, query, value, self.sliding_window)
        gate = self.gate_dense(query) if self.use_gate else None
        q = self.query_dense(query)
        k = ops.repeat(self.key_dense(key), self.num_repeats, axis=2)
        v = ops.repeat(self.value_dense(value), self.num_repeats, axis=2)
        self._return_attention_scores = return_attention_scores
        output, scores = self._compute_attention(q, k, v, attention_mask=mask, training=training)
        return _gate_and_project(self, output, gate, scores, return_attention_scores)

    def _masked_softmax(self, scores, attention_mask=None):
        return self._softmax(scores, mask=_expand_mask(attention_mask, scores, (-1,)))

    def _compute_attention(
        self, query, key, value, attention_mask=None, training=None, use_causal_mask=False
    ):
        """Attention on projected tensors; returns ``(output, scores)`` (Keras's hook)."""
        if use_causal_mask:
            attention_mask = _with_causal(attention_mask, query, value)
        if not (self._dropout_rate > 0 or self._return_attention_scores):
            output = _fast_attention(
                query,
                key,
                value,
                attention_mask,
                self._inverse_sqrt_head_dim,
                self._dot_product_equation,
                self._combine_equation,
                (-1,),
                key_first=False,
            )
            return output, None
        scale = self._inverse_sqrt_head_dim
        return _scored_attention(self, query, key, value, attention_mask, training, scale, False)

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        if value_shape is not None:
            key_shape = value_shape if key_shape is None else key_shape
            if query_shape[-1] != value_shape[-1]:
                raise ValueError(
                    f"GroupQueryAttention {self.name!r}: the last dimension of `query_shape` and "
                    f"`value_shape` must be equal, but are {query_shape[-1]}, {value_shape[-1]}."
                )
            if tuple(value_shape)[1:-1] != tuple(key_shape)[1:-1]:
                raise ValueError(
                    f"GroupQueryAttention {self.name!r}: all dimensions of `value` and `key`, "
                    f"except the last one, must be equal. Received: value_shape="
                    f"{tuple(value_shape)} and key_shape={tuple(key_shape)}"
                )
        return tuple(query_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "head_dim": self.head_dim,
                "num_query_heads": self.num_query_heads,
                "num_key_value_heads": self.num_key_value_heads,
                "use_bias": self.use_bias,
                "use_gate": self.use_gate,
                "sliding_window": self.sliding_window,
                "dropout": self.dropout,
                **_common_config(self),
                "seed": self.seed,
            }
        )
        return config


# Keras exports the class as GroupQueryAttention; its legacy configs name GroupedQueryAttention.
GroupQueryAttention = GroupedQueryAttention
