"""The stand-in's ``ndarray`` and ``ufunc``: NumPy underneath, CuPy's rules on top.

``ndarray`` holds a private NumPy array (the "device memory"). It refuses implicit conversion
(``__array__`` raises CuPy's TypeError), refuses NumPy arrays as operands of operators and
ufuncs, returns 0-d arrays where NumPy returns scalars, wraps out-of-range integer-array
indices as CuPy's kernels do, and counts every host sync and host-to-device copy.
"""

import builtins

import numpy as np

from tests.cupy_standin._counters import note
from tests.cupy_standin._graph import allocated, launch

IMPLICIT = (
    "Implicit conversion to a NumPy array is not allowed. "
    "Please use `.get()` to construct a NumPy array explicitly."
)
#: ufuncs and functions by name, filled by the module builder (``__array_ufunc__`` and
#: ``__array_function__`` dispatch through them, as CuPy does).
UFUNCS = {}
FUNCTIONS = {}
LINALG = {}


def unsupported(value):
    return TypeError(f"Unsupported type {type(value)}")


def wrap(value):
    """NumPy results to device arrays: arrays and scalars alike (CuPy returns 0-d arrays)."""
    if isinstance(value, np.ndarray):
        out = ndarray.__new__(ndarray)
        out._a = value
        return out
    if isinstance(value, np.generic):
        return wrap(np.asarray(value))
    if isinstance(value, tuple):
        return tuple(wrap(v) for v in value)
    if isinstance(value, list):
        return [wrap(v) for v in value]
    return value


def unwrap(value):
    """Operands of module functions: device arrays unwrapped, NumPy arrays refused."""
    kind = type(value)
    if kind is ndarray:
        return value._a
    if kind is np.ndarray:
        raise unsupported(value)
    if kind is list or kind is tuple:
        return kind(unwrap(v) for v in value)
    return value


def unwrap_host_ok(value):
    """Arguments where CuPy accepts host sequences too (axes, shapes, index lists)."""
    if type(value) is ndarray:
        return value._a
    if type(value) in (list, tuple):
        return type(value)(unwrap_host_ok(v) for v in value)
    return value


def upload(value, dtype=None, copy=True):
    """A host value copied to the device (one host-to-device copy counted)."""
    note("uploads")
    array = np.array(value, dtype=dtype, copy=True) if copy else np.asarray(value, dtype=dtype)
    return wrap(array)


def _wrap_indices(key, shape):
    """CuPy's indexing: integer arrays wrap modulo the axis length instead of raising."""
    if type(key) is not tuple:
        key = (key,)
    converted = []
    for k in key:
        kind = type(k)
        if kind is ndarray:
            if k._a.dtype == np.bool_:
                note("syncs")  # the output size is read back to the host
            converted.append(k._a)
        elif kind is np.ndarray or kind is list:
            k = np.asarray(k)
            note("uploads")
            if k.dtype == np.bool_:
                note("syncs")
            converted.append(k)
        else:
            converted.append(k)
    explicit = builtins.sum(
        (k.ndim if isinstance(k, np.ndarray) and k.dtype == np.bool_ else 1)
        for k in converted
        if k is not None and k is not Ellipsis
    )
    axis = 0
    out = []
    for k in converted:
        if k is None:
            out.append(k)
            continue
        if k is Ellipsis:
            axis += len(shape) - explicit
            out.append(k)
            continue
        if isinstance(k, np.ndarray):
            if k.dtype == np.bool_:
                axis += k.ndim
            else:
                if k.dtype.kind not in "iu":
                    raise IndexError("arrays used as indices must be of integer (or boolean) type")
                if axis < len(shape) and shape[axis] > 0:
                    k = np.mod(k, shape[axis])
                axis += 1
            out.append(k)
            continue
        axis += 1
        out.append(k)
    if not builtins.any(k is Ellipsis for k in out):
        out.append(Ellipsis)  # so NumPy returns 0-d views, not scalars, as CuPy does
    return tuple(out)


def _binary(name, reflected=False):
    def method(self, other):
        if other is None:
            return NotImplemented
        function = UFUNCS.get(name) or FUNCTIONS[name]
        return function(other, self) if reflected else function(self, other)

    method.__name__ = f"__{'r' if reflected else ''}{name}__"
    return method


def _inplace(name):
    def method(self, other):
        UFUNCS[name](self, other, out=self)
        return self

    return method


def _sync_method(name):
    def method(self, *args, **kwargs):
        note("syncs")
        return getattr(self._a, name)(*args, **kwargs)

    method.__name__ = name
    return method


