"""``Model.save``/``save_weights``/``load_weights``/``to_json`` are ordinary methods of
``Model`` (as in Keras 3), not attached by ``gpuk.saving`` when it is imported."""

import ast
import os
import pathlib
import subprocess
import sys
import textwrap

import gpuk
from gpuk.models import Model, Sequential, functional

ROOT = pathlib.Path(__file__).resolve().parents[2]
METHODS = ("save", "save_weights", "load_weights", "to_json")


def test_saving_methods_are_defined_on_the_model_class():
    for name in METHODS:
        method = Model.__dict__.get(name)
        assert method is not None, f"Model.{name} is not defined in the class body"
        assert method.__qualname__ == f"Model.{name}"
        assert method.__module__ == functional.__name__
    assert Sequential.save is Model.save


def test_models_reexports_the_saving_functions():
    for name in ("load_model", "save_model", "model_from_json", "clone_model"):
        assert getattr(gpuk.models, name) is getattr(gpuk.saving, name)


def test_no_gpuk_module_attaches_attributes_to_another_units_class():
    """No ``X.attr = ...`` on a class imported from ``gpuk.models`` anywhere in the package."""
    offenders = []
    for path in (ROOT / "gpuk").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if not isinstance(node, ast.Assign):
                continue
            for target in node.targets:
                if (
                    isinstance(target, ast.Attribute)
                    and isinstance(target.value, (ast.Name, ast.Attribute))
                    and getattr(target.value, "id", getattr(target.value, "attr", ""))
                    in ("Model", "Functional", "Sequential", "_models")
                    and target.attr in METHODS
                ):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, offenders


def test_importing_gpuk_models_alone_gives_a_model_that_saves(tmp_path):
    """Only ``gpuk.models`` and what it imports (``gpuk/__init__.py`` is not run, so nothing
    else imports ``gpuk.saving`` first): save, save_weights, load_weights, to_json work."""
    script = textwrap.dedent(
        f"""
        import pathlib, sys, types
        package = types.ModuleType("gpuk")
        package.__path__ = [{str(ROOT / "gpuk")!r}]
        sys.modules["gpuk"] = package
        assert "gpuk.saving" not in sys.modules
        import numpy as np
        import gpuk.models as models
        from gpuk.layers import Dense, Input
        model = models.Sequential([Input((3,)), Dense(2, name="d")])
        x = np.ones((2, 3), "float32")
        folder = pathlib.Path({str(tmp_path)!r})
        model.save(folder / "m.keras")
        model.save(folder / "m.h5")
        model.save_weights(folder / "m.weights.h5")
        np.testing.assert_allclose(
            models.load_model(folder / "m.keras").predict(x, verbose=0), model.predict(x, verbose=0)
        )
        np.testing.assert_allclose(
            models.load_model(folder / "m.h5").predict(x, verbose=0), model.predict(x, verbose=0)
        )
        other = models.Sequential([Input((3,)), Dense(2, name="d")])
        other.load_weights(folder / "m.weights.h5")
        np.testing.assert_allclose(other.predict(x, verbose=0), model.predict(x, verbose=0))
        assert models.model_from_json(model.to_json()).count_params() == 8
        print("ok")
        """
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")
