"""Early, clear errors from the recurrent ops (holes found by tools/mutate.py, issue 18)."""

import numpy as np
import pytest

from gpuk.ops import recurrent

B, T, F, U = 2, 3, 4, 5


def _lstm_args(bias_shape=(4 * U,)):
    rng = np.random.default_rng(0)
    return dict(
        inputs=rng.normal(size=(B, T, F)).astype("float32"),
        kernel=rng.normal(size=(F, 4 * U)).astype("float32"),
        recurrent_kernel=rng.normal(size=(U, 4 * U)).astype("float32"),
        bias=np.zeros(bias_shape, "float32"),
        initial_state_h=None,
        initial_state_c=None,
    )


def test_lstm_runs_and_rejects_a_wrong_bias_shape():
    out, h, c = recurrent.lstm(**_lstm_args())
    assert tuple(out.shape) == (B, T, U) and tuple(h.shape) == (B, U)
    with pytest.raises(ValueError, match="bias"):
        recurrent.lstm(**_lstm_args(bias_shape=(3 * U,)))


def test_fused_true_with_an_activation_callable_is_an_error():
    with pytest.raises(ValueError, match="fused=True"):
        recurrent.lstm(**_lstm_args(), activation=np.tanh, fused=True)
