"""OrbaxCheckpoint: Keras 3's Orbax (JAX) checkpoints, which gpuk cannot write."""

from gpuk.callbacks.base import Callback


class OrbaxCheckpoint(Callback):
    """Keras 3's callback for Orbax checkpoints; not available in gpuk.

    Keras builds it on the ``orbax-checkpoint`` package and JAX arrays and raises ImportError
    without them; gpuk has neither, so constructing it raises ImportError as Keras does there.
    Use :class:`gpuk.callbacks.ModelCheckpoint` (``.keras`` or ``.weights.h5`` files, which
    Keras reads) or :class:`gpuk.callbacks.BackupAndRestore`.
    """

    def __init__(self, directory=None, *args, **kwargs):
        raise ImportError(
            "OrbaxCheckpoint: gpuk cannot write Orbax checkpoints (they need the JAX backend "
            "and the orbax-checkpoint package). Use gpuk.callbacks.ModelCheckpoint with a "
            "'.keras' or '.weights.h5' filepath, or BackupAndRestore, instead."
        )
