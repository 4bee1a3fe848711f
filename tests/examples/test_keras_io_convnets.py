"""keras-io convnet examples run with ``import gpuk as keras``: the model, compile, fit and
evaluate code is verbatim; the data sets are replaced by small synthetic arrays of the same
shapes and the epoch counts are cut so each test takes a few seconds."""

import os

import numpy as np
import pytest

import gpuk as keras
from gpuk import layers


def test_mnist_convnet(capsys):
    # https://keras.io/examples/vision/mnist_convnet/
    num_classes = 10
    input_shape = (28, 28, 1)
    rng = np.random.default_rng(0)
    # synthetic stand-in for keras.datasets.mnist.load_data(): class k lights up row block k
    y_train = rng.integers(0, num_classes, 160)
    y_test = rng.integers(0, num_classes, 40)

    def images(labels):
        x = rng.integers(0, 60, (len(labels), 28, 28)).astype("uint8")
        for i, k in enumerate(labels):
            x[i, 2 * k + 4 : 2 * k + 7, 4:24] = 255
        return x

    x_train, x_test = images(y_train), images(y_test)

    # Scale images to the [0, 1] range
    x_train = x_train.astype("float32") / 255
    x_test = x_test.astype("float32") / 255
    # Make sure images have shape (28, 28, 1)
    x_train = np.expand_dims(x_train, -1)
    x_test = np.expand_dims(x_test, -1)
    print("x_train shape:", x_train.shape)
    print(x_train.shape[0], "train samples")
    print(x_test.shape[0], "test samples")

    # convert class vectors to binary class matrices
    y_train = keras.utils.to_categorical(y_train, num_classes)
    y_test = keras.utils.to_categorical(y_test, num_classes)

    model = keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(num_classes, activation="softmax"),
        ]
    )

    model.summary()

    batch_size = 128
    epochs = 3  # keras-io: 15

    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])

    history = model.fit(
        x_train, y_train, batch_size=batch_size, epochs=epochs, validation_split=0.1
    )

    score = model.evaluate(x_test, y_test, verbose=0)
    print("Test loss:", score[0])
    print("Test accuracy:", score[1])

    out = capsys.readouterr().out
    assert "conv2d" in out and "(None, 26, 26, 32)" in out and "(None, 5, 5, 64)" in out
    assert model.count_params() == 34826  # keras-io's summary: Total params: 34,826
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert np.isfinite(score[0]) and 0 <= score[1] <= 1


@pytest.mark.skipif(
    not (hasattr(keras.layers, "BatchNormalization") and hasattr(keras.layers, "ReLU")),
    reason="BatchNormalization/ReLU layers come from the normalization branch (issue 12)",
)
def test_timeseries_classification_from_scratch(tmp_path, monkeypatch):
    # https://keras.io/examples/timeseries/timeseries_classification_from_scratch/
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(1)

    def readucr(n):
        # synthetic stand-in for FordA: class +1 has a bump, class -1 does not
        y = rng.choice([-1, 1], n)
        x = rng.normal(size=(n, 500)) * 0.3
        x[y == 1, 200:260] += 1.0
        return x, y

    x_train, y_train = readucr(48)
    x_test, y_test = readucr(16)

    x_train = x_train.reshape((x_train.shape[0], x_train.shape[1], 1))
    x_test = x_test.reshape((x_test.shape[0], x_test.shape[1], 1))

    num_classes = len(np.unique(y_train))

    idx = np.random.permutation(len(x_train))
    x_train = x_train[idx]
    y_train = y_train[idx]

    y_train[y_train == -1] = 0
    y_test[y_test == -1] = 0

    def make_model(input_shape):
        input_layer = keras.layers.Input(input_shape)

        conv1 = keras.layers.Conv1D(filters=64, kernel_size=3, padding="same")(input_layer)
        conv1 = keras.layers.BatchNormalization()(conv1)
        conv1 = keras.layers.ReLU()(conv1)

        conv2 = keras.layers.Conv1D(filters=64, kernel_size=3, padding="same")(conv1)
        conv2 = keras.layers.BatchNormalization()(conv2)
        conv2 = keras.layers.ReLU()(conv2)

        conv3 = keras.layers.Conv1D(filters=64, kernel_size=3, padding="same")(conv2)
        conv3 = keras.layers.BatchNormalization()(conv3)
        conv3 = keras.layers.ReLU()(conv3)

        gap = keras.layers.GlobalAveragePooling1D()(conv3)

        output_layer = keras.layers.Dense(num_classes, activation="softmax")(gap)

        return keras.models.Model(inputs=input_layer, outputs=output_layer)

    model = make_model(input_shape=x_train.shape[1:])

    epochs = 2  # keras-io: 500
    batch_size = 32

    callbacks = [
        keras.callbacks.ModelCheckpoint(
            "best_model.keras", save_best_only=True, monitor="val_loss"
        ),
        keras.callbacks.ReduceLROnPlateau(
            monitor="val_loss", factor=0.5, patience=20, min_lr=0.0001
        ),
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=50, verbose=1),
    ]
    model.compile(
        optimizer="adam",
        loss="sparse_categorical_crossentropy",
        metrics=["sparse_categorical_accuracy"],
    )
    history = model.fit(
        x_train,
        y_train,
        batch_size=batch_size,
        epochs=epochs,
        callbacks=callbacks,
        validation_split=0.2,
        verbose=1,
    )

    model = keras.models.load_model("best_model.keras")

    test_loss, test_acc = model.evaluate(x_test, y_test)

    print("Test accuracy", test_acc)
    print("Test loss", test_loss)

    assert os.path.exists("best_model.keras")
    assert "sparse_categorical_accuracy" in history.history
    assert "val_loss" in history.history and np.isfinite(test_loss)
    assert 0 <= test_acc <= 1


def test_convolutional_autoencoder():
    # https://keras.io/examples/vision/autoencoder/ (Conv2DTranspose decoder)
    from gpuk.models import Model

    rng = np.random.default_rng(2)
    train_data = (rng.uniform(size=(64, 28, 28, 1)) > 0.8).astype("float32")
    test_data = (rng.uniform(size=(16, 28, 28, 1)) > 0.8).astype("float32")

    input = layers.Input(shape=(28, 28, 1))

    # Encoder
    x = layers.Conv2D(32, (3, 3), activation="relu", padding="same")(input)
    x = layers.MaxPooling2D((2, 2), padding="same")(x)
    x = layers.Conv2D(32, (3, 3), activation="relu", padding="same")(x)
    x = layers.MaxPooling2D((2, 2), padding="same")(x)

    # Decoder
    x = layers.Conv2DTranspose(32, (3, 3), strides=2, activation="relu", padding="same")(x)
    x = layers.Conv2DTranspose(32, (3, 3), strides=2, activation="relu", padding="same")(x)
    x = layers.Conv2D(1, (3, 3), activation="sigmoid", padding="same")(x)

    # Autoencoder
    autoencoder = Model(input, x)
    autoencoder.compile(optimizer="adam", loss="binary_crossentropy")
    autoencoder.summary()

    history = autoencoder.fit(
        x=train_data,
        y=train_data,
        epochs=3,  # keras-io: 50
        batch_size=128,
        shuffle=True,
        validation_data=(test_data, test_data),
    )
    predictions = autoencoder.predict(test_data)

    assert predictions.shape == (16, 28, 28, 1)
    assert autoencoder.count_params() == 28353  # keras-io's summary: Total params: 28,353
    assert history.history["loss"][-1] < history.history["loss"][0]
