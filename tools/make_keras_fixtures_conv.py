"""Write the Keras 3 fixtures of ``tests/fixtures/keras/conv/`` (run by hand, never by tests)::

    KERAS_BACKEND=jax /work/kvenv/bin/python tools/make_keras_fixtures_conv.py

* ``ops.npz``: ``keras.ops`` conv/pool ops on seeded inputs: output and the gradients of
  ``sum(output * cotangent)`` with respect to every input (``jax.grad``).
* ``layers.npz``: one Keras layer per case, built on a seeded input with seeded weights: output,
  gradients with respect to the input and to every weight, ``count_params``, weight names and
  shapes, and ``get_config()``.
* ``<model>.keras``, ``<model>.weights.h5``, ``<model>.h5`` and ``<model>.npz`` (input ``x``,
  ``predict`` output ``pred``) for small models holding these layers.
"""

import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers as L  # noqa: E402
from keras import ops  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)
from tests.saving.conv_models import MODELS  # noqa: E402

OUT = os.path.join(ROOT, "tests", "fixtures", "keras")
OUT = os.path.join(OUT, "conv")

# (name, op, input shapes, kwargs)
OP_CASES = [
    ("conv1d_valid", "conv", [(2, 9, 3), (3, 3, 4)], {}),
    ("conv1d_same_s2", "conv", [(2, 9, 3), (3, 3, 4)], {"strides": 2, "padding": "same"}),
    ("conv1d_dil", "conv", [(2, 11, 3), (3, 3, 2)], {"dilation_rate": 2, "padding": "same"}),
    ("conv2d_valid", "conv", [(2, 7, 6, 3), (3, 2, 3, 4)], {"strides": (2, 1)}),
    ("conv2d_same", "conv", [(2, 7, 6, 3), (3, 3, 3, 5)], {"padding": "same", "strides": 2}),
    ("conv2d_groups", "conv", [(2, 6, 6, 4), (3, 3, 2, 6)], {"padding": "same"}),
    ("conv2d_cf", "conv", [(2, 3, 6, 5), (3, 3, 3, 4)], {"data_format": "channels_first"}),
    ("conv3d", "conv", [(1, 5, 4, 6, 2), (2, 3, 2, 2, 3)], {"padding": "same"}),
    ("depthwise2d", "depthwise_conv", [(2, 6, 7, 3), (3, 3, 3, 2)], {"padding": "same"}),
    ("depthwise1d_s2", "depthwise_conv", [(2, 9, 3), (3, 3, 2)], {"strides": 2}),
    (
        "separable2d",
        "separable_conv",
        [(2, 6, 6, 3), (3, 3, 3, 2), (1, 1, 6, 4)],
        {"padding": "same"},
    ),
    ("convT1d_s2", "conv_transpose", [(2, 5, 3), (3, 4, 3)], {"strides": 2}),
    (
        "convT2d_same",
        "conv_transpose",
        [(2, 4, 5, 3), (3, 3, 2, 3)],
        {"strides": 2, "padding": "same"},
    ),
    (
        "convT2d_outpad",
        "conv_transpose",
        [(2, 4, 4, 3), (3, 3, 2, 3)],
        {"strides": 2, "padding": "same", "output_padding": 1},
    ),
    (
        "convT2d_valid_outpad",
        "conv_transpose",
        [(2, 4, 3, 3), (3, 2, 2, 3)],
        {"strides": (2, 3), "output_padding": (1, 0)},
    ),
    ("convT2d_dil", "conv_transpose", [(2, 4, 4, 3), (3, 3, 2, 3)], {"dilation_rate": 2}),
    (
        "convT3d_cf",
        "conv_transpose",
        [(1, 2, 3, 3, 2), (2, 2, 2, 3, 2)],
        {"strides": 2, "data_format": "channels_first"},
    ),
    ("maxpool1d", "max_pool", [(2, 9, 3)], {"pool_size": 2, "strides": 2}),
    (
        "maxpool2d_same",
        "max_pool",
        [(2, 7, 6, 3)],
        {"pool_size": 3, "strides": 2, "padding": "same"},
    ),
    ("maxpool3d", "max_pool", [(1, 4, 5, 4, 2)], {"pool_size": (2, 2, 2), "strides": (1, 2, 1)}),
    (
        "avgpool2d_same",
        "average_pool",
        [(2, 7, 6, 3)],
        {"pool_size": 3, "strides": 2, "padding": "same"},
    ),
    ("avgpool1d", "average_pool", [(2, 9, 3)], {"pool_size": 3, "strides": 2}),
    (
        "avgpool2d_cf",
        "average_pool",
        [(2, 3, 6, 5)],
        {"pool_size": 2, "strides": 2, "padding": "same", "data_format": "channels_first"},
    ),
    ("adaptive_avg2d", "adaptive_average_pool", [(2, 7, 5, 3)], {"output_size": (3, 2)}),
    ("adaptive_max2d", "adaptive_max_pool", [(2, 7, 5, 3)], {"output_size": (3, 2)}),
    ("adaptive_avg1d", "adaptive_average_pool", [(2, 10, 3)], {"output_size": 4}),
    ("adaptive_max3d", "adaptive_max_pool", [(1, 5, 4, 6, 2)], {"output_size": (2, 3, 4)}),
]

