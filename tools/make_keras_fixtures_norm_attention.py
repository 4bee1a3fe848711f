"""Write the Keras-made fixtures of ``tests/fixtures/keras/norm_attention/`` (run by hand).

    KERAS_BACKEND=jax /work/kvenv/bin/python tools/make_keras_fixtures_norm_attention.py

For every case in ``CASES`` a layer is built in Keras 3 from the given constructor, its weights
are set to seeded random values, and it is called on seeded inputs. Written per case into
``layers.npz`` (keys ``<case>/...``): the inputs, the weights (Keras's ``layer.weights`` order),
the outputs, the gradients of ``sum(output * cotangent)`` with respect to the float inputs and
the trainable weights (JAX autodiff through ``stateless_call``), and the non-trainable weights
after the call (BatchNormalization's moving statistics in training). ``layers.json`` holds
each layer's ``serialize`` config, its weight paths, the call's argument names and keywords.

It also writes a model holding these layers, fitted one epoch, as ``model.keras``,
``model.weights.h5`` and ``model.h5`` with ``model.npz`` (inputs and Keras's predictions).
"""

import json
import os
import zlib

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402

OUT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "keras", "norm_attention"
)


def _qmask():
    m = np.ones((2, 5), bool)
    m[0, 3:] = False
    return m


def _vmask():
    m = np.ones((2, 6), bool)
    m[1, 4:] = False
    return m


def _amask():
    m = np.random.default_rng(7).random((2, 5, 6)) > 0.3
    m[0, 1, :] = False  # a fully masked row
    return m


