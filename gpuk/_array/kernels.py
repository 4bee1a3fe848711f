"""Kernel loader: reads ``kernels/*.cu`` from the installed package and compiles them with NVRTC.

The sources ship as the package ``gpuk._kernels`` (see setup.py). On a GPU, modules are
compiled through CuPy's ``RawModule`` and memoized per (device, file, name expressions);
``compile_kernel_source_for_arch`` compiles for an explicit architecture through NVRTC alone,
which needs neither a GPU nor a driver (the compile tests use it). Works with cupy-cuda12x or
cupy-cuda13x: NVRTC is reached through ``cupy_backends.cuda.libs.nvrtc``.
"""

import functools
import importlib.resources
import pathlib
import re

#: NVRTC options for every kernel, in one place. No fast-math: the kernels must match their
#: generic twins to 1e-5 (float32) and 1e-12 (float64).
NVRTC_OPTIONS = ("--std=c++17", "-DGPUK_CUDA=1")

#: Architectures gpuk ships kernels for (A100, H100/H200).
ARCHITECTURES = ("sm_80", "sm_90")

#: Kernel files, and the entry points each file declares (instantiated for float and double).
ENTRY_POINTS = {
    "gru.cu": (
        "gru_sequence_forward",
        "gru_sequence_backward",
        "gru_step_forward",
        "gru_step_backward",
    ),
    "lstm.cu": ("lstm_sequence_forward", "lstm_sequence_backward"),
    "simple_rnn.cu": ("simple_rnn_sequence_forward", "simple_rnn_sequence_backward"),
    "softmax_xent.cu": ("xent_forward", "xent_backward"),
    "adam.cu": ("adam_multi_tensor",),
}
ELEMENT_TYPES = ("float", "double")

_INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"\s*$', re.MULTILINE)


class KernelCompileError(RuntimeError):
    """NVRTC rejected a kernel file; the message names the file and carries NVRTC's log."""


def name_expressions(filename):
    """All template instantiations of a kernel file, e.g. ``('gru_step_forward<float>', ...)``."""
    return tuple(f"{name}<{t}>" for name in ENTRY_POINTS[filename] for t in ELEMENT_TYPES)


def kernel_root():
    """Where the kernel sources are: the installed ``gpuk._kernels`` package, or, in a source
    checkout that is not installed, the ``kernels/`` folder beside ``gpuk/``."""
    try:
        return importlib.resources.files("gpuk._kernels")
    except ModuleNotFoundError:
        checkout = pathlib.Path(__file__).resolve().parents[2] / "kernels"
        if (checkout / "__init__.py").is_file():
            return checkout
        raise


def kernel_files():
    """Names of the packaged ``.cu``/``.cuh`` files."""
    names = (p.name for p in kernel_root().iterdir())
    return sorted(n for n in names if n.endswith((".cu", ".cuh")))


def _read(name):
    return kernel_root().joinpath(name).read_text(encoding="utf-8")


@functools.cache
def kernel_source(filename):
    """The source of ``filename`` with its local ``#include "x.cuh"`` lines inlined once each.

    Inlining keeps NVRTC independent of where (or whether, for a zipped install) the package
    lies on disk.
    """
    seen = set()

    def expand(name):
        if name in seen:
            return f"// {name} already included\n"
        seen.add(name)
        text = _read(name)
        return _INCLUDE.sub(lambda m: expand(m.group(1)), text)

    return f'#line 1 "{filename}"\n' + expand(filename)


def _nvrtc():
    from cupy_backends.cuda.libs import nvrtc

    return nvrtc


def nvrtc_unavailable_reason():
    """None when NVRTC can be called, else a sentence saying why not."""
    try:
        nvrtc = _nvrtc()
        nvrtc.getVersion()
    except Exception as error:
        return f"NVRTC is unavailable ({type(error).__name__}: {error}); install gpuk[test]"
    return None


