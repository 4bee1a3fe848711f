"""Recurrent ops: whole-sequence Functions agree with the composed oracle and a NumPy reference,
forward and backward; float64 central-difference gradient checks."""

import numpy as np
import pytest

import gpuk
from gpuk._array import to_numpy
from gpuk.ops import recurrent as R
from tests.gradcheck import assert_gradients_match

# Part of the GPU-branch subset CI runs under the CuPy stand-in (docs/gpu-standin.md).
pytestmark = pytest.mark.standin

ACTS = ["tanh", "relu", "sigmoid", "linear", "hard_sigmoid", "hard_sigmoid_legacy"]


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def numpy_gru(
    x, kernel, rk, bias, h0, mask=None, reset_after=True, go_backwards=False, act=np.tanh
):
    """Keras's GRU equations, written plainly (keras-formats.md section 4)."""
    units = rk.shape[0]
    batch, timesteps, _ = x.shape
    h = h0.copy()
    out = np.zeros((batch, units))
    outs = []
    order = range(timesteps - 1, -1, -1) if go_backwards else range(timesteps)
    for t in order:
        xw = x[:, t] @ kernel
        if bias is not None:
            xw = xw + (bias[0] if reset_after else bias)
        if reset_after:
            hu = h @ rk + (bias[1] if bias is not None else 0)
            z = _sigmoid(xw[:, :units] + hu[:, :units])
            r = _sigmoid(xw[:, units : 2 * units] + hu[:, units : 2 * units])
            hh = act(xw[:, 2 * units :] + r * hu[:, 2 * units :])
        else:
            hu = h @ rk[:, : 2 * units]
            z = _sigmoid(xw[:, :units] + hu[:, :units])
            r = _sigmoid(xw[:, units : 2 * units] + hu[:, units:])
            hh = act(xw[:, 2 * units :] + (r * h) @ rk[:, 2 * units :])
        new = z * h + (1 - z) * hh
        if mask is None:
            h, out = new, new
        else:
            m = mask[:, t : t + 1]
            h = np.where(m, new, h)
            out = np.where(m, new, out)
        outs.append(out)
    return np.stack(outs, axis=1), h


def numpy_lstm(x, kernel, rk, bias, h0, c0, mask=None, go_backwards=False):
    u = rk.shape[0]
    h, c = h0.copy(), c0.copy()
    out = np.zeros_like(h)
    outs = []
    order = range(x.shape[1] - 1, -1, -1) if go_backwards else range(x.shape[1])
    for t in order:
        pre = x[:, t] @ kernel + h @ rk + (bias if bias is not None else 0)
        i, f = _sigmoid(pre[:, :u]), _sigmoid(pre[:, u : 2 * u])
        g, o = np.tanh(pre[:, 2 * u : 3 * u]), _sigmoid(pre[:, 3 * u :])
        c_new = f * c + i * g
        h_new = o * np.tanh(c_new)
        m = np.ones((x.shape[0], 1), bool) if mask is None else mask[:, t : t + 1]
        h, c, out = np.where(m, h_new, h), np.where(m, c_new, c), np.where(m, h_new, out)
        outs.append(out)
    return np.stack(outs, axis=1), h, c


def _weights(rng, batch, timesteps, features, units, gates, bias_shape):
    x = rng.normal(size=(batch, timesteps, features))
    kernel = rng.normal(size=(features, gates * units)) * 0.5
    rk = rng.normal(size=(units, gates * units)) * 0.5
    bias = None if bias_shape is None else rng.normal(size=bias_shape) * 0.3
    h0 = rng.normal(size=(batch, units)) * 0.5
    return x, kernel, rk, bias, h0


MASK = np.array([[True, False, True, True, False], [False, False, True, False, True]])


