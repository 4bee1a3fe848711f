"""Stream capture on the CuPy stand-in: a capture records and executes nothing, a graph launch
replays the recording on the same buffers, and what CUDA refuses during a capture (host syncs,
host uploads, work on the legacy stream) raises as CUDA does."""

import numpy as np
import pytest

from tests import cuda_emulator, cupy_standin

pytestmark = pytest.mark.standin

KERNEL = r"""
extern "C" __global__ void axpy(float* y, const float* x, float a, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] += a * x[i];
}
"""


def _capture(cp, function, stream=None, pool=None):
    stream = stream or cp.cuda.Stream()
    pool = pool or cp.cuda.MemoryPool()
    with cp.cuda.using_allocator(pool.malloc), stream:
        stream.begin_capture()
        assert stream.is_capturing()
        result = function()
        graph = stream.end_capture()
    assert not stream.is_capturing()
    return graph, result, stream, pool


def test_capture_executes_nothing_and_launch_replays_on_the_same_buffers(standin):
    cp = standin
    x = cp.arange(4, dtype=np.float32)
    w = cp.ones(4, dtype=np.float32)

    def step():
        y = x * 2 + w  # allocated during the capture
        w[...] += y  # a buffer from before the capture, written in place
        return y, w.sum()

    graph, (y, total), stream, pool = _capture(cp, step)
    np.testing.assert_array_equal(w.get(), np.ones(4))  # restored: nothing ran
    assert np.isnan(y.get()).all() and np.isnan(total.get())  # results exist only after launch
    assert pool.used_bytes() > 0  # charged to the allocator in effect
    graph.launch(stream=stream)
    np.testing.assert_array_equal(y.get(), [1, 3, 5, 7])
    np.testing.assert_array_equal(w.get(), [2, 4, 6, 8])
    assert total.get() == 20
    graph.launch()  # replays read the buffers' current values
    np.testing.assert_array_equal(w.get(), [4, 10, 16, 22])
    x[...] = 0  # inputs change between launches (outside the capture: allowed)
    graph.launch()
    np.testing.assert_array_equal(w.get(), [8, 20, 32, 44])


@pytest.mark.parametrize(
    "sync",
    [
        lambda cp, a: float(a.sum()),
        lambda cp, a: a.get(),
        lambda cp, a: cp.asnumpy(a),
        lambda cp, a: a.sum().item(),
        lambda cp, a: bool(a[0] > 0),
        lambda cp, a: a[a > 0],  # boolean mask: the output size is read back
        lambda cp, a: cp.asarray(np.ones(3, np.float32)),  # host-to-device copy
        lambda cp, a: a.__setitem__(slice(0, 2), np.zeros(2, np.float32)),
        lambda cp, a: cp.cuda.runtime.deviceSynchronize(),
        lambda cp, a: cp.cuda.get_current_stream().synchronize(),
    ],
    ids=[
        "float",
        "get",
        "asnumpy",
        "item",
        "bool",
        "mask",
        "upload",
        "setitem-host",
        "device-sync",
        "stream-sync",
    ],
)
def test_host_transfers_during_capture_raise_and_invalidate_it(standin, sync):
    cp = standin
    a = cp.arange(1, 5, dtype=np.float32)
    stream = cp.cuda.Stream()
    with stream:
        stream.begin_capture()
        with pytest.raises(
            cp.cuda.runtime.CUDARuntimeError, match="cudaErrorStreamCaptureUnsupported"
        ):
            sync(cp, a)
        with pytest.raises(
            cp.cuda.runtime.CUDARuntimeError, match="cudaErrorStreamCaptureInvalidated"
        ):
            stream.end_capture()
    np.testing.assert_array_equal(a.get(), [1, 2, 3, 4])  # and outside a capture they work
    assert float(a.sum()) == 10


def test_null_stream_cannot_capture_and_legacy_stream_work_during_a_capture_raises(standin):
    cp = standin
    with pytest.raises(cp.cuda.runtime.CUDARuntimeError, match="StreamCaptureUnsupported"):
        cp.cuda.Stream.null.begin_capture()
    a = cp.ones(3, dtype=np.float32)
    stream = cp.cuda.Stream()
    stream.begin_capture()  # not made current: the next operation goes to the legacy stream
    with pytest.raises(cp.cuda.runtime.CUDARuntimeError, match="StreamCaptureImplicit"):
        a + 1
    with pytest.raises(cp.cuda.runtime.CUDARuntimeError, match="StreamCaptureInvalidated"):
        stream.end_capture()
    with pytest.raises(cp.cuda.runtime.CUDARuntimeError, match="IllegalState"):
        stream.end_capture()


