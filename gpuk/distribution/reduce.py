"""Bucketed collectives over lists of arrays: gradient sums with sample counts, variable
broadcasts and metric-state sums. Each bucket (arrays of one dtype and one array module, up
to ``BUCKET_BYTES``) is packed into one flat buffer and costs one collective call."""

import numpy as np

from gpuk._array import get_array_module

BUCKET_BYTES = 25 * 2**20


def buckets(arrays, limit=None):
    """Index lists grouping ``arrays`` by (module, dtype), each group cut at ``limit`` bytes.

    The order is a function of the shapes and dtypes only, so it is the same on every process.
    """
    limit = BUCKET_BYTES if limit is None else limit
    groups, current = [], {}
    for i, array in enumerate(arrays):
        key = (get_array_module(array).__name__, np.dtype(array.dtype).name)
        group = current.get(key)
        nbytes = int(array.size) * np.dtype(array.dtype).itemsize
        if group is None or (group[1] and group[1] + nbytes > limit):
            group = [[], 0]
            current[key] = group
            groups.append(group[0])
        group[0].append(i)
        group[1] += nbytes
    return groups


def _pack(arrays, indices, extra=0):
    xp = get_array_module(arrays[indices[0]])
    flat = xp.empty(sum(int(arrays[i].size) for i in indices) + extra, arrays[indices[0]].dtype)
    offset = 0
    for i in indices:
        size = int(arrays[i].size)
        flat[offset : offset + size] = arrays[i].reshape(-1)
        offset += size
    return flat


def _unpack(flat, arrays, indices, out):
    offset = 0
    for i in indices:
        size = int(arrays[i].size)
        out[i] = flat[offset : offset + size].reshape(arrays[i].shape)
        offset += size


def allreduce_gradients(comm, grads, count, limit=None):
    """Gradients of the global mean loss from each process's gradients of its local mean.

    Every process sends ``count * grad`` and ``count`` (its number of samples) in the same
    buffer; after the sum, ``sum(count_r * grad_r) / sum(count_r)`` is the gradient of the
    mean over the whole global batch, also when the shards are uneven. With ``count=None``
    (a loop that did not say how many samples it used) every process counts as one.
    """
    count = 1 if count is None else count
    out = list(grads)
    for indices in buckets(grads, limit):
        flat = _pack(grads, indices, extra=1)
        body = flat[:-1]
        if count != 1:
            body *= count
        flat[-1] = count
        comm.allreduce_sum(flat)
        xp = get_array_module(flat)
        body = flat[:-1]
        body /= xp.maximum(flat[-1:], 1)  # every shard empty: the (zero) sums stay zero
        _unpack(body, grads, indices, out)
    return out


def allreduce_sums(comm, arrays, limit=None):
    """Element-wise sums of ``arrays`` over every process (new arrays)."""
    out = list(arrays)
    for indices in buckets(arrays, limit):
        flat = comm.allreduce_sum(_pack(arrays, indices))
        _unpack(flat, arrays, indices, out)
    return out


def broadcast_arrays(comm, arrays, root=0, limit=None):
    """``root``'s values of ``arrays`` (new arrays), one broadcast per bucket."""
    out = list(arrays)
    for indices in buckets(arrays, limit):
        flat = comm.bcast(_pack(arrays, indices), root)
        _unpack(flat, arrays, indices, out)
    return out


def check_same_structure(comm, entries, what):
    """Raise on every process when ``entries`` (e.g. ``(name, shape, dtype)``) differ between
    processes; the message names the first difference."""
    gathered = comm.allgather_object(list(entries))
    reference = gathered[0]
    for rank, other in enumerate(gathered[1:], start=1):
        if other == reference:
            continue
        if len(other) != len(reference):
            detail = f"process 0 has {len(reference)} entries, process {rank} has {len(other)}"
        else:
            first = next(i for i, (a, b) in enumerate(zip(reference, other)) if a != b)
            detail = (
                f"entry {first}: process 0 has {reference[first]}, "
                f"process {rank} has {other[first]}"
            )
        raise ValueError(
            f"gpuk.distribution: the {what} differ between processes ({detail}). Every process "
            "must build the same model (same layers, names and shapes) before training."
        )
