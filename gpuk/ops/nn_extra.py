"""Keras 3's ``keras.ops.nn`` functions beyond the classic activations: shrink and sparse
activations, ``glu``, ``sparsemax``, the normalizations and ``moments`` (implemented in
:mod:`gpuk.ops.normalization`), ``multi_hot``, ``psnr``,
``depth_to_space``/``space_to_depth``, ``unfold``/``fold``, ``in_top_k``, ``polar`` and
``dot_product_attention``, with Keras's formulas, composed from differentiable ops.
"""

import math

import numpy as np

from gpuk._config import floatx
from gpuk.autograd import Function, Tensor, as_tensor
from gpuk.ops._util import normalize_axis, xp_of
from gpuk.ops.indexing import rearrange_op, sort
from gpuk.ops.math import (
    add,
    clip,
    divide,
    exp,
    log,
    maximum,
    minimum,
    multiply,
    sqrt,
    subtract,
    tanh,
    where,
)
from gpuk.ops.nn import relu6, sigmoid, softmax, softplus
from gpuk.ops.normalization import (
    batch_normalization,
    layer_normalization,
    moments,
    normalize,
    rms_normalization,
)
from gpuk.ops.reduce import max as _max
from gpuk.ops.reduce import mean
from gpuk.ops.reduce import sum as _sum
from gpuk.ops.shaping import cast, cumsum, one_hot, pad, reshape, split, transpose

__all__ = [
    "batch_normalization",
    "celu",
    "depth_to_space",
    "dot_product_attention",
    "fold",
    "glu",
    "hard_shrink",
    "hard_silu",
    "hard_swish",
    "hard_tanh",
    "in_top_k",
    "layer_normalization",
    "log_sigmoid",
    "moments",
    "multi_hot",
    "normalize",
    "polar",
    "psnr",
    "rms_normalization",
    "soft_shrink",
    "space_to_depth",
    "sparse_plus",
    "sparse_sigmoid",
    "sparsemax",
    "squareplus",
    "tanh_shrink",
    "threshold",
    "unfold",
]


def _f(x):
    t = as_tensor(x)
    return cast(t, floatx()) if t.dtype.kind in "biu" else t


def celu(x, alpha=1.0):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""
    x = _f(x)
    neg = multiply(alpha, subtract(exp(divide(minimum(x, 0.0), alpha)), 1.0))
    return add(maximum(x, 0.0), minimum(neg, 0.0))


def glu(x, axis=-1):
    """Gated linear unit: the first half of ``axis`` times the sigmoid of the second."""
    x = _f(x)
    (a,) = normalize_axis(axis, x.ndim)
    if x.shape[a] % 2:
        raise ValueError(f"glu: axis {axis} of shape {x.shape} must have an even size")
    first, second = split(x, 2, axis=a)
    return multiply(first, sigmoid(second))


def hard_shrink(x, threshold=0.5):
    """``x`` where ``|x| > threshold``, else 0."""
    x = _f(x)
    return where(Tensor(xp_of(x.data).abs(x.data) > threshold), x, 0.0)


def soft_shrink(x, threshold=0.5):
    """``x - threshold`` above ``threshold``, ``x + threshold`` below ``-threshold``, else 0."""
    x = _f(x)
    inner = where(Tensor(x.data < -threshold), add(x, threshold), 0.0)
    return where(Tensor(x.data > threshold), subtract(x, threshold), inner)


def hard_tanh(x):
    """``clip(x, -1, 1)``."""
    return clip(_f(x), -1.0, 1.0)


def hard_silu(x):
    """``x * relu6(x + 3) / 6``."""
    x = _f(x)
    return multiply(x, divide(relu6(add(x, 3.0)), 6.0))


hard_swish = hard_silu


def log_sigmoid(x):
    """``log(sigmoid(x)) = -softplus(-x)``, computed stably."""
    return multiply(softplus(multiply(_f(x), -1.0)), -1.0)


def sparse_plus(x):
    """0 for ``x <= -1``, ``x`` for ``x >= 1``, ``(x + 1)**2 / 4`` between."""
    x = _f(x)
    middle = multiply(multiply(add(x, 1.0), add(x, 1.0)), 0.25)
    upper = where(Tensor(x.data >= 1), x, middle)
    return where(Tensor(x.data <= -1), 0.0, upper)


def sparse_sigmoid(x):
    """0 for ``x <= -1``, 1 for ``x >= 1``, ``(x + 1) / 2`` between."""
    x = _f(x)
    middle = multiply(add(x, 1.0), 0.5)
    upper = where(Tensor(x.data >= 1), 1.0, middle)
    return where(Tensor(x.data <= -1), 0.0, upper)


def squareplus(x, b=4):
    """``(x + sqrt(x**2 + b)) / 2``."""
    x = _f(x)
    return multiply(add(x, sqrt(add(multiply(x, x), float(b)))), 0.5)


def tanh_shrink(x):
    """``x - tanh(x)``."""
    x = _f(x)
    return subtract(x, tanh(x))


