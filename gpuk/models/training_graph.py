"""``compile(jit_compile=True)`` on the GPU: the training step captured as a CUDA graph.

Per input signature (the batch's structure, shapes and dtypes) the first :data:`WARMUP_STEPS`
calls run ``train_step`` eagerly (they build the optimizer's slots and the metrics and settle
the optimizer on its in-place path); the next call captures ``train_step`` on static copies of
the batch with :func:`gpuk._array.graphs.capture`, and every later call copies the batch into
those static buffers and launches the graph: one graph launch plus the input copies per step,
no host sync.

What makes a replay the same step as an eager one:

- State is written where the graph reads it. Before the capture the runner notes the array of
  every state variable (the model's variables, the optimizer's, the metrics'); a step that
  rebinds one (``variable.assign`` of a new array, ``m.data = ...``) gets a device copy back
  into the noted array appended to the captured step, and the binding is restored. Between
  steps, a variable rebound from outside (``reset_metrics``, ``set_weights``, a callback) is
  copied into its noted array before the launch.
- Values that change per step are device scalars, not host numbers baked in at capture: the
  optimizer's step counter (``Optimizer._device_scalars["iterations"]``, incremented inside
  the graph, Adam's bias correction computed from it) and the learning rate: a built-in
  branch-free schedule is computed inside the graph from that counter
  (``schedules.device_rate``); any other rate (a float, set by a callback or not, a schedule
  with warmup, a callable, legacy ``decay``) is a device scalar refilled before a launch when
  its host value changes (the host knows the step count without a sync).
- The host side of the step is redone by the runner: ``optimizer.iterations`` advances by one
  per launch.

Anything the capture cannot take falls back to eager ``train_step`` for this model, with one
warning naming the reason: a host sync or host upload inside the step, random draws (dropout,
noise layers: a graph would replay the same numbers), optimizers whose step keeps host state
(gradient accumulation, EMA, loss scaling, several optimizers), a distributed run, or a CuPy
without stream capture. See docs/jit-compile.md.
"""

import collections
import warnings

import numpy as np

from gpuk._array import get_array_module, graphs
from gpuk._array import random as array_random
from gpuk.autograd import Tensor
from gpuk.layers.base import flatten, pack_like
from gpuk.models import training_distributed as distributed
from gpuk.optimizers import schedules

#: eager calls per input signature before the capture
WARMUP_STEPS = 2
#: captured signatures kept per model (least recently used dropped)
MAX_GRAPHS = 8


def _leaf_array(leaf):
    if isinstance(leaf, Tensor):
        return leaf.data
    return leaf if hasattr(leaf, "__cuda_array_interface__") else None


def _signature(batch):
    """The batch's structure with each array replaced by (shape, dtype): the graph's key."""
    leaves = flatten(batch)
    key = []
    for leaf in leaves:
        array = _leaf_array(leaf)
        if array is None:  # None, a Python number or a host value (a capture would refuse it)
            plain = leaf is None or isinstance(leaf, (bool, int, float, str))
            key.append(("value", type(leaf).__name__, leaf if plain else id(leaf)))
        else:
            key.append((tuple(array.shape), array.dtype.str, isinstance(leaf, Tensor)))
    structure = pack_like(batch, [None] * len(leaves))
    return repr(structure), tuple(key)


class _Graph:
    """One captured step: its graph, static inputs, state arrays and returned logs."""

    def __init__(self, captured, static, state, logs, scalars, device_schedule):
        self.captured = captured
        self.static = static  # the static batch's arrays, written before each launch
        self.state = state  # [(variable, array the graph reads and writes)]
        self.logs = logs
        self.scalars = scalars  # the _DeviceScalars the graph reads
        self.device_schedule = device_schedule  # the rate is computed inside the graph


class _DeviceScalars(dict):
    """``Optimizer._device_scalars``: the device step counter and rate; with ``schedule`` set,
    the rate read during the capture is the schedule computed from the device counter."""

    schedule = None

    def __init__(self, xp, rate_dtype):
        super().__init__(
            iterations=xp.zeros((), dtype=np.int64),
            learning_rate=xp.zeros((), dtype=rate_dtype),
        )
        self.rate_dtype = rate_dtype
        self.host_values = {}  # what the device scalars hold, as host values

    def refresh(self, optimizer, rate=True):
        """Refill the step counter (and the rate, unless the graph computes it) where the host
        values moved: a fill with a scalar argument, no upload, no sync."""
        iterations = int(optimizer._iterations.data)
        if self.host_values.get("iterations") != iterations:
            dict.__getitem__(self, "iterations").fill(np.int64(iterations))
            self.host_values["iterations"] = iterations
        if rate:
            value = np.asarray(optimizer._learning_rate_value(host=True))
            value = value.astype(self.rate_dtype)[()]
            if self.host_values.get("learning_rate") != value:
                dict.__getitem__(self, "learning_rate").fill(value)
                self.host_values["learning_rate"] = value

    def __getitem__(self, key):
        if key == "learning_rate" and self.schedule is not None:
            return self.schedule(dict.__getitem__(self, "iterations"))
        return dict.__getitem__(self, key)


