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


def test_gru_rows_cover_every_hidden_size(monkeypatch):
    # A `del gpuk` inside the loop once raised UnboundLocalError at the second size, so the
    # U=96/128 rows never appeared.
    import numpy as np

    from gpuk.ops.fused import gru as fused_gru

    class Cheap:
        def __init__(self, **options):
            pass

        def forward(self, *arrays):
            return None

        def backward(self, *grads):
            return None

    monkeypatch.setattr(fused_gru, "GRUFused", Cheap)
    module = _load()
    module.ROWS.clear()
    module.bench_gru_kernel(np, lambda fn, repeat=5, warmup=2: fn() or 1.0, quick=True)
    names = [row[0] for row in module.ROWS]
    module.ROWS.clear()
    for units in (24, 48, 96, 128):
        assert f"GRU kernel forward U={units} (incl. matmuls)" in names
        assert f"GRU kernel backward U={units} (incl. matmuls)" in names


def test_test_runs_do_not_stop_at_the_first_failure_and_allow_compiling():
    module = _load()
    commands = module.test_commands(module.TEST_TIMEOUT)
    for _, args, limit in commands:
        assert "-x" not in args and "--exitfirst" not in args
        assert limit >= 600  # NVRTC compiles every kernel on a fresh machine