# (name, class, config, input shape with batch, mask or None)
LAYER_CASES = [
    ("conv1d", "Conv1D", {"filters": 4, "kernel_size": 3, "activation": "relu"}, (2, 9, 3)),
    (
        "conv1d_causal",
        "Conv1D",
        {"filters": 3, "kernel_size": 3, "padding": "causal", "dilation_rate": 2},
        (2, 9, 3),
    ),
    (
        "conv1d_groups_s2",
        "Conv1D",
        {"filters": 4, "kernel_size": 2, "strides": 2, "groups": 2, "padding": "same"},
        (2, 9, 4),
    ),
    (
        "conv2d",
        "Conv2D",
        {"filters": 5, "kernel_size": (3, 2), "strides": (1, 2), "activation": "tanh"},
        (2, 7, 6, 3),
    ),
    (
        "conv2d_same_nobias",
        "Conv2D",
        {"filters": 4, "kernel_size": 3, "padding": "same", "use_bias": False},
        (2, 6, 5, 3),
    ),
    (
        "conv2d_cf",
        "Conv2D",
        {"filters": 4, "kernel_size": 3, "data_format": "channels_first"},
        (2, 3, 6, 5),
    ),
    ("conv3d", "Conv3D", {"filters": 3, "kernel_size": 2, "padding": "same"}, (1, 4, 3, 5, 2)),
    ("conv1dT", "Conv1DTranspose", {"filters": 3, "kernel_size": 3, "strides": 2}, (2, 5, 4)),
    (
        "conv2dT_same",
        "Conv2DTranspose",
        {"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same"},
        (2, 4, 3, 2),
    ),
    (
        "conv2dT_outpad",
        "Conv2DTranspose",
        {"filters": 2, "kernel_size": 3, "strides": 2, "output_padding": 1},
        (2, 3, 3, 2),
    ),
    (
        "conv2dT_cf",
        "Conv2DTranspose",
        {"filters": 2, "kernel_size": 2, "strides": 2, "data_format": "channels_first"},
        (2, 3, 3, 4),
    ),
    (
        "conv3dT",
        "Conv3DTranspose",
        {"filters": 2, "kernel_size": 2, "strides": (1, 2, 2)},
        (1, 3, 2, 3, 2),
    ),
    (
        "sepconv1d",
        "SeparableConv1D",
        {"filters": 4, "kernel_size": 3, "depth_multiplier": 2, "padding": "same"},
        (2, 8, 3),
    ),
    ("sepconv2d", "SeparableConv2D", {"filters": 4, "kernel_size": 3, "strides": 2}, (2, 7, 7, 3)),
    ("dwconv1d", "DepthwiseConv1D", {"kernel_size": 3, "depth_multiplier": 2}, (2, 8, 3)),
    (
        "dwconv2d",
        "DepthwiseConv2D",
        {"kernel_size": 3, "padding": "same", "dilation_rate": 2},
        (2, 7, 6, 3),
    ),
    ("maxpool1d", "MaxPooling1D", {"pool_size": 3, "strides": 2, "padding": "same"}, (2, 9, 3)),
    ("maxpool2d", "MaxPooling2D", {}, (2, 7, 6, 3)),
    ("maxpool3d", "MaxPooling3D", {"pool_size": 2, "padding": "same"}, (1, 3, 5, 4, 2)),
    ("avgpool1d", "AveragePooling1D", {"pool_size": 2}, (2, 9, 3)),
    (
        "avgpool2d",
        "AveragePooling2D",
        {"pool_size": 3, "strides": 2, "padding": "same"},
        (2, 7, 6, 3),
    ),
    (
        "avgpool3d_cf",
        "AveragePooling3D",
        {"pool_size": 2, "data_format": "channels_first"},
        (1, 2, 4, 4, 5),
    ),
    ("gmax1d", "GlobalMaxPooling1D", {}, (2, 6, 3)),
    ("gavg1d_keep", "GlobalAveragePooling1D", {"keepdims": True}, (2, 6, 3)),
    ("gavg1d_cf", "GlobalAveragePooling1D", {"data_format": "channels_first"}, (2, 3, 6)),
    ("gmax2d", "GlobalMaxPooling2D", {"keepdims": True}, (2, 4, 5, 3)),
    ("gavg2d", "GlobalAveragePooling2D", {}, (2, 4, 5, 3)),
    ("gmax3d_cf", "GlobalMaxPooling3D", {"data_format": "channels_first"}, (1, 2, 3, 4, 3)),
    ("gavg3d", "GlobalAveragePooling3D", {}, (1, 3, 4, 3, 2)),
    ("zpad1d", "ZeroPadding1D", {"padding": (1, 2)}, (2, 5, 3)),
    ("zpad2d", "ZeroPadding2D", {"padding": ((1, 0), (2, 1))}, (2, 3, 4, 2)),
    (
        "zpad3d_cf",
        "ZeroPadding3D",
        {"padding": 1, "data_format": "channels_first"},
        (1, 2, 2, 3, 2),
    ),
    ("crop1d", "Cropping1D", {"cropping": (1, 2)}, (2, 6, 3)),
    ("crop2d", "Cropping2D", {"cropping": ((1, 0), (1, 2))}, (2, 5, 6, 2)),
    ("crop3d", "Cropping3D", {"cropping": 1}, (1, 4, 4, 5, 2)),
    ("up1d", "UpSampling1D", {"size": 3}, (2, 4, 3)),
    ("up2d", "UpSampling2D", {"size": (2, 3)}, (2, 3, 2, 2)),
    ("up2d_bilinear", "UpSampling2D", {"size": 2, "interpolation": "bilinear"}, (2, 3, 4, 2)),
    ("up3d_cf", "UpSampling3D", {"size": 2, "data_format": "channels_first"}, (1, 2, 2, 3, 2)),
    ("sdrop1d", "SpatialDropout1D", {"rate": 0.5}, (2, 5, 3)),
    ("sdrop2d", "SpatialDropout2D", {"rate": 0.5}, (2, 3, 4, 3)),
    ("adapt_avg1d", "AdaptiveAveragePooling1D", {"output_size": 4}, (2, 10, 3)),
    ("adapt_max2d", "AdaptiveMaxPooling2D", {"output_size": (3, 2)}, (2, 7, 5, 3)),
    (
        "adapt_avg3d_cf",
        "AdaptiveAveragePooling3D",
        {"output_size": 2, "data_format": "channels_first"},
        (1, 2, 5, 4, 3),
    ),
    ("adapt_max1d", "AdaptiveMaxPooling1D", {"output_size": 3}, (2, 7, 2)),
    ("adapt_avg2d", "AdaptiveAveragePooling2D", {"output_size": 3}, (2, 7, 6, 2)),
    ("adapt_max3d", "AdaptiveMaxPooling3D", {"output_size": (2, 2, 3)}, (1, 4, 5, 6, 2)),
    (
        "convlstm1d",
        "ConvLSTM1D",
        {"filters": 3, "kernel_size": 3, "padding": "same", "return_sequences": True},
        (2, 4, 6, 2),
    ),
    (
        "convlstm2d",
        "ConvLSTM2D",
        {"filters": 2, "kernel_size": 2, "return_state": True},
        (2, 3, 4, 5, 2),
    ),
    (
        "convlstm2d_back",
        "ConvLSTM2D",
        {"filters": 2, "kernel_size": 3, "padding": "same", "go_backwards": True, "strides": 1},
        (2, 3, 4, 4, 2),
    ),
    (
        "convlstm3d",
        "ConvLSTM3D",
        {"filters": 2, "kernel_size": 2, "return_sequences": True},
        (1, 2, 3, 3, 3, 2),
    ),
]


