import numpy as np
import pytest

from gpuk._array import serial_blas


def test_serial_blas_limits_blas_threads_inside_the_block_only():
    threadpoolctl = pytest.importorskip("threadpoolctl")

    def blas_threads():
        # NumPy's own BLAS: other libraries loaded later by other tests are not ours to limit
        info = threadpoolctl.threadpool_info()
        return [
            i["num_threads"] for i in info if i["user_api"] == "blas" and "numpy" in i["filepath"]
        ]

    before = blas_threads()
    np.ones((2, 2)) @ np.ones((2, 2))
    with serial_blas(np):
        assert blas_threads() and all(n == 1 for n in blas_threads())
    assert blas_threads() == before
