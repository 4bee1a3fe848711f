"""gpuk.activations: values against Keras 3 and NumPy, float64 gradients, get/serialize."""

import math

import numpy as np
import pytest

import gpuk
from gpuk import activations
from gpuk._array import to_numpy
from gpuk.utils import custom_object_scope
from tests.gradcheck import assert_gradients_match

X = np.array([-5.0, -2.5, -1.0, -0.3, 0.0, 0.4, 1.0, 2.7, 6.5], dtype="float32")

# Keras 3.15 (JAX backend, float32) applied to X; made once with the reference venv.
KERAS_VALUES = {
    "linear": [-5, -2.5, -1, -0.30000001, 0, 0.40000001, 1, 2.7, 6.5],
    "relu": [0, 0, 0, 0, 0, 0.40000001, 1, 2.7, 6.5],
    "relu6": [0, 0, 0, 0, 0, 0.40000001, 1, 2.7, 6],
    "leaky_relu": [-1, -0.5, -0.2, -0.060000002, 0, 0.40000001, 1, 2.7, 6.5],
    "elu": [-0.99326205, -0.91791499, -0.63212055, -0.25918177, 0, 0.40000001, 1, 2.7, 6.5],
    "selu": [
        -1.7462534,
        -1.6137857,
        -1.1113307,
        -0.45566729,
        0,
        0.42028043,
        1.050701,
        2.8368928,
        6.8295565,
    ],
    "gelu": [
        -1.4332579e-06,
        -0.015524165,
        -0.15865527,
        -0.11462659,
        0,
        0.26216871,
        0.84134471,
        2.6906393,
        6.5,
    ],
    "sigmoid": [
        0.006692851,
        0.075858176,
        0.26894143,
        0.42555749,
        0.5,
        0.59868765,
        0.7310586,
        0.93702662,
        0.9984988,
    ],
    "hard_sigmoid": [
        0,
        0.083333336,
        0.33333334,
        0.45000002,
        0.5,
        0.56666672,
        0.66666669,
        0.94999999,
        1,
    ],
    "tanh": [
        -0.99990916,
        -0.98661435,
        -0.76159418,
        -0.29131261,
        0,
        0.379949,
        0.76159418,
        0.99100745,
        0.99999547,
    ],
    "softplus": [
        0.0067153485,
        0.078889735,
        0.31326169,
        0.55435526,
        0.69314718,
        0.91301525,
        1.3132617,
        2.7650435,
        6.5015025,
    ],
    "softsign": [
        -0.83333331,
        -0.71428573,
        -0.5,
        -0.23076925,
        0,
        0.2857143,
        0.5,
        0.72972971,
        0.86666667,
    ],
    "silu": [
        -0.033464253,
        -0.18964544,
        -0.26894143,
        -0.12766725,
        0,
        0.23947506,
        0.7310586,
        2.5299718,
        6.490242,
    ],
    "exponential": [
        0.006737947,
        0.082084998,
        0.36787945,
        0.7408182,
        1,
        1.4918246,
        2.7182817,
        14.879732,
        665.14166,
    ],
    "mish": [
        -0.033576235,
        -0.19681618,
        -0.30340144,
        -0.15113318,
        0,
        0.28903055,
        0.86509848,
        2.6786702,
        6.4999704,
    ],
    "celu": [-0.99326205, -0.91791499, -0.63212055, -0.25918177, 0, 0.40000001, 1, 2.7, 6.5],
    "hard_silu": [
        -0,
        -0.20833334,
        -0.33333334,
        -0.13500001,
        0,
        0.22666669,
        0.66666669,
        2.5650001,
        6.5,
    ],
    "hard_tanh": [-1, -1, -1, -0.30000001, 0, 0.40000001, 1, 1, 1],
    "hard_shrink": [-5, -2.5, -1, 0, 0, 0, 1, 2.7, 6.5],
    "soft_shrink": [-4.5, -2, -0.5, 0, 0, 0, 0.5, 2.2, 6],
    "sparse_plus": [0, 0, 0, 0.12249999, 0.25, 0.48999998, 1, 2.7, 6.5],
    "sparse_sigmoid": [0, 0, 0, 0.34999999, 0.5, 0.69999999, 1, 1, 1],
    "squareplus": [
        0.19258237,
        0.35078108,
        0.61803401,
        0.86118746,
        1,
        1.2198039,
        1.618034,
        3.0300298,
        6.6503677,
    ],
    "tanh_shrink": [
        -4.0000906,
        -1.5133857,
        -0.23840582,
        -0.0086874068,
        0,
        0.020051003,
        0.23840582,
        1.7089926,
        5.5000048,
    ],
    "log_sigmoid": [
        -5.0067153,
        -2.5788898,
        -1.3132617,
        -0.85435528,
        -0.69314718,
        -0.51301527,
        -0.31326169,
        -0.065043561,
        -0.0015023102,
    ],
}

