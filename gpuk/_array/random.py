"""Seeded random generators for NumPy and CuPy, reset together by ``set_seed``."""

import random as _python_random

import numpy as np

from gpuk._array.device import cupy_module
from gpuk._array.graphs import refuse_in_capture

_state = {"seed": None, "generators": {}}


def set_seed(seed):
    """Seed Python's, NumPy's and (when present) CuPy's generators and gpuk's own."""
    _state["seed"] = int(seed)
    _state["generators"] = {}
    _python_random.seed(seed)
    np.random.seed(seed)
    cupy = cupy_module()
    if cupy is not None:
        try:
            cupy.random.seed(seed)
        except Exception:  # no device: CuPy's generator cannot be seeded, and is not used
            pass


def generator(xp=np):
    """A generator for module ``xp`` with ``uniform``, ``normal`` and ``random`` methods."""
    refuse_in_capture("a random draw")
    key = xp.__name__
    if key not in _state["generators"]:
        seed = _state["seed"]
        if xp is np:
            _state["generators"][key] = np.random.default_rng(seed)
        else:
            _state["generators"][key] = xp.random.RandomState(seed)
    return _state["generators"][key]


def fresh_seed():
    """A new integer seed drawn from gpuk's NumPy generator (for seedless initializers)."""
    return int(generator(np).integers(0, 2**31 - 1))
