"""xiph/rnnoise's custom objects written against gpuk (as a user would port rnn_train.py)."""

import gpuk.backend as K
from gpuk import constraints


def my_crossentropy(y_true, y_pred):
    return K.mean(2 * K.abs(y_true - 0.5) * K.binary_crossentropy(y_pred, y_true), axis=-1)


def mymask(y_true):
    return K.minimum(y_true + 1.0, 1.0)


def msse(y_true, y_pred):
    return K.mean(mymask(y_true) * K.square(K.sqrt(y_pred) - K.sqrt(y_true)), axis=-1)


def mycost(y_true, y_pred):
    d = K.sqrt(y_pred) - K.sqrt(y_true)
    return K.mean(
        mymask(y_true)
        * (10 * K.square(K.square(d)) + K.square(d) + 0.01 * K.binary_crossentropy(y_pred, y_true)),
        axis=-1,
    )


class WeightClip(constraints.Constraint):
    """rnnoise's constraint; its config carries a ``name`` key ``__init__`` does not accept."""

    def __init__(self, c=2):
        self.c = c

    def __call__(self, p):
        return K.clip(p, -self.c, self.c)

    def get_config(self):
        return {"name": self.__class__.__name__, "c": self.c}


CUSTOM = {
    "WeightClip": WeightClip,
    "mycost": mycost,
    "my_crossentropy": my_crossentropy,
    "msse": msse,
}


def build_rnnoise(reset_after=False):
    """rnnoise's topology built with gpuk (same names and order as rnn_train.py)."""
    from gpuk import layers, models, regularizers

    constraint = WeightClip(0.499)
    gru_kw = dict(
        recurrent_activation="sigmoid",
        return_sequences=True,
        reset_after=reset_after,
        kernel_regularizer=regularizers.l2(1e-6),
        recurrent_regularizer=regularizers.l2(1e-6),
        kernel_constraint=constraint,
        recurrent_constraint=constraint,
        bias_constraint=constraint,
    )
    dense_kw = dict(kernel_constraint=constraint, bias_constraint=constraint)
    main_input = layers.Input(shape=(None, 42), name="main_input")
    tmp = layers.Dense(24, activation="tanh", name="input_dense", **dense_kw)(main_input)
    vad_gru = layers.GRU(24, activation="tanh", name="vad_gru", **gru_kw)(tmp)
    vad_output = layers.Dense(1, activation="sigmoid", name="vad_output", **dense_kw)(vad_gru)
    noise_input = layers.concatenate([tmp, vad_gru, main_input])
    noise_gru = layers.GRU(48, activation="relu", name="noise_gru", **gru_kw)(noise_input)
    denoise_input = layers.concatenate([vad_gru, noise_gru, main_input])
    denoise_gru = layers.GRU(96, activation="tanh", name="denoise_gru", **gru_kw)(denoise_input)
    denoise_output = layers.Dense(22, activation="sigmoid", name="denoise_output", **dense_kw)(
        denoise_gru
    )
    return models.Model(inputs=main_input, outputs=[denoise_output, vad_output])
