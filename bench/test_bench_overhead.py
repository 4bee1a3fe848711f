"""pytest-benchmark suites for the hot paths of issue 14's workloads (gpuk, CPU backend).

Not part of the default test run (``testpaths`` is ``tests/``). Run and compare with::

    pytest -p no:cacheprovider bench --benchmark-autosave          # record a baseline
    pytest -p no:cacheprovider bench --benchmark-compare           # compare with the last one

Each benchmark also records ``ops_per_call`` (autograd Function applications, gpuk's array
operations) in its ``extra_info``, so a regression in the op count shows next to the time.
The MLP train step is where the math is negligible: its time is the host overhead.
"""

import os
import sys

import pytest

os.environ.setdefault("GPUK_DEVICE", "cpu")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_overhead  # noqa: E402

pytest.importorskip("pytest_benchmark")


@pytest.fixture(scope="module")
def cases():
    import gpuk

    return bench_overhead.gpuk_cases(gpuk)


#: Ops per call measured when the suite was written; more means a regression in the plan.
EXPECTED_OPS = {
    "mlp_train": 5,
    "mlp_predict": 0,
    "gru_train": 5,
    "gru_predict": 3,
    "denoiser_train": 29,
    "denoiser_predict": 11,
}


@pytest.mark.parametrize("case", list(EXPECTED_OPS))
def test_bench(benchmark, cases, case):
    fn = cases[case]
    fn()  # first call builds the optimizer state
    ops = bench_overhead.count_ops(fn)
    benchmark.extra_info["ops_per_call"] = ops
    rounds = 50 if case.startswith("mlp") else 3
    benchmark.pedantic(fn, rounds=rounds, iterations=1, warmup_rounds=1)
    assert ops <= EXPECTED_OPS[case], (
        f"{case}: {ops} ops per call, expected <= {EXPECTED_OPS[case]}"
    )


def test_bench_mlp_host_overhead(benchmark, cases):
    """The MLP train step minus a NumPy-only run of its math: host microseconds per step."""
    import statistics
    import time

    floor_step = bench_overhead.numpy_mlp_step()
    floors = []
    for _ in range(200):
        start = time.perf_counter()
        floor_step()
        floors.append(time.perf_counter() - start)
    floor = statistics.median(floors)
    benchmark.pedantic(cases["mlp_train"], rounds=100, iterations=1, warmup_rounds=2)
    if benchmark.disabled:  # --benchmark-disable: the step ran once, untimed
        return
    host = benchmark.stats.stats.median - floor
    benchmark.extra_info["numpy_floor_us"] = floor * 1e6
    benchmark.extra_info["host_us_per_step"] = host * 1e6