def make_ops(rng):
    data, meta = {}, []
    for name, op, shapes, kwargs in OP_CASES:
        arrays = [rng.normal(size=s).astype("float32") for s in shapes]
        fn = getattr(ops, op)
        out = np.asarray(fn(*arrays, **kwargs))
        cot = rng.normal(size=out.shape).astype("float32")
        grads = jax.grad(
            lambda *a, fn=fn, kw=kwargs, cot=cot: (fn(*a, **kw) * cot).sum(),
            argnums=tuple(range(len(arrays))),
        )(*arrays)
        for i, a in enumerate(arrays):
            data[f"{name}/in{i}"] = a
            data[f"{name}/grad{i}"] = np.asarray(grads[i])
        data[f"{name}/out"] = out
        data[f"{name}/cot"] = cot
        meta.append({"name": name, "op": op, "kwargs": kwargs, "n_inputs": len(arrays)})
    data["cases"] = np.array(json.dumps(meta))
    np.savez_compressed(os.path.join(OUT, "ops.npz"), **data)


def make_layers(rng):
    data, meta = {}, []
    for name, cls, config, shape in LAYER_CASES:
        layer = getattr(L, cls)(**config)
        x = rng.normal(size=shape).astype("float32")
        layer.build(shape)
        weights = [rng.normal(size=w.shape).astype("float32") * 0.5 for w in layer.weights]
        for variable, value in zip(layer.weights, weights):
            variable.assign(value)
        frozen = [v.value for v in layer.non_trainable_variables]
        outs = layer(x)
        outs = list(outs) if isinstance(outs, (list, tuple)) else [outs]
        cots = [rng.normal(size=o.shape).astype("float32") for o in outs]

        def loss(x, *ws, layer=layer, frozen=frozen, cots=cots):
            result, _ = layer.stateless_call(list(ws), frozen, x)
            result = list(result) if isinstance(result, (list, tuple)) else [result]
            return sum((r * c).sum() for r, c in zip(result, cots))

        grads = jax.grad(loss, argnums=tuple(range(1 + len(weights))))(x, *weights)
        data[f"{name}/x"] = x
        for i, w in enumerate(weights):
            data[f"{name}/w{i}"] = w
        for i, (o, c) in enumerate(zip(outs, cots)):
            data[f"{name}/out{i}"] = np.asarray(o)
            data[f"{name}/cot{i}"] = c
        for i, g in enumerate(grads):
            data[f"{name}/grad{i}"] = np.asarray(g)
        meta.append(
            {
                "name": name,
                "class_name": cls,
                "config": config,
                "full_config": json.loads(json.dumps(layer.get_config(), default=str)),
                "shape": list(shape),
                "n_weights": len(weights),
                "n_outputs": len(outs),
                "weight_paths": [w.path for w in layer.weights],
                "weight_shapes": [list(w.shape) for w in layer.weights],
                "count_params": layer.count_params(),
                "output_shape": [list(o.shape) for o in outs],
            }
        )
    # GlobalAveragePooling1D with a mask
    x = rng.normal(size=(3, 5, 2)).astype("float32")
    mask = np.array([[1, 1, 0, 1, 0], [0, 0, 0, 1, 1], [1, 1, 1, 1, 1]], dtype=bool)
    data["gavg1d_mask/x"], data["gavg1d_mask/mask"] = x, mask
    data["gavg1d_mask/out"] = np.asarray(L.GlobalAveragePooling1D()(x, mask=mask))
    data["cases"] = np.array(json.dumps(meta))
    np.savez_compressed(os.path.join(OUT, "layers.npz"), **data)


def make_models(rng):
    for build in MODELS.values():
        model = build(keras)
        name = model.name
        shape = (3, *model.inputs[0].shape[1:])
        x = rng.normal(size=shape).astype("float32")
        model.set_weights(
            [rng.normal(size=w.shape).astype("float32") * 0.3 for w in model.get_weights()]
        )
        model.compile(optimizer="adam", loss="mse")
        pred = model.predict(x, verbose=0)
        np.savez_compressed(os.path.join(OUT, f"{name}.npz"), x=x, pred=pred)
        model.save(os.path.join(OUT, f"{name}.keras"))
        model.save_weights(os.path.join(OUT, f"{name}.weights.h5"))
        model.save(os.path.join(OUT, f"{name}.h5"))


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(2026)
    make_ops(rng)
    make_layers(rng)
    make_models(rng)
    print("wrote", OUT, "with Keras", keras.__version__)


if __name__ == "__main__":
    main()
