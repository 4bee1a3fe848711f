"""The bucketing and sum logic of gpuk.distribution against fake communicators (no MPI), and
the NCCL wrapper against a fake NCCL communicator."""

import numpy as np
import pytest

import gpuk
from gpuk._array import get_array_module, to_numpy
from gpuk._array.collective import NcclCollectives
from gpuk.distribution import comm, reduce


class FakeWorld:
    """Simulates the other processes: their buffer is ``peer(flat)``; records each call."""

    def __init__(self, peer, size=2, rank=0):
        self.peer, self.size, self.rank, self.calls = peer, size, rank, []

    def allreduce_sum(self, array):
        self.calls.append(("allreduce", array.dtype.name, array.size))
        array += get_array_module(array).asarray(self.peer(to_numpy(array)))
        return array

    def bcast(self, array, root=0):
        self.calls.append(("bcast", array.dtype.name, array.size))
        array[...] = self.peer(array.copy())
        return array

    def bcast_object(self, obj, root=0):
        return obj

    def allgather_object(self, obj):
        return [obj, self.peer(obj)]


def test_buckets_group_by_dtype_and_cut_at_the_limit():
    arrays = [np.zeros(10), np.zeros(3, np.float32), np.zeros(10), np.zeros(20), np.zeros(2)]
    assert reduce.buckets(arrays) == [[0, 2, 3, 4], [1]]
    assert reduce.buckets(arrays, limit=8 * 20) == [[0, 2], [1], [3], [4]]


def test_gradients_are_weighted_by_sample_counts_one_call_per_bucket(xp):
    rng = np.random.default_rng(0)
    mine = [rng.normal(size=(3, 4)), rng.normal(size=5), rng.normal(size=2).astype(np.float32)]
    theirs = [rng.normal(size=(3, 4)), rng.normal(size=5), rng.normal(size=2).astype(np.float32)]
    n_mine, n_theirs = 5, 3

    def peer(flat):  # the other process sends n * grad and its count
        for bucket in reduce.buckets(theirs):
            if flat.dtype == theirs[bucket[0]].dtype:
                return np.concatenate([theirs[i].ravel() * n_theirs for i in bucket] + [[n_theirs]])
        raise AssertionError

    world = FakeWorld(peer)
    out = reduce.allreduce_gradients(world, [xp.asarray(g) for g in mine], n_mine)
    assert [c[0] for c in world.calls] == ["allreduce", "allreduce"]
    assert all(get_array_module(o) is xp for o in out)
    out = [to_numpy(o) for o in out]
    for got, a, b in zip(out, mine, theirs):
        expected = (n_mine * a + n_theirs * b) / (n_mine + n_theirs)
        np.testing.assert_allclose(got, expected.astype(a.dtype), rtol=1e-6)
        assert got.shape == a.shape and got.dtype == a.dtype


def test_an_empty_shard_contributes_nothing():
    world = FakeWorld(lambda flat: np.array([2.0, 4.0, 6.0, 2.0]))
    (out,) = reduce.allreduce_gradients(world, [np.zeros(3)], 0)
    np.testing.assert_array_equal(out, [1.0, 2.0, 3.0])


def test_broadcast_and_structure_check():
    world = FakeWorld(lambda flat: flat * 0 + 7)
    out = reduce.broadcast_arrays(world, [np.zeros((2, 2)), np.ones(3)])
    assert all((o == 7).all() for o in out) and out[0].shape == (2, 2)
    same = FakeWorld(lambda obj: obj)
    reduce.check_same_structure(same, [("dense/kernel", (3, 4), "float32")], "model weights")
    other = FakeWorld(lambda obj: [("dense/kernel", (3, 5), "float32")])
    with pytest.raises(ValueError, match=r"model weights differ.*\(3, 5\)"):
        reduce.check_same_structure(other, [("dense/kernel", (3, 4), "float32")], "model weights")


def test_optimizer_applies_the_reduced_gradient_with_a_fake_world():
    dist = gpuk.distribution
    world = FakeWorld(lambda flat: flat)  # the other process computed the same gradient
    saved = dict(dist._state)
    try:
        dist._set_communicator(world)
        dist._state["distribution"] = dist.DataParallel()
        variable = gpuk.Variable(np.ones(3))
        optimizer = gpuk.optimizers.SGD(0.5)
        optimizer.apply_gradients([(np.array([2.0, 4.0, 6.0]), variable)])
        np.testing.assert_allclose(variable.numpy(), [0.0, -1.0, -2.0])
        assert [c[0] for c in world.calls] == ["bcast", "allreduce"]  # first step syncs
    finally:
        dist._state.update(saved)


