"""keras-io examples trained through ``add_loss`` and layer-owned metrics, with
``import gpuk as keras``: the endpoint layer and activity-regularization layer of "Training &
evaluation with the built-in methods", the VAE of "Making new layers and models via
subclassing" and the keras-io VAE example (Dense instead of convolutions). Data are small
synthetic arrays; ``keras.random.normal`` is stood in for by NumPy noise.
"""

import numpy as np
import pytest

import gpuk as keras
from gpuk import layers, ops


def _normal(shape):
    return keras.Tensor(np.random.default_rng(0).normal(size=shape).astype("float32"))


class LogisticEndpoint(keras.layers.Layer):
    def __init__(self, name=None):
        super().__init__(name=name)
        self.loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)
        self.accuracy_fn = keras.metrics.BinaryAccuracy()

    def call(self, targets, logits, sample_weights=None):
        # Compute the training-time loss value and add it
        # to the layer using `self.add_loss()`.
        loss = self.loss_fn(targets, logits, sample_weights)
        self.add_loss(loss)

        # Log accuracy as a metric and add it
        # to the layer using `self.add_metric()`.
        self.accuracy_fn.update_state(targets, logits, sample_weights)

        # Return the inference-time prediction tensor (for `.predict()`).
        return ops.softmax(logits)


def endpoint_model():
    inputs = keras.Input(shape=(3,), name="inputs")
    targets = keras.Input(shape=(10,), name="targets")
    logits = keras.layers.Dense(10)(inputs)
    predictions = LogisticEndpoint(name="predictions")(targets, logits)

    model = keras.Model(inputs=[inputs, targets], outputs=predictions)
    model.compile(optimizer="adam")  # No loss argument!
    return model


def test_endpoint_layer_trains_from_add_loss_and_logs_its_metric():
    model = endpoint_model()
    data = {
        "inputs": np.random.random((3, 3)),
        "targets": np.random.random((3, 10)),
    }
    history = model.fit(data, verbose=0)
    assert sorted(history.history) == ["binary_accuracy", "loss"]
    # the logged loss is the layer's loss on the batch, before the update
    assert history.history["loss"][0] > 0


