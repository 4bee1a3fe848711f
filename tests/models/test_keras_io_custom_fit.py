"""keras-io "Customizing what happens in fit()" (Keras 3 guide), run with ``import gpuk as keras``.

Model, compile, fit and evaluate code is the guide's; ``tf.GradientTape`` is
``keras.GradientTape`` and the data are small synthetic arrays. The GAN part uses Dense layers
instead of convolutions.
"""

import numpy as np
import pytest

import gpuk as keras
from gpuk import ops


@pytest.fixture
def xy():
    rng = np.random.default_rng(0)
    x = rng.random((256, 32)).astype("float32")
    y = (x @ rng.random((32, 1)) / 8.0).astype("float32")
    return x, y


def test_first_simple_example_compute_loss_and_metrics_loop(xy, xp):
    class CustomModel(keras.Model):
        def train_step(self, data):
            # Unpack the data. Its structure depends on your model and
            # on what you pass to `fit()`.
            x, y = data

            with keras.GradientTape() as tape:
                y_pred = self(x, training=True)  # Forward pass
                # Compute the loss value
                # (the loss function is configured in `compile()`)
                loss = self.compute_loss(y=y, y_pred=y_pred)

            # Compute gradients
            trainable_vars = self.trainable_variables
            gradients = tape.gradient(loss, trainable_vars)

            # Update weights
            self.optimizer.apply(gradients, trainable_vars)

            # Update metrics (includes the metric that tracks the loss)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)

            # Return a dict mapping metric names to current value
            return {m.name: m.result() for m in self.metrics}

    # Construct and compile an instance of CustomModel
    inputs = keras.Input(shape=(32,))
    outputs = keras.layers.Dense(1)(inputs)
    model = CustomModel(inputs, outputs)
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])

    # Just use `fit` as usual
    x, y = xy
    history = model.fit(x, y, epochs=3, verbose=0)
    assert sorted(history.history) == ["loss", "mae"]
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert isinstance(model, CustomModel) and isinstance(model, keras.Model)


def test_going_lower_level_own_trackers_without_compiled_loss(xy, xp):
    class CustomModel(keras.Model):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.loss_tracker = keras.metrics.Mean(name="loss")
            self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")
            self.loss_fn = keras.losses.MeanSquaredError()

        def train_step(self, data):
            x, y = data

            with keras.GradientTape() as tape:
                y_pred = self(x, training=True)  # Forward pass
                # Compute our own loss
                loss = self.loss_fn(y, y_pred)

            # Compute gradients
            trainable_vars = self.trainable_variables
            gradients = tape.gradient(loss, trainable_vars)

            # Update weights
            self.optimizer.apply(gradients, trainable_vars)

            # Compute our own metrics
            self.loss_tracker.update_state(loss)
            self.mae_metric.update_state(y, y_pred)
            return {
                "loss": self.loss_tracker.result(),
                "mae": self.mae_metric.result(),
            }

        @property
        def metrics(self):
            # We list our `Metric` objects here so that `reset_states()` can be
            # called automatically at the start of each epoch
            # or at the start of `evaluate()`.
            return [self.loss_tracker, self.mae_metric]

    # Construct an instance of CustomModel
    inputs = keras.Input(shape=(32,))
    outputs = keras.layers.Dense(1)(inputs)
    model = CustomModel(inputs, outputs)

    # We don't pass a loss or metrics here.
    model.compile(optimizer="adam")

    # Just use `fit` as usual -- you can use callbacks, etc.
    x, y = xy
    history = model.fit(x, y, epochs=5, verbose=0)
    assert sorted(history.history) == ["loss", "mae"]
    assert history.history["loss"][-1] < history.history["loss"][0]
    # The trackers are reset each epoch: the last epoch's loss is its own mean, which the
    # current weights beat or match.
    last_epoch_loss = history.history["loss"][-1]
    current = float(np.mean((model.predict(x, verbose=0) - y) ** 2))
    assert current <= last_epoch_loss * 1.05


