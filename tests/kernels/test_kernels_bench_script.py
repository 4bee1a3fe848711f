"""The GPU benchmark script imports and answers --dry-run on a CPU machine."""

import importlib.util
import pathlib

from gpuk import _array

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "bench" / "gpu_suite.py"


def _load():
    spec = importlib.util.spec_from_file_location("gpu_suite", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_dry_run_lists_the_steps(capsys):
    assert _load().main(["--dry-run"]) == 0
    out = capsys.readouterr().out
    for step in ("tests", "gru-kernel", "denoiser", "adam", "softmax-ce"):
        assert step in out


def test_without_gpu_it_says_why(capsys):
    if _array.gpu_unavailable_reason() is None:
        return  # a GPU is here: the real run is the bench itself, not this test
    assert _load().main(["--skip-tests"]) == 2
    assert "needs a CUDA GPU" in capsys.readouterr().out


def test_table_format():
    module = _load()
    module.ROWS.clear()
    module.row("Adam 16.0M params", 3000.0, "GB/s", ">= 80% copy", "85%")
    module.print_table()
    module.ROWS.clear()
