"""CPU BLAS threading chosen per product size.

Multi-threaded OpenBLAS spends longer waking and parking its threads than computing a small
product, and degrades badly when another process shares the cores: measured on the 2-core
machine under load, the five small products of an MLP's backward took a median of 35 us either
way but a mean of 5.7 ms with 2 threads against 0.2 ms with one (tail waits on descheduled
threads); a GRU backward of 96 units over 100 steps took 20-200 ms with 2 threads, 16-20 ms
with one. So products below :data:`SMALL_PRODUCT` multiply-adds run single-threaded
(:func:`threads_for_product`), larger ones with every thread, and recurrent time loops force
one thread for their whole loop (:func:`serial_blas`).

The thread count is switched only when it changes (one C call through threadpoolctl's handle
to the library, ~1 us), never per product.
"""

import contextlib

import numpy as np

try:
    from threadpoolctl import ThreadpoolController
except ImportError:  # optional at run time: without it BLAS keeps its default threads
    ThreadpoolController = None

#: Products with fewer multiply-adds than this (m * n * k) run on one BLAS thread (~1 ms of
#: single-core work; larger products gain from more threads when the cores are free).
SMALL_PRODUCT = 1 << 22

_state = {"libs": None, "max": None, "current": None, "serial": 0}


def _libs():
    """NumPy's BLAS library controllers (scanned once: the scan costs ~0.3 ms)."""
    if _state["libs"] is None:
        libs = []
        if ThreadpoolController is not None:
            try:
                libs = list(ThreadpoolController().select(user_api="blas").lib_controllers)
                # NumPy's own BLAS; other libraries (PyTorch's ...) are not ours to drive.
                libs = [lib for lib in libs if "numpy" in lib.filepath] or libs
            except Exception:  # an unusual BLAS threadpoolctl cannot drive: leave it alone
                libs = []
        _state["libs"] = libs
        _state["max"] = max([lib.num_threads for lib in libs] or [1])
        _state["current"] = _state["max"]
    return _state["libs"]


def _set_threads(count):
    if count != _state["current"]:
        for lib in _state["libs"]:
            lib.set_num_threads(count)
        _state["current"] = count


def threads_for_product(multiply_adds, xp=np):
    """Give the next BLAS products one thread if they take fewer than :data:`SMALL_PRODUCT`
    ``multiply_adds`` each, else all threads (NumPy only; no-op on the GPU and inside
    :func:`serial_blas`)."""
    if xp is not np or _state["serial"] or not _libs():
        return
    _set_threads(1 if multiply_adds < SMALL_PRODUCT else _state["max"])


@contextlib.contextmanager
def serial_blas(xp=np):
    """Run the block with single-threaded BLAS when ``xp`` is NumPy (no-op on the GPU)."""
    if xp is not np or not _libs():
        yield
        return
    previous = _state["current"]
    _state["serial"] += 1
    _set_threads(1)
    try:
        yield
    finally:
        _state["serial"] -= 1
        if not _state["serial"]:
            _set_threads(previous)
