"""Convolution and pooling ops: values and gradients against Keras 3 (fixtures from
``tools/make_keras_fixtures_conv.py``), float64 numerical gradients, and clear errors."""

import json
import os

import numpy as np
import pytest

import gpuk
from gpuk import ops
from gpuk._array import to_numpy
from gpuk.ops.convolution import conv_bias_relu
from tests.gradcheck import assert_gradients_match

FIX = os.path.join(os.path.dirname(__file__), "..", "fixtures", "keras", "conv", "ops.npz")
REF = np.load(FIX)
CASES = json.loads(str(REF["cases"]))


def _kwargs(case):
    kwargs = dict(case["kwargs"])
    for key, value in kwargs.items():
        if isinstance(value, list):
            kwargs[key] = tuple(value)
    return kwargs


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_values_and_gradients_match_keras(case, xp):
    name = case["name"]
    fn = getattr(ops, case["op"])
    arrays = [REF[f"{name}/in{i}"] for i in range(case["n_inputs"])]
    tensors = [gpuk.Variable(xp.asarray(a)) for a in arrays]
    cot = gpuk.Tensor(xp.asarray(REF[f"{name}/cot"]))
    with gpuk.GradientTape() as tape:
        out = fn(*tensors, **_kwargs(case))
        loss = ops.sum(out * cot)
    np.testing.assert_allclose(to_numpy(out.data), REF[f"{name}/out"], rtol=1e-5, atol=1e-5)
    assert out.dtype == np.float32
    grads = tape.gradient(loss, tensors)
    for i, g in enumerate(grads):
        np.testing.assert_allclose(
            to_numpy(g.data), REF[f"{name}/grad{i}"], rtol=1e-4, atol=1e-4, err_msg=f"input {i}"
        )


GRAD_CASES = {
    "conv1d_same_s2": (ops.conv, [(2, 5, 2), (3, 2, 3)], {"strides": 2, "padding": "same"}),
    "conv2d_groups_cf": (
        ops.conv,
        [(1, 4, 4, 3), (2, 2, 2, 4)],
        {"padding": "same", "data_format": "channels_first"},
    ),
    "conv2d_dilated": (ops.conv, [(1, 5, 5, 2), (2, 2, 2, 2)], {"dilation_rate": 2}),
    "conv3d": (ops.conv, [(1, 3, 3, 3, 2), (2, 2, 2, 2, 2)], {"strides": (1, 2, 1)}),
    "depthwise": (ops.depthwise_conv, [(1, 4, 4, 2), (3, 3, 2, 2)], {"padding": "same"}),
    "depthwise_cf_1d": (
        ops.depthwise_conv,
        [(2, 3, 6), (2, 3, 2)],
        {"strides": 2, "data_format": "channels_first"},
    ),
    "separable": (
        ops.separable_conv,
        [(1, 4, 4, 2), (2, 2, 2, 2), (1, 1, 4, 3)],
        {"strides": 2, "padding": "same"},
    ),
    "conv_transpose": (
        ops.conv_transpose,
        [(1, 3, 3, 2), (3, 3, 2, 2)],
        {"strides": 2, "padding": "same", "output_padding": 1},
    ),
    "conv_transpose_1d_valid": (ops.conv_transpose, [(2, 3, 2), (2, 3, 2)], {"strides": 3}),
    "conv_bias_relu": (
        lambda x, k, b, **kw: conv_bias_relu(x, k, b, True, **kw),
        [(2, 5, 5, 2), (3, 3, 2, 3), (3,)],
        {"padding": "same", "strides": 2},
    ),
    "conv_bias_relu_cf": (
        lambda x, k, b, **kw: conv_bias_relu(x, k, b, True, **kw),
        [(1, 2, 5, 4), (2, 2, 2, 3), (3,)],
        {"data_format": "channels_first"},
    ),
    "max_pool": (ops.max_pool, [(1, 5, 4, 2)], {"pool_size": 2, "strides": 1}),
    "max_pool_same": (ops.max_pool, [(1, 5, 4, 2)], {"pool_size": 3, "padding": "same"}),
    "average_pool_same": (ops.average_pool, [(1, 5, 4, 2)], {"pool_size": 2, "padding": "same"}),
    "average_pool_3d": (ops.average_pool, [(1, 4, 2, 4, 1)], {"pool_size": 2}),
    "adaptive_average": (ops.adaptive_average_pool, [(1, 5, 4, 2)], {"output_size": (2, 3)}),
    "adaptive_max": (ops.adaptive_max_pool, [(1, 7, 2)], {"output_size": 3}),
}


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_float64_gradients(name, xp):
    fn, shapes, kwargs = GRAD_CASES[name]
    rng = np.random.default_rng(7)
    # distinct values keep max-pooling away from ties
    arrays = [
        rng.permutation(np.prod(s)).reshape(s) / np.prod(s) + rng.normal(size=s) * 0.01
        for s in shapes
    ]
    weights = rng.normal(size=np.shape(fn(*arrays, **kwargs)))

    def f(*tensors):
        return fn(*tensors, **kwargs) * weights

    assert_gradients_match(f, arrays, xp, rtol=1e-5, atol=1e-6)


