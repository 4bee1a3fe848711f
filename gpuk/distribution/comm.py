"""The process group: MPI (mpi4py) for bootstrap, objects and host buffers; NCCL for device
buffers. mpi4py is imported only when a job was launched by ``mpiexec``."""

import os
import sys
import time
import traceback

import numpy as np

_LAUNCH_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS", "PMIX_RANK")


def launched_by_mpi():
    """True when an MPI launcher (``mpiexec``/``mpirun``) started this process."""
    return any(name in os.environ for name in _LAUNCH_VARIABLES)


class LocalCommunicator:
    """The single-process group: every collective is the identity."""

    rank = 0
    size = 1
    local_rank = 0

    def allreduce_sum(self, array):
        return array

    def bcast(self, array, root=0):
        return array

    def bcast_object(self, obj, root=0):
        return obj

    def allgather_object(self, obj):
        return [obj]

    def abort(self, code=1):
        os._exit(code)


class MpiCommunicator:
    """A group over an mpi4py communicator. Host (NumPy) buffers are reduced with MPI;
    device buffers with NCCL, created on first use (one GPU per process)."""

    def __init__(self, comm, mpi):
        self.comm = comm
        self.mpi = mpi
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()
        local = comm.Split_type(mpi.COMM_TYPE_SHARED, key=self.rank)
        self.local_rank = local.Get_rank()
        local.Free()
        self._nccl = None

    def _device(self, array):
        if isinstance(array, np.ndarray):
            return None
        if self._nccl is None:
            from gpuk._array.collective import make_nccl_collectives

            self._nccl = make_nccl_collectives(self.size, self.rank, self.bcast_object)
        return self._nccl

    def allreduce_sum(self, array):
        """Sum a contiguous array over every process, in place."""
        device = self._device(array)
        if device is not None:
            return device.allreduce_sum(array)
        self.comm.Allreduce(self.mpi.IN_PLACE, array, op=self.mpi.SUM)
        return array

    def bcast(self, array, root=0):
        """Overwrite a contiguous array with ``root``'s, in place."""
        device = self._device(array)
        if device is not None:
            return device.bcast(array, root)
        self.comm.Bcast(array, root=root)
        return array

    def bcast_object(self, obj, root=0):
        return self.comm.bcast(obj, root=root)

    def allgather_object(self, obj):
        return self.comm.allgather(obj)

    def abort(self, code=1):
        """End every process of the job (MPI_Abort)."""
        sys.stdout.flush()
        sys.stderr.flush()
        self.comm.Abort(code)


def mpi_communicator():
    """The world communicator of an ``mpiexec`` launch; needs mpi4py."""
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise ImportError(
            "gpuk.distribution needs mpi4py and an MPI library to run several processes: "
            "pip install 'gpuk[distributed]' (mpi4py and mpich)"
        ) from error
    return MpiCommunicator(MPI.COMM_WORLD, MPI)


#: Seconds an aborting process waits after writing its traceback: MPI_Abort ends the job at
#: once, and ``mpiexec`` may drop output it has not forwarded yet (seen: a traceback cut after
#: its first line).
ABORT_GRACE = 0.5


def install_abort_on_exception(communicator):
    """An unhandled exception on any process aborts the whole job, so no other process waits
    forever in a collective (what ``python -m mpi4py`` does; this covers plain ``python``).
    The traceback is written in one piece and given :data:`ABORT_GRACE` to reach the
    launcher before the abort."""
    previous = sys.excepthook

    def hook(kind, value, tb):
        if previous is sys.__excepthook__:
            sys.stderr.write("".join(traceback.format_exception(kind, value, tb)))
        else:  # someone else's hook (IPython, a logger): theirs prints
            previous(kind, value, tb)
        sys.stderr.flush()
        time.sleep(ABORT_GRACE)
        communicator.abort(1)

    sys.excepthook = hook
