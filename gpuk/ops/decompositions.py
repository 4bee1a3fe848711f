"""Keras 3's ``keras.ops.linalg`` beyond products: inverse, determinants, solves, norms and
the factorizations (Cholesky, eigen, QR, SVD, LU), batched over leading axes.

Differentiable as in Keras: ``inv``, ``det``, ``slogdet``/``logdet``, ``solve``,
``solve_triangular``, ``cholesky``, ``cholesky_inverse``, ``eigh`` (values and vectors),
``norm`` (vector and Frobenius/1/inf norms). ``qr``, ``svd``, ``eig``, ``lstsq``, ``pinv``,
``lu_factor`` and ``matrix_rank`` return values without a gradient in gpuk.
"""

import numpy as np

from gpuk._config import floatx
from gpuk.autograd import Function, Tensor, as_tensor
from gpuk.ops._util import normalize_axis, xp_of
from gpuk.ops.indexing import tril, triu
from gpuk.ops.linalg import matmul
from gpuk.ops.math import abs as _abs
from gpuk.ops.math import pow as _pow
from gpuk.ops.math import sqrt
from gpuk.ops.reduce import max as _max
from gpuk.ops.reduce import min as _min
from gpuk.ops.reduce import sum as _sum
from gpuk.ops.shaping import cast, reshape

__all__ = [
    "cholesky",
    "cholesky_inverse",
    "det",
    "eig",
    "eigh",
    "inv",
    "logdet",
    "lstsq",
    "lu_factor",
    "matrix_rank",
    "norm",
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "solve_triangular",
    "svd",
]


def _mT(a):
    return a.swapaxes(-1, -2)


def _square(x, name):
    x = as_tensor(x)
    if x.dtype.kind in "biu":
        x = cast(x, floatx())
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        raise ValueError(f"{name}: expected square matrices (..., n, n), got shape {x.shape}")
    return x


class Inv(Function):
    def forward(self, a):
        self.y = xp_of(a).linalg.inv(a)
        return self.y

    def backward(self, g):
        yt = _mT(self.y)
        return (-(yt @ g @ yt),)


def inv(x):
    """Matrix inverse (batched)."""
    return Inv.apply(_square(x, "inv"))


class Det(Function):
    def forward(self, a):
        xp = xp_of(a)
        self.a = a
        self.y = xp.linalg.det(a)
        return self.y

    def backward(self, g):
        xp = xp_of(g)
        return ((g * self.y)[..., None, None] * _mT(xp.linalg.inv(self.a)),)


def det(x):
    """Determinant (batched)."""
    return Det.apply(_square(x, "det"))


class SlogDet(Function):
    def forward(self, a):
        xp = xp_of(a)
        self.a = a
        sign, logabs = xp.linalg.slogdet(a)
        return sign, logabs

    def backward(self, g_sign, g_log):
        xp = xp_of(g_log)
        return (g_log[..., None, None] * _mT(xp.linalg.inv(self.a)),)


def slogdet(x):
    """``(sign, log|det|)`` of square matrices; the gradient flows through ``log|det|``."""
    return SlogDet.apply(_square(x, "slogdet"))


def logdet(x):
    """``log(det(x))`` of positive-definite matrices (computed as ``log|det|``)."""
    return slogdet(x)[1]


class Solve(Function):
    def forward(self, a, b):
        xp = xp_of(a)
        self.vector = b.ndim == a.ndim - 1
        self.a = a
        bb = b[..., None] if self.vector else b
        self.x = xp.linalg.solve(a, bb)
        return self.x[..., 0] if self.vector else self.x

    def backward(self, g):
        xp = xp_of(g)
        gg = g[..., None] if self.vector else g
        gb = xp.linalg.solve(_mT(self.a), gg)
        ga = -(gb @ _mT(self.x))
        return ga, (gb[..., 0] if self.vector else gb)


def solve(a, b):
    """Solve ``a @ x = b`` for ``x`` (``b`` a vector or a matrix, batched)."""
    a = _square(a, "solve")
    b = as_tensor(b, a.data)
    if b.ndim not in (a.ndim, a.ndim - 1) or b.shape[a.ndim - 2] != a.shape[-1]:
        raise ValueError(f"solve: b of shape {b.shape} does not fit a of shape {a.shape}")
    return Solve.apply(a, b)


def solve_triangular(a, b, lower=False):
    """Solve ``a @ x = b`` using only the lower (``lower=True``) or upper triangle of ``a``."""
    a = _square(a, "solve_triangular")
    return solve(tril(a) if lower else triu(a), b)


