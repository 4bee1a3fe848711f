"""CPU BLAS threading for loops of small matrix products.

A recurrent layer's time loop runs thousands of (batch x units) products. Multi-threaded
OpenBLAS spends longer waking and parking its threads than computing such a product, and
degrades badly when another process shares the cores (measured: a GRU backward of 96 units
over 100 steps took 20-200 ms with 2 threads, 16-20 ms with one). The big products outside
the loops keep every thread.
"""

import contextlib

import numpy as np

try:
    from threadpoolctl import ThreadpoolController
except ImportError:  # optional at run time: without it BLAS keeps its default threads
    ThreadpoolController = None

_controller = {}


@contextlib.contextmanager
def serial_blas(xp=np):
    """Run the block with single-threaded BLAS when ``xp`` is NumPy (no-op on the GPU)."""
    if xp is not np or ThreadpoolController is None:
        yield
        return
    if "blas" not in _controller:  # scanning the loaded libraries costs ~0.3 ms: do it once
        _controller["blas"] = ThreadpoolController()
    with _controller["blas"].limit(limits=1, user_api="blas"):
        yield