def _method(name, host_ok=True):
    convert = unwrap_host_ok if host_ok else unwrap

    def method(self, *args, **kwargs):
        args = [convert(a) for a in args]
        kwargs = {k: convert(v) for k, v in kwargs.items()}
        a = self._a
        out = kwargs.get("out")
        writes = [a] if name == "put" else ([out] if isinstance(out, np.ndarray) else [])
        return wrap(
            launch(
                lambda: getattr(a, name)(*args, **kwargs),
                [a, *args, *kwargs.values()],
                writes,
            )
        )

    method.__name__ = name
    return method


class Flags:
    """CuPy's ``ndarray.flags``: three read-only flags (no ``writeable``, ``aligned``...)."""

    __slots__ = ("c_contiguous", "f_contiguous", "owndata")

    def __init__(self, flags):
        self.c_contiguous = flags.c_contiguous
        self.f_contiguous = flags.f_contiguous
        self.owndata = flags.owndata

    def __getitem__(self, name):
        keys = {"C_CONTIGUOUS": "c_contiguous", "F_CONTIGUOUS": "f_contiguous"}
        return getattr(self, keys.get(name, name.lower()))

    def __repr__(self):
        return "\n".join(f"  {n.upper()} : {getattr(self, n)}" for n in self.__slots__)


class MemoryPointer:
    """``x.data``: the device address of the first element (``ptr``)."""

    def __init__(self, ptr, device_id=0):
        self.ptr = ptr
        self.device_id = device_id

    def __int__(self):
        return self.ptr


