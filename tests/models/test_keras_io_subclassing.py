"""Model subclasses as the keras-io guides write them ("Making new layers and models via
subclassing", "The Functional API", "Save, serialize, and export models"), with
``import gpuk as keras`` and small synthetic data; plus files of subclasses that Keras wrote
(tools/make_keras_fixtures_subclass.py)."""

import os

import numpy as np
import pytest

import gpuk as keras
from gpuk import ops

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures", "keras", "subclass")


class Linear(keras.layers.Layer):
    def __init__(self, units=32):
        super().__init__()
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(
            shape=(input_shape[-1], self.units),
            initializer="random_normal",
            trainable=True,
        )
        self.b = self.add_weight(shape=(self.units,), initializer="random_normal", trainable=True)

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b


class MLPBlock(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.linear_1 = Linear(32)
        self.linear_2 = Linear(32)
        self.linear_3 = Linear(1)

    def call(self, inputs):
        x = self.linear_1(inputs)
        x = keras.activations.relu(x)
        x = self.linear_2(x)
        x = keras.activations.relu(x)
        return self.linear_3(x)


def test_mlp_block_creates_weights_on_first_call():
    mlp = MLPBlock()
    y = mlp(np.ones(shape=(3, 64), dtype="float32"))  # The first call creates the weights
    assert len(mlp.weights) == 6
    assert len(mlp.trainable_weights) == 6
    assert tuple(y.shape) == (3, 1)


@keras.saving.register_keras_serializable()
class CustomModel(keras.Model):
    def __init__(self, hidden_units):
        super().__init__()
        self.hidden_units = hidden_units
        self.dense_layers = [keras.layers.Dense(u) for u in hidden_units]

    def call(self, inputs):
        x = inputs
        for layer in self.dense_layers:
            x = layer(x)
        return x

    def get_config(self):
        return {"hidden_units": self.hidden_units}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def test_save_guide_custom_model_roundtrips_through_keras_file(tmp_path):
    model = CustomModel([16, 16, 10])
    # Build the model by calling it
    input_arr = np.random.uniform(size=(1, 5)).astype("float32")
    outputs = model(input_arr)
    model.save(tmp_path / "custom_model.keras")

    # Option 1: Load with the custom_object argument.
    loaded_1 = keras.models.load_model(
        tmp_path / "custom_model.keras", custom_objects={"CustomModel": CustomModel}
    )
    # Option 2: Load without the CustomModel class (it is registered).
    loaded_2 = keras.models.load_model(tmp_path / "custom_model.keras")
    np.testing.assert_allclose(loaded_1(input_arr).numpy(), outputs.numpy(), rtol=1e-6)
    np.testing.assert_allclose(loaded_2(input_arr).numpy(), outputs.numpy(), rtol=1e-6)
    assert type(loaded_2) is CustomModel and loaded_2.hidden_units == [16, 16, 10]


def test_subclassed_model_build_summary_fit_and_weights_file(tmp_path, capsys, xp):
    model = CustomModel([8, 4])
    model.build((None, 5))
    assert model.built and len(model.weights) == 4
    model.summary()
    printed = capsys.readouterr().out
    assert "custom_model" in printed and "Total params: 84" in printed
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    rng = np.random.default_rng(0)
    x, y = rng.random((32, 5)).astype("float32"), rng.random((32, 4)).astype("float32")
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert sorted(history.history) == ["loss", "mae"]
    model.save_weights(tmp_path / "model.weights.h5")
    other = CustomModel([8, 4])
    other.build((None, 5))
    other.load_weights(tmp_path / "model.weights.h5")
    np.testing.assert_allclose(other.predict(x, verbose=0), model.predict(x, verbose=0))


def test_subclass_without_config_for_its_arguments_refuses_to_save_clearly(tmp_path):
    class NoConfig(keras.Model):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def call(self, x):
            return self.inner(x)

    model = NoConfig(keras.layers.Dense(2))
    model(np.ones((1, 3), "float32"))
    with pytest.raises(NotImplementedError, match="get_config"):
        model.save(tmp_path / "m.keras")


def test_subclass_with_its_own_build_saves_and_loads(tmp_path):
    @keras.saving.register_keras_serializable(package="tests")
    class OwnBuild(keras.Model):
        def __init__(self, units=3, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units), name="w")
            self.b = self.add_weight(shape=(self.units,), initializer="ones", name="b")

        def call(self, inputs):
            return ops.matmul(inputs, self.w) + self.b

    model = OwnBuild(units=2)
    model.build((None, 4))
    assert [tuple(v.shape) for v in model.weights] == [(4, 2), (2,)]
    x = np.random.default_rng(0).random((3, 4)).astype("float32")
    model.save(tmp_path / "own.keras")
    loaded = keras.models.load_model(tmp_path / "own.keras")
    np.testing.assert_allclose(loaded(x).numpy(), model(x).numpy(), rtol=1e-6)
    assert len(model.weights) == 2  # calling after build() does not build again


def test_subclassed_model_refuses_legacy_h5_like_keras(tmp_path):
    model = CustomModel([2])
    model(np.ones((1, 3), "float32"))
    with pytest.raises(NotImplementedError, match="Functional model or a Sequential model"):
        model.save(tmp_path / "m.h5")
    assert not (tmp_path / "m.h5").exists()


