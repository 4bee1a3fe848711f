"""gpuk.constraints: Keras numerics, configs, get() forms and user subclasses with a stray name."""

import warnings

import numpy as np
import pytest

import gpuk
from gpuk import _config, constraints
from gpuk._array import to_numpy
from gpuk.utils import custom_object_scope

X = np.array([[-3.0, 0.5, 1.2], [2.0, -0.1, 4.0]], dtype="float32")
EPS = 1e-7


def _value(tensor):
    assert isinstance(tensor, gpuk.Tensor)
    return to_numpy(tensor.data)


def _norms(w, axis):
    return np.sqrt(np.sum(w**2, axis=axis, keepdims=True))


def test_values_match_keras(xp):
    # Keras 3.15 (JAX backend) applied to X.
    x = xp.asarray(X)
    np.testing.assert_allclose(
        _value(constraints.MaxNorm(1.0)(x)),
        [[-0.8320503, 0.49999988, 0.28734788], [0.5547002, -0.09999998, 0.95782626]],
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        _value(constraints.MinMaxNorm(0.5, 1.0, 0.7)(x)),
        [[-1.4824352, 0.49999988, 0.5611435], [0.98829013, -0.09999998, 1.8704784]],
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        _value(constraints.UnitNorm()(x)),
        [[-0.8320503, 0.98058045, 0.28734788], [0.5547002, -0.19611609, 0.95782626]],
        rtol=1e-6,
    )
    np.testing.assert_array_equal(_value(constraints.NonNeg()(x)), np.maximum(X, 0))


@pytest.mark.parametrize("axis", [0, 1, -1, [0, 1]])
def test_norm_constraints_match_numpy_float64(axis, xp):
    w = np.random.default_rng(0).normal(size=(4, 5)) * 2
    ax = tuple(axis) if isinstance(axis, list) else axis
    norms = _norms(w, ax)
    out = constraints.MaxNorm(max_value=1.5, axis=axis)(xp.asarray(w))
    np.testing.assert_allclose(_value(out), w * np.clip(norms, 0, 1.5) / (EPS + norms), rtol=1e-13)
    assert np.all(_norms(_value(out), ax) <= 1.5 + 1e-6)
    out = constraints.UnitNorm(axis=axis)(xp.asarray(w))
    np.testing.assert_allclose(_value(out), w / (EPS + norms), rtol=1e-13)
    np.testing.assert_allclose(_norms(_value(out), ax), 1.0, rtol=1e-6)
    out = constraints.MinMaxNorm(min_value=2.0, max_value=2.5, rate=0.4, axis=axis)(xp.asarray(w))
    desired = 0.4 * np.clip(norms, 2.0, 2.5) + 0.6 * norms
    np.testing.assert_allclose(_value(out), w * desired / (EPS + norms), rtol=1e-13)
    out = constraints.MinMaxNorm(min_value=2.0, max_value=2.5, axis=axis)(xp.asarray(w))
    assert np.all((_norms(_value(out), ax) >= 2.0 - 1e-6) & (_norms(_value(out), ax) <= 2.5 + 1e-6))


def test_dtype_kept_and_variables_accepted(xp):
    for cls in (
        constraints.MaxNorm,
        constraints.MinMaxNorm,
        constraints.NonNeg,
        constraints.UnitNorm,
    ):
        out = cls()(xp.asarray(X))
        assert out.dtype == np.float32 and out.shape == X.shape
        out64 = cls()(gpuk.Variable(xp.asarray(X.astype("float64"))))
        assert out64.dtype == np.float64


def test_epsilon_is_keras_epsilon(xp):
    zero_column = np.array([[0.0, 3.0], [0.0, 4.0]])
    out = _value(constraints.UnitNorm()(xp.asarray(zero_column)))
    np.testing.assert_allclose(out, [[0.0, 3 / (5 + EPS)], [0.0, 4 / (5 + EPS)]], rtol=1e-15)
    _config.set_epsilon(0.5)
    out = _value(constraints.UnitNorm()(xp.asarray(zero_column)))
    np.testing.assert_allclose(out[:, 1], [3 / 5.5, 4 / 5.5], rtol=1e-15)


