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


class _FakeLib:
    def __init__(self):
        self.calls = []

    def set_num_threads(self, count):
        self.calls.append(count)


@pytest.fixture
def fake_blas(monkeypatch):
    """A BLAS with 4 threads whose per-step time the test decides, on a fake clock."""
    from gpuk._array import blas

    lib = _FakeLib()
    monkeypatch.setattr(
        blas, "_state", {"libs": [lib], "max": 4, "current": 4, "serial": 0}, raising=True
    )
    monkeypatch.setattr(blas, "_LOOPS", {})
    monkeypatch.setattr(blas, "_PRODUCTS", {})
    clock = {"now": 0.0, "step": {1: 1.0, 4: 1.0}}

    def run(key, steps, multiply_adds=1 << 22):
        seen = []
        clock["threads"] = []
        for block in blas.loop_blocks(key, steps, multiply_adds):
            for t in block:
                seen.append(t)
                clock["threads"].append(blas._state["current"])
                clock["now"] += clock["step"][blas._state["current"]]
        return seen

    monkeypatch.setattr(blas.time, "perf_counter", lambda: clock["now"])
    return blas, lib, clock, run


@pytest.mark.parametrize("steps", [range(1), range(7), range(8), range(100), range(99, -1, -1)])
def test_loop_blocks_visit_every_step_once_in_order(fake_blas, steps):
    blas, _, _, run = fake_blas
    for _ in range(10):  # first calls, probes and plain calls alike
        assert run("loop", steps) == list(steps)
    assert blas._state["current"] == 4 and blas._state["serial"] == 0


@pytest.mark.parametrize("fast", [1, 4])
def test_loop_blocks_settle_on_the_faster_thread_count(fake_blas, fast):
    blas, _, clock, run = fake_blas
    clock["step"] = {1: 1.0, 4: 1.0}
    clock["step"][fast] = 0.2
    for _ in range(20):
        run("loop", range(100))
    chosen = blas._LOOPS["loop"]
    assert chosen.best((1, 4)) == fast
    probing = chosen.calls >= chosen.next_probe
    run("loop", range(100))
    if not probing:  # a call that does not probe runs every step with the faster count
        assert set(clock["threads"]) == {fast}
    else:  # a probe takes at most 8 steps
        assert clock["threads"].count(fast) >= 92


def test_threads_must_win_clearly(fake_blas):
    blas, _, clock, run = fake_blas
    clock["step"] = {1: 1.0, 4: 0.95}  # within the noise: one thread stays
    for _ in range(20):
        run("loop", range(100))
    assert blas._LOOPS["loop"].best((1, 4)) == 1
    assert clock["threads"].count(1) >= 92


def test_loop_blocks_follow_a_change_of_load(fake_blas):
    blas, _, clock, run = fake_blas
    clock["step"] = {1: 1.0, 4: 0.2}  # free cores: threads win
    for _ in range(10):
        run("loop", range(100))
    assert blas._LOOPS["loop"].best((1, 4)) == 4
    clock["step"] = {1: 1.0, 4: 20.0}  # busy cores: threads lose badly
    for _ in range(10):
        run("loop", range(100))
    assert blas._LOOPS["loop"].best((1, 4)) == 1
    clock["step"] = {1: 1.0, 4: 0.2}  # free again: found within the longest probe interval
    for _ in range(2 * blas._PROBE_INTERVAL[1] + 2):
        run("loop", range(100))
    assert blas._LOOPS["loop"].best((1, 4)) == 4


def test_small_loops_and_serial_blocks_run_on_one_thread_untimed(fake_blas):
    blas, lib, _, run = fake_blas
    assert run("small", range(50), multiply_adds=1000) == list(range(50))
    assert "small" not in blas._LOOPS
    with serial_blas(np):
        assert run("inner", range(50)) == list(range(50))
    assert "inner" not in blas._LOOPS
    assert blas._state["current"] == 4


def _timed_product(blas, clock, key, multiply_adds=1 << 30):
    with blas.timed_threads(key, multiply_adds):
        used = blas._state["current"]
        clock["now"] += clock["step"][used]
    return used


@pytest.mark.parametrize("fast", [1, 4])
def test_large_products_settle_on_the_faster_thread_count(fake_blas, fast):
    blas, _, clock, _ = fake_blas
    clock["step"] = {1: 1.0, 4: 1.0}
    clock["step"][fast] = 0.4
    used = [_timed_product(blas, clock, "projection") for _ in range(40)]
    assert set(used[:2]) == {1, 4}  # both measured first
    assert blas._PRODUCTS["projection"].best((1, 4)) == fast
    assert used[10:].count(fast) >= 25  # the slower count only in spaced-out probes
    clock["step"] = {1: 1.0, 4: 1.0}
    clock["step"][5 - fast] = 0.4  # the load changed: the other count wins now
    used = [_timed_product(blas, clock, "projection") for _ in range(200)]
    assert blas._PRODUCTS["projection"].best((1, 4)) == 5 - fast
    assert used[-20:].count(5 - fast) >= 15


def test_small_products_and_serial_blocks_are_not_timed(fake_blas):
    blas, _, clock, _ = fake_blas
    assert _timed_product(blas, clock, "small", multiply_adds=1000) == 1
    assert "small" not in blas._PRODUCTS
    with serial_blas(np):
        assert _timed_product(blas, clock, "inner") == 1
    assert "inner" not in blas._PRODUCTS
