"""CPU BLAS threading chosen per product size.

Multi-threaded OpenBLAS spends longer waking and parking its threads than computing a small
product, and degrades badly when another process shares the cores: measured on the 2-core
machine under load, the five small products of an MLP's backward took a median of 35 us either
way but a mean of 5.7 ms with 2 threads against 0.2 ms with one (tail waits on descheduled
threads); a GRU backward of 96 units over 100 steps took 20-200 ms with 2 threads, 16-20 ms
with one. So products below :data:`SMALL_PRODUCT` multiply-adds run single-threaded
(:func:`threads_for_product`), larger ones with every thread, and recurrent time loops run
one thread for their whole loop (:func:`serial_blas`).

The GRU's loops (:func:`loop_blocks`) choose between one thread and all of them by timing
instead: 100 products of a GRU(128) step (64x128x384) took 11-15 ms on one thread and 50-400
ms on two on the loaded 2-core machine, while on free cores a second thread is what makes
PyTorch's GRU ~1.5x faster than its one-thread run, so no fixed choice is right on a shared
machine. Each loop shape keeps the per-step time of both choices, runs threads only when
clearly faster, and now and then measures the other choice over a few steps of a call (more
rarely while it keeps losing, and stopping early when it is far slower). The large products
next to such a loop (its input projection, its weight gradients: 1-9 ms each on one core)
are timed the same way, each on its own (:func:`timed_threads`): on free cores two threads
halve them even where the loop gains little from a second thread.

A thread count above one has a cost outside the product: OpenBLAS's worker threads spin for
~100 ms after each multi-threaded call (measured: 100 ms of CPU during a 300 ms sleep after
one 2-thread product, whatever the count is set to afterwards), which slows whatever else
runs on the other core then. ``bench/bench_overhead.py`` lets them settle between frameworks.

The thread count is switched only when it changes (one C call through threadpoolctl's handle
to the library, ~1 us), never per product.
"""

import contextlib
import time

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


# ----------------------------------------------------------------------------- time loops


class _LoopChoice:
    """Per-step seconds of one loop shape with one thread and with all, and when to re-probe."""

    __slots__ = ("seconds", "calls", "interval", "next_probe")

    def __init__(self):
        self.seconds = {}
        self.calls = 0
        self.interval = _PROBE_INTERVAL[0]
        self.next_probe = 0

    def best(self, options):
        """One thread unless more were measured clearly faster (:data:`_THREADS_WIN`): a wrong
        switch to threads costs far more under load than a missed one on free cores."""
        one, more = options
        if one not in self.seconds or more not in self.seconds:
            return one
        return more if self.seconds[more] < _THREADS_WIN * self.seconds[one] else one

    def probe(self, options, best):
        """The option to measure this call (None: none)."""
        for option in options:
            if option not in self.seconds:
                return option
        if self.calls >= self.next_probe:
            return next(o for o in options if o != best)
        return None

    def record(self, option, seconds, probed):
        """A probe replaces its choice's time (it may be stale); a whole call averages in."""
        old = self.seconds.get(option)
        self.seconds[option] = seconds if old is None or probed else 0.5 * (old + seconds)
        if probed:
            won = self.best(_options()) == option
            low, high = _PROBE_INTERVAL
            self.interval = low if won else min(2 * self.interval, high)
            self.next_probe = self.calls + self.interval


#: Calls between probes of the slower choice: from the first, doubled each time it loses.
_PROBE_INTERVAL = (4, 64)
#: Per-step products smaller than this run their loop on one thread without timing (a
#: 32x96x288 product, 0.9M multiply-adds, gains nothing measurable from a second thread).
LOOP_PRODUCT = 1 << 21
#: Threads are chosen when their per-step time is under this fraction of one thread's.
_THREADS_WIN = 0.9
#: Steps a probe times at most.
_PROBE_STEPS = 12
#: A probe stops once its steps take this many times the best choice's.
_PROBE_GIVE_UP = 3.0
_LOOPS = {}


def _options():
    return (1, _state["max"])


def loop_blocks(key, steps, multiply_adds, xp=np):
    """Iterate a time loop's ``steps`` (a range) in blocks, each with a BLAS thread count.

    ``key`` names the loop's shape, ``multiply_adds`` the size of its per-step product; a loop
    body written as ``for block in loop_blocks(key, range(T), n): for t in block: ...`` runs
    with the faster of one and all BLAS threads for that shape as measured so far (see the
    module docstring). Single-threaded for products under :data:`LOOP_PRODUCT` and inside
    :func:`serial_blas`; one block, no timing, on the GPU.
    """
    if (
        xp is not np
        or multiply_adds < LOOP_PRODUCT
        or not _libs()
        or _state["max"] <= 1
        or _state["serial"]
    ):
        with serial_blas(xp):
            yield steps
        return
    choice = _LOOPS.setdefault(key, _LoopChoice())
    options = _options()
    best = choice.best(options)
    probe = choice.probe(options, best) if len(steps) >= 8 else None
    previous = _state["current"]
    _state["serial"] += 1
    try:
        start = 0
        if probe is not None:
            # one step first (its inputs are fresh in cache for either choice), then one
            # untimed step with the probed count (waking parked threads is not a step's
            # cost), then the probe itself
            _set_threads(best)
            yield steps[:1]
            _set_threads(probe)
            yield steps[1:2]
            count = min(_PROBE_STEPS, max(2, len(steps) // 8))
            limit = _PROBE_GIVE_UP * choice.seconds.get(best, float("inf"))
            began = time.perf_counter()
            done = 0
            # step by step, so that a choice far slower than the best costs only a few steps
            while done < count:
                yield steps[2 + done : 3 + done]
                done += 1
                if done >= 2 and time.perf_counter() - began > limit * done:
                    break
            choice.record(probe, (time.perf_counter() - began) / done, probed=True)
            start = 2 + done
            best = choice.best(options)
        _set_threads(best)
        began = time.perf_counter()
        yield steps[start:]
        if len(steps) > start:
            choice.record(best, (time.perf_counter() - began) / (len(steps) - start), False)
        choice.calls += 1
    finally:
        _state["serial"] -= 1
        _set_threads(previous)


#: The timed thread choice of each large product next to a time loop, by key.
_PRODUCTS = {}


@contextlib.contextmanager
def timed_threads(key, multiply_adds, xp=np):
    """Run the block (one large product next to a time loop: its input projection, its weight
    gradients) with one BLAS thread or all of them, whichever has measured faster for ``key``.

    Products under :data:`SMALL_PRODUCT` multiply-adds run on one thread untimed; each choice
    is re-measured now and then as :func:`loop_blocks` does, so the choice follows the load.
    No-op on the GPU and inside :func:`serial_blas`.
    """
    if xp is not np or _state["serial"] or not _libs():
        yield
        return
    if multiply_adds < SMALL_PRODUCT or _state["max"] <= 1:
        _set_threads(1)
        yield
        return
    choice = _PRODUCTS.get(key)
    if choice is None:
        choice = _PRODUCTS[key] = _LoopChoice()
    options = _options()
    best = choice.best(options)
    probe = choice.probe(options, best)
    used = best if probe is None else probe
    _set_threads(used)
    began = time.perf_counter()
    yield
    choice.record(used, time.perf_counter() - began, probed=probe is not None)
    choice.calls += 1
