"""Bidirectional: Keras 3 weight order and names, merge modes, masks, return_state, config."""

import numpy as np
import pytest

import gpuk
from gpuk._array import to_numpy
from gpuk.layers.recurrent import GRU, LSTM
from gpuk.layers.recurrent_bidirectional import Bidirectional

# Part of the GPU-branch subset CI runs under the CuPy stand-in (docs/gpu-standin.md).
pytestmark = pytest.mark.standin


def _numpy(t):
    return to_numpy(t.data)


def test_weights_order_names_and_shapes():
    bi = Bidirectional(GRU(3, name="gg"), name="bidirectional")
    out = bi(gpuk.Input((None, 2)))
    assert out.shape == (None, 6)
    assert [w.path for w in bi.weights] == [
        "bidirectional/forward_gg/gru_cell/kernel",
        "bidirectional/forward_gg/gru_cell/recurrent_kernel",
        "bidirectional/forward_gg/gru_cell/bias",
        "bidirectional/backward_gg/gru_cell/kernel",
        "bidirectional/backward_gg/gru_cell/recurrent_kernel",
        "bidirectional/backward_gg/gru_cell/bias",
    ]
    assert bi.forward_layer.name == "forward_gg" and bi.backward_layer.go_backwards
    assert bi.count_params() == 2 * (2 * 9 + 3 * 9 + 2 * 9)


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
def test_merge_modes_and_sequences_match_two_layers(merge_mode):
    x = np.random.default_rng(0).normal(size=(2, 5, 3)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    bi = Bidirectional(GRU(4, return_sequences=True), merge_mode=merge_mode)
    out = bi(x, mask=mask)
    fwd = GRU(4, return_sequences=True, zero_output_for_mask=True)
    bwd = GRU(4, return_sequences=True, go_backwards=True, zero_output_for_mask=True)
    fwd.build(x.shape)
    bwd.build(x.shape)
    fwd.set_weights(bi.forward_layer.get_weights())
    bwd.set_weights(bi.backward_layer.get_weights())
    y = _numpy(fwd(x, mask=mask))
    y_rev = _numpy(bwd(x, mask=mask))[:, ::-1]
    want = {
        "concat": np.concatenate([y, y_rev], axis=-1),
        "sum": y + y_rev,
        "mul": y * y_rev,
        "ave": (y + y_rev) / 2,
    }
    if merge_mode is None:
        np.testing.assert_allclose(_numpy(out[0]), y, rtol=1e-6)
        np.testing.assert_allclose(_numpy(out[1]), y_rev, rtol=1e-6)
    else:
        np.testing.assert_allclose(_numpy(out), want[merge_mode], rtol=1e-6)
    assert np.all(y[0, 3:] == 0)  # Keras 3 zeroes masked steps of a wrapped sequence layer


def test_return_state_and_config_round_trip():
    bi = Bidirectional(LSTM(3, return_state=True))
    x = np.random.default_rng(1).normal(size=(2, 4, 2)).astype("float32")
    outs = bi(x)
    assert [o.shape for o in outs] == [(2, 6), (2, 3), (2, 3), (2, 3), (2, 3)]
    config = bi.get_config()
    assert config["merge_mode"] == "concat"
    assert config["layer"]["class_name"] == "LSTM"
    assert config["backward_layer"]["config"]["go_backwards"] is True
    clone = Bidirectional.from_config(config)
    assert clone.forward_layer.name == bi.forward_layer.name
    clone.build((None, None, 2))
    clone.set_weights(bi.get_weights())
    for a, b in zip(clone(x), outs):
        np.testing.assert_allclose(_numpy(a), _numpy(b), rtol=1e-6)


def test_bad_arguments():
    with pytest.raises(ValueError, match="merge_mode"):
        Bidirectional(GRU(2), merge_mode="max")
    with pytest.raises(ValueError, match="go_backwards"):
        Bidirectional(GRU(2), backward_layer=GRU(2))
    with pytest.raises(ValueError, match="Layer instance"):
        Bidirectional("gru")
