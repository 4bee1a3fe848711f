"""The functional inference fast path (gpuk/models/functional_inference.py): predict and
``training=False`` calls outside a tape run the layers' raw array functions, with the normal
path's results bit for bit, and fall back to the normal path wherever it does not apply."""

import numpy as np
import pytest

import gpuk
from gpuk import layers
from gpuk._array import to_numpy
from gpuk.autograd import function
from gpuk.autograd.recording import is_recording
from gpuk.layers import clear_session
from gpuk.models import Model, Sequential

pytestmark = pytest.mark.standin  # also in CI's pass over the GPU branch (the CuPy stand-in)


def setup_function():
    clear_session()


class _OpCounter:
    """Counts autograd Function applications (the normal path's ops) inside the block."""

    def __enter__(self):
        self.original = function.Function.__dict__["apply"]
        self.count = 0
        original = self.original

        def counting(cls, *inputs, **params):
            self.count += 1
            return original.__func__(cls, *inputs, **params)

        function.Function.apply = classmethod(counting)
        return self

    def __exit__(self, *exc):
        function.Function.apply = self.original
        return False


def _reference(model, x, **kwargs):
    """The normal path: inside a tape every call records, so no fast path."""
    with gpuk.GradientTape():
        out = model(x, **kwargs)
    return out


def _arrays(out):
    return [np.asarray(to_numpy(o.data)) for o in (out if isinstance(out, list) else [out])]


def _assert_same_bits(a, b):
    for u, v in zip(_arrays(a), _arrays(b)):
        assert u.dtype == v.dtype and u.shape == v.shape
        np.testing.assert_array_equal(u, v)


def _mlp(activations=("relu", "relu", "softmax"), use_bias=True):
    inp = layers.Input((16,))
    h = inp
    for units, act in zip((64, 64, 10), activations):
        h = layers.Dense(units, activation=act, use_bias=use_bias)(h)
    return Model(inp, h)


def _data(xp, shape=(32, 16), seed=0):
    x = np.random.default_rng(seed).standard_normal(shape).astype("float32")
    return xp.asarray(x)


@pytest.mark.parametrize(
    "activations",
    [
        ("relu", "relu", "softmax"),
        ("tanh", "sigmoid", None),
        ("linear", "gelu", "softmax"),
        ("elu", "swish", "log_softmax"),
    ],
)
def test_fast_path_matches_the_normal_path_bitwise(xp, activations):
    model = _mlp(activations)
    x = _data(xp)
    with _OpCounter() as ops:
        fast = model(x, training=False)
    assert isinstance(fast, gpuk.Tensor) and not fast.requires_grad
    plain = ("relu", "softmax", None, "linear")
    if all(a in plain for a in activations):
        assert ops.count == 0  # no Function applied: the raw path ran
    _assert_same_bits(fast, _reference(model, x, training=False))
    _assert_same_bits(model(x), _reference(model, x))
    np.testing.assert_array_equal(
        model.predict_on_batch(to_numpy(x)), _arrays(_reference(model, x))[0]
    )


def test_predict_and_predict_on_batch_run_no_ops_and_match(xp):
    model = _mlp()
    x = _data(xp, (50, 16))
    with _OpCounter() as ops:
        out = model.predict_on_batch(x)
        batched = model.predict(x, batch_size=50, verbose=0)
    assert ops.count == 0
    np.testing.assert_array_equal(out, _arrays(_reference(model, x))[0])
    np.testing.assert_array_equal(batched, out)


def test_training_false_equals_training_true_without_dropout(xp):
    model = _mlp()
    x = _data(xp)
    _assert_same_bits(model(x, training=False), model(x, training=True))


def test_no_bias_float64_input_and_int_input(xp):
    model = _mlp(use_bias=False)
    x = _data(xp)
    x64 = x.astype("float64")
    _assert_same_bits(model(x64, training=False), _reference(model, x64, training=False))
    dense = Model(inp := layers.Input((4,), dtype="int32"), layers.Dense(3)(inp))
    xi = xp.asarray(np.arange(8, dtype="int32").reshape(2, 4))
    _assert_same_bits(dense(xi, training=False), _reference(dense, xi, training=False))


def test_sequential_with_dropout_and_activation_layers(xp):
    model = Sequential(
        [
            layers.Input((16,)),
            layers.Dense(32),
            layers.Activation("relu"),
            layers.Dropout(0.5),
            layers.Dense(8),
            layers.Activation("softmax"),
        ]
    )
    x = _data(xp)
    with _OpCounter() as ops:
        fast = model.predict_on_batch(x)
    assert ops.count == 0
    np.testing.assert_array_equal(fast, _arrays(_reference(model, x, training=False))[0])
    # training=True outside a tape: the normal path, dropout active
    noisy = _arrays(model(x, training=True))[0]
    assert not np.allclose(noisy, fast)


def test_shared_intermediate_is_not_overwritten(xp):
    inp = layers.Input((16,))
    h = layers.Dense(8, activation="relu")(inp)
    a = layers.Activation("softmax")(h)
    b = layers.Dense(4, activation="softmax")(h)
    model = Model(inp, [h, a, b])
    x = _data(xp)
    fast = model(x, training=False)
    assert isinstance(fast, list) and len(fast) == 3
    _assert_same_bits(fast, _reference(model, x, training=False))
    dict_model = Model(inp, {"h": h, "b": b})
    fast = dict_model(x, training=False)
    ref = _reference(dict_model, x, training=False)
    assert sorted(fast) == ["b", "h"]
    _assert_same_bits([fast["b"], fast["h"]], [ref["b"], ref["h"]])


