"""``gpuk info`` / ``python -m gpuk info`` reports and never crashes, with or without CuPy."""

import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _run(code_or_args, hide_cupy=False):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    if hide_cupy:
        code = (
            "import sys; sys.modules['cupy'] = None; sys.modules['cupy_backends'] = None; "
            "from gpuk.info import main; sys.exit(main(['info']))"
        )
        args = [sys.executable, "-c", code]
    else:
        args = [sys.executable, "-m", "gpuk", *code_or_args]
    return subprocess.run(args, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)


def _fields(stdout):
    return {line.split("  ", 1)[0]: line.split("  ", 1)[1].strip() for line in stdout.splitlines()}


def test_python_m_gpuk_info_reports_versions_device_and_kernels():
    result = _run(["info"])
    assert result.returncode == 0, result.stderr
    fields = _fields(result.stdout)
    from gpuk import __version__, _array
    from gpuk._array import kernels

    assert fields["gpuk"] == __version__
    assert fields["device"] in ("cpu", "gpu")
    assert fields["floatx"] == "float32"
    for name in kernels.kernel_files():
        if name.endswith(".cu"):
            expected = "compiles" if kernels.nvrtc_unavailable_reason() is None else "NVRTC"
            assert expected in (fields.get(f"kernels/{name}") or fields["kernels"])
    if _array.gpu_unavailable_reason() is not None:
        assert fields["GPU available"].startswith("no: ")


def test_info_without_cupy_says_why_and_picks_the_cpu():
    result = _run(None, hide_cupy=True)
    assert result.returncode == 0, result.stderr
    fields = _fields(result.stdout)
    assert fields["CuPy"].startswith("not importable: CuPy is not installed")
    assert fields["device"] == "cpu"
    assert fields["kernels"].startswith("NVRTC is unavailable")


def test_unknown_subcommand_prints_usage_and_fails():
    result = _run(["frobnicate"])
    assert result.returncode == 2
    assert "usage: gpuk info" in result.stderr


def test_a_bad_device_setting_is_reported_not_raised():
    env_result = subprocess.run(
        [sys.executable, "-m", "gpuk", "info"],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT), GPUK_DEVICE="tpu"),
        cwd=ROOT,
        timeout=120,
    )
    assert env_result.returncode == 0, env_result.stderr
    assert "GPUK_DEVICE='tpu' is not a known device" in _fields(env_result.stdout)["device"]
