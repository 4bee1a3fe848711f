"""Behaviour of the normalization/attention/activation/noise layers beyond the Keras fixtures:
training vs inference, frozen layers, masks, dropout, errors on bad input, symbolic shapes."""

import numpy as np
import pytest

import gpuk
from gpuk import layers

RNG = np.random.default_rng(0)


def _x(*shape):
    return RNG.normal(size=shape).astype("float32")


def test_batchnorm_training_updates_moving_statistics_with_keras_momentum():
    bn = layers.BatchNormalization()
    x = _x(8, 3) * 2 + 1
    bn(x, training=True)
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.01 * x.mean(0), rtol=1e-5)
    np.testing.assert_allclose(bn.moving_variance.numpy(), 0.99 + 0.01 * x.var(0), rtol=1e-5)
    y = bn(x, training=False).numpy()
    expected = (x - bn.moving_mean.numpy()) / np.sqrt(bn.moving_variance.numpy() + 1e-3)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)
    assert [w.name for w in bn.weights] == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert [w.name for w in bn.trainable_weights] == ["gamma", "beta"]


def test_frozen_batchnorm_runs_in_inference_mode():
    bn = layers.BatchNormalization()
    x = _x(8, 3) + 5
    bn.build(x.shape)
    bn.trainable = False
    y = bn(x, training=True).numpy()
    np.testing.assert_allclose(y, x / np.sqrt(1 + 1e-3), rtol=1e-5)
    np.testing.assert_array_equal(bn.moving_mean.numpy(), 0)


def test_batchnorm_masked_statistics_skip_masked_steps():
    bn = layers.BatchNormalization(momentum=0.0)
    x = _x(2, 4, 3)
    mask = np.array([[1, 1, 0, 0], [1, 1, 1, 0]], bool)
    bn(x, training=True, mask=mask)
    kept = x[mask]
    np.testing.assert_allclose(bn.moving_mean.numpy(), kept.mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bn.moving_variance.numpy(), kept.var(0), rtol=1e-4)


def test_mha_dropout_only_in_training_and_scores_shape():
    mha = layers.MultiHeadAttention(2, 4, dropout=0.5)
    q = _x(2, 5, 6)
    a = mha(q, q, training=False).numpy()
    np.testing.assert_array_equal(a, mha(q, q).numpy())
    assert not np.allclose(a, mha(q, q, training=True).numpy())
    out, scores = mha(q, q, return_attention_scores=True)
    assert scores.shape == (2, 2, 5, 5)
    np.testing.assert_allclose(scores.numpy().sum(-1), 1, rtol=1e-5)


def test_mha_causal_mask_blocks_future_positions():
    mha = layers.MultiHeadAttention(2, 4)
    q = _x(1, 5, 6)
    _, scores = mha(q, q, use_causal_mask=True, return_attention_scores=True)
    upper = np.triu(np.ones((5, 5), bool), 1)
    assert np.all(scores.numpy()[0][:, upper] == 0)
    # Changing a later position does not change an earlier output.
    q2 = q.copy()
    q2[0, 4] += 10
    a = mha(q, q, use_causal_mask=True).numpy()
    b = mha(q2, q2, use_causal_mask=True).numpy()
    np.testing.assert_allclose(a[0, :4], b[0, :4], rtol=1e-5, atol=1e-6)


def test_mha_uses_keras_masks_of_its_inputs():
    emb = layers.Embedding(10, 6, mask_zero=True)
    mha = layers.MultiHeadAttention(2, 3)
    tokens = np.array([[1, 2, 3, 0, 0]])
    e = emb(tokens)
    assert e._keras_mask is not None
    masked = mha(e, e)
    short = emb(tokens[:, :3])
    short._keras_mask = None
    # Padded keys are ignored: the real positions equal attention over the unpadded sequence.
    np.testing.assert_allclose(masked.numpy()[0, :3], mha(short, short).numpy()[0], atol=1e-6)
    np.testing.assert_array_equal(np.asarray(masked._keras_mask.numpy()), tokens != 0)
    # In a functional model the mask travels from the Embedding to the attention layer.
    inp = gpuk.Input((5,), dtype="int32")
    out = mha(emb(inp), emb(inp))
    model = gpuk.Model(inp, out)
    np.testing.assert_allclose(model.predict(tokens, verbose=0), masked.numpy(), atol=1e-6)


def test_symbolic_shapes_at_build_time():
    q = gpuk.Input((7, 16))
    v = gpuk.Input((9, 12))
    out, scores = layers.MultiHeadAttention(4, 8, output_shape=5)(
        q, v, return_attention_scores=True
    )
    assert out.shape == (None, 7, 5)
    assert scores.shape == (None, 4, 7, 9)
    assert layers.GroupQueryAttention(4, 4, 2)(q, q).shape == (None, 7, 16)
    assert layers.Attention()([q, q]).shape == (None, 7, 16)
    assert layers.EinsumDense("abc,cd->abd", (7, 3))(q).shape == (None, 7, 3)
    assert layers.BatchNormalization()(q).shape == (None, 7, 16)


