"""Data-parallel training over several processes, in Keras 3's ``keras.distribution`` words.

Launch one process per GPU (or per CPU worker) with MPI and set the distribution::

    mpiexec -n 4 python -m mpi4py train.py

    # train.py
    import gpuk as keras
    keras.distribution.set_distribution(keras.distribution.DataParallel())
    model.fit(x, y, batch_size=256)   # 256 is the GLOBAL batch: 64 samples per process

With a :class:`DataParallel` distribution set and several processes, ``fit``, ``evaluate``,
``predict`` and ``optimizer.apply_gradients`` are data parallel: every process reads the same
data and computes on its contiguous shard of each global batch; gradients are summed with
sample counts (one collective per bucket), so the result equals one process training on the
global batch. Host buffers are reduced with MPI, device buffers with NCCL. See
``docs/distribution.md``.
"""

import numpy as _np

from gpuk._array import default_module as _default_module
from gpuk._array import generator as _generator
from gpuk._array import random as _random
from gpuk.autograd import Tensor as _Tensor
from gpuk.distribution import comm as _comm
from gpuk.distribution import reduce as _reduce

_state = {"distribution": None, "communicator": None, "local_count": None}


def initialize(job_addresses=None, num_processes=None, process_id=None):
    """Join the process group. Under ``mpiexec`` the group comes from the MPI environment
    (the arguments, Keras's multi-host spellings, are then only checked); alone, the group
    has one process. Called by :func:`set_distribution`; calling it twice is harmless.

    On GPUs each process takes the GPU of its rank on its node. An unhandled exception on any
    process aborts the whole job.
    """
    del job_addresses
    if _state["communicator"] is not None:
        return _state["communicator"]
    if _comm.launched_by_mpi():
        communicator = _comm.mpi_communicator()
        _comm.install_abort_on_exception(communicator)
        if _default_module() is not _np:
            from gpuk._array.collective import use_local_gpu

            use_local_gpu(communicator.local_rank)
    else:
        communicator = _comm.LocalCommunicator()
    if num_processes is not None and int(num_processes) != communicator.size:
        raise ValueError(
            f"initialize(num_processes={num_processes}) but the job has {communicator.size} "
            "processes"
        )
    if process_id is not None and int(process_id) != communicator.rank:
        raise ValueError(
            f"initialize(process_id={process_id}) but this process is {communicator.rank}"
        )
    _state["communicator"] = communicator
    if communicator.size > 1:
        # Unseeded processes draw the same initial weights and shuffles as process 0.
        # Only gpuk's own generators: the user's NumPy/Python streams (their data) stay as
        # they would be in one process.
        seeded = communicator.allgather_object(_random._state["seed"] is not None)
        if not all(seeded):
            seed = communicator.bcast_object(int(_np.random.SeedSequence().entropy % 2**31))
            _random._state.update(seed=seed, generators={})
    return communicator


def _set_communicator(communicator):
    """Use ``communicator`` (a fake in tests) as the process group."""
    _state["communicator"] = communicator


def _group():
    communicator = _state["communicator"]
    if communicator is None and _comm.launched_by_mpi():
        communicator = initialize()
    return communicator


def process_id():
    """This process's index in the job (0 when alone)."""
    communicator = _group()
    return 0 if communicator is None else communicator.rank


def process_count():
    """How many processes the job has (1 when alone)."""
    communicator = _group()
    return 1 if communicator is None else communicator.size


def get_device_count(device_type=None):
    """How many devices the job has (one per process)."""
    return len(list_devices(device_type))


def list_devices(device_type=None):
    """The job's devices as ``"gpu:i"``/``"cpu:i"`` strings, one per process (global, as in
    Keras: every process lists all of them)."""
    kind = (device_type or ("gpu" if _default_module() is not _np else "cpu")).lower()
    if kind not in ("cpu", "gpu"):
        raise ValueError(f"list_devices: device_type must be 'cpu' or 'gpu', got {device_type!r}")
    return [f"{kind}:{i}" for i in range(process_count())]