class GraphTrainStep:
    """The train function of a model compiled with ``jit_compile=True`` (see module notes)."""

    def __init__(self, model):
        self.model = model
        self.graphs = collections.OrderedDict()
        self.calls = collections.Counter()
        self.disabled = None  # the reason, once the model fell back to eager steps
        self.scalars = {}  # rate dtype -> _DeviceScalars (shared by the graphs)

    # ------------------------------------------------------------------ entry point
    def __call__(self, batch):
        model = self.model
        if self.disabled is not None:
            return model.train_step(batch)
        reason = self._unsupported_reason(batch)
        if reason is not None:
            self._fall_back(reason)
            return model.train_step(batch)
        optimizer = model.optimizer
        key = (
            _signature(batch),
            id(optimizer),
            id(optimizer._learning_rate),
            self._trainable_key(),
        )
        graph = self.graphs.get(key)
        if graph is not None:
            self.graphs.move_to_end(key)
            return self._launch(graph, batch)
        self.calls[key] += 1
        if self.calls[key] <= max(WARMUP_STEPS, 1):
            # eager warm-up: builds the optimizer's slots and the metrics outside the capture
            return model.train_step(batch)
        try:
            graph = self._capture(batch)
        except graphs.CaptureUnsupported as error:
            self._fall_back(str(error))
            return model.train_step(batch)
        self.graphs[key] = graph
        if len(self.graphs) > MAX_GRAPHS:
            self.graphs.popitem(last=False)
        return self._first_launch(graph, batch)

    def _trainable_key(self):
        return tuple(id(v) for v in self.model.trainable_weights)

    def _unsupported_reason(self, batch):
        model = self.model
        optimizer = model.optimizer
        leaves = [_leaf_array(leaf) for leaf in flatten(batch)]
        arrays = [a for a in leaves if a is not None]
        if not arrays:
            return "the batch holds no device arrays"
        reason = graphs.unavailable_reason(get_array_module(*arrays))
        if reason is not None:
            return reason
        if distributed.active():
            return "a distributed (multi-process) run reduces gradients across processes"
        if optimizer is None:
            return "the model has no optimizer"
        if type(optimizer).__name__ in ("LossScaleOptimizer", "MultiOptimizer"):
            return (
                f"{type(optimizer).__name__} decides on the host whether to apply each step "
                "(dynamic loss scale / several optimizers)"
            )
        if getattr(optimizer, "gradient_accumulation_steps", None):
            return "gradient_accumulation_steps decides on the host which steps update"
        if getattr(optimizer, "use_ema", False):
            return "use_ema branches on the host step count"
        return None

    def _fall_back(self, reason):
        self.disabled = reason
        self.graphs.clear()
        warnings.warn(
            f"jit_compile=True: model {self.model.name!r} trains eagerly (no CUDA graph): "
            f"{reason.rstrip('.')}.",
            RuntimeWarning,
            stacklevel=4,
        )

    # ------------------------------------------------------------------ state
    def _state_variables(self):
        """Every variable a step may read or write, each once."""
        model = self.model
        seen, state = set(), []
        groups = [model.variables, model.optimizer.variables]
        groups += [metric.variables for metric in _all_metrics(model)]
        for group in groups:
            for variable in group:
                if id(variable) not in seen and _leaf_array(variable.data) is not None:
                    seen.add(id(variable))
                    state.append(variable)
        return state

    def _device_scalars(self, xp):
        optimizer = self.model.optimizer
        dtype = np.asarray(optimizer._learning_rate_value(host=True)).dtype
        scalars = self.scalars.get(dtype)
        if scalars is None:
            scalars = self.scalars[dtype] = _DeviceScalars(xp, dtype)
        learning_rate = optimizer._learning_rate
        scalars.schedule = (
            schedules.device_rate(learning_rate)
            if isinstance(learning_rate, schedules.LearningRateSchedule) and not optimizer.decay
            else None
        )
        scalars.refresh(optimizer, rate=scalars.schedule is None)
        return scalars

    # ------------------------------------------------------------------ capture
    def _capture(self, batch):
        model = self.model
        optimizer = model.optimizer
        for layer in model._flatten_layers():
            if getattr(layer, "stateful", False) is True:
                raise graphs.CaptureUnsupported(
                    f"layer {layer.name!r} is stateful: it keeps its state between steps in "
                    "Python attributes, not in variables the graph writes back"
                )
        leaves = flatten(batch)
        static_leaves, static = [], []
        for leaf in leaves:
            array = _leaf_array(leaf)
            if array is None:
                static_leaves.append(leaf)
                continue
            copy = array.copy()
            static.append(copy)
            static_leaves.append(Tensor(copy) if isinstance(leaf, Tensor) else copy)
        static_batch = pack_like(batch, static_leaves)
        xp = get_array_module(*static)
        scalars = self._device_scalars(xp)
        array_random.prepare_graph_random(xp)
        state = [(variable, variable.data) for variable in self._state_variables()]
        host_iterations = optimizer._iterations.data

        def step():
            logs = model.train_step(static_batch)
            for variable, array in state:
                if variable.data is not array:
                    new = variable.data
                    if new.shape != array.shape or new.dtype != array.dtype:
                        raise graphs.CaptureUnsupported(
                            f"the step changes the shape of variable {variable.path!r}"
                        )
                    array[...] = new  # recorded: the step's result lands in the noted array
            return logs

        device_schedule = scalars.schedule is not None
        optimizer._device_scalars = scalars
        try:
            captured, logs = graphs.capture(step)
        finally:
            optimizer._device_scalars = None
            scalars.schedule = None
            for variable, array in state:
                variable.data = array
            optimizer._iterations.data = host_iterations
        if not isinstance(logs, dict):
            raise graphs.CaptureUnsupported("train_step did not return a dict of logs")
        return _Graph(captured, static, state, logs, scalars, device_schedule)

    # ------------------------------------------------------------------ replay
    def _first_launch(self, graph, batch):
        """Launch a new graph, checking once (two host reads per capture, none per replay)
        that the capture executed nothing and the launch ran the step: the device step counter
        must be unchanged by the capture and one higher after the launch. A CuPy (or a
        stand-in) whose capture runs the step, or whose graph replays nothing, would otherwise
        train wrong without a word; such a model falls back to eager steps instead."""
        optimizer = self.model.optimizer
        counter = graph.scalars["iterations"]
        before = graph.scalars.host_values["iterations"]
        if int(counter) != before:  # the "capture" ran the step: it has happened, once
            self._fall_back("the stream capture executed the step instead of recording it")
            optimizer._iterations.data = np.asarray(before + 1, dtype=np.int64)
            return dict(graph.logs)
        logs = self._launch(graph, batch)
        after = int(counter)
        if after == before + 1:
            return logs
        if after == before:  # the launch replayed nothing: run the step eagerly instead
            self._fall_back("a launch of the captured CUDA graph did not run the step")
            optimizer._iterations.data = np.asarray(before, dtype=np.int64)
            return self.model.train_step(batch)
        raise RuntimeError(
            f"jit_compile=True: model {self.model.name!r}: one launch of the captured step "
            f"moved the device step counter from {before} to {after}"
        )

    def _launch(self, graph, batch):
        model = self.model
        optimizer = model.optimizer
        arrays = [a for a in (_leaf_array(leaf) for leaf in flatten(batch)) if a is not None]
        for target, source in zip(graph.static, arrays):
            if target is not source:
                target[...] = source
        for variable, array in graph.state:
            if variable.data is not array:  # rebound between steps (reset_state, set_weights)
                array[...] = variable.data
                variable.data = array
        graph.scalars.refresh(optimizer, rate=not graph.device_schedule)
        graph.captured.launch()
        optimizer._iterations.data = np.asarray(optimizer._iterations.data + 1, dtype=np.int64)
        graph.scalars.host_values["iterations"] += 1
        return dict(graph.logs)


def _all_metrics(model):
    """The metrics of ``model.metrics`` and those inside containers (compiled metrics)."""
    out, stack = [], list(model.metrics)
    while stack:
        metric = stack.pop()
        out.append(metric)
        stack.extend(getattr(metric, "metrics", []) or [])
    return out


__all__ = ["GraphTrainStep", "MAX_GRAPHS", "WARMUP_STEPS"]