@pytest.mark.parametrize(
    "make, shape, match",
    [
        (lambda: layers.GroupNormalization(groups=5), (2, 4, 6), r"groups=5 must divide .* 6"),
        (lambda: layers.GroupNormalization(groups=8), (2, 4, 6), r"group_normalization"),
        (
            lambda: layers.BatchNormalization(axis=3),
            (2, 4, 6),
            r"batch_normalization.*axis 3 .*\(None, 4, 6\)",
        ),
        (lambda: layers.LayerNormalization(axis=[1, 5]), (2, 4, 6), r"axis 5"),
        (lambda: layers.EinsumDense("abc,cd->abd", (4, 3)), (2, 6), r"rank"),
        (lambda: layers.EinsumDense("ab,bc->ad", 3), (2, 6), r"dimension 'd'"),
        (lambda: layers.PReLU(shared_axes=[4]), (2, 4, 6), r"shared axis 4"),
    ],
)
def test_bad_shapes_fail_at_build_naming_layer_and_shape(make, shape, match):
    layer = make()
    with pytest.raises(ValueError, match=match):
        layer(gpuk.Input(shape[1:]))


def test_mha_bad_arguments_and_ranks():
    with pytest.raises(ValueError, match="num_heads"):
        layers.MultiHeadAttention(0, 4)
    with pytest.raises(ValueError, match="key_dim"):
        layers.MultiHeadAttention(2, -1)
    with pytest.raises(ValueError, match=r"multi_head_attention.*rank >= 3.*\(None, 8\)"):
        layers.MultiHeadAttention(2, 4)(gpuk.Input((8,)), gpuk.Input((8,)))
    with pytest.raises(
        ValueError, match=r"value_shape=\(None, 5, 8\) and key_shape=\(None, 6, 8\)"
    ):
        layers.MultiHeadAttention(2, 4)(
            gpuk.Input((5, 8)), gpuk.Input((5, 8)), key=gpuk.Input((6, 8))
        )
    with pytest.raises(ValueError, match=r"num_query_heads.*\(3\).*num_key_value_heads.*\(2\)"):
        layers.GroupQueryAttention(4, 3, 2)
    with pytest.raises(ValueError, match="list of inputs"):
        layers.Attention()(gpuk.Input((5, 8)))


def test_softmax_layer_mask_and_multi_axis():
    x = _x(2, 3, 4)
    mask = np.ones((2, 3, 4), bool)
    mask[0, 0] = False
    y = layers.Softmax()(x, mask=mask).numpy()
    assert np.all(y[0, 0] == 0)
    np.testing.assert_allclose(y[1].sum(-1), 1, rtol=1e-6)
    y = layers.Softmax(axis=[1, 2])(x).numpy()
    np.testing.assert_allclose(y.sum((1, 2)), 1, rtol=1e-6)


def test_noise_layers_identity_at_inference_random_in_training():
    x = _x(64, 16)
    for layer in (
        layers.GaussianNoise(0.5),
        layers.GaussianDropout(0.5),
        layers.AlphaDropout(0.5),
    ):
        np.testing.assert_array_equal(layer(x).numpy(), x)
        assert not np.allclose(layer(x, training=True).numpy(), x)
    # AlphaDropout keeps zero mean / unit variance of standardized inputs.
    gpuk.utils.set_random_seed(0)
    z = RNG.normal(size=(4000, 50)).astype("float32")
    y = layers.AlphaDropout(0.2)(z, training=True).numpy()
    assert abs(y.mean()) < 0.05 and abs(y.std() - 1.0) < 0.05
    reg = layers.ActivityRegularization(l1=0.1)
    reg(np.ones((2, 3), "float32"))
    np.testing.assert_allclose(float(reg.losses[0].numpy()), 0.1 * 6 / 2, rtol=1e-6)


def test_leaky_relu_accepts_alpha_and_rescaling_per_channel():
    with pytest.warns(UserWarning, match="alpha"):
        layer = layers.LeakyReLU(alpha=0.1)
    assert layer.get_config()["negative_slope"] == 0.1
    y = layers.Rescaling([1.0, 2.0], offset=1.0)(np.ones((2, 2), "float32")).numpy()
    np.testing.assert_array_equal(y, [[2, 3], [2, 3]])
    assert layers.Rescaling(1 / 255)(np.full((1, 2), 255, "uint8")).dtype == np.float32


