"""Keras 3's NumPy-like statistics and counting functions: NaN-aware reductions, quantiles,
cumulative products, differences, histograms, searching and set membership.

Reductions that Keras differentiates are composed from differentiable ops (sort, gather,
sum, where); counting and searching return integers without a gradient. ``unique`` and
``nonzero`` have data-dependent shapes, so their size is read back from the device.
"""

import numpy as np

from gpuk._config import floatx
from gpuk.autograd import Function, Tensor, as_tensor
from gpuk.ops._util import normalize_axis, xp_of
from gpuk.ops.indexing import ravel, sort, take_along_axis
from gpuk.ops.math import add, divide, multiply, sqrt, subtract, where
from gpuk.ops.reduce import max as _max
from gpuk.ops.reduce import mean as _mean
from gpuk.ops.reduce import min as _min
from gpuk.ops.reduce import prod as _prod
from gpuk.ops.reduce import sum as _sum
from gpuk.ops.shaping import cast, cumsum, getitem, reshape

__all__ = [
    "amax",
    "amin",
    "average",
    "bincount",
    "corrcoef",
    "count_nonzero",
    "cumprod",
    "diff",
    "digitize",
    "histogram",
    "isin",
    "median",
    "nanargmax",
    "nanargmin",
    "nancumprod",
    "nancumsum",
    "nanmax",
    "nanmean",
    "nanmedian",
    "nanmin",
    "nanpercentile",
    "nanprod",
    "nanquantile",
    "nanstd",
    "nansum",
    "nanvar",
    "nonzero",
    "percentile",
    "ptp",
    "quantile",
    "searchsorted",
    "select",
    "trapezoid",
    "unique",
]


def _float(x):
    t = as_tensor(x)
    return cast(t, floatx()) if t.dtype.kind in "biu" else t


def amax(x, axis=None, keepdims=False):
    """Maximum over ``axis`` (an alias of ``max``)."""
    return _max(x, axis=axis, keepdims=keepdims)


def amin(x, axis=None, keepdims=False):
    """Minimum over ``axis`` (an alias of ``min``)."""
    return _min(x, axis=axis, keepdims=keepdims)


def ptp(x, axis=None, keepdims=False):
    """Range ``max - min`` over ``axis``."""
    return subtract(_max(x, axis, keepdims), _min(x, axis, keepdims))


class CumProd(Function):
    def forward(self, x):
        self.x = x
        self.y = xp_of(x).cumprod(x, axis=self.axis)
        return self.y

    def backward(self, g):
        # d y_j / d x_i = y_j / x_i for j >= i: a reversed cumulative sum (inputs must be
        # nonzero for this form, as for TensorFlow's default cumprod gradient).
        xp = xp_of(g)
        rev = xp.flip(xp.cumsum(xp.flip(g * self.y, self.axis), axis=self.axis), self.axis)
        return (rev / self.x,)


def _flat_axis(x, axis):
    x = as_tensor(x)
    if axis is None:
        return ravel(x), 0
    (axis,) = normalize_axis(axis, x.ndim)
    return x, axis


def cumprod(x, axis=None, dtype=None):
    """Cumulative product along ``axis`` (of the flattened tensor when None)."""
    x, axis = _flat_axis(x, axis)
    if dtype is not None:
        x = cast(x, dtype)
    return CumProd.apply(x, axis=axis)


def _nan_fill(x, value):
    x = as_tensor(x)
    if x.dtype.kind not in "fc":
        return x
    return where(Tensor(xp_of(x.data).isnan(x.data)), value, x)


def nansum(x, axis=None, keepdims=False):
    """Sum over ``axis`` treating NaN as 0."""
    return _sum(_nan_fill(x, 0), axis=axis, keepdims=keepdims)


def nanprod(x, axis=None, keepdims=False):
    """Product over ``axis`` treating NaN as 1."""
    return _prod(_nan_fill(x, 1), axis=axis, keepdims=keepdims)


def _count(x, axis, keepdims):
    data = as_tensor(x).data
    valid = ~xp_of(data).isnan(data) if data.dtype.kind == "f" else xp_of(data).ones_like(data)
    count = valid.sum(axis=normalize_axis(axis, data.ndim), keepdims=keepdims)
    return Tensor(count.astype(data.dtype if data.dtype.kind == "f" else floatx()))


def nanmean(x, axis=None, keepdims=False):
    """Mean over ``axis`` ignoring NaNs."""
    x = _float(x)
    return divide(nansum(x, axis, keepdims), _count(x, axis, keepdims))


