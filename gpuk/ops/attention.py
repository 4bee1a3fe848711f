"""Attention ops: a masked softmax (Keras's ``Softmax`` layer semantics) and
``dot_product_attention`` (Keras 3's ``ops.dot_product_attention``), both as batched matrix
products and one-node softmaxes, with no loop over heads or positions.
"""

import math

import numpy as np

from gpuk.autograd import Function, as_array, as_tensor
from gpuk.ops._util import normalize_axis, xp_of
from gpuk.ops.contraction import einsum

__all__ = ["causal_mask", "dot_product_attention", "masked_softmax"]


def _large_negative(dtype):
    return -3e4 if np.dtype(dtype) == np.float16 else -1e9


class _MaskedSoftmax(Function):
    """Softmax over ``axes`` where masked-out entries are replaced by ``fill`` first.

    With ``zero_masked`` the masked outputs are set to 0 afterwards (Keras's Softmax layer:
    a fully masked row gives zeros, not a uniform distribution).
    """

    def forward(self, x):
        xp = xp_of(x)
        mask = self.mask
        if mask is not None:
            x = xp.where(mask, x, x.dtype.type(self.fill))
        # In place after the first subtraction: one temporary for a large score tensor.
        y = x - x.max(axis=self.axes, keepdims=True)
        xp.exp(y, out=y)
        y /= y.sum(axis=self.axes, keepdims=True)
        if mask is not None and self.zero_masked:
            y = xp.where(mask, y, x.dtype.type(0))
        self.y = y
        return y

    def backward(self, g):
        y = self.y
        gx = g * y
        gx -= y * gx.sum(axis=self.axes, keepdims=True)
        if self.mask is not None:
            xp = xp_of(g)
            gx = xp.where(self.mask, gx, g.dtype.type(0))
            shape = self.in_shape
            if gx.shape != shape:
                gx = xp.broadcast_to(gx, shape)
        return (gx,)


def _mask_array(mask, like):
    if mask is None:
        return None
    data = as_array(mask)
    xp = xp_of(like)
    if xp_of(data) is not xp:
        from gpuk._array import asarray

        data = asarray(data, xp=xp)
    if data.dtype != bool:
        data = data > 0.5
    return data


def masked_softmax(x, mask=None, axis=-1, zero_masked=True, fill=None):
    """Softmax of ``x`` over ``axis`` keeping only entries where ``mask`` is True.

    Args:
        x: logits.
        mask: boolean (or 0/1) array broadcastable to ``x``; ``None`` means no mask.
        axis: int or tuple of ints.
        zero_masked: masked positions output 0 (Keras's ``Softmax`` layer); False gives a
            uniform row where everything is masked (``ops.dot_product_attention``).
        fill: value for masked logits; ``-1e9`` (``-3e4`` in float16) by default.
    """
    x = as_tensor(x)
    axes = normalize_axis(axis, x.ndim)
    m = _mask_array(mask, x.data)
    if m is not None:
        if m.ndim > x.ndim:
            raise ValueError(
                f"softmax: the mask (shape {tuple(m.shape)}) has more dimensions than the "
                f"inputs (shape {x.shape})"
            )
        for m_dim, i_dim in zip(m.shape[::-1], x.shape[::-1]):
            if m_dim != 1 and m_dim != i_dim:
                raise ValueError(
                    f"softmax: the mask must be broadcastable to the inputs; received mask "
                    f"shape {tuple(m.shape)} for inputs of shape {x.shape}"
                )
    fill = _large_negative(x.dtype) if fill is None else fill
    return _MaskedSoftmax.apply(
        x, mask=m, axes=axes, zero_masked=zero_masked, fill=fill, in_shape=x.shape
    )


def causal_mask(q_len, k_len, xp=np):
    """Boolean ``(1, q_len, k_len)`` lower-triangular mask (``row >= col``), Keras's rule."""
    rows = xp.arange(q_len)[:, None]
    cols = xp.arange(k_len)[None, :]
    return (rows >= cols)[None]


def dot_product_attention(
    query,
    key,
    value,
    bias=None,
    mask=None,
    scale=None,
    is_causal=False,
    flash_attention=None,
    attn_logits_soft_cap=None,
):
    """Scaled dot-product attention on ``(batch, time, heads, depth)`` inputs.

    ``softmax(query . key * scale + bias)`` over the key axis, masked by ``mask`` (broadcastable
    to ``(batch, heads, q_time, k_time)``) and the causal mask, then applied to ``value``.
    ``scale`` defaults to ``1 / sqrt(depth)``. Returns ``(batch, q_time, heads, depth_v)``.
    """
    if flash_attention:
        raise ValueError("dot_product_attention: flash_attention is not available in gpuk")
    query, key, value = as_tensor(query), as_tensor(key), as_tensor(value)
    for name, t in (("query", query), ("key", key), ("value", value)):
        if t.ndim != 4:
            raise ValueError(
                f"dot_product_attention: {name} must have rank 4 (batch, time, heads, depth), "
                f"received shape {t.shape}"
            )
    if scale is None:
        scale = 1.0 / math.sqrt(query.shape[-1])
    logits = einsum("BTNH,BSNH->BNTS", query, key) * float(scale)
    if bias is not None:
        logits = logits + bias
    if attn_logits_soft_cap is not None:
        from gpuk.ops.math import tanh

        logits = tanh(logits / attn_logits_soft_cap) * attn_logits_soft_cap
    m = _mask_array(mask, logits.data)
    if is_causal:
        xp = xp_of(logits.data)
        c = causal_mask(logits.shape[2], logits.shape[3], xp)[None]
        m = c if m is None else m & c
    if m is not None:
        m = xp_of(logits.data).broadcast_to(m, logits.shape)
        fill = -0.7 * float(np.finfo(logits.dtype).max)
        probs = masked_softmax(logits, m, axis=-1, zero_masked=False, fill=fill)
    else:
        probs = masked_softmax(logits, None, axis=-1)
    return einsum("BNTS,BSNH->BTNH", probs, value)