def test_plain_constructor_arguments_are_saved_by_auto_config(tmp_path):
    class Auto(keras.Model):
        def __init__(self, units=3, activation="relu", **kwargs):
            super().__init__(**kwargs)
            self.dense = keras.layers.Dense(units, activation=activation)

        def call(self, x):
            return self.dense(x)

    model = Auto(5, activation="tanh", name="auto")
    x = np.ones((2, 4), "float32")
    y = model(x).numpy()
    config = model.get_config()
    assert config == {"name": "auto", "trainable": True, "units": 5, "activation": "tanh"}
    model.save(tmp_path / "auto.keras")
    loaded = keras.models.load_model(tmp_path / "auto.keras", custom_objects={"Auto": Auto})
    assert loaded.get_config() == config
    np.testing.assert_allclose(loaded(x).numpy(), y, rtol=1e-6)


def test_functional_subclass_both_constructor_spellings(tmp_path, capsys):
    @keras.saving.register_keras_serializable(package="tests")
    class MyFunctional(keras.Model):
        pass

    inputs = keras.Input(shape=(5,), name="features")
    x = keras.layers.Dense(4, activation="relu")(inputs)
    outputs = keras.layers.Dense(1)(x)
    model = MyFunctional(inputs, outputs)
    assert isinstance(model, MyFunctional) and model.layers[0].name == "features"
    model.summary()
    assert "features" in capsys.readouterr().out
    model.compile("adam", "mse")
    data = np.random.default_rng(0).random((16, 5)).astype("float32")
    model.fit(data, data[:, :1], epochs=1, verbose=0)
    model.save(tmp_path / "sub.keras")
    loaded = keras.models.load_model(tmp_path / "sub.keras")
    assert type(loaded) is MyFunctional
    np.testing.assert_allclose(loaded.predict(data, verbose=0), model.predict(data, verbose=0))

    class Built(keras.Model):
        def __init__(self, units=3, **kwargs):
            inputs = keras.Input(shape=(5,))
            outputs = keras.layers.Dense(units)(inputs)
            super().__init__(inputs=inputs, outputs=outputs, **kwargs)
            self.units = units

    built = Built(units=4, name="built")
    assert built.output_shape == (None, 4) and built.name == "built"
    assert built.predict(data, verbose=0).shape == (16, 4)
    # saved by its constructor arguments (Keras 3's auto-config), rebuilt by calling it
    built.save(tmp_path / "built.keras")
    loaded = keras.models.load_model(tmp_path / "built.keras", custom_objects={"Built": Built})
    assert type(loaded) is Built and loaded.output_shape == (None, 4)
    np.testing.assert_allclose(loaded.predict(data, verbose=0), built.predict(data, verbose=0))

    class PassThrough(keras.Model):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.tracker = keras.metrics.Mean(name="t")

    through = PassThrough(inputs, outputs, name="through")
    through.save(tmp_path / "through.keras")
    again = keras.models.load_model(
        tmp_path / "through.keras", custom_objects={"PassThrough": PassThrough}
    )
    np.testing.assert_allclose(again.predict(data, verbose=0), through.predict(data, verbose=0))


def test_loads_keras_written_subclassed_model_and_weights():
    @keras.saving.register_keras_serializable(package="fixtures")
    class StackModel(keras.Model):
        def __init__(self, hidden_units, **kwargs):
            super().__init__(**kwargs)
            self.hidden_units = hidden_units
            self.dense_layers = [keras.layers.Dense(u, activation="tanh") for u in hidden_units]
            self.head = keras.layers.Dense(2)

        def call(self, inputs):
            x = inputs
            for layer in self.dense_layers:
                x = layer(x)
            return self.head(x)

        def get_config(self):
            return {"hidden_units": self.hidden_units}

    @keras.saving.register_keras_serializable(package="fixtures")
    class FunctionalSub(keras.Model):
        pass

    ref = np.load(os.path.join(FIXTURES, "reference.npz"))
    loaded = keras.models.load_model(os.path.join(FIXTURES, "stack.keras"))
    assert type(loaded) is StackModel
    np.testing.assert_allclose(loaded.predict(ref["x"], verbose=0), ref["stack"], atol=1e-6)
    assert loaded.optimizer is not None
    fresh = StackModel([8, 4])
    fresh(ref["x"])
    fresh.load_weights(os.path.join(FIXTURES, "stack.weights.h5"))
    np.testing.assert_allclose(fresh.predict(ref["x"], verbose=0), ref["stack"], atol=1e-6)
    functional = keras.models.load_model(os.path.join(FIXTURES, "functional_sub.keras"))
    assert type(functional) is FunctionalSub
    np.testing.assert_allclose(
        functional.predict(ref["x"], verbose=0), ref["functional"], atol=1e-6
    )


def test_input_with_trailing_one_is_adapted_as_keras_3_does(xp):
    inputs = keras.Input((28, 28, 1))
    outputs = keras.layers.Dense(2)(keras.layers.Flatten()(inputs))
    model = keras.Model(inputs, outputs)
    model.compile("sgd", "mse")
    images = np.random.default_rng(0).random((8, 28, 28)).astype("float32")
    with_channel = images[..., None]
    np.testing.assert_allclose(
        model.predict(images, verbose=0), model.predict(with_channel, verbose=0)
    )
    model.fit(images, np.zeros((8, 2)), epochs=1, verbose=0)
    # and the other way: data with an extra trailing 1
    flat_in = keras.Input((6,))
    flat_model = keras.Model(flat_in, keras.layers.Dense(1)(flat_in))
    assert flat_model.predict(np.ones((3, 6, 1)), verbose=0).shape == (3, 1)
    with pytest.raises(ValueError, match=r"expected shape \(None, 28, 28, 1\).*\(8, 28\)"):
        model.predict(images[:, 0], verbose=0)
