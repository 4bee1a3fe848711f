"""``tf.keras.optimizers.legacy`` names (tf.keras 2.11+), served by the same Keras 3 classes.

The legacy classes differed only in their internals; their arguments (``lr``, ``decay``) are
accepted by the classes themselves.
"""

from gpuk.optimizers.adadelta import Adadelta
from gpuk.optimizers.adagrad import Adagrad
from gpuk.optimizers.adam import Adam
from gpuk.optimizers.adamax import Adamax
from gpuk.optimizers.base import Optimizer
from gpuk.optimizers.nadam import Nadam
from gpuk.optimizers.rmsprop import RMSprop
from gpuk.optimizers.sgd import SGD

__all__ = ["SGD", "Adadelta", "Adagrad", "Adam", "Adamax", "Nadam", "Optimizer", "RMSprop"]
