"""Softmax's row maximum over a short last axis (gpuk/ops/nn.py ``_max_keepdims``) takes the
transposed copy on NumPy; a maximum is exact, so it must give ``max``'s bits, NaN and
infinities included, and the softmax must equal the textbook formula."""

import sys

import numpy as np
import pytest

from gpuk import ops

nn = sys.modules["gpuk.ops.nn"]  # the module (gpuk.ops.nn the attribute is keras.ops.nn)


@pytest.mark.parametrize("shape", [(128, 10), (3, 1), (5, 32), (5, 33), (2, 3, 4)])
def test_row_max_has_max_bits(shape):
    x = np.random.default_rng(0).standard_normal(shape).astype("float32")
    x.reshape(-1)[::7] = np.inf
    x.reshape(-1)[-1] = -np.inf
    x.reshape(-1)[x.size // 2] = np.nan
    axes = (x.ndim - 1,)
    np.testing.assert_array_equal(nn._max_keepdims(x, axes), x.max(axis=axes, keepdims=True))
    view = x[..., ::-1]  # not contiguous
    np.testing.assert_array_equal(nn._max_keepdims(view, axes), view.max(axis=axes, keepdims=True))


def test_softmax_on_a_short_last_axis_equals_the_formula():
    x = np.random.default_rng(1).standard_normal((64, 10)) * 30
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    expected = e / e.sum(axis=-1, keepdims=True)
    np.testing.assert_array_equal(nn.softmax_value(x.copy()), expected)
    np.testing.assert_allclose(np.asarray(ops.softmax(x).numpy()), expected, rtol=1e-15)
