"""``gpuk.optimizers.serialize``/``deserialize``/``get`` live in ``optimizers/serialization.py``
over the table the package fills on import; the wrappers rebuild their inner optimizers
through it (no optimizer module imports its own package)."""

import pytest

from gpuk import optimizers
from gpuk.optimizers import serialization


def test_package_functions_are_the_serialization_modules():
    assert optimizers.serialize is serialization.serialize
    assert optimizers.deserialize is serialization.deserialize
    assert optimizers.get is serialization.get


def test_every_builtin_class_is_registered_by_its_lower_case_name():
    for name in optimizers.__all__:
        cls = getattr(optimizers, name)
        if isinstance(cls, type) and issubclass(cls, optimizers.Optimizer):
            if cls is not optimizers.Optimizer:
                assert serialization._BUILTINS[name.lower()] is cls
    assert type(optimizers.get("ADAMW")) is optimizers.AdamW


@pytest.mark.parametrize(
    "make",
    [
        lambda: optimizers.LossScaleOptimizer(optimizers.Adam(0.003), initial_scale=64.0),
        lambda: optimizers.MultiOptimizer(
            optimizers.OptimizerMap(optimizers.SGD(0.1), {"dense/kernel": optimizers.Adam(0.01)})
        ),
    ],
    ids=["LossScaleOptimizer", "MultiOptimizer"],
)
def test_wrappers_round_trip_their_inner_optimizers(make):
    optimizer = make()
    config = optimizers.serialize(optimizer)
    assert config["module"] == "keras.optimizers" and config["registered_name"] is None
    rebuilt = optimizers.deserialize(config)
    assert type(rebuilt) is type(optimizer)
    assert rebuilt.get_config() == optimizer.get_config()
