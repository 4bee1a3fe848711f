"""Keras 3's Variable API on gpuk.Variable (behaviour checked by hand against Keras 3.15)."""

import numpy as np
import pytest

import gpuk


def test_initializer_name_object_and_array(xp):
    v = gpuk.Variable(initializer="ones", shape=(2, 3), name="w")
    assert v.name == "w" and v.path == "w" and v.shape == (2, 3) and v.dtype == "float32"
    np.testing.assert_array_equal(v.numpy(), np.ones((2, 3)))
    init = gpuk.initializers.Constant(2.5)
    v = gpuk.Variable(initializer=init, shape=(2,), dtype="float64", trainable=False)
    assert v.dtype == "float64" and not v.trainable and v.initializer is init
    np.testing.assert_array_equal(v.numpy(), [2.5, 2.5])
    a = xp.asarray(np.arange(6.0).reshape(2, 3))
    v = gpuk.Variable(initializer=a)
    assert v.dtype == "float64" and v.initializer is None
    np.testing.assert_array_equal(v.numpy(), np.arange(6.0).reshape(2, 3))
    assert gpuk.Variable(3.0).dtype == "float32"
    v = gpuk.Variable(initializer=lambda shape, dtype: np.full(shape, 7.0, dtype), shape=(3,))
    np.testing.assert_array_equal(v.numpy(), [7.0, 7.0, 7.0])


def test_seeded_initializer_matches_add_weight():
    init = gpuk.initializers.GlorotUniform(seed=3)
    v = gpuk.Variable(initializer=init, shape=(4, 5))
    np.testing.assert_array_equal(v.numpy(), init((4, 5)))


def test_errors_are_keras_like():
    with pytest.raises(ValueError, match="`shape` argument should be specified"):
        gpuk.Variable(initializer="zeros")
    with pytest.raises(ValueError, match="cannot contain character"):
        gpuk.Variable(1.0, name="a/b")
    with pytest.raises(ValueError, match="shape"):
        gpuk.Variable(np.ones(3), shape=(4,))
    with pytest.raises(ValueError, match="aggregation"):
        gpuk.Variable(1.0, aggregation="max")
    with pytest.raises(ValueError, match="initializer"):
        gpuk.Variable()


def test_value_is_a_property_and_numpy_conversion(xp):
    v = gpuk.Variable(xp.asarray(np.array([1.5, 2.0], dtype="float32")))
    assert isinstance(v.value, gpuk.Tensor) and not isinstance(v.value, gpuk.Variable)
    assert float(v.value[0]) == 1.5
    assert float(gpuk.Variable(2.5)) == 2.5
    assert np.asarray(v).dtype == np.float32
    np.testing.assert_array_equal(np.asarray(v * 2.0), [3.0, 4.0])
    np.testing.assert_array_equal(gpuk.backend.get_value(v), [1.5, 2.0])
    assert v.read_value().numpy().tolist() == [1.5, 2.0]


def test_assign_family_returns_variable(xp):
    v = gpuk.Variable(initializer="zeros", shape=(2,))
    assert v.assign([1.0, 2.0]) is v
    v.assign_add(np.array([1.0, 1.0]))
    v.assign_sub(xp.asarray(np.array([0.5, 0.5], dtype="float32")))
    np.testing.assert_allclose(v.numpy(), [1.5, 2.5])
    assert v.dtype == "float32"


def test_tf_keras_spellings():
    v = gpuk.Variable(initial_value=np.ones(2), trainable=False, name="t")
    assert v.dtype == "float64" and not v.trainable
    v = gpuk.Variable(initial_value=lambda: np.zeros(3, "float32"))
    assert v.shape == (3,)
    k = gpuk.backend.variable(np.ones(2))
    assert gpuk.backend.get_value(k).tolist() == [1.0, 1.0]


def test_automatic_names_and_repr():
    v = gpuk.Variable(1.0)
    assert v.name.startswith("variable")
    assert repr(gpuk.Variable(np.zeros(2, "float32"), name="z")).startswith(
        "<Variable path=z, shape=(2,), dtype=float32, value="
    )


def _keras_cases():
    import json
    import os

    path = os.path.join(os.path.dirname(__file__), "fixtures", "keras", "variable", "variable.json")
    with open(path) as f:
        return json.load(f)


def test_matches_keras_fixture():
    """Values recorded from Keras 3.15 by tools/make_keras_fixtures_variable.py."""
    cases = _keras_cases()
    v = gpuk.Variable(initializer=gpuk.initializers.Constant(2.5), shape=(2, 3), name="w")
    want = cases["constant"]
    assert (v.dtype, list(v.shape), v.name, v.path, v.trainable) == (
        want["dtype"],
        want["shape"],
        want["name"],
        want["path"],
        want["trainable"],
    )
    assert v.value.numpy().tolist() == want["value"]
    assert repr(v) == want["repr"]
    v = gpuk.Variable(initializer="ones", shape=(2,), dtype="float64", trainable=False, name="b")
    v.assign_add(np.array([1.0, 2.0]))
    v.assign_sub([0.5, 0.5])
    want = cases["assign"]
    assert (v.dtype, v.trainable, v.numpy().tolist()) == (
        want["dtype"],
        want["trainable"],
        want["value"],
    )
    assert float(v[1]) == want["float"]
    v = gpuk.Variable(3.0)
    want = cases["python_float"]
    assert (v.dtype, list(v.shape), float(v)) == (want["dtype"], want["shape"], want["float"])
    v = gpuk.Variable(np.arange(6.0, dtype="float32").reshape(2, 3))
    want = cases["array"]
    assert v.dtype == want["dtype"] and np.asarray(v * 2.0).tolist() == want["times_two"]
    assert float(gpuk.ops.sum(v)) == want["sum"]
    assert (v.aggregation, v.synchronization) == (want["aggregation"], want["synchronization"])
