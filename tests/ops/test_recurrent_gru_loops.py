"""The GRU's gate-major loops (gpuk/ops/recurrent/_gru_loops.py) against the general loop,
the composed oracle and central differences, and their reused training workspace."""

import numpy as np
import pytest

import gpuk
from gpuk._array import to_numpy
from gpuk.ops import recurrent as R
from gpuk.ops.recurrent import _gru_loops
from tests.gradcheck import assert_gradients_match
from tests.ops.test_recurrent_ops import _run_with_grads, _weights, numpy_gru

pytestmark = pytest.mark.standin

FAST = list(_gru_loops.ACTIVATIONS)


def test_gate_major_loops_apply_to_the_keras_default_gru_only():
    assert _gru_loops.applies(True, None, "tanh", "sigmoid")
    assert _gru_loops.applies(True, None, "relu", "tanh")
    assert not _gru_loops.applies(False, None, "tanh", "sigmoid")
    assert not _gru_loops.applies(True, np.ones((2, 3), bool), "tanh", "sigmoid")
    assert not _gru_loops.applies(True, None, "tanh", "hard_sigmoid")
    assert not _gru_loops.applies(True, None, "hard_sigmoid_legacy", "sigmoid")


@pytest.fixture
def spy(monkeypatch):
    """Counts gate-major forwards; ``spy.general()`` switches them off."""
    calls = []
    forward = _gru_loops.forward

    def counting(*args, **kwargs):
        calls.append(kwargs.get("keep", args[-1] if len(args) > 8 else None))
        return forward(*args, **kwargs)

    monkeypatch.setattr(_gru_loops, "forward", counting)
    counting.calls = calls
    counting.general = lambda: monkeypatch.setattr(_gru_loops, "applies", lambda *a: False)
    return counting


def _gru_fn(activation, recurrent_activation, go_backwards, has_bias):
    def run(x, k, rk, *rest):
        bias, h0 = (rest[0], rest[1]) if has_bias else (None, rest[0])
        return R.gru(
            x,
            k,
            rk,
            bias,
            h0,
            None,
            activation=activation,
            recurrent_activation=recurrent_activation,
            go_backwards=go_backwards,
            fused=False,
        )

    return run