def _run_with_grads(fn, arrays, xp, n_outputs_weights):
    """Forward values and tape gradients of sum_k w_k * output_k for all inputs."""
    tensors = [gpuk.Variable(xp.asarray(a)) for a in arrays]
    with gpuk.GradientTape() as tape:
        outs = fn(*tensors)
        total = None
        for out, w in zip(outs, n_outputs_weights):
            term = gpuk.ops.sum(gpuk.ops.multiply(out, xp.asarray(w)))
            total = term if total is None else gpuk.ops.add(total, term)
    grads = tape.gradient(total, tensors)
    return [to_numpy(o.data) for o in outs], [to_numpy(g.data) for g in grads]


def _assert_paths_agree(run, arrays, xp, out_shapes, rtol=1e-9, atol=1e-10):
    rng = np.random.default_rng(7)
    weights = [rng.normal(size=s) for s in out_shapes]
    fast_out, fast_grads = _run_with_grads(lambda *a: run("fast", *a), arrays, xp, weights)
    slow_out, slow_grads = _run_with_grads(lambda *a: run("composed", *a), arrays, xp, weights)
    for a, b in zip(fast_out, slow_out):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    for i, (a, b) in enumerate(zip(fast_grads, slow_grads)):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"grad {i}")
    return fast_out


def _gru_runner(activation, recurrent_activation, reset_after, go_backwards, mask, has_bias):
    def run(path, x, k, rk, *rest):
        bias, h0 = (rest[0], rest[1]) if has_bias else (None, rest[0])
        kwargs = dict(
            activation=activation,
            recurrent_activation=recurrent_activation,
            reset_after=reset_after,
            go_backwards=go_backwards,
        )
        if path == "fast":
            return R.gru(x, k, rk, bias, h0, mask, fused=False, **kwargs)
        return R.gru_composed(x, k, rk, bias, h0, mask, **kwargs)

    return run


@pytest.mark.parametrize("activation", ACTS)
@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_fast_matches_composed_every_activation(xp, activation, reset_after):
    rng = np.random.default_rng(0)
    bias_shape = (2, 9) if reset_after else (9,)
    x, k, rk, b, h0 = _weights(rng, 2, 5, 4, 3, 3, bias_shape)
    recurrent = "hard_sigmoid" if activation == "relu" else "sigmoid"
    run = _gru_runner(activation, recurrent, reset_after, False, None, True)
    _assert_paths_agree(run, [x, k, rk, b, h0], xp, [(2, 5, 3), (2, 3)])


