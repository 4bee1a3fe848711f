"""CUDA graphs through CuPy's stream capture: record a function's device work once, replay it.

:func:`capture` runs a function with a side stream capturing (``Stream.begin_capture``), every
allocation served by a private ``cupy.cuda.MemoryPool`` kept alive with the graph (so no buffer
the graph writes is handed to anyone else), and returns a :class:`CapturedGraph` whose
:meth:`~CapturedGraph.launch` replays the recorded kernels on the same buffers. A capture
executes nothing: the buffers hold their results only after a launch.

What cannot be captured raises :class:`CaptureUnsupported` (a host sync or a host-to-device
copy inside the function makes CuPy raise, which :func:`capture` reports the same way; random
draws refuse themselves through :func:`refuse_in_capture`, because a graph would replay the
same numbers every step). Callers fall back to running the function eagerly.
"""

import contextlib

import numpy as np

from gpuk._array.device import cupy_module

_state = {"capturing": 0}


class CaptureUnsupported(RuntimeError):
    """The function cannot be recorded as a CUDA graph (the message says why)."""


def capturing():
    """True while :func:`capture` records a function."""
    return _state["capturing"] > 0


def refuse_in_capture(what):
    """Raise :class:`CaptureUnsupported` during a capture: ``what`` would bake values chosen
    on the host at capture time into every replay (random draws)."""
    if _state["capturing"]:
        raise CaptureUnsupported(
            f"{what} inside the captured step: a CUDA graph would replay the numbers drawn at "
            "capture time on every step"
        )


def unavailable_reason(xp):
    """None when ``xp`` can capture CUDA graphs, else a sentence saying why not."""
    cupy = cupy_module()
    if cupy is None or xp is not cupy:
        return "the arrays are not on a CUDA device"
    stream_type = getattr(getattr(cupy, "cuda", None), "Stream", None)
    if stream_type is None or not hasattr(stream_type, "begin_capture"):
        return f"this CuPy ({getattr(cupy, '__version__', '?')}) has no stream capture"
    if getattr(cupy.cuda.runtime, "is_hip", False):
        return "CuPy on ROCm/HIP does not support stream capture"
    if not hasattr(cupy.cuda, "MemoryPool") or not hasattr(cupy.cuda, "using_allocator"):
        return "this CuPy has no MemoryPool/using_allocator"
    return None


class CapturedGraph:
    """A captured CUDA graph with the stream and the private memory pool it was recorded in."""

    def __init__(self, graph, stream, pool):
        self.graph = graph
        self.stream = stream
        self.pool = pool

    def launch(self):
        """Replay the graph on the current stream (one graph launch), so it is ordered with
        the input copies before it and the reads after it whatever the default stream mode."""
        self.graph.launch()


def capture(function):
    """Record ``function()``'s device work as a CUDA graph; returns ``(CapturedGraph,
    result)``. The function's results hold values only after the graph is launched.

    Raises:
        CaptureUnsupported: the function synced with the host, uploaded host data, drew random
            numbers, or CUDA refused an operation; the message names the cause.
    """
    cupy = cupy_module()
    try:
        # blocking: a stray operation on the legacy stream during the capture is an error
        # (cudaErrorStreamCaptureImplicit) instead of running outside the graph
        stream = cupy.cuda.Stream(non_blocking=False)
        pool = cupy.cuda.MemoryPool()
    except Exception as error:
        raise CaptureUnsupported(_describe(error)) from error
    _state["capturing"] += 1
    try:
        with cupy.cuda.using_allocator(pool.malloc), stream:
            stream.begin_capture()
            try:
                result = function()
            except BaseException as error:
                with contextlib.suppress(Exception):  # the capture is invalid: close it
                    stream.end_capture()
                if isinstance(error, CaptureUnsupported):
                    raise
                raise CaptureUnsupported(_describe(error)) from error
            try:
                graph = stream.end_capture()
            except Exception as error:
                raise CaptureUnsupported(_describe(error)) from error
    finally:
        _state["capturing"] -= 1
    return CapturedGraph(graph, stream, pool), result


