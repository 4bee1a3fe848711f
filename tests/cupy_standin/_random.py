"""``cupy.random``: CuPy's own API (``RandomState`` with ``random_sample``, ``randint``,
``dtype=`` keywords; ``Generator`` from ``default_rng``), not NumPy's. Draws come from a NumPy
PCG64 stream seeded the same way, generated "on the device" (no upload counted)."""

import numpy as np

from tests.cupy_standin._core import ndarray, unsupported, wrap
from tests.cupy_standin._graph import launch


def _param(value):
    kind = type(value)
    if kind is ndarray:
        return value._a
    if kind is np.ndarray:
        raise unsupported(value)
    return value


def _float_dtype(dtype):
    dtype = np.dtype(dtype)
    if dtype.char not in "fd":
        raise TypeError(f"cupy.random only supports float32 and float64, got {dtype}")
    return dtype


def _size(size):
    if size is None:
        return None
    return tuple(int(s) for s in size) if isinstance(size, (tuple, list)) else int(size)


class RandomState:
    """CuPy's legacy generator (the methods gpuk may call, with CuPy's signatures)."""

    def __init__(self, seed=None, method=None):
        self.seed(seed)

    def seed(self, seed=None):
        self._rng = np.random.Generator(np.random.PCG64(None if seed is None else int(seed)))

    def _draw(self, values, dtype):
        # In a capture the numbers drawn now are replayed by every launch (cuRAND's offsets
        # are kernel arguments, baked in as well).
        return wrap(launch(lambda: np.array(values, dtype=dtype, copy=True)))

    def random_sample(self, size=None, dtype=float):
        return self._draw(self._rng.random(_size(size)), _float_dtype(dtype))

    def rand(self, *size, **kwargs):
        dtype = kwargs.pop("dtype", float)
        if kwargs:
            raise TypeError(f"rand() got unexpected keyword arguments {sorted(kwargs)}")
        return self.random_sample(size or None, dtype)

    def randn(self, *size, **kwargs):
        dtype = kwargs.pop("dtype", float)
        if kwargs:
            raise TypeError(f"randn() got unexpected keyword arguments {sorted(kwargs)}")
        return self.standard_normal(size or None, dtype)

    def uniform(self, low=0.0, high=1.0, size=None, dtype=float):
        values = self._rng.uniform(_param(low), _param(high), _size(size))
        return self._draw(values, _float_dtype(dtype))

    def normal(self, loc=0.0, scale=1.0, size=None, dtype=float):
        values = self._rng.normal(_param(loc), _param(scale), _size(size))
        return self._draw(values, _float_dtype(dtype))

    def standard_normal(self, size=None, dtype=float):
        return self._draw(self._rng.standard_normal(_size(size)), _float_dtype(dtype))

    def lognormal(self, mean=0.0, sigma=1.0, size=None, dtype=float):
        values = self._rng.lognormal(_param(mean), _param(sigma), _size(size))
        return self._draw(values, _float_dtype(dtype))

    def exponential(self, scale=1.0, size=None, dtype=float):
        return self._draw(self._rng.exponential(_param(scale), _size(size)), _float_dtype(dtype))

    def gumbel(self, loc=0.0, scale=1.0, size=None, dtype=float):
        values = self._rng.gumbel(_param(loc), _param(scale), _size(size))
        return self._draw(values, _float_dtype(dtype))

    def binomial(self, n, p, size=None, dtype=int):
        return self._draw(self._rng.binomial(_param(n), _param(p), _size(size)), dtype)

    def beta(self, a, b, size=None, dtype=float):
        values = self._rng.beta(_param(a), _param(b), _size(size))
        return self._draw(values, _float_dtype(dtype))

    def gamma(self, shape, scale=1.0, size=None, dtype=float):
        values = self._rng.gamma(_param(shape), _param(scale), _size(size))
        return self._draw(values, _float_dtype(dtype))

    def randint(self, low, high=None, size=None, dtype="l"):
        if high is None:
            low, high = 0, low
        return self._draw(self._rng.integers(low, high, _size(size)), dtype)

    def permutation(self, num):
        if isinstance(num, int):
            return self._draw(self._rng.permutation(num), np.int64)
        if type(num) is not ndarray:
            raise unsupported(num)
        return self._draw(self._rng.permutation(num._a), num.dtype)

    def shuffle(self, a):
        if type(a) is not ndarray:
            raise TypeError("The array must be cupy.ndarray")
        target, rng = a._a, self._rng
        launch(lambda: rng.shuffle(target), [target], [target])

    def choice(self, a, size=None, replace=True, p=None):
        if type(a) is np.ndarray or type(p) is np.ndarray:
            raise unsupported(a if type(a) is np.ndarray else p)
        values = self._rng.choice(_param(a), _size(size), replace=replace, p=_param(p))
        return self._draw(values, None)


