"""Recurrent layers: Keras 3 reference outputs, weights, configs, masks, dropout, stateful."""

import json
import os

import numpy as np
import pytest

import gpuk
from gpuk._array import to_numpy
from gpuk.layers import recurrent as rl

# Part of the GPU-branch subset CI runs under the CuPy stand-in (docs/gpu-standin.md).
pytestmark = pytest.mark.standin

DATA = os.path.join(os.path.dirname(__file__), "data", "recurrent_reference.npz")
REF = np.load(DATA)
CASES = json.loads(str(REF["cases"]))


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
@pytest.mark.parametrize("masked", [False, True])
def test_matches_keras_reference(case, masked):
    layer = getattr(rl, case["class_name"])(**case["config"])
    layer.build((None, None, 5))
    weights = [REF[f"{case['name']}/w{i}"] for i in range(case["n_weights"])]
    layer.set_weights(weights)
    assert layer.count_params() == case["count_params"]
    outs = layer(REF["x"], mask=REF["mask"] if masked else None)
    outs = outs if isinstance(outs, list) else [outs]
    assert len(outs) == case["n_outputs"]
    for i, out in enumerate(outs):
        want = REF[f"{case['name']}/{'masked' if masked else 'plain'}/out{i}"]
        assert out.dtype == np.float32
        np.testing.assert_allclose(to_numpy(out.data), want, rtol=1e-5, atol=1e-5)


def test_weights_names_shapes_and_param_counts():
    inputs = gpuk.Input((None, 42))
    gru = rl.GRU(24, activation="relu", reset_after=False)
    gru(inputs)
    assert [w.path for w in gru.weights] == [
        f"{gru.name}/gru_cell/kernel",
        f"{gru.name}/gru_cell/recurrent_kernel",
        f"{gru.name}/gru_cell/bias",
    ]
    assert [tuple(w.shape) for w in gru.weights] == [(42, 72), (24, 72), (72,)]
    assert gru.count_params() == 42 * 72 + 24 * 72 + 72  # Keras: 4896
    gru2 = rl.GRU(24)
    gru2(inputs)
    assert gru2.count_params() == 42 * 72 + 24 * 72 + 2 * 72  # Keras: 4968
    lstm = rl.LSTM(8)
    lstm(inputs)
    assert lstm.count_params() == 4 * 8 * (42 + 8 + 1)
    bias = lstm.get_weights()[2]
    np.testing.assert_array_equal(bias, np.r_[np.zeros(8), np.ones(8), np.zeros(16)])
    rnn = rl.SimpleRNN(5, use_bias=False)
    rnn(inputs)
    assert [tuple(w.shape) for w in rnn.weights] == [(42, 5), (5, 5)]
    assert gru.cell.name == "gru_cell" and lstm.units == 8 and gru.reset_after is False


def test_symbolic_shapes_and_errors():
    seq = gpuk.Input((None, 16))
    assert rl.GRU(4, return_sequences=True)(seq).shape == (None, None, 4)
    out, h, c = rl.LSTM(3, return_state=True)(seq)
    assert out.shape == h.shape == c.shape == (None, 3)
    with pytest.raises(ValueError, match=r"gru_bad.*ndim=3.*\(None, 16\)"):
        rl.GRU(4, name="gru_bad")(gpuk.Input((16,)))
    with pytest.raises(ValueError, match="units must be a positive integer"):
        rl.GRU(0)
    with pytest.raises(ValueError, match="fused"):
        rl.GRU(3, fused="sometimes")


@pytest.mark.parametrize("cls", [rl.GRU, rl.LSTM, rl.SimpleRNN])
def test_config_round_trip_and_legacy_keys(cls):
    layer = cls(
        7,
        return_sequences=True,
        go_backwards=True,
        dropout=0.1,
        kernel_regularizer="l2",
        recurrent_constraint="non_neg",
        name="r",
    )
    config = layer.get_config()
    assert config["units"] == 7 and config["go_backwards"] is True
    assert "fused" not in config
    clone = cls.from_config(config)
    assert clone.get_config() == config
    legacy = dict(config, implementation=0, time_major=False)
    assert cls.from_config(legacy).get_config() == config
    if cls is rl.GRU:
        assert config["reset_after"] is True and config["recurrent_activation"] == "sigmoid"
    if cls is rl.LSTM:
        assert config["unit_forget_bias"] is True
    assert cls(3, fused=False).get_config()["fused"] is False


def test_mask_from_masking_layer():
    x = REF["x"].copy()
    x[0, 4:] = 0.0
    case = next(c for c in CASES if c["name"] == "gru_after_tanh")
    layer = rl.GRU(**case["config"])
    layer.build((None, None, 5))
    layer.set_weights([REF[f"gru_after_tanh/w{i}"] for i in range(3)])
    masked = gpuk.layers.Masking(0.0)(x)
    outs = layer(masked)
    direct = layer(x, mask=np.any(x != 0, axis=-1))
    np.testing.assert_allclose(to_numpy(outs[0].data), to_numpy(direct[0].data))
    np.testing.assert_array_equal(to_numpy(outs[0].data)[0, 4], to_numpy(outs[0].data)[0, 3])


