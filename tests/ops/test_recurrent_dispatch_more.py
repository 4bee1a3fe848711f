"""The recurrent dispatcher's dropout-mask checks (gpuk/ops/recurrent/_dispatch.py): one mask
per gate (GRU 3, LSTM 4, SimpleRNN 1), each ``(batch, features)`` or ``(batch, units)``,
checked before any implementation runs so a broadcastable wrong shape is not silently used.
Written for the mutants tools/mutate.py left (docs/mutation-testing.md, issue 18)."""

import numpy as np
import pytest

from gpuk._array import to_numpy
from gpuk.ops import recurrent as R


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _numpy_lstm_dropout(x, kernel, rk, bias, h, c, x_masks, h_masks):
    """Keras LSTM (gates i, f, c, o) with a separate dropout mask per gate."""
    units = rk.shape[0]
    for t in range(x.shape[1]):
        z = [
            (x[:, t] * x_masks[g]) @ kernel[:, g * units : (g + 1) * units]
            + (h * h_masks[g]) @ rk[:, g * units : (g + 1) * units]
            + bias[g * units : (g + 1) * units]
            for g in range(4)
        ]
        i, f, o = _sigmoid(z[0]), _sigmoid(z[1]), _sigmoid(z[3])
        c = f * c + i * np.tanh(z[2])
        h = o * np.tanh(c)
    return h, c


def _lstm_arrays():
    rng = np.random.default_rng(11)
    x = rng.normal(size=(2, 4, 3))
    kernel = rng.normal(size=(3, 8)) * 0.5
    rk = rng.normal(size=(2, 8)) * 0.5
    bias = rng.normal(size=(8,)) * 0.3
    h0, c0 = np.full((2, 2), 0.2), np.full((2, 2), -0.1)
    x_masks = [rng.choice([0.0, 2.0], size=(2, 3)) for _ in range(4)]
    h_masks = [rng.choice([0.0, 1.25], size=(2, 2)) for _ in range(4)]
    return x, kernel, rk, bias, h0, c0, x_masks, h_masks


def test_lstm_takes_four_dropout_masks_one_per_gate():
    x, kernel, rk, bias, h0, c0, x_masks, h_masks = _lstm_arrays()
    want_h, want_c = _numpy_lstm_dropout(x, kernel, rk, bias, h0, c0, x_masks, h_masks)
    _, h, c = R.lstm(x, kernel, rk, bias, h0, c0, input_dropout_masks=x_masks,
                     recurrent_dropout_masks=h_masks)  # fmt: skip
    np.testing.assert_allclose(to_numpy(h.data), want_h, rtol=1e-10)
    np.testing.assert_allclose(to_numpy(c.data), want_c, rtol=1e-10)


def test_lstm_rejects_a_wrong_number_of_masks():
    x, kernel, rk, bias, h0, c0, x_masks, _ = _lstm_arrays()
    with pytest.raises(ValueError, match="lstm: input_dropout_masks must hold 4 masks, received 3"):
        R.lstm(x, kernel, rk, bias, h0, c0, input_dropout_masks=x_masks[:3])


@pytest.mark.parametrize("argument", ["input_dropout_masks", "recurrent_dropout_masks"])
def test_a_broadcastable_mask_of_the_wrong_shape_is_rejected_early(argument):
    x, kernel, rk, bias, h0, c0, x_masks, h_masks = _lstm_arrays()
    masks = {"input_dropout_masks": x_masks, "recurrent_dropout_masks": h_masks}[argument]
    masks = [m[:1] for m in masks]  # (1, n): NumPy would broadcast it over the batch
    with pytest.raises(ValueError, match=rf"lstm: each of {argument} must have shape \(2, "):
        R.lstm(x, kernel, rk, bias, h0, c0, **{argument: masks})
    with pytest.raises(ValueError, match=r"simple_rnn: each of input_dropout_mask must have"):
        R.simple_rnn(x, kernel[:, :2], rk[:, :2], bias[:2], h0, input_dropout_mask=x_masks[0][:1])
