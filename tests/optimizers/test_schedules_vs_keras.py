"""Learning-rate schedules against values, configs and serialized forms Keras 3 computed.

Expected values: tests/fixtures/keras/mutoc/values.json (tools/make_keras_fixtures_mutoc.py).
"""

import json
import os

import numpy as np
import pytest

import gpuk
from gpuk.optimizers import schedules

REF = json.load(
    open(os.path.join(os.path.dirname(__file__), "..", "fixtures", "keras", "mutoc", "values.json"))
)
CASES = REF["schedules"]
IDS = [f"{c['class_name']}-{i}" for i, c in enumerate(CASES)]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_schedule_values_match_keras(case):
    schedule = getattr(schedules, case["class_name"])(**case["kwargs"])
    got = [float(np.asarray(schedule(np.int64(step)))) for step in REF["steps"]]
    np.testing.assert_allclose(got, case["values"], rtol=2e-6, atol=1e-9)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_schedule_accepts_every_step_type(case):
    schedule = getattr(schedules, case["class_name"])(**case["kwargs"])
    step, expected = REF["steps"][5], case["values"][5]
    for value in (step, np.int64(step), gpuk.Variable(np.asarray(step, dtype="int64"))):
        out = schedule(value)
        assert isinstance(out, gpuk.Tensor)
        assert out.dtype == "float32" and tuple(out.shape) == ()
        np.testing.assert_allclose(float(np.asarray(out)), expected, rtol=2e-6)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_schedule_config_and_serialized_form_match_keras(case):
    schedule = getattr(schedules, case["class_name"])(**case["kwargs"])
    assert schedule.get_config() == case["config"]
    assert schedules.serialize(schedule) == case["serialized"]
    clone = schedules.deserialize(case["serialized"])
    assert type(clone) is type(schedule)
    assert clone.get_config() == case["config"]
    clone = type(schedule).from_config(case["config"])
    np.testing.assert_allclose(
        [float(np.asarray(clone(s))) for s in REF["steps"]], case["values"], rtol=2e-6
    )


@pytest.mark.parametrize(
    "build, argument",
    [
        (lambda v: schedules.ExponentialDecay(0.1, v, 0.5), "decay_steps"),
        (lambda v: schedules.PolynomialDecay(0.1, v), "decay_steps"),
        (lambda v: schedules.InverseTimeDecay(0.1, v, 0.5), "decay_steps"),
        (lambda v: schedules.CosineDecay(0.1, v), "decay_steps"),
        (lambda v: schedules.CosineDecayRestarts(0.1, v), "first_decay_steps"),
    ],
)
def test_decay_steps_must_be_positive(build, argument):
    for bad in (0, -3):
        with pytest.raises(ValueError, match=rf"`{argument}` must be > 0.*{argument}={bad}"):
            build(bad)
    build(1)  # the smallest accepted value


def test_piecewise_constant_lengths_are_checked():
    with pytest.raises(ValueError, match=r"1 less than the length of values.*length 2.*length 2"):
        schedules.PiecewiseConstantDecay([1, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="length 1"):
        schedules.PiecewiseConstantDecay([1], [0.1, 0.2, 0.3])


def test_piecewise_constant_boundary_is_inclusive():
    schedule = schedules.PiecewiseConstantDecay([3], [0.5, 0.25])
    assert [float(np.asarray(schedule(s))) for s in (2, 3, 4)] == [0.5, 0.5, 0.25]


def test_base_schedule_must_be_overridden():
    class Incomplete(schedules.LearningRateSchedule):
        pass

    with pytest.raises(NotImplementedError, match=r"'Incomplete' must override `__call__"):
        Incomplete()(0)
    with pytest.raises(NotImplementedError, match=r"'Incomplete' must override `get_config"):
        Incomplete().get_config()


def test_custom_schedule_serializes_with_its_module_and_registered_name():
    @gpuk.saving.register_keras_serializable(package="mutoc")
    class Halving(schedules.LearningRateSchedule):
        def __init__(self, rate):
            self.rate = rate

        def __call__(self, step):
            return self.rate / (step + 1)

        def get_config(self):
            return {"rate": self.rate}

    config = schedules.serialize(Halving(0.5))
    assert config["module"] == Halving.__module__
    assert config["class_name"] == "Halving"
    assert config["registered_name"] == "mutoc>Halving"
    assert config["config"] == {"rate": 0.5}
    clone = schedules.deserialize(config)
    assert isinstance(clone, Halving) and clone.rate == 0.5
