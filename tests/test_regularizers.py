"""gpuk.regularizers: Keras formulas and configs, float64 gradients, get() forms."""

import numpy as np
import pytest

import gpuk
from gpuk import regularizers
from gpuk._array import to_numpy
from gpuk.utils import custom_object_scope
from tests.gradcheck import assert_gradients_match

W = np.array([[0.7, -1.3, 0.25], [-0.4, 2.1, -0.9]])


def _value(tensor):
    assert isinstance(tensor, gpuk.Tensor)
    return to_numpy(tensor.data)


@pytest.mark.parametrize(
    "regularizer, expected",
    [
        (regularizers.L1(), 0.01 * np.abs(W).sum()),
        (regularizers.L1(0.3), 0.3 * np.abs(W).sum()),
        (regularizers.L2(), 0.01 * np.square(W).sum()),
        (regularizers.l2(1e-6), 1e-6 * np.square(W).sum()),
        (regularizers.L1L2(), 0.0),
        (regularizers.L1L2(l1=0.2), 0.2 * np.abs(W).sum()),
        (regularizers.L1L2(l1=0.2, l2=0.5), 0.2 * np.abs(W).sum() + 0.5 * np.square(W).sum()),
        (regularizers.l1_l2(l1=0.01, l2=0.001), 0.01 * np.abs(W).sum() + 1e-3 * (W**2).sum()),
    ],
    ids=repr,
)
def test_values_match_keras_formula(regularizer, expected, xp):
    for dtype in ("float32", "float64"):
        out = regularizer(gpuk.Tensor(xp.asarray(W.astype(dtype))))
        assert out.shape == ()
        assert out.dtype == dtype
        np.testing.assert_allclose(
            _value(out), expected, rtol=1e-6 if dtype == "float32" else 1e-13
        )


def test_accepts_variables_and_arrays(xp):
    variable = gpuk.Variable(xp.asarray(W))
    np.testing.assert_allclose(_value(regularizers.L2(0.5)(variable)), 0.5 * (W**2).sum())
    np.testing.assert_allclose(_value(regularizers.L1(0.5)(xp.asarray(W))), 0.5 * np.abs(W).sum())
    np.testing.assert_allclose(
        _value(regularizers.L1L2(0.1, 0.1)(xp.asarray(W))), 0.1 * (np.abs(W).sum() + (W**2).sum())
    )


@pytest.mark.parametrize(
    "regularizer",
    [
        regularizers.L1(0.3),
        regularizers.L2(0.7),
        regularizers.L1L2(l1=0.2, l2=0.5),
        regularizers.OrthogonalRegularizer(0.4),
        regularizers.OrthogonalRegularizer(0.4, mode="columns"),
    ],
    ids=repr,
)
def test_gradients_float64(regularizer, xp):
    assert_gradients_match(regularizer, [W], xp)


def test_gradient_flows_into_a_variable(xp):
    variable = gpuk.Variable(xp.asarray(W))
    with gpuk.GradientTape() as tape:
        penalty = regularizers.L2(0.01)(variable)
    (grad,) = tape.gradient(penalty, [variable])
    np.testing.assert_allclose(to_numpy(grad.data), 2 * 0.01 * W)  # no 0.5 factor, as Keras


def test_orthogonal_regularizer_matches_keras(xp):
    square = np.array([[1.0, -2.0], [3.0, 0.5]], dtype="float32")
    wide = np.array([[1.0, -2.0, 0.3], [3.0, 0.5, -1.0]], dtype="float32")
    # Keras 3.15 (JAX backend) values.
    rows = regularizers.OrthogonalRegularizer()
    np.testing.assert_allclose(_value(rows(xp.asarray(square))), 0.0029408582, rtol=1e-6)
    np.testing.assert_allclose(_value(rows(xp.asarray(wide))), 0.0023535751, rtol=1e-6)
    columns = regularizers.OrthogonalRegularizer(factor=0.3, mode="columns")
    np.testing.assert_allclose(_value(columns(xp.asarray(wide))), 0.14055784, rtol=1e-6)
    orthonormal = np.eye(3)
    assert float(rows(xp.asarray(orthonormal))) == 0.0
    with pytest.raises(ValueError, match="rank 2"):
        rows(xp.asarray(np.ones(3)))
    with pytest.raises(ValueError, match="mode"):
        regularizers.OrthogonalRegularizer(mode="diagonal")


