"""Whether operations are being recorded for differentiation right now (per thread)."""

import contextlib
import threading

_local = threading.local()


def _state():
    if not hasattr(_local, "tapes"):
        _local.tapes = 0
        _local.paused = 0
    return _local


def is_recording():
    """True inside an active GradientTape and outside ``no_grad``."""
    state = _state()
    return state.tapes > 0 and state.paused == 0


@contextlib.contextmanager
def tape_active():
    """Count one more active tape while the block runs."""
    state = _state()
    state.tapes += 1
    try:
        yield
    finally:
        state.tapes -= 1


@contextlib.contextmanager
def no_grad():
    """Run a block without recording anything for differentiation (as in ``predict``)."""
    state = _state()
    state.paused += 1
    try:
        yield
    finally:
        state.paused -= 1
