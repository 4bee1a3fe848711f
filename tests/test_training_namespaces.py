"""gpuk's losses, optimizers, callbacks and mixed_precision namespaces against Keras 3.15's
(name lists written by ``tools/keras_namespaces_training.py``).

A Keras name counts when gpuk has it as a callable or a module. Names gpuk deliberately lacks
are listed in ``ABSENT`` with the reason.
"""

import pathlib
import types

import pytest

import gpuk

LISTS = pathlib.Path(__file__).resolve().parent / "fixtures/keras/namespaces"

#: Keras names gpuk deliberately lacks, and why (none at present: OrbaxCheckpoint exists
#: and raises ImportError as Keras does without the orbax package).
ABSENT = {}

NAMESPACES = {
    "losses": gpuk.losses,
    "optimizers": gpuk.optimizers,
    "optimizers.schedules": gpuk.optimizers.schedules,
    "callbacks": gpuk.callbacks,
    "mixed_precision": gpuk.mixed_precision,
}


def keras_names(namespace):
    lines = (LISTS / f"{namespace}.txt").read_text().splitlines()
    return [n for n in lines if n and not n.startswith("#")]


def _has(module, name):
    value = getattr(module, name, None)
    return callable(value) or isinstance(value, types.ModuleType)


@pytest.mark.parametrize("namespace", sorted(NAMESPACES))
def test_namespace_covers_keras(namespace):
    module = NAMESPACES[namespace]
    names = keras_names(namespace)
    missing = [n for n in names if not _has(module, n) and n not in ABSENT.get(namespace, {})]
    assert missing == [], f"gpuk.{namespace} lacks Keras names not listed in ABSENT: {missing}"
    present = sum(_has(module, n) for n in names)
    assert present / len(names) >= 0.95, f"{present}/{len(names)}"


def test_absent_names_are_keras_names():
    for namespace, names in ABSENT.items():
        assert set(names) <= set(keras_names(namespace))


def test_orbax_checkpoint_says_why_it_is_unavailable():
    with pytest.raises(ImportError, match="ModelCheckpoint"):
        gpuk.callbacks.OrbaxCheckpoint("/tmp/never")
