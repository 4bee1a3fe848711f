"""Shared layer harness: output shape, weight shapes, config round trip, eager forward against a
NumPy reference, and float64 gradients w.r.t. inputs and weights (central differences)."""

import numpy as np
import pytest

import gpuk
from gpuk import layers
from tests.gradcheck import assert_gradients_match

RNG = np.random.default_rng(0)


def _dense_ref(x, w):
    return np.tanh(x @ w[0] + w[1])


def _dot_ref(xs, w):
    return np.sum(xs[0] * xs[1], axis=1, keepdims=True)


# (factory, input shapes without batch, expected output shape, weight shapes, numpy reference)
CASES = {
    "dense": (
        lambda: layers.Dense(3, activation="tanh"),
        [(4,)],
        (None, 3),
        [(4, 3), (3,)],
        lambda xs, w: _dense_ref(xs[0], w),
    ),
    "dense_3d": (
        lambda: layers.Dense(2),
        [(5, 4)],
        (None, 5, 2),
        [(4, 2), (2,)],
        lambda xs, w: xs[0] @ w[0] + w[1],
    ),
    "activation": (
        lambda: layers.Activation("tanh"),
        [(3,)],
        (None, 3),
        [],
        lambda xs, w: np.tanh(xs[0]),
    ),
    "dropout_inference": (lambda: layers.Dropout(0.5), [(3,)], (None, 3), [], lambda xs, w: xs[0]),
    "flatten": (
        lambda: layers.Flatten(),
        [(2, 3)],
        (None, 6),
        [],
        lambda xs, w: xs[0].reshape(len(xs[0]), -1),
    ),
    "reshape": (
        lambda: layers.Reshape((3, -1)),
        [(2, 3)],
        (None, 3, 2),
        [],
        lambda xs, w: xs[0].reshape(len(xs[0]), 3, 2),
    ),
    "permute": (
        lambda: layers.Permute((2, 1)),
        [(2, 3)],
        (None, 3, 2),
        [],
        lambda xs, w: xs[0].transpose(0, 2, 1),
    ),
    "repeat_vector": (
        lambda: layers.RepeatVector(3),
        [(2,)],
        (None, 3, 2),
        [],
        lambda xs, w: np.repeat(xs[0][:, None, :], 3, axis=1),
    ),
    "lambda": (
        lambda: layers.Lambda(lambda x: x * 2.0),
        [(3,)],
        (None, 3),
        [],
        lambda xs, w: xs[0] * 2,
    ),
    "masking": (lambda: layers.Masking(0.0), [(4, 3)], (None, 4, 3), [], lambda xs, w: xs[0]),
    "time_distributed": (
        lambda: layers.TimeDistributed(layers.Dense(2)),
        [(4, 3)],
        (None, 4, 2),
        [(3, 2), (2,)],
        lambda xs, w: xs[0] @ w[0] + w[1],
    ),
    "concatenate": (
        lambda: layers.Concatenate(),
        [(2,), (3,)],
        (None, 5),
        [],
        lambda xs, w: np.concatenate(xs, axis=-1),
    ),
    "add": (lambda: layers.Add(), [(3,), (3,)], (None, 3), [], lambda xs, w: xs[0] + xs[1]),
    "subtract": (
        lambda: layers.Subtract(),
        [(3,), (3,)],
        (None, 3),
        [],
        lambda xs, w: xs[0] - xs[1],
    ),
    "multiply": (
        lambda: layers.Multiply(),
        [(3,), (3,)],
        (None, 3),
        [],
        lambda xs, w: xs[0] * xs[1],
    ),
    "average": (
        lambda: layers.Average(),
        [(3,), (3,)],
        (None, 3),
        [],
        lambda xs, w: (xs[0] + xs[1]) / 2,
    ),
    "maximum": (
        lambda: layers.Maximum(),
        [(3,), (3,)],
        (None, 3),
        [],
        lambda xs, w: np.maximum(xs[0], xs[1]),
    ),
    "minimum": (
        lambda: layers.Minimum(),
        [(3,), (3,)],
        (None, 3),
        [],
        lambda xs, w: np.minimum(xs[0], xs[1]),
    ),
    "dot": (lambda: layers.Dot(axes=1), [(4,), (4,)], (None, 1), [], _dot_ref),
}


def _call(layer, xs):
    return layer(xs if len(xs) > 1 else xs[0])


@pytest.mark.parametrize("case", sorted(CASES))
def test_symbolic_shape_weights_and_config(case):
    factory, shapes, out_shape, weight_shapes, _ = CASES[case]
    layer = factory()
    inputs = [layers.Input(shape=s) for s in shapes]
    out = _call(layer, inputs)
    assert out.shape == out_shape
    assert [tuple(w.shape) for w in layer.weights] == weight_shapes
    config = layer.get_config()
    if case == "lambda":
        with pytest.raises(ValueError, match="safe_mode=False"):
            type(layer).from_config(config)
        clone = type(layer).from_config(config, safe_mode=False)
        assert clone.function(3.0) == 6.0
        config.pop("function")
        assert {k: v for k, v in clone.get_config().items() if k != "function"} == config
        return
    else:
        clone = type(layer).from_config(config)
    assert clone.get_config() == config


@pytest.mark.parametrize("case", sorted(CASES))
def test_forward_matches_numpy(case, xp):
    factory, shapes, out_shape, _, reference = CASES[case]
    layer = factory()
    xs = [RNG.normal(size=(2, *s)).astype("float32") for s in shapes]
    out = _call(layer, [xp.asarray(x) for x in xs])
    expected = reference(xs, layer.get_weights())
    assert out.shape == (2, *out_shape[1:])
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", sorted(c for c in CASES if c not in ("masking",)))
def test_gradients_float64(case, xp):
    factory, shapes, _, _, _ = CASES[case]
    gpuk.config.set_floatx("float64")
    layer = factory()
    xs = [RNG.normal(size=(2, *s)) for s in shapes]
    if case in ("maximum", "minimum"):
        xs[1] = xs[0] + np.where(RNG.random(xs[0].shape) > 0.5, 0.5, -0.5)
    _call(layer, [xp.asarray(x) for x in xs])
    weights = layer.get_weights()

    if weights:
        # Gradients w.r.t. the weights: differentiate through the layer's own Variables.
        with gpuk.GradientTape() as tape:
            out = _call(layer, [gpuk.Tensor(xp.asarray(x)) for x in xs])
            total = gpuk.ops.sum(out)
        grads = tape.gradient(total, layer.weights)
        for i, (variable, grad) in enumerate(zip(layer.weights, grads)):
            base = variable.numpy()
            numeric = np.zeros_like(base)
            flat = base.reshape(-1)
            for k in range(flat.size):
                for sign in (1, -1):
                    pert = flat.copy()
                    pert[k] += sign * 1e-6
                    variable.assign(xp.asarray(pert.reshape(base.shape)))
                    value = float(np.sum(_call(layer, [xp.asarray(x) for x in xs]).numpy()))
                    numeric.reshape(-1)[k] += sign * value / 2e-6
            variable.assign(xp.asarray(base))
            np.testing.assert_allclose(
                gpuk.Tensor(grad.data).numpy(), numeric, rtol=1e-6, atol=1e-7, err_msg=f"w{i}"
            )
    assert_gradients_match(lambda *t: _call(layer, list(t)), xs, xp)
