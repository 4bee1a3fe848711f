"""gpuk.initializers: shapes, dtypes, Keras's fan rules and statistics, seeds, configs, get()."""

import math

import numpy as np
import pytest

import gpuk
from gpuk import _config, initializers
from gpuk.utils import custom_object_scope, set_random_seed

ALL_CLASSES = [
    initializers.Zeros,
    initializers.Ones,
    initializers.Constant,
    initializers.RandomNormal,
    initializers.RandomUniform,
    initializers.TruncatedNormal,
    initializers.VarianceScaling,
    initializers.GlorotUniform,
    initializers.GlorotNormal,
    initializers.HeNormal,
    initializers.HeUniform,
    initializers.LecunNormal,
    initializers.LecunUniform,
    initializers.Orthogonal,
    initializers.Identity,
]
RANDOM_CLASSES = [
    initializers.RandomNormal,
    initializers.RandomUniform,
    initializers.TruncatedNormal,
    initializers.VarianceScaling,
    initializers.GlorotUniform,
    initializers.GlorotNormal,
    initializers.HeNormal,
    initializers.HeUniform,
    initializers.LecunNormal,
    initializers.LecunUniform,
    initializers.Orthogonal,
]
# Keras 3 / tf.keras get_config() output for default arguments.
KERAS_CONFIGS = {
    "Zeros": {},
    "Ones": {},
    "Constant": {"value": 0.0},
    "RandomNormal": {"seed": None, "mean": 0.0, "stddev": 0.05},
    "RandomUniform": {"seed": None, "minval": -0.05, "maxval": 0.05},
    "TruncatedNormal": {"seed": None, "mean": 0.0, "stddev": 0.05},
    "VarianceScaling": {
        "seed": None,
        "scale": 1.0,
        "mode": "fan_in",
        "distribution": "truncated_normal",
    },
    "GlorotUniform": {"seed": None},
    "GlorotNormal": {"seed": None},
    "HeNormal": {"seed": None},
    "HeUniform": {"seed": None},
    "LecunNormal": {"seed": None},
    "LecunUniform": {"seed": None},
    "Orthogonal": {"seed": None, "gain": 1.0},
    "Identity": {"gain": 1.0},
}


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=lambda c: c.__name__)
def test_shape_dtype_and_numpy_result(cls):
    init = cls()
    out = init((6, 4))
    assert isinstance(out, np.ndarray)
    assert out.shape == (6, 4)
    assert out.dtype == np.float32
    assert init([6, 4], dtype="float64").dtype == np.float64
    assert init((6, 4), dtype=np.float64).dtype == np.float64
    _config.set_floatx("float64")
    assert init((6, 4)).dtype == np.float64


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=lambda c: c.__name__)
def test_default_config_is_keras_and_round_trips(cls):
    init = cls()
    assert init.get_config() == KERAS_CONFIGS[cls.__name__]
    assert list(init.get_config()) == list(KERAS_CONFIGS[cls.__name__])
    clone = cls.from_config(init.get_config())
    assert type(clone) is cls and clone.get_config() == init.get_config()
    config = initializers.serialize(init)
    assert config == {"class_name": cls.__name__, "config": KERAS_CONFIGS[cls.__name__]}
    again = initializers.deserialize(config)
    assert type(again) is cls and again.get_config() == init.get_config()


def test_non_default_configs():
    assert initializers.RandomNormal(1.0, 2.0, seed=3).get_config() == {
        "seed": 3,
        "mean": 1.0,
        "stddev": 2.0,
    }
    vs = initializers.VarianceScaling(2.0, "fan_out", "uniform", seed=7)
    assert vs.get_config() == {
        "seed": 7,
        "scale": 2.0,
        "mode": "fan_out",
        "distribution": "uniform",
    }
    assert initializers.Orthogonal(gain=2.0, seed=1).get_config() == {"seed": 1, "gain": 2.0}
    assert initializers.Constant(3).get_config() == {"value": 3}
    assert initializers.Constant(np.array([1.0, 2.0])).get_config() == {"value": [1.0, 2.0]}
    assert initializers.GlorotUniform(seed=5).get_config() == {"seed": 5}
    # Keras 2 wrote "normal", which means truncated normal.
    assert initializers.VarianceScaling(distribution="normal").distribution == "truncated_normal"


