"""Keras 3's core ops: tensor facts and conversion, control flow (``cond``, loops, ``scan``,
``map``, ``switch``), ``custom_gradient`` and ``jvp``.

gpuk is eager, so control flow is ordinary Python: a tensor predicate is read back from the
device (one scalar), as any eager framework must.
"""

import numpy as np

from gpuk._array import asarray, default_module, is_array, to_numpy
from gpuk._config import floatx
from gpuk._tree import flatten, pack_like
from gpuk.autograd import Function, GradientTape, Tensor, as_tensor, no_grad
from gpuk.ops._util import xp_of
from gpuk.ops.shaping import getitem, reshape, stack

__all__ = [
    "associative_scan",
    "cond",
    "convert_to_numpy",
    "convert_to_tensor",
    "custom_gradient",
    "dtype",
    "fori_loop",
    "get_item",
    "is_tensor",
    "jvp",
    "map",
    "ndim",
    "saturate_cast",
    "scan",
    "shape",
    "size",
    "switch",
    "vectorize",
    "vectorized_map",
    "view",
    "while_loop",
]


def shape(x):
    """The static shape of ``x`` as a tuple of ints (None for the unknown sizes of a
    symbolic tensor)."""
    dims = getattr(x, "shape", None)
    if dims is not None and (isinstance(x, Tensor) or is_array(x) or hasattr(x, "_keras_history")):
        return tuple(None if n is None else int(n) for n in dims)
    return tuple(np.shape(x))


def ndim(x):
    """The number of axes of ``x``."""
    return len(shape(x))


def size(x):
    """The number of elements of ``x`` (a Python int)."""
    return int(np.prod(shape(x), dtype=np.int64))


def dtype(x):
    """The dtype name of ``x``, e.g. ``'float32'``."""
    return as_tensor(x).dtype.name if not hasattr(x, "dtype") else np.dtype(x.dtype).name


def is_tensor(x):
    """True for a gpuk Tensor (Variables included)."""
    return isinstance(x, Tensor)


def convert_to_tensor(x, dtype=None, sparse=None, ragged=None):
    """``x`` as a Tensor on the current device.

    Python floats (and lists of them) become ``floatx()``, Python ints ``int32``, as in Keras;
    arrays keep their dtype unless ``dtype`` is given. ``sparse``/``ragged`` must be falsy:
    gpuk has no sparse or ragged tensors.
    """
    if sparse or ragged:
        raise ValueError("convert_to_tensor: gpuk has no sparse or ragged tensors")
    if isinstance(x, Tensor):
        return x if dtype is None or x.dtype == np.dtype(dtype) else Tensor(x.data.astype(dtype))
    if is_array(x):
        data = asarray(x, xp=default_module())
    else:
        probe = np.asarray(x)
        default = None
        if probe.dtype.kind == "f":
            default = floatx()
        elif probe.dtype.kind in "iu" and not isinstance(x, np.generic):
            default = "int32"
        data = asarray(probe, dtype=default, xp=default_module())
    if dtype is not None:
        data = data.astype(dtype)
    return Tensor(data)


def convert_to_numpy(x):
    """``x`` as a NumPy array (copied from the GPU when needed)."""
    if isinstance(x, Tensor):
        return x.numpy()
    return np.asarray(to_numpy(x))


def get_item(x, key):
    """``x[key]`` (differentiable)."""
    return getitem(x, key)


def saturate_cast(x, dtype):
    """Cast to ``dtype``, clipping values to its range first (no wrap-around)."""
    x = as_tensor(x)
    target = np.dtype(dtype)
    info = np.iinfo(target) if target.kind in "iu" else np.finfo(target)
    lo, hi = info.min, info.max
    xp = xp_of(x.data)
    data = x.data
    if data.dtype.kind in "fc" or data.dtype.itemsize >= target.itemsize:
        data = xp.clip(data, lo, hi)
    return Tensor(data.astype(target))


def view(x, dtype=None):
    """Reinterpret the bytes of ``x`` as ``dtype`` (no copy, no gradient)."""
    data = as_tensor(x).data
    return Tensor(data.view(np.dtype(dtype)) if dtype is not None else data)


def _truth(pred):
    if isinstance(pred, Tensor):
        return bool(pred.item())
    if is_array(pred):
        return bool(to_numpy(pred))
    return bool(pred)


