"""``cupy.RawModule`` / ``cupy.RawKernel``: compiled by NVRTC as CuPy compiles them, run on
``tests/cuda_emulator`` with CuPy's argument marshalling and the launch limits of an H200.

Compile: the source and options given, plus what CuPy 14 appends for NVRTC
(:data:`CUPY_OPTIONS`: ``-ftz=true``, ``-arch=sm_90`` for the current device,
``--device-as-default-execution-space``); a failure raises ``CompileException`` with NVRTC's
log. Launch, ``kernel(grid, block, args, shared_mem=0)``:

* arguments are marshalled as CuPy does: a device ``ndarray`` becomes a pointer, a Python
  ``int`` an 8-byte signed integer, a ``float`` a double, a ``bool`` a bool, a NumPy scalar
  keeps its dtype; a ``numpy.ndarray`` is refused (``Unsupported type``);
* each argument is checked against the kernel's parameter list, read from the mangled name
  NVRTC lowered (``c++filt``): a pointer needs a device array of the pointed-to type (a
  pointer to pointers a uint64 table), a scalar needs exactly the C type (CuPy would pass the
  bytes silently; the stand-in raises, naming kernel, position, expected and received);
* at most 1024 threads per block (x, y <= 1024, z <= 64), a non-empty grid, and dynamic
  shared memory <= 48 KiB unless ``max_dynamic_shared_size_bytes`` was raised first (at most
  227 KiB): otherwise ``CUDADriverError`` as the driver reports it;
* the emulator fills dynamic shared memory with NaN before every block.
"""

import functools
import re
import subprocess

import numpy as np

from tests import cuda_emulator
from tests.cupy_standin._core import ndarray, unsupported
from tests.cupy_standin._cuda import (
    COMPUTE_CAPABILITY,
    DEFAULT_SHARED_BYTES,
    OPTIN_SHARED_BYTES,
    CompileException,
    CUDADriverError,
)
from tests.cupy_standin._graph import launch

#: What CuPy 14's ``_compile_with_cache_cuda`` / ``compile_using_nvrtc`` append to the options.
CUPY_OPTIONS = (
    "-ftz=true",
    f"-arch=sm_{COMPUTE_CAPABILITY}",
    "--device-as-default-execution-space",
)

_SCALARS = {
    "bool": np.dtype(np.bool_),
    "char": np.dtype(np.int8),
    "signed char": np.dtype(np.int8),
    "unsigned char": np.dtype(np.uint8),
    "short": np.dtype(np.int16),
    "unsigned short": np.dtype(np.uint16),
    "int": np.dtype(np.int32),
    "unsigned int": np.dtype(np.uint32),
    "long": np.dtype(np.int64),
    "long long": np.dtype(np.int64),
    "unsigned long": np.dtype(np.uint64),
    "unsigned long long": np.dtype(np.uint64),
    "float": np.dtype(np.float32),
    "double": np.dtype(np.float64),
    "__half": np.dtype(np.float16),
}
_QUALIFIERS = re.compile(r"\b(const|volatile|__restrict__|__restrict)\b")


def _nvrtc():
    from cupy_backends.cuda.libs import nvrtc

    return nvrtc


@functools.cache
def compile_source(code, options, name_expressions):
    """NVRTC-compile like CuPy; return ``{name expression: lowered name}``."""
    nvrtc = _nvrtc()
    options = tuple(options) + CUPY_OPTIONS
    program = nvrtc.createProgram(code, "kern.cu", [], [])
    try:
        for name in name_expressions:
            nvrtc.addNameExpression(program, name)
        try:
            nvrtc.compileProgram(program, list(options))
        except Exception as error:
            try:
                log = nvrtc.getProgramLog(program)
            except Exception:
                log = ""
            raise CompileException(f"{error}\n{log}", code, "kern.cu", options) from None
        return {name: nvrtc.getLoweredName(program, name) for name in name_expressions}
    finally:
        nvrtc.destroyProgram(program)


