"""Convolution, pooling, reshaping and ConvLSTM layers against Keras 3 (fixtures from
``tools/make_keras_fixtures_conv.py``): outputs, input and weight gradients, weight names and
shapes, configs, symbolic output shapes, and clear build-time errors."""

import json
import os

import numpy as np
import pytest

import gpuk
from gpuk import layers, ops
from gpuk._array import to_numpy

FIX = os.path.join(os.path.dirname(__file__), "..", "fixtures", "keras", "conv", "layers.npz")
REF = np.load(FIX)
CASES = json.loads(str(REF["cases"]))


def _build(case):
    layer = getattr(layers, case["class_name"])(**case["config"])
    layer.build(tuple(case["shape"]))
    for i, variable in enumerate(layer.weights):
        variable.assign(REF[f"{case['name']}/w{i}"])
    return layer


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_outputs_and_gradients_match_keras(case, xp):
    name = case["name"]
    layer = _build(case)
    x = gpuk.Variable(xp.asarray(REF[f"{name}/x"]))
    with gpuk.GradientTape() as tape:
        outs = layer(x)
        outs = outs if isinstance(outs, list) else [outs]
        loss = sum(
            ops.sum(o * gpuk.Tensor(xp.asarray(REF[f"{name}/cot{i}"]))) for i, o in enumerate(outs)
        )
    assert len(outs) == case["n_outputs"]
    for i, out in enumerate(outs):
        assert out.dtype == np.float32
        np.testing.assert_allclose(
            to_numpy(out.data), REF[f"{name}/out{i}"], rtol=1e-5, atol=2e-5, err_msg=f"out{i}"
        )
    grads = tape.gradient(loss, [x, *layer.trainable_weights])
    for i, g in enumerate(grads):
        np.testing.assert_allclose(
            to_numpy(g.data), REF[f"{name}/grad{i}"], rtol=1e-4, atol=1e-4, err_msg=f"grad{i}"
        )


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_weights_config_and_shapes_match_keras(case):
    layer = _build(case)
    assert [w.path for w in layer.weights] == [
        p.replace(p.split("/")[0], layer.name, 1) for p in case["weight_paths"]
    ]
    assert [list(w.shape) for w in layer.weights] == case["weight_shapes"]
    assert layer.count_params() == case["count_params"]
    config = json.loads(json.dumps(layer.get_config(), default=str))
    keras_config = dict(case["full_config"])
    for key in ("name", "dtype"):
        config.pop(key, None)
        keras_config.pop(key, None)
    # initializers etc. are compared by class (gpuk's file writers add Keras 3's module keys)
    assert sorted(config) == sorted(keras_config)
    assert {k: _class_of(v) for k, v in config.items()} == {
        k: _class_of(v) for k, v in keras_config.items()
    }
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    symbolic = layer(gpuk.Input(batch_shape=(None, *case["shape"][1:])))
    symbolic = symbolic if isinstance(symbolic, list) else [symbolic]
    for tensor, want in zip(symbolic, case["output_shape"]):
        assert tuple(tensor.shape) == (None, *want[1:])


def _class_of(value):
    return value.get("class_name") if isinstance(value, dict) else value


def test_global_average_pooling_1d_mask_matches_keras():
    out = layers.GlobalAveragePooling1D()(REF["gavg1d_mask/x"], mask=REF["gavg1d_mask/mask"])
    np.testing.assert_allclose(to_numpy(out.data), REF["gavg1d_mask/out"], rtol=1e-6)


def test_masking_embedding_feeds_global_average_pooling():
    inputs = gpuk.Input((4,), dtype="int32")
    x = layers.Embedding(5, 2, mask_zero=True)(inputs)
    outputs = layers.GlobalAveragePooling1D()(x)
    model = gpuk.Model(inputs, outputs)
    ids = np.array([[1, 2, 0, 0]])
    emb = model.layers[1].get_weights()[0]
    np.testing.assert_allclose(model.predict(ids, verbose=0)[0], emb[[1, 2]].mean(0), rtol=1e-6)


