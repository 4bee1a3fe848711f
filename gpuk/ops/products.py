"""Keras 3's products beyond matmul: einsum (implemented in :mod:`gpuk.ops.contraction`),
inner, outer, vdot, kron, cross, cdist, and the einops-style ``rearrange``."""

import re

import numpy as np

from gpuk.autograd import as_tensor
from gpuk.ops._util import normalize_axis
from gpuk.ops.contraction import einsum
from gpuk.ops.indexing import moveaxis, ravel
from gpuk.ops.linalg import tensordot
from gpuk.ops.math import multiply, sqrt, subtract
from gpuk.ops.reduce import sum as _sum
from gpuk.ops.shaping import expand_dims, getitem, reshape, stack, transpose

__all__ = [
    "cdist",
    "correlate",
    "cross",
    "einsum",
    "inner",
    "kron",
    "outer",
    "rearrange",
    "vdot",
]


def inner(x1, x2):
    """Sum product over the last axes (a plain product for scalars)."""
    a, b = as_tensor(x1), as_tensor(x2)
    if a.ndim == 0 or b.ndim == 0:
        return multiply(a, b)
    return tensordot(a, b, axes=([-1], [-1]))


def outer(x1, x2):
    """Outer product of the flattened inputs."""
    return multiply(expand_dims(ravel(x1), 1), expand_dims(ravel(x2), 0))


def vdot(x1, x2):
    """Dot product of the flattened inputs."""
    return _sum(multiply(ravel(x1), ravel(x2)))


def kron(x1, x2):
    """Kronecker product (block matrix of ``x1[i] * x2``)."""
    a, b = as_tensor(x1), as_tensor(x2)
    n = max(a.ndim, b.ndim)
    sa = (1,) * (n - a.ndim) + a.shape
    sb = (1,) * (n - b.ndim) + b.shape
    a_view = reshape(a, tuple(d for s in sa for d in (s, 1)))
    b_view = reshape(b, tuple(d for s in sb for d in (1, s)))
    return reshape(multiply(a_view, b_view), tuple(p * q for p, q in zip(sa, sb)))


def cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Cross product of 3-vectors (or 2-vectors, giving the z component) along the axes."""
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = moveaxis(x1, axisa, -1), moveaxis(x2, axisb, -1)
    na, nb = a.shape[-1], b.shape[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError(f"cross: vectors must have 2 or 3 components, got {na} and {nb}")

    def comp(t, i):
        if i >= t.shape[-1]:
            return None
        return getitem(t, (Ellipsis, i))

    def mul(p, q):
        return None if p is None or q is None else multiply(p, q)

    def sub(p, q):
        if p is None and q is None:
            return None
        if q is None:
            return p
        if p is None:
            return multiply(q, -1)
        return subtract(p, q)

    a0, a1, a2 = comp(a, 0), comp(a, 1), comp(a, 2)
    b0, b1, b2 = comp(b, 0), comp(b, 1), comp(b, 2)
    z = sub(mul(a0, b1), mul(a1, b0))
    if na == 2 and nb == 2:
        return z
    x = sub(mul(a1, b2), mul(a2, b1))
    y = sub(mul(a2, b0), mul(a0, b2))
    out = stack([x, y, z], axis=-1)
    (c,) = normalize_axis(axisc, out.ndim)
    return moveaxis(out, -1, c) if c != out.ndim - 1 else out


def cdist(x, y):
    """Euclidean distances between the rows of ``x`` (..., N, D) and ``y`` (..., M, D)."""
    x, y = as_tensor(x), as_tensor(y)
    if x.ndim < 2 or y.ndim < 2:
        raise ValueError(f"cdist: inputs must have rank >= 2, got {x.shape} and {y.shape}")
    if x.shape[-1] != y.shape[-1]:
        raise ValueError(f"cdist: last dimensions must match, got {x.shape} and {y.shape}")
    d = subtract(expand_dims(x, -2), expand_dims(y, -3))
    return sqrt(_sum(multiply(d, d), axis=-1))


_GROUP = re.compile(r"\(([^)]*)\)|(\S+)")


def _parse_side(side):
    return [m.group(1).split() if m.group(1) is not None else [m.group(2)]
            for m in _GROUP.finditer(side)]  # fmt: skip


def rearrange(tensor, pattern, **axes_lengths):
    """Reorder, split and merge axes with an einops pattern such as ``'b h w c -> b c h w'``
    or ``'b (h p) w -> b h p w'`` (lengths of split axes given as keywords)."""
    x = as_tensor(tensor)
    lhs, sep, rhs = pattern.partition("->")
    if not sep:
        raise ValueError(f"rearrange: pattern {pattern!r} needs '->'")
    left, right = _parse_side(lhs), _parse_side(rhs)
    if len(left) != x.ndim:
        raise ValueError(
            f"rearrange: pattern {lhs.strip()!r} has {len(left)} axes, input {x.shape}"
        )
    sizes = dict(axes_lengths)
    for group, n in zip(left, x.shape):
        unknown = [a for a in group if a not in sizes]
        known = int(np.prod([sizes[a] for a in group if a in sizes]))
        if len(unknown) > 1:
            raise ValueError(f"rearrange: cannot infer the sizes of {unknown} in {pattern!r}")
        if unknown:
            sizes[unknown[0]] = n // known
    flat_left = [a for g in left for a in g]
    x = reshape(x, tuple(sizes[a] for a in flat_left))
    flat_right = [a for g in right for a in g]
    if sorted(flat_left) != sorted(flat_right):
        raise ValueError(f"rearrange: both sides of {pattern!r} must name the same axes")
    perm = [flat_left.index(a) for a in flat_right]
    if perm != list(range(len(perm))):
        x = transpose(x, perm)
    return reshape(x, tuple(int(np.prod([sizes[a] for a in g])) for g in right))


_CORRELATE_OFFSETS = {}


def _correlate_offset(m, n, mode):
    """Where NumPy's ``mode`` result starts inside the ``'full'`` correlation (by probing
    NumPy once per length pair: only the lengths matter)."""
    key = (m, n, mode)
    if key not in _CORRELATE_OFFSETS:
        rng = np.random.default_rng(0)
        a, v = rng.normal(size=m), rng.normal(size=n)
        full, part = np.correlate(a, v, "full"), np.correlate(a, v, mode)
        offsets = [o for o in range(full.size - part.size + 1)
                   if np.allclose(full[o : o + part.size], part)]  # fmt: skip
        _CORRELATE_OFFSETS[key] = (offsets[0], part.size)
    return _CORRELATE_OFFSETS[key]


def correlate(x1, x2, mode="valid"):
    """Cross-correlation of two 1-D tensors (``numpy.correlate``: ``'valid'``, ``'same'``
    or ``'full'``); differentiable in both."""
    if mode not in ("valid", "same", "full"):
        raise ValueError(f"correlate: mode must be 'valid', 'same' or 'full', got {mode!r}")
    from gpuk.ops.shaping import pad
    from gpuk.ops.slicing import extract_sequences

    a, v = as_tensor(x1), as_tensor(x2)
    if a.ndim != 1 or v.ndim != 1:
        raise ValueError(f"correlate: inputs must be 1-D, got {a.shape} and {v.shape}")
    m, n = a.shape[0], v.shape[0]
    frames = extract_sequences(pad(a, [(n - 1, n - 1)]), n, 1)
    full = tensordot(frames, v, axes=([1], [0]))
    start, size = _correlate_offset(m, n, mode)
    return getitem(full, slice(start, start + size))
