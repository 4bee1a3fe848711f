"""What the stand-in counts: host syncs, host-to-device copies, launches and graph launches.

Counting is one integer increment per event. Call sites (``file:line`` of the first frame
outside the stand-in) are recorded only while a :func:`counting` block asks for them, because
walking the stack on every event would slow the whole suite down.
"""

import collections
import contextlib
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
KINDS = ("syncs", "uploads", "launches", "kernel_launches", "graph_launches")
#: the stream capture in progress (``_graph``), checked by every :func:`note`
CAPTURE = [None]


class Counts:
    """Totals since the last :meth:`reset`; ``sites[kind]`` is a Counter of call sites."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.syncs = 0
        self.uploads = 0
        self.launches = 0
        self.kernel_launches = 0
        self.graph_launches = 0
        self.sites = {kind: collections.Counter() for kind in KINDS}

    def snapshot(self):
        return {kind: getattr(self, kind) for kind in KINDS}

    def __repr__(self):
        return f"Counts({', '.join(f'{k}={getattr(self, k)}' for k in KINDS)})"


TOTAL = Counts()
_active = []  # Counts objects of open counting() blocks
_trace = {"sites": 0}


_ROOT = os.path.dirname(os.path.dirname(_HERE))


def _site(depth=5):
    """The innermost ``depth`` frames outside the stand-in, ``a.py:1 (f) < b.py:9 (g)``."""
    frame = sys._getframe(2)
    while frame is not None and frame.f_code.co_filename.startswith(_HERE):
        frame = frame.f_back
    parts = []
    while frame is not None and len(parts) < depth:
        path = frame.f_code.co_filename
        if path.startswith(_ROOT):
            path = os.path.relpath(path, _ROOT)
        parts.append(f"{path}:{frame.f_lineno} ({frame.f_code.co_name})")
        frame = frame.f_back
    return " < ".join(parts) or "?"


def note(kind):
    """Count one event of ``kind`` (one of :data:`KINDS`); during a stream capture, host
    transfers raise as CUDA does (``_graph.event``)."""
    if CAPTURE[0] is not None:
        from tests.cupy_standin._graph import event

        event(kind)
    bump(kind)


def bump(kind):
    """Count one event without the capture check (launches recorded by ``_graph.launch``)."""
    setattr(TOTAL, kind, getattr(TOTAL, kind) + 1)
    if _active:
        site = _site() if _trace["sites"] else None
        for counts in _active:
            setattr(counts, kind, getattr(counts, kind) + 1)
            if site is not None:
                counts.sites[kind][site] += 1


@contextlib.contextmanager
def counting(sites=False):
    """Count the events inside the block; yields a :class:`Counts`.

    Args:
        sites: also record the call site of every event (slower; for budget failures).
    """
    counts = Counts()
    _active.append(counts)
    _trace["sites"] += bool(sites)
    try:
        yield counts
    finally:
        _trace["sites"] -= bool(sites)
        _active.remove(counts)
