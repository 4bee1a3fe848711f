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
