"""Stream capture and CUDA graphs, as CuPy 14 exposes them, on the stand-in.

``stream.begin_capture()`` ... ``stream.end_capture()`` returns a :class:`Graph`; every device
operation issued on the capturing stream in between is *recorded*, not run, and
``graph.launch()`` replays the recording in order, reading and writing the same device buffers.
What CUDA refuses during a capture, the stand-in refuses: a host sync (``get``, ``item``,
``float()``/``bool()``, ``asnumpy``, a boolean mask, ...) or a host-to-device copy raises
``CUDARuntimeError`` ``cudaErrorStreamCaptureUnsupported`` and invalidates the capture (its
``end_capture`` then raises ``cudaErrorStreamCaptureInvalidated``); work on the legacy null
stream while a stream captures raises ``cudaErrorStreamCaptureImplicit``.

How a capture is emulated: each operation runs on the NumPy data (so shapes and dtypes come
out right) and is recorded as a closure over the same NumPy buffers (:func:`launch`). Because a
real capture executes nothing, ``end_capture`` then restores every buffer that existed before
the capture and was written during it, and fills every buffer allocated during it with NaN
bytes: a caller that reads a captured result without launching the graph sees garbage, as on a
GPU. Host scalars passed to an operation are baked into the recording (kernel arguments); random
draws replay the numbers drawn at capture time (cuRAND's offsets are baked in the same way).

Memory: allocations during a capture are charged to the allocator in effect
(``cupy.cuda.using_allocator(pool.malloc)``); ``pool.free_all_blocks()`` on the pool of a live
graph marks its buffers freed, and a later ``launch`` raises ``cudaErrorIllegalAddress``
(a use after free that a GPU would show as corruption or a fault).
"""

import contextlib
import threading

import numpy as np

from tests.cupy_standin import _counters

_capture = _counters.CAPTURE  # [active _Capture or None], read by note()
_streams = threading.local()


# ----------------------------------------------------------------------------- errors
def _runtime_error(status, message):
    from tests.cupy_standin._cuda import CUDARuntimeError

    return CUDARuntimeError(status, message)


UNSUPPORTED = (
    900,
    "cudaErrorStreamCaptureUnsupported: operation not permitted when stream is capturing",
)
INVALIDATED = (
    901,
    "cudaErrorStreamCaptureInvalidated: operation failed due to a previous error during capture",
)
IMPLICIT = (
    906,
    "cudaErrorStreamCaptureImplicit: operation would make the legacy stream depend on a "
    "capturing blocking stream",
)
ILLEGAL_STATE = (
    401,
    "cudaErrorIllegalState: the operation cannot be performed in the present state",
)


# ----------------------------------------------------------------------------- streams
def current_stream():
    stack = getattr(_streams, "stack", None)
    if stack:
        return stack[-1]
    from tests.cupy_standin._cuda import Stream

    return getattr(_streams, "base", None) or Stream.null


def push_stream(stream):
    if not hasattr(_streams, "stack"):
        _streams.stack = []
    _streams.stack.append(stream)


def pop_stream():
    _streams.stack.pop()


def use_stream(stream):
    _streams.base = stream


# ----------------------------------------------------------------------------- memory
class MemoryPool:
    """``cupy.cuda.MemoryPool``: bytes charged by allocations made while it is the allocator
    in effect (the stand-in's arrays are NumPy's; only the bookkeeping is emulated)."""

    def __init__(self, allocator=None):
        self._used = 0
        self._generation = 0
        self._limit = 0

    def malloc(self, size):
        self._used += int(size)
        from tests.cupy_standin._core import MemoryPointer

        return MemoryPointer(0)

    def used_bytes(self):
        return self._used

    def total_bytes(self):
        return self._used

    def free_bytes(self):
        return 0

    def n_free_blocks(self):
        return 0

    def free_all_blocks(self, stream=None):
        """Release the pool's blocks: graphs captured into it may no longer be launched."""
        self._generation += 1
        self._used = 0

    def set_limit(self, size=None, fraction=None):
        self._limit = int(size or 0)

    def get_limit(self):
        return self._limit


DEFAULT_POOL = MemoryPool()
_allocator = {"global": DEFAULT_POOL.malloc}
_local = threading.local()


def get_allocator():
    return getattr(_local, "allocator", None) or _allocator["global"]


def set_allocator(allocator=None):
    _allocator["global"] = allocator or DEFAULT_POOL.malloc


@contextlib.contextmanager
def using_allocator(allocator=None):
    """``cupy.cuda.using_allocator``: a thread-local allocator inside the block."""
    previous = getattr(_local, "allocator", None)
    _local.allocator = allocator or (lambda size: None)
    try:
        yield
    finally:
        _local.allocator = previous


def _pool_of(allocator):
    owner = getattr(allocator, "__self__", None)
    return owner if isinstance(owner, MemoryPool) else None


# ----------------------------------------------------------------------------- capture
def _root(array):
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def _arrays(value):
    if isinstance(value, np.ndarray):
        yield value
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from _arrays(item)


