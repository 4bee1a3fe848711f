"""xiph/rnnoise's Keras training script, run by gpuk with only its imports changed.

The model is rnnoise's speech denoiser: three GRUs (24/48/96 units, tanh/relu/tanh),
concatenations of 3-D tensors, a custom ``WeightClip`` constraint, L2 regularizers, custom
losses written with ``backend as K``, ``loss_weights=[10, 0.5]`` and ``validation_split``.
rnnoise reads features from ``training.h5``; pass such a file, or the script makes a small
synthetic one so it runs anywhere::

    python examples/rnnoise_train.py [training.h5] [--epochs N] [--window T]
"""

import argparse
import os
import tempfile

import h5py
import numpy as np

# The only change to the Keras script: these imports say gpuk instead of keras.
import gpuk as keras
from gpuk import backend as K
from gpuk import regularizers
from gpuk.constraints import Constraint
from gpuk.layers import GRU, Dense, Input
from gpuk.models import Model


def my_crossentropy(y_true, y_pred):
    return K.mean(2 * K.abs(y_true - 0.5) * K.binary_crossentropy(y_pred, y_true), axis=-1)


def mymask(y_true):
    return K.minimum(y_true + 1.0, 1.0)


def msse(y_true, y_pred):
    return K.mean(mymask(y_true) * K.square(K.sqrt(y_pred) - K.sqrt(y_true)), axis=-1)


def mycost(y_true, y_pred):
    return K.mean(
        mymask(y_true)
        * (
            10 * K.square(K.square(K.sqrt(y_pred) - K.sqrt(y_true)))
            + K.square(K.sqrt(y_pred) - K.sqrt(y_true))
            + 0.01 * K.binary_crossentropy(y_pred, y_true)
        ),
        axis=-1,
    )


def my_accuracy(y_true, y_pred):
    return K.mean(2 * K.abs(y_true - 0.5) * K.equal(y_true, K.round(y_pred)), axis=-1)


class WeightClip(Constraint):
    """Clips the weights incident to each hidden unit to be inside a range."""

    def __init__(self, c=2):
        self.c = c

    def __call__(self, p):
        return K.clip(p, -self.c, self.c)

    def get_config(self):
        return {"name": self.__class__.__name__, "c": self.c}


def build_model():
    reg = 0.000001
    constraint = WeightClip(0.499)
    main_input = Input(shape=(None, 42), name="main_input")
    tmp = Dense(
        24,
        activation="tanh",
        name="input_dense",
        kernel_constraint=constraint,
        bias_constraint=constraint,
    )(main_input)
    vad_gru = GRU(
        24,
        activation="tanh",
        recurrent_activation="sigmoid",
        return_sequences=True,
        name="vad_gru",
        kernel_regularizer=regularizers.l2(reg),
        recurrent_regularizer=regularizers.l2(reg),
        kernel_constraint=constraint,
        recurrent_constraint=constraint,
        bias_constraint=constraint,
    )(tmp)
    vad_output = Dense(
        1,
        activation="sigmoid",
        name="vad_output",
        kernel_constraint=constraint,
        bias_constraint=constraint,
    )(vad_gru)
    noise_input = keras.layers.concatenate([tmp, vad_gru, main_input])
    noise_gru = GRU(
        48,
        activation="relu",
        recurrent_activation="sigmoid",
        return_sequences=True,
        name="noise_gru",
        kernel_regularizer=regularizers.l2(reg),
        recurrent_regularizer=regularizers.l2(reg),
        kernel_constraint=constraint,
        recurrent_constraint=constraint,
        bias_constraint=constraint,
    )(noise_input)
    denoise_input = keras.layers.concatenate([vad_gru, noise_gru, main_input])
    denoise_gru = GRU(
        96,
        activation="tanh",
        recurrent_activation="sigmoid",
        return_sequences=True,
        name="denoise_gru",
        kernel_regularizer=regularizers.l2(reg),
        recurrent_regularizer=regularizers.l2(reg),
        kernel_constraint=constraint,
        recurrent_constraint=constraint,
        bias_constraint=constraint,
    )(denoise_input)
    denoise_output = Dense(
        22,
        activation="sigmoid",
        name="denoise_output",
        kernel_constraint=constraint,
        bias_constraint=constraint,
    )(denoise_gru)
    model = Model(inputs=main_input, outputs=[denoise_output, vad_output])
    model.compile(
        loss=[mycost, my_crossentropy], metrics=[msse], optimizer="adam", loss_weights=[10, 0.5]
    )
    return model


def make_synthetic_training_file(path, frames, seed=0):
    """Features (42), gains (22), noise (22) and VAD (1) per frame, rnnoise's column layout."""
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(frames, 42)).astype("float32")
    gains = 1 / (1 + np.exp(-features[:, :22] @ rng.normal(size=(22, 22)) * 0.3))
    noise = rng.uniform(size=(frames, 22))
    vad = (features[:, :1] > 0).astype("float32")
    with h5py.File(path, "w") as f:
        f["data"] = np.concatenate([features, gains, noise, vad], axis=1).astype("float32")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("training_file", nargs="?")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--window", type=int, default=100, help="rnnoise uses 2000")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--output", default=None, help="where to save the model (.h5)")
    args = parser.parse_args(argv)
    keras.utils.set_random_seed(0)
    workdir = tempfile.mkdtemp(prefix="gpuk-rnnoise-")
    path = args.training_file or os.path.join(workdir, "training.h5")
    if not args.training_file:
        make_synthetic_training_file(path, frames=40 * args.window)

    model = build_model()
    with h5py.File(path, "r") as hf:
        all_data = hf["data"][:]
    window_size = args.window
    nb_sequences = len(all_data) // window_size
    x_train = np.reshape(
        all_data[: nb_sequences * window_size, :42], (nb_sequences, window_size, 42)
    )
    y_train = np.reshape(
        all_data[: nb_sequences * window_size, 42:64], (nb_sequences, window_size, 22)
    )
    vad_train = np.reshape(
        all_data[: nb_sequences * window_size, 86:87], (nb_sequences, window_size, 1)
    )
    print(len(x_train), "train sequences. x shape =", x_train.shape, "y shape =", y_train.shape)
    history = model.fit(
        x_train,
        [y_train, vad_train],
        batch_size=args.batch_size,
        epochs=args.epochs,
        validation_split=0.1,
    )
    output = args.output or os.path.join(workdir, "weights.hdf5")
    model.save(output)
    print("saved", output)
    return model, history


if __name__ == "__main__":
    main()
