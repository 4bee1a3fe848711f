"""Matrix products: matmul, tensordot, and Keras's dot and batch_dot."""

import numpy as np

from gpuk._array import threads_for_product
from gpuk.autograd import Function, Tensor, as_array, as_tensor
from gpuk.ops._util import unbroadcast, xp_of
from gpuk.ops.math import multiply
from gpuk.ops.nn import softmax_value
from gpuk.ops.shaping import reshape, transpose


class MatMul(Function):
    """``a @ b`` with NumPy's matmul semantics (batched, broadcast leading axes)."""

    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0 or a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
            raise ValueError(
                f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} are incompatible "
                "(inner dimensions must match)"
            )
        self.a, self.b = a, b
        xp = xp_of(a)
        threads_for_product(_multiply_adds(a, b), xp)
        return xp.matmul(a, b)

    def backward(self, g):
        xp = xp_of(g)
        a, b = self.a, self.b
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        # Vectors were promoted to matrices; view g with those unit axes restored.
        lead = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
        g2 = g.reshape(lead + (a2.shape[-2], b2.shape[-1]))
        ga = gb = None
        threads_for_product(_multiply_adds(a, b), xp)
        if self.needs_input_grad[0]:
            ga = xp.matmul(g2, xp.swapaxes(b2, -1, -2))
            ga = unbroadcast(ga, a2.shape).reshape(a.shape)
        if self.needs_input_grad[1]:
            gb = xp.matmul(xp.swapaxes(a2, -1, -2), g2)
            gb = unbroadcast(gb, b2.shape).reshape(b.shape)
        return ga, gb


class Affine(Function):
    """``x @ kernel + bias`` as one op (Dense's body): one output array, bias added in place.

    ``x (..., k)``, ``kernel (k, n)``, ``bias (n,)``; the forward values equal ``matmul`` then
    ``add``. The kernel gradient is one product over all leading axes flattened.
    """

    def forward(self, x, kernel, bias):
        self.x, self.kernel = x, kernel
        return affine_value(x, kernel, bias)

    def backward(self, g):
        x, kernel = self.x, self.kernel
        xp = xp_of(g)
        need = self.needs_input_grad
        threads_for_product(x.size * kernel.shape[-1], xp)
        g2 = g.reshape(-1, g.shape[-1])
        gx = gk = gb = None
        if need[0]:
            gx = xp.matmul(g, kernel.T)
        if need[1]:
            gk = xp.matmul(x.reshape(-1, x.shape[-1]).T, g2).astype(kernel.dtype, copy=False)
        if need[2]:
            gb = g2.sum(axis=0)
        return gx, gk, gb


class AffineActivation(Affine):
    """``activation(x @ kernel + bias)`` as one op, ``activation`` ``"relu"`` or ``"softmax"``
    over the last axis (Dense's body with those activations).

    The forward runs the affine op's arithmetic and then the activation op's in the product's
    memory; the backward the activation op's gradient and then the affine op's: the same bits
    as the two ops, one graph node and one array fewer.
    """

    def forward(self, x, kernel, bias):
        y = affine_value(x, kernel, bias)
        if self.activation == "relu":
            xp_of(y).maximum(y, 0, out=y)
        else:
            y = softmax_value(y, -1, overwrite=True)
        self.x, self.kernel, self.y = x, kernel, y
        return y

    def backward(self, g):
        y = self.y
        if self.activation == "relu":
            # the relu op's gradient: (x > 0) is (relu(x) > 0), NaN included
            g = (g * (y > 0.0).astype(y.dtype)).astype(g.dtype, copy=False)
        else:  # the softmax op's gradient
            g = y * (g - (g * y).sum(axis=(y.ndim - 1,), keepdims=True))
        return super().backward(g)


def affine_activation(x, kernel, bias, activation):
    """``activation(x @ kernel + bias)`` as one op (see :class:`AffineActivation`)."""
    return AffineActivation.apply(x, kernel, bias, activation=activation)