class Cholesky(Function):
    def forward(self, a):
        xp = xp_of(a)
        try:
            self.l = xp.linalg.cholesky(a)
        except np.linalg.LinAlgError as error:
            raise ValueError(f"cholesky: the matrix is not positive definite ({error})") from None
        return self.l

    def backward(self, g):
        # Murray (2016), as TensorFlow: symmetric gradient of the lower-triangle input.
        xp = xp_of(g)
        n = self.l.shape[-1]
        eye = xp.eye(n, dtype=g.dtype)
        l_inv = xp.linalg.solve(self.l, xp.broadcast_to(eye, self.l.shape))
        middle = _mT(self.l) @ g
        middle = xp.tril(middle) - 0.5 * middle * eye
        grad = _mT(l_inv) @ middle @ l_inv
        return (0.5 * (grad + _mT(grad)),)


def cholesky(x, upper=False):
    """Cholesky factor ``L`` (``x = L @ L^T``) of positive-definite matrices; ``L^T`` when
    ``upper``."""
    out = Cholesky.apply(_square(x, "cholesky"))
    if upper:
        from gpuk.ops.indexing import swapaxes

        return swapaxes(out, -1, -2)
    return out


def cholesky_inverse(x, upper=False):
    """The inverse of ``A`` from its Cholesky factor ``x`` (``A = x x^T``, or ``x^T x`` when
    ``upper``)."""
    from gpuk.ops.indexing import swapaxes

    f = _square(x, "cholesky_inverse")
    f = triu(f) if upper else tril(f)  # only the factor's triangle counts, as in Keras
    ft = swapaxes(f, -1, -2)
    return inv(matmul(ft, f) if upper else matmul(f, ft))


class Eigh(Function):
    def forward(self, a):
        self.w, self.v = xp_of(a).linalg.eigh(a)
        return self.w, self.v

    def backward(self, gw, gv):
        xp = xp_of(gw)
        w, v = self.w, self.v
        diff = w[..., None, :] - w[..., :, None]
        eye = xp.eye(w.shape[-1], dtype=bool)
        f = xp.where(eye, 0, 1 / xp.where(eye, 1, diff))
        inner = gw[..., :, None] * xp.eye(w.shape[-1], dtype=w.dtype)
        inner = inner + f * (_mT(v) @ gv)
        grad = v @ inner @ _mT(v)
        return (0.5 * (grad + _mT(grad)),)


def eigh(x):
    """Eigenvalues (ascending) and eigenvectors of symmetric matrices."""
    return Eigh.apply(_square(x, "eigh"))


def eig(x):
    """Eigenvalues and eigenvectors of general square matrices (complex; CPU only: CuPy has
    no general eigensolver). No gradient."""
    x = _square(x, "eig")
    xp = xp_of(x.data)
    if not hasattr(xp.linalg, "eig"):
        raise NotImplementedError("eig: the GPU backend (CuPy) has no general eigensolver")
    w, v = xp.linalg.eig(x.data)
    return Tensor(w), Tensor(v)


def qr(x, mode="reduced"):
    """QR factorization ``(q, r)``; ``mode`` is ``'reduced'`` or ``'complete'``. No gradient."""
    if mode not in ("reduced", "complete"):
        raise ValueError(f"qr: mode must be 'reduced' or 'complete', got {mode!r}")
    data = as_tensor(x).data
    q, r = xp_of(data).linalg.qr(data, mode=mode)
    return Tensor(q), Tensor(r)


def svd(x, full_matrices=True, compute_uv=True):
    """Singular value decomposition ``(u, s, vh)`` (``s`` alone without ``compute_uv``).
    No gradient."""
    data = as_tensor(x).data
    xp = xp_of(data)
    if not compute_uv:
        return Tensor(xp.linalg.svd(data, compute_uv=False))
    u, s, vh = xp.linalg.svd(data, full_matrices=full_matrices)
    return Tensor(u), Tensor(s), Tensor(vh)


def lstsq(a, b, rcond=None):
    """Least-squares solution ``x`` of ``a @ x = b`` (2-D ``a``). No gradient."""
    a_data, b_data = as_tensor(a).data, as_tensor(b).data
    xp = xp_of(a_data)
    if a_data.ndim != 2:
        raise ValueError(f"lstsq: a must be 2-D, got shape {a_data.shape}")
    return Tensor(xp.linalg.lstsq(a_data, b_data, rcond=rcond)[0])


def pinv(x, rcond=None):
    """Moore-Penrose pseudo-inverse. No gradient."""
    data = as_tensor(x).data
    xp = xp_of(data)
    if rcond is None:
        return Tensor(xp.linalg.pinv(data))
    return Tensor(xp.linalg.pinv(data, rcond))


def matrix_rank(x, tol=None):
    """Number (int32) of singular values above ``tol`` (by default
    ``max(s) * max(m, n) * eps``)."""
    data = as_tensor(x).data
    xp = xp_of(data)
    s = xp.linalg.svd(data, compute_uv=False)
    if tol is None:
        eps = np.finfo(data.dtype if data.dtype.kind == "f" else np.float64).eps
        tol = s.max(axis=-1, keepdims=True) * max(data.shape[-2:]) * eps
    else:
        tol = xp.asarray(tol.data if isinstance(tol, Tensor) else tol)[..., None]
    return Tensor((s > tol).sum(axis=-1).astype(np.int32))


