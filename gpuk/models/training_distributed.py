"""The training loops' side of ``gpuk.distribution``: sharding batches, starting every
process from process 0's state, reducing metric state, and keeping files and progress output
on process 0. Every function is a no-op unless a DataParallel distribution spans several
processes, so the loops in ``training_loops`` call them unconditionally."""

import numpy as np

from gpuk import distribution
from gpuk._array import get_array_module, to_numpy
from gpuk.autograd import Tensor
from gpuk.callbacks import (
    BackupAndRestore,
    CSVLogger,
    ModelCheckpoint,
    ProgbarLogger,
    TensorBoard,
)

# Callbacks that write files or print: process 0 runs them, the others drop them.
CHIEF_ONLY = (BackupAndRestore, CSVLogger, ModelCheckpoint, ProgbarLogger, TensorBoard)


def active():
    return distribution.active_communicator() is not None


def chief_callbacks(callbacks, verbose):
    """``(callbacks, verbose)`` for this process: unchanged on process 0; elsewhere without
    the callbacks that write files or print, and silent."""
    if not active() or distribution.is_chief():
        return callbacks, verbose
    if callbacks is None or not isinstance(callbacks, (list, tuple)):
        return callbacks, 0
    return [c for c in callbacks if not isinstance(c, CHIEF_ONLY)], 0


def start(model, initial_epoch=None, optimizer=True):
    """Give every process process 0's weights, optimizer state and initial epoch (after a
    ``BackupAndRestore`` on process 0 restored them), checking the models match first."""
    if not active():
        return initial_epoch
    distribution.broadcast_variables(model.weights, what="model weights")
    opt = getattr(model, "optimizer", None)
    if optimizer and opt is not None:
        built = distribution.broadcast_object(bool(getattr(opt, "built", False)))
        if built and not opt.built:
            opt.build(model.trainable_weights)
        if built:
            distribution.broadcast_variables(opt.variables, what="optimizer variables")
    return distribution.broadcast_object(initial_epoch)


def shard(batches):
    """This process's shard of each batch of ``batches.epoch()``; every process first takes
    process 0's host generator so shuffled orders agree."""
    if not active():
        yield from batches.epoch()
        return
    distribution.sync_host_generator()
    for step, batch in enumerate(batches.epoch()):
        yield distribution.shard_batch(batch, first=step == 0)


def empty_shard():
    """True when this process's shard of the current batch has no samples (an uneven last
    batch smaller than the number of processes)."""
    return active() and distribution.local_sample_count() == 0


def empty_train_step(model):
    """Take part in the step's gradient reduction with no samples (zero gradients)."""
    variables = model.trainable_weights
    grads = [get_array_module(v.data).zeros_like(v.data) for v in variables]
    model.optimizer.apply_gradients(zip(grads, variables))


def metrics_logs(model, logs):
    """The logs from the metrics' state summed over processes (identical on every process);
    ``logs`` unchanged without a distribution or when a custom step returned other names."""
    if not active():
        return logs
    variables, seen = [], set()
    for metric in model.metrics:
        for variable in metric.variables:
            if id(variable) not in seen and getattr(variable, "aggregation", "sum") in (
                "sum",
                "mean",
            ):
                seen.add(id(variable))
                variables.append(variable)
    local = [v.data for v in variables]
    summed = distribution.sum_arrays([get_array_module(a).array(a, copy=True) for a in local])
    count = distribution.process_count()
    try:
        for variable, value in zip(variables, summed):
            variable.assign(value / count if variable.aggregation == "mean" else value)
        results = model._get_metrics_result_or_logs(logs)
        results = {k: _copy(v) for k, v in results.items()}
    finally:
        for variable, value in zip(variables, local):
            variable.assign(value)
    return results


def _copy(value):
    raw = value.data if isinstance(value, Tensor) else value
    if hasattr(raw, "shape"):
        return Tensor(get_array_module(raw).array(raw, copy=True))
    return value


def any_process(flag):
    """True on every process when ``flag`` is true on any (``stop_training``)."""
    if not active():
        return flag
    return any(distribution.allgather_object(bool(flag)))


def gather_predictions(chunks):
    """Every process's per-batch prediction chunks (NumPy, None for an empty shard), put in
    global-batch order: batch 0 of process 0, of process 1, ..., then batch 1, ..."""
    if not active():
        return chunks
    local = [[None if c is None else np.asarray(to_numpy(c)) for c in chunk] for chunk in chunks]
    gathered = distribution.allgather_object(local)
    outputs = max(len(g) for g in gathered)
    batches = max((len(g[0]) for g in gathered if g), default=0)
    merged = [[] for _ in range(outputs)]
    for k in range(outputs):
        for b in range(batches):
            for rank_chunks in gathered:
                if rank_chunks and rank_chunks[k][b] is not None:
                    merged[k].append(rank_chunks[k][b])
    return merged