class Generator:
    """``cupy.random.default_rng()``: CuPy's Generator (a subset of NumPy's methods)."""

    def __init__(self, bit_generator=None):
        seed = getattr(bit_generator, "seed", bit_generator)
        self._rng = np.random.Generator(np.random.PCG64(seed))

    def _draw(self, values, dtype):
        # In a capture the numbers drawn now are replayed by every launch (cuRAND's offsets
        # are kernel arguments, baked in as well).
        return wrap(launch(lambda: np.array(values, dtype=dtype, copy=True)))

    def random(self, size=None, dtype=np.float64, out=None):
        return self._draw(self._rng.random(_size(size)), _float_dtype(dtype))

    def standard_normal(self, size=None, dtype=np.float64, out=None):
        return self._draw(self._rng.standard_normal(_size(size)), _float_dtype(dtype))

    def uniform(self, low=0.0, high=1.0, size=None, dtype=np.float64):
        values = self._rng.uniform(_param(low), _param(high), _size(size))
        return self._draw(values, _float_dtype(dtype))

    def integers(self, low, high=None, size=None, dtype=np.int64, endpoint=False):
        return self._draw(self._rng.integers(low, high, _size(size), endpoint=endpoint), dtype)

    def binomial(self, n, p, size=None):
        return self._draw(self._rng.binomial(_param(n), _param(p), _size(size)), np.int64)


class XORWOW:
    def __init__(self, seed=None, *, size=-1):
        self.seed = seed


_global = {"state": None}


def get_random_state():
    if _global["state"] is None:
        _global["state"] = RandomState()
    return _global["state"]


def set_random_state(rs):
    _global["state"] = rs


def seed(seed=None):
    get_random_state().seed(seed)


def reset_states():
    _global["state"] = None


def default_rng(seed=None):
    return Generator(XORWOW(seed))


def _module_function(name):
    def call(*args, **kwargs):
        return getattr(get_random_state(), name)(*args, **kwargs)

    call.__name__ = name
    return call


def namespace():
    from tests.cupy_standin._functions import NAMES, checked

    values = {
        "RandomState": RandomState,
        "Generator": Generator,
        "XORWOW": XORWOW,
        "get_random_state": get_random_state,
        "set_random_state": set_random_state,
        "seed": seed,
        "reset_states": reset_states,
        "default_rng": default_rng,
        "random": _module_function("random_sample"),
        "random_sample": _module_function("random_sample"),
        "sample": _module_function("random_sample"),
        "ranf": _module_function("random_sample"),
    }
    for name in (
        "rand",
        "randn",
        "uniform",
        "normal",
        "standard_normal",
        "lognormal",
        "exponential",
        "gumbel",
        "binomial",
        "beta",
        "gamma",
        "randint",
        "permutation",
        "shuffle",
        "choice",
    ):
        values[name] = _module_function(name)
    names = NAMES["modules"]["cupy.random"]
    return {
        name: checked(name, value, names[name].get("params"))
        if names[name]["kind"] == "function"
        else value
        for name, value in values.items()
        if name in names
    }