def test_keras_configs_and_round_trips():
    assert constraints.MaxNorm().get_config() == {"max_value": 2, "axis": 0}
    assert constraints.MinMaxNorm().get_config() == {
        "min_value": 0.0,
        "max_value": 1.0,
        "rate": 1.0,
        "axis": 0,
    }
    assert constraints.NonNeg().get_config() == {}
    assert constraints.UnitNorm().get_config() == {"axis": 0}
    assert constraints.Constraint().get_config() == {}
    for con in (
        constraints.MaxNorm(3.0, axis=[0, 1]),
        constraints.MinMaxNorm(0.1, 2.0, 0.5, 1),
        constraints.NonNeg(),
        constraints.UnitNorm(axis=1),
    ):
        config = constraints.serialize(con)
        assert config == {"class_name": type(con).__name__, "config": con.get_config()}
        again = constraints.deserialize(config)
        assert type(again) is type(con) and again.get_config() == con.get_config()


@pytest.mark.parametrize(
    "name, cls",
    [
        ("max_norm", constraints.MaxNorm),
        ("MaxNorm", constraints.MaxNorm),
        ("maxnorm", constraints.MaxNorm),
        ("min_max_norm", constraints.MinMaxNorm),
        ("MinMaxNorm", constraints.MinMaxNorm),
        ("non_neg", constraints.NonNeg),
        ("NonNeg", constraints.NonNeg),
        ("nonneg", constraints.NonNeg),
        ("unit_norm", constraints.UnitNorm),
        ("UnitNorm", constraints.UnitNorm),
        ("unitnorm", constraints.UnitNorm),
    ],
)
def test_get_by_name(name, cls):
    assert type(constraints.get(name)) is cls


def test_get_other_forms_and_aliases():
    assert constraints.get(None) is None
    con = constraints.MaxNorm(3)
    assert constraints.get(con) is con
    assert type(constraints.get(constraints.NonNeg)) is constraints.NonNeg
    assert (
        constraints.get(
            {"class_name": "MaxNorm", "config": {"max_value": 3.0, "axis": 0}}
        ).max_value
        == 3.0
    )
    keras3 = {
        "module": "keras.constraints",
        "class_name": "MinMaxNorm",
        "config": {"min_value": 0.0, "max_value": 2.0, "rate": 1.0, "axis": 0},
        "registered_name": None,
    }
    assert constraints.get(keras3).max_value == 2.0
    assert constraints.max_norm is constraints.MaxNorm
    assert constraints.min_max_norm is constraints.MinMaxNorm
    assert constraints.non_neg is constraints.NonNeg
    assert constraints.unit_norm is constraints.UnitNorm

    def clip_to_one(w):
        return gpuk.ops.clip(w, -1.0, 1.0)

    assert constraints.get(clip_to_one) is clip_to_one


class WeightClip(constraints.Constraint):
    """rnnoise's constraint, written the Keras 2 way (note the stray ``name`` in its config)."""

    def __init__(self, c=2):
        self.c = c

    def __call__(self, p):
        return gpuk.ops.clip(p, -self.c, self.c)

    def get_config(self):
        return {"name": self.__class__.__name__, "c": self.c}


def test_user_subclass_with_stray_name_key(xp):
    clip = WeightClip(0.499)
    np.testing.assert_allclose(_value(clip(xp.asarray(X))), np.clip(X, -0.499, 0.499))
    config = constraints.serialize(clip)
    assert config == {"class_name": "WeightClip", "config": {"name": "WeightClip", "c": 0.499}}
    with pytest.warns(UserWarning, match="name"):
        again = constraints.deserialize(config, custom_objects={"WeightClip": WeightClip})
    assert type(again) is WeightClip and again.c == 0.499
    # Keras 3 / tf-keras 2.21 form with a registered name, found by its bare name.
    keras3 = {
        "module": "models_k3",
        "class_name": "WeightClip",
        "config": {"name": "WeightClip", "c": 0.499},
        "registered_name": "rnnoise>WeightClip",
    }
    with custom_object_scope({"WeightClip": WeightClip}), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert constraints.get(keras3).c == 0.499
    with pytest.raises(ValueError, match="Unknown constraint: 'WeightClip'"):
        constraints.get(config)


def test_base_constraint_returns_input_unchanged():
    w = gpuk.Tensor(np.ones(3))
    assert constraints.Constraint()(w) is w


def test_unknown_names_and_bad_identifiers():
    with pytest.raises(ValueError, match="Unknown constraint: 'max'.*max_norm.*unit_norm"):
        constraints.get("max")
    with pytest.raises(TypeError, match="constraint"):
        constraints.get(2.0)