def affine_value(x, kernel, bias):
    """``x @ kernel + bias`` on arrays, the bias added in place (Affine's forward; also the
    raw inference path of Dense, so both give the same bits)."""
    xp = xp_of(x)
    threads_for_product(x.size * kernel.shape[-1], xp)
    out = xp.matmul(x, kernel)
    if out.dtype == bias.dtype:
        out += bias
    else:
        out = out + bias
    return out


def matmul_value(a, b):
    """``a @ b`` on arrays with MatMul's BLAS thread choice (no checks, no recording)."""
    xp = xp_of(a)
    threads_for_product(_multiply_adds(a, b), xp)
    return xp.matmul(a, b)


def affine(x, kernel, bias):
    """``x @ kernel + bias`` for a 2-D ``kernel`` and 1-D ``bias`` (Dense's body) as one op."""
    return Affine.apply(x, kernel, bias)


def _multiply_adds(a, b):
    """Multiply-adds of ``a @ b`` (each of its backward products costs the same)."""
    n = b.shape[-1] if b.ndim > 1 else 1
    m = a.shape[-2] if a.ndim > 1 else 1
    return max(a.size * n, b.size * m)


def matmul(a, b):
    """Matrix product with NumPy semantics."""
    return MatMul.apply(a, b)


class TensorDot(Function):
    """``xp.tensordot(a, b, axes=(a_axes, b_axes))`` with explicit axis lists."""

    def forward(self, a, b):
        for i, j in zip(self.a_axes, self.b_axes):
            if a.shape[i] != b.shape[j]:
                raise ValueError(
                    f"{self.op_name}: shapes {tuple(a.shape)} and {tuple(b.shape)} are "
                    f"incompatible (axis {i} of the first has {a.shape[i]} entries, axis {j} "
                    f"of the second has {b.shape[j]})"
                )
        self.a, self.b = a, b
        return xp_of(a).tensordot(a, b, axes=(self.a_axes, self.b_axes))

    def backward(self, g):
        xp = xp_of(g)
        a, b = self.a, self.b
        free_a = [i for i in range(a.ndim) if i not in self.a_axes]
        free_b = [i for i in range(b.ndim) if i not in self.b_axes]
        na = len(free_a)
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = xp.tensordot(g, b, axes=(list(range(na, g.ndim)), free_b))
            # tensordot keeps b's remaining axes in b's order; map each to its partner in a
            partners = [self.a_axes[self.b_axes.index(j)] for j in sorted(self.b_axes)]
            ga = ga.transpose(_inverse(free_a + partners))
        if self.needs_input_grad[1]:
            gb = xp.tensordot(a, g, axes=(free_a, list(range(na))))
            partners = [self.b_axes[self.a_axes.index(i)] for i in sorted(self.a_axes)]
            gb = gb.transpose(_inverse(partners + free_b))
        return ga, gb


def _inverse(order):
    inverse = [0] * len(order)
    for i, axis in enumerate(order):
        inverse[axis] = i
    return inverse


def _axes_list(axes, ndim, op_name):
    axes = [axes] if isinstance(axes, int) else list(axes)
    out = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(f"{op_name}: axis {a} is out of range for a rank-{ndim} tensor")
        out.append(a % ndim)
    return out


def tensordot(a, b, axes=2):
    """Sum products over the given axes, as ``numpy.tensordot``.

    Args:
        a, b: tensors.
        axes: an int N (the last N axes of ``a`` with the first N of ``b``) or a pair of axis
            lists ``(a_axes, b_axes)``.
    """
    a_nd, b_nd = _ndim(a), _ndim(b)
    if isinstance(axes, int):
        a_axes = list(range(a_nd - axes, a_nd))
        b_axes = list(range(axes))
    else:
        if len(axes) != 2:
            raise ValueError(f"tensordot: axes must be an int or a pair of lists, got {axes!r}")
        a_axes = _axes_list(axes[0], a_nd, "tensordot")
        b_axes = _axes_list(axes[1], b_nd, "tensordot")
        if len(a_axes) != len(b_axes):
            raise ValueError(f"tensordot: axes {axes!r} do not pair up")
    return TensorDot.apply(a, b, a_axes=a_axes, b_axes=b_axes, op_name="tensordot")