# name: (constructor, [input shapes of the positional args], call kwargs (arrays or values),
#        ignore gradients of these positional args)
CASES = {
    "bn_infer": (lambda: layers.BatchNormalization(), [(4, 3, 5)], {"training": False}),
    "bn_train": (lambda: layers.BatchNormalization(momentum=0.9), [(4, 3, 5)], {"training": True}),
    "bn_axis1": (
        lambda: layers.BatchNormalization(axis=1, center=False, epsilon=1e-2),
        [(4, 3, 5)],
        {"training": True},
    ),
    "bn_renorm": (
        lambda: layers.BatchNormalization(
            renorm=True, renorm_clipping={"rmax": 1.5, "rmin": 0.8, "dmax": 0.3}, momentum=0.8
        ),
        [(6, 4)],
        {"training": True},
    ),
    "ln": (lambda: layers.LayerNormalization(), [(4, 3, 5)], {}),
    "ln_axes": (lambda: layers.LayerNormalization(axis=[1, 2], epsilon=1e-5), [(4, 3, 5)], {}),
    "ln_noscale": (lambda: layers.LayerNormalization(scale=False), [(4, 5)], {}),
    "gn": (lambda: layers.GroupNormalization(groups=2), [(4, 3, 6)], {}),
    "gn_instance_axis1": (lambda: layers.GroupNormalization(groups=-1, axis=1), [(2, 4, 3)], {}),
    "unit": (lambda: layers.UnitNormalization(), [(4, 3, 5)], {}),
    "unit_axes": (lambda: layers.UnitNormalization(axis=[1, 2]), [(4, 3, 5)], {}),
    "rms": (lambda: layers.RMSNormalization(), [(4, 3, 5)], {}),
    "spectral_train": (
        lambda: layers.SpectralNormalization(layers.Dense(3)),
        [(4, 5)],
        {"training": True},
    ),
    "spectral_infer": (lambda: layers.SpectralNormalization(layers.Dense(3)), [(4, 5)], {}),
    "einsum_heads": (
        lambda: layers.EinsumDense("abc,cde->abde", output_shape=(None, 2, 4), bias_axes="de"),
        [(2, 3, 5)],
        {},
    ),
    "einsum_ellipsis": (
        lambda: layers.EinsumDense(
            "...b,bc->...c", output_shape=4, bias_axes="c", activation="tanh"
        ),
        [(2, 3, 5)],
        {},
    ),
    "einsum_dense": (lambda: layers.EinsumDense("ab,bc->ac", output_shape=4), [(3, 5)], {}),
    "mha_self": (lambda: layers.MultiHeadAttention(2, 4), [(2, 5, 6), (2, 5, 6)], {}),
    "mha_cross_scores": (
        lambda: layers.MultiHeadAttention(2, 3, value_dim=4, output_shape=7),
        [(2, 5, 6), (2, 6, 3)],
        {"return_attention_scores": True},
    ),
    "mha_key_masks": (
        lambda: layers.MultiHeadAttention(3, 2, use_bias=False),
        [(2, 5, 6), (2, 6, 4)],
        {"key": (2, 6, 5), "attention_mask": "amask", "value_mask": "vmask"},
    ),
    "mha_causal": (
        lambda: layers.MultiHeadAttention(2, 4),
        [(2, 5, 6), (2, 5, 6)],
        {"use_causal_mask": True},
    ),
    "mha_dropout_path": (
        lambda: layers.MultiHeadAttention(2, 4, dropout=0.5),
        [(2, 5, 6), (2, 6, 6)],
        {"attention_mask": "amask", "training": False},
    ),
    "mha_axes": (
        lambda: layers.MultiHeadAttention(2, 3, attention_axes=(1, 2)),
        [(2, 3, 4, 5), (2, 3, 4, 5)],
        {},
    ),
    "mha_gate_window": (
        lambda: layers.MultiHeadAttention(2, 3, use_gate=True, sliding_window=2),
        [(2, 5, 6), (2, 5, 6)],
        {},
    ),
    "mha_query_mask_scores": (
        lambda: layers.MultiHeadAttention(2, 3),
        [(2, 5, 6), (2, 6, 6)],
        {"query_mask": "qmask", "value_mask": "vmask", "return_attention_scores": True},
    ),
    "gqa_gate_dropout_path": (
        lambda: layers.GroupQueryAttention(
            head_dim=2, num_query_heads=4, num_key_value_heads=1, use_gate=True, dropout=0.3
        ),
        [(2, 5, 6), (2, 6, 6)],
        {"value_mask": "vmask"},
    ),
    "gqa": (
        lambda: layers.GroupQueryAttention(head_dim=3, num_query_heads=4, num_key_value_heads=2),
        [(2, 5, 6), (2, 6, 6)],
        {"attention_mask": "amask"},
    ),
    "gqa_causal_scores": (
        lambda: layers.GroupQueryAttention(
            head_dim=2, num_query_heads=2, num_key_value_heads=1, use_bias=False
        ),
        [(2, 5, 6), (2, 5, 6)],
        {"use_causal_mask": True, "return_attention_scores": True},
    ),
    "attention_dot": (lambda: layers.Attention(use_scale=True), [[(2, 5, 4), (2, 6, 4)]], {}),
    "attention_masked_causal": (
        lambda: layers.Attention(),
        [[(2, 5, 4), (2, 6, 4), (2, 6, 4)]],
        {"mask": ["qmask", "vmask"], "use_causal_mask": True, "return_attention_scores": True},
    ),
    "attention_concat": (
        lambda: layers.Attention(use_scale=True, score_mode="concat"),
        [[(2, 5, 4), (2, 6, 4)]],
        {},
    ),
    "additive": (lambda: layers.AdditiveAttention(), [[(2, 5, 4), (2, 6, 4)]], {}),
    "additive_masked": (
        lambda: layers.AdditiveAttention(use_scale=False),
        [[(2, 5, 4), (2, 6, 4)]],
        {"mask": ["qmask", "vmask"]},
    ),
    "relu": (lambda: layers.ReLU(), [(3, 7)], {}),
    "relu_opts": (
        lambda: layers.ReLU(max_value=1.0, negative_slope=0.1, threshold=0.2),
        [(3, 7)],
        {},
    ),
    "relu6": (lambda: layers.ReLU(max_value=6.0), [(3, 7)], {}),
    "leaky": (lambda: layers.LeakyReLU(), [(3, 7)], {}),
    "leaky_slope": (lambda: layers.LeakyReLU(negative_slope=0.05), [(3, 7)], {}),
    "prelu": (lambda: layers.PReLU(), [(3, 4, 5)], {}),
    "prelu_shared": (lambda: layers.PReLU(shared_axes=[1]), [(3, 4, 5)], {}),
    "elu": (lambda: layers.ELU(alpha=0.5), [(3, 7)], {}),
    "softmax": (lambda: layers.Softmax(), [(3, 7)], {}),
    "softmax_axes": (lambda: layers.Softmax(axis=[1, 2]), [(2, 3, 4)], {}),
    "softmax_mask": (lambda: layers.Softmax(), [(2, 5, 6)], {"mask": "amask"}),
    "rescaling": (lambda: layers.Rescaling(1 / 255.0, offset=-0.5), [(3, 4)], {}),
    "identity": (lambda: layers.Identity(), [(3, 4)], {}),
    "activity_reg": (lambda: layers.ActivityRegularization(l1=0.01, l2=0.02), [(3, 4)], {}),
    "gaussian_noise_infer": (lambda: layers.GaussianNoise(0.3), [(3, 4)], {}),
    "gaussian_dropout_infer": (lambda: layers.GaussianDropout(0.3), [(3, 4)], {}),
    "alpha_dropout_infer": (lambda: layers.AlphaDropout(0.3), [(3, 4)], {}),
}

NAMED = {"qmask": _qmask, "vmask": _vmask, "amask": _amask}


def _resolve(value, rng):
    if isinstance(value, str) and value in NAMED:
        return NAMED[value]()
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [NAMED[v]() for v in value]
    if isinstance(value, tuple):
        return rng.normal(size=value).astype("float32")
    return value