def nanvar(x, axis=None, keepdims=False):
    """Population variance over ``axis`` ignoring NaNs."""
    x = _float(x)
    centered = subtract(x, nanmean(x, axis, keepdims=True))
    return nanmean(multiply(centered, centered), axis, keepdims)


def nanstd(x, axis=None, keepdims=False):
    """Population standard deviation over ``axis`` ignoring NaNs."""
    return sqrt(nanvar(x, axis, keepdims))


def nanmax(x, axis=None, keepdims=False):
    """Maximum over ``axis`` ignoring NaNs."""
    return _max(_nan_fill(x, -np.inf), axis=axis, keepdims=keepdims)


def nanmin(x, axis=None, keepdims=False):
    """Minimum over ``axis`` ignoring NaNs."""
    return _min(_nan_fill(x, np.inf), axis=axis, keepdims=keepdims)


def _arg(name, x, axis, keepdims, fill):
    data = as_tensor(x).data
    xp = xp_of(data)
    if data.dtype.kind == "f":
        data = xp.where(xp.isnan(data), fill, data)
    if axis is None:
        out = getattr(data.reshape(-1), name)()
        if keepdims:
            out = out.reshape((1,) * data.ndim)
        return Tensor(out.astype(np.int32))
    return Tensor(getattr(data, name)(axis=axis, keepdims=keepdims).astype(np.int32))


def nanargmax(x, axis=None, keepdims=False):
    """Index (int32) of the largest non-NaN value along ``axis``."""
    return _arg("argmax", x, axis, keepdims, -np.inf)


def nanargmin(x, axis=None, keepdims=False):
    """Index (int32) of the smallest non-NaN value along ``axis``."""
    return _arg("argmin", x, axis, keepdims, np.inf)


def nancumsum(x, axis=None, dtype=None):
    """Cumulative sum treating NaN as 0."""
    x, axis = _flat_axis(_nan_fill(x, 0), axis)
    return cumsum(cast(x, dtype) if dtype is not None else x, axis=axis)


def nancumprod(x, axis=None, dtype=None):
    """Cumulative product treating NaN as 1."""
    return cumprod(_nan_fill(x, 1), axis=axis, dtype=dtype)


_METHODS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(x, q, axis, method, keepdims, ignore_nan, name):
    if method not in _METHODS:
        raise ValueError(f"{name}: method must be one of {_METHODS}, got {method!r}")
    x = _float(x)
    xp = xp_of(x.data)
    ndim = x.ndim
    axes = normalize_axis(axis, ndim)
    kept = [a for a in range(ndim) if a not in axes]
    # Move the reduced axes last and flatten them into one.
    from gpuk.ops.shaping import transpose

    moved = transpose(x, kept + list(axes)) if kept + list(axes) != list(range(ndim)) else x
    lead = tuple(x.shape[a] for a in kept)
    flat = reshape(moved, lead + (-1,))
    ordered = sort(flat, axis=-1)  # NaNs sort last
    n = flat.shape[-1]
    if ignore_nan:
        count = (~xp.isnan(flat.data)).sum(axis=-1, keepdims=True)
    else:
        count = xp.full(lead + (1,), n)
    q_arr = xp.asarray(q.data if isinstance(q, Tensor) else q, dtype=np.float64)
    scalar_q = q_arr.ndim == 0
    q_flat = q_arr.reshape(-1)
    outs = []
    for i in range(q_flat.shape[0]):
        pos = q_flat[i] * (count - 1).astype(np.float64)
        lo = xp.clip(xp.floor(pos), 0, n - 1).astype(np.int64)
        hi = xp.clip(xp.ceil(pos), 0, n - 1).astype(np.int64)
        v_lo = take_along_axis(ordered, lo, -1)
        v_hi = take_along_axis(ordered, hi, -1)
        if method == "lower":
            v = v_lo
        elif method == "higher":
            v = v_hi
        elif method == "midpoint":
            v = multiply(add(v_lo, v_hi), 0.5)
        elif method == "nearest":
            near = xp.clip(xp.round(pos), 0, n - 1).astype(np.int64)
            v = take_along_axis(ordered, near, -1)
        else:
            frac = Tensor((pos - xp.floor(pos)).astype(x.dtype))
            v = add(v_lo, multiply(subtract(v_hi, v_lo), frac))
        if ignore_nan:
            v = where(Tensor(count == 0), np.nan, v)
        v = reshape(v, lead)
        if keepdims:
            shape = list(x.shape)
            for a in axes:
                shape[a] = 1
            v = reshape(v, tuple(shape))
        outs.append(v)
    if scalar_q:
        return outs[0]
    from gpuk.ops.shaping import stack

    return reshape(stack(outs, axis=0), q_arr.shape + outs[0].shape)