def compile_kernel_source_for_arch(filename, arch, names=None, ptx=False):
    """Compile a packaged kernel file with NVRTC for ``arch`` (``'sm_80'``), without a GPU.

    Args:
        filename: a kernel file such as ``'gru.cu'``.
        arch: ``'sm_XY'`` (compiled to CUBIN) or ``'compute_XY'`` (PTX).
        names: name expressions to instantiate; all of the file's by default.
        ptx: return PTX even for an ``sm_`` architecture.

    Returns:
        (binary bytes, {name expression: lowered (mangled) name}).

    Raises:
        KernelCompileError: naming the file, with NVRTC's log.
    """
    nvrtc = _nvrtc()
    names = tuple(names or name_expressions(filename))
    if ptx and arch.startswith("sm_"):
        arch = "compute_" + arch[3:]
    options = NVRTC_OPTIONS + (f"--gpu-architecture={arch}",)
    program = nvrtc.createProgram(kernel_source(filename), filename, [], [])
    try:
        for name in names:
            nvrtc.addNameExpression(program, name)
        try:
            nvrtc.compileProgram(program, list(options))
        except Exception as error:
            try:
                log = nvrtc.getProgramLog(program)
            except Exception:
                log = "(no log)"
            raise KernelCompileError(
                f"NVRTC failed to compile kernels/{filename} for {arch} with options "
                f"{' '.join(options)}: {error}\n{log}"
            ) from None
        lowered = {name: nvrtc.getLoweredName(program, name) for name in names}
        binary = nvrtc.getCUBIN(program) if arch.startswith("sm_") else nvrtc.getPTX(program)
    finally:
        nvrtc.destroyProgram(program)
    return binary, lowered


_modules = {}


def _device_id():
    import cupy

    return cupy.cuda.Device().id


def load_module(filename):
    """The compiled ``cupy.RawModule`` of a kernel file for the current device (memoized)."""
    import cupy

    key = (_device_id(), filename)
    if key not in _modules:
        module = cupy.RawModule(
            code=kernel_source(filename),
            options=NVRTC_OPTIONS,
            name_expressions=name_expressions(filename),
        )
        try:
            module.compile()
        except cupy.cuda.compiler.CompileException as error:
            raise KernelCompileError(
                f"NVRTC failed to compile kernels/{filename} with options "
                f"{' '.join(NVRTC_OPTIONS)}:\n{error.get_message()}"
            ) from None
        _modules[key] = module
    return _modules[key]


class _Launcher:
    """Calls one kernel as ``kernel(grid, block, args, shared_mem=0)``; opts in to large
    dynamic shared memory (over 48 KiB needs ``cudaFuncSetAttribute``) once per size."""

    def __init__(self, function, filename, name):
        self.function = function
        self.filename = filename
        self.name = name
        self.shared_opt_in = 0

    def __call__(self, grid, block, args, shared_mem=0):
        import cupy

        if shared_mem > 48 * 1024 and shared_mem > self.shared_opt_in:
            self.function.max_dynamic_shared_size_bytes = int(shared_mem)
            self.shared_opt_in = int(shared_mem)
        try:
            self.function(tuple(grid), tuple(block), tuple(args), shared_mem=int(shared_mem))
        except cupy.cuda.memory.OutOfMemoryError as error:
            sizes = [tuple(a.shape) for a in args if hasattr(a, "shape") and a.ndim]
            raise MemoryError(
                f"CUDA out of memory launching {self.name} (kernels/{self.filename}) on arrays "
                f"of shapes {sizes}: {error}"
            ) from error


_functions = {}


def get_function(filename, name_expression):
    """A launcher for one entry point, e.g. ``get_function('gru.cu', 'gru_step_forward<float>')``.

    Returns:
        callable ``kernel(grid, block, args, shared_mem=0)``.
    """
    key = (_device_id(), filename, name_expression)
    if key not in _functions:
        module = load_module(filename)
        _functions[key] = _Launcher(module.get_function(name_expression), filename, name_expression)
    return _functions[key]


@functools.cache
def _limits(device_id):
    import cupy

    attributes = cupy.cuda.Device(device_id).attributes
    shared = attributes.get("MaxSharedMemoryPerBlockOptin", 48 * 1024)
    return int(shared), int(attributes.get("MultiProcessorCount", 1))


def device_limits():
    """(opt-in dynamic shared memory per block in bytes, multiprocessor count) of the device."""
    return _limits(_device_id())
