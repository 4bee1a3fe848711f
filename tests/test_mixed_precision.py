"""Mixed precision as Keras 3 (issue 17): dtype policies, float32 variables with float16
compute, the loss-scale optimizer in compile, files both ways, and digits accuracy."""

import json
import os

import numpy as np
import pytest

import gpuk as keras
from gpuk import dtype_policies, mixed_precision
from tests.gradcheck import assert_gradients_match

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "keras", "mixed_precision")


@pytest.fixture(autouse=True)
def _reset_policy():
    yield
    mixed_precision.set_global_policy(None)


def test_policies_as_keras():
    policy = mixed_precision.DTypePolicy("mixed_float16")
    assert (policy.name, policy.compute_dtype, policy.variable_dtype) == (
        "mixed_float16",
        "float16",
        "float32",
    )
    bf16 = mixed_precision.Policy("mixed_bfloat16")
    assert (bf16.compute_dtype, bf16.variable_dtype) == ("bfloat16", "float32")
    assert repr(policy) == '<DTypePolicy "mixed_float16">'
    assert policy == mixed_precision.DTypePolicy("mixed_float16")
    assert mixed_precision.global_policy() == mixed_precision.DTypePolicy("float32")
    mixed_precision.set_global_policy("mixed_float16")
    assert mixed_precision.dtype_policy().name == "mixed_float16"
    assert dtype_policies.serialize(policy) == {
        "module": "keras",
        "class_name": "DTypePolicy",
        "config": {"name": "mixed_float16"},
        "registered_name": None,
    }
    assert keras.DTypePolicy is mixed_precision.DTypePolicy
    with pytest.raises(ValueError, match="Cannot convert 'float17'"):
        mixed_precision.DTypePolicy("float17")
    with pytest.raises(TypeError, match="'name' must be a string"):
        mixed_precision.DTypePolicy(3)


def test_layers_keep_float32_variables_and_compute_in_float16():
    mixed_precision.set_global_policy("mixed_float16")
    dense = keras.layers.Dense(4)
    last = keras.layers.Dense(2, dtype="float32")
    assert (dense.dtype_policy.name, dense.compute_dtype, dense.variable_dtype) == (
        "mixed_float16",
        "float16",
        "float32",
    )
    assert dense.dtype == "float32"
    x = np.random.default_rng(0).normal(size=(3, 5)).astype("float32")
    hidden = dense(x)
    out = last(hidden)
    assert hidden.dtype == np.float16 and out.dtype == np.float32
    assert dense.kernel.dtype == np.float32 and last.kernel.dtype == np.float32
    expected = x.astype("float16") @ dense.kernel.numpy().astype("float16")
    np.testing.assert_allclose(hidden.numpy(), expected + dense.bias.numpy().astype("float16"))
    per_layer = keras.layers.Dense(2, dtype="mixed_float16")
    mixed_precision.set_global_policy("float32")
    assert per_layer.compute_dtype == "float16"
    assert keras.layers.Dense(2).compute_dtype == "float32"


def test_gradients_reach_float32_variables_through_the_float16_reads(xp):
    dense = keras.layers.Dense(3, dtype="mixed_float16")
    x = np.random.default_rng(1).normal(size=(4, 2))
    dense(xp.asarray(x, dtype="float32"))
    with keras.GradientTape() as tape:
        loss = keras.ops.sum(keras.ops.square(dense(xp.asarray(x, dtype="float32"))))
    grads = tape.gradient(loss, dense.trainable_weights)
    assert [g.dtype for g in grads] == [np.float32, np.float32]
    # The same layer in float64 gives the exact gradient; float16 compute is close to it.
    exact = keras.layers.Dense(3, dtype="float64")
    exact(x)
    exact.set_weights(dense.get_weights())
    with keras.GradientTape() as tape:
        loss = keras.ops.sum(keras.ops.square(exact(x)))
    for got, want in zip(grads, tape.gradient(loss, exact.trainable_weights)):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=2e-2, atol=2e-2)


def test_autocast_read_gradient_is_exact():
    variable = keras.Variable(np.array([0.5, -1.25, 2.0]), dtype="float64")

    def fn(v):
        with keras.autograd.autocast_scope("float32"):
            return keras.ops.square(v) * 3.0

    assert_gradients_match(fn, [variable.numpy()], np, rtol=1e-6)


def test_losses_compute_in_float32_for_float16_predictions():
    y_pred = keras.ops.cast(np.array([[0.2, 0.8], [0.6, 0.4]]), "float16")
    loss = keras.losses.CategoricalCrossentropy()(np.array([[0, 1], [1, 0]]), y_pred)
    assert loss.dtype == np.float32


def test_compile_wraps_the_optimizer_for_mixed_float16_only():
    def model(policy):
        mixed_precision.set_global_policy(policy)
        m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        return m

    m = model("mixed_float16")
    m.compile(optimizer="sgd", loss="mse")
    assert isinstance(m.optimizer, mixed_precision.LossScaleOptimizer)
    assert m.optimizer.name == "loss_scale_optimizer"
    m.compile(optimizer="sgd", loss="mse", auto_scale_loss=False)
    assert isinstance(m.optimizer, keras.optimizers.SGD)
    m = model("float32")
    m.compile(optimizer="sgd", loss="mse")
    assert isinstance(m.optimizer, keras.optimizers.SGD)