def run_case(name, factory, shapes, kwargs):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    keras.utils.set_random_seed(1)
    layer = factory()
    args = []
    for shape in shapes:
        if isinstance(shape, list):
            args.append([rng.normal(size=s).astype("float32") for s in shape])
        else:
            args.append(rng.normal(size=shape).astype("float32"))
    kw = {k: _resolve(v, rng) for k, v in kwargs.items()}
    layer(*args, **kw)  # builds
    weights = []
    for w in layer.weights:
        value = rng.normal(size=w.shape).astype("float32")
        if "variance" in w.path:
            value = np.abs(value) + 0.5
        weights.append(value)
    layer.set_weights(weights)
    tv = [v.value for v in layer.trainable_variables]
    ntv = [v.value for v in layer.non_trainable_variables]
    float_kw = {k: v for k, v in kw.items() if isinstance(v, np.ndarray) and v.dtype == np.float32}
    other_kw = {k: v for k, v in kw.items() if k not in float_kw}
    flat_args = [a for arg in args for a in (arg if isinstance(arg, list) else [arg])]

    def rebuild(flat):
        out, i = [], 0
        for arg in args:
            if isinstance(arg, list):
                out.append(list(flat[i : i + len(arg)]))
                i += len(arg)
            else:
                out.append(flat[i])
                i += 1
        return out

    outputs, new_ntv = layer.stateless_call(tv, ntv, *rebuild(flat_args), **kw)
    outs = outputs if isinstance(outputs, (tuple, list)) else [outputs]
    cots = [rng.normal(size=o.shape).astype("float32") for o in outs]

    def loss(tv_, flat_, fkw):
        o, _ = layer.stateless_call(tv_, ntv, *rebuild(flat_), **fkw, **other_kw)
        o = o if isinstance(o, (tuple, list)) else [o]
        return sum(jnp.sum(a * c) for a, c in zip(o, cots))

    g_tv, g_args, g_kw = jax.grad(loss, argnums=(0, 1, 2))(
        tv, [jnp.asarray(a) for a in flat_args], {k: jnp.asarray(v) for k, v in float_kw.items()}
    )
    data = {}
    for i, a in enumerate(flat_args):
        data[f"{name}/arg{i}"] = a
        data[f"{name}/grad_arg{i}"] = np.asarray(g_args[i])
    for k, v in kw.items():
        if isinstance(v, np.ndarray):
            data[f"{name}/kw_{k}"] = v
        elif isinstance(v, list):
            for i, m in enumerate(v):
                data[f"{name}/kw_{k}{i}"] = m
    for k, v in g_kw.items():
        data[f"{name}/grad_kw_{k}"] = np.asarray(v)
    for i, w in enumerate(weights):
        data[f"{name}/weight{i}"] = w
    for i, g in enumerate(g_tv):
        data[f"{name}/grad_trainable{i}"] = np.asarray(g)
    for i, v in enumerate(new_ntv):
        data[f"{name}/new_non_trainable{i}"] = np.asarray(v)
    for i, (o, c) in enumerate(zip(outs, cots)):
        data[f"{name}/out{i}"] = np.asarray(o)
        data[f"{name}/cot{i}"] = c
    meta = {
        "config": keras.layers.serialize(layer),
        "weight_paths": [w.path for w in layer.weights],
        "trainable_paths": [w.path for w in layer.trainable_weights],
        "non_trainable_paths": [w.path for w in layer.non_trainable_weights],
        "args": [len(a) if isinstance(a, list) else None for a in args],
        "kwargs": {
            k: ("array" if isinstance(v, np.ndarray) else "arrays" if isinstance(v, list) else v)
            for k, v in kw.items()
        },
        "kwarg_lists": {k: len(v) for k, v in kw.items() if isinstance(v, list)},
        "losses": [float(x) for x in layer.losses] if name == "activity_reg" else None,
        "n_outputs": len(outs),
    }
    return data, meta


def build_model():
    inp = keras.Input((6, 8), name="x")
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
    return keras.Model(inp, out, name="norm_attention_model")


def write_model():
    keras.utils.set_random_seed(3)
    rng = np.random.default_rng(3)
    model = build_model()
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    x = rng.normal(size=(16, 6, 8)).astype("float32")
    y = rng.integers(0, 3, size=(16,))
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    model.save(os.path.join(OUT, "model.keras"))
    model.save(os.path.join(OUT, "model.h5"))
    model.save_weights(os.path.join(OUT, "model.weights.h5"))
    np.savez(
        os.path.join(OUT, "model.npz"),
        x=x,
        y=y,
        pred=model.predict(x, verbose=0),
        bn_moving_mean=np.asarray(model.get_layer("bn").moving_mean.value),
    )


def main():
    os.makedirs(OUT, exist_ok=True)
    data, metas = {}, {}
    for name, (factory, shapes, kwargs) in CASES.items():
        d, m = run_case(name, factory, shapes, kwargs)
        data.update(d)
        metas[name] = m
    np.savez_compressed(os.path.join(OUT, "layers.npz"), **data)
    with open(os.path.join(OUT, "layers.json"), "w") as f:
        json.dump(metas, f, indent=1, default=lambda o: list(o) if isinstance(o, tuple) else str(o))
    write_model()
    print("wrote", OUT, keras.__version__)


if __name__ == "__main__":
    main()
