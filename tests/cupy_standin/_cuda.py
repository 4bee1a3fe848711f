"""``cupy.cuda``: one emulated H200 (compute capability 9.0, 132 SMs, 227 KiB opt-in shared
memory per block), its runtime, streams with stream capture (``_graph``), memory pools, and the
exception types gpuk catches."""

import itertools
import time
import types

from tests.cupy_standin import _graph
from tests.cupy_standin._core import MemoryPointer

_stream_ids = itertools.count(1)

COMPUTE_CAPABILITY = "90"
MAX_THREADS_PER_BLOCK = 1024
DEFAULT_SHARED_BYTES = 48 * 1024
OPTIN_SHARED_BYTES = 227 * 1024
ATTRIBUTES = {
    "MaxThreadsPerBlock": MAX_THREADS_PER_BLOCK,
    "MaxBlockDimX": 1024,
    "MaxBlockDimY": 1024,
    "MaxBlockDimZ": 64,
    "MaxGridDimX": 2**31 - 1,
    "MaxGridDimY": 65535,
    "MaxGridDimZ": 65535,
    "MaxSharedMemoryPerBlock": DEFAULT_SHARED_BYTES,
    "MaxSharedMemoryPerBlockOptin": OPTIN_SHARED_BYTES,
    "MultiProcessorCount": 132,
    "WarpSize": 32,
    "ComputeCapabilityMajor": 9,
    "ComputeCapabilityMinor": 0,
}


class CUDARuntimeError(RuntimeError):
    def __init__(self, status=1, message="cudaErrorInvalidValue: invalid argument"):
        self.status = status
        super().__init__(message)


class CUDADriverError(RuntimeError):
    def __init__(self, status=1, message="CUDA_ERROR_INVALID_VALUE: invalid argument"):
        self.status = status
        super().__init__(message)


class OutOfMemoryError(MemoryError):
    pass


class CompileException(Exception):
    def __init__(self, msg, source="", name="", options=(), backend="nvrtc"):
        self._msg = msg
        self.source = source
        self.name = name
        self.options = options
        self.backend = backend
        super().__init__(msg)

    def get_message(self):
        return self._msg


class Device:
    """The one device (id 0)."""

    def __init__(self, device=None):
        device = 0 if device is None else int(device)
        if device != 0:
            raise CUDARuntimeError(101, "cudaErrorInvalidDevice: invalid device ordinal")
        self.id = device

    compute_capability = COMPUTE_CAPABILITY

    @property
    def attributes(self):
        return dict(ATTRIBUTES)

    def use(self):
        pass

    def synchronize(self):
        _graph.refuse_sync_while_capturing()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __eq__(self, other):
        return isinstance(other, Device) and other.id == self.id

    def __hash__(self):
        return hash(self.id)

    def __repr__(self):
        return f"<CUDA Device {self.id}>"


class Stream:
    """A stream: ``with stream:`` makes it current; ``begin_capture``/``end_capture`` record
    the work issued on it into a ``Graph`` (see ``_graph``)."""

    null = None

    def __init__(self, null=False, non_blocking=False, ptds=False):
        self.ptr = 0 if null else next(_stream_ids)
        self.is_non_blocking = bool(non_blocking)
        self.ptds = bool(ptds)
        self.priority = 0

    def synchronize(self):
        _graph.refuse_sync_while_capturing(self)

    def use(self):
        _graph.use_stream(self)
        return self

    def begin_capture(self, mode=None):
        _graph.begin_capture(self, mode)

    def end_capture(self):
        return _graph.end_capture(self)

    def is_capturing(self):
        return _graph.is_capturing(self)

    @property
    def done(self):
        return not _graph.is_capturing(self)

    def __enter__(self):
        _graph.push_stream(self)
        return self

    def __exit__(self, *exc):
        _graph.pop_stream()
        return False

    def __repr__(self):
        return f"<Stream {self.ptr} (device 0)>"


Stream.null = Stream(null=True)


class Event:
    def __init__(self, block=False, disable_timing=False, interprocess=False):
        self._time = None

    def record(self, stream=None):
        self._time = time.perf_counter()

    def synchronize(self):
        pass


def get_elapsed_time(start_event, end_event):
    return (end_event._time - start_event._time) * 1e3


def _runtime():
    module = types.ModuleType("cupy.cuda.runtime")
    module.CUDARuntimeError = CUDARuntimeError
    module.getDeviceCount = lambda: 1
    module.getDevice = lambda: 0
    module.setDevice = lambda device: Device(device) and None
    module.deviceSynchronize = _graph.refuse_sync_while_capturing
    module.streamCaptureModeGlobal = 0
    module.streamCaptureModeThreadLocal = 1
    module.streamCaptureModeRelaxed = 2
    module.streamCaptureStatusNone = 0
    module.streamCaptureStatusActive = 1
    module.streamCaptureStatusInvalidated = 2
    module.runtimeGetVersion = lambda: 12090
    module.driverGetVersion = lambda: 12090
    module.memGetInfo = lambda: (140 * 2**30, 141 * 2**30)
    module.is_hip = False
    return module


def _driver():
    module = types.ModuleType("cupy.cuda.driver")
    module.CUDADriverError = CUDADriverError
    module.get_build_version = lambda: 12090
    return module


def _compiler():
    module = types.ModuleType("cupy.cuda.compiler")
    module.CompileException = CompileException
    return module


def _memory():
    module = types.ModuleType("cupy.cuda.memory")
    module.OutOfMemoryError = OutOfMemoryError
    module.MemoryPointer = MemoryPointer
    module.MemoryPool = _graph.MemoryPool
    module.get_allocator = _graph.get_allocator
    module.set_allocator = _graph.set_allocator
    return module


def _graph_module():
    module = types.ModuleType("cupy.cuda.graph")
    module.Graph = _graph.Graph
    return module


def modules():
    """``{dotted name: module}`` for ``cupy.cuda`` and its submodules."""
    from tests.cupy_standin._functions import NAMES

    subs = {
        "runtime": _runtime(),
        "driver": _driver(),
        "compiler": _compiler(),
        "memory": _memory(),
    }
    cuda = types.ModuleType("cupy.cuda")
    values = dict(subs)
    values.update(
        Device=Device,
        Stream=Stream,
        Event=Event,
        MemoryPointer=MemoryPointer,
        get_elapsed_time=get_elapsed_time,
        get_device_id=lambda: 0,
        is_available=lambda: True,
        get_current_stream=lambda device_id=None: _graph.current_stream(),
        Graph=_graph.Graph,
        MemoryPool=_graph.MemoryPool,
        using_allocator=_graph.using_allocator,
        get_allocator=_graph.get_allocator,
        set_allocator=_graph.set_allocator,
        graph=_graph_module(),
        get_local_runtime_version=lambda: 12090,
    )
    for name, value in values.items():
        if name in NAMES["modules"]["cupy.cuda"]:
            setattr(cuda, name, value)
    for name, module in subs.items():
        allowed = NAMES["modules"][f"cupy.cuda.{name}"]
        for attribute in [a for a in vars(module) if not a.startswith("_")]:
            if attribute not in allowed:
                delattr(module, attribute)
    out = {"cupy.cuda": cuda}
    out.update({f"cupy.cuda.{name}": module for name, module in subs.items()})
    return out
