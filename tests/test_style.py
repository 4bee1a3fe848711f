"""The code base stays ruff-clean (lint and format), as the project's conventions require."""

import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize("command", [["check", "."], ["format", "--check", "."]])
def test_ruff_is_clean(command):
    beside_python = os.path.join(os.path.dirname(sys.executable), "ruff")
    ruff = shutil.which("ruff") or (beside_python if os.path.exists(beside_python) else None)
    if ruff is None:
        pytest.skip("ruff is not installed (it comes with the 'test' extra)")
    done = subprocess.run([ruff, *command], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
