"""Recurrent ops at their edges: a missing initial state is zeros,
steps masked before the first unmasked one output zeros even with a non-zero initial state
(Keras 3), dropout masks on the composed path, and argument errors that name the op, the
argument, the expected and the received shape."""

import numpy as np
import pytest

import gpuk
from gpuk._array import to_numpy
from gpuk.ops import recurrent as R
from tests.ops.test_recurrent_ops import numpy_gru, numpy_lstm


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _arrays(seed, batch=2, timesteps=4, features=3, units=2, gates=3, bias_shape=None):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, timesteps, features))
    kernel = rng.normal(size=(features, gates * units)) * 0.5
    rk = rng.normal(size=(units, gates * units)) * 0.5
    bias = None if bias_shape is None else rng.normal(size=bias_shape) * 0.3
    return x, kernel, rk, bias


def _np(t):
    return to_numpy(t.data)


@pytest.mark.parametrize("fused", [False, "auto"])
@pytest.mark.parametrize("composed", [False, True])
def test_missing_initial_state_is_zeros(fused, composed):
    x, k, rk, b = _arrays(0, bias_shape=(2, 6))
    zeros = np.zeros((2, 2))
    if composed:
        got = R.gru_composed(x, k, rk, b, None)
    else:
        got = R.gru(x, k, rk, b, None, fused=fused)
    want = numpy_gru(x, k, rk, b, zeros)
    for g, w in zip(got, want):
        np.testing.assert_allclose(_np(g), w, rtol=1e-10)

    x, k, rk, b = _arrays(1, gates=4, bias_shape=(8,))
    got = R.lstm_composed(x, k, rk, b, None, None) if composed else R.lstm(x, k, rk, b, None, None)
    want = numpy_lstm(x, k, rk, b, zeros, zeros)
    for g, w in zip(got, want):
        np.testing.assert_allclose(_np(g), w, rtol=1e-10)

    x, k, rk, b = _arrays(2, gates=1, bias_shape=(2,))
    seq, last = (
        R.simple_rnn_composed(x, k, rk, b, None) if composed else R.simple_rnn(x, k, rk, b, None)
    )
    h = zeros
    outs = []
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ k + h @ rk + b)
        outs.append(h)
    np.testing.assert_allclose(_np(seq), np.stack(outs, axis=1), rtol=1e-10)
    np.testing.assert_allclose(_np(last), h, rtol=1e-10)


@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("cell", ["gru", "lstm", "simple_rnn"])
def test_steps_masked_before_the_first_unmasked_one_output_zeros(cell, go_backwards):
    # Keras 3 (zero_output_for_mask=False): outputs before the first unmasked step are zeros,
    # even with a non-zero initial state, which is carried unchanged through those steps.
    gates = {"gru": 3, "lstm": 4, "simple_rnn": 1}[cell]
    x, k, rk, _ = _arrays(3, timesteps=5, gates=gates)
    h0 = np.full((2, 2), 0.7)
    mask = np.array([[False, False, True, False, True], [False, True, True, True, True]])
    if go_backwards:
        mask = mask[:, ::-1].copy()
    for path in ("fast", "composed"):
        if cell == "lstm":
            fn = R.lstm if path == "fast" else R.lstm_composed
            kw = dict(go_backwards=go_backwards, **({"fused": False} if path == "fast" else {}))
            seq, h, _ = fn(x, k, rk, None, h0, h0 * 0.5, mask, **kw)
        else:
            fn = getattr(R, cell if path == "fast" else f"{cell}_composed")
            kw = dict(go_backwards=go_backwards, **({"fused": False} if path == "fast" else {}))
            seq, h = fn(x, k, rk, None, h0, mask, **kw)
        seq = _np(seq)
        # processing order: the first unmasked step is index 2 for row 0, 1 for row 1
        np.testing.assert_array_equal(seq[0, :2], 0.0)
        np.testing.assert_array_equal(seq[1, :1], 0.0)
        assert np.all(seq[0, 2] != 0.0) and np.all(seq[1, 1] != 0.0)
        np.testing.assert_array_equal(seq[0, 3], seq[0, 2])  # a masked step repeats the output
        np.testing.assert_array_equal(_np(h)[0], seq[0, 4])


def _numpy_gru_dropout(x, k, rk, bias, h0, x_masks, h_masks):
    """Keras's GRU cell (reset_after=True) with per-gate dropout masks on inputs and state."""
    u = rk.shape[0]
    h = h0
    outs = []
    for t in range(x.shape[1]):
        xt = x[:, t]
        xz, xr, xh = (xt * m @ k[:, i * u : (i + 1) * u] for i, m in enumerate(x_masks))
        xz, xr, xh = xz + bias[0, :u], xr + bias[0, u : 2 * u], xh + bias[0, 2 * u :]
        hz, hr, hh_ = (h * m @ rk[:, i * u : (i + 1) * u] for i, m in enumerate(h_masks))
        hz, hr, hh_ = hz + bias[1, :u], hr + bias[1, u : 2 * u], hh_ + bias[1, 2 * u :]
        z, r = _sigmoid(xz + hz), _sigmoid(xr + hr)
        cand = np.tanh(xh + r * hh_)
        h = z * h + (1 - z) * cand
        outs.append(h)
    return np.stack(outs, axis=1), h