# Points away from every kink (0, +-0.5, +-1, +-2.5, +-3, 6) for central differences.
SMOOTH = np.array([[-3.7, -2.3, -0.8, -0.2, 0.35], [0.7, 1.3, 2.9, 6.4, -1.6]])


def _erf(v):
    return np.vectorize(math.erf)(v)


def _softplus(v):
    return np.logaddexp(0.0, v)


def _sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805

# Float64 NumPy references, written from Keras's documented formulas.
NUMPY_REFERENCES = {
    "linear": lambda v: v,
    "relu": lambda v: np.maximum(v, 0),
    "relu6": lambda v: np.clip(v, 0, 6),
    "leaky_relu": lambda v: np.where(v > 0, v, 0.2 * v),
    "elu": lambda v: np.where(v > 0, v, np.expm1(v)),
    "selu": lambda v: SELU_SCALE * np.where(v > 0, v, SELU_ALPHA * np.expm1(v)),
    "gelu": lambda v: 0.5 * v * (1 + _erf(v / np.sqrt(2))),
    "sigmoid": _sigmoid,
    "hard_sigmoid": lambda v: np.clip(v / 6 + 0.5, 0, 1),
    "tanh": np.tanh,
    "softplus": _softplus,
    "softsign": lambda v: v / (1 + np.abs(v)),
    "silu": lambda v: v * _sigmoid(v),
    "swish": lambda v: v * _sigmoid(v),
    "exponential": np.exp,
    "mish": lambda v: v * np.tanh(_softplus(v)),
    "celu": lambda v: np.maximum(v, 0) + np.minimum(np.expm1(v), 0),
    "hard_silu": lambda v: v * np.clip(v / 6 + 0.5, 0, 1),
    "hard_swish": lambda v: v * np.clip(v / 6 + 0.5, 0, 1),
    "hard_tanh": lambda v: np.clip(v, -1, 1),
    "hard_shrink": lambda v: np.where(np.abs(v) > 0.5, v, 0),
    "soft_shrink": lambda v: np.where(v > 0.5, v - 0.5, np.where(v < -0.5, v + 0.5, 0)),
    "sparse_plus": lambda v: np.where(v <= -1, 0, np.where(v >= 1, v, (v + 1) ** 2 / 4)),
    "sparse_sigmoid": lambda v: np.clip((v + 1) / 2, 0, 1),
    "squareplus": lambda v: (v + np.sqrt(v * v + 4)) / 2,
    "tanh_shrink": lambda v: v - np.tanh(v),
    "log_sigmoid": lambda v: -_softplus(-v),
}
ELEMENTWISE = sorted(NUMPY_REFERENCES)