def quantile(x, q, axis=None, method="linear", keepdims=False):
    """The ``q``-th quantiles (``q`` in [0, 1]) over ``axis``; differentiable in ``x``."""
    return _quantile(x, q, axis, method, keepdims, False, "quantile")


def nanquantile(x, q, axis=None, method="linear", keepdims=False):
    """``quantile`` ignoring NaNs."""
    return _quantile(x, q, axis, method, keepdims, True, "nanquantile")


def _percent(q):
    return q / 100.0 if not isinstance(q, Tensor) else Tensor(q.data / 100.0)


def percentile(x, q, axis=None, method="linear", keepdims=False):
    """The ``q``-th percentiles (``q`` in [0, 100]) over ``axis``."""
    return _quantile(x, _percent(np.asarray(q, dtype=float) if not isinstance(q, Tensor) else q),
                     axis, method, keepdims, False, "percentile")  # fmt: skip


def nanpercentile(x, q, axis=None, method="linear", keepdims=False):
    """``percentile`` ignoring NaNs."""
    return _quantile(x, _percent(np.asarray(q, dtype=float) if not isinstance(q, Tensor) else q),
                     axis, method, keepdims, True, "nanpercentile")  # fmt: skip


def median(x, axis=None, keepdims=False):
    """Median over ``axis``."""
    return quantile(x, 0.5, axis=axis, keepdims=keepdims)


def nanmedian(x, axis=None, keepdims=False):
    """Median over ``axis`` ignoring NaNs."""
    return nanquantile(x, 0.5, axis=axis, keepdims=keepdims)


def average(x, axis=None, weights=None):
    """Weighted mean over ``axis``; 1-D ``weights`` apply along ``axis``."""
    x = _float(x)
    if weights is None:
        return _mean(x, axis=axis)
    w = _float(weights)
    if axis is not None and w.ndim == 1 and x.ndim > 1:
        (a,) = normalize_axis(axis, x.ndim)
        shape = [1] * x.ndim
        shape[a] = w.shape[0]
        w = reshape(w, tuple(shape))
    return divide(_sum(multiply(x, w), axis=axis), _sum(multiply(w, Tensor(
        xp_of(x.data).ones(x.shape, dtype=x.dtype))), axis=axis))  # fmt: skip


def count_nonzero(x, axis=None):
    """Number (int32) of non-zero elements over ``axis``."""
    data = as_tensor(x).data
    axes = normalize_axis(axis, data.ndim)
    return Tensor((data != 0).sum(axis=axes).astype(np.int32))


def diff(a, n=1, axis=-1):
    """The ``n``-th discrete difference along ``axis``."""
    a = as_tensor(a)
    (axis,) = normalize_axis(axis, a.ndim)
    for _ in range(int(n)):
        upper = [slice(None)] * a.ndim
        lower = [slice(None)] * a.ndim
        upper[axis], lower[axis] = slice(1, None), slice(None, -1)
        a = subtract(getitem(a, tuple(upper)), getitem(a, tuple(lower)))
    return a


def trapezoid(y, x=None, dx=1.0, axis=-1):
    """Integral of ``y`` along ``axis`` by the trapezoidal rule (spacing ``x`` or ``dx``)."""
    y = _float(y)
    (axis,) = normalize_axis(axis, y.ndim)
    upper = [slice(None)] * y.ndim
    lower = [slice(None)] * y.ndim
    upper[axis], lower[axis] = slice(1, None), slice(None, -1)
    pairs = multiply(add(getitem(y, tuple(upper)), getitem(y, tuple(lower))), 0.5)
    if x is None:
        return multiply(_sum(pairs, axis=axis), dx)
    x = _float(x)
    d = diff(x, axis=-1 if x.ndim == 1 else axis)
    if x.ndim == 1 and y.ndim > 1:
        shape = [1] * y.ndim
        shape[axis] = d.shape[0]
        d = reshape(d, tuple(shape))
    return _sum(multiply(pairs, d), axis=axis)


def _data(x):
    return as_tensor(x).data


def searchsorted(sorted_sequence, values, side="left"):
    """Indices (int32) where ``values`` would be inserted to keep the 1-D sequence sorted."""
    seq, vals = _data(sorted_sequence), _data(values)
    if seq.ndim != 1:
        raise ValueError(f"searchsorted: sorted_sequence must be 1-D, got shape {seq.shape}")
    xp = xp_of(seq)
    return Tensor(xp.searchsorted(seq, xp.asarray(vals), side=side).astype(np.int32))