def test_keras_configs_and_round_trips():
    assert regularizers.L1().get_config() == {"l1": 0.01}
    assert regularizers.L2().get_config() == {"l2": 0.01}
    assert regularizers.L1L2().get_config() == {"l1": 0.0, "l2": 0.0}
    assert regularizers.L1L2(l2=0.1).get_config() == {"l1": 0.0, "l2": 0.1}
    assert regularizers.l2(1e-6).get_config() == {"l2": 1e-6}
    assert regularizers.OrthogonalRegularizer().get_config() == {"factor": 0.01, "mode": "rows"}
    for reg in (
        regularizers.L1(0.2),
        regularizers.L2(0.3),
        regularizers.L1L2(0.01, 0.001),
        regularizers.OrthogonalRegularizer(0.1, "columns"),
    ):
        config = regularizers.serialize(reg)
        assert config == {"class_name": type(reg).__name__, "config": reg.get_config()}
        again = regularizers.deserialize(config)
        assert type(again) is type(reg) and again.get_config() == reg.get_config()
    # Integers become floats; None means the default.
    assert regularizers.L2(1).get_config() == {"l2": 1.0}
    assert regularizers.L1L2(None, None).get_config() == {"l1": 0.0, "l2": 0.0}
    assert regularizers.L2(None).get_config() == {"l2": 0.01}
    assert regularizers.L2(l=0.5).l2 == 0.5  # tf.keras's old spelling


def test_from_tf_keras_float32_rounded_configs():
    reg = regularizers.get({"class_name": "L2", "config": {"l2": 9.999999974752427e-07}})
    assert reg.l2 == 9.999999974752427e-07
    keras2 = {"class_name": "L1L2", "config": {"l1": 0.0, "l2": 0.0010000000474974513}}
    reg = regularizers.get(keras2)
    np.testing.assert_allclose(float(reg(W)), 0.0010000000474974513 * (W**2).sum())
    keras3 = {
        "module": "keras.regularizers",
        "class_name": "L2",
        "config": {"l2": 0.0001},
        "registered_name": None,
    }
    assert regularizers.get(keras3).get_config() == {"l2": 0.0001}
    assert regularizers.get({"class_name": "L1", "config": {"l1": np.float32(0.1)}}).l1 == (
        pytest.approx(0.1)
    )


@pytest.mark.parametrize(
    "name, cls, config",
    [
        ("l1", regularizers.L1, {"l1": 0.01}),
        ("L1", regularizers.L1, {"l1": 0.01}),
        ("l2", regularizers.L2, {"l2": 0.01}),
        ("L2", regularizers.L2, {"l2": 0.01}),
        ("L1L2", regularizers.L1L2, {"l1": 0.0, "l2": 0.0}),
        ("l1l2", regularizers.L1L2, {"l1": 0.0, "l2": 0.0}),
        ("l1_l2", regularizers.L1L2, {"l1": 0.01, "l2": 0.01}),
        (
            "orthogonal_regularizer",
            regularizers.OrthogonalRegularizer,
            {"factor": 0.01, "mode": "rows"},
        ),
    ],
)
def test_get_by_name(name, cls, config):
    reg = regularizers.get(name)
    assert type(reg) is cls and reg.get_config() == config


def test_get_other_forms_and_aliases():
    assert regularizers.get(None) is None
    reg = regularizers.L2(0.2)
    assert regularizers.get(reg) is reg
    assert type(regularizers.get(regularizers.L1)) is regularizers.L1
    assert regularizers.l1 is regularizers.L1
    assert regularizers.l2 is regularizers.L2
    assert regularizers.l1_l2 is regularizers.L1L2

    def my_penalty(w):
        return 0.5 * gpuk.ops.sum(w)

    assert regularizers.get(my_penalty) is my_penalty


def test_custom_regularizer_subclass_keras_way(xp):
    class L2Regularizer(regularizers.Regularizer):
        def __init__(self, l2=0.0):
            self.l2 = l2

        def __call__(self, x):
            return self.l2 * gpuk.ops.sum(gpuk.ops.square(x))

        def get_config(self):
            return {"l2": float(self.l2)}

    config = regularizers.serialize(L2Regularizer(0.3))
    assert config == {"class_name": "L2Regularizer", "config": {"l2": 0.3}}
    with custom_object_scope({"L2Regularizer": L2Regularizer}):
        reg = regularizers.get(config)
    np.testing.assert_allclose(_value(reg(xp.asarray(W))), 0.3 * (W**2).sum())
    with pytest.raises(NotImplementedError):
        regularizers.Regularizer().get_config()
    assert regularizers.Regularizer()(W) == 0.0


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf"), "0.1", True])
def test_invalid_factors(bad):
    with pytest.raises(ValueError, match="l2"):
        regularizers.L2(bad)
    with pytest.raises(ValueError, match="l1"):
        regularizers.L1L2(l1=bad)


def test_unknown_names_and_bad_identifiers():
    with pytest.raises(ValueError, match="Unknown regularizer: 'l3'.*L1L2.*l2"):
        regularizers.get("l3")
    with pytest.raises(ValueError, match="Unknown regularizer: 'L3'"):
        regularizers.get({"class_name": "L3", "config": {}})
    with pytest.raises(TypeError, match="regularizer"):
        regularizers.get(0.01)