class DeviceMesh:
    """A named grid of devices (Keras's ``DeviceMesh``); gpuk uses 1-D meshes over all
    processes for :class:`DataParallel`."""

    def __init__(self, shape, axis_names, devices=None):
        shape, axis_names = tuple(shape), list(axis_names)
        if len(shape) != len(axis_names):
            raise ValueError(
                f"DeviceMesh: shape {shape} and axis_names {axis_names} differ in length"
            )
        devices = list_devices() if devices is None else list(devices)
        if int(_np.prod(shape)) != len(devices):
            raise ValueError(f"DeviceMesh: shape {shape} does not hold {len(devices)} devices")
        self.shape, self.axis_names, self.devices = shape, axis_names, devices


def _unsupported(name):
    class Unsupported:
        def __init__(self, *args, **kwargs):
            raise NotImplementedError(
                f"gpuk.distribution.{name}: gpuk distributes data only (DataParallel); model "
                "parallelism is not supported"
            )

    Unsupported.__name__ = Unsupported.__qualname__ = name
    return Unsupported


ModelParallel = _unsupported("ModelParallel")
LayoutMap = _unsupported("LayoutMap")
TensorLayout = _unsupported("TensorLayout")


def distribute_tensor(tensor, layout):
    """Keras's tensor layout hint; gpuk replicates every tensor, so ``tensor`` is returned."""
    del layout
    return tensor