def test_raw_kernels_in_place_ops_and_reductions_replay(standin):
    if cuda_emulator.unavailable_reason() is not None:
        pytest.skip(str(cuda_emulator.unavailable_reason()))
    cp = standin
    kernel = cp.RawKernel(KERNEL, "axpy")
    x = cp.arange(8, dtype=np.float32)
    y = cp.zeros(8, dtype=np.float32)
    out = cp.zeros((), dtype=np.float32)

    def step():
        kernel((1,), (32,), (y, x, np.float32(0.5), np.int32(8)))
        cp.sum(y, out=out)
        cp.maximum(y, 1.0, out=y)

    with cupy_standin.counting() as during:
        graph, _, stream, _ = _capture(cp, step)
    assert during.launches == 0 and during.kernel_launches == 0  # recorded, not launched
    np.testing.assert_array_equal(y.get(), np.zeros(8))
    with cupy_standin.counting() as counts:
        graph.launch(stream=stream)
        graph.launch(stream=stream)
    assert (counts.launches, counts.graph_launches, counts.kernel_launches) == (2, 2, 0)
    once = np.maximum(0.5 * np.arange(8, dtype=np.float32), 1)
    np.testing.assert_array_equal(y.get(), np.maximum(once + 0.5 * np.arange(8), 1))
    assert out.get() == np.float32((once + 0.5 * np.arange(8)).sum())


def test_random_draws_replay_the_numbers_drawn_at_capture(standin):
    cp = standin
    rng = cp.random.RandomState(0)
    graph, draw, stream, _ = _capture(cp, lambda: rng.uniform(size=4, dtype=np.float32) + 0)
    graph.launch(stream=stream)
    first = draw.get()
    graph.launch(stream=stream)
    np.testing.assert_array_equal(draw.get(), first)  # baked in, as cuRAND's offsets are


def test_launch_after_the_pool_was_released_is_a_use_after_free(standin):
    cp = standin
    a = cp.ones(4, dtype=np.float32)
    graph, result, stream, pool = _capture(cp, lambda: a * 3)
    graph.launch(stream=stream)
    pool.free_all_blocks()
    with pytest.raises(cp.cuda.runtime.CUDARuntimeError, match="cudaErrorIllegalAddress"):
        graph.launch(stream=stream)


def test_views_and_copies_made_in_a_capture_follow_their_source(standin):
    cp = standin
    a = cp.arange(6, dtype=np.float32).reshape(2, 3)

    def step():
        t = a.T  # a view: no operation
        c = cp.ascontiguousarray(t)  # a copy: recorded
        return c.reshape(-1), a[:, 1].copy(), cp.concatenate([a.ravel(), c.ravel()])

    graph, (flat, column, joined), stream, _ = _capture(cp, step)
    a[...] = cp.arange(6, 12, dtype=np.float32).reshape(2, 3)
    graph.launch(stream=stream)
    host = np.arange(6, 12, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(flat.get(), host.T.ravel())
    np.testing.assert_array_equal(column.get(), host[:, 1])
    np.testing.assert_array_equal(joined.get(), np.concatenate([host.ravel(), host.T.ravel()]))


def test_gpuk_dropout_in_a_captured_graph_draws_new_masks_every_launch(standin):
    from gpuk import _array, ops
    from gpuk._array import graphs
    from gpuk._array import random as array_random

    previous = _array.device()
    _array.set_device("gpu")
    try:
        array_random.prepare_graph_random(standin)
        x = standin.ones((200, 50), dtype=np.float32)
        graph, y = graphs.capture(lambda: ops.dropout(x, 0.3).data)
        masks = []
        for _ in range(3):
            graph.launch()
            out = y.get()
            assert set(np.unique(out)) == {np.float32(0), np.float32(1 / 0.7)}
            assert abs((out == 0).mean() - 0.3) < 0.02
            masks.append(out == 0)
        assert not np.array_equal(masks[0], masks[1]) and not np.array_equal(masks[1], masks[2])
        np.testing.assert_array_equal(x.get(), 1)
    finally:
        _array.set_device(previous)


def test_device_random_stream_distributions_and_reseeding():
    from gpuk._array.graphs import CaptureUnsupported, GraphRandom

    stream = GraphRandom(np, seed=7)
    u = stream.uniform(size=(100_000,))
    assert 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.01
    assert abs(u.var() - 1 / 12) < 0.002
    z = stream.normal(2.0, 3.0, size=(100_000,))
    assert abs(z.mean() - 2) < 0.05 and abs(z.std() - 3) < 0.05
    assert not np.array_equal(stream.random_sample(8), stream.random_sample(8))
    stream.reseed(7)
    np.testing.assert_array_equal(stream.uniform(size=(100_000,)), u)
    with pytest.raises(CaptureUnsupported, match="'gamma'"):
        stream.gamma(1.0)