def _describe(error):
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    if "StreamCapture" in text or "capturing" in text:
        return (
            f"CUDA refused an operation of the step during stream capture ({text}); the step "
            "syncs with the host or copies host data to the device"
        )
    if "Implicit conversion to a NumPy array" in text:
        return (
            "the step converts a device array to a host value (a NumPy scalar or array of a "
            "device value)"
        )
    return f"{type(error).__name__}: {text}".rstrip(".")


_SPLITMIX = (0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB)


def _splitmix64(z):
    """SplitMix64's finaliser on uint64 arrays (wrapping arithmetic, NumPy or CuPy)."""
    z = z + np.uint64(_SPLITMIX[0])
    z = (z ^ (z >> np.uint64(30))) * np.uint64(_SPLITMIX[1])
    z = (z ^ (z >> np.uint64(27))) * np.uint64(_SPLITMIX[2])
    return z ^ (z >> np.uint64(31))


class GraphRandom:
    """The unseeded generator (``gpuk._array.generator``) inside a captured step.

    CuPy's generators take their offsets as kernel arguments, which a graph would replay
    unchanged. This stream is counter-based instead: a draw of ``n`` numbers hashes
    ``(counter << 32 | i) ^ key`` for ``i < n`` with SplitMix64 on the device and increments the
    device ``counter`` inside the graph, so every replay draws new numbers. The numbers differ
    from the eager generator's (CuPy's); the distributions are the same. ``uniform``,
    ``random_sample``, ``normal`` and ``standard_normal`` (float64, like CuPy's defaults).
    """

    def __init__(self, xp, seed):
        self.xp = xp
        self.key = xp.zeros((), dtype=np.uint64)
        self.counter = xp.zeros((), dtype=np.uint64)
        self.reseed(seed)

    def reseed(self, seed):
        """Restart the stream from ``seed`` (a fill of two device scalars, no upload)."""
        key = _splitmix64(np.asarray([int(seed) & (2**64 - 1)], dtype=np.uint64))[0]
        self.key.fill(key)
        self.counter.fill(np.uint64(0))

    def _unit(self, size):
        """``size`` float64 numbers in [0, 1), 53 random bits each."""
        xp = self.xp
        z = xp.arange(size, dtype=np.uint64) | (self.counter << np.uint64(32))
        z = _splitmix64(z ^ self.key)
        self.counter += np.uint64(1)
        return (z >> np.uint64(11)).astype(np.float64) * (1.0 / 2.0**53)

    @staticmethod
    def _shape(size):
        if size is None:
            return ()
        return (int(size),) if np.ndim(size) == 0 else tuple(int(s) for s in size)

    def random_sample(self, size=None, dtype=np.float64):
        shape = self._shape(size)
        return self._unit(int(np.prod(shape))).reshape(shape).astype(dtype, copy=False)

    def uniform(self, low=0.0, high=1.0, size=None, dtype=np.float64):
        return (low + (high - low) * self.random_sample(size)).astype(dtype, copy=False)

    def standard_normal(self, size=None, dtype=np.float64):
        shape = self._shape(size)
        n = int(np.prod(shape))
        u1, u2 = self._unit(n), self._unit(n)
        radius = self.xp.sqrt(-2.0 * self.xp.log(1.0 - u1))  # 1 - u1 in (0, 1]
        z = radius * self.xp.cos((2.0 * np.pi) * u2)
        return z.reshape(shape).astype(dtype, copy=False)

    def normal(self, loc=0.0, scale=1.0, size=None, dtype=np.float64):
        return (loc + scale * self.standard_normal(size)).astype(dtype, copy=False)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        raise CaptureUnsupported(
            f"random {name!r} draws inside the captured step (the device random stream has "
            "uniform/random_sample/normal/standard_normal)"
        )
