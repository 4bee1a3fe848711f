"""Module functions of the stand-in: NumPy's, behind CuPy's names, signatures and refusals.

Every function name comes from ``cupy_names.json`` (generated from the real CuPy by
``tools/make_cupy_standin_names.py``); arguments are bound against CuPy's recorded signature
first, so keywords CuPy lacks are refused. Functions with CuPy-specific behaviour (host
transfers, wrapped indices, syncs) are written out below; the rest are generic wrappers.
"""

import builtins
import inspect
import json
import pathlib

import numpy as np

from tests.cupy_standin._core import (
    FUNCTIONS,
    LINALG,
    UFUNCS,
    _check_kind,
    ndarray,
    ufunc,
    unsupported,
    unwrap,
    unwrap_host_ok,
    upload,
    wrap,
)
from tests.cupy_standin._counters import note
from tests.cupy_standin._graph import allocated, launch

NAMES = json.loads((pathlib.Path(__file__).parent / "cupy_names.json").read_text())
_KINDS = {
    "POSITIONAL_ONLY": inspect.Parameter.POSITIONAL_ONLY,
    "POSITIONAL_OR_KEYWORD": inspect.Parameter.POSITIONAL_OR_KEYWORD,
    "VAR_POSITIONAL": inspect.Parameter.VAR_POSITIONAL,
    "KEYWORD_ONLY": inspect.Parameter.KEYWORD_ONLY,
    "VAR_KEYWORD": inspect.Parameter.VAR_KEYWORD,
}


def signature(params):
    """An ``inspect.Signature`` from the recorded ``[name, kind, has_default]`` triples."""
    if params is None:
        return None
    return inspect.Signature(
        [
            inspect.Parameter(
                name, _KINDS[kind], default=None if has_default else inspect.Parameter.empty
            )
            for name, kind, has_default in params
        ]
    )


def checked(name, function, params):
    """``function`` behind CuPy's signature of ``name``: unknown arguments raise TypeError."""
    sig = signature(params)
    if sig is None:
        return function

    def call(*args, **kwargs):
        try:
            sig.bind(*args, **kwargs)
        except TypeError as error:
            raise TypeError(f"cupy.{name}(): {error}") from None
        return function(*args, **kwargs)

    call.__name__ = name
    call.__qualname__ = name
    call.__module__ = "cupy"
    call.__wrapped__ = function
    return call


#: Functions whose first argument CuPy requires to be a ``cupy.ndarray`` (they call its
#: methods or take it as a typed ``ndarray``): scalars and NumPy values are refused there.
ARRAY_FIRST = frozenset(
    "all amax amin any argmax argmin array_split broadcast_to clip cumprod cumsum diff dot "
    "expand_dims flip max mean min moveaxis pad prod ravel repeat reshape searchsorted split "
    "squeeze std sum swapaxes tensordot tile tril triu var".split()
)
#: Functions taking a sequence of ``cupy.ndarray``.
ARRAY_SEQUENCE = frozenset("concatenate stack vstack hstack dstack column_stack".split())


def _require_array(name, value):
    if type(value) is not ndarray:
        raise TypeError(f"cupy.{name}: Unsupported type {type(value)}")


def generic(name, numpy_function):
    """A device function computed by ``numpy_function`` on the unwrapped operands."""

    def call(*args, **kwargs):
        if args and name in ARRAY_FIRST:
            _require_array(name, args[0])
        elif args and name in ARRAY_SEQUENCE:
            for value in args[0]:
                _require_array(name, value)
        elif name == "matmul":
            for value in args[:2]:
                if type(value) is not ndarray:
                    raise ValueError("Scalar operands are not allowed, use '*' instead")
        out = kwargs.get("out")
        operands = [unwrap(a) for a in args]
        keywords = {k: unwrap(v) for k, v in kwargs.items()}
        if type(out) is ndarray:

            def compute():
                numpy_function(*operands, **keywords)

            launch(compute, [*operands, *keywords.values()], [out._a])
            return out
        return wrap(
            launch(lambda: numpy_function(*operands, **keywords), [*operands, *keywords.values()])
        )

    call.__name__ = name
    return call


