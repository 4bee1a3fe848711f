"""Seeded random generators for NumPy and CuPy, reset together by ``set_seed``."""

import random as _python_random

import numpy as np

from gpuk._array.device import cupy_module
from gpuk._array.graphs import GraphRandom, capturing, refuse_in_capture

_state = {"seed": None, "generators": {}, "graph": {}}


def set_seed(seed):
    """Seed Python's, NumPy's and (when present) CuPy's generators and gpuk's own."""
    _state["seed"] = int(seed)
    _state["generators"] = {}
    for stream in _state["graph"].values():  # captured graphs keep their stream: reseed it
        stream.reseed(_state["seed"])
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
    if capturing():
        return graph_generator(xp)
    key = xp.__name__
    if key not in _state["generators"]:
        seed = _state["seed"]
        if xp is np:
            _state["generators"][key] = np.random.default_rng(seed)
        else:
            _state["generators"][key] = xp.random.RandomState(seed)
    return _state["generators"][key]


def prepare_graph_random(xp):
    """Make ``xp``'s device random stream (outside a capture: it allocates and fills)."""
    if xp.__name__ not in _state["graph"]:
        seed = _state["seed"]
        if seed is None:  # unseeded run: not from gpuk's host generator, whose draws it'd shift
            seed = int.from_bytes(__import__("os").urandom(4), "little")
        _state["graph"][xp.__name__] = GraphRandom(xp, seed)


def graph_generator(xp):
    """The device random stream a captured step draws from (``generator`` while capturing)."""
    stream = _state["graph"].get(xp.__name__)
    if stream is None:
        refuse_in_capture("a random draw without a prepared device random stream")
    return stream


def fresh_seed():
    """A new integer seed drawn from gpuk's NumPy generator (for seedless initializers)."""
    return int(generator(np).integers(0, 2**31 - 1))
