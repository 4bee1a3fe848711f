"""Launch configurations of the fused kernels, and how a Function reaches a compiled kernel.

Plain Python on purpose: the CPU emulation tests (``tests/cuda_emulator``) launch the same
``.cu`` sources with exactly these grids, blocks and shared-memory sizes.
"""

import contextlib

import numpy as np

#: Shared memory one block may use after opting in (H100/H200: 227 KiB; A100: 163 KiB).
DEFAULT_MAX_SHARED_BYTES = 227 * 1024
#: Streaming multiprocessors assumed when no device is queried (H100/H200 SXM).
DEFAULT_SM_COUNT = 132
WARP = 32
#: Threads per block of the persistent recurrent kernels at most (CUDA's limit; their loops
#: stride, so any hidden size works).
MAX_THREADS = 1024

SCALAR_TYPES = {np.dtype("float32"): "float", np.dtype("float64"): "double"}


def _round_up(value, multiple):
    return -(-value // multiple) * multiple


def type_name(dtype):
    """The C++ element type of a float32/float64 dtype, as used in name expressions."""
    return SCALAR_TYPES[np.dtype(dtype)]


def gru_step_config(batch, units):
    """Grid and block of the per-step GRU kernels: one thread per (row, unit).

    Returns:
        dict with ``grid`` and ``block`` (tuples) and ``shared`` (bytes, 0).
    """
    threads = 256
    return {"grid": (max(1, -(-batch * units // threads)),), "block": (threads,), "shared": 0}


def gru_sequence_config(
    batch, units, itemsize, max_shared=DEFAULT_MAX_SHARED_BYTES, sm_count=DEFAULT_SM_COUNT
):
    """Launch configuration of the persistent whole-sequence GRU kernels, or None.

    One block owns ``rows`` batch rows for all time steps, so blocks never synchronise with
    each other. Dynamic shared memory holds per-row buffers -- the state and 3 units of gate
    values (forward), or the state gradient, 3 units of gate gradients and the direct part of
    the state gradient (backward) -- followed, when it fits, by the recurrent kernel
    (``units x 3 units``, transposed for backward: ``weights_shared``); otherwise the kernels
    read it from global memory (L2-resident). Forward uses one thread per column of the
    recurrent product (3 units), backward one per unit, capped at 1024 with strided loops.
    Rows per block grow only when the batch exceeds one block per multiprocessor; weights on
    chip take precedence over more rows.

    Returns:
        dict with ``rows``, ``grid``, ``block_forward``, ``block_backward``,
        ``weights_shared`` (0/1), ``shared_forward``, ``shared_backward`` (bytes); None when
        not even one row's buffers fit in ``max_shared`` (the per-step kernels run then).
    """
    config = recurrent_sequence_config(
        batch, units, 3, itemsize, 5 * units, max_shared=max_shared, sm_count=sm_count
    )
    if config is None:
        return None
    weights = 3 * units * units * itemsize if config["weights_shared"] else 0
    rows = config["rows"]
    config["shared_forward"] = weights + rows * 4 * units * itemsize
    config["shared_backward"] = weights + rows * 5 * units * itemsize
    del config["shared"]
    return config


def recurrent_sequence_config(
    batch,
    units,
    gates,
    itemsize,
    row_elements,
    max_shared=DEFAULT_MAX_SHARED_BYTES,
    sm_count=DEFAULT_SM_COUNT,
):
    """Launch configuration of the persistent LSTM / SimpleRNN kernels, or None.

    One block owns ``rows`` batch rows for all time steps. Dynamic shared memory holds
    ``row_elements`` elements per row (states, gate buffers; the larger of forward and
    backward) followed, when they fit, by the recurrent kernel (``units x gates*units``, or its
    transpose for backward: ``weights_shared``); otherwise the kernels read the weights from
    global memory (L2-resident), so any hidden size runs in one launch per direction. Weights
    on chip take precedence over more rows per block. Forward uses one thread per column of the
    recurrent product, backward one per unit, both capped at ``MAX_THREADS`` with strided loops.

    Returns:
        dict with ``rows``, ``grid``, ``block_forward``, ``block_backward``,
        ``weights_shared`` (0/1) and ``shared`` (bytes, both directions); None when not even
        one row's buffers fit in ``max_shared``.
    """
    if units < 1 or batch < 1:
        return None
    weights = gates * units * units * itemsize
    per_row = row_elements * itemsize
    rows = max(1, -(-batch // sm_count))
    while rows > 1 and weights + rows * per_row > max_shared:
        rows -= 1
    weights_shared = weights + rows * per_row <= max_shared
    if not weights_shared:
        rows = max(1, -(-batch // sm_count))
        while rows > 1 and rows * per_row > max_shared:
            rows -= 1
        if rows * per_row > max_shared:
            return None
    return {
        "rows": rows,
        "grid": (-(-batch // rows),),
        "block_forward": (min(MAX_THREADS, _round_up(gates * units, WARP)),),
        "block_backward": (min(MAX_THREADS, _round_up(units, WARP)),),
        "weights_shared": int(weights_shared),
        "shared": rows * per_row + (weights if weights_shared else 0),
    }


def softmax_xent_config(rows, classes):
    """One block per row; enough warps that each thread reads about 8 classes (32 to 1024).

    Returns:
        dict with ``grid``, ``block`` and ``shared`` (bytes, 0: reductions use static arrays).
    """
    threads = min(1024, max(WARP, _round_up(-(-classes // 8), WARP)))
    return {"grid": (rows,), "block": (threads,), "shared": 0}


#: Threads per block of the multi-tensor Adam kernel, and elements each block updates.
ADAM_THREADS = 256
ADAM_CHUNK = ADAM_THREADS * 4 * 4


def adam_chunks(sizes, chunk=ADAM_CHUNK):
    """The block table of multi-tensor Adam: for each block, its tensor and first element.

    Returns:
        (tensor_index int32 array, start int64 array); the grid is their length.
    """
    tensor_index, start = [], []
    for index, size in enumerate(sizes):
        for first in range(0, int(size), chunk):
            tensor_index.append(index)
            start.append(first)
    return np.asarray(tensor_index, np.int32), np.asarray(start, np.int64)


def adam_config(sizes):
    """Grid and block of multi-tensor Adam over tensors of the given sizes."""
    return {"grid": (len(adam_chunks(sizes)[0]),), "block": (ADAM_THREADS,), "shared": 0}


# ---------------------------------------------------------------------------------------------
# Reaching kernels. On a GPU the provider is the ``gpuk._array`` loader; the emulation tests
# install a provider that runs the same sources on the CPU over NumPy arrays.

_provider = {"function": None}


def get_kernel(filename, name_expression, xp):
    """Return a callable ``kernel(grid, block, args, shared_mem=0)`` for one entry point.

    Raises:
        RuntimeError: when ``xp`` is NumPy and no emulator is installed (fused kernels run on
            the GPU only).
    """
    if _provider["function"] is not None:
        return _provider["function"](filename, name_expression, xp)
    if xp is np:
        raise RuntimeError(
            f"The fused kernel {name_expression} of {filename} runs on a GPU only; "
            "these arrays are NumPy arrays (use the generic op)."
        )
    from gpuk._array import kernels

    return kernels.get_function(filename, name_expression)


def typed_kernel(filename, name, dtype, xp):
    """:func:`get_kernel` of the template entry point ``name<T>`` for arrays of ``dtype``."""
    return get_kernel(filename, f"{name}<{type_name(dtype)}>", xp)


@contextlib.contextmanager
def use_kernel_provider(provider):
    """Route kernel look-ups to ``provider(filename, name_expression, xp)`` (tests only)."""
    saved = _provider["function"]
    _provider["function"] = provider
    try:
        yield
    finally:
        _provider["function"] = saved


def device_limits(xp):
    """(max dynamic shared bytes per block, multiprocessor count) of the current device."""
    if _provider["function"] is not None or xp is np:
        return DEFAULT_MAX_SHARED_BYTES, DEFAULT_SM_COUNT
    from gpuk._array import kernels

    return kernels.device_limits()