class _Capture:
    def __init__(self, stream, allocator):
        self.stream = stream
        self.allocator = allocator
        self.pool = _pool_of(allocator)
        self.ops = []
        self.saved = {}  # id(root) -> (root, copy before the capture wrote it)
        self.created = {}  # id(root) -> root, for buffers allocated during the capture
        self.error = None

    def fail(self, status_message):
        error = _runtime_error(*status_message)
        if self.error is None:
            self.error = error
        raise error

    def allocated(self, array):
        root = _root(array)
        if id(root) not in self.created:
            self.created[id(root)] = root
            if self.pool is not None:
                self.pool._used += root.nbytes

    def before_write(self, array):
        root = _root(array)
        key = id(root)
        if key not in self.created and key not in self.saved:
            self.saved[key] = (root, root.copy())

    def finish(self):
        for root, before in self.saved.values():
            np.copyto(root, before)
        for root in self.created.values():
            root.reshape(-1).view(np.uint8).fill(0xFF)  # a capture computes nothing


def event(kind):
    """``note()`` during a capture: host transfers are refused, and every launch must come
    through :func:`launch` (an operation the stand-in cannot record must not pass silently)."""
    capture = _capture[0]
    if current_stream() is not capture.stream:
        if current_stream().ptr == 0:
            capture.fail(IMPLICIT)
        return
    if kind in ("syncs", "uploads"):
        capture.fail(UNSUPPORTED)
    if kind in ("launches", "kernel_launches"):
        capture.error = capture.error or NotImplementedError(
            "the CuPy stand-in cannot record this operation in a stream capture"
        )
        raise capture.error


def _normal(value):
    if isinstance(value, np.generic):
        return np.asarray(value)
    return value


def _store(target, value):
    if isinstance(target, tuple):
        for t, v in zip(target, value):
            _store(t, v)
    elif target is not None:
        np.copyto(target, value, casting="unsafe")


def launch(compute, inputs=(), writes=(), count=True, kernel=False):
    """Run one device operation: ``compute()`` returns the NumPy result (or None when it only
    writes ``writes`` in place). Outside a capture it runs (counted as a launch); inside one
    it is also recorded for :meth:`Graph.launch`."""
    capture = _capture[0]
    if capture is None or current_stream() is not capture.stream:
        if capture is not None and current_stream().ptr == 0:
            capture.fail(IMPLICIT)
        if count:
            _counters.bump("launches")
            if kernel:
                _counters.bump("kernel_launches")
        return _normal(compute())
    if capture.error is not None:
        raise capture.error
    for array in writes:
        capture.before_write(array)
    result = _normal(compute())
    fresh = [
        r
        for r in _arrays(result)
        if not any(np.may_share_memory(r, i) for i in _arrays(list(inputs)))
    ]
    for array in fresh:
        capture.allocated(array)
    if result is None:
        capture.ops.append(compute)
    elif fresh:
        target = tuple(result) if isinstance(result, (tuple, list)) else result
        capture.ops.append(lambda: _store(target, compute()))
    return result


def allocated(array):
    """A buffer allocated outside :func:`launch` (``empty``): charged to a capture in progress."""
    capture = _capture[0]
    if capture is not None and current_stream() is capture.stream:
        capture.allocated(array)


def begin_capture(stream, mode=None):
    if stream.ptr == 0:
        raise _runtime_error(*UNSUPPORTED)
    if _capture[0] is not None:
        raise _runtime_error(*ILLEGAL_STATE)
    _capture[0] = _Capture(stream, get_allocator())


def end_capture(stream):
    capture = _capture[0]
    if capture is None or capture.stream is not stream:
        raise _runtime_error(*ILLEGAL_STATE)
    _capture[0] = None
    capture.finish()
    if capture.error is not None:
        raise _runtime_error(*INVALIDATED)
    return Graph(capture)


def is_capturing(stream):
    capture = _capture[0]
    return capture is not None and capture.stream is stream


def refuse_sync_while_capturing(stream=None):
    """``synchronize()`` of a capturing stream (or of the device) during a capture."""
    capture = _capture[0]
    if capture is not None and (stream is None or stream is capture.stream):
        capture.fail(UNSUPPORTED)


class Graph:
    """``cupy.cuda.Graph``: made by ``Stream.end_capture()``; ``launch`` replays the capture."""

    def __init__(self, capture=None):
        if capture is None:
            raise RuntimeError("cupy.cuda.Graph is created by Stream.end_capture() only")
        self._ops = tuple(capture.ops)
        self._pool = capture.pool
        self._generation = None if self._pool is None else self._pool._generation
        self.graph = id(self)
        self.graphExec = id(self)  # noqa: N815 (CuPy's name)
        self.host_funcargs = []

    def launch(self, stream=None):
        """Replay the recorded operations in order: one graph launch."""
        if _capture[0] is not None:
            raise NotImplementedError("the CuPy stand-in does not launch graphs inside a capture")
        if self._pool is not None and self._pool._generation != self._generation:
            raise _runtime_error(
                700,
                "cudaErrorIllegalAddress: an illegal memory access was encountered (the graph's "
                "buffers were released by free_all_blocks() on the pool it was captured into)",
            )
        _counters.bump("launches")
        _counters.bump("graph_launches")
        for op in self._ops:
            op()

    def upload(self, stream=None):
        pass

    def debug_dot_str(self, flags=0):
        return f"digraph G {{ /* {len(self._ops)} captured operations */ }}"