def test_spectral_normalization_divides_kernel_by_largest_singular_value():
    layer = layers.SpectralNormalization(layers.Dense(4), power_iterations=30)
    x = _x(3, 6)
    layer(x)
    layer(x, training=True)
    sigma = np.linalg.svd(layer.layer.kernel.numpy(), compute_uv=False)[0]
    np.testing.assert_allclose(sigma, 1.0, rtol=1e-3)
    assert [w.name for w in layer.weights] == ["kernel", "vector_u", "bias"]


def test_mha_subclass_overriding_compute_attention_keras_style():
    # The pattern of keras-io's vit_small_ds (MultiHeadAttentionLSA): a learned temperature.
    import math

    from gpuk import ops

    class MultiHeadAttentionLSA(layers.MultiHeadAttention):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.tau = gpuk.Variable(math.sqrt(float(self._key_dim)), trainable=True)

        def _compute_attention(
            self, query, key, value, attention_mask=None, training=None, *args, **kwargs
        ):
            query = ops.multiply(query, 1.0 / self.tau)
            attention_scores = ops.einsum(self._dot_product_equation, key, query)
            attention_scores = self._masked_softmax(attention_scores, attention_mask)
            attention_scores_dropout = self._dropout_layer(attention_scores, training=training)
            attention_output = ops.einsum(self._combine_equation, attention_scores_dropout, value)
            return attention_output, attention_scores

    x = _x(2, 5, 6)
    lsa = MultiHeadAttentionLSA(num_heads=2, key_dim=4, dropout=0.1)
    plain = layers.MultiHeadAttention(num_heads=2, key_dim=4, dropout=0.1)
    out = lsa(x, x)
    plain(x, x)
    plain.set_weights(lsa.get_weights()[1:] if len(lsa.weights) == 9 else lsa.get_weights())
    # With tau = sqrt(key_dim) the subclass computes exactly the built-in attention.
    np.testing.assert_allclose(out.numpy(), plain(x, x).numpy(), rtol=1e-5, atol=1e-6)
    mask = np.tril(np.ones((5, 5), bool))[None]
    with gpuk.GradientTape() as tape:
        loss = gpuk.ops.sum(lsa(x, x, attention_mask=mask))
    assert tape.gradient(loss, lsa.tau) is not None


def test_spectral_normalization_leaves_a_zero_kernel_alone():
    layer = layers.SpectralNormalization(layers.Dense(3, kernel_initializer="zeros"))
    x = _x(2, 4)
    layer(x)
    u = layer.vector_u.numpy().copy()
    y = layer(x, training=True).numpy()
    np.testing.assert_array_equal(layer.layer.kernel.numpy(), 0)
    np.testing.assert_array_equal(layer.vector_u.numpy(), u)
    assert np.all(np.isfinite(y))


def test_tf_keras_style_mha_config_and_node_rebuild():
    # tf.keras 2 writes the build shapes into MHA's config and `value` as a node reference.
    from gpuk.models.functional import Functional

    init = {"class_name": "GlorotUniform", "config": {"seed": None}}
    config = {
        "name": "m",
        "layers": [
            {
                "class_name": "InputLayer",
                "config": {"batch_input_shape": [None, 5, 8], "dtype": "float32", "name": "x"},
                "name": "x",
                "inbound_nodes": [],
            },
            {
                "class_name": "MultiHeadAttention",
                "config": {
                    "name": "mha",
                    "num_heads": 2,
                    "key_dim": 3,
                    "kernel_initializer": init,
                    "query_shape": [None, 5, 8],
                    "key_shape": [None, 5, 8],
                    "value_shape": [None, 5, 8],
                },
                "name": "mha",
                "inbound_nodes": [[["x", 0, 0, {"value": ["x", 0, 0]}]]],
            },
        ],
        "input_layers": [["x", 0, 0]],
        "output_layers": [["mha", 0, 0]],
    }
    model = Functional.from_config(config)
    assert model.output_shape == (None, 5, 8)
    assert [tuple(w.shape) for w in model.get_layer("mha").weights][:2] == [(8, 2, 3), (2, 3)]
    x = _x(2, 5, 8)
    mha = model.get_layer("mha")
    np.testing.assert_allclose(model.predict(x, verbose=0), mha(x, x).numpy(), atol=1e-6)


def test_batchnorm_renorm_weights_and_clipping_errors():
    bn = layers.BatchNormalization(renorm=True)
    bn(_x(4, 3), training=True)
    assert [w.name for w in bn.weights] == [
        "gamma",
        "beta",
        "moving_mean",
        "moving_variance",
        "moving_stddev",
        "renorm_mean",
        "renorm_stddev",
    ]
    with pytest.raises(ValueError, match="renorm_clipping"):
        layers.BatchNormalization(renorm=True, renorm_clipping={"rmx": 1})
    with pytest.raises(ValueError, match="rmax should be greater than rmin"):
        layers.BatchNormalization(renorm=True, renorm_clipping={"rmax": 1, "rmin": 2})