def cond(pred, true_fn, false_fn):
    """``true_fn()`` if ``pred`` holds, else ``false_fn()``."""
    return true_fn() if _truth(pred) else false_fn()


def switch(index, branches, *operands):
    """Call ``branches[index](*operands)``; ``index`` is clamped into range, as Keras does."""
    i = int(index.item() if isinstance(index, Tensor) else to_numpy(index))
    i = min(max(i, 0), len(branches) - 1)
    return branches[i](*operands)


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """Run ``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)`` holds (at most
    ``maximum_iterations`` times); a single loop variable may be passed bare."""
    is_tuple = isinstance(loop_vars, (tuple, list))
    state = tuple(loop_vars) if is_tuple else (loop_vars,)
    steps = 0
    while (maximum_iterations is None or steps < maximum_iterations) and _truth(cond(*state)):
        out = body(*state)
        state = tuple(out) if isinstance(out, (tuple, list)) else (out,)
        steps += 1
    if not is_tuple:
        return state[0]
    return type(loop_vars)(state) if isinstance(loop_vars, list) else state


def fori_loop(lower, upper, body_fun, init_val):
    """``val = body_fun(i, val)`` for ``i`` in ``range(lower, upper)``."""
    val = init_val
    for i in range(_int(lower), _int(upper)):
        val = body_fun(i, val)
    return val


def _int(value):
    return int(value.item() if isinstance(value, Tensor) else to_numpy(value))


def _stack_trees(trees):
    if not trees:
        return None
    first = trees[0]
    if first is None:
        return None
    columns = list(zip(*[flatten(t) for t in trees]))
    return pack_like(first, [stack([as_tensor(v) for v in col], axis=0) for col in columns])


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """Loop ``carry, y = f(carry, x)`` over the leading axis of ``xs``; returns the final
    carry and the stacked ``y`` values (as ``jax.lax.scan``). ``xs`` may be a nested
    structure of tensors, or None with ``length`` steps."""
    if xs is None:
        if length is None:
            raise ValueError("scan: give xs or length")
        n, leaves = int(length), None
    else:
        leaves = [as_tensor(v) for v in flatten(xs)]
        n = leaves[0].shape[0]
        if length is not None and int(length) != n:
            raise ValueError(f"scan: length={length} but xs has {n} entries")
    order = range(n - 1, -1, -1) if reverse else range(n)
    carry, ys = init, []
    for i in order:
        x = None if leaves is None else pack_like(xs, [getitem(v, i) for v in leaves])
        carry, y = f(carry, x)
        ys.append(y)
    if reverse:
        ys = ys[::-1]
    return carry, _stack_trees(ys)


def associative_scan(f, elems, reverse=False, axis=0):
    """Inclusive scan with an associative ``f`` along ``axis`` (a cumulative sum for ``add``);
    ``elems`` may be a nested structure. Computed sequentially, differentiably."""
    leaves = [as_tensor(v) for v in flatten(elems)]
    ax = axis % leaves[0].ndim
    n = leaves[0].shape[ax]

    def part(v, i):
        key = (slice(None),) * ax + (i,)
        return getitem(v, key)

    index = list(range(n))
    if reverse:
        index = index[::-1]
    acc, outs = None, []
    for i in index:
        cur = pack_like(elems, [part(v, i) for v in leaves])
        acc = cur if acc is None else (f(cur, acc) if reverse else f(acc, cur))
        outs.append(acc)
    if reverse:
        outs = outs[::-1]
    columns = list(zip(*[flatten(o) for o in outs]))
    return pack_like(elems, [stack(list(col), axis=ax) for col in columns])


def map(f, xs):
    """``stack([f(x) for x in xs])`` over the leading axis (nested inputs and outputs)."""
    leaves = [as_tensor(v) for v in flatten(xs)]
    n = leaves[0].shape[0]
    outs = [f(pack_like(xs, [getitem(v, i) for v in leaves])) for i in range(n)]
    return _stack_trees(outs)


def vectorized_map(function, elements):
    """``function`` applied to each slice of ``elements`` along axis 0, results stacked."""
    return map(function, elements)


