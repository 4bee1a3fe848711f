"""Seeded fuzzing of every format (issue 13): each damaged file must load into a model that
predicts, or raise a ValueError/OSError naming the file. The files are loaded in a subprocess
with a timeout, so a hang or a crash of the interpreter fails the test too."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.saving import fuzzing
from tests.saving import hostile_files as H

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "keras"
KINDS = ["keras", "h5", "weights_h5", "legacy_weights", "json"]
KERAS_FILES = [
    ("keras", "k3_multi.keras"),
    ("keras", "k3_rnnoise_ra1.keras"),
    ("h5", "tfk_rnnoise_ra0.h5"),
    ("h5", "k21_rnnoise.h5"),
    ("h5", "k3_multi.h5"),
    ("h5", "tfk_multi.h5"),
    ("json", "k3_multi.json"),
    ("json", "tfk_rnnoise_ra1.json"),
]


def run_worker(files, folder, timeout):
    """``{path: (outcome, detail)}`` from the worker subprocess; fails on a hang or crash."""
    listing = folder / "files.json"
    listing.write_text(json.dumps(files))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    try:
        result = subprocess.run(
            [sys.executable, "-m", "tests.saving.fuzzing", str(listing)],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=ROOT,
            env=env,
        )
        stdout, stderr = result.stdout, result.stderr
    except subprocess.TimeoutExpired as error:
        stdout = error.stdout.decode() if isinstance(error.stdout, bytes) else error.stdout or ""
        last = [json.loads(line) for line in stdout.splitlines()][-1:]
        pytest.fail(f"loading hung (timeout {timeout} s); last file: {last}")
    outcomes = {}
    for line in stdout.splitlines():
        entry = json.loads(line)
        if "outcome" in entry:
            outcomes[entry["path"]] = (entry["outcome"], entry["detail"])
    assert len(outcomes) == len(files), f"the worker stopped early: {stderr[-2000:]}"
    return outcomes


def check(outcomes):
    bad = {p: o for p, o in outcomes.items() if o[0] not in ("ok", "clear")}
    assert not bad, "\n".join(f"{p}: {o[0]}: {o[1]}" for p, o in bad.items())
    kinds = {o[0] for o in outcomes.values()}
    assert "clear" in kinds  # the fuzzer does damage files


def damaged_small_model(folder, per_kind, seed):
    sources = H.save_all(H.build_model(), folder)
    rng = np.random.default_rng(seed)
    files = []
    for kind in KINDS:
        for i in range(per_kind):
            out = folder / f"d{i}_{sources[kind].name}"
            fuzzing.damage(kind, sources[kind], out, rng)
            files.append([kind, str(out)])
    return files


def damaged_keras_files(folder, per_file, seed):
    rng = np.random.default_rng(seed)
    files = []
    for kind, name in KERAS_FILES:
        for i in range(per_file):
            out = folder / f"d{i}_{name}"
            fuzzing.damage(kind, FIXTURES / name, out, rng)
            files.append([kind, str(out)])
    return files


def test_fuzz_every_format(tmp_path):
    check(run_worker(damaged_small_model(tmp_path, 12, seed=13), tmp_path, timeout=300))


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fuzz_every_format_long(tmp_path, seed):
    check(run_worker(damaged_small_model(tmp_path, 80, seed), tmp_path, timeout=900))


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_fuzz_keras_written_files(tmp_path, seed):
    check(run_worker(damaged_keras_files(tmp_path, 20, seed), tmp_path, timeout=900))


def test_damage_is_seeded(tmp_path):
    source = H.save_all(H.build_model(), tmp_path)["json"]
    first = fuzzing.damage("json", source, tmp_path / "a.json", np.random.default_rng(5))
    second = fuzzing.damage("json", source, tmp_path / "b.json", np.random.default_rng(5))
    assert first.read_text() == second.read_text() != source.read_text()


def test_worker_reports_unclear_errors(tmp_path, monkeypatch):
    # A file the worker cannot classify as clear must be reported, not hidden.
    outcome, detail = fuzzing.load_one("weights_h5", tmp_path / "missing.weights.h5")
    assert outcome == "clear" and "missing.weights.h5" in detail
    monkeypatch.setattr(
        "gpuk.models.model_from_json",
        lambda *a, **k: (_ for _ in ()).throw(KeyError("layers")),
    )
    path = tmp_path / "x.json"
    path.write_text("{}")
    assert fuzzing.load_one("json", path)[0] == "unclear"


def test_a_global_heap_that_would_hang_libhdf5_is_refused(tmp_path):
    # Zeroing the header of the heap object holding model_config makes libhdf5 loop forever
    # reading the attribute; the file must be refused before h5py touches it.
    source = H.save_all(H.build_model(), tmp_path)["h5"]
    data = bytearray(source.read_bytes())
    heap = data.find(b"GCOL\x01\x00\x00\x00")
    config = data.find(b'{"class_name"', heap)
    assert 0 <= heap < config
    data[config - 16 : config] = bytes(16)
    damaged = tmp_path / "heap.h5"
    damaged.write_bytes(bytes(data))
    outcomes = run_worker([["h5", str(damaged)]], tmp_path, timeout=120)
    outcome, detail = outcomes[str(damaged)]
    assert outcome == "clear" and "global heap" in detail