def threshold(x, threshold, default_value):
    """``x`` where ``x > threshold``, else ``default_value``."""
    x = _f(x)
    return where(Tensor(x.data > threshold), x, default_value)


def sparsemax(x, axis=-1):
    """Sparsemax (Martins & Astudillo, 2016): the Euclidean projection of ``x`` onto the
    probability simplex along ``axis``."""
    x = _f(x)
    (a,) = normalize_axis(axis, x.ndim)
    xp = xp_of(x.data)
    ordered = multiply(sort(multiply(x, -1.0), axis=a), -1.0)
    csum = cumsum(ordered, axis=a)
    shape = [1] * x.ndim
    shape[a] = -1
    r = Tensor(xp.arange(1, x.shape[a] + 1, dtype=x.dtype).reshape(shape))
    support = Tensor((ordered.data - (csum.data - 1) / r.data) > 0)
    k = Tensor(support.data.sum(axis=a, keepdims=True).astype(x.dtype))
    tau = divide(subtract(_sum(where(support, csum, 0.0), axis=a, keepdims=True), 1.0), k)
    return maximum(subtract(x, tau), 0.0)


def multi_hot(inputs, num_classes=None, axis=-1, dtype=None, sparse=False, **kwargs):
    """Multi-hot encode integer ``inputs``: 1 at every class an example lists."""
    if sparse:
        raise ValueError("multi_hot: gpuk has no sparse tensors (sparse=True)")
    if num_classes is None:
        num_classes = kwargs.pop("num_tokens", None)
    if num_classes is None:
        raise ValueError("multi_hot: num_classes is required")
    x = as_tensor(inputs)
    reduction_axis = 1 if x.ndim > 1 else 0
    hot = one_hot(x, int(num_classes), dtype=dtype)
    if axis not in (-1, hot.ndim - 1):
        from gpuk.ops.indexing import moveaxis

        hot = moveaxis(hot, -1, axis)
    return _max(hot, axis=reduction_axis)


def psnr(x1, x2, max_val):
    """Peak signal-to-noise ratio ``20 log10(max_val) - 10 log10(mse)`` in dB."""
    a, b = _f(x1), _f(x2)
    if a.shape != b.shape:
        raise ValueError(f"psnr: shapes {a.shape} and {b.shape} must match")
    d = subtract(a, b)
    mse = mean(multiply(d, d))
    return subtract(20 * math.log10(float(max_val)), multiply(log(mse), 10 / math.log(10)))


def in_top_k(targets, predictions, k):
    """True where the prediction of the target class ranks within the top ``k``."""
    p = as_tensor(predictions).data
    xp = xp_of(p)
    t = xp.asarray(as_tensor(targets).data).astype(np.int64)
    at_label = xp.take_along_axis(p, t[..., None], axis=-1)
    at_label = xp.where(xp.isnan(at_label), -np.inf, at_label)
    rank = 1 + (p > at_label).sum(axis=-1)
    return Tensor(rank <= int(k))


def polar(abs_, angle):
    """The complex number ``abs_ * (cos(angle) + i sin(angle))``. No gradient."""
    r, t = as_tensor(abs_).data, as_tensor(angle).data
    xp = xp_of(r, t)
    return Tensor(r * xp.cos(t) + 1j * (r * xp.sin(t)))