class FakeNccl:
    NCCL_SUM = 0
    NCCL_FLOAT32, NCCL_FLOAT64, NCCL_FLOAT16 = 7, 8, 6
    NCCL_INT8, NCCL_UINT8, NCCL_INT32, NCCL_INT64 = 0, 1, 2, 4


class FakeNcclComm:
    def __init__(self):
        self.calls = []

    def allReduce(self, send, recv, count, dtype, op, stream):
        self.calls.append(("allReduce", send, recv, count, dtype, op, stream))

    def bcast(self, buff, count, dtype, root, stream):
        self.calls.append(("bcast", buff, count, dtype, root, stream))


class DeviceLike:
    """What NcclCollectives reads from a CuPy array: ``data.ptr``, ``size``, ``dtype``."""

    def __init__(self, ptr, size, dtype):
        self.data = type("Memory", (), {"ptr": ptr})()
        self.size, self.dtype = size, np.dtype(dtype)


def test_nccl_calls_are_in_place_on_the_library_stream():
    comm = FakeNcclComm()
    nccl = NcclCollectives(comm, FakeNccl, stream=lambda: 1234)
    nccl.allreduce_sum(DeviceLike(99, 10, "float32"))
    nccl.bcast(DeviceLike(77, 4, "float64"), root=0)
    assert comm.calls == [
        ("allReduce", 99, 99, 10, FakeNccl.NCCL_FLOAT32, FakeNccl.NCCL_SUM, 1234),
        ("bcast", 77, 4, FakeNccl.NCCL_FLOAT64, 0, 1234),
    ]
    with pytest.raises(TypeError, match="complex128"):
        nccl.allreduce_sum(DeviceLike(1, 1, "complex128"))


def test_public_api_alone():
    dist = gpuk.distribution
    assert dist.process_id() == 0 and dist.process_count() == 1
    assert dist.list_devices("cpu") == ["cpu:0"]
    assert dist.distribution() is None
    assert dist.get_device_count("cpu") == 1
    with pytest.raises(TypeError, match="DataParallel"):
        dist.set_distribution("data")
    mesh = dist.DeviceMesh((1,), ["data"], devices=dist.list_devices())
    assert dist.DataParallel(device_mesh=mesh).batch_dim_name == "data"
    with pytest.raises(ValueError, match="does not hold"):
        dist.DeviceMesh((2,), ["batch"], devices=["cpu:0"])
    with pytest.raises(NotImplementedError, match="model parallelism"):
        dist.ModelParallel()


class FakeMpi:
    """mpi4py's module and communicator, as far as MpiCommunicator uses them."""

    IN_PLACE, SUM, COMM_TYPE_SHARED = "in-place", "sum", "shared"

    def __init__(self):
        self.calls = []

    def Get_rank(self):
        return 1

    def Get_size(self):
        return 2

    def Split_type(self, kind, key):
        return type("Local", (), {"Get_rank": lambda self: 0, "Free": lambda self: None})()

    def Allreduce(self, send, recv, op):
        self.calls.append(("Allreduce", send, op))

    def Bcast(self, array, root):
        self.calls.append(("Bcast", root))


def test_host_buffers_go_through_mpi_and_device_buffers_through_nccl():
    mpi = FakeMpi()
    group = comm.MpiCommunicator(mpi, mpi)
    assert (group.rank, group.size, group.local_rank) == (1, 2, 0)
    nccl_comm = FakeNcclComm()
    group._nccl = NcclCollectives(nccl_comm, FakeNccl, stream=lambda: 5)
    group.allreduce_sum(np.zeros(3, np.float32))
    group.bcast(np.zeros(2), root=0)
    group.allreduce_sum(DeviceLike(42, 3, "float32"))
    assert [c[0] for c in mpi.calls] == ["Allreduce", "Bcast"]
    assert mpi.calls[0][1:] == ("in-place", "sum")
    assert [c[0] for c in nccl_comm.calls] == ["allReduce"]


def test_shard_batch_takes_contiguous_uneven_shards():
    dist = gpuk.distribution
    saved = dict(dist._state)
    try:
        for rank, expected in ((0, [0, 1, 2]), (1, [3, 4])):
            dist._set_communicator(FakeWorld(lambda flat: flat, size=2, rank=rank))
            dist._state["distribution"] = dist.DataParallel()
            x = np.arange(5)
            batch = (gpuk.Tensor(x), {"y": x * 10}, None)
            sx, sy, sw = dist.shard_batch(batch)
            assert list(sx.numpy()) == expected and list(sy["y"]) == [10 * i for i in expected]
            assert sw is None and dist.local_sample_count() == len(expected)
        with pytest.raises(ValueError, match="first batch has 1 samples for 2 processes"):
            dist.shard_batch(np.zeros((1, 3)), first=True)
    finally:
        dist._state.update(saved)