ALIASES = {
    "Convolution1D": "Conv1D",
    "Convolution2D": "Conv2D",
    "Convolution3D": "Conv3D",
    "Convolution1DTranspose": "Conv1DTranspose",
    "Convolution2DTranspose": "Conv2DTranspose",
    "Convolution3DTranspose": "Conv3DTranspose",
    "SeparableConvolution1D": "SeparableConv1D",
    "SeparableConvolution2D": "SeparableConv2D",
    "MaxPool1D": "MaxPooling1D",
    "MaxPool2D": "MaxPooling2D",
    "MaxPool3D": "MaxPooling3D",
    "AvgPool1D": "AveragePooling1D",
    "AvgPool2D": "AveragePooling2D",
    "AvgPool3D": "AveragePooling3D",
    "GlobalMaxPool1D": "GlobalMaxPooling1D",
    "GlobalMaxPool2D": "GlobalMaxPooling2D",
    "GlobalMaxPool3D": "GlobalMaxPooling3D",
    "GlobalAvgPool1D": "GlobalAveragePooling1D",
    "GlobalAvgPool2D": "GlobalAveragePooling2D",
    "GlobalAvgPool3D": "GlobalAveragePooling3D",
}


@pytest.mark.parametrize("alias", sorted(ALIASES))
def test_aliases_are_the_keras_classes(alias):
    assert getattr(layers, alias) is getattr(layers, ALIASES[alias])
    assert alias in layers.__all__
    layer = layers.deserialize({"class_name": alias, "config": _minimal_config(ALIASES[alias])})
    assert type(layer).__name__ == ALIASES[alias]


def _minimal_config(name):
    if name.startswith(("Conv", "Separable")):
        return {"filters": 2, "kernel_size": 2}
    if name.startswith("AveragePooling"):
        return {"pool_size": 2}
    return {}


def test_defaults_match_keras():
    assert layers.MaxPooling2D().pool_size == (2, 2)
    assert layers.MaxPooling2D().strides == (2, 2)
    assert layers.MaxPooling1D().pool_size == (2,)
    assert layers.Conv2D(3, 3).kernel_size == (3, 3)
    assert layers.Conv2D(3, 3).padding == "valid"
    assert layers.Cropping3D().cropping == ((1, 1), (1, 1), (1, 1))
    assert layers.ZeroPadding2D().padding == ((1, 1), (1, 1))
    assert layers.UpSampling2D().size == (2, 2)
    with pytest.raises(TypeError):
        layers.AveragePooling2D()  # pool_size is required in Keras 3


def test_build_errors_name_layer_and_shapes():
    with pytest.raises(ValueError, match=r"'c2'.*expected min_ndim=4.*\(None, 8, 3\)"):
        layers.Conv2D(2, 3, name="c2")(gpuk.Input((8, 3)))
    with pytest.raises(ValueError, match=r"'big'.*larger than the input.*\(None, 4, 4, 3\)"):
        layers.Conv2D(2, 5, name="big")(gpuk.Input((4, 4, 3)))
    with pytest.raises(ValueError, match=r"'g'.*divisible by the number of groups.*groups=2.*3 ch"):
        layers.Conv2D(4, 3, groups=2, name="g")(gpuk.Input((6, 6, 3)))
    with pytest.raises(ValueError, match="filters must be evenly divisible"):
        layers.Conv1D(3, 3, groups=2)
    with pytest.raises(ValueError, match="strides > 1"):
        layers.Conv2D(3, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="padding must be one of valid, same"):
        layers.Conv2D(3, 3, padding="causal")
    with pytest.raises(ValueError, match=r"'mp'.*pool_size \(3, 3\) is larger"):
        layers.MaxPooling2D(3, name="mp")(gpuk.Input((2, 5, 1)))
    with pytest.raises(ValueError, match=r"'dw'.*larger than the input"):
        layers.DepthwiseConv2D(4, name="dw")(gpuk.Input((3, 8, 2)))
    with pytest.raises(ValueError, match=r"'cl'.*expected ndim=5"):
        layers.ConvLSTM2D(2, 3, name="cl")(gpuk.Input((4, 8, 8)))
    with pytest.raises(ValueError, match=r"'crop'.*leaves nothing"):
        layers.Cropping1D((2, 2), name="crop")(gpuk.Input((4, 3)))
    with pytest.raises(ValueError, match="output padding"):
        layers.Conv2DTranspose(2, 3, strides=2, output_padding=2)
    with pytest.raises(ValueError, match="interpolation"):
        layers.UpSampling2D(interpolation="bicubic")