def depth_to_space(x, block_size, data_format="channels_last"):
    """Move blocks of channels into ``block_size x block_size`` spatial blocks (4-D input)."""
    x = as_tensor(x)
    b = int(block_size)
    if data_format == "channels_last":
        n, h, w, c = x.shape
        y = reshape(x, (n, h, w, b, b, c // (b * b)))
        return reshape(transpose(y, (0, 1, 3, 2, 4, 5)), (n, h * b, w * b, c // (b * b)))
    n, c, h, w = x.shape
    y = reshape(x, (n, c // (b * b), b, b, h, w))
    return reshape(transpose(y, (0, 1, 4, 2, 5, 3)), (n, c // (b * b), h * b, w * b))


def space_to_depth(x, block_size, data_format="channels_last"):
    """Move ``block_size x block_size`` spatial blocks into channels (4-D input)."""
    x = as_tensor(x)
    b = int(block_size)
    if data_format == "channels_last":
        n, h, w, c = x.shape
        y = reshape(x, (n, h // b, b, w // b, b, c))
        return reshape(transpose(y, (0, 1, 3, 2, 4, 5)), (n, h // b, w // b, c * b * b))
    n, c, h, w = x.shape
    y = reshape(x, (n, c, h // b, b, w // b, b))
    return reshape(transpose(y, (0, 1, 3, 5, 2, 4)), (n, c * b * b, h // b, w // b))


def _pair(v):
    return (int(v), int(v)) if isinstance(v, (int, np.integer)) else (int(v[0]), int(v[1]))


def _patch_index(xp, h, w, kernel, dilation, stride):
    """Row and column indices (kH*kW, L) of every patch element in a padded image."""
    (kh, kw), (dh, dw), (sh, sw) = kernel, dilation, stride
    oh = (h - dh * (kh - 1) - 1) // sh + 1
    ow = (w - dw * (kw - 1) - 1) // sw + 1
    ki = xp.repeat(xp.arange(kh), kw) * dh
    kj = xp.tile(xp.arange(kw), kh) * dw
    oi = xp.repeat(xp.arange(oh), ow) * sh
    oj = xp.tile(xp.arange(ow), oh) * sw
    return ki[:, None] + oi[None, :], kj[:, None] + oj[None, :]


def unfold(x, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding blocks of an ``(N, C, H, W)`` image as ``(N, C*kH*kW, L)`` (PyTorch's
    ``unfold``)."""
    x = as_tensor(x)
    if x.ndim != 4:
        raise ValueError(f"unfold: expected a 4-D (N, C, H, W) input, got shape {x.shape}")
    k, d, p, s = _pair(kernel_size), _pair(dilation), _pair(padding), _pair(stride)
    if p != (0, 0):
        x = pad(x, [(0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])])
    n, c, h, w = x.shape
    rows, cols = _patch_index(xp_of(x.data), h, w, k, d, s)
    return rearrange_op(
        x, lambda xp, a: a[:, :, rows, cols].reshape(n, c * k[0] * k[1], rows.shape[1])
    )


class Fold(Function):
    def forward(self, x):
        xp = xp_of(x)
        n = x.shape[0]
        (kh, kw), (ph, pw) = self.k, self.p
        oh, ow = self.out
        c = x.shape[1] // (kh * kw)
        self.rows, self.cols = _patch_index(xp, oh + 2 * ph, ow + 2 * pw, self.k, self.d, self.s)
        out = xp.zeros((n, c, oh + 2 * ph, ow + 2 * pw), dtype=x.dtype)
        blocks = x.reshape(n, c, kh * kw, -1)
        xp.add.at(out, (slice(None), slice(None), self.rows, self.cols), blocks)
        self.in_shape = x.shape
        return out[:, :, ph : ph + oh, pw : pw + ow]

    def backward(self, g):
        xp = xp_of(g)
        (ph, pw) = self.p
        padded = xp.pad(g, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
        return (padded[:, :, self.rows, self.cols].reshape(self.in_shape),)


def fold(x, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum sliding blocks ``(N, C*kH*kW, L)`` back into an ``(N, C, oH, oW)`` image (the
    adjoint of ``unfold``, as PyTorch's ``fold``)."""
    x = as_tensor(x)
    if x.ndim != 3:
        raise ValueError(f"fold: expected a 3-D (N, C*kH*kW, L) input, got shape {x.shape}")
    return Fold.apply(
        x,
        out=_pair(output_size),
        k=_pair(kernel_size),
        d=_pair(dilation),
        p=_pair(padding),
        s=_pair(stride),
    )


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
    """Scaled dot-product attention on ``(batch, time, heads, depth)`` tensors.

    ``softmax(q k^T * scale + bias, masked) v`` with ``scale = 1 / sqrt(depth)`` by default;
    ``mask`` (True = attend) and ``bias`` broadcast to ``(batch, heads, T, S)``; fewer key
    heads than query heads are repeated (grouped-query attention). ``flash_attention=True``
    is refused: gpuk has no fused attention kernel.
    """
    if flash_attention:
        raise ValueError("dot_product_attention: gpuk has no flash attention kernel")
    from gpuk.ops.products import einsum

    q, k, v = _f(query), _f(key), _f(value)
    if q.ndim != 4 or k.ndim != 4 or v.ndim != 4:
        raise ValueError(
            f"dot_product_attention: only 4-D inputs, got {q.shape}, {k.shape}, {v.shape}"
        )
    heads, kv_heads = q.shape[2], k.shape[2]
    if kv_heads != heads:
        if heads % kv_heads:
            raise ValueError(
                f"dot_product_attention: {heads} query heads are not a multiple of "
                f"{kv_heads} key heads"
            )
        from gpuk.ops.shaping import repeat

        k = repeat(k, heads // kv_heads, axis=2)
        v = repeat(v, heads // kv_heads, axis=2)
    if scale is None:
        scale = 1.0 / math.sqrt(q.shape[-1])
    logits = multiply(einsum("BTNH,BSNH->BNTS", q, k), float(scale))
    if bias is not None:
        logits = add(logits, as_tensor(bias, logits.data))
    if attn_logits_soft_cap is not None:
        cap = float(attn_logits_soft_cap)
        logits = multiply(tanh(divide(logits, cap)), cap)
    if mask is not None or is_causal:
        xp = xp_of(logits.data)
        keep = xp.ones(logits.shape, dtype=bool)
        if mask is not None:
            keep = keep & xp.asarray(as_tensor(mask).data).astype(bool)
        if is_causal:
            t, s = logits.shape[2], logits.shape[3]
            keep = keep & xp.tri(t, s, dtype=bool)[None, None]
        low = -0.7 * float(np.finfo(logits.dtype).max)
        logits = where(Tensor(keep), logits, low)
    probs = softmax(logits, axis=-1)
    return einsum("BNTS,BSNH->BTNH", probs, v)