@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("has_bias", [True, False])
def test_gru_fast_matches_composed_and_numpy(xp, reset_after, go_backwards, masked, has_bias):
    rng = np.random.default_rng(1)
    bias_shape = ((2, 9) if reset_after else (9,)) if has_bias else None
    x, k, rk, b, h0 = _weights(rng, 2, 5, 4, 3, 3, bias_shape)
    mask = MASK if masked else None
    run = _gru_runner("tanh", "sigmoid", reset_after, go_backwards, mask, has_bias)
    arrays = [x, k, rk] + ([b] if has_bias else []) + [h0]
    seq, last = _assert_paths_agree(run, arrays, xp, [(2, 5, 3), (2, 3)])
    ref_seq, ref_last = numpy_gru(x, k, rk, b, h0, mask, reset_after, go_backwards)
    np.testing.assert_allclose(seq, ref_seq, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(last, ref_last, rtol=1e-12, atol=1e-12)


def test_gru_masked_outputs_follow_keras(xp):
    """Masked steps repeat the last unmasked output (zeros before it); the state is carried."""
    rng = np.random.default_rng(2)
    x, k, rk, b, h0 = _weights(rng, 2, 5, 4, 3, 3, (2, 9))
    seq, last = R.gru(xp.asarray(x), k, rk, b, xp.asarray(h0), xp.asarray(MASK))
    seq = to_numpy(seq.data)
    np.testing.assert_array_equal(seq[1, 0], 0)  # first steps masked: zero output ...
    np.testing.assert_array_equal(seq[1, 1], 0)
    np.testing.assert_array_equal(seq[0, 1], seq[0, 0])
    np.testing.assert_array_equal(seq[1, 3], seq[1, 2])
    np.testing.assert_allclose(to_numpy(last.data), seq[1, 4] * 0 + to_numpy(last.data))
    np.testing.assert_array_equal(to_numpy(last.data)[0], seq[0, 3])  # carried past step 4


@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("has_bias", [True, False])
@pytest.mark.parametrize("activation", ["tanh", "relu", "hard_sigmoid_legacy"])
def test_lstm_fast_matches_composed(xp, go_backwards, masked, has_bias, activation):
    rng = np.random.default_rng(3)
    x, k, rk, b, h0 = _weights(rng, 2, 5, 4, 3, 4, (12,) if has_bias else None)
    c0 = rng.normal(size=h0.shape)
    mask = MASK if masked else None

    def run(path, x, k, rk, *rest):
        bias, h, c = rest if has_bias else (None, *rest)
        kwargs = dict(
            activation=activation, recurrent_activation="sigmoid", go_backwards=go_backwards
        )
        if path == "fast":
            return R.lstm(x, k, rk, bias, h, c, mask, fused=False, **kwargs)
        return R.lstm_composed(x, k, rk, bias, h, c, mask, **kwargs)

    arrays = [x, k, rk] + ([b] if has_bias else []) + [h0, c0]
    seq, h, c = _assert_paths_agree(run, arrays, xp, [(2, 5, 3), (2, 3), (2, 3)])
    if activation == "tanh":
        ref = numpy_lstm(x, k, rk, b, h0, c0, mask, go_backwards)
        for got, want in zip((seq, h, c), ref):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("has_bias", [True, False])
@pytest.mark.parametrize("activation", ACTS)
def test_simple_rnn_fast_matches_composed(xp, go_backwards, masked, has_bias, activation):
    rng = np.random.default_rng(4)
    x, k, rk, b, h0 = _weights(rng, 2, 5, 4, 3, 1, (3,) if has_bias else None)
    mask = MASK if masked else None

    def run(path, x, k, rk, *rest):
        bias, h = rest if has_bias else (None, rest[0])
        kwargs = dict(activation=activation, go_backwards=go_backwards)
        if path == "fast":
            return R.simple_rnn(x, k, rk, bias, h, mask, fused=False, **kwargs)
        return R.simple_rnn_composed(x, k, rk, bias, h, mask, **kwargs)

    arrays = [x, k, rk] + ([b] if has_bias else []) + [h0]
    seq, last = _assert_paths_agree(run, arrays, xp, [(2, 5, 3), (2, 3)])
    if activation == "tanh" and not go_backwards and not masked:
        h = h0
        for t in range(5):
            h = np.tanh(x[:, t] @ k + h @ rk + (b if has_bias else 0))
            np.testing.assert_allclose(seq[:, t], h, rtol=1e-12)


# ----------------------------------------------------------------------------- gradient checks


@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("masked", [False, True])
def test_gru_gradients_central_differences(xp, reset_after, masked):
    rng = np.random.default_rng(5)
    x, k, rk, b, h0 = _weights(rng, 2, 5, 2, 2, 3, (2, 6) if reset_after else (6,))
    mask = MASK if masked else None
    w_seq = rng.normal(size=(2, 5, 2))

    def fn(x, k, rk, b, h0):
        seq, last = R.gru(x, k, rk, b, h0, mask, reset_after=reset_after, go_backwards=masked)
        return gpuk.ops.add(gpuk.ops.sum(gpuk.ops.multiply(seq, w_seq)), gpuk.ops.sum(last))

    assert_gradients_match(fn, [x, k, rk, b, h0], xp, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("masked", [False, True])
def test_lstm_gradients_central_differences(xp, masked):
    rng = np.random.default_rng(6)
    x, k, rk, b, h0 = _weights(rng, 2, 5, 2, 2, 4, (8,))
    c0 = rng.normal(size=h0.shape)
    mask = MASK if masked else None
    w_seq = rng.normal(size=(2, 5, 2))

    def fn(x, k, rk, b, h0, c0):
        seq, h, c = R.lstm(x, k, rk, b, h0, c0, mask, activation="tanh", go_backwards=masked)
        total = gpuk.ops.add(gpuk.ops.sum(gpuk.ops.multiply(seq, w_seq)), gpuk.ops.sum(h))
        return gpuk.ops.add(total, gpuk.ops.multiply(gpuk.ops.sum(c), 0.7))

    assert_gradients_match(fn, [x, k, rk, b, h0, c0], xp, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("masked", [False, True])
def test_simple_rnn_gradients_central_differences(xp, masked):
    rng = np.random.default_rng(8)
    x, k, rk, b, h0 = _weights(rng, 2, 5, 2, 3, 1, (3,))
    mask = MASK if masked else None
    w_seq = rng.normal(size=(2, 5, 3))

    def fn(x, k, rk, b, h0):
        seq, last = R.simple_rnn(x, k, rk, b, h0, mask, activation="tanh")
        return gpuk.ops.add(gpuk.ops.sum(gpuk.ops.multiply(seq, w_seq)), gpuk.ops.sum(last))

    assert_gradients_match(fn, [x, k, rk, b, h0], xp, rtol=1e-6, atol=1e-8)


# ----------------------------------------------------------------------------- misc behaviour


def test_float32_stays_float32(xp):
    rng = np.random.default_rng(9)
    x, k, rk, b, h0 = (a.astype(np.float32) for a in _weights(rng, 2, 4, 3, 2, 3, (2, 6)))
    tensors = [gpuk.Variable(xp.asarray(a)) for a in (x, k, rk, b)]
    with gpuk.GradientTape() as tape:
        seq, last = R.gru(*tensors, None)
        loss = gpuk.ops.sum(seq)
    grads = tape.gradient(loss, tensors)
    assert seq.dtype == np.float32 and last.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads)
    ref, _ = numpy_gru(x.astype(float), k, rk, b, np.zeros((2, 2)))
    np.testing.assert_allclose(to_numpy(seq.data), ref, rtol=1e-5, atol=1e-6)


def test_callable_activation_uses_composed_path(xp):
    rng = np.random.default_rng(10)
    x, k, rk, b, h0 = _weights(rng, 2, 4, 3, 2, 3, (2, 6))
    seq, _ = R.gru(xp.asarray(x), k, rk, b, h0, activation=gpuk.ops.tanh)
    ref, _ = numpy_gru(x, k, rk, b, h0)
    np.testing.assert_allclose(to_numpy(seq.data), ref, rtol=1e-12)


def test_errors_are_clear():
    x = np.zeros((2, 3, 4))
    with pytest.raises(ValueError, match="rank 3"):
        R.gru(np.zeros((2, 4)), np.zeros((4, 9)), np.zeros((3, 9)), None, None)
    with pytest.raises(ValueError, match="kernel must have shape"):
        R.gru(x, np.zeros((5, 9)), np.zeros((3, 9)), None, None)
    with pytest.raises(ValueError, match="bias must have shape"):
        R.gru(x, np.zeros((4, 9)), np.zeros((3, 9)), np.zeros((9,)), None)
    with pytest.raises(ValueError, match="Unknown recurrent activation"):
        R.gru(x, np.zeros((4, 9)), np.zeros((3, 9)), None, None, activation="softmax")
    with pytest.raises(ValueError, match="fused=True"):
        R.gru(x, np.zeros((4, 9)), np.zeros((3, 9)), None, None, fused=True)
    with pytest.raises(ValueError, match="fused must be"):
        R.lstm(x, np.zeros((4, 12)), np.zeros((3, 12)), None, None, None, fused="yes")
    with pytest.raises(ValueError, match="mask must have shape"):
        R.simple_rnn(x, np.zeros((4, 3)), np.zeros((3, 3)), None, None, np.ones((2, 4), bool))