@functools.cache
def parameters(lowered):
    """The C parameter types of a mangled kernel name, e.g. ``('float*', 'int')``."""
    result = subprocess.run(["c++filt", lowered], capture_output=True, text=True, check=True)
    text = result.stdout.strip()
    if not text.endswith(")"):
        return None
    depth, start = 0, None
    for index in range(len(text) - 1, -1, -1):
        char = text[index]
        if char == ")":
            depth += 1
        elif char == "(":
            depth -= 1
            if depth == 0:
                start = index
                break
    inner = text[start + 1 : -1]
    params, depth, current = [], 0, ""
    for char in inner:
        if char == "<":
            depth += 1
        elif char == ">":
            depth -= 1
        if char == "," and depth == 0:
            params.append(current.strip())
            current = ""
        else:
            current += char
    if current.strip():
        params.append(current.strip())
    return tuple(params)


def _expected(param):
    """(pointer depth, element dtype or None) of one C parameter type."""
    depth = param.count("*")
    base = " ".join(_QUALIFIERS.sub(" ", param.replace("*", " ").replace("&", " ")).split())
    if depth >= 2:
        return depth, np.dtype(np.uint64)
    return depth, _SCALARS.get(base)


def _marshal(value):
    """CuPy's marshalling of one kernel argument: (kind, NumPy value for the emulator)."""
    kind = type(value)
    if kind is ndarray:
        return "pointer", value._a
    if kind is bool:
        return "scalar", np.bool_(value)
    if kind is int:
        return "scalar", np.int64(value)
    if kind is float:
        return "scalar", np.float64(value)
    if isinstance(value, np.generic):
        return "scalar", value
    raise unsupported(value)


def _describe(kind, value):
    if kind == "pointer":
        return f"a device array of {value.dtype}"
    return f"a {value.dtype} scalar"