def test_gru_dropout_masks_multiply_each_gate_separately():
    x, k, rk, b = _arrays(4, bias_shape=(2, 6))
    h0 = np.full((2, 2), 0.3)
    rng = np.random.default_rng(5)
    x_masks = [rng.choice([0.0, 2.0], size=(2, 3)) for _ in range(3)]
    h_masks = [rng.choice([0.0, 1.25], size=(2, 2)) for _ in range(3)]
    want_seq, want_h = _numpy_gru_dropout(x, k, rk, b, h0, x_masks, h_masks)
    for fn in (R.gru, R.gru_composed):
        seq, h = fn(x, k, rk, b, h0, input_dropout_masks=x_masks, recurrent_dropout_masks=h_masks)
        np.testing.assert_allclose(_np(seq), want_seq, rtol=1e-10)
        np.testing.assert_allclose(_np(h), want_h, rtol=1e-10)


def test_simple_rnn_dropout_masks():
    x, k, rk, b = _arrays(6, gates=1, bias_shape=(2,))
    h0 = np.full((2, 2), -0.2)
    xm = np.array([[0.0, 2.0, 2.0], [2.0, 0.0, 2.0]])
    hm = np.array([[1.5, 0.0], [0.0, 1.5]])
    h = h0
    for t in range(x.shape[1]):
        h = np.tanh((x[:, t] * xm) @ k + b + (h * hm) @ rk)
    for fn in (R.simple_rnn, R.simple_rnn_composed):
        _, last = fn(x, k, rk, b, h0, input_dropout_mask=xm, recurrent_dropout_mask=hm)
        np.testing.assert_allclose(_np(last), h, rtol=1e-10)


def test_argument_errors_name_what_was_expected_and_received():
    x = np.zeros((2, 3, 4))
    with pytest.raises(ValueError, match=r"gru: inputs must have rank 3.*received shape \(2, 4\)"):
        R.gru(np.zeros((2, 4)), np.zeros((4, 9)), np.zeros((3, 9)), None, None)
    with pytest.raises(
        ValueError, match=r"gru: kernel must have shape \(4, 9\) for inputs.*3 units, received"
    ):
        R.gru(x, np.zeros((5, 9)), np.zeros((3, 9)), None, None)
    with pytest.raises(
        ValueError, match=r"lstm: recurrent_kernel must have shape \(3, 12\), received \(3, 9\)"
    ):
        R.lstm(x, np.zeros((4, 12)), np.zeros((3, 9)), None, None, None)
    with pytest.raises(
        ValueError, match=r"gru: bias must have shape \(2, 9\) with reset_after=True, received"
    ):
        R.gru(x, np.zeros((4, 9)), np.zeros((3, 9)), np.zeros((9,)), None)
    with pytest.raises(ValueError, match=r"shape \(9,\) with reset_after=False, received \(2, 9\)"):
        R.gru(x, np.zeros((4, 9)), np.zeros((3, 9)), np.zeros((2, 9)), None, reset_after=False)
    with pytest.raises(ValueError, match=r"lstm: bias must have shape \(12,\), received \(9,\)"):
        R.lstm(x, np.zeros((4, 12)), np.zeros((3, 12)), np.zeros((9,)), None, None)
    with pytest.raises(ValueError, match=r"simple_rnn: bias must have shape \(3,\), received"):
        R.simple_rnn(x, np.zeros((4, 3)), np.zeros((3, 3)), np.zeros((4,)), None)
    with pytest.raises(
        ValueError, match=r"mask must have shape \(batch, time\) = \(2, 3\).*shape \(2, 4\)"
    ):
        R.gru(x, np.zeros((4, 9)), np.zeros((3, 9)), None, None, np.ones((2, 4), bool))
    with pytest.raises(ValueError, match=r"gru recurrent_activation: Unknown recurrent activ"):
        R.gru(x, np.zeros((4, 9)), np.zeros((3, 9)), None, None, recurrent_activation="elu")
    with pytest.raises(ValueError, match=r"lstm activation: .*'tanh', 'sigmoid'"):
        R.lstm(x, np.zeros((4, 12)), np.zeros((3, 12)), None, None, None, activation=3)
    with pytest.raises(ValueError, match=r"Unknown recurrent activation 'elu'"):
        R.gru_composed(x, np.zeros((4, 9)), np.zeros((3, 9)), None, None, activation="elu")
    with pytest.raises(ValueError, match="simple_rnn: fused=True was requested, but xp: "):
        R.simple_rnn(
            x, np.zeros((4, 3)), np.zeros((3, 3)), None, None, activation=gpuk.ops.tanh, fused=True
        )


def test_whole_sequence_functions_keep_their_names():
    # The serial-BLAS wrapper keeps the wrapped method's name and docstring.
    for fn in (R.GRUSequence, R.LSTMSequence, R.SimpleRNNSequence):
        assert fn.forward.__name__ == "forward" and fn.backward.__name__ == "backward"


def test_composed_oracles_check_and_convert_the_mask():
    x = np.random.default_rng(8).normal(size=(2, 3, 4))
    bad = np.ones((2, 4), bool)
    with pytest.raises(ValueError, match=r"mask must have shape \(batch, time\) = \(2, 3\)"):
        R.gru_composed(x, np.zeros((4, 9)), np.zeros((3, 9)), None, None, bad)
    with pytest.raises(ValueError, match=r"mask must have shape"):
        R.lstm_composed(x, np.zeros((4, 12)), np.zeros((3, 12)), None, None, None, bad)
    with pytest.raises(ValueError, match=r"mask must have shape"):
        R.simple_rnn_composed(x, np.zeros((4, 3)), np.zeros((3, 3)), None, None, bad)
    # A 0/1 list mask is read as booleans, as on the fast path.
    k, rk = np.full((4, 9), 0.1), np.full((3, 9), 0.2)
    mask = [[1, 0, 1], [0, 1, 1]]
    want = R.gru(x, k, rk, None, None, np.asarray(mask, bool), fused=False)
    got = R.gru_composed(x, k, rk, None, None, mask)
    for g, w in zip(got, want):
        np.testing.assert_allclose(_np(g), _np(w), rtol=1e-10)
