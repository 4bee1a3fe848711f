"""Whether operations are being recorded for differentiation right now (per thread)."""

import contextlib
import threading


class _Local(threading.local):
    tapes = 0
    paused = 0


_local = _Local()


def _state():
    return _local


def is_recording():
    """True inside an active GradientTape and outside ``no_grad``."""
    return _local.tapes > 0 and _local.paused == 0


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
