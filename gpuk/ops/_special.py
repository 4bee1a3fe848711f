"""Special functions NumPy lacks (erf), written over ``xp`` to float64 accuracy.

NumPy has no ``erf`` and only ``gpuk._array`` may import CuPy's ``cupyx.scipy.special``,
so ``gelu(approximate=False)`` uses this implementation on both devices.
"""

import math

import numpy as np

from gpuk._array import cupy_erf


def erf(xp, x):
    """Error function of ``x`` (float array), accurate to ~1e-15 relative in float64.

    For ``|x| < 3`` the all-positive series ``erf(x) = 2/sqrt(pi) * exp(-x^2) *
    sum_n 2^n x^(2n+1) / (1*3*...*(2n+1))`` (no cancellation); above, the continued fraction
    of ``erfc``; past 6, erf is 1 to double precision. On the GPU, CuPy's one-kernel ``erf``
    ufunc is used instead (the series would be ~280 kernel launches).
    """
    if xp is not np:
        fused = cupy_erf()
        if fused is not None:
            return fused(x).astype(x.dtype, copy=False)
    dtype = x.dtype
    a = xp.abs(x).astype(xp.float64)
    small = xp.minimum(a, 3.0)
    x2 = small * small
    term = small.copy()
    total = small.copy()
    for n in range(1, 80):
        term = term * (2.0 * x2 / (2 * n + 1))
        total = total + term
    series = (2.0 / math.sqrt(math.pi)) * xp.exp(-x2) * total

    big = xp.clip(a, 3.0, 7.0)
    # erfc(z) = exp(-z^2)/sqrt(pi) * 1/(z + (1/2)/(z + 1/(z + (3/2)/(z + 2/(z + ...)))))
    frac = big.copy()
    for k in range(60, 0, -1):
        frac = big + (k / 2.0) / frac
    erfc = xp.exp(-big * big) / (math.sqrt(math.pi) * frac)
    value = xp.where(a < 3.0, series, 1.0 - erfc)
    return (xp.sign(x) * value).astype(dtype, copy=False)