def digitize(x, bins):
    """Index (int32) of the bin each value falls in (``numpy.digitize``)."""
    data, b = _data(x), _data(bins)
    xp = xp_of(data)
    return Tensor(xp.digitize(data, xp.asarray(b)).astype(np.int32))


def bincount(x, weights=None, minlength=0, sparse=False):
    """Count occurrences of each non-negative int (weighted sums with ``weights``); a 2-D
    ``x`` counts each row. ``sparse`` is not supported."""
    if sparse:
        raise ValueError("bincount: sparse=True is not supported by gpuk (no sparse tensors)")
    data = _data(x)
    xp = xp_of(data)
    w = None if weights is None else xp.asarray(_data(weights))
    length = max(int(minlength), int(data.max()) + 1 if data.size else 0)
    if data.ndim == 1:
        out = xp.bincount(data, weights=w, minlength=length)
        return Tensor(out.astype(w.dtype if w is not None else np.int32))
    rows = [
        xp.bincount(r, weights=None if w is None else w[i], minlength=length)
        for i, r in enumerate(data)
    ]
    return Tensor(xp.stack(rows).astype(w.dtype if w is not None else np.int32))


def histogram(x, bins=10, range=None):
    """Counts of a 1-D ``x`` in ``bins`` equal bins and the bin edges (both float, as
    Keras)."""
    data = _data(x)
    if data.ndim != 1:
        raise ValueError(f"histogram: x must be 1-D, got shape {data.shape}")
    xp = xp_of(data)
    counts, edges = xp.histogram(data, bins=int(bins), range=range)
    dtype = data.dtype if data.dtype.kind == "f" else floatx()
    return Tensor(counts.astype(dtype)), Tensor(edges.astype(dtype))


def isin(x1, x2, assume_unique=False, invert=False):
    """True where an element of ``x1`` occurs in ``x2``."""
    a, b = _data(x1), _data(x2)
    xp = xp_of(a)
    return Tensor(xp.isin(a, xp.asarray(b), assume_unique=assume_unique, invert=invert))


def nonzero(x):
    """A tuple of int32 index arrays, one per axis, of the non-zero elements."""
    data = _data(x)
    return tuple(Tensor(i.astype(np.int32)) for i in xp_of(data).nonzero(data))


def unique(
    x,
    sorted=True,
    return_index=False,
    return_inverse=False,
    return_counts=False,
    axis=None,
    size=None,
    fill_value=None,
):
    """The sorted unique values of ``x`` (int32 extras as requested); ``size`` pads or cuts
    the result to a fixed length with ``fill_value`` (the smallest unique value by default)."""
    data = _data(x)
    xp = xp_of(data)
    results = xp.unique(
        data,
        return_index=return_index,
        return_inverse=return_inverse,
        return_counts=return_counts,
        axis=axis,
    )
    if not isinstance(results, tuple):
        results = (results,)
    values, extras = results[0], [r.astype(np.int32) for r in results[1:]]
    if size is not None:
        size = int(size)
        n = values.shape[0]
        if n >= size:
            values = values[:size]
            extras = [e if i == 1 and return_inverse else e[:size] for i, e in enumerate(extras)]
        else:
            fill = values[:1] if fill_value is None else xp.asarray([fill_value], values.dtype)
            values = xp.concatenate([values, xp.broadcast_to(fill, (size - n,) + values.shape[1:])])
    out = tuple(Tensor(v) for v in [values] + extras)
    return out[0] if len(out) == 1 else out


def select(condlist, choicelist, default=0):
    """For each element, the value of the first choice whose condition holds, else
    ``default``; gradients flow to the chosen values."""
    if len(condlist) != len(choicelist):
        raise ValueError(
            f"select: condlist has {len(condlist)} entries but choicelist {len(choicelist)}"
        )
    choices = [as_tensor(c) for c in choicelist]
    out = as_tensor(default, choices[0].data if choices else None)
    for cond, choice in zip(reversed(condlist), reversed(choices)):
        out = where(cond, choice, out)
    return out


def corrcoef(x):
    """Pearson correlation coefficients between the rows (variables) of ``x``."""
    x = _float(x)
    if x.ndim == 1:
        x = reshape(x, (1, -1))
    from gpuk.ops.linalg import matmul
    from gpuk.ops.shaping import transpose

    centered = subtract(x, _mean(x, axis=1, keepdims=True))
    cov = matmul(centered, transpose(centered))
    d = sqrt(_diag_of(cov))
    out = divide(divide(cov, reshape(d, (-1, 1))), reshape(d, (1, -1)))
    return out if out.shape != (1, 1) else reshape(out, ())


def _diag_of(m):
    from gpuk.ops.indexing import diagonal

    return diagonal(m)
