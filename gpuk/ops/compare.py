"""Comparisons: elementwise booleans, no gradient (as in TensorFlow)."""

from gpuk._array import asarray
from gpuk.autograd import Tensor, as_array
from gpuk.ops._util import broadcast_shape, xp_of


def _compare(name, a, b, fn):
    like = a.data if isinstance(a, Tensor) else (b.data if isinstance(b, Tensor) else None)
    x, y = as_array(a, like), as_array(b, like)
    broadcast_shape(name, x.shape, y.shape)
    xp = xp_of(x, y)
    # Two tensors may live apart (a host K.shape() against a GPU tensor); CuPy wants both.
    x, y = asarray(x, xp=xp), asarray(y, xp=xp)
    return Tensor(fn(xp, x, y))


def equal(a, b):
    """Elementwise ``a == b`` as a boolean tensor."""
    return _compare("equal", a, b, lambda xp, x, y: xp.equal(x, y))


def not_equal(a, b):
    """Elementwise ``a != b`` as a boolean tensor."""
    return _compare("not_equal", a, b, lambda xp, x, y: xp.not_equal(x, y))


def greater(a, b):
    """Elementwise ``a > b`` as a boolean tensor."""
    return _compare("greater", a, b, lambda xp, x, y: xp.greater(x, y))


def greater_equal(a, b):
    """Elementwise ``a >= b`` as a boolean tensor."""
    return _compare("greater_equal", a, b, lambda xp, x, y: xp.greater_equal(x, y))


def less(a, b):
    """Elementwise ``a < b`` as a boolean tensor."""
    return _compare("less", a, b, lambda xp, x, y: xp.less(x, y))


def less_equal(a, b):
    """Elementwise ``a <= b`` as a boolean tensor."""
    return _compare("less_equal", a, b, lambda xp, x, y: xp.less_equal(x, y))
