"""Every kernel file compiles with NVRTC for the shipped architectures, with no GPU needed."""

import pytest

from gpuk._array import kernels

_reason = kernels.nvrtc_unavailable_reason()
needs_nvrtc = pytest.mark.skipif(_reason is not None, reason=str(_reason))


@needs_nvrtc
@pytest.mark.parametrize("arch", kernels.ARCHITECTURES)
@pytest.mark.parametrize("filename", sorted(kernels.ENTRY_POINTS))
def test_kernel_compiles(filename, arch):
    binary, lowered = kernels.compile_kernel_source_for_arch(filename, arch)
    assert binary[:4] == b"\x7fELF"  # a CUBIN for that architecture
    assert set(lowered) == set(kernels.name_expressions(filename))
    for name, symbol in lowered.items():
        assert symbol.startswith("_Z") and name.split("<")[0] in symbol


@needs_nvrtc
def test_ptx_names_the_entry_points():
    ptx, lowered = kernels.compile_kernel_source_for_arch("gru.cu", "compute_90")
    text = ptx.decode() if isinstance(ptx, bytes) else ptx
    assert ".target sm_90" in text
    for symbol in lowered.values():
        assert f".entry {symbol}" in text


@needs_nvrtc
def test_compile_error_names_file_and_log(monkeypatch):
    monkeypatch.setattr(kernels, "kernel_source", lambda f: "__global__ void k() { oops; }")
    with pytest.raises(kernels.KernelCompileError, match=r"kernels/adam\.cu[\s\S]*oops"):
        kernels.compile_kernel_source_for_arch("adam.cu", "sm_80", names=())


def test_includes_are_inlined():
    source = kernels.kernel_source("gru.cu")
    assert "#include" not in source and "gpuk_activate" in source


def test_every_cu_file_is_registered():
    files = kernels.kernel_files()
    assert {f for f in files if f.endswith(".cu")} == set(kernels.ENTRY_POINTS)
    assert "common.cuh" in files
