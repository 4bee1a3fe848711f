"""Reproducibility: one call seeds every generator gpuk uses."""

from gpuk._array import set_seed


def set_random_seed(seed):
    """Seed Python, NumPy, CuPy and gpuk's generators (initializers, dropout, shuffling).

    Example::

        gpuk.utils.set_random_seed(42)
    """
    set_seed(seed)
