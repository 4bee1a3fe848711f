"""keras-io examples that load their data with keras.utils, with gpuk swapped in: the data are
small generated folders and arrays, the model/compile/fit/evaluate code is the example's.

- "Timeseries forecasting for weather prediction" (timeseries_dataset_from_array + LSTM);
- "Image classification from scratch" (image_dataset_from_directory + augmentation + convnet);
- "Text classification from scratch" (text_dataset_from_directory + TextVectorization).
The last two run once the layers they use exist in gpuk (convolution, augmentation, text
vectorization) and skip with that reason until then.
"""

import os

import numpy as np
import pytest

import gpuk as keras
from gpuk import layers
from tests.utils.folder_trees import make_image_tree, make_text_tree


def _needs(*names):
    missing = [n for n in names if not hasattr(layers, n)]
    return pytest.mark.skipif(bool(missing), reason=f"gpuk.layers lacks {missing} so far")


def test_weather_forecasting_timeseries(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rng = np.random.RandomState(0)
    features = rng.normal(size=(600, 7)).astype("float32")
    split_fraction = 0.715
    train_split = int(split_fraction * int(features.shape[0]))
    step = 6
    past = 72
    future = 12
    learning_rate = 0.001
    batch_size = 256
    epochs = 2
    train_data = features[0 : train_split - 1]
    val_data = features[train_split:]
    start = past + future
    end = start + train_split
    x_train = train_data[:, :7]
    y_train = features[start:end][:, 1]
    sequence_length = int(past / step)
    # --- the example's code from here ---
    dataset_train = keras.preprocessing.timeseries_dataset_from_array(
        x_train,
        y_train,
        sequence_length=sequence_length,
        sampling_rate=step,
        batch_size=batch_size,
    )
    x_end = len(val_data) - past - future
    label_start = train_split + past + future
    x_val = val_data[:x_end][:, :7]
    y_val = features[label_start:][:, 1]
    dataset_val = keras.preprocessing.timeseries_dataset_from_array(
        x_val,
        y_val,
        sequence_length=sequence_length,
        sampling_rate=step,
        batch_size=batch_size,
    )
    for batch in dataset_train.take(1):
        inputs, targets = batch
    print("Input shape:", inputs.numpy().shape)
    print("Target shape:", targets.numpy().shape)
    inputs = keras.layers.Input(shape=(inputs.shape[1], inputs.shape[2]))
    lstm_out = keras.layers.LSTM(32)(inputs)
    outputs = keras.layers.Dense(1)(lstm_out)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate), loss="mse")
    model.summary()
    path_checkpoint = "model_checkpoint.weights.h5"
    es_callback = keras.callbacks.EarlyStopping(monitor="val_loss", min_delta=0, patience=5)
    modelckpt_callback = keras.callbacks.ModelCheckpoint(
        monitor="val_loss",
        filepath=path_checkpoint,
        verbose=1,
        save_weights_only=True,
        save_best_only=True,
    )
    history = model.fit(
        dataset_train,
        epochs=epochs,
        validation_data=dataset_val,
        callbacks=[es_callback, modelckpt_callback],
    )
    for x, y in dataset_val.take(2):  # noqa: B007 - the example's loop
        prediction = model.predict(x)
    # --- end of the example's code ---
    assert sorted(history.history) == ["loss", "val_loss"]
    assert os.path.exists(path_checkpoint)
    assert prediction.shape == (x.shape[0], 1)
    assert inputs.shape == (None, sequence_length, 7)


