"""gpuk.random as Keras 3's keras.random: shapes, dtypes, seeding, distribution moments."""

import numpy as np
import pytest

import gpuk
from gpuk import random
from gpuk.utils import set_random_seed

DRAWS = {
    "normal": lambda seed, **k: random.normal((400, 50), mean=1.0, stddev=2.0, seed=seed, **k),
    "uniform": lambda seed, **k: random.uniform((400, 50), -1.0, 3.0, seed=seed, **k),
    "truncated_normal": lambda seed, **k: random.truncated_normal((400, 50), seed=seed, **k),
    "randint": lambda seed, **k: random.randint((400, 50), 2, 9, seed=seed, **k),
    "gamma": lambda seed, **k: random.gamma((400, 50), 3.0, seed=seed, **k),
    "beta": lambda seed, **k: random.beta((400, 50), 2.0, 5.0, seed=seed, **k),
    "binomial": lambda seed, **k: random.binomial((400, 50), 10, 0.3, seed=seed, **k),
}

# name -> (expected mean, expected variance) of the draws above.
MOMENTS = {
    "normal": (1.0, 4.0),
    "uniform": (1.0, 16 / 12),
    "truncated_normal": (0.0, 0.7737),  # variance of N(0, 1) truncated to [-2, 2]
    "randint": (5.0, (7**2 - 1) / 12),
    "gamma": (3.0, 3.0),
    "beta": (2 / 7, 10 / (49 * 8)),
    "binomial": (3.0, 2.1),
}


@pytest.mark.parametrize("name", sorted(DRAWS))
def test_shape_dtype_device_and_moments(name, xp):
    out = DRAWS[name](seed=11)
    assert out.shape == (400, 50)
    assert isinstance(out.data, xp.ndarray)
    assert out.dtype == ("int32" if name == "randint" else "float32")
    values = out.numpy().astype(np.float64)
    mean, variance = MOMENTS[name]
    # 20000 draws: the sample mean is within 5 standard errors, the variance within 5%.
    assert abs(values.mean() - mean) < 5 * np.sqrt(variance / values.size)
    assert values.var() == pytest.approx(variance, rel=0.05)


def test_ranges():
    assert random.truncated_normal((5000,), seed=1).numpy().__abs__().max() <= 2.0
    u = random.uniform((5000,), 2.0, 3.0, seed=1).numpy()
    assert u.min() >= 2.0 and u.max() < 3.0
    r = random.randint((5000,), -3, 4, seed=1).numpy()
    assert r.min() == -3 and r.max() == 3
    assert set(np.unique(random.binomial((500,), 1, 0.5, seed=2).numpy())) == {0.0, 1.0}


@pytest.mark.parametrize("name", sorted(DRAWS))
def test_int_seed_is_stateless(name, xp):
    np.testing.assert_array_equal(DRAWS[name](seed=5).numpy(), DRAWS[name](seed=5).numpy())
    assert not np.array_equal(DRAWS[name](seed=5).numpy(), DRAWS[name](seed=6).numpy())


@pytest.mark.parametrize("name", sorted(DRAWS))
def test_seed_generator_advances_and_replays(name, xp):
    gen = random.SeedGenerator(42)
    first, second = DRAWS[name](seed=gen).numpy(), DRAWS[name](seed=gen).numpy()
    assert not np.array_equal(first, second)
    replay = random.SeedGenerator(42)
    np.testing.assert_array_equal(DRAWS[name](seed=replay).numpy(), first)
    np.testing.assert_array_equal(DRAWS[name](seed=replay).numpy(), second)
    assert gen.state.numpy().tolist() == [42, 2]


@pytest.mark.parametrize("name", sorted(DRAWS))
def test_no_seed_is_reproducible_under_set_random_seed(name, xp):
    set_random_seed(3)
    a, b = DRAWS[name](seed=None).numpy(), DRAWS[name](seed=None).numpy()
    assert not np.array_equal(a, b)
    set_random_seed(3)
    np.testing.assert_array_equal(DRAWS[name](seed=None).numpy(), a)
    set_random_seed(3)
    gen = random.SeedGenerator()  # seedless generators draw their seed reproducibly too
    set_random_seed(3)
    np.testing.assert_array_equal(
        random.normal((4,), seed=random.SeedGenerator()).numpy(),
        random.normal((4,), seed=gen).numpy(),
    )


def test_dtypes_and_float_only_errors():
    assert random.normal((2,), dtype="float64").dtype == "float64"
    assert random.randint((2,), 0, 3, dtype="int64").dtype == "int64"
    gpuk.backend.set_floatx("float64")
    assert random.uniform((2,)).dtype == "float64"
    with pytest.raises(ValueError, match="uniform.*float"):
        random.uniform((2,), dtype="int32")
    with pytest.raises(ValueError, match="randint.*integer"):
        random.randint((2,), 0, 3, dtype="float32")
    with pytest.raises(ValueError, match="seed"):
        random.normal((2,), seed="abc")


def test_categorical(xp):
    logits = np.log(np.array([[0.1, 0.2, 0.7], [0.98, 0.01, 0.01]]))
    out = random.categorical(xp.asarray(logits), 4000, seed=3)
    assert out.shape == (2, 4000) and out.dtype == "int32"
    counts = np.stack([np.bincount(row, minlength=3) for row in out.numpy()]) / 4000
    np.testing.assert_allclose(counts, np.exp(logits), atol=0.03)
    with pytest.raises(ValueError, match="2-D"):
        random.categorical(xp.zeros(3), 2)


def test_dropout(xp):
    x = xp.ones((200, 100), dtype="float32")
    out = random.dropout(x, 0.25, seed=random.SeedGenerator(1)).numpy()
    assert set(np.unique(out)) == {0.0, np.float32(1 / 0.75)}
    assert (out == 0).mean() == pytest.approx(0.25, abs=0.02)
    np.testing.assert_array_equal(random.dropout(x, 0.25, seed=4).numpy(),
                                  random.dropout(x, 0.25, seed=4).numpy())  # fmt: skip
    shared = random.dropout(x, 0.5, noise_shape=(200, 1), seed=2).numpy()
    assert (shared == shared[:, :1]).all()


def test_shuffle_permutes_and_keeps_gradients(xp):
    x = gpuk.Variable(xp.asarray(np.arange(12.0).reshape(6, 2)))
    with gpuk.GradientTape() as tape:
        y = random.shuffle(x, seed=9)
        loss = gpuk.ops.sum(y * y)
    assert sorted(y.numpy()[:, 0].tolist()) == [0, 2, 4, 6, 8, 10]
    assert (y.numpy()[:, 1] == y.numpy()[:, 0] + 1).all()
    np.testing.assert_allclose(tape.gradient(loss, x).numpy(), 2 * x.numpy())
    cols = random.shuffle(np.arange(12).reshape(2, 6), axis=1, seed=1).numpy()
    assert sorted(cols[0].tolist()) == list(range(6))


def test_seed_generator_config_round_trip():
    gen = random.SeedGenerator(7, name="g")
    again = random.SeedGenerator.from_config(gen.get_config())
    assert again.next() == random.SeedGenerator(7).next()
    with pytest.raises(ValueError, match="SeedGenerator"):
        random.SeedGenerator("x")


def test_namespace_is_keras():
    import pathlib

    listed = pathlib.Path(__file__).parent / "fixtures/keras/namespaces/random.txt"
    names = [n for n in listed.read_text().splitlines() if n and not n.startswith("#")]
    assert len(names) == 11
    assert [n for n in names if not callable(getattr(gpuk.random, n, None))] == []
    assert gpuk.random is random
