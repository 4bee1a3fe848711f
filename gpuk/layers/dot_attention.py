"""Attention (Luong dot-product) and AdditiveAttention (Bahdanau) layers, as Keras 3.

Both are called on ``[query, value]`` or ``[query, value, key]`` and take an optional list of
masks ``[query_mask, value_mask]`` (the inputs' Keras masks are used when not given).
"""

from gpuk import ops
from gpuk._array import asarray
from gpuk.autograd import as_array
from gpuk.layers.base import KerasTensor, Layer, is_shape
from gpuk.ops._util import xp_of
from gpuk.ops.attention import causal_mask

__all__ = ["AdditiveAttention", "Attention"]


class Attention(Layer):
    """Dot-product attention: ``softmax(query . key^T [* scale]) . value``.

    Args:
        use_scale: learn a scalar ``scale`` multiplying the scores.
        score_mode: ``"dot"`` or ``"concat"`` (``sum(tanh(scale * (q + k)))`` times the learned
            ``concat_score_weight``).
        dropout: on the attention distribution (training only).
        seed: accepted.

    Call: ``layer([query, value(, key)], mask=None, training=False,
    return_attention_scores=False, use_causal_mask=False)``; output ``(batch, Tq, dim)``.
    """

    supports_masking = True

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.use_scale = use_scale
        self.score_mode = score_mode
        self.dropout = dropout
        self.seed = seed
        if self.score_mode not in ("dot", "concat"):
            raise ValueError(
                "Invalid value for argument score_mode. Expected one of {'dot', 'concat'}. "
                f"Received: score_mode={score_mode}"
            )

    def _validate_inputs(self, inputs, mask=None):
        name = type(self).__name__
        if not isinstance(inputs, (list, tuple)) or is_shape(inputs):
            raise ValueError(
                f"{name} layer {self.name!r} must be called on a list of inputs, namely [query, "
                f"value] or [query, value, key]. Received: inputs={inputs}."
            )
        if not 2 <= len(inputs) <= 3:
            raise ValueError(
                f"{name} layer {self.name!r} accepts inputs list of length 2 or 3, namely "
                f"[query, value] or [query, value, key]. Received length: {len(inputs)}."
            )
        if mask is not None:
            if not isinstance(mask, (list, tuple)) or not 2 <= len(mask) <= 3:
                raise ValueError(
                    f"{name} layer {self.name!r} mask must be a list of length 2 or 3, namely "
                    f"[query_mask, value_mask]. Received: mask={mask}."
                )

    def build(self, input_shape):
        self._validate_inputs(input_shape)
        q, v = input_shape[0], input_shape[1]
        k = input_shape[2] if len(input_shape) > 2 else v
        if q[-1] is not None and k[-1] is not None and q[-1] != k[-1]:
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: query and key must have the same last "
                f"dimension, received query shape {tuple(q)} and key shape {tuple(k)}"
            )
        self.scale = None
        self.concat_score_weight = None
        if self.use_scale:
            self.scale = self.add_weight(name="scale", shape=(), initializer="ones")
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight(
                name="concat_score_weight", shape=(), initializer="ones"
            )
        self.built = True

    def _calculate_scores(self, query, key):
        if self.score_mode == "dot":
            scores = ops.matmul(query, ops.transpose(key, (*range(key.ndim - 2), -1, -2)))
            if self.scale is not None:
                scores = scores * self.scale
            return scores
        q = ops.expand_dims(query, -2)
        k = ops.expand_dims(key, -3)
        inner = q + k if self.scale is None else self.scale * (q + k)
        return self.concat_score_weight * ops.sum(ops.tanh(inner), axis=-1)

    def _apply_scores(self, scores, value, scores_mask=None, training=False):
        if scores_mask is not None:
            padding = ~scores_mask
            max_value = 65504.0 if scores.dtype == "float16" else 1.0e9
            if padding.ndim == 2:
                padding = padding[:, None, :]
            scores = ops.where(padding, scores - max_value, scores)
        weights = ops.softmax(scores, axis=-1)
        if training and self.dropout > 0:
            weights = ops.dropout(weights, self.dropout)
        return ops.matmul(weights, value), weights

    def call(
        self,
        inputs,
        mask=None,
        training=False,
        return_attention_scores=False,
        use_causal_mask=False,
    ):
        self._validate_inputs(inputs, mask)
        q, v = inputs[0], inputs[1]
        k = inputs[2] if len(inputs) > 2 else v
        q_mask = _data(mask[0], q) if mask else None
        v_mask = _data(mask[1], q) if mask else None
        scores = self._calculate_scores(q, k)
        scores_mask = v_mask
        if use_causal_mask:
            causal = causal_mask(scores.shape[-2], scores.shape[-1], xp_of(scores.data))
            scores_mask = causal if v_mask is None else (v_mask[..., None, :] & causal)
        output, weights = self._apply_scores(scores, v, scores_mask, training)
        if q_mask is not None:
            output = ops.where(q_mask[..., None], output, 0.0)
        if return_attention_scores:
            return output, weights
        return output

    def compute_mask(self, inputs, mask=None):
        if mask is None or mask[0] is None:
            return None
        return mask[0]

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape[0])[:-1], input_shape[1][-1])

    def compute_output_spec(self, inputs, mask=None, return_attention_scores=False, **kwargs):
        self._validate_inputs(inputs, mask)
        q, v = inputs[0], inputs[1]
        k = inputs[2] if len(inputs) > 2 else v
        out = KerasTensor(self.compute_output_shape([q.shape, v.shape]), self.compute_dtype)
        if return_attention_scores:
            return out, KerasTensor((*q.shape[:-1], k.shape[-2]), self.compute_dtype)
        return out

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "use_scale": self.use_scale,
                "score_mode": self.score_mode,
                "dropout": self.dropout,
                "seed": self.seed,
            }
        )
        return config


class AdditiveAttention(Attention):
    """Additive (Bahdanau) attention: scores ``sum(scale * tanh(query + key), axis=-1)``.

    Weight (``use_scale=True``, the default): ``scale`` of shape ``(dim,)``, Glorot-uniform.
    """

    def __init__(self, use_scale=True, dropout=0.0, **kwargs):
        kwargs.pop("score_mode", None)
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

    def build(self, input_shape):
        self._validate_inputs(input_shape)
        dim = input_shape[0][-1]
        self.scale = None
        self.concat_score_weight = None
        if self.use_scale:
            if dim is None:
                raise ValueError(
                    f"AdditiveAttention {self.name!r}: the last query dimension must be known, "
                    f"received shapes {input_shape}"
                )
            self.scale = self.add_weight(name="scale", shape=(dim,), initializer="glorot_uniform")
        self.built = True

    def _calculate_scores(self, query, key):
        q = ops.expand_dims(query, -2)
        k = ops.expand_dims(key, -3)
        t = ops.tanh(q + k)
        if self.use_scale:
            t = self.scale * t
        return ops.sum(t, axis=-1)

    def get_config(self):
        config = super().get_config()
        del config["score_mode"]
        return config


def _data(mask, like):
    if mask is None:
        return None
    data = as_array(mask)
    if xp_of(data) is not xp_of(like.data):
        data = asarray(data, xp=xp_of(like.data))
    return data.astype(bool) if data.dtype != bool else data