def test_spatial_dropout_drops_whole_channels():
    gpuk.utils.set_random_seed(3)
    x = np.ones((4, 6, 5, 8), "float32")
    y = to_numpy(layers.SpatialDropout2D(0.5)(x, training=True).data)
    per_channel = y.reshape(4, 30, 8)
    assert np.all(per_channel.min(axis=1) == per_channel.max(axis=1))
    assert set(np.unique(y)) <= {0.0, 2.0} and 0 < (y == 0).mean() < 1
    np.testing.assert_array_equal(to_numpy(layers.SpatialDropout1D(0.5)(x[0]).data), x[0])


def test_conv_lstm_stateful_dropout_and_training_step():
    gpuk.utils.set_random_seed(0)
    layer = layers.ConvLSTM2D(
        2, 3, padding="same", stateful=True, dropout=0.2, recurrent_dropout=0.2
    )
    x = np.random.default_rng(0).normal(size=(2, 3, 5, 5, 1)).astype("float32")
    first = to_numpy(layer(x).data)
    second = to_numpy(layer(x).data)
    assert not np.allclose(first, second)  # the state carried over
    layer.reset_states()
    np.testing.assert_allclose(to_numpy(layer(x).data), first, rtol=1e-6)
    bias = layer.weights[2].numpy()
    np.testing.assert_array_equal(bias, np.r_[np.zeros(2), np.ones(2), np.zeros(4)])
    trained = layer(x, training=True)
    assert trained.shape == (2, 5, 5, 2)


def test_conv_lstm_mask_keeps_state_at_masked_steps():
    # Keras 3.15's own ConvLSTM fails on masks under JAX (a broadcasting error), so the rule of
    # its RNN base is checked instead: a masked step leaves state and output unchanged.
    gpuk.utils.set_random_seed(1)
    layer = layers.ConvLSTM1D(2, 3, padding="same", return_sequences=True, return_state=True)
    x = np.random.default_rng(1).normal(size=(2, 5, 6, 2)).astype("float32")
    mask = np.array([[1, 1, 0, 1, 0], [1, 1, 1, 1, 1]], dtype=bool)
    seq, h, c = layer(x, mask=mask)
    kept = x[:1][:, mask[0]]
    seq_ref, h_ref, c_ref = layer(kept)
    np.testing.assert_allclose(to_numpy(h.data)[0], to_numpy(h_ref.data)[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(to_numpy(c.data)[0], to_numpy(c_ref.data)[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(to_numpy(seq.data)[0, 2], to_numpy(seq.data)[0, 1])
    np.testing.assert_allclose(to_numpy(seq.data)[1], to_numpy(layer(x[1:])[0].data)[0], rtol=1e-5)


def test_regularizers_constraints_and_initializers_are_used():
    layer = layers.Conv2D(
        3,
        2,
        kernel_regularizer="l2",
        bias_regularizer=gpuk.regularizers.L1(0.5),
        kernel_constraint="non_neg",
        bias_initializer="ones",
    )
    layer(np.ones((1, 4, 4, 2), "float32"))
    kernel, bias = layer.get_weights()
    np.testing.assert_array_equal(bias, np.ones(3))
    losses = sorted(float(to_numpy(loss.data)) for loss in layer.losses)
    np.testing.assert_allclose(losses, sorted([0.01 * (kernel**2).sum(), 0.5 * 3]), rtol=1e-5)
    assert layer.kernel.constraint is not None
    sep = layers.SeparableConv1D(2, 3, pointwise_regularizer="l1", depthwise_constraint="max_norm")
    sep(np.ones((1, 5, 2), "float32"))
    assert len(sep.losses) == 1 and sep.depthwise_kernel.constraint is not None


def test_tf_keras_2_config_keys_are_accepted():
    dw = layers.DepthwiseConv2D.from_config(
        {"kernel_size": [3, 3], "filters": None, "groups": 1, "kernel_initializer": None}
    )
    assert dw.kernel_size == (3, 3)
    sep = layers.SeparableConv2D.from_config({"filters": 4, "kernel_size": 3, "groups": 1})
    assert sep.filters == 4
    ct = layers.Conv2DTranspose.from_config({"filters": 2, "kernel_size": 3, "groups": 1})
    assert ct.filters == 2
    drop = layers.SpatialDropout1D.from_config({"rate": 0.2, "noise_shape": None, "trainable": 1})
    assert drop.rate == 0.2
