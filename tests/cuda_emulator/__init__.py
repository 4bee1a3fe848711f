"""A test tool: run gpuk's CUDA kernels on the CPU under a small emulation of CUDA.

How it works: for a kernel file (``kernels/gru.cu``) it writes a C++ file that includes
``cuda_emulator.h`` (this folder) and the ``.cu`` source unchanged, and adds one
``extern "C"`` launcher per name expression of the file (the same list the loader compiles,
``gpuk._array.kernels.name_expressions``). g++ builds it into a shared library (cached by the
hash of the sources), loaded with ctypes. :func:`provider` plugs it into
``gpuk.ops.fused.launch.use_kernel_provider`` so the fused Functions run unchanged, over NumPy
arrays, with the launch configurations they really use.

Execution model (see the header): blocks run one after another; the threads of a block are
real threads meeting at ``__syncthreads``; warp shuffles exchange through a per-warp buffer.
Arguments are passed as CUDA passes them: NumPy arrays as pointers to their first element
(views keep their offset), NumPy scalars by value; the argument count and sizes are checked
against the kernel's signature.
"""

import ctypes
import hashlib
import os
import pathlib
import shutil
import subprocess
import tempfile
import threading

import numpy as np

from gpuk._array import kernels as _loader

HERE = pathlib.Path(__file__).resolve().parent
HEADER = HERE / "cuda_emulator.h"
CXX_FLAGS = ("-std=c++20", "-O1", "-shared", "-fPIC", "-pthread", "-w")

_SCALARS = {
    np.dtype(np.bool_): ctypes.c_bool,
    np.dtype(np.int32): ctypes.c_int32,
    np.dtype(np.uint32): ctypes.c_uint32,
    np.dtype(np.int64): ctypes.c_int64,
    np.dtype(np.uint64): ctypes.c_uint64,
    np.dtype(np.float32): ctypes.c_float,
    np.dtype(np.float64): ctypes.c_double,
}
_libraries = {}
_lock = threading.Lock()


def unavailable_reason():
    """None when a C++20 compiler is present, else why the emulator cannot run."""
    if shutil.which(os.environ.get("CXX", "g++")) is None:
        return "no C++ compiler (g++) on PATH; the CUDA emulator needs one"
    return None


def _symbol(index):
    return f"gpuk_emu_launch_{index}"


def _wrapper_source(filename, names):
    lines = [f'#include "{HEADER}"', f'#include "{filename}"', ""]
    for index, name in enumerate(names):
        lines += [
            f'extern "C" int {_symbol(index)}(unsigned gx, unsigned gy, unsigned gz, unsigned bx,',
            "    unsigned by, unsigned bz, unsigned long long shared, void** args) {",
            f"  try {{ gpuk_emu::launch(&{name}, dim3{{gx, gy, gz}}, dim3{{bx, by, bz}},",
            "                           shared, args); } catch (...) { return 1; }",
            "  return 0;",
            "}",
            f'extern "C" int {_symbol(index)}_arity() {{ return gpuk_emu::arity(&{name}); }}',
            f'extern "C" void {_symbol(index)}_sizes(int* out) {{',
            f"  gpuk_emu::argument_sizes(&{name}, out);",
            "}",
        ]
    return "\n".join(lines) + "\n"


def _cache():
    cache = pathlib.Path(tempfile.gettempdir()) / "gpuk-cuda-emulator"
    cache.mkdir(exist_ok=True)
    return cache