def test_bfloat16_is_refused_clearly_without_a_numpy_type(on_cpu):
    # on the CPU the missing piece is ml_dtypes (the GPU message names CuPy instead)
    pytest.importorskip("numpy")
    try:
        import ml_dtypes  # noqa: F401

        pytest.skip("ml_dtypes is installed: bfloat16 has a NumPy type here")
    except ImportError:
        pass
    mixed_precision.set_global_policy("mixed_bfloat16")
    with pytest.raises(ValueError, match=r"mixed_bfloat16.*bfloat16.*ml_dtypes"):
        keras.layers.Dense(2)


@pytest.mark.standin
def test_bfloat16_is_refused_clearly_on_the_gpu(gpu):
    mixed_precision.set_global_policy("mixed_bfloat16")
    with pytest.raises(ValueError, match=r"mixed_bfloat16.*bfloat16.*CuPy has no bfloat16"):
        keras.layers.Dense(2)


def test_fused_kernels_decline_float16_with_a_reason():
    cupy = pytest.importorskip("cupy")
    from gpuk.ops.fused import adam, gru, lstm, simple_rnn, softmax_xent
    from gpuk.ops.fused._recurrent import RecurrentConfig

    def recurrent(cell, **activations):
        return RecurrentConfig(cell, cupy, np.dtype(np.float16), 2, 3, 4, 8, **activations)

    reasons = [
        softmax_xent.supports(softmax_xent.SoftmaxCrossEntropyConfig(cupy, np.float16, 2, 10)),
        lstm.supports(recurrent("lstm", recurrent_activation="sigmoid")),
        simple_rnn.supports(recurrent("simple_rnn")),
        gru.supports(recurrent("gru", recurrent_activation="sigmoid", reset_after=True)),
        adam.supports(adam.AdamConfig(cupy, ("float16",), True)),
    ]
    for reason in reasons:
        assert reason is not None and "float16" in reason


def test_files_keep_the_policy_and_the_loss_scale_state(tmp_path):
    mixed_precision.set_global_policy("mixed_float16")
    inputs = keras.Input((6,))
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    outputs = keras.layers.Dense(3, activation="softmax", dtype="float32")(hidden)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 6)).astype("float32"), rng.integers(0, 3, 16)
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    dense_config = model.get_config()["layers"][1]["config"]
    assert dense_config["dtype"]["config"] == {"name": "mixed_float16"}
    path = str(tmp_path / "mixed.keras")
    model.save(path)
    mixed_precision.set_global_policy("float32")
    loaded = keras.saving.load_model(path)
    assert [layer.dtype_policy.name for layer in loaded.layers[1:]] == ["mixed_float16", "float32"]
    assert isinstance(loaded.optimizer, mixed_precision.LossScaleOptimizer)
    assert len(loaded.optimizer.variables) == len(model.optimizer.variables) == 14
    for got, want in zip(loaded.optimizer.variables, model.optimizer.variables):
        np.testing.assert_allclose(got.numpy(), want.numpy(), err_msg=want.path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_keras_written_mixed_file_loads():
    data = np.load(os.path.join(FIXTURES, "mixed_float16.npz"))
    meta = json.loads(str(data["meta"]))
    path = os.path.join(FIXTURES, "mixed_float16.keras")
    # Keras stores the optimizer given to compile (Adam); as in Keras, loading under the
    # float32 global policy gives a plain Adam that cannot take the 14 saved variables.
    with pytest.warns(UserWarning, match="does not match"):
        model = keras.saving.load_model(path)
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    assert [layer.compute_dtype for layer in model.layers[1:]] == meta["compute_dtypes"][1:]
    assert model.get_layer("hidden")(data["x"]).dtype == np.dtype(meta["hidden_output_dtype"])
    np.testing.assert_allclose(model.predict(data["x"], verbose=0), data["pred"], atol=2e-3)
    # Under mixed_float16 (how the file was written) compile wraps Adam and the state loads.
    mixed_precision.set_global_policy("mixed_float16")
    model = keras.saving.load_model(path)
    assert isinstance(model.optimizer, mixed_precision.LossScaleOptimizer)
    assert [v.path for v in model.optimizer.variables] == meta["optimizer"]
    # iteration, learning_rate, step_counter, dynamic_scale, then the inner Adam's counters.
    scalars = [float(v.numpy()) for v in model.optimizer.variables[:6]]
    np.testing.assert_allclose(scalars, data["opt"][:6], rtol=1e-6)


def _digits():
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.data / 16.0).astype("float32")
    y = digits.target.astype("int64")
    order = np.random.default_rng(0).permutation(len(x))
    cut = int(0.8 * len(x))
    return (x[order][:cut], y[order][:cut]), (x[order][cut:], y[order][cut:])


def _digits_accuracy(policy):
    mixed_precision.set_global_policy(policy)
    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(64,))
    hidden = keras.layers.Dense(64, activation="relu")(inputs)
    outputs = keras.layers.Dense(10, activation="softmax", dtype="float32")(hidden)
    model = keras.Model(inputs, outputs)
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    (x, y), (xt, yt) = _digits()
    model.fit(x, y, batch_size=32, epochs=8, verbose=0)
    return model, model.evaluate(xt, yt, verbose=0)[1]


def test_mixed_float16_trains_digits_as_well_as_float32():
    pytest.importorskip("sklearn")
    _, full = _digits_accuracy("float32")
    model, mixed = _digits_accuracy("mixed_float16")
    assert isinstance(model.optimizer, mixed_precision.LossScaleOptimizer)
    assert model.layers[1].kernel.dtype == np.float32
    assert full > 0.93 and mixed > 0.93
    assert abs(full - mixed) < 0.02, (full, mixed)
