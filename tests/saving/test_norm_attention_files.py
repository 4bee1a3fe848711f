"""Models with normalization/attention/activation/noise layers move between Keras 3 and gpuk.

Keras-written ``model.keras``, ``model.h5`` and ``model.weights.h5`` (fixtures from
``tools/make_keras_fixtures_norm_attention.py``) load in gpuk and predict as Keras did; gpuk's
own files of the same model round-trip. (That gpuk's files load in Keras is checked by hand with
``tools/check_norm_attention_files_in_keras.py``.)
"""

import os
import warnings

import numpy as np
import pytest

import gpuk
from gpuk import layers
from gpuk.models import load_model

FIX = os.path.join(os.path.dirname(__file__), "..", "fixtures", "keras", "norm_attention")
REF = np.load(os.path.join(FIX, "model.npz"))


def build_model():
    """The fixture model, written with gpuk (same layers and names as the Keras tool)."""
    inp = gpuk.Input((6, 8), name="x")
    h = layers.Dense(8, name="proj")(inp)
    a = layers.MultiHeadAttention(2, 4, name="mha")(h, h)
    h = layers.LayerNormalization(epsilon=1e-6, name="ln")(layers.Add()([h, a]))
    h = layers.BatchNormalization(name="bn")(h)
    h = layers.GroupNormalization(groups=2, name="gn")(h)
    h = layers.PReLU(name="prelu")(h)
    h = layers.SpectralNormalization(layers.Dense(8, name="sn_dense"), name="sn")(h)
    h = layers.RMSNormalization(name="rms")(h)
    h = layers.GroupQueryAttention(4, 4, 2, name="gqa")(h, h)
    h = layers.Attention(use_scale=True, name="att")([h, h])
    h = layers.AdditiveAttention(name="add_att")([h, h])
    h = layers.UnitNormalization(name="unit")(h)
    h = layers.EinsumDense("abc,cd->abd", output_shape=(6, 5), bias_axes="d", name="ein")(h)
    h = layers.ReLU(max_value=3.0, name="relu")(h)
    h = layers.LeakyReLU(name="leaky")(h)
    h = layers.ELU(name="elu")(h)
    h = layers.GaussianNoise(0.1, name="gnoise")(h)
    h = layers.GaussianDropout(0.1, name="gdrop")(h)
    h = layers.AlphaDropout(0.1, name="adrop")(h)
    h = layers.ActivityRegularization(l2=1e-3, name="actreg")(h)
    h = layers.Rescaling(2.0, offset=0.1, name="rescale")(h)
    h = layers.Identity(name="ident")(h)
    h = layers.Flatten(name="flat")(h)
    out = layers.Dense(3, name="head")(h)
    out = layers.Softmax(name="softmax")(out)
    return gpuk.Model(inp, out, name="norm_attention_model")


def _load(name, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_model(os.path.join(FIX, name), **kwargs)


@pytest.mark.parametrize("name", ["model.keras", "model.h5"])
def test_keras_model_file_predicts_like_keras(name):
    model = _load(name)
    np.testing.assert_allclose(model.predict(REF["x"], verbose=0), REF["pred"], atol=1e-5)
    bn = model.get_layer("bn")
    np.testing.assert_allclose(bn.moving_mean.numpy(), REF["bn_moving_mean"], atol=1e-7)
    assert [w.path.split("/")[-1] for w in bn.weights] == [
        "gamma",
        "beta",
        "moving_mean",
        "moving_variance",
    ]


def test_keras_weights_file_loads_into_gpuk_model():
    model = build_model()
    model.load_weights(os.path.join(FIX, "model.weights.h5"))
    np.testing.assert_allclose(model.predict(REF["x"], verbose=0), REF["pred"], atol=1e-5)


def test_legacy_h5_weights_load_into_gpuk_model():
    model = build_model()
    model.load_weights(os.path.join(FIX, "model.h5"))
    np.testing.assert_allclose(model.predict(REF["x"], verbose=0), REF["pred"], atol=1e-5)


@pytest.mark.parametrize("suffix", [".keras", ".h5", ".weights.h5"])
def test_gpuk_files_round_trip(tmp_path, suffix):
    model = _load("model.keras")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(REF["x"], REF["y"], batch_size=8, epochs=1, verbose=0)
    expected = model.predict(REF["x"], verbose=0)
    path = str(tmp_path / f"m{suffix}")
    if suffix == ".weights.h5":
        model.save_weights(path)
        again = build_model()
        again.load_weights(path)
    else:
        model.save(path)
        again = _load_any(path)
    np.testing.assert_allclose(again.predict(REF["x"], verbose=0), expected, atol=1e-6)
    for a, b in zip(model.get_layer("bn").weights, again.get_layer("bn").weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def _load_any(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_model(path)


def test_fit_moves_batchnorm_statistics():
    model = _load("model.keras")
    bn = model.get_layer("bn")
    before = bn.moving_variance.numpy().copy()
    gamma_before = bn.gamma.numpy().copy()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(REF["x"], REF["y"], batch_size=16, epochs=1, verbose=0)
    assert not np.allclose(bn.moving_variance.numpy(), before)
    assert not np.allclose(bn.gamma.numpy(), gamma_before)
    # Inference uses the moving statistics: predict twice gives the same.
    np.testing.assert_array_equal(
        model.predict(REF["x"], verbose=0), model.predict(REF["x"], verbose=0)
    )