# ------------------------------------------------------------------ host <-> device
def asarray(a, dtype=None, order=None, *, copy=None, blocking=False):
    if type(a) is ndarray:
        if dtype is None or np.dtype(dtype) == a.dtype:
            return a
        return a.astype(dtype, order=order or "K")
    if isinstance(a, (list, tuple)) and builtins.any(type(v) is ndarray for v in a):
        values = [unwrap(v) for v in a]
        return wrap(launch(lambda: np.asarray(values, dtype=dtype), values))
    return upload(a, dtype=dtype)


def array(obj, dtype=None, copy=True, order="K", subok=False, ndmin=0, *, blocking=False):
    if type(obj) is ndarray:
        a = obj._a
        return wrap(
            launch(lambda: np.array(a, dtype=dtype, copy=True, order=order, ndmin=ndmin), [a])
        )
    if isinstance(obj, (list, tuple)) and builtins.any(type(v) is ndarray for v in obj):
        values = [unwrap(v) for v in obj]
        return wrap(launch(lambda: np.array(values, dtype=dtype, ndmin=ndmin), values))
    note("uploads")
    return wrap(np.array(obj, dtype=dtype, copy=True, order=order, ndmin=ndmin))


def asanyarray(a, dtype=None, order=None, *, blocking=False):
    return asarray(a, dtype=dtype, order=order)


def ascontiguousarray(a, dtype=None):
    if type(a) is not ndarray:
        raise unsupported(a)
    if a.flags.c_contiguous and (dtype is None or np.dtype(dtype) == a.dtype):
        return a
    source = a._a
    return wrap(launch(lambda: np.ascontiguousarray(source, dtype=dtype), [source]))


def asfortranarray(a, dtype=None):
    if type(a) is not ndarray:
        raise unsupported(a)
    source = a._a
    return wrap(launch(lambda: np.asfortranarray(source, dtype=dtype), [source]))


def asnumpy(a, stream=None, order="C", out=None, *, blocking=True):
    if type(a) is ndarray:
        return a.get(order=order, out=out)
    return np.asarray(a, order=order)


def get_array_module(*args):
    import cupy

    return cupy if builtins.any(type(a) is ndarray for a in args) else np


# ------------------------------------------------------- CuPy-specific computations
def empty(shape, dtype=float, order="C"):
    return ndarray(shape, dtype=dtype, order=order)


def empty_like(prototype, dtype=None, order="K", subok=None, shape=None):
    if type(prototype) is not ndarray:
        raise unsupported(prototype)
    out = np.empty_like(prototype._a, dtype=dtype, order=order, shape=shape)
    out.view(np.uint8).fill(0xFF)
    allocated(out)
    return wrap(out)


def take(a, indices, axis=None, out=None):
    if type(a) is not ndarray:
        raise unsupported(a)
    return a.take(indices, axis, out)


def take_along_axis(a, indices, axis):
    if type(a) is not ndarray or type(indices) is not ndarray:
        raise unsupported(indices if type(a) is ndarray else a)
    if axis is None:
        source, axis = a._a.ravel(), 0
    else:
        source = a._a
    length = source.shape[axis]
    index = indices._a
    return wrap(
        launch(
            lambda: np.take_along_axis(source, np.mod(index, length) if length else index, axis),
            [source, index],
        )
    )


def argsort(a, axis=-1, kind=None):
    if type(a) is not ndarray:
        raise unsupported(a)
    return a.argsort(axis=axis, kind=kind)


def sort(a, axis=-1, kind=None):
    _check_kind(kind)
    if type(a) is not ndarray:
        raise unsupported(a)
    source = a._a
    return wrap(launch(lambda: np.sort(source, axis=axis, kind="stable"), [source]))


def bincount(x, weights=None, minlength=None):
    if type(x) is not ndarray:
        raise unsupported(x)
    note("syncs")  # CuPy reads max(x) back to size the output
    source, w = x._a, None if weights is None else unwrap(weights)
    return wrap(launch(lambda: np.bincount(source, w, minlength or 0), [source, w]))