def test_supporting_sample_weight(xy):
    class CustomModel(keras.Model):
        def train_step(self, data):
            # Unpack the data. Its structure depends on your model and
            # on what you pass to `fit()`.
            if len(data) == 3:
                x, y, sample_weight = data
            else:
                sample_weight = None
                x, y = data

            with keras.GradientTape() as tape:
                y_pred = self(x, training=True)  # Forward pass
                # Compute the loss value.
                # The loss function is configured in `compile()`.
                loss = self.compute_loss(
                    y=y,
                    y_pred=y_pred,
                    sample_weight=sample_weight,
                )

            # Compute gradients
            trainable_vars = self.trainable_variables
            gradients = tape.gradient(loss, trainable_vars)

            # Update weights
            self.optimizer.apply(gradients, trainable_vars)

            # Update the metrics.
            # Metrics are configured in `compile()`.
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred, sample_weight=sample_weight)

            # Return a dict mapping metric names to current value.
            # Note that it will include the loss (tracked in self.metrics).
            return {m.name: m.result() for m in self.metrics}

    # Construct and compile an instance of CustomModel
    inputs = keras.Input(shape=(32,))
    outputs = keras.layers.Dense(1)(inputs)
    model = CustomModel(inputs, outputs)
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])

    # You can now use sample_weight argument
    x, y = xy
    sw = np.random.default_rng(1).random((len(x), 1)).astype("float32")
    seen = []
    original = CustomModel.train_step

    def spy(self, data):
        seen.append(len(data))
        return original(self, data)

    CustomModel.train_step = spy
    history = model.fit(x, y, sample_weight=sw, epochs=3, verbose=0)
    assert set(seen) == {3}
    assert sorted(history.history) == ["loss", "mae"]


def test_providing_your_own_evaluation_step(xy):
    class CustomModel(keras.Model):
        def test_step(self, data):
            # Unpack the data
            x, y = data
            # Compute predictions
            y_pred = self(x, training=False)
            # Updates the metrics tracking the loss
            loss = self.compute_loss(y=y, y_pred=y_pred)
            # Update the metrics.
            for metric in self.metrics:
                if metric.name != "loss":
                    metric.update_state(y, y_pred)
                else:
                    metric.update_state(loss)
            # Return a dict mapping metric names to current value.
            # Note that it will include the loss (tracked in self.metrics).
            return {m.name: m.result() for m in self.metrics}

    # Construct an instance of CustomModel
    inputs = keras.Input(shape=(32,))
    outputs = keras.layers.Dense(1)(inputs)
    model = CustomModel(inputs, outputs)
    model.compile(loss="mse", metrics=["mae"])

    # Evaluate with our custom test_step
    x, y = xy
    results = model.evaluate(x, y, verbose=0, return_dict=True)
    pred = model.predict(x, verbose=0)
    assert sorted(results) == ["loss", "mae"]
    assert results["loss"] == pytest.approx(float(np.mean((pred - y) ** 2)), rel=1e-4)
    assert results["mae"] == pytest.approx(float(np.mean(np.abs(pred - y))), rel=1e-4)
    assert model.evaluate(x, y, verbose=0) == pytest.approx([results["loss"], results["mae"]])


def test_test_step_override_is_used_by_validation_inside_fit(xy):
    calls = []

    class CustomModel(keras.Model):
        def test_step(self, data):
            calls.append(1)
            return super().test_step(data)

    inputs = keras.Input(shape=(32,))
    model = CustomModel(inputs, keras.layers.Dense(1)(inputs))
    model.compile("sgd", "mse")
    x, y = xy
    history = model.fit(x, y, batch_size=64, validation_split=0.25, epochs=2, verbose=0)
    assert len(calls) == 2 and "val_loss" in history.history


def _random_normal(shape):
    """Stands in for ``keras.random.normal`` (gpuk.random comes with another branch)."""
    return keras.Tensor(np.random.default_rng(len(shape)).normal(size=shape).astype("float32"))


def _ones(shape):
    return keras.Tensor(np.ones(shape, "float32"))  # ops.ones, from another branch


def _zeros(shape):
    return keras.Tensor(np.zeros(shape, "float32"))