class ndarray:  # noqa: N801  (CuPy's name)
    """A CuPy-like device array over a private NumPy array."""

    __slots__ = ("_a", "__weakref__")
    __array_priority__ = 100
    __hash__ = None

    def __init__(self, shape, dtype=float, memptr=None, strides=None, order="C"):
        if memptr is not None or strides is not None:
            raise NotImplementedError("the CuPy stand-in does not take memptr/strides")
        self._a = np.empty(shape, dtype=dtype, order=order)
        self._a.view(np.uint8).fill(0xFF)  # uninitialised memory reads as NaN / -1
        allocated(self._a)

    # -- refusals ----------------------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        raise TypeError(IMPLICIT)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        function = UFUNCS.get(ufunc.__name__)
        if function is None and method == "__call__":
            function = FUNCTIONS.get(ufunc.__name__)  # gufuncs such as matmul
        if function is None:
            return NotImplemented
        if "out" in kwargs:
            out = kwargs["out"]
            if isinstance(out, tuple) and len(out) == 1:
                kwargs["out"] = out[0]
        if method == "__call__":
            return function(*inputs, **kwargs)
        return getattr(function, method)(*inputs, **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        module = getattr(func, "__module__", "") or ""
        table = LINALG if module.startswith("numpy.linalg") else FUNCTIONS
        function = table.get(func.__name__)
        if function is None:
            return NotImplemented
        return function(*args, **kwargs)

    # -- attributes --------------------------------------------------------------------
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    itemsize = property(lambda self: self._a.itemsize)
    nbytes = property(lambda self: self._a.nbytes)
    strides = property(lambda self: self._a.strides)
    flags = property(lambda self: Flags(self._a.flags))
    T = property(lambda self: wrap(self._a.T))
    mT = property(lambda self: wrap(np.swapaxes(self._a, -1, -2)))
    real = property(lambda self: wrap(self._a.real))
    imag = property(lambda self: wrap(self._a.imag))
    data = property(lambda self: MemoryPointer(self._a.ctypes.data))

    @property
    def device(self):
        from tests.cupy_standin._cuda import Device

        return Device(0)

    @property
    def __cuda_array_interface__(self):
        a = self._a
        return {
            "shape": a.shape,
            "typestr": a.dtype.str,
            "data": (a.ctypes.data, False),
            "strides": None if a.flags.c_contiguous else a.strides,
            "version": 3,
        }

    # -- host transfers (each one a sync) ----------------------------------------------
    def get(self, stream=None, order="C", out=None, blocking=True):
        note("syncs")
        if out is not None:
            out[...] = self._a
            return out
        return np.array(self._a, order=order, copy=True)

    def set(self, arr, stream=None):
        if type(arr) is ndarray:
            raise TypeError("Only numpy.ndarray can be set to cupy.ndarray")
        note("uploads")
        self._a[...] = np.asarray(arr)

    item = _sync_method("item")
    tolist = _sync_method("tolist")
    tobytes = _sync_method("tobytes")
    tofile = _sync_method("tofile")
    dumps = _sync_method("dumps")
    dump = _sync_method("dump")

    def __float__(self):
        note("syncs")
        return float(self._a)

    def __int__(self):
        note("syncs")
        return int(self._a)

    def __complex__(self):
        note("syncs")
        return complex(self._a)

    def __bool__(self):
        if self._a.size != 1:
            return bool(self._a)  # NumPy's and CuPy's ValueError
        note("syncs")
        return bool(self._a)

    def __repr__(self):
        note("syncs")
        return repr(self._a)

    def __str__(self):
        note("syncs")
        return str(self._a)

    def __format__(self, spec):
        note("syncs")
        return format(self._a[()] if self._a.ndim == 0 else self._a, spec)

    def __reduce__(self):
        note("syncs")
        from tests.cupy_standin import _functions

        return _functions.array, (np.array(self._a),)

    def __copy__(self):
        return self.copy()

    def __deepcopy__(self, memo):
        return self.copy()

    # -- shape of a sequence -----------------------------------------------------------
    def __len__(self):
        if self._a.ndim == 0:
            raise TypeError("len() of unsized object")
        return self._a.shape[0]

    def __iter__(self):
        if self._a.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(self._a.shape[0]))

    # -- indexing ----------------------------------------------------------------------
    def __getitem__(self, key):
        key = _wrap_indices(key, self._a.shape)
        a = self._a
        return wrap(launch(lambda: a[key], [a, *key]))

    def __setitem__(self, key, value):
        key = _wrap_indices(key, self._a.shape)
        kind = type(value)
        if kind is ndarray:
            value = value._a
        elif kind is np.ndarray or kind is list or kind is tuple:
            note("uploads")
            value = np.asarray(value)
        a = self._a

        def compute():
            a[key] = value

        launch(compute, [a, value], [a])

    def take(self, indices, axis=None, out=None):
        indices = unwrap_host_ok(indices)
        if isinstance(indices, (list, tuple, np.ndarray)) and type(indices) is not ndarray:
            indices = np.asarray(indices)
        length = self._a.size if axis is None else self._a.shape[axis]
        if length:
            indices = np.mod(indices, length)
        a = self._a
        if out is not None:
            target = out._a

            def compute():
                target[...] = np.take(a, indices, axis=axis)

            launch(compute, [a, indices], [target])
            return out
        return wrap(launch(lambda: np.asarray(np.take(a, indices, axis=axis)), [a, indices]))

    def nonzero(self):
        note("syncs")
        return wrap(self._a.nonzero())

    def argsort(self, axis=-1, kind=None):
        _check_kind(kind)
        a = self._a
        return wrap(launch(lambda: a.argsort(axis=axis, kind="stable"), [a]))

    def sort(self, axis=-1, kind=None):
        _check_kind(kind)
        a = self._a
        launch(lambda: a.sort(axis=axis, kind="stable"), [a], [a])

    def astype(self, dtype, order="K", casting=None, subok=None, copy=True):
        kwargs = {} if casting is None else {"casting": casting}
        a = self._a
        return wrap(launch(lambda: a.astype(dtype, order=order, copy=copy, **kwargs), [a]))

    def copy(self, order="C"):
        a = self._a
        return wrap(launch(lambda: a.copy(order=order), [a]))

    def fill(self, value):
        if type(value) is np.ndarray:
            raise unsupported(value)
        a = self._a
        value = value._a if type(value) is ndarray else value
        launch(lambda: a.fill(value), [a, value], [a])

    def view(self, dtype=None, array_class=None):
        return wrap(self._a.view() if dtype is None else self._a.view(dtype))

    def reshape(self, *shape, order="C"):
        shape = unwrap_host_ok(shape[0] if len(shape) == 1 else shape)
        a = self._a
        return wrap(launch(lambda: a.reshape(shape, order=order), [a], count=False))

    def __dlpack__(self, *args, **kwargs):
        raise NotImplementedError("the CuPy stand-in has no DLPack export")


def _check_kind(kind):
    if kind is not None and kind != "stable":
        raise ValueError(f"Unsupported kind of sorting {kind!r}: CuPy sorts stably only")


for _name in (
    "all",
    "any",
    "argmax",
    "argmin",
    "argpartition",
    "clip",
    "compress",
    "conj",
    "conjugate",
    "cumprod",
    "cumsum",
    "diagonal",
    "dot",
    "flatten",
    "max",
    "mean",
    "min",
    "partition",
    "prod",
    "put",
    "ravel",
    "repeat",
    "round",
    "searchsorted",
    "squeeze",
    "std",
    "sum",
    "swapaxes",
    "trace",
    "transpose",
    "var",
    "choose",
):
    setattr(ndarray, _name, _method(_name, host_ok=_name not in ("dot", "clip", "searchsorted")))

ndarray.ptp = lambda self, axis=None, out=None, keepdims=False: wrap(
    launch(lambda: np.ptp(self._a, axis=axis, keepdims=keepdims), [self._a], count=False)
)