def nonzero(a):
    if type(a) is not ndarray:
        raise unsupported(a)
    return a.nonzero()


def _syncing(name, numpy_function):
    def call(*args, **kwargs):
        note("syncs")  # the output size depends on the values
        operands = [unwrap(a) for a in args]
        return wrap(launch(lambda: numpy_function(*operands, **kwargs), operands))

    call.__name__ = name
    return call


def where(condition, x=None, y=None):
    if x is None and y is None:
        return nonzero(condition)
    operands = [unwrap(condition), unwrap(x), unwrap(y)]
    return wrap(launch(lambda: np.where(*operands), operands))


def copyto(dst, src, casting="same_kind", where=None):
    if type(dst) is not ndarray:
        raise unsupported(dst)
    target, source = dst._a, unwrap(src)
    mask = True if where is None else unwrap(where)
    launch(lambda: np.copyto(target, source, casting=casting, where=mask), [source, mask], [target])


def transpose(a, axes=None):
    if type(a) is not ndarray:
        raise unsupported(a)
    return wrap(np.transpose(a._a, unwrap_host_ok(axes)))


def reshape(a, newshape, order="C"):
    if type(a) is not ndarray:
        raise unsupported(a)
    return a.reshape(unwrap_host_ok(newshape), order=order)


SPECIAL = {
    "asarray": asarray,
    "array": array,
    "asanyarray": asanyarray,
    "ascontiguousarray": ascontiguousarray,
    "asfortranarray": asfortranarray,
    "asnumpy": asnumpy,
    "get_array_module": get_array_module,
    "empty": empty,
    "empty_like": empty_like,
    "take": take,
    "take_along_axis": take_along_axis,
    "argsort": argsort,
    "sort": sort,
    "bincount": bincount,
    "nonzero": nonzero,
    "flatnonzero": _syncing("flatnonzero", np.flatnonzero),
    "argwhere": _syncing("argwhere", np.argwhere),
    "unique": _syncing("unique", np.unique),
    "where": where,
    "copyto": copyto,
    "transpose": transpose,
    "reshape": reshape,
    # a ufunc in CuPy, a plain function in NumPy
    "i0": generic("i0", np.i0),
}


def populate(namespace, module_name, numpy_namespace, special=None, registry=None):
    """Fill ``namespace`` with the names real CuPy's ``module_name`` exposes and NumPy has."""
    special = special or {}
    for name, info in NAMES["modules"][module_name].items():
        kind = info["kind"]
        if name in special:
            value = special[name]
            if kind == "function":
                value = checked(name, value, info.get("params"))
        elif kind == "numpy":
            value = getattr(np, name)
        elif kind == "ufunc":
            target = getattr(numpy_namespace, name, None)
            if not isinstance(target, np.ufunc):
                continue
            value = UFUNCS.setdefault(name, ufunc(name, target, info["nin"], info["nout"]))
        elif kind == "function":
            target = getattr(numpy_namespace, name, None)
            if not callable(target):
                continue
            value = checked(name, generic(name, target), info.get("params"))
        elif kind == "value":
            if not hasattr(numpy_namespace, name) or callable(getattr(numpy_namespace, name)):
                continue
            value = getattr(numpy_namespace, name)
        elif kind == "class":
            target = getattr(numpy_namespace, name, None)
            if not (isinstance(target, type) and issubclass(target, BaseException)):
                continue
            value = target
        else:
            continue
        namespace[name] = value
        if registry is not None and callable(value):
            registry[name] = value


def cupy_namespace():
    namespace = {"ndarray": ndarray, "ufunc": ufunc}
    populate(namespace, "cupy", np, SPECIAL, FUNCTIONS)
    return namespace


def linalg_namespace():
    namespace = {}
    populate(namespace, "cupy.linalg", np.linalg, registry=LINALG)
    return namespace


def fft_namespace():
    """``cupy.fft``: NumPy's FFTs on device arrays (single precision stays single, as in
    CuPy and NumPy 2)."""
    namespace = {}
    populate(namespace, "cupy.fft", np.fft)
    return namespace