class RawKernel:
    """One kernel; call ``kernel(grid, block, args, shared_mem=0)``."""

    def __init__(
        self,
        code,
        name,
        options=(),
        backend="nvrtc",
        translate_cucomplex=False,
        *,
        enable_cooperative_groups=False,
        jitify=False,
    ):
        self.code = code
        self.name = name
        self.options = tuple(options)
        self.backend = backend
        self.enable_cooperative_groups = enable_cooperative_groups
        self._lowered = None
        self._max_dynamic = 0
        self._emulated = None

    def compile(self, log_stream=None):
        if self._lowered is None:
            compile_source(self.code, self.options, ())
            self._lowered = self.name
        return self

    @property
    def attributes(self):
        return {
            "max_threads_per_block": 1024,
            "shared_size_bytes": 0,
            "max_dynamic_shared_size_bytes": self._max_dynamic,
        }

    max_threads_per_block = property(lambda self: 1024)
    shared_size_bytes = property(lambda self: 0)

    @property
    def max_dynamic_shared_size_bytes(self):
        return self._max_dynamic

    @max_dynamic_shared_size_bytes.setter
    def max_dynamic_shared_size_bytes(self, value):
        value = int(value)
        if value < 0 or value > OPTIN_SHARED_BYTES:
            raise CUDADriverError()
        self._max_dynamic = value

    def _kernel(self):
        if self._emulated is None:
            self.compile()
            library, names = cuda_emulator.build_source(self.code, (self.name,), self.options)
            self._emulated = cuda_emulator.EmulatedKernel(library, 0, self.name)
        return self._emulated

    def _signature(self):
        if self._lowered and self._lowered.startswith("_Z"):
            return parameters(self._lowered)
        return None

    def __call__(self, grid, block, args, *, shared_mem=0, enable_cooperative_groups=False):
        grid, block = _dims(grid, "grid"), _dims(block, "block")
        threads = block[0] * block[1] * block[2]
        if threads > 1024 or block[0] > 1024 or block[1] > 1024 or block[2] > 64:
            raise CUDADriverError(1, f"CUDA_ERROR_INVALID_VALUE: block {block} ({threads} threads)")
        if min(grid) < 1 or min(block) < 1 or grid[1] > 65535 or grid[2] > 65535:
            raise CUDADriverError(1, f"CUDA_ERROR_INVALID_VALUE: grid {grid}, block {block}")
        shared_mem = int(shared_mem)
        limit = max(DEFAULT_SHARED_BYTES, self._max_dynamic)
        if shared_mem > limit:
            raise CUDADriverError(
                1,
                f"CUDA_ERROR_INVALID_VALUE: {self.name} asks {shared_mem} bytes of dynamic shared "
                f"memory; the limit is {limit} (set max_dynamic_shared_size_bytes first, at most "
                f"{OPTIN_SHARED_BYTES})",
            )
        if not isinstance(args, (tuple, list)):
            raise TypeError(f"args must be a tuple, got {type(args).__name__}")
        kernel = self._kernel()
        values = [_marshal(a) for a in args]
        signature = self._signature()
        if signature is not None:
            self._check(signature, values)
        arguments = tuple(v for _, v in values)
        pointers = [v for kind, v in values if kind == "pointer"]
        launch(lambda: kernel(grid, block, arguments, shared_mem), pointers, pointers, kernel=True)

    def _check(self, signature, values):
        if len(signature) != len(values):
            raise TypeError(
                f"{self.name} takes {len(signature)} arguments ({', '.join(signature)}), "
                f"received {len(values)}"
            )
        for position, (param, (kind, value)) in enumerate(zip(signature, values)):
            depth, dtype = _expected(param)
            problem = None
            if depth and kind != "pointer":
                problem = "a device array"
            elif not depth and kind == "pointer":
                problem = f"a {dtype} scalar"
            elif dtype is not None and value.dtype != dtype:
                if not (depth >= 2 and value.dtype == np.int64):
                    problem = f"{'a device array of ' if depth else 'a '}{dtype}"
            if problem:
                raise TypeError(
                    f"{self.name} argument {position} is declared `{param}`: it needs {problem}, "
                    f"received {_describe(kind, value)} (CuPy marshals Python int as int64 and "
                    "float as double; pass np.int32(...)/np.float32(...) to match the C type)"
                )


def _dims(value, what):
    if not isinstance(value, (tuple, list)) or not 1 <= len(value) <= 3:
        raise TypeError(f"{what} must be a tuple of 1 to 3 ints, got {value!r}")
    dims = tuple(int(v) for v in value)
    return dims + (1,) * (3 - len(dims))


class RawModule:
    """A compiled source: ``get_function(name_expression or extern "C" name)``."""

    def __init__(
        self,
        code=None,
        path=None,
        options=(),
        backend="nvrtc",
        translate_cucomplex=False,
        *,
        enable_cooperative_groups=False,
        name_expressions=None,
        jitify=False,
    ):
        if code is None:
            raise NotImplementedError("the CuPy stand-in compiles source code only (code=...)")
        self.code = code
        self.file_path = path
        self.options = tuple(options)
        self.backend = backend
        self.enable_cooperative_groups = enable_cooperative_groups
        self.name_expressions = None if name_expressions is None else tuple(name_expressions)
        self._mapping = None
        self._functions = {}

    def compile(self, log_stream=None):
        if self._mapping is None:
            self._mapping = compile_source(self.code, self.options, self.name_expressions or ())
        return self

    def get_function(self, name):
        self.compile()
        if name not in self._functions:
            kernel = RawKernel(self.code, name, self.options, self.backend)
            kernel._lowered = self._mapping.get(name, name)
            if self.name_expressions:
                library, names = cuda_emulator.build_source(
                    self.code, self.name_expressions, self.options
                )
                if name in names:
                    kernel._emulated = cuda_emulator.EmulatedKernel(
                        library, names.index(name), name
                    )
            self._functions[name] = kernel
        return self._functions[name]
