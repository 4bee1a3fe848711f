"""``einsum`` with a hand-written backward, over NumPy's or CuPy's ``einsum`` (BLAS-backed).

The gradient of operand ``i`` is itself an einsum: the output gradient contracted with the
other operands onto operand ``i``'s subscripts. Subscripts that appear only in operand ``i``
(summed away without meeting anything) get the gradient broadcast back along them.
"""

import string

from gpuk._array.blas import serial_blas
from gpuk.autograd import Function

# Products below this many multiply-adds run on one BLAS thread.
_SERIAL_BLAS_MACS = 1 << 24

__all__ = ["einsum", "parse_einsum"]


def parse_einsum(equation, shapes):
    """Explicit subscripts for ``equation`` on operands of ``shapes``.

    Returns ``(inputs, output)``: one string per operand and the output string, with any
    ``...`` replaced by letters not used elsewhere and an implicit output made explicit.

    Raises:
        ValueError: naming the equation when the operand count or a rank does not match.
    """
    equation = equation.replace(" ", "")
    if "->" in equation:
        lhs, out = equation.split("->")
    else:
        lhs, out = equation, None
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(
            f"einsum: equation {equation!r} names {len(terms)} operands, received {len(shapes)}"
        )
    used = set(equation)
    spare = [c for c in string.ascii_letters if c not in used]
    ellipsis_rank = 0
    for term, shape in zip(terms, shapes):
        if "..." in term:
            ellipsis_rank = max(ellipsis_rank, len(shape) - (len(term) - 3))
    fill = "".join(spare[:ellipsis_rank])
    inputs = []
    for term, shape in zip(terms, shapes):
        if "..." in term:
            rank = len(shape) - (len(term) - 3)
            term = term.replace("...", fill[ellipsis_rank - rank :] if rank else "")
        if len(term) != len(shape):
            raise ValueError(
                f"einsum: operand with subscripts {term!r} in {equation!r} has rank "
                f"{len(shape)} (shape {tuple(shape)}), expected rank {len(term)}"
            )
        inputs.append(term)
    if out is None:
        counts = {}
        for term in inputs:
            for c in term:
                counts[c] = counts.get(c, 0) + 1
        out = fill + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in fill))
    else:
        out = out.replace("...", fill)
    return inputs, out


def _pairwise(xp, a, ta, b, tb, out):
    """``einsum(ta,tb->out)`` as one (batched) matrix product through BLAS/cuBLAS."""
    sa, sb, so = set(ta), set(tb), set(out)
    sizes = dict(zip(ta, a.shape))
    sizes.update(zip(tb, b.shape))
    # Letters met in one operand only and absent from the output are summed first.
    only_a = [c for c in ta if c not in sb and c not in so]
    if only_a:
        a = a.sum(axis=tuple(ta.index(c) for c in only_a))
        ta = "".join(c for c in ta if c not in only_a)
    only_b = [c for c in tb if c not in sa and c not in so]
    if only_b:
        b = b.sum(axis=tuple(tb.index(c) for c in only_b))
        tb = "".join(c for c in tb if c not in only_b)
    batch = [c for c in out if c in ta and c in tb]
    free_a = [c for c in out if c in ta and c not in tb]
    free_b = [c for c in out if c in tb and c not in ta]
    if free_a and free_b and out.index(free_b[0]) < out.index(free_a[0]):
        # Multiply in the order the output wants, so the result needs no transpose.
        return _pairwise(xp, b, tb, a, ta, out)
    summed = [c for c in ta if c in tb and c not in so]
    a2 = a.transpose([ta.index(c) for c in batch + free_a + summed])
    b2 = b.transpose([tb.index(c) for c in batch + summed + free_b])

    def size(letters):
        n = 1
        for c in letters:
            n *= sizes[c]
        return n

    nb, m, k, n = size(batch), size(free_a), size(summed), size(free_b)
    # Contiguous operands keep matmul on BLAS (strided views fall back to a slow loop).
    a2 = xp.ascontiguousarray(a2.reshape(nb, m, k))
    b2 = xp.ascontiguousarray(b2.reshape(nb, k, n))
    if nb > 1 or m * k * n < _SERIAL_BLAS_MACS:
        # A stack of products (one per batch and head) or a small one: multi-threaded BLAS
        # spends far longer waking its threads than computing (measured 4 ms serial against
        # 5-10 s threaded for an attention layer's products on a shared 2-core machine).
        with serial_blas(xp):
            result = xp.matmul(a2, b2)
    else:
        result = xp.matmul(a2, b2)
    produced = batch + free_a + free_b
    result = result.reshape([sizes[c] for c in produced])
    return result.transpose([produced.index(c) for c in out])


def _same_sizes(terms, arrays):
    sizes = {}
    for term, array in zip(terms, arrays):
        for c, n in zip(term, array.shape):
            if sizes.setdefault(c, n) != n:
                return False
    return True


def _contract(xp, terms, arrays, out):
    simple = (
        len(arrays) == 2
        and all(len(set(t)) == len(t) for t in terms)
        and set(out) <= set(terms[0]) | set(terms[1])
        and len(set(out)) == len(out)
        and _same_sizes(terms, arrays)
    )
    if simple:
        return _pairwise(xp, arrays[0], terms[0], arrays[1], terms[1], out)
    spec = ",".join(terms) + "->" + out
    return xp.asarray(xp.einsum(spec, *arrays, optimize=len(arrays) > 1))


class Einsum(Function):
    def forward(self, *arrays):
        from gpuk.ops._util import xp_of

        self.inputs, self.output = parse_einsum(self.equation, [a.shape for a in arrays])
        self.arrays = arrays
        xp = xp_of(*arrays)
        result = _contract(xp, self.inputs, arrays, self.output)
        if result.dtype != arrays[0].dtype and arrays[0].dtype.kind == "f":
            result = result.astype(arrays[0].dtype)
        return result

    def backward(self, g):
        from gpuk.ops._util import xp_of

        xp = xp_of(g)
        grads = []
        for i, term in enumerate(self.inputs):
            if self.needs_input_grad and not self.needs_input_grad[i]:
                grads.append(None)
                continue
            others = [a for j, a in enumerate(self.arrays) if j != i]
            other_terms = [t for j, t in enumerate(self.inputs) if j != i]
            present = set(self.output).union(*other_terms)
            # Letters of operand i that meet nothing else were summed away: broadcast back.
            target = "".join(c for c in dict.fromkeys(term) if c in present)
            grad = _contract(xp, [self.output, *other_terms], [g, *others], target)
            shape = self.arrays[i].shape
            if target != term:
                if len(set(term)) != len(term):
                    raise NotImplementedError(
                        f"einsum: no gradient for repeated subscripts in {term!r}"
                    )
                sizes = dict(zip(term, shape))
                order = [target.index(c) for c in term if c in target]
                grad = grad.transpose(order) if order != sorted(order) else grad
                kept = [c for c in term if c in target]
                view = tuple(sizes[c] if c in kept else 1 for c in term)
                grad = xp.broadcast_to(grad.reshape(view), shape).copy()
            grads.append(grad.astype(self.arrays[i].dtype, copy=False))
        return tuple(grads)


def einsum(equation, *operands):
    """Einstein summation: ``einsum("bqd,bkd->bqk", q, k)``, differentiable in every operand.

    Accepts ``...`` and implicit outputs as NumPy does. Two-operand contractions run as one
    BLAS matrix product where NumPy/CuPy can arrange it.
    """
    if not isinstance(equation, str):
        raise TypeError(f"einsum: the equation must be a string, received {equation!r}")
    return Einsum.apply(*operands, equation=equation)