def _softmax(v, axis=-1):
    e = np.exp(v - v.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("name", sorted(KERAS_VALUES))
def test_values_match_keras(name, xp):
    out = activations.get(name)(gpuk.Tensor(xp.asarray(X)))
    assert isinstance(out, gpuk.Tensor)
    assert out.dtype == np.float32
    np.testing.assert_allclose(to_numpy(out.data), KERAS_VALUES[name], rtol=2e-6, atol=2e-7)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_values_match_numpy_float64(name, xp):
    x = np.linspace(-7.0, 7.0, 29)
    out = getattr(activations, name)(gpuk.Tensor(xp.asarray(x)))
    assert out.dtype == np.float64
    np.testing.assert_allclose(
        to_numpy(out.data), NUMPY_REFERENCES[name](x), rtol=1e-12, atol=1e-14
    )


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_gradients_float64(name, xp):
    assert_gradients_match(getattr(activations, name), [SMOOTH], xp)


def test_keyword_arguments_match_keras(xp):
    x = gpuk.Tensor(xp.asarray(X))
    out = activations.relu(x, negative_slope=0.1, max_value=2.0, threshold=0.5)
    expected = [-0.55, -0.3, -0.15, -0.08, -0.05, -0.01, 1.0, 2.0, 2.0]
    np.testing.assert_allclose(to_numpy(out.data), expected, rtol=1e-6, atol=1e-7)
    approx = activations.gelu(x, approximate=True)
    keras_approx = [0, -0.015084296, -0.15880796, -0.11462908, 0, 0.2621612, 0.84119201, 2.6911125]
    np.testing.assert_allclose(to_numpy(approx.data)[:8], keras_approx, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        to_numpy(activations.leaky_relu(x, negative_slope=0.5).data), np.where(X > 0, X, 0.5 * X)
    )
    np.testing.assert_allclose(
        to_numpy(activations.elu(x, alpha=2.0).data),
        np.where(X > 0, X, 2.0 * np.expm1(X)),
        rtol=1e-6,
    )


def test_softmax_and_log_softmax_match_keras(xp):
    m = gpuk.Tensor(xp.asarray(X.reshape(3, 3)))
    keras_softmax = [
        [0.014753475, 0.17973413, 0.80551243],
        [0.22916795, 0.30934441, 0.46148762],
        [0.0039814324, 0.021794153, 0.97422439],
    ]
    keras_softmax_axis0 = [
        [0.0019441034, 0.0051425858, 0.00055154227],
        [0.21374866, 0.062649511, 0.0022366145],
        [0.78430724, 0.93220788, 0.99721187],
    ]
    keras_log_softmax = [
        [-4.2162766, -1.7162766, -0.21627666],
        [-1.4733001, -1.1733, -0.77330005],
        [-5.5261135, -3.8261135, -0.026113601],
    ]
    np.testing.assert_allclose(to_numpy(activations.softmax(m).data), keras_softmax, rtol=1e-6)
    np.testing.assert_allclose(
        to_numpy(activations.softmax(m, axis=0).data), keras_softmax_axis0, rtol=1e-6
    )
    np.testing.assert_allclose(
        to_numpy(activations.log_softmax(m).data), keras_log_softmax, rtol=1e-6
    )


@pytest.mark.parametrize("axis", [-1, 0])
def test_softmax_log_softmax_glu_gradients(axis, xp):
    x = np.random.default_rng(0).normal(size=(3, 4))
    weights = np.random.default_rng(1).normal(size=(3, 4))
    # Weighted sums: the plain sum of a softmax is constant, its gradient zero.
    assert_gradients_match(lambda t: activations.softmax(t, axis=axis) * weights, [x], xp)
    assert_gradients_match(lambda t: activations.log_softmax(t, axis=axis) * weights, [x], xp)
    np.testing.assert_allclose(
        to_numpy(activations.softmax(gpuk.Tensor(xp.asarray(x)), axis=axis).data),
        _softmax(x, axis),
        rtol=1e-12,
    )
    assert_gradients_match(
        lambda t: activations.glu(t, axis=axis), [x[:, :2] if axis else x[:2]], xp
    )


def test_glu_matches_keras_and_rejects_odd_size(xp):
    x = gpuk.Tensor(xp.asarray(X[:8].reshape(2, 4)))
    np.testing.assert_allclose(
        to_numpy(activations.glu(x).data), [[-1.3447071, -1.0638938], [0.0, 0.37481067]], rtol=1e-6
    )
    with pytest.raises(ValueError, match="even"):
        activations.glu(gpuk.Tensor(xp.asarray(X[:3])))


def test_threshold_and_legacy_hard_sigmoid(xp):
    x = gpuk.Tensor(xp.asarray(SMOOTH))
    np.testing.assert_allclose(
        to_numpy(activations.threshold(x, 0.5, -1.0).data), np.where(SMOOTH > 0.5, SMOOTH, -1.0)
    )
    np.testing.assert_allclose(
        to_numpy(activations.hard_sigmoid_legacy(x).data), np.clip(0.2 * SMOOTH + 0.5, 0, 1)
    )
    assert_gradients_match(activations.hard_sigmoid_legacy, [SMOOTH], xp)
    assert_gradients_match(lambda t: activations.threshold(t, 0.5, -1.0), [SMOOTH], xp)


def test_functions_look_like_keras():
    assert activations.relu.__name__ == "relu"
    assert str(activations.relu).startswith("<function relu at 0x")
    assert activations.swish is activations.silu  # Keras 3 exports swish as silu
    for name in KERAS_VALUES:
        assert getattr(activations, name).__name__ == name


def test_get_every_identifier_form():
    assert activations.get(None) is activations.linear
    assert activations.get("relu") is activations.relu
    assert activations.get("swish") is activations.silu
    assert activations.get("hard_swish") is activations.hard_silu
    assert activations.get(activations.tanh) is activations.tanh
    keras3 = {
        "module": "builtins",
        "class_name": "function",
        "config": "relu",
        "registered_name": "function",
    }
    assert activations.get(keras3) is activations.relu
    assert activations.get({"class_name": "function", "config": "tanh"}) is activations.tanh
    assert activations.get({"class_name": "sigmoid", "config": {}}) is activations.sigmoid
    assert activations.deserialize("softmax") is activations.softmax


def test_get_custom_function():
    def my_act(x):
        return x * 2.0

    assert activations.get(my_act) is my_act
    assert activations.deserialize("my_act", custom_objects={"my_act": my_act}) is my_act
    keras3 = {
        "module": "builtins",
        "class_name": "function",
        "config": "my_act",
        "registered_name": "function",
    }
    with custom_object_scope({"my_act": my_act}):
        assert activations.get(keras3) is my_act
        assert activations.get("my_act") is my_act
    assert activations.serialize(my_act) == "my_act"


def test_serialize_round_trip():
    for name in KERAS_VALUES:
        fn = getattr(activations, name)
        assert activations.serialize(fn) == name
        assert activations.deserialize(activations.serialize(fn)) is fn


def test_hard_sigmoid_formula_by_keras_version():
    assert activations.get("hard_sigmoid") is activations.hard_sigmoid
    assert activations.get("hard_sigmoid", keras_version="3.15.1") is activations.hard_sigmoid
    assert activations.get("hard_sigmoid", keras_version="2.2.4") is activations.hard_sigmoid_legacy
    assert activations.get("hard_sigmoid", keras_version=2) is activations.hard_sigmoid_legacy
    assert activations.get("hard_sigmoid", keras_version="2.3.0-tf") is (
        activations.hard_sigmoid_legacy
    )
    assert activations.get("relu", keras_version="2.2.4") is activations.relu
    assert activations.get("hard_sigmoid_legacy") is activations.hard_sigmoid_legacy
    legacy_dict = {"class_name": "hard_sigmoid", "config": {}}
    assert activations.deserialize(legacy_dict, keras_version="2.1.6") is (
        activations.hard_sigmoid_legacy
    )
    # Keras has one name for both formulas.
    assert activations.serialize(activations.hard_sigmoid_legacy) == "hard_sigmoid"


def test_unknown_names_and_bad_identifiers():
    with pytest.raises(ValueError, match="Unknown activation: 'nope'.*relu.*softmax"):
        activations.get("nope")
    with pytest.raises(ValueError, match="Unknown activation"):
        activations.get({"class_name": "function", "config": "nope"})
    with pytest.raises(TypeError, match="activation"):
        activations.get(3)


def test_accepts_arrays_and_numbers(xp):
    out = activations.relu(xp.asarray(np.array([-1.0, 2.0], dtype="float32")))
    assert isinstance(out, gpuk.Tensor)
    np.testing.assert_allclose(to_numpy(out.data), [0.0, 2.0])
    assert float(activations.sigmoid(0.0)) == 0.5