@_needs("Conv2D", "RandomFlip", "RandomRotation", "Rescaling", "SeparableConv2D")
def test_image_classification_from_scratch(tmp_path):
    root = make_image_tree(str(tmp_path / "PetImages"))
    image_size = (32, 32)
    batch_size = 4
    train_ds, val_ds = keras.utils.image_dataset_from_directory(
        root,
        validation_split=0.2,
        subset="both",
        seed=1337,
        image_size=image_size,
        batch_size=batch_size,
    )
    data_augmentation_layers = [
        layers.RandomFlip("horizontal"),
        layers.RandomRotation(0.1),
    ]

    def data_augmentation(images):
        for layer in data_augmentation_layers:
            images = layer(images)
        return images

    train_ds = train_ds.map(
        lambda img, label: (data_augmentation(img), label),
        num_parallel_calls=None,
    )
    train_ds = train_ds.prefetch(None)
    val_ds = val_ds.prefetch(None)

    def make_model(input_shape, num_classes):
        inputs = keras.Input(shape=input_shape)
        x = layers.Rescaling(1.0 / 255)(inputs)
        x = layers.Conv2D(8, 3, strides=2, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        previous_block_activation = x
        for size in [16]:
            x = layers.Activation("relu")(x)
            x = layers.SeparableConv2D(size, 3, padding="same")(x)
            x = layers.BatchNormalization()(x)
            x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
            residual = layers.Conv2D(size, 1, strides=2, padding="same")(previous_block_activation)
            x = layers.add([x, residual])
            previous_block_activation = x
        x = layers.GlobalAveragePooling2D()(x)
        if num_classes == 2:
            units = 1
        else:
            units = num_classes
        x = layers.Dropout(0.25)(x)
        outputs = layers.Dense(units, activation=None)(x)
        return keras.Model(inputs, outputs)

    model = make_model(input_shape=image_size + (3,), num_classes=2)
    model.compile(
        optimizer=keras.optimizers.Adam(3e-4),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[keras.metrics.BinaryAccuracy(name="acc")],
    )
    history = model.fit(train_ds, epochs=2, validation_data=val_ds)
    img = keras.utils.load_img(os.path.join(root, "cat", "cat_00.png"), target_size=image_size)
    img_array = keras.utils.img_to_array(img)
    img_array = keras.ops.expand_dims(img_array, 0)
    predictions = model.predict(img_array)
    assert sorted(history.history) == ["acc", "loss", "val_acc", "val_loss"]
    assert predictions.shape == (1, 1)


@_needs("TextVectorization", "Embedding", "Conv1D", "GlobalMaxPooling1D")
def test_text_classification_from_scratch(tmp_path):
    root = make_text_tree(str(tmp_path / "aclImdb"))
    batch_size = 4
    raw_train_ds = keras.utils.text_dataset_from_directory(
        root, batch_size=batch_size, validation_split=0.2, subset="training", seed=1337
    )
    raw_val_ds = keras.utils.text_dataset_from_directory(
        root, batch_size=batch_size, validation_split=0.2, subset="validation", seed=1337
    )
    for text_batch, label_batch in raw_train_ds.take(1):
        for i in range(2):
            print(text_batch.numpy()[i])
            print(label_batch.numpy()[i])
    max_features = 50
    embedding_dim = 8
    sequence_length = 10
    vectorize_layer = keras.layers.TextVectorization(
        max_tokens=max_features,
        output_mode="int",
        output_sequence_length=sequence_length,
    )
    text_ds = raw_train_ds.map(lambda x, y: x)
    vectorize_layer.adapt(text_ds)

    def vectorize_text(text, label):
        text = keras.ops.expand_dims(text, -1)
        return vectorize_layer(text), label

    train_ds = raw_train_ds.map(vectorize_text)
    val_ds = raw_val_ds.map(vectorize_text)
    inputs = keras.Input(shape=(None,), dtype="int64")
    x = layers.Embedding(max_features, embedding_dim)(inputs)
    x = layers.Dropout(0.5)(x)
    x = layers.Conv1D(8, 3, padding="valid", activation="relu", strides=1)(x)
    x = layers.GlobalMaxPooling1D()(x)
    x = layers.Dense(8, activation="relu")(x)
    predictions = layers.Dense(1, activation="sigmoid", name="predictions")(x)
    model = keras.Model(inputs, predictions)
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    history = model.fit(train_ds, validation_data=val_ds, epochs=2)
    assert sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