def test_endpoint_layer_loss_goes_down_and_metric_matches_keras_definition(xp):
    keras.utils.set_random_seed(0)
    model = endpoint_model()
    rng = np.random.default_rng(0)
    x = rng.random((64, 3)).astype("float32")
    t = (rng.random((64, 10)) > 0.5).astype("float32")
    history = model.fit({"inputs": x, "targets": t}, epochs=5, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    dense = next(la for la in model.layers if isinstance(la, layers.Dense))
    logits = dense.get_weights()
    z = x @ logits[0] + logits[1]
    expected_acc = np.mean((z > 0.5) == (t > 0.5))  # BinaryAccuracy on the logits, as written
    result = model.evaluate({"inputs": x, "targets": t}, verbose=0, return_dict=True)
    assert sorted(result) == ["binary_accuracy", "loss"]
    assert result["binary_accuracy"] == pytest.approx(expected_acc, abs=1e-6)
    # the layer's metric state was untouched by shape inference when the model was defined
    fresh = endpoint_model()
    assert float(fresh.get_layer("predictions").accuracy_fn.result()) == 0.0


def test_endpoint_layer_with_generator_and_pydataset_without_targets():
    model = endpoint_model()
    rng = np.random.default_rng(1)

    def batches():
        while True:
            yield {"inputs": rng.random((4, 3)), "targets": rng.random((4, 10))}

    history = model.fit(batches(), steps_per_epoch=3, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2

    class Data(keras.utils.PyDataset):
        def __len__(self):
            return 2

        def __getitem__(self, index):
            return ({"inputs": rng.random((4, 3)), "targets": rng.random((4, 10))},)

    history = model.fit(Data(), epochs=1, verbose=0)
    assert sorted(history.history) == ["binary_accuracy", "loss"]


class ActivityRegularizationLayer(layers.Layer):
    def call(self, inputs):
        self.add_loss(ops.sum(inputs) * 0.1)
        return inputs  # Pass-through layer.


def test_activity_regularization_layer_adds_to_the_compiled_loss():
    inputs = keras.Input(shape=(784,), name="digits")
    x = layers.Dense(64, activation="relu", name="dense_1")(inputs)

    # Insert activity regularization as a layer
    x = ActivityRegularizationLayer()(x)

    x = layers.Dense(64, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(10, name="predictions")(x)

    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    rng = np.random.default_rng(0)
    x_train = rng.random((64, 784)).astype("float32")
    y_train = rng.integers(0, 10, 64)
    # The displayed loss will be much higher than before
    # due to the regularization component.
    model.fit(x_train, y_train, batch_size=64, epochs=1, verbose=0)
    logits = model.predict(x_train, verbose=0)
    plain = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(y_train, logits)
    hidden = keras.Model(inputs, model.get_layer("dense_1").output).predict(x_train, verbose=0)
    expected = float(plain) + 0.1 * float(hidden.sum())
    assert model.evaluate(x_train, y_train, batch_size=64, verbose=0) == pytest.approx(
        expected, rel=1e-4
    )


class Sampling(layers.Layer):
    """Uses (z_mean, z_log_var) to sample z, the vector encoding a digit."""

    def call(self, inputs):
        z_mean, z_log_var = inputs
        batch = z_mean.shape[0]
        dim = z_mean.shape[1]
        epsilon = _normal((batch, dim))
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon


class Encoder(layers.Layer):
    """Maps MNIST digits to a triplet (z_mean, z_log_var, z)."""

    def __init__(self, latent_dim=32, intermediate_dim=64, name="encoder", **kwargs):
        super().__init__(name=name, **kwargs)
        self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
        self.dense_mean = layers.Dense(latent_dim)
        self.dense_log_var = layers.Dense(latent_dim)
        self.sampling = Sampling()

    def call(self, inputs):
        x = self.dense_proj(inputs)
        z_mean = self.dense_mean(x)
        z_log_var = self.dense_log_var(x)
        z = self.sampling((z_mean, z_log_var))
        return z_mean, z_log_var, z


class Decoder(layers.Layer):
    """Converts z, the encoded digit vector, back into a readable digit."""

    def __init__(self, original_dim, intermediate_dim=64, name="decoder", **kwargs):
        super().__init__(name=name, **kwargs)
        self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
        self.dense_output = layers.Dense(original_dim, activation="sigmoid")

    def call(self, inputs):
        x = self.dense_proj(inputs)
        return self.dense_output(x)


class VariationalAutoEncoder(keras.Model):
    """Combines the encoder and decoder into an end-to-end model for training."""

    def __init__(
        self,
        original_dim,
        intermediate_dim=64,
        latent_dim=32,
        name="autoencoder",
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        self.original_dim = original_dim
        self.encoder = Encoder(latent_dim=latent_dim, intermediate_dim=intermediate_dim)
        self.decoder = Decoder(original_dim, intermediate_dim=intermediate_dim)

    def call(self, inputs):
        z_mean, z_log_var, z = self.encoder(inputs)
        reconstructed = self.decoder(z)
        # Add KL divergence regularization loss.
        kl_loss = -0.5 * ops.mean(z_log_var - ops.square(z_mean) - ops.exp(z_log_var) + 1)
        self.add_loss(kl_loss)
        return reconstructed


def test_subclassing_guide_vae_with_add_loss_in_call():
    x_train = np.random.default_rng(0).random((128, 784)).astype("float32")
    original_dim = 784
    vae = VariationalAutoEncoder(784, 64, 32)

    optimizer = keras.optimizers.Adam(learning_rate=1e-3)
    vae.compile(optimizer, loss=keras.losses.MeanSquaredError())

    history = vae.fit(x_train, x_train, epochs=2, batch_size=64, verbose=0)
    assert sorted(history.history) == ["loss"]
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert len(vae.losses) == 1  # the KL term of the last call
    assert original_dim == vae.original_dim


def test_keras_io_vae_example_custom_train_step_fit_without_targets(xp):
    latent_dim = 2
    encoder_inputs = keras.Input(shape=(8, 8, 1))
    x = layers.Flatten()(encoder_inputs)
    x = layers.Dense(16, activation="relu")(x)
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
    z = Sampling()([z_mean, z_log_var])
    encoder = keras.Model(encoder_inputs, [z_mean, z_log_var, z], name="encoder")

    latent_inputs = keras.Input(shape=(latent_dim,))
    x = layers.Dense(16, activation="relu")(latent_inputs)
    x = layers.Dense(64, activation="sigmoid")(x)
    decoder_outputs = layers.Reshape((8, 8, 1))(x)
    decoder = keras.Model(latent_inputs, decoder_outputs, name="decoder")

    class VAE(keras.Model):
        def __init__(self, encoder, decoder, **kwargs):
            super().__init__(**kwargs)
            self.encoder = encoder
            self.decoder = decoder
            self.total_loss_tracker = keras.metrics.Mean(name="total_loss")
            self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
            self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")

        @property
        def metrics(self):
            return [
                self.total_loss_tracker,
                self.reconstruction_loss_tracker,
                self.kl_loss_tracker,
            ]

        def train_step(self, data):
            with keras.GradientTape() as tape:
                z_mean, z_log_var, z = self.encoder(data)
                reconstruction = self.decoder(z)
                reconstruction_loss = ops.mean(
                    ops.sum(
                        keras.losses.binary_crossentropy(data, reconstruction),
                        axis=(1, 2),
                    )
                )
                kl_loss = -0.5 * (1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))
                kl_loss = ops.mean(ops.sum(kl_loss, axis=1))
                total_loss = reconstruction_loss + kl_loss
            grads = tape.gradient(total_loss, self.trainable_weights)
            self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
            self.total_loss_tracker.update_state(total_loss)
            self.reconstruction_loss_tracker.update_state(reconstruction_loss)
            self.kl_loss_tracker.update_state(kl_loss)
            return {
                "loss": self.total_loss_tracker.result(),
                "reconstruction_loss": self.reconstruction_loss_tracker.result(),
                "kl_loss": self.kl_loss_tracker.result(),
            }

    mnist_digits = (np.random.default_rng(0).random((96, 8, 8, 1)) > 0.7).astype("float32")
    vae = VAE(encoder, decoder)
    vae.compile(optimizer=keras.optimizers.Adam())
    history = vae.fit(mnist_digits, epochs=3, batch_size=32, verbose=0)
    assert sorted(history.history) == ["kl_loss", "loss", "reconstruction_loss"]
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert len(vae.trainable_weights) == len(encoder.trainable_weights) + len(
        decoder.trainable_weights
    )


def test_model_add_loss_alone_with_fit_x_only(xp):
    class Autoencoder(keras.Model):
        def __init__(self):
            super().__init__()
            self.encode = layers.Dense(4, activation="relu")
            self.decode = layers.Dense(8)

        def call(self, inputs):
            reconstruction = self.decode(self.encode(inputs))
            self.add_loss(ops.mean(ops.square(reconstruction - inputs)))
            return reconstruction

    model = Autoencoder()
    model.compile(optimizer=keras.optimizers.Adam(0.01))
    x = np.random.default_rng(0).random((64, 8)).astype("float32")
    history = model.fit(x, epochs=4, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    evaluated = model.evaluate(x, verbose=0)
    expected = float(np.mean((model.predict(x, verbose=0) - x) ** 2))
    assert evaluated == pytest.approx(expected, rel=1e-4)


def test_compile_without_loss_and_nothing_to_minimise_says_so():
    inputs = keras.Input((3,))
    model = keras.Model(inputs, layers.Dense(1)(inputs))
    model.compile("sgd")
    with pytest.raises(ValueError, match="No loss to compute"):
        model.fit(np.zeros((4, 3)), np.zeros((4, 1)), verbose=0)


def test_endpoint_layer_pattern_recipe_training_and_inference_models():
    """keras-io recipe "Endpoint layer pattern" (764 features reduced to 16)."""

    class LogisticEndpoint(keras.layers.Layer):
        def __init__(self, name=None):
            super().__init__(name=name)
            self.loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)

        def call(self, logits, targets=None, sample_weight=None):
            if targets is not None:
                # Compute the training-time loss value and add it
                # to the layer using `self.add_loss()`.
                loss = self.loss_fn(targets, logits, sample_weight)
                self.add_loss(loss)

            # Return the inference-time prediction tensor (for `.predict()`).
            return ops.softmax(logits)

    inputs = keras.Input((16,), name="inputs")
    logits = keras.layers.Dense(1)(inputs)
    targets = keras.Input((1,), name="targets")
    sample_weight = keras.Input((1,), name="sample_weight")
    preds = LogisticEndpoint()(logits, targets, sample_weight)
    training_model = keras.Model([inputs, targets, sample_weight], preds)

    data = {
        "inputs": np.random.random((100, 16)),
        "targets": np.random.random((100, 1)),
        "sample_weight": np.random.random((100, 1)),
    }

    training_model.compile(keras.optimizers.Adam(1e-3))
    history = training_model.fit(data, epochs=2, verbose=0)
    assert sorted(history.history) == ["loss"]

    inputs = keras.Input((16,), name="inputs")
    logits = keras.layers.Dense(1)(inputs)
    preds = LogisticEndpoint()(logits, targets=None, sample_weight=None)
    inference_model = keras.Model(inputs, preds)

    inference_model.set_weights(training_model.get_weights()[:2])

    probs = inference_model.predict(np.random.random((100, 16)), verbose=0)
    assert probs.shape == (100, 1)