@pytest.mark.parametrize("cls", [rl.GRU, rl.LSTM, rl.SimpleRNN])
def test_layer_gradients_float64_central_differences(cls):
    layer = cls(2, return_sequences=True, go_backwards=True, dtype="float64")
    layer.build((None, None, 3))
    rng = np.random.default_rng(0)
    weights = [rng.normal(size=w.shape) * 0.5 for w in layer.get_weights()]
    layer.set_weights(weights)
    x = rng.normal(size=(2, 4, 3))
    mask = np.array([[True, True, False, True], [False, True, True, True]])
    w_out = rng.normal(size=(2, 4, 2))

    def loss(inputs):
        return gpuk.ops.sum(gpuk.ops.multiply(layer(inputs, mask=mask), w_out))

    x_var = gpuk.Variable(x)
    with gpuk.GradientTape() as tape:
        value = loss(x_var)
    grads = tape.gradient(value, [x_var, *layer.weights])
    arrays = [x, *weights]
    eps = 1e-6
    for index, array in enumerate(arrays):
        numeric = np.zeros_like(array)
        for i in range(array.size):
            values = []
            for sign in (1, -1):
                trial = [a.copy() for a in arrays]
                trial[index].reshape(-1)[i] += sign * eps
                layer.set_weights(trial[1:])
                values.append(float(loss(trial[0]).item()))
            numeric.reshape(-1)[i] = (values[0] - values[1]) / (2 * eps)
        layer.set_weights(weights)
        np.testing.assert_allclose(to_numpy(grads[index].data), numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("cls", [rl.GRU, rl.LSTM, rl.SimpleRNN])
@pytest.mark.parametrize("recurrent_dropout", [0.0, 0.5])
def test_dropout_only_in_training(cls, recurrent_dropout):
    gpuk.utils.set_random_seed(3)
    layer = cls(4, dropout=0.5, recurrent_dropout=recurrent_dropout, return_sequences=True)
    x = np.random.default_rng(1).normal(size=(8, 5, 6)).astype("float32")
    inference = to_numpy(layer(x).data)
    np.testing.assert_array_equal(inference, to_numpy(layer(x, training=False).data))
    trained = to_numpy(layer(x, training=True).data)
    assert not np.allclose(trained, inference)
    variables = layer.trainable_weights
    with gpuk.GradientTape() as tape:
        loss = gpuk.ops.sum(layer(x, training=True))
    grads = tape.gradient(loss, variables)
    assert all(g is not None and np.all(np.isfinite(to_numpy(g.data))) for g in grads)


def test_dropout_matches_composed_with_same_masks():
    """Input dropout on the fast path equals the composed oracle given the same mask."""
    layer = rl.GRU(3, return_sequences=True, dtype="float64")
    x = np.random.default_rng(2).normal(size=(2, 4, 5))
    layer.build(x.shape)
    keep = (np.random.default_rng(3).random((2, 5)) < 0.5) * 2.0
    fast = layer.call(x * keep[:, None, :])
    cell = layer.cell
    slow, _ = gpuk.ops.recurrent.gru_composed(
        x,
        cell.kernel,
        cell.recurrent_kernel,
        cell.bias,
        None,
        input_dropout_masks=[keep] * 3,
    )
    np.testing.assert_allclose(to_numpy(fast.data), to_numpy(slow.data), rtol=1e-12)


def test_stateful_keeps_and_resets_state():
    layer = rl.GRU(3, stateful=True, return_sequences=True)
    x = np.random.default_rng(4).normal(size=(2, 6, 4)).astype("float32")
    layer.build((None, None, 4))
    full = to_numpy(layer(x).data)
    layer.reset_states()
    first = to_numpy(layer(x[:, :3]).data)
    second = to_numpy(layer(x[:, 3:]).data)
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), full, rtol=1e-5, atol=1e-6)
    layer.reset_states()
    np.testing.assert_allclose(to_numpy(layer(x[:, :3]).data), first, rtol=1e-6)


def test_initial_state_and_callable_activation():
    layer = rl.SimpleRNN(3, activation=lambda t: gpuk.ops.tanh(t), return_state=True)
    x = np.random.default_rng(5).normal(size=(2, 4, 2)).astype("float32")
    h0 = np.full((2, 3), 0.5, dtype="float32")
    out, h = layer(x, initial_state=[h0])
    k, rk, b = layer.get_weights()
    ref = h0
    for t in range(4):
        ref = np.tanh(x[:, t] @ k + ref @ rk + b)
    np.testing.assert_allclose(to_numpy(out.data), ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(to_numpy(h.data), ref, rtol=1e-5, atol=1e-6)


def test_cell_single_step():
    cell = rl.GRUCell(3)
    x = np.random.default_rng(6).normal(size=(2, 4)).astype("float32")
    cell.build((None, 4))
    h0 = gpuk.Tensor(np.zeros((2, 3), "float32"))
    out, states = cell.call(gpuk.Tensor(x), [h0])
    layer = rl.GRU(3)
    layer.build((None, 1, 4))
    layer.set_weights(cell.get_weights())
    np.testing.assert_allclose(to_numpy(out.data), to_numpy(layer(x[:, None]).data), rtol=1e-6)
    assert len(states) == 1