_OPERATORS = {
    "add": "add",
    "sub": "subtract",
    "mul": "multiply",
    "truediv": "true_divide",
    "floordiv": "floor_divide",
    "mod": "remainder",
    "pow": "power",
    "matmul": "matmul",
    "and": "bitwise_and",
    "or": "bitwise_or",
    "xor": "bitwise_xor",
    "lshift": "left_shift",
    "rshift": "right_shift",
}
for _op, _ufunc in _OPERATORS.items():
    setattr(ndarray, f"__{_op}__", _binary(_ufunc))
    setattr(ndarray, f"__r{_op}__", _binary(_ufunc, reflected=True))
    if _op != "matmul":  # CuPy has no in-place @=
        setattr(ndarray, f"__i{_op}__", _inplace(_ufunc))
for _op, _ufunc in {
    "eq": "equal",
    "ne": "not_equal",
    "lt": "less",
    "le": "less_equal",
    "gt": "greater",
    "ge": "greater_equal",
}.items():
    setattr(ndarray, f"__{_op}__", _binary(_ufunc))
ndarray.__neg__ = lambda self: UFUNCS["negative"](self)
ndarray.__pos__ = lambda self: UFUNCS["positive"](self)
ndarray.__abs__ = lambda self: UFUNCS["absolute"](self)
ndarray.__invert__ = lambda self: UFUNCS["invert"](self)
ndarray.__divmod__ = lambda self, other: UFUNCS["divmod"](self, other)
ndarray.__module__ = "cupy"


def _ufunc_operand(value, name):
    kind = type(value)
    if kind is ndarray:
        return value._a
    if isinstance(value, (bool, int, float, complex, np.generic)):
        return value
    raise unsupported(value)


def _out(out, name):
    if out is None:
        return None
    if isinstance(out, tuple):
        return tuple(_out(o, name) for o in out)
    if type(out) is not ndarray:
        raise TypeError(f"Output arguments of {name} must be cupy.ndarray, got {type(out)}")
    return out._a


class ufunc:  # noqa: N801  (CuPy's name)
    """An elementwise function: device arrays and scalars in, device arrays out."""

    def __init__(self, name, function, nin, nout):
        self.__name__ = name
        self.name = name
        self._f = function
        self.nin = nin
        self.nout = nout
        self.nargs = nin + nout

    def __repr__(self):
        return f"<ufunc '{self.__name__}'>"

    def __call__(self, *args, out=None, dtype=None, casting="same_kind"):
        if len(args) != self.nin:
            if len(args) == self.nin + self.nout and out is None:
                args, out = args[: self.nin], args[self.nin :]
                out = out[0] if len(out) == 1 else out
            else:
                raise TypeError(f"Wrong number of arguments for {self.__name__!r}")
        operands = [_ufunc_operand(a, self.__name__) for a in args]
        kwargs = {"casting": casting}
        if dtype is not None:
            kwargs["dtype"] = dtype
        target = _out(out, self.__name__)
        function = self._f
        if target is not None:
            kwargs["out"] = target
            writes = target if isinstance(target, tuple) else (target,)

            def compute():
                function(*operands, **kwargs)

            launch(compute, operands, writes)
            return out
        return wrap(launch(lambda: function(*operands, **kwargs), operands))

    def _array(self, value, what):
        if type(value) is not ndarray:
            raise unsupported(value)
        return value._a

    def at(self, a, indices, b=None):
        target = self._array(a, "a")
        key = _wrap_indices(indices, target.shape)[:-1] if indices is not None else ()
        key = key[0] if len(key) == 1 else key
        function = self._f
        if b is None:
            launch(lambda: function.at(target, key), [target], [target])
        else:
            b = _ufunc_operand(b, self.__name__)
            launch(lambda: function.at(target, key, b), [target, b], [target])

    def reduce(self, array, axis=0, dtype=None, out=None, keepdims=False):
        a = self._array(array, "array")
        function = self._f

        def compute():
            return function.reduce(a, axis=axis, dtype=dtype, keepdims=keepdims)

        if out is not None:
            target = out._a

            def compute_into():
                target[...] = compute()

            launch(compute_into, [a], [target])
            return out
        return wrap(launch(compute, [a]))

    def accumulate(self, array, axis=0, dtype=None, out=None):
        a = self._array(array, "array")
        return wrap(launch(lambda: self._f.accumulate(a, axis=axis, dtype=dtype), [a]))

    def outer(self, A, B, **kwargs):
        a, b = _ufunc_operand(A, "A"), _ufunc_operand(B, "B")
        return wrap(launch(lambda: self._f.outer(a, b), [a, b]))