def _compile(library, source, include, label, defines=()):
    if library.exists():
        return
    cpp = library.with_suffix(".cpp")
    cpp.write_text(source)
    partial = library.with_suffix(f".{os.getpid()}.tmp")
    command = [os.environ.get("CXX", "g++"), *CXX_FLAGS, f"-I{include}", *defines]
    command += [str(cpp), "-o", str(partial)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(f"g++ failed on {label}:\n{result.stderr[-4000:]}")
    os.replace(partial, library)


def build(filename):
    """Compile a kernel file for the emulator (cached); return (ctypes library, names)."""
    with _lock:
        if filename in _libraries:
            return _libraries[filename]
        names = _loader.name_expressions(filename)
        root = pathlib.Path(str(_loader.kernel_root()))
        source = _wrapper_source(filename, names)
        digest = hashlib.sha256(source.encode())
        for path in sorted(root.glob("*.cu*")) + [HEADER]:
            digest.update(path.read_bytes())
        library = _cache() / f"{pathlib.Path(filename).stem}-{digest.hexdigest()[:16]}.so"
        _compile(library, source, root, f"kernels/{filename}")
        _libraries[filename] = (ctypes.CDLL(str(library)), names)
        return _libraries[filename]


def build_source(code, names, defines=()):
    """Compile CUDA source text (all includes inlined) with its entry points ``names`` (name
    expressions or ``extern "C"`` names) for the emulator; return (ctypes library, names).

    ``defines`` are ``-D`` options passed on to g++ (the NVRTC options' macros).
    """
    names = tuple(names)
    defines = tuple(d for d in defines if d.startswith("-D"))
    digest = hashlib.sha256(code.encode())
    digest.update("\0".join(names + defines).encode())
    digest.update(HEADER.read_bytes())
    key = ("source", digest.hexdigest())
    with _lock:
        if key in _libraries:
            return _libraries[key]
        stem = f"source-{digest.hexdigest()[:16]}"
        cu = _cache() / f"{stem}.cu"
        if not cu.exists():
            partial = cu.with_suffix(f".{os.getpid()}.cu.tmp")
            partial.write_text(code)
            os.replace(partial, cu)
        source = _wrapper_source(cu.name, names)
        _compile(_cache() / f"{stem}.so", source, _cache(), "RawModule source", defines)
        _libraries[key] = (ctypes.CDLL(str(_cache() / f"{stem}.so")), names)
        return _libraries[key]


class EmulatedKernel:
    """One entry point, called like the loader's launchers: ``k(grid, block, args, shared_mem)``."""

    def __init__(self, library, index, name):
        self.name = name
        self.launch = getattr(library, _symbol(index))
        self.arity = getattr(library, _symbol(index) + "_arity")()
        sizes = (ctypes.c_int * max(1, self.arity))()
        getattr(library, _symbol(index) + "_sizes")(sizes)
        self.sizes = list(sizes)[: self.arity]
        self.launches = []

    def __call__(self, grid, block, args, shared_mem=0):
        if len(args) != self.arity:
            raise TypeError(f"{self.name} takes {self.arity} arguments, received {len(args)}")
        values = []
        for position, (arg, size) in enumerate(zip(args, self.sizes)):
            if isinstance(arg, np.ndarray):
                value = ctypes.c_void_p(arg.ctypes.data)
            elif isinstance(arg, np.generic) and arg.dtype in _SCALARS:
                value = _SCALARS[arg.dtype](arg.item())
            else:
                raise TypeError(f"{self.name} argument {position}: {type(arg).__name__}")
            if ctypes.sizeof(value) != size:
                raise TypeError(
                    f"{self.name} argument {position}: {ctypes.sizeof(value)} bytes given, "
                    f"the kernel takes {size}"
                )
            values.append(value)
        pointers = (ctypes.c_void_p * max(1, len(values)))(*[ctypes.addressof(v) for v in values])
        grid = tuple(grid) + (1,) * (3 - len(grid))
        block = tuple(block) + (1,) * (3 - len(block))
        self.launches.append((grid[:3], block[:3], int(shared_mem)))
        if self.launch(*map(ctypes.c_uint, grid + block), ctypes.c_ulonglong(shared_mem), pointers):
            raise RuntimeError(f"emulated launch of {self.name} failed")


class Provider:
    """Kernel provider for ``use_kernel_provider``; records every launch in ``launches``."""

    def __init__(self):
        self.kernels = {}

    def __call__(self, filename, name_expression, xp):
        key = (filename, name_expression)
        if key not in self.kernels:
            library, names = build(filename)
            self.kernels[key] = EmulatedKernel(
                library, names.index(name_expression), name_expression
            )
        return self.kernels[key]

    def launches(self, prefix):
        """(name, grid, block, shared) of the launches of entry points starting with prefix."""
        return [
            (name, *launch)
            for (_, name), kernel in self.kernels.items()
            if name.startswith(prefix)
            for launch in kernel.launches
        ]