def test_inside_a_tape_the_call_records_and_gradients_flow(xp):
    model = _mlp()
    x = _data(xp)
    with gpuk.GradientTape() as tape:
        out = model(x, training=False)
        loss = gpuk.ops.sum(out * out)
    grads = tape.gradient(loss, model.trainable_weights)
    assert all(g is not None for g in grads)


def test_falls_back_for_recorded_training_flag_masks_and_other_layers(xp):
    # A node recorded with training=True (Monte Carlo dropout) keeps dropping when the model
    # is called without a flag.
    inp = layers.Input((64,))
    out = layers.Dropout(0.5)(layers.Dense(64)(inp), training=True)
    mc = Model(inp, out)
    x = _data(xp, (16, 64))
    assert (_arrays(mc(x))[0] == 0).sum() > 0
    assert (_arrays(mc(x, training=False))[0] == 0).sum() == 0
    # A masked input takes the normal path (masks travel on Tensors).
    model = _mlp()
    t = gpuk.Tensor(_data(xp))
    t._keras_mask = xp.ones((32,), dtype=bool)
    with _OpCounter() as ops:
        model(t, training=False)
    assert ops.count > 0
    # A layer without a raw function: the normal path for the whole model.
    inp = layers.Input((16,))
    bn = Model(inp, layers.Dense(4)(layers.BatchNormalization()(inp)))
    with _OpCounter() as ops:
        out = bn(_data(xp), training=False)
    assert ops.count > 0
    _assert_same_bits(out, _reference(bn, _data(xp), training=False))


def test_mixed_precision_and_activity_regularizer_take_the_normal_path(xp):
    inp = layers.Input((16,))
    reg = Model(inp, layers.Dense(4, activity_regularizer="l2")(inp))
    x = _data(xp)
    with _OpCounter() as ops:
        reg(x, training=False)
    assert ops.count > 0
    assert len(reg.losses) == 1
    inp = layers.Input((16,))
    half = Model(inp, layers.Dense(4, dtype="mixed_float16")(inp))
    out = half(x, training=False)
    assert out.dtype == "float16"
    _assert_same_bits(out, _reference(half, x, training=False))


def test_losses_of_an_earlier_call_are_cleared_as_in_the_normal_path(xp):
    inp = layers.Input((16,))
    dense = layers.Dense(4)
    model = Model(inp, dense(inp))
    dense.add_loss(gpuk.Tensor(xp.asarray(np.float32(3.0))))
    assert len(model.losses) == 1
    model(_data(xp), training=False)
    assert model.losses == []


def test_nested_model_and_input_checks(xp):
    inner = _mlp()
    inp = layers.Input((16,))
    outer = Model(inp, layers.Dense(2)(inner(inp)))
    x = _data(xp)
    _assert_same_bits(outer(x, training=False), _reference(outer, x, training=False))
    with pytest.raises(ValueError, match="incompatible"):
        inner(_data(xp, (4, 15)), training=False)


def test_input_rank_adaptation_as_the_normal_path(xp):
    inp = layers.Input((4, 1))
    model = Model(inp, layers.Dense(3, activation="relu")(inp))
    x = _data(xp, (2, 4))  # Keras adds the trailing axis of size 1
    out = model(x, training=False)
    assert out.shape == (2, 4, 3)
    _assert_same_bits(out, _reference(model, x, training=False))


def test_a_deep_copy_runs_both_paths(xp):
    import copy

    model = _mlp()
    x = _data(xp)
    model(x, training=False)
    _reference(model, x)
    clone = copy.deepcopy(model)
    _assert_same_bits(clone(x, training=False), model(x, training=False))
    _assert_same_bits(_reference(clone, x), _reference(model, x))


def test_the_fast_path_follows_attribute_changes_after_it_was_cached(xp):
    # The resolved steps are cached until any layer attribute is assigned: a regularizer or a
    # mixed policy set on a layer after some fast calls sends the next call down the normal
    # path, as it would have at the first call.
    model = _mlp()
    x = _data(xp)
    with _OpCounter() as ops:
        model(x, training=False)
        model(x, training=False)
    assert ops.count == 0
    model.layers[2].activity_regularizer = gpuk.regularizers.L2(0.1)
    with _OpCounter() as ops:
        model(x, training=False)
    assert ops.count > 0 and len(model.losses) == 1
    model.layers[2].activity_regularizer = None
    with _OpCounter() as ops:
        model(x, training=False)
    assert ops.count == 0
    model.layers[1].dtype_policy = "mixed_float16"
    out = model(x, training=False)
    assert out.dtype == "float32"  # the softmax layer computes in float32 again
    _assert_same_bits(out, _reference(model, x, training=False))


def test_predict_on_batch_records_nothing_inside_or_outside_a_tape(xp):
    seen = []

    class Probe(Model):
        def predict_step(self, data):
            seen.append(is_recording())
            return super().predict_step(data)

    inp = layers.Input((16,))
    model = Probe(inp, layers.Dense(4, activation="softmax")(inp))
    x = _data(xp)
    outside = model.predict_on_batch(x)
    with gpuk.GradientTape():
        inside = model.predict_on_batch(x)
    assert seen == [False, False]
    np.testing.assert_array_equal(inside, outside)