@pytest.mark.parametrize("activation", FAST)
@pytest.mark.parametrize("recurrent_activation", FAST)
def test_every_activation_pair_matches_the_composed_oracle(
    xp, spy, activation, recurrent_activation
):
    rng = np.random.default_rng(11)
    x, k, rk, b, h0 = _weights(rng, 3, 6, 4, 5, 3, (2, 15))
    weights = [rng.normal(size=(3, 6, 5)), rng.normal(size=(3, 5))]
    fast = _run_with_grads(
        _gru_fn(activation, recurrent_activation, False, True), [x, k, rk, b, h0], xp, weights
    )
    assert spy.calls == [True]

    def composed(x, k, rk, b, h0):
        return R.gru_composed(
            x, k, rk, b, h0, activation=activation, recurrent_activation=recurrent_activation
        )

    slow = _run_with_grads(composed, [x, k, rk, b, h0], xp, weights)
    for a, e in zip(fast[0] + fast[1], slow[0] + slow[1]):
        np.testing.assert_allclose(a, e, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("has_bias", [True, False])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_gate_major_loops_match_the_general_loop(xp, spy, go_backwards, has_bias, dtype):
    rng = np.random.default_rng(12)
    x, k, rk, b, h0 = (
        None if a is None else a.astype(dtype)
        for a in _weights(rng, 4, 7, 3, 6, 3, (2, 18) if has_bias else None)
    )
    arrays = [x, k, rk] + ([b] if has_bias else []) + [h0]
    weights = [rng.normal(size=(4, 7, 6)).astype(dtype), rng.normal(size=(4, 6)).astype(dtype)]
    run = _gru_fn("tanh", "sigmoid", go_backwards, has_bias)
    fast = _run_with_grads(run, arrays, xp, weights)
    assert spy.calls == [True]
    spy.general()
    general = _run_with_grads(run, arrays, xp, weights)
    assert spy.calls == [True]
    tol = dict(rtol=1e-11, atol=1e-12) if dtype == "float64" else dict(rtol=2e-5, atol=2e-6)
    for a, e in zip(fast[0] + fast[1], general[0] + general[1]):
        assert a.dtype == np.dtype(dtype)
        np.testing.assert_allclose(a, e, **tol)
    ref_seq, ref_last = numpy_gru(
        *(a.astype(float) if a is not None else a for a in (x, k, rk, b, h0)),
        go_backwards=go_backwards,
    )
    np.testing.assert_allclose(fast[0][0], ref_seq, **tol)


def test_predict_keeps_nothing_and_matches_training(xp, spy):
    rng = np.random.default_rng(13)
    x, k, rk, b, h0 = _weights(rng, 2, 5, 3, 4, 3, (2, 12))
    seq, last = R.gru(xp.asarray(x), k, rk, b, xp.asarray(h0), fused=False)
    assert spy.calls == [False]
    out, _ = _run_with_grads(_gru_fn("tanh", "sigmoid", False, True), [x, k, rk, b, h0], xp, [1, 1])
    np.testing.assert_array_equal(to_numpy(seq.data), out[0])
    np.testing.assert_array_equal(to_numpy(last.data), out[1])


@pytest.mark.parametrize("go_backwards", [False, True])
def test_gate_major_gradients_central_differences(xp, go_backwards):
    rng = np.random.default_rng(14)
    x, k, rk, _, h0 = _weights(rng, 2, 5, 2, 2, 3, None)
    w_seq = rng.normal(size=(2, 5, 2))

    def fn(x, k, rk, h0):
        seq, last = R.gru(
            x,
            k,
            rk,
            None,
            h0,
            activation="relu",
            recurrent_activation="tanh",
            go_backwards=go_backwards,
        )
        return gpuk.ops.add(gpuk.ops.sum(gpuk.ops.multiply(seq, w_seq)), gpuk.ops.sum(last))

    assert_gradients_match(fn, [x, k, rk, h0], xp, rtol=1e-6, atol=1e-8)


def test_workspace_is_reused_only_once_free(xp, monkeypatch):
    """Two recordings alive at once keep their own per-step values; a persistent tape may
    differentiate twice; a released recording's workspace serves the next one."""
    monkeypatch.setattr(_gru_loops, "_WORKSPACES", [])
    rng = np.random.default_rng(15)
    x, k, rk, b, h0 = (a.astype(np.float32) for a in _weights(rng, 3, 6, 4, 5, 3, (2, 15)))
    k, rk, b = (gpuk.Variable(xp.asarray(a)) for a in (k, rk, b))

    def record(scale):
        tape = gpuk.GradientTape(persistent=True)
        with tape:
            seq, last = R.gru(xp.asarray(x * scale), k, rk, b, xp.asarray(h0), fused=False)
            loss = gpuk.ops.add(gpuk.ops.sum(gpuk.ops.square(seq)), gpuk.ops.sum(last))
        return tape, loss

    def grads(tape, loss):
        return [to_numpy(g.data) for g in tape.gradient(loss, [k, rk, b])]

    alone = {s: grads(*record(s)) for s in (1.0, -0.5)}
    first, second = record(1.0), record(-0.5)  # both alive: two workspaces
    for got, want in ((grads(*second), alone[-0.5]), (grads(*first), alone[1.0])):
        for a, e in zip(got, want):
            np.testing.assert_array_equal(a, e)
    again = grads(*first)  # the persistent tape differentiates again
    for a, e in zip(again, alone[1.0]):
        np.testing.assert_array_equal(a, e)
    if xp is np:
        spaces = len(_gru_loops._WORKSPACES)
        assert spaces == 3  # the two live recordings' and one backward's (freed on return)
        del first, second
        for _ in range(3):  # released recordings' workspaces are reused, not added
            grads(*record(1.0))
        assert len(_gru_loops._WORKSPACES) == spaces
