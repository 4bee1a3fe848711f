"""Data-parallel training under a real 2-process ``mpiexec`` equals one process training on
the global batch. Each job runs in its own session with a hard timeout that kills its whole
process group, so a hang cannot stall the test run."""

import importlib.util
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SCRIPT = HERE / "dist_script.py"
SCENARIOS = "fit,fit_uneven,gru,tape,gen,fit:float32"


def _mpiexec():
    beside = pathlib.Path(sys.executable).parent / "mpiexec"
    return str(beside) if beside.exists() else shutil.which("mpiexec")


pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("mpi4py") is None or _mpiexec() is None,
    reason="needs mpi4py and an mpiexec (pip install mpi4py mpich: the 'distributed' extra)",
)


def _run(args, processes, timeout=60, runner=True):
    """Run the script (under mpiexec when ``processes > 1``, through ``python -m mpi4py``
    when ``runner``); returns (rc, output, seconds)."""
    command = [sys.executable, *(["-m", "mpi4py"] if runner else []), str(SCRIPT), *args]
    if processes > 1:
        command = [_mpiexec(), "-n", str(processes), *command]
    env = dict(os.environ, PYTHONPATH=str(ROOT), GPUK_DEVICE="cpu", OMP_NUM_THREADS="1")
    start = time.monotonic()
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        output, _ = proc.communicate()
        pytest.fail(f"{command} hung for {timeout} s:\n{output.decode(errors='replace')}")
    return proc.returncode, output.decode(errors="replace"), time.monotonic() - start


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    for processes in (1, 2):
        rc, output, _ = _run([SCENARIOS, str(out)], processes)
        assert rc == 0, output
    return out


def _load(out, name, rank, count):
    with np.load(out / f"{name}_{rank}_{count}.npz") as data:
        return dict(data)


@pytest.mark.parametrize(
    "name, tol",
    [
        ("fit", 1e-12),
        ("fit_uneven", 1e-12),
        ("gru", 1e-12),
        ("tape", 1e-12),
        ("gen", 1e-12),
        ("fitfloat32", 1e-6),
    ],
)
def test_two_processes_equal_one_with_the_global_batch(runs, name, tol):
    single = _load(runs, name, 0, 1)
    rank0, rank1 = _load(runs, name, 0, 2), _load(runs, name, 1, 2)
    assert set(single) == set(rank0) == set(rank1)
    assert any(k.startswith("w") for k in single)
    for key, value in single.items():
        if key == "seen":
            continue
        np.testing.assert_allclose(rank0[key], value, rtol=tol, atol=tol, err_msg=key)
        np.testing.assert_array_equal(rank1[key], rank0[key], err_msg=key)


def test_history_has_validation_and_metrics(runs):
    single = _load(runs, "fit", 0, 1)
    assert {"h_loss", "h_accuracy", "h_val_loss", "h_val_accuracy"} <= set(single)
    assert single["pred"].shape == (37, 3)


def test_each_process_computes_on_its_half_of_each_batch(runs):
    # 21 samples in global batches of 8: 8, 8, 5 -> shards 4/4, 4/4, 3/2 (after 2 build calls).
    assert list(_load(runs, "gru", 0, 1)["seen"][2:]) == [8, 8, 5] * 2
    assert list(_load(runs, "gru", 0, 2)["seen"][2:]) == [4, 4, 3] * 2
    assert list(_load(runs, "gru", 1, 2)["seen"][2:]) == [4, 4, 2] * 2


@pytest.mark.parametrize("runner", [True, False], ids=["python-m-mpi4py", "plain-python"])
def test_a_failure_on_one_process_ends_the_job(tmp_path, runner):
    # Process 1 raises in its 4th step of 1000 epochs; process 0 must not wait for it.
    rc, output, seconds = _run(["fail", str(tmp_path)], 2, timeout=60, runner=runner)
    assert rc != 0
    assert "failure on process 1" in output
    assert seconds < 30, output


def test_different_models_on_the_processes_are_a_clear_error(tmp_path):
    rc, output, _ = _run(["mismatch", str(tmp_path)], 2)
    assert rc != 0
    assert "model weights differ between processes" in output, output
    assert "(5, 3)" in output and "(5, 4)" in output, output


def test_backup_and_restore_resumes_every_process_from_process_0s_backup(tmp_path):
    rc, output, _ = _run(["backup_crash", str(tmp_path)], 2)
    assert rc != 0 and "crash at epoch 2" in output
    assert (tmp_path / "backup").exists()
    rc, output, _ = _run(["backup_resume,backup_straight", str(tmp_path)], 2)
    assert rc == 0, output
    straight = _load(tmp_path, "backup_straight", 0, 2)
    for rank in (0, 1):
        resumed = _load(tmp_path, "backup_resume", rank, 2)
        assert list(resumed["epochs"]) == [2, 3]
        np.testing.assert_allclose(resumed["h_loss"], straight["h_loss"][2:], rtol=1e-12)
        for key in [k for k in straight if k.startswith("w")]:
            np.testing.assert_allclose(resumed[key], straight[key], rtol=1e-12, atol=1e-12)


def test_only_process_0_writes_files_and_progress(tmp_path):
    rc, output, _ = _run(["files", str(tmp_path)], 2)
    assert rc == 0, output
    names = sorted(p.name for p in tmp_path.iterdir())
    assert "ckpt_0.weights.h5" in names and "log_0.csv" in names
    assert not [n for n in names if n.startswith(("ckpt_1", "log_1", "backup_1"))], names
    assert output.count("Epoch 1/2") == 1, output