def vectorize(pyfunc, *, excluded=None, signature=None):
    """A function mapping ``pyfunc`` over the broadcast leading elements of its tensor
    arguments (NumPy's ``vectorize``, with ``signature`` core dimensions such as
    ``'(n),(n)->()'``)."""
    excluded = set(excluded or ())
    cores = None
    if signature is not None:
        inputs = signature.split("->")[0]
        cores = [len([d for d in g.split(",") if d.strip()]) for g in inputs[1:-1].split("),(")]

    def wrapped(*args, **kwargs):
        positions = [i for i in range(len(args)) if i not in excluded]
        tensors = {i: as_tensor(args[i]) for i in positions}
        core = {i: (cores[k] if cores else 0) for k, i in enumerate(positions)}
        batch = np.broadcast_shapes(
            *[tensors[i].shape[: tensors[i].ndim - core[i]] for i in positions]
        )
        from gpuk.ops.indexing import broadcast_to

        flat = {}
        for i in positions:
            t = tensors[i]
            tail = t.shape[t.ndim - core[i] :]
            flat[i] = reshape(broadcast_to(t, batch + tail), (-1,) + tail)
        count = int(np.prod(batch, dtype=np.int64))
        results = []
        for k in range(count):
            call = [getitem(flat[i], k) if i in flat else a for i, a in enumerate(args)]
            results.append(pyfunc(*call, **kwargs))
        stacked = _stack_trees(results)
        leaves = [reshape(v, batch + v.shape[1:]) for v in flatten(stacked)]
        return pack_like(stacked, leaves)

    return wrapped


class _Custom(Function):
    def forward(self, *arrays):
        return self.value

    def backward(self, g):
        with no_grad():
            grads = self.grad_fn(Tensor(g))
        grads = grads if isinstance(grads, (list, tuple)) else (grads,)
        out = []
        for grad, shape_ in zip(grads, self.shapes):
            if grad is None:
                out.append(None)
            else:
                data = as_tensor(grad).data
                out.append(data if data.shape == shape_ else xp_of(data).broadcast_to(data, shape_))
        return tuple(out) + (None,) * (len(self.shapes) - len(out))


def custom_gradient(f):
    """Decorate ``f(*args) -> (output, grad_fn)`` so that differentiation calls
    ``grad_fn(upstream)`` (Keras's ``grad(*args, upstream=None)`` form works too) instead of
    differentiating ``f``'s own operations. ``grad_fn`` returns one gradient per argument."""

    def wrapped(*args):
        tensors = [as_tensor(a) for a in args]
        with no_grad():
            output, grad_fn = f(*tensors)
        output = as_tensor(output)
        return _Custom.apply(
            *tensors, value=output.data, grad_fn=grad_fn, shapes=[t.shape for t in tensors]
        )

    wrapped.__name__ = getattr(f, "__name__", "custom_gradient")
    wrapped.__doc__ = f.__doc__
    return wrapped


def jvp(fun, primals, tangents, has_aux=False):
    """Jacobian-vector product: ``(fun(*primals), J @ tangents)`` (plus ``aux`` with
    ``has_aux``). gpuk differentiates in reverse mode only, so this builds the Jacobian one
    output element at a time: fine for the small functions ``jvp`` is used on."""
    primals = [as_tensor(p) for p in primals]
    tangents = [as_tensor(t) for t in tangents]
    watched = [Tensor(p.data, requires_grad=True) for p in primals]
    with GradientTape(persistent=True) as tape:
        result = fun(*watched)
    out, aux = (result[0], result[1]) if has_aux else (result, None)
    outs = flatten(out)
    products = []
    for o in outs:
        o = as_tensor(o)
        xp = xp_of(o.data)
        flat = xp.zeros(o.size, dtype=o.dtype if o.dtype.kind in "fc" else np.float64)
        for k in range(o.size):
            seed = xp.zeros(o.size, dtype=flat.dtype)
            seed[k] = 1
            grads = tape.gradient(o, watched, output_gradients=Tensor(seed.reshape(o.shape)))
            total = 0
            for grad, tan in zip(grads, tangents):
                if grad is not None:
                    total = total + (grad.data * tan.data).sum()
            flat[k] = total
        products.append(Tensor(flat.reshape(o.shape)))
    jvp_out = pack_like(out, products)
    plain = pack_like(out, [Tensor(as_tensor(o).data) for o in outs])
    return (plain, jvp_out, aux) if has_aux else (plain, jvp_out)
