"""``keras.preprocessing.sequence``: padding sequences to one length."""

from gpuk.utils.numerical import pad_sequences

__all__ = ["pad_sequences"]