@pytest.mark.parametrize(
    "shape, fans",
    [
        ((), (1, 1)),
        ((7,), (7, 7)),
        ((3, 5), (3, 5)),
        ((3, 4, 5), (12, 15)),
        ((2, 3, 4, 5), (24, 30)),
        ((2, 2, 3, 4, 5), (48, 60)),
    ],
)
def test_compute_fans_keras_rule(shape, fans):
    assert initializers.compute_fans(shape) == fans


def test_compute_fans_with_axes():
    assert initializers.compute_fans((2, 3, 4), input_axes=[0, 1], output_axes=[2]) == (6, 4)
    vs = initializers.VarianceScaling(
        scale=6.0, mode="fan_in", distribution="uniform", input_axes=[0, 1], output_axes=[2]
    )
    values = vs((2, 3, 4))
    assert np.abs(values).max() <= math.sqrt(3 * 6.0 / 6) + 1e-6
    assert vs.get_config()["input_axes"] == [0, 1]


@pytest.mark.parametrize(
    "cls, scale, mode",
    [
        (initializers.GlorotUniform, 1.0, "fan_avg"),
        (initializers.HeUniform, 2.0, "fan_in"),
        (initializers.LecunUniform, 1.0, "fan_in"),
    ],
)
def test_uniform_presets_limits_and_variance(cls, scale, mode):
    shape = (3, 3, 40, 50)  # a conv kernel: receptive field 9
    fan_in, fan_out = 360, 450
    fan = {"fan_in": fan_in, "fan_avg": (fan_in + fan_out) / 2}[mode]
    limit = math.sqrt(3 * scale / fan)
    values = cls(seed=1)(shape, dtype="float64")
    assert np.abs(values).max() <= limit
    assert np.abs(values).max() > 0.99 * limit
    np.testing.assert_allclose(values.var(), scale / fan, rtol=0.02)
    np.testing.assert_allclose(values.mean(), 0.0, atol=0.01 * limit)
    same = initializers.VarianceScaling(scale, mode, "uniform", seed=1)(shape, dtype="float64")
    np.testing.assert_array_equal(values, same)


@pytest.mark.parametrize(
    "cls, scale, mode",
    [
        (initializers.GlorotNormal, 1.0, "fan_avg"),
        (initializers.HeNormal, 2.0, "fan_in"),
        (initializers.LecunNormal, 1.0, "fan_in"),
    ],
)
def test_truncated_normal_presets_keep_the_variance(cls, scale, mode):
    shape = (300, 500)
    fan = {"fan_in": 300, "fan_avg": 400}[mode]
    values = cls(seed=2)(shape, dtype="float64")
    # Keras divides the stddev by 0.8796..., the stddev of a unit normal truncated at +-2,
    # so the truncated values keep variance scale / fan.
    np.testing.assert_allclose(values.var(), scale / fan, rtol=0.02)
    stddev = math.sqrt(scale / fan) / 0.87962566103423978
    assert np.abs(values).max() <= 2 * stddev
    assert np.abs(values).max() > 1.98 * stddev


def test_untruncated_normal_and_fan_out():
    values = initializers.VarianceScaling(4.0, "fan_out", "untruncated_normal", seed=0)(
        (100, 400), dtype="float64"
    )
    np.testing.assert_allclose(values.std(), math.sqrt(4.0 / 400), rtol=0.02)
    assert np.abs(values).max() > 3 * math.sqrt(4.0 / 400)  # not truncated


def test_fans_below_one_do_not_blow_up():
    values = initializers.HeUniform(seed=0)((0, 5))
    assert values.shape == (0, 5)
    one = initializers.LecunUniform(seed=0)(())
    assert one.shape == () and abs(float(one)) <= math.sqrt(3.0)


def test_random_normal_uniform_truncated_statistics():
    rn = initializers.RandomNormal(mean=1.0, stddev=2.0, seed=0)((200, 500), dtype="float64")
    np.testing.assert_allclose([rn.mean(), rn.std()], [1.0, 2.0], rtol=0.02)
    ru = initializers.RandomUniform(minval=-1.0, maxval=3.0, seed=0)((200, 500), dtype="float64")
    assert ru.min() >= -1.0 and ru.max() < 3.0
    np.testing.assert_allclose([ru.mean(), ru.var()], [1.0, 16 / 12], rtol=0.02)
    tn = initializers.TruncatedNormal(mean=0.5, stddev=0.1, seed=0)((200, 500), dtype="float64")
    assert tn.min() >= 0.3 and tn.max() <= 0.7
    np.testing.assert_allclose(tn.std(), 0.1 * 0.87962566103423978, rtol=0.02)
    defaults = initializers.RandomUniform()((1000,))
    assert defaults.min() >= -0.05 and defaults.max() <= 0.05


