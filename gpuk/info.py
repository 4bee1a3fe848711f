"""``gpuk info``: what this machine gives gpuk — versions, the device chosen and why, kernels.

The ``fused <op>`` lines say, per fused kernel, whether arrays of the chosen device reach it
(``gpuk.ops.fused.registry.select`` then asks the op's ``supports`` per call).

Run it as ``gpuk info`` (console script) or ``python -m gpuk info``. It never raises: every
probe that fails is reported as a line saying why, so it is safe on a machine without a GPU,
without CuPy, or without NVRTC.
"""

import importlib.metadata
import platform
import sys

from gpuk import _array, _config
from gpuk._array import kernels
from gpuk._version import __version__
from gpuk.ops.fused import registry


def _version(distribution):
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _cupy_line():
    cupy = _array.cupy_module()
    if cupy is None:
        return "not importable: " + _array.gpu_unavailable_reason()
    return f"{cupy.__version__} ({cupy.__name__} from {getattr(cupy, '__file__', '?')})"


def _cuda_lines():
    cupy = _array.cupy_module()
    if cupy is None:
        return [("CUDA", "unknown (no CuPy)")]
    lines = []
    for label, probe in (
        ("CUDA runtime", lambda: cupy.cuda.runtime.runtimeGetVersion()),
        ("CUDA driver", lambda: cupy.cuda.runtime.driverGetVersion()),
        ("GPU count", lambda: cupy.cuda.runtime.getDeviceCount()),
    ):
        try:
            value = probe()
        except Exception as error:  # no driver, no device: report, never raise
            value = f"unavailable ({type(error).__name__}: {error})"
        else:
            if label != "GPU count" and isinstance(value, int):
                value = f"{value // 1000}.{value % 1000 // 10} ({value})" if value else "none"
        lines.append((label, value))
    return lines


def _device_lines():
    try:
        chosen = _array.device()
    except Exception as error:  # a bad GPUK_DEVICE, or 'gpu' without a GPU
        return [("device", f"none: {type(error).__name__}: {error}")]
    reason = _array.gpu_unavailable_reason()
    why = "a CUDA device answers" if reason is None else reason
    return [("device", chosen), ("GPU available", "yes" if reason is None else f"no: {why}")]


def _kernel_lines():
    reason = kernels.nvrtc_unavailable_reason()
    if reason is not None:
        return [("kernels", reason)]
    lines = []
    arch = kernels.ARCHITECTURES[-1]
    for filename in kernels.kernel_files():
        if not filename.endswith(".cu"):
            continue
        try:
            kernels.compile_kernel_source_for_arch(filename, arch)
        except Exception as error:
            status = f"FAILS: {type(error).__name__}: {str(error).splitlines()[0]}"
        else:
            status = f"compiles for {arch}"
        lines.append((f"kernels/{filename}", status))
    return lines


def _fused_lines():
    """One line per fused op of ``gpuk.ops.fused.registry``: its kernel, its generic twin and
    whether arrays of the chosen device reach it (else the reason it declines)."""
    try:
        xp = _array.default_module()
        return [(f"fused {op}", line) for op, line in registry.describe(xp)]
    except Exception as error:  # a bad GPUK_DEVICE, no GPU behind 'gpu': report, never raise
        return [("fused ops", f"unknown ({type(error).__name__}: {error})")]


def report():
    """The report as a list of ``(label, value)`` pairs (every probe guarded)."""
    lines = [
        ("gpuk", __version__),
        ("Python", f"{platform.python_version()} ({sys.executable})"),
        ("platform", platform.platform()),
        ("NumPy", _version("numpy") or "not installed"),
        ("h5py", _version("h5py") or "not installed"),
        ("CuPy", _cupy_line()),
    ]
    lines += _cuda_lines()
    lines += _device_lines()
    lines.append(("floatx", _config.floatx()))
    lines += _kernel_lines()
    lines += _fused_lines()
    return lines


def main(argv=None):
    """Entry point of the ``gpuk`` command; only ``info`` is known. Returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv not in ([], ["info"]):
        print("usage: gpuk info", file=sys.stderr)
        return 2
    lines = report()
    width = max(len(label) for label, _ in lines)
    for label, value in lines:
        print(f"{label:<{width}}  {value}")
    return 0
