"""``einsum`` (Keras's ``ops.einsum``, the one implementation) with a hand-written backward.

Two-operand contractions run as one (batched) BLAS/cuBLAS matrix product; others through
NumPy's or CuPy's ``einsum``. Dimensions of size 1 broadcast against the same subscript's size
in other operands, as NumPy's ``einsum`` broadcasts ``...`` dimensions.

The gradient of operand ``i`` is itself an einsum: the output gradient contracted with the
other operands onto operand ``i``'s subscripts. Subscripts that appear only in operand ``i``
(summed away without meeting anything) get the gradient broadcast back along them; dimensions
operand ``i`` broadcast (size 1 against a larger size) get it summed back.
"""

import string

import numpy as np

from gpuk._array.blas import serial_blas
from gpuk.autograd import Function, as_tensor
from gpuk.ops._util import xp_of

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


def _letter_sizes(terms, arrays):
    """Each subscript's size; a size 1 gives way to the other operands' size (broadcasting)."""
    sizes = {}
    for term, array in zip(terms, arrays):
        for c, n in zip(term, array.shape):
            known = sizes.get(c, 1)
            if known == 1:
                sizes[c] = n
            elif n not in (1, known):
                raise ValueError(
                    f"einsum: subscript {c!r} has size {known} in one operand and {n} in "
                    f"another (terms {','.join(terms)})"
                )
    return sizes


def _broadcast(xp, terms, arrays, sizes):
    """The operands broadcast to the full size of every subscript (views, no copies)."""
    out = []
    for term, array in zip(terms, arrays):
        full = tuple(sizes[c] for c in term)
        out.append(array if tuple(array.shape) == full else xp.broadcast_to(array, full))
    return out


def _contract(xp, terms, arrays, out):
    arrays = _broadcast(xp, terms, arrays, _letter_sizes(terms, arrays))
    simple = (
        len(arrays) == 2
        and all(len(set(t)) == len(t) for t in terms)
        and set(out) <= set(terms[0]) | set(terms[1])
        and len(set(out)) == len(out)
    )
    if simple:
        return _pairwise(xp, arrays[0], terms[0], arrays[1], terms[1], out)
    spec = ",".join(terms) + "->" + out
    return xp.asarray(xp.einsum(spec, *arrays, optimize=len(arrays) > 1))


class Einsum(Function):
    def forward(self, *arrays):
        self.inputs, self.output = parse_einsum(self.equation, [a.shape for a in arrays])
        self.arrays = arrays
        result = _contract(xp_of(*arrays), self.inputs, arrays, self.output)
        dtype = np.result_type(*[a.dtype for a in arrays])
        return result if result.dtype == dtype else result.astype(dtype)

    def backward(self, g):
        xp = xp_of(g)
        sizes = _letter_sizes(self.inputs, self.arrays)
        grads = []
        for i, (term, array) in enumerate(zip(self.inputs, self.arrays)):
            if self.needs_input_grad and not self.needs_input_grad[i]:
                grads.append(None)
                continue
            if len(set(term)) != len(term):
                raise NotImplementedError(
                    f"einsum: no gradient for an operand with a repeated subscript ({term!r})"
                )
            others = [a for j, a in enumerate(self.arrays) if j != i]
            other_terms = [t for j, t in enumerate(self.inputs) if j != i]
            present = set(self.output).union(*other_terms)
            # Letters of operand i that meet nothing else were summed away: broadcast back.
            target = "".join(c for c in term if c in present)
            grad = _contract(xp, [self.output, *other_terms], [g, *others], target)
            # Dimensions operand i broadcast (size 1 against a larger size): sum them back.
            stretched = tuple(
                k for k, c in enumerate(target) if array.shape[term.index(c)] == 1 != sizes[c]
            )
            if stretched:
                grad = grad.sum(axis=stretched, keepdims=True)
            if target != term:
                view = tuple(n if c in target else 1 for c, n in zip(term, array.shape))
                grad = xp.broadcast_to(grad.reshape(view), array.shape).copy()
            grads.append(grad.astype(array.dtype, copy=False))
        return tuple(grads)


def einsum(subscripts, *operands, **kwargs):
    """Einstein summation: ``einsum("bqd,bkd->bqk", q, k)``, differentiable in every operand
    without a repeated subscript.

    NumPy's notation: ``...`` and implicit outputs; dimensions of size 1 broadcast. The result
    has the operands' promoted dtype. ``kwargs`` (Keras's backend options) are accepted and
    ignored.

    Raises:
        TypeError: when ``subscripts`` is not a string.
        ValueError: naming the equation when the operand count or a rank does not match.
    """
    del kwargs
    if not isinstance(subscripts, str):
        raise TypeError(
            f"einsum: subscripts must be a string, received {type(subscripts).__name__}"
        )
    tensors = [as_tensor(o) for o in operands]
    parse_einsum(subscripts, [t.shape for t in tensors])  # early, clear errors
    return Einsum.apply(*tensors, equation=subscripts)
