"""Matrix products."""

from gpuk.autograd import Function
from gpuk.ops._util import unbroadcast, xp_of


class MatMul(Function):
    """``a @ b`` with NumPy's matmul semantics (batched, broadcast leading axes)."""

    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0 or a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
            raise ValueError(
                f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} are incompatible "
                "(inner dimensions must match)"
            )
        self.a, self.b = a, b
        return xp_of(a).matmul(a, b)

    def backward(self, g):
        xp = xp_of(g)
        a, b = self.a, self.b
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g2 = g
        if a.ndim == 1:
            g2 = xp.expand_dims(g2, -2)
        if b.ndim == 1:
            g2 = xp.expand_dims(g2, -1)
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = xp.matmul(g2, xp.swapaxes(b2, -1, -2))
            ga = unbroadcast(ga, a2.shape).reshape(a.shape)
        if self.needs_input_grad[1]:
            gb = xp.matmul(xp.swapaxes(a2, -1, -2), g2)
            gb = unbroadcast(gb, b2.shape).reshape(b.shape)
        return ga, gb


def matmul(a, b):
    """Matrix product with NumPy semantics."""
    return MatMul.apply(a, b)
