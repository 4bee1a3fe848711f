"""gpuk.ops against the committed list of Keras 3.15's ``keras.ops`` names
(``tools/keras_namespaces_ops.py``), and its ``nn``/``numpy``/``linalg``/``image`` submodules.

A Keras name counts when gpuk has it as a callable (or, for the four submodules, as a
namespace). What gpuk leaves out is listed in ``ABSENT`` with the reason, and in
``docs/ops.md``.
"""

import pathlib
import types

import pytest

from gpuk import ops

LISTS = pathlib.Path(__file__).resolve().parents[1] / "fixtures/keras/namespaces"

#: Keras names gpuk deliberately lacks, and why (none at present).
ABSENT = {}

SUBMODULES = ("image", "linalg", "nn", "numpy")


def keras_names(namespace):
    lines = (LISTS / f"{namespace}.txt").read_text().splitlines()
    return [n for n in lines if n and not n.startswith("#")]


def _has(module, name):
    value = getattr(module, name, None)
    return callable(value) or isinstance(value, types.ModuleType)


def test_absent_names_are_keras_names():
    assert set(ABSENT) <= set(keras_names("ops"))


@pytest.mark.parametrize("namespace", ["ops", "ops.nn", "ops.numpy", "ops.linalg", "ops.image"])
def test_namespace_covers_keras(namespace):
    module = ops if namespace == "ops" else getattr(ops, namespace.split(".")[1])
    names = keras_names(namespace)
    missing = [n for n in names if not _has(module, n) and n not in ABSENT]
    assert missing == [], f"gpuk.{namespace} lacks Keras names not listed in ABSENT: {missing}"
    present = sum(_has(module, n) for n in names)
    assert present / len(names) >= 0.95, f"{present}/{len(names)}"


def test_submodules_are_namespaces_of_the_same_functions():
    for name in SUBMODULES:
        assert isinstance(getattr(ops, name), types.ModuleType)
    assert ops.nn.relu is ops.relu
    assert ops.numpy.einsum is ops.einsum
    assert ops.linalg.solve is ops.solve
    # the implementation modules stay importable for gpuk's own code
    from gpuk.ops.linalg import matmul
    from gpuk.ops.nn import Softmax

    assert matmul is ops.matmul.eager and Softmax is not None


def test_shape_is_the_function():
    assert ops.shape(ops.zeros((2, 3))) == (2, 3)


def test_no_module_shadows_a_keras_op():
    package = pathlib.Path(ops.__file__).parent
    modules = {p.stem for p in package.glob("*.py")} | {
        p.name for p in package.iterdir() if p.is_dir() and (p / "__init__.py").exists()
    }
    clashes = sorted((modules & set(keras_names("ops"))) - set(SUBMODULES))
    assert clashes == [], f"gpuk/ops modules named like Keras ops: {clashes}"
    for name in keras_names("ops"):
        if name not in ABSENT and name not in SUBMODULES:
            assert not isinstance(getattr(ops, name), types.ModuleType), name
