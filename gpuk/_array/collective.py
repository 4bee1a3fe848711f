"""NCCL collectives on device arrays (CuPy's ``cupy.cuda.nccl``), for ``gpuk.distribution``.

Only this module touches NCCL. Calls are enqueued on CuPy's current stream, the stream gpuk's
ops run on, so a reduction is ordered after the kernels that computed its buffer without a host
sync. The communicator is passed in, so the logic runs against a fake in the tests.
"""

import numpy as np

from gpuk._array.device import cupy_module

_NCCL_TYPES = {
    "float16": "NCCL_FLOAT16",
    "float32": "NCCL_FLOAT32",
    "float64": "NCCL_FLOAT64",
    "int8": "NCCL_INT8",
    "uint8": "NCCL_UINT8",
    "int32": "NCCL_INT32",
    "int64": "NCCL_INT64",
}


def nccl_module():
    """CuPy's NCCL bindings, or None when CuPy or NCCL (``nvidia-nccl-cu12``) is missing."""
    cupy = cupy_module()
    if cupy is None:
        return None
    try:
        from cupy.cuda import nccl
    except ImportError:
        return None
    return nccl if getattr(nccl, "available", True) else None


def use_local_gpu(local_rank):
    """Make GPU ``local_rank`` (modulo the visible count) current: one GPU per process."""
    cupy = cupy_module()
    count = cupy.cuda.runtime.getDeviceCount()
    cupy.cuda.Device(local_rank % count).use()
    return local_rank % count


class NcclCollectives:
    """Sum-allreduce and broadcast of contiguous device arrays over one NCCL communicator.

    Args:
        comm: a ``cupy.cuda.nccl.NcclCommunicator`` (or a fake with the same methods).
        nccl: the module holding the ``NCCL_*`` constants.
        stream: a callable returning the stream pointer to enqueue on (CuPy's current stream).
    """

    def __init__(self, comm, nccl, stream=None):
        self.comm = comm
        self.nccl = nccl
        self._stream = stream or _current_stream_ptr

    def _type(self, array):
        name = np.dtype(array.dtype).name
        if name == "bool":
            name = "uint8"
        if name not in _NCCL_TYPES:
            raise TypeError(f"NCCL cannot reduce arrays of dtype {name}")
        return getattr(self.nccl, _NCCL_TYPES[name])

    def allreduce_sum(self, array):
        """Sum ``array`` over every process, in place."""
        ptr = array.data.ptr
        self.comm.allReduce(
            ptr, ptr, array.size, self._type(array), self.nccl.NCCL_SUM, self._stream()
        )
        return array

    def bcast(self, array, root=0):
        """Overwrite ``array`` with the root process's, in place."""
        self.comm.bcast(array.data.ptr, array.size, self._type(array), root, self._stream())
        return array


def _current_stream_ptr():
    return cupy_module().cuda.get_current_stream().ptr


def make_nccl_collectives(size, rank, bcast_object):
    """Create the NCCL communicator: rank 0 draws the unique id, ``bcast_object`` (MPI)
    hands it to the others."""
    nccl = nccl_module()
    if nccl is None:
        raise RuntimeError(
            "gpuk.distribution on GPUs needs NCCL: pip install nvidia-nccl-cu12 (the gpuk "
            "'cuda12' extra brings it)"
        )
    uid = nccl.get_unique_id() if rank == 0 else None
    uid = bcast_object(uid)
    return NcclCollectives(nccl.NcclCommunicator(size, uid, rank), nccl)
