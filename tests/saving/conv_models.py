"""Small models holding the convolution/pooling/reshaping layers, written against a ``keras``
module given as an argument, so the same code builds them in Keras 3
(``tools/make_keras_fixtures_conv.py``) and in gpuk (``tests/saving/test_conv_files.py``)."""


def mnist_convnet(keras):
    L = keras.layers
    return keras.Sequential(
        [
            keras.Input(shape=(12, 12, 1)),
            L.Conv2D(8, kernel_size=(3, 3), activation="relu"),
            L.MaxPooling2D(pool_size=(2, 2)),
            L.Conv2D(6, kernel_size=(3, 3), activation="relu"),
            L.Flatten(),
            L.Dropout(0.5),
            L.Dense(10, activation="softmax"),
        ],
        name="mnist_convnet",
    )


def zoo2d(keras):
    L = keras.layers
    inputs = keras.Input(shape=(10, 10, 3))
    x = L.Conv2D(4, 3, padding="same", name="c2")(inputs)
    x = L.SeparableConv2D(4, 3, depth_multiplier=2, name="sep")(x)
    x = L.DepthwiseConv2D(3, padding="same", name="dw")(x)
    x = L.AveragePooling2D(2, name="avg")(x)
    x = L.Conv2DTranspose(3, 3, strides=2, padding="same", name="ct")(x)
    x = L.ZeroPadding2D(1)(x)
    x = L.Cropping2D(((1, 0), (0, 1)))(x)
    x = L.UpSampling2D()(x)
    x = L.MaxPool2D(name="mp")(x)
    x = L.SpatialDropout2D(0.2)(x)
    x = L.GlobalAveragePooling2D()(x)
    outputs = L.Dense(2, name="out")(x)
    return keras.Model(inputs, outputs, name="zoo2d")


def zoo1d(keras):
    L = keras.layers
    inputs = keras.Input(shape=(12, 3))
    x = L.Conv1D(4, 3, padding="causal", name="c1")(inputs)
    x = L.SeparableConv1D(4, 3, padding="same")(x)
    x = L.DepthwiseConv1D(2)(x)
    x = L.Conv1DTranspose(3, 2, strides=2)(x)
    x = L.MaxPooling1D()(x)
    x = L.AdaptiveAveragePooling1D(4)(x)
    x = L.GlobalMaxPooling1D()(x)
    outputs = L.Dense(1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs, name="zoo1d")


def zoo3d(keras):
    L = keras.layers
    inputs = keras.Input(shape=(3, 6, 6, 6, 2))
    x = L.Reshape((3, 6, 6, 12))(inputs)
    x = L.ConvLSTM2D(3, 3, padding="same", return_sequences=True)(x)
    x = L.Reshape((3 * 6, 6, 3, 1))(x)
    x = L.Conv3D(2, 2)(x)
    x = L.Conv3DTranspose(2, 2)(x)
    x = L.AveragePooling3D(2)(x)
    x = L.GlobalMaxPooling3D()(x)
    outputs = L.Dense(2)(x)
    return keras.Model(inputs, outputs, name="zoo3d")


MODELS = {"mnist_convnet": mnist_convnet, "zoo2d": zoo2d, "zoo1d": zoo1d, "zoo3d": zoo3d}