def lu_factor(x):
    """LU factorization with partial pivoting, as ``scipy.linalg.lu_factor``: ``(lu, piv)``
    with ``L`` (unit diagonal) and ``U`` packed in ``lu`` and int32 row swaps ``piv``.
    Batched; computed column by column on the device. No gradient."""
    x = _square(x, "lu_factor")
    xp = xp_of(x.data)
    a = x.data.copy()
    n = a.shape[-1]
    batch = a.shape[:-2]
    a = a.reshape((-1, n, n))
    rows = xp.arange(a.shape[0])
    piv = xp.zeros((a.shape[0], n), dtype=np.int32)
    for k in range(n):
        p = k + xp.argmax(xp.abs(a[:, k:, k]), axis=1)
        piv[:, k] = p
        row_k, row_p = a[rows, k].copy(), a[rows, p].copy()
        a[rows, k], a[rows, p] = row_p, row_k
        pivot = a[:, k, k]
        safe = xp.where(pivot == 0, xp.ones_like(pivot), pivot)
        a[:, k + 1 :, k] = a[:, k + 1 :, k] / safe[:, None]
        a[:, k + 1 :, k + 1 :] -= a[:, k + 1 :, k, None] * a[:, k, None, k + 1 :]
    return Tensor(a.reshape(batch + (n, n))), Tensor(piv.reshape(batch + (n,)))


def norm(x, ord=None, axis=None, keepdims=False):
    """Vector or matrix norm, as ``numpy.linalg.norm``.

    With ``axis=None`` and ``ord=None`` the 2-norm of the flattened tensor; an int ``axis``
    gives vector norms (``ord`` in inf, -inf, 0, or a number), a pair of axes matrix norms
    (``'fro'``, ``'nuc'``, inf, -inf, 1, -1, 2, -2).
    """
    x = as_tensor(x)
    if x.dtype.kind in "biu":
        x = cast(x, floatx())
    ndim = x.ndim
    if axis is None:
        if ord is None:
            return _keep(sqrt(_sum(x * x)), ndim, range(ndim), keepdims)
        if ndim not in (1, 2):
            raise ValueError(f"norm: give axis for ord={ord!r} on a rank-{ndim} tensor")
        axis = tuple(range(ndim))
    axes = normalize_axis(axis, ndim)
    if len(axes) == 1:
        return _vector_norm(x, ord, axes[0], keepdims)
    if len(axes) != 2:
        raise ValueError(f"norm: axis must be an int or a pair of ints, got {axis!r}")
    return _matrix_norm(x, ord, axes, keepdims)


def _keep(value, ndim, axes, keepdims):
    if not keepdims:
        return value
    out_shape = []
    it = iter(value.shape)
    for a in range(ndim):
        out_shape.append(1 if a in set(axes) else next(it))
    return reshape(value, tuple(out_shape))


def _vector_norm(x, ord, axis, keepdims):
    if ord is None or ord == 2:
        return sqrt(_sum(x * x, axis=axis, keepdims=keepdims))
    if ord == np.inf:
        return _max(_abs(x), axis=axis, keepdims=keepdims)
    if ord == -np.inf:
        return _min(_abs(x), axis=axis, keepdims=keepdims)
    if ord == 0:
        return Tensor((x.data != 0).sum(axis=axis, keepdims=keepdims).astype(x.dtype))
    if ord == 1:
        return _sum(_abs(x), axis=axis, keepdims=keepdims)
    if isinstance(ord, str):
        raise ValueError(f"norm: ord={ord!r} is a matrix norm; give two axes")
    return _pow(_sum(_pow(_abs(x), float(ord)), axis=axis, keepdims=keepdims), 1.0 / ord)


def _matrix_norm(x, ord, axes, keepdims):
    r, c = axes
    if ord is None or ord == "fro":
        return sqrt(_sum(x * x, axis=axes, keepdims=keepdims))
    if ord in (1, -1, np.inf, -np.inf):
        inner_axis, outer_axis = (r, c) if ord in (1, -1) else (c, r)
        sums = _sum(_abs(x), axis=inner_axis, keepdims=True)
        pick = _max if ord in (1, np.inf) else _min
        out = pick(sums, axis=outer_axis, keepdims=True)
        return out if keepdims else reshape(out, tuple(n for a, n in enumerate(out.shape)
                                                       if a not in axes))  # fmt: skip
    if ord in (2, -2, "nuc"):
        xp = xp_of(x.data)
        moved = xp.moveaxis(x.data, axes, (-2, -1))
        s = xp.linalg.svd(moved, compute_uv=False)
        value = s.sum(-1) if ord == "nuc" else (s.max(-1) if ord == 2 else s.min(-1))
        out = Tensor(value)
        return _keep(out, x.ndim, axes, keepdims)
    raise ValueError(f"norm: unsupported ord {ord!r} for a matrix norm")
