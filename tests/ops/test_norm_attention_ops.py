"""einsum, the normalization ops and the attention ops: values against NumPy references and
float64 central-difference gradients, on every backend (the ``xp`` fixture)."""

import inspect

import numpy as np
import pytest

import gpuk
from gpuk.ops import attention as att
from gpuk.ops import normalization as norm
from gpuk.ops.contraction import einsum
from tests.gradcheck import assert_gradients_match

RNG = np.random.default_rng(0)

EQUATIONS = [
    ("bqhd,bkhd->bhqk", (2, 3, 2, 4), (2, 5, 2, 4)),
    ("abc,cde->abde", (2, 3, 4), (4, 2, 3)),
    ("...ab,bc->...ac", (2, 3, 4, 5), (5, 2)),
    ("ij,jk", (3, 4), (4, 5)),
    ("abc,bd->dca", (2, 3, 4), (3, 5)),
    ("ab,cd->ac", (2, 3), (4, 5)),
    ("aecd,abcd->acbe", (2, 5, 2, 3), (2, 4, 2, 3)),
    # broadcast ellipsis dimensions (size 1 against a larger size), both ways
    ("...ij,...jk->...ik", (2, 1, 3, 4), (1, 5, 4, 2)),
    ("...i,...i->...", (1, 3), (2, 3)),
    ("b...d,bkd->b...k", (2, 1, 4), (2, 3, 4)),
    ("...ij,jk->...ik", (3, 1, 2, 4), (4, 2)),
]


@pytest.mark.parametrize("equation, sa, sb", EQUATIONS)
def test_einsum_values_and_gradients(xp, equation, sa, sb):
    a, b = RNG.normal(size=sa), RNG.normal(size=sb)
    got = einsum(equation, xp.asarray(a), xp.asarray(b)).numpy()
    np.testing.assert_allclose(got, np.einsum(equation, a, b), rtol=1e-12, atol=1e-12)
    assert_gradients_match(lambda x, y: einsum(equation, x, y), [a, b], xp)


def test_einsum_three_operands_and_errors(xp):
    a, b, c = RNG.normal(size=(2, 3)), RNG.normal(size=(3, 4)), RNG.normal(size=(4,))
    np.testing.assert_allclose(
        einsum("ij,jk,k->i", a, b, c).numpy(), np.einsum("ij,jk,k->i", a, b, c), rtol=1e-12
    )
    assert_gradients_match(lambda x, y, z: einsum("ij,jk,k->i", x, y, z), [a, b, c], xp)
    with pytest.raises(ValueError, match="rank"):
        einsum("ij,jk->ik", a, c)
    with pytest.raises(ValueError, match="operands"):
        einsum("ij,jk->ik", a)
    with pytest.raises(ValueError, match="subscript 'j' has size 3 in one operand and 2"):
        einsum("ij,jk->ik", a, a.T[:2])


def test_einsum_is_one_implementation():
    assert inspect.unwrap(gpuk.ops.einsum) is einsum


@pytest.mark.parametrize("axes", [(0,), (1, 2), (0, 1)])
def test_normalize_moments_values_and_gradients(xp, axes):
    x = RNG.normal(size=(4, 3, 5)) * 2 + 1
    shape = [1, 1, 1]
    for a in range(3):
        if a not in axes:
            shape[a] = x.shape[a]
    gamma, beta = RNG.normal(size=shape), RNG.normal(size=shape)
    out, mean, var = norm.normalize_moments(xp.asarray(x), axes, gamma, beta, epsilon=1e-3)
    m, v = x.mean(axes, keepdims=True), x.var(axes, keepdims=True)
    np.testing.assert_allclose(out.numpy(), (x - m) / np.sqrt(v + 1e-3) * gamma + beta, rtol=1e-10)
    np.testing.assert_allclose(var.numpy(), v, rtol=1e-12)

    def fn(x, g, b):
        y, mu, s2 = norm.normalize_moments(x, axes, g, b, epsilon=1e-3)
        # Use the statistics too, so their gradients are checked.
        return gpuk.ops.sum(y * y) + gpuk.ops.sum(mu * 3.0) + gpuk.ops.sum(s2 * 2.0)

    assert_gradients_match(fn, [x, gamma, beta], xp, rtol=1e-5, atol=1e-6)