def test_end_to_end_gan_with_dense_layers(xp):
    latent_dim = 8
    discriminator = keras.Sequential(
        [
            keras.Input(shape=(16,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(1),
        ],
        name="discriminator",
    )
    generator = keras.Sequential(
        [keras.Input(shape=(latent_dim,)), keras.layers.Dense(16, activation="relu"),
         keras.layers.Dense(16, activation="sigmoid")],
        name="generator",
    )  # fmt: skip

    class GAN(keras.Model):
        def __init__(self, discriminator, generator, latent_dim):
            super().__init__()
            self.discriminator = discriminator
            self.generator = generator
            self.latent_dim = latent_dim
            self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
            self.g_loss_tracker = keras.metrics.Mean(name="g_loss")

        @property
        def metrics(self):
            return [self.d_loss_tracker, self.g_loss_tracker]

        def compile(self, d_optimizer, g_optimizer, loss_fn):
            super().compile()
            self.d_optimizer = d_optimizer
            self.g_optimizer = g_optimizer
            self.loss_fn = loss_fn

        def train_step(self, real_images):
            # Sample random points in the latent space
            batch_size = real_images.shape[0]
            random_latent_vectors = _random_normal((batch_size, self.latent_dim))

            # Decode them to fake images
            generated_images = self.generator(random_latent_vectors)

            # Combine them with real images
            combined_images = ops.concatenate([generated_images, real_images], axis=0)

            # Assemble labels discriminating real from fake images
            labels = ops.concatenate(
                [_ones((batch_size, 1)), _zeros((real_images.shape[0], 1))], axis=0
            )

            # Train the discriminator
            with keras.GradientTape() as tape:
                predictions = self.discriminator(combined_images)
                d_loss = self.loss_fn(labels, predictions)
            grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
            self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))

            # Sample random points in the latent space
            random_latent_vectors = _random_normal((batch_size, self.latent_dim))

            # Assemble labels that say "all real images"
            misleading_labels = _zeros((batch_size, 1))

            # Train the generator (note that we should *not* update the weights
            # of the discriminator)!
            with keras.GradientTape() as tape:
                predictions = self.discriminator(self.generator(random_latent_vectors))
                g_loss = self.loss_fn(misleading_labels, predictions)
            grads = tape.gradient(g_loss, self.generator.trainable_weights)
            self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))

            # Update metrics and return their value.
            self.d_loss_tracker.update_state(d_loss)
            self.g_loss_tracker.update_state(g_loss)
            return {
                "d_loss": self.d_loss_tracker.result(),
                "g_loss": self.g_loss_tracker.result(),
            }

    gan = GAN(discriminator=discriminator, generator=generator, latent_dim=latent_dim)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(learning_rate=0.0003),
        g_optimizer=keras.optimizers.Adam(learning_rate=0.0003),
        loss_fn=keras.losses.BinaryCrossentropy(from_logits=True),
    )
    before_d = [w.copy() for w in discriminator.get_weights()]
    before_g = [w.copy() for w in generator.get_weights()]
    images = np.random.default_rng(0).random((64, 16)).astype("float32")
    history = gan.fit(images, epochs=2, batch_size=16, verbose=0)
    assert sorted(history.history) == ["d_loss", "g_loss"]
    assert all(np.isfinite(v) for v in history.history["d_loss"] + history.history["g_loss"])
    assert not any(np.allclose(a, b) for a, b in zip(before_d, discriminator.get_weights()))
    assert not any(np.allclose(a, b) for a, b in zip(before_g, generator.get_weights()))
    # 'd_loss'/'g_loss' trackers are found on the model as its metrics, and reset each epoch
    assert [m.name for m in gan.metrics] == ["d_loss", "g_loss"]


def test_tf_keras2_style_compiled_loss_and_compiled_metrics(xy):
    class CustomModel(keras.Model):
        def train_step(self, data):
            x, y = data
            with keras.GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = self.compiled_loss(y, y_pred, regularization_losses=self.losses)
            trainable_vars = self.trainable_variables
            gradients = tape.gradient(loss, trainable_vars)
            self.optimizer.apply_gradients(zip(gradients, trainable_vars))
            self.compiled_metrics.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    inputs = keras.Input(shape=(32,))
    outputs = keras.layers.Dense(1)(inputs)
    model = CustomModel(inputs, outputs)
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    x, y = xy
    history = model.fit(x, y, epochs=3, verbose=0)
    assert sorted(history.history) == ["loss", "mae"]
    assert history.history["loss"][-1] < history.history["loss"][0]
