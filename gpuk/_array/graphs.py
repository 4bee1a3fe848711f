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