def test_strides_default_to_pool_size_and_same_shapes():
    x = np.arange(2 * 9 * 3, dtype="float32").reshape(2, 9, 3)
    assert ops.max_pool(x, 2).shape == (2, 4, 3)
    assert ops.average_pool(x, 3, padding="same").shape == (2, 3, 3)
    assert ops.conv(x, np.ones((3, 3, 5), "float32"), padding="same", strides=2).shape == (2, 5, 5)
    y = ops.conv_transpose(x, np.ones((3, 4, 3), "float32"), strides=2)
    assert y.shape == (2, 19, 4)


def test_channels_first_follows_image_data_format():
    x = np.random.default_rng(0).normal(size=(1, 2, 5, 5)).astype("float32")
    k = np.ones((3, 3, 2, 4), "float32")
    gpuk.backend.set_image_data_format("channels_first")
    try:
        y = ops.conv(x, k)
    finally:
        gpuk.backend.set_image_data_format("channels_last")
    assert y.shape == (1, 4, 3, 3)


def test_errors_name_op_and_shapes():
    x = np.zeros((2, 4, 4, 3), "float32")
    with pytest.raises(ValueError, match=r"conv: the kernel .*larger.*\(4, 4\)"):
        ops.conv(x, np.zeros((5, 5, 3, 2), "float32"))
    with pytest.raises(ValueError, match=r"not a multiple.*\(2, 2, 2, 4\)"):
        ops.conv(x, np.zeros((2, 2, 2, 4), "float32"))
    with pytest.raises(ValueError, match=r"rank-4 kernel"):
        ops.conv(x, np.zeros((2, 3, 4), "float32"))
    with pytest.raises(ValueError, match="padding must be one of"):
        ops.conv(x, np.zeros((2, 2, 3, 2), "float32"), padding="full")
    with pytest.raises(ValueError, match=r"max_pool: pool_size \(5, 5\) is larger"):
        ops.max_pool(x, 5)
    with pytest.raises(ValueError, match="rank 3 or more"):
        ops.average_pool(np.zeros((2, 3)), 2)
    with pytest.raises(ValueError, match="data_format"):
        ops.max_pool(x, 2, data_format="NHWC")


def test_chunked_im2col_matches_one_piece(monkeypatch):
    import gpuk.ops.convolution as conv_module

    rng = np.random.default_rng(3)
    x = gpuk.Variable(rng.normal(size=(5, 6, 6, 4)))
    k = gpuk.Variable(rng.normal(size=(3, 3, 2, 4)))

    def run():
        with gpuk.GradientTape() as tape:
            y = ops.conv(x, k, padding="same")
            loss = ops.sum(y * y)
        return [to_numpy(t.data) for t in (y, *tape.gradient(loss, [x, k]))]

    whole = run()
    monkeypatch.setattr(conv_module, "_COLS_LIMIT", 2 * 36 * 9 * 4)  # two samples per slice
    for got, want in zip(run(), whole):
        np.testing.assert_allclose(got, want, rtol=1e-12)