@pytest.mark.parametrize("shape", [(5, 5), (8, 3), (3, 8), (2, 3, 4), (4, 3, 2)])
def test_orthogonal(shape):
    gain = 1.5
    q = initializers.Orthogonal(gain=gain, seed=3)(shape, dtype="float64")
    assert q.shape == shape
    flat = q.reshape(-1, shape[-1])
    rows, cols = flat.shape
    if rows >= cols:
        np.testing.assert_allclose(flat.T @ flat, gain**2 * np.eye(cols), atol=1e-12)
    else:
        np.testing.assert_allclose(flat @ flat.T, gain**2 * np.eye(rows), atol=1e-12)


def test_orthogonal_sign_fix_follows_keras():
    # Keras: Q from QR of a normal matrix, columns multiplied by sign(diag(R)).
    init = initializers.Orthogonal(seed=11)
    a = np.random.default_rng(11).standard_normal((6, 4))
    q, r = np.linalg.qr(a)
    np.testing.assert_allclose(init((6, 4), dtype="float64"), q * np.sign(np.diag(r)))
    wide = initializers.Orthogonal(seed=11)((4, 6), dtype="float64")
    np.testing.assert_allclose(wide, (q * np.sign(np.diag(r))).T)


def test_orthogonal_rejects_rank_one():
    with pytest.raises(ValueError, match="two-dimensional.*shape=\\(5,\\)"):
        initializers.Orthogonal()((5,))


def test_identity_and_constant():
    np.testing.assert_array_equal(initializers.Identity()((3, 3)), np.eye(3))
    np.testing.assert_array_equal(initializers.Identity(gain=2.0)((2, 4)), 2 * np.eye(2, 4))
    with pytest.raises(ValueError, match="2-D.*\\(2, 2, 2\\)"):
        initializers.Identity()((2, 2, 2))
    np.testing.assert_array_equal(initializers.Constant(3.5)((2, 2)), np.full((2, 2), 3.5))
    np.testing.assert_array_equal(
        initializers.Constant([1.0, 2.0])((3, 2)), np.tile([1.0, 2.0], (3, 1))
    )
    with pytest.raises(ValueError, match="Constant"):
        initializers.Constant([1.0, 2.0, 3.0])((3, 2))
    np.testing.assert_array_equal(initializers.Zeros()((2,), dtype="int32"), [0, 0])
    np.testing.assert_array_equal(initializers.Ones()((2, 1)), [[1.0], [1.0]])


@pytest.mark.parametrize("cls", RANDOM_CLASSES, ids=lambda c: c.__name__)
def test_seeds(cls):
    seeded = cls(seed=42)
    np.testing.assert_array_equal(seeded((5, 4)), seeded((5, 4)))  # Keras 3: same every call
    np.testing.assert_array_equal(seeded((5, 4)), cls(seed=42)((5, 4)))
    assert not np.array_equal(cls(seed=1)((5, 4)), cls(seed=2)((5, 4)))
    set_random_seed(123)
    unseeded = cls()
    first, second = unseeded((5, 4)), unseeded((5, 4))
    assert not np.array_equal(first, second)
    set_random_seed(123)
    np.testing.assert_array_equal(cls()((5, 4)), first)
    np.testing.assert_array_equal(cls()((5, 4)), second)


def test_random_initializers_reject_int_dtype_and_bad_seed():
    with pytest.raises(ValueError, match="GlorotUniform.*int32"):
        initializers.GlorotUniform()((2, 2), dtype="int32")
    with pytest.raises(ValueError, match="seed"):
        initializers.RandomNormal(seed="abc")


def test_variance_scaling_argument_errors():
    with pytest.raises(ValueError, match="scale"):
        initializers.VarianceScaling(scale=0.0)
    with pytest.raises(ValueError, match="mode.*fan_in"):
        initializers.VarianceScaling(mode="fan_middle")
    with pytest.raises(ValueError, match="distribution.*uniform"):
        initializers.VarianceScaling(distribution="cauchy")


def test_snake_case_aliases_are_the_classes():
    assert initializers.glorot_uniform is initializers.GlorotUniform
    assert initializers.zeros is initializers.Zeros
    assert initializers.orthogonal is initializers.Orthogonal
    assert initializers.he_normal is initializers.HeNormal
    assert initializers.variance_scaling is initializers.VarianceScaling


