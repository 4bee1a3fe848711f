import numpy as np
import pytest

from gpuk._array import serial_blas


def test_serial_blas_limits_blas_threads_inside_the_block_only():
    threadpoolctl = pytest.importorskip("threadpoolctl")

    def blas_threads():
        info = threadpoolctl.threadpool_info()
        return [i["num_threads"] for i in info if i["user_api"] == "blas"]

    before = blas_threads()
    with serial_blas(np):
        assert all(n == 1 for n in blas_threads())
    assert blas_threads() == before