def _pair(x, y):
    """Both operands as Tensors; a Python number takes the other operand's dtype."""
    like = next((v.data for v in (x, y) if isinstance(v, Tensor)), None)
    return as_tensor(x, like), as_tensor(y, like)


def _ndim(value):
    shape = getattr(value, "shape", None)
    return len(shape) if shape is not None else as_array(value).ndim


def dot(x, y):
    """Keras ``K.dot``: contract the last axis of ``x`` with the second-to-last of ``y``.

    For N-D inputs the result has shape ``x.shape[:-1] + y.shape[:-2] + y.shape[-1:]``
    (Theano-style, as Keras documents); 2-D inputs give the ordinary matrix product.
    """
    x, y = _pair(x, y)
    x_nd, y_nd = x.ndim, y.ndim
    if x_nd == 0 or y_nd == 0:
        return multiply(x, y)
    y_axis = y_nd - 2 if y_nd >= 2 else 0
    return TensorDot.apply(x, y, a_axes=[x_nd - 1], b_axes=[y_axis], op_name="dot")


def batch_dot(x, y, axes=None):
    """Keras ``K.batch_dot``: per-sample dot product over axis 0 as the batch.

    Args:
        x, y: tensors with rank >= 2 sharing the batch size.
        axes: an int (the same axis in both) or a pair ``(axis_of_x, axis_of_y)``; by default
            the last axis of ``x`` with the second-to-last of ``y`` (the last when ``y`` is
            2-D), as in Keras.

    Returns:
        A tensor of shape ``x.shape`` without the batch and contracted axes, followed by the
        same for ``y``, with the batch axis first; a 2-D result of shape ``(batch, 1)`` when
        both inputs are 2-D.
    """
    x, y = _pair(x, y)
    x_nd, y_nd = x.ndim, y.ndim
    if x_nd < 2 or y_nd < 2:
        raise ValueError(f"batch_dot: both inputs need rank >= 2, got ranks {x_nd} and {y_nd}")
    if isinstance(axes, int):
        axes = (axes, axes)
    if axes is None:
        axes = (x_nd - 1, y_nd - 1 if y_nd == 2 else y_nd - 2)
    if len(axes) != 2 or any(isinstance(a, (list, tuple)) for a in axes):
        raise ValueError(f"batch_dot: axes must be an int or a pair of ints, got {axes!r}")
    ax = axes[0] % x_nd if -x_nd <= axes[0] < x_nd else None
    ay = axes[1] % y_nd if -y_nd <= axes[1] < y_nd else None
    if ax is None or ay is None:
        raise ValueError(f"batch_dot: axes {axes!r} out of range for ranks {x_nd} and {y_nd}")
    if ax == 0 or ay == 0:
        raise ValueError(f"batch_dot: cannot contract over the batch axis 0 (axes={axes!r})")
    x_shape, y_shape = tuple(x.shape), tuple(y.shape)
    if x_shape[0] != y_shape[0] or x_shape[ax] != y_shape[ay]:
        raise ValueError(
            f"batch_dot: shapes {x_shape} and {y_shape} are incompatible for axes "
            f"({ax}, {ay}) (batch sizes and contracted sizes must match)"
        )
    free_x = [i for i in range(1, x_nd) if i != ax]
    free_y = [i for i in range(1, y_nd) if i != ay]
    batch, k = x_shape[0], x_shape[ax]
    fx = [x_shape[i] for i in free_x]
    fy = [y_shape[i] for i in free_y]
    x3 = reshape(transpose(x, [0] + free_x + [ax]), (batch, _size(fx), k))
    y3 = reshape(transpose(y, [0, ay] + free_y), (batch, k, _size(fy)))
    out = matmul(x3, y3)
    shape = (batch,) + tuple(fx) + tuple(fy)
    if len(shape) == 1:
        shape = (batch, 1)
    return reshape(out, shape)


def _size(dims):
    n = 1
    for d in dims:
        n *= d
    return n