class DataParallel:
    """Replicate the model on every process and split each global batch between them.

    Args:
        device_mesh: ignored beyond a check (a 1-D mesh over all processes is implied).
        devices: the devices to use; must be all of :func:`list_devices` when given.
        auto_shard_dataset: each process takes its shard of each batch of the data it is
            given (True, the only mode: every process reads the same data).
    """

    def __init__(self, device_mesh=None, devices=None, auto_shard_dataset=True, **kwargs):
        if kwargs:
            raise TypeError(f"DataParallel() got unexpected keyword arguments {sorted(kwargs)}")
        if not auto_shard_dataset:
            raise ValueError(
                "DataParallel(auto_shard_dataset=False) is not supported: every process reads "
                "the same data and takes its shard of each batch"
            )
        if device_mesh is not None and devices is None:
            devices = device_mesh.devices
            self.batch_dim_name = device_mesh.axis_names[0]
        self.device_mesh = device_mesh
        self.devices = devices
        self.auto_shard_dataset = auto_shard_dataset
        if device_mesh is None:
            self.batch_dim_name = "batch"

    @property
    def num_processes(self):
        return process_count()

    def shard_sizes(self, batch_size):
        """Samples of a global batch of ``batch_size`` that each process takes (contiguous,
        the first ``batch_size % n`` processes one more)."""
        n = process_count()
        return [batch_size // n + (1 if r < batch_size % n else 0) for r in range(n)]

    def shard_bounds(self, batch_size):
        """``(start, stop)`` of this process's shard of a global batch."""
        sizes = self.shard_sizes(batch_size)
        start = sum(sizes[: process_id()])
        return start, start + sizes[process_id()]

    def distribute_dataset(self, dataset):
        """Iterate ``dataset`` (batches of arrays, tuples or dicts) and yield this process's
        shard of each batch; ``optimizer.apply_gradients`` then weighs this process's
        gradients by its shard's size. For custom training loops."""
        for batch in dataset:
            yield shard_batch(batch)

    def __repr__(self):
        return f"<DataParallel processes={process_count()}>"


def set_distribution(value):
    """Set the global distribution (a :class:`DataParallel`, or None to train alone)."""
    if value is not None and not isinstance(value, DataParallel):
        raise TypeError(
            f"set_distribution expects a DataParallel or None, got {type(value).__name__}"
        )
    if value is not None:
        initialize()
        if value.devices is not None and len(value.devices) != process_count():
            raise ValueError(
                f"DataParallel(devices=...) lists {len(value.devices)} devices but the job has "
                f"{process_count()} processes (one device per process)"
            )
    _state["distribution"] = value


def distribution():
    """The distribution set by :func:`set_distribution`, or None."""
    return _state["distribution"]


def active_communicator():
    """The process group when a DataParallel distribution spans several processes, else
    None (the training loops then run as on one process)."""
    communicator = _state["communicator"]
    if _state["distribution"] is None or communicator is None or communicator.size < 2:
        return None
    return communicator


# ------------------------------------------------------------------ sharding
def _raw(value):
    return value.data if isinstance(value, _Tensor) else value


def _slice(structure, start, stop):
    if structure is None:
        return None
    if isinstance(structure, dict):
        return {k: _slice(v, start, stop) for k, v in structure.items()}
    if isinstance(structure, (list, tuple)):
        return type(structure)(_slice(v, start, stop) for v in structure)
    sliced = _raw(structure)[start:stop]
    return _Tensor(sliced) if isinstance(structure, _Tensor) else sliced


def _first_leaf(structure):
    if isinstance(structure, dict):
        structure = next(iter(structure.values()), None)
        return _first_leaf(structure)
    if isinstance(structure, (list, tuple)):
        return _first_leaf(structure[0]) if structure else None
    return structure


def shard_batch(batch, first=False):
    """This process's contiguous shard of a packed global batch (``x``, ``(x, y)`` or
    ``(x, y, sample_weight)``); records its size for the gradient reduction. The batch is
    returned unchanged without an active distribution."""
    dist = _state["distribution"]
    if active_communicator() is None:
        return batch
    leaf = _first_leaf(batch)
    size = int(_np.shape(_raw(leaf))[0]) if leaf is not None else 0
    if first and size < process_count():
        raise ValueError(
            f"gpuk.distribution: the first batch has {size} samples for {process_count()} "
            "processes; every process needs at least one sample of it. Use a global batch_size "
            "of at least the number of processes."
        )
    start, stop = dist.shard_bounds(size)
    _state["local_count"] = stop - start
    if isinstance(batch, tuple):
        return tuple(_slice(part, start, stop) for part in batch)
    return _slice(batch, start, stop)


def local_sample_count():
    """Samples in this process's current shard (None when no shard was taken)."""
    return _state["local_count"]


# ------------------------------------------------------------------ collectives
def reduce_gradients(grads, variables=None, optimizer=None):
    """Gradients of the global-batch loss: this process's ``grads`` (of its shard's mean
    loss) summed over processes weighted by shard sizes. Identity without a distribution.

    The first call for an ``optimizer`` first gives ``variables`` process 0's values (after
    checking that every process has the same ones), so custom loops start in step.
    """
    communicator = active_communicator()
    if communicator is None:
        return grads
    if optimizer is not None and not getattr(optimizer, "_distribution_synced", False):
        broadcast_variables(variables or [], what="trainable variables")
        optimizer._distribution_synced = True
    return _reduce.allreduce_gradients(communicator, list(grads), _state["local_count"])


def broadcast_variables(variables, root=0, what="variables"):
    """Check that every process has the same ``variables`` (paths and shapes), then give
    them ``root``'s values (one broadcast per bucket). No-op without a distribution."""
    communicator = active_communicator()
    if communicator is None:
        return
    variables = list(variables)
    entries = [
        (getattr(v, "path", None) or getattr(v, "name", ""), tuple(v.shape), str(v.dtype))
        for v in variables
    ]
    _reduce.check_same_structure(communicator, entries, what)
    values = _reduce.broadcast_arrays(communicator, [v.data for v in variables], root)
    for variable, value in zip(variables, values):
        variable.assign(value)


def sum_arrays(arrays):
    """Element-wise sums over processes (one collective per bucket)."""
    communicator = active_communicator()
    if communicator is None:
        return list(arrays)
    return _reduce.allreduce_sums(communicator, list(arrays))


def broadcast_object(obj, root=0):
    """``root``'s ``obj`` (picklable) on every process."""
    communicator = active_communicator()
    return obj if communicator is None else communicator.bcast_object(obj, root)


def allgather_object(obj):
    """Every process's ``obj``, in process order."""
    communicator = active_communicator()
    return [obj] if communicator is None else communicator.allgather_object(obj)


def sync_host_generator():
    """Give every process process 0's host random generator, so array shuffles agree."""
    if active_communicator() is None:
        return
    rng = _generator(_np)
    rng.bit_generator.state = broadcast_object(rng.bit_generator.state)


def is_chief():
    """True on the process that writes files and prints progress (process 0)."""
    return process_id() == 0


__all__ = [
    "DataParallel",
    "DeviceMesh",
    "LayoutMap",
    "ModelParallel",
    "TensorLayout",
    "distribute_tensor",
    "get_device_count",
    "allgather_object",
    "broadcast_variables",
    "distribution",
    "initialize",
    "is_chief",
    "list_devices",
    "process_count",
    "process_id",
    "set_distribution",
    "shard_batch",
]