@pytest.mark.parametrize(
    "name, cls",
    [
        ("glorot_uniform", initializers.GlorotUniform),
        ("GlorotUniform", initializers.GlorotUniform),
        ("orthogonal", initializers.Orthogonal),
        ("zeros", initializers.Zeros),
        ("zero", initializers.Zeros),
        ("ones", initializers.Ones),
        ("one", initializers.Ones),
        ("normal", initializers.RandomNormal),
        ("uniform", initializers.RandomUniform),
        ("random_normal", initializers.RandomNormal),
        ("random_uniform", initializers.RandomUniform),
        ("truncated_normal", initializers.TruncatedNormal),
        ("glorot_normal", initializers.GlorotNormal),
        ("he_normal", initializers.HeNormal),
        ("he_uniform", initializers.HeUniform),
        ("lecun_normal", initializers.LecunNormal),
        ("lecun_uniform", initializers.LecunUniform),
        ("identity", initializers.Identity),
        ("IdentityInitializer", initializers.Identity),
        ("OrthogonalInitializer", initializers.Orthogonal),
        ("constant", initializers.Constant),
        ("variance_scaling", initializers.VarianceScaling),
    ],
)
def test_get_by_name(name, cls):
    init = initializers.get(name)
    assert type(init) is cls


def test_get_other_identifier_forms():
    assert initializers.get(None) is None
    instance = initializers.HeNormal(seed=1)
    assert initializers.get(instance) is instance
    assert type(initializers.get(initializers.Ones)) is initializers.Ones
    legacy = {"class_name": "Orthogonal", "config": {"gain": 2.0, "seed": None}}
    assert initializers.get(legacy).gain == 2.0
    keras3 = {
        "module": "keras.initializers",
        "class_name": "GlorotUniform",
        "config": {"seed": None, "input_axes": None, "output_axes": None},
        "registered_name": None,
    }
    init = initializers.get(keras3)
    assert type(init) is initializers.GlorotUniform
    assert init.get_config() == {"seed": None}

    def my_init(shape, dtype=None):
        return np.full(shape, 7.0, dtype=dtype or "float32")

    assert initializers.get(my_init) is my_init
    value = np.arange(6.0).reshape(2, 3)
    from_array = initializers.get(value)
    np.testing.assert_array_equal(from_array((2, 3)), value)
    assert from_array((2, 3)).dtype == np.float32
    with pytest.raises(ValueError, match="shape"):
        from_array((3, 2))


def test_keras_2_variance_scaling_glorot_uniform():
    config = {
        "class_name": "VarianceScaling",
        "config": {"scale": 1, "mode": "fan_avg", "distribution": "uniform", "seed": None},
    }
    init = initializers.get(config)
    assert isinstance(init, initializers.VarianceScaling)
    values = init((30, 20), dtype="float64")
    assert np.abs(values).max() <= math.sqrt(6 / 50)
    seeded = dict(config["config"], seed=4)
    np.testing.assert_array_equal(
        initializers.VarianceScaling(**seeded)((30, 20)),
        initializers.GlorotUniform(seed=4)((30, 20)),
    )


def test_custom_initializer_subclass():
    class Halves(initializers.Initializer):
        def __init__(self, scale=0.5):
            self.scale = scale

        def __call__(self, shape, dtype=None):
            return np.full(shape, self.scale, dtype=dtype or "float32")

        def get_config(self):
            return {"scale": self.scale}

    config = initializers.serialize(Halves(0.25))
    assert config == {"class_name": "Halves", "config": {"scale": 0.25}}
    with custom_object_scope({"Halves": Halves}):
        init = initializers.get(config)
    np.testing.assert_array_equal(init((2,)), [0.25, 0.25])
    assert initializers.deserialize(config, custom_objects={"Halves": Halves}).scale == 0.25
    with pytest.raises(NotImplementedError):
        initializers.Initializer()((2,))


def test_unknown_names_and_bad_identifiers():
    with pytest.raises(ValueError, match="Unknown initializer: 'glorot'.*glorot_uniform"):
        initializers.get("glorot")
    with pytest.raises(ValueError, match="Unknown initializer: 'Nope'"):
        initializers.get({"class_name": "Nope", "config": {}})
    with pytest.raises(TypeError, match="initializer"):
        initializers.get(3.5)


def test_values_move_to_device(xp):
    # Layers wrap the NumPy result on their device; the values survive the trip.
    values = initializers.GlorotUniform(seed=0)((3, 2))
    tensor = gpuk.Tensor(xp.asarray(values))
    np.testing.assert_array_equal(tensor.numpy(), values)