def test_layer_batch_rms_normalization_and_normalize(xp):
    x = RNG.normal(size=(3, 4, 5))
    gamma, beta = RNG.normal(size=(4, 5)), RNG.normal(size=(4, 5))
    got = norm.layer_normalization(xp.asarray(x), gamma, beta, axis=[1, 2], epsilon=1e-3).numpy()
    m, v = x.mean((1, 2), keepdims=True), x.var((1, 2), keepdims=True)
    np.testing.assert_allclose(got, (x - m) / np.sqrt(v + 1e-3) * gamma + beta, rtol=1e-10)
    mean, var = RNG.normal(size=5), RNG.random(5) + 0.5
    got = norm.batch_normalization(xp.asarray(x), mean, var, -1, beta[0], gamma[0]).numpy()
    np.testing.assert_allclose(got, (x - mean) / np.sqrt(var + 1e-3) * gamma[0] + beta[0])
    got = norm.rms_normalization(xp.asarray(x), gamma[0], axis=-1, epsilon=1e-6).numpy()
    rms = np.sqrt((x * x).mean(-1, keepdims=True) + 1e-6)
    np.testing.assert_allclose(got, x / rms * gamma[0], rtol=1e-10)
    got = norm.normalize(xp.asarray(x), axis=-1).numpy()
    np.testing.assert_allclose(got, x / np.linalg.norm(x, axis=-1, keepdims=True), rtol=1e-10)
    for fn in (
        lambda a, g: norm.layer_normalization(a, g, None, axis=-1, epsilon=1e-3),
        lambda a, g: norm.rms_normalization(a, g, axis=-1),
        lambda a, g: norm.batch_normalization(a, mean, var, 2, None, g),
        lambda a, g: norm.normalize(a, axis=-1) * g,
    ):
        assert_gradients_match(fn, [x, gamma[0]], xp, rtol=1e-5, atol=1e-6)
    mu, s2 = norm.moments(xp.asarray(x), axes=[0, 1])
    np.testing.assert_allclose(s2.numpy(), x.var((0, 1)), rtol=1e-12)
    assert_gradients_match(lambda a: norm.moments(a, [0, 1])[1], [x], xp, rtol=1e-5)


def test_masked_softmax_values_and_gradients(xp):
    x = RNG.normal(size=(2, 3, 4))
    mask = RNG.random((2, 1, 4)) > 0.4
    mask[0, 0, :] = False
    y = att.masked_softmax(xp.asarray(x), xp.asarray(mask), axis=-1).numpy()
    e = np.where(mask, np.exp(x - np.where(mask, x, -np.inf).max(-1, keepdims=True)), 0)
    with np.errstate(invalid="ignore"):
        ref = np.nan_to_num(e / e.sum(-1, keepdims=True))
    np.testing.assert_allclose(y, ref, atol=1e-12)
    assert np.all(y[0] == 0)
    uniform = att.masked_softmax(xp.asarray(x), xp.asarray(mask), zero_masked=False).numpy()
    np.testing.assert_allclose(uniform[0], 0.25)
    cot = RNG.normal(size=x.shape)
    assert_gradients_match(
        lambda a: att.masked_softmax(a, xp.asarray(mask), axis=-1) * cot, [x], xp, rtol=1e-5
    )
    with pytest.raises(ValueError, match="broadcastable"):
        att.masked_softmax(xp.asarray(x), xp.asarray(np.ones((2, 3, 5), bool)))


def test_dot_product_attention_matches_reference(xp):
    q, k, v = (RNG.normal(size=s) for s in [(2, 4, 3, 5), (2, 6, 3, 5), (2, 6, 3, 2)])
    mask = RNG.random((2, 1, 4, 6)) > 0.3
    out = att.dot_product_attention(q, k, v, mask=xp.asarray(mask), is_causal=True).numpy()
    logits = np.einsum("btnh,bsnh->bnts", q, k) / np.sqrt(5)
    full = mask & np.tril(np.ones((4, 6), bool))
    logits = np.where(full, logits, -0.7 * np.finfo(np.float64).max)
    p = np.exp(logits - logits.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    np.testing.assert_allclose(out, np.einsum("bnts,bsnh->btnh", p, v), rtol=1e-10, atol=1e-12)
    assert_gradients_match(
        lambda a, b, c: att.dot_product_attention(a, b, c, mask=xp.asarray(mask)),
        [q, k, v],
        xp,
        rtol=1e-5,
        atol=1e-7,
    )


@pytest.mark.parametrize(
    "name",
    ["moments", "batch_normalization", "layer_normalization", "rms_normalization", "normalize"],
)
def test_normalization_ops_are_one_implementation(name):
    assert inspect.unwrap(getattr(gpuk.ops, name)) is getattr(norm, name)
    assert inspect.unwrap(getattr(gpuk.ops.nn, name)) is getattr(norm, name)


def test_normalization_ops_take_integers_and_scalars():
    x = np.arange(6).reshape(2, 3)
    out = norm.layer_normalization(x, epsilon=1e-3).numpy()
    assert out.dtype == np.float32
    centered = x - x.mean(-1, keepdims=True)
    np.testing.assert_allclose(out, centered / np.sqrt(x.var(-1, keepdims=True) + 1e-3), rtol=1e-6)
    assert norm.rms_normalization(np.float64(2.0), epsilon=0.0).numpy().tolist() == [1.0]
    mean, var = norm.moments(x, axes=[1])
    np.testing.assert_allclose(mean.numpy(), [1.0, 4.0])
    np.testing.assert_allclose(var.numpy(), [2 / 3, 2 / 3], rtol=1e-6)


def test_layer_normalization_rms_scaling_is_deprecated_but_computed():
    x = RNG.normal(size=(2, 4))
    with pytest.warns(UserWarning, match="rms_scaling=True is deprecated"):
        out = norm.layer_normalization(x, axis=-1, epsilon=1e-3, rms_scaling=True).numpy()
    np.testing.assert_allclose(out, x / np.sqrt(x.var(-1, keepdims=True) + 1e-3), rtol=1e-12)
    with pytest.raises(TypeError, match="unexpected arguments"):
        norm.layer_normalization(x, center=True)
