"""``tf.keras.optimizers.experimental`` names (tf.keras 2.9-2.10), the same Keras 3 classes."""

from gpuk.optimizers.adadelta import Adadelta
from gpuk.optimizers.adagrad import Adagrad
from gpuk.optimizers.adam import Adam
from gpuk.optimizers.adamax import Adamax
from gpuk.optimizers.adamw import AdamW
from gpuk.optimizers.base import Optimizer
from gpuk.optimizers.nadam import Nadam
from gpuk.optimizers.rmsprop import RMSprop
from gpuk.optimizers.sgd import SGD

__all__ = [
    "SGD",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "Nadam",
    "Optimizer",
    "RMSprop",
]
