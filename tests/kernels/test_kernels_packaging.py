"""The kernel sources ship inside the wheel as gpuk._kernels (DESIGN "Kernels", packaging)."""

import pathlib
import shutil
import subprocess
import sys

import pytest

from gpuk._array import kernels

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_checkout_lists_kernel_files():
    assert kernels.kernel_files() == [
        "adam.cu",
        "common.cuh",
        "gru.cu",
        "lstm.cu",
        "simple_rnn.cu",
        "softmax_xent.cu",
    ]


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git to copy the tracked tree")
def test_wheel_contains_kernel_files(tmp_path):
    tree = tmp_path / "src"
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z"], capture_output=True, check=True
    ).stdout.split(b"\0")
    for name in filter(None, archive):
        source = ROOT / name.decode()
        if source.is_file():
            target = tree / name.decode()
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target)
    # build_py applies package_dir and package_data exactly as a wheel build does, without
    # needing the `wheel` package or network access.
    build = tmp_path / "build"
    result = subprocess.run(
        [sys.executable, "setup.py", "-q", "build_py", "--build-lib", str(build)],
        cwd=tree,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    packaged = sorted(p.name for p in (build / "gpuk" / "_kernels").iterdir())
    assert packaged == ["__init__.py"] + kernels.kernel_files()


def _extras():
    tomllib = pytest.importorskip("tomllib")

    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]["optional-dependencies"]


def test_gpu_extras_bring_the_cuda_headers():
    # CuPy 14 wheels ship no CUDA headers: without [ctk] every kernel compile fails with
    # "Failed to find CUDA headers", CuPy's own elementwise kernels included.
    extras = _extras()
    assert any(r.replace(" ", "").startswith("cupy-cuda12x[ctk]") for r in extras["cuda12"])
    assert any(r.replace(" ", "").startswith("cupy-cuda13x[ctk]") for r in extras["cuda13"])
    dockerfile = (ROOT / "docker" / "Dockerfile.cuda").read_text()
    assert '".[cuda12' in dockerfile
