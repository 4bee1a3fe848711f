"""compile / fit / evaluate / predict: the Keras 3 training API, mixed into ``Model``.

The loops call the public step methods, so a subclass that overrides them is used::

    fit      -> train_step(data)    evaluate -> test_step(data)    predict -> predict_step(data)

``data`` is packed as Keras 3 packs it (``gpuk.utils.unpack_x_y_sample_weight`` splits it) with
every array a ``gpuk.Tensor`` on the device. The default steps run the model, call
:meth:`Trainer.compute_loss` (compiled loss plus ``model.losses``), update the ``loss``
tracker and the compiled metrics, and return :meth:`Trainer.get_metrics_result`: a dict of
0-d device Tensors, which becomes the logs.

Host syncs: a step never copies to the host. The logs are copied (all values in one transfer)
only when a callback implements the batch hook that receives them, once per epoch for the
epoch logs, and at the end of ``evaluate``/``*_on_batch``. With ``verbose=0`` and callbacks
that only look at epochs, the steady-state training step makes no host sync.
"""

import copy
import inspect
import warnings
import weakref

import numpy as np

from gpuk import ops
from gpuk import optimizers as optimizers_module
from gpuk._array import default_module, get_array_module
from gpuk.autograd import GradientTape, Tensor, is_recording, no_grad
from gpuk.layers.base import flatten
from gpuk.layers.layer_tracking import structure_version
from gpuk.metrics.base import Mean
from gpuk.models import data_adapters
from gpuk.models.training_graph import GraphTrainStep
from gpuk.models.training_loops import TrainingLoops
from gpuk.models.training_losses import CompiledLoss, CompiledMetrics
from gpuk.utils.packing import unpack_x_y_sample_weight

#: compute_loss function -> whether it takes ``training`` (see Trainer._compute_loss).
_TAKES_TRAINING = weakref.WeakKeyDictionary()


class _CompiledMetricsShim:
    """``model.compiled_metrics``: tf.keras 2's object, kept for custom steps written for it.

    ``update_state(y, y_pred, sample_weight)`` updates the metrics given to ``compile``.
    """

    def __init__(self, model):
        self._model = model

    def update_state(self, y_true, y_pred, sample_weight=None):
        compiled = self._model._compile_metrics
        if compiled is not None:
            with no_grad():
                compiled.update_state(y_true, y_pred, sample_weight)

    def result(self):
        compiled = self._model._compile_metrics
        return {} if compiled is None else compiled.result()

    def reset_state(self):
        if self._model._compile_metrics is not None:
            self._model._compile_metrics.reset_state()

    @property
    def metrics(self):
        compiled = self._model._compile_metrics
        return [] if compiled is None else compiled.metrics


class Trainer(TrainingLoops):
    """Keras's training methods; ``Model`` inherits them (the loops come from
    :class:`~gpuk.models.training_loops.TrainingLoops`)."""

    _compile_loss = None
    _compile_metrics = None
    _loss_tracker = None
    compiled = False
    optimizer = None

    def compile(
        self,
        optimizer="rmsprop",
        loss=None,
        loss_weights=None,
        metrics=None,
        weighted_metrics=None,
        run_eagerly=None,
        steps_per_execution=None,
        jit_compile=None,
        auto_scale_loss=True,
        **kwargs,
    ):
        """Configure the model for training.

        Args:
            optimizer: a name (``"adam"``, ``"sgd"``, ...) or an optimizer instance.
            loss: optional. A name (``"mse"``), a function ``loss(y_true, y_pred)``, a
                ``gpuk.losses.Loss``, or for several outputs a list (output order) or a dict
                by output name (``None`` entries leave an output without a loss). Without a
                loss, training minimises ``model.losses`` (``add_loss``, regularizers) or
                whatever a custom ``train_step`` computes.
            loss_weights: a list or dict of scalars: the minimised loss is
                ``sum_i loss_weights[i] * loss_i + sum(model.losses)``.
            metrics: a list of metrics for every output, a list of lists (one per output),
                or a dict ``{output_name: metric or list}``; names (``"accuracy"``/``"acc"``
                resolves to binary, categorical or sparse accuracy from the loss and shapes),
                functions or Metric objects.
            weighted_metrics: metrics that take ``sample_weight``/``class_weight`` into account.
            jit_compile: ``True`` captures the training step as a CUDA graph on the GPU and
                replays it (docs/jit-compile.md); ``False`` and ``"auto"`` (the default) run
                eagerly, as does ``True`` on the CPU. With ``run_eagerly=True`` it is disabled
                with Keras's warning.
            run_eagerly, steps_per_execution, auto_scale_loss: accepted for compatibility;
                gpuk runs eagerly unless ``jit_compile=True``.
        """
        unknown = sorted(set(kwargs) - {"sample_weight_mode", "target_tensors", "distribute"})
        if unknown:
            raise TypeError(f"compile() got unexpected keyword arguments {unknown}")
        if jit_compile not in (None, True, False, "auto"):
            raise ValueError(
                f"compile(): `jit_compile` must be True, False or 'auto'; received "
                f"jit_compile={jit_compile!r}"
            )
        if jit_compile and jit_compile != "auto" and run_eagerly:
            warnings.warn(
                "If `run_eagerly` is True, then `jit_compile` cannot also be True. Disabling "
                "`jit_compile`.",
                stacklevel=2,
            )
            jit_compile = False
        if metrics is None and _looks_like_metrics(loss_weights):
            # tf.keras 2's positional order was (optimizer, loss, metrics, loss_weights).
            metrics, loss_weights = loss_weights, None
        self.optimizer = optimizers_module.get(optimizer)
        if (
            auto_scale_loss
            and self.dtype_policy.name == "mixed_float16"
            and self.optimizer is not None
            and not isinstance(self.optimizer, optimizers_module.LossScaleOptimizer)
        ):
            # Keras 3: float16 training scales the loss dynamically.
            self.optimizer = optimizers_module.LossScaleOptimizer(
                self.optimizer, name="loss_scale_optimizer"
            )
        self.loss = loss
        self.loss_weights = loss_weights
        names, aliases = self._known_output_names()
        self._compile_loss = None
        if loss is not None:
            self._compile_loss = CompiledLoss(loss, loss_weights, names)
            self._compile_loss.model_output_names = names
            if names is not None:
                self._compile_loss.build(names, aliases)
        self._compile_metrics = None
        if metrics is not None or weighted_metrics is not None:
            self._compile_metrics = CompiledMetrics(
                metrics, weighted_metrics, None, self._compile_loss
            )
            if names is not None:
                self._compile_metrics.build(names, aliases)
            self._compile_metrics.model_output_names = names
        self._loss_tracker = Mean(name="loss")
        self._compile_config = {
            "optimizer": optimizer,
            "loss": loss,
            "metrics": metrics,
            "loss_weights": loss_weights,
            "weighted_metrics": weighted_metrics,
        }
        self.jit_compile = jit_compile
        self.compiled = True
        self._is_compiled = True
        self.stop_training = False

    @property
    def jit_compile(self):
        """Whether ``fit``/``train_on_batch`` capture the training step as a CUDA graph
        (``compile(jit_compile=True)``; see docs/jit-compile.md). Settable."""
        return self.__dict__.get("_jit_compile", False)

    @jit_compile.setter
    def jit_compile(self, value):
        self.__dict__["_jit_compile"] = value != "auto" and bool(value)
        self.__dict__["_graph_train_step"] = None

    def _train_function(self):
        """What ``fit`` and ``train_on_batch`` call per batch: ``train_step``, or with
        ``jit_compile=True`` on the GPU the CUDA-graph runner (on the CPU there is nothing to
        capture: the steps run eagerly, silently, as Keras's jit_compile does on the CPU)."""
        if not self.jit_compile or default_module() is np:
            return self.train_step
        runner = self.__dict__.get("_graph_train_step")
        if runner is None:
            runner = self.__dict__["_graph_train_step"] = GraphTrainStep(self)
        return runner

    def _known_output_names(self):
        """``(output names, dict keys of the outputs or None)`` for graph models, else
        ``(None, None)`` (subclassed models: taken from the first batch)."""
        ensure = getattr(self, "_ensure_graph", None)
        if ensure is not None and not ensure():
            return None, None
        if getattr(self, "_outputs", None) is None:
            return None, None
        structure = getattr(self, "_output_structure", None)
        aliases = sorted(structure) if isinstance(structure, dict) else None
        return list(self.output_names), aliases

    # ------------------------------------------------------------ metrics
    @property
    def metrics(self):
        """The metrics reported in the logs, in Keras 3's order: the ``loss`` tracker, the
        compiled metrics, the per-output loss trackers, metrics tracked as attributes of the
        model, then those of its layers."""
        metrics = []
        if self.compiled:
            if self._loss_tracker is not None:
                metrics.append(self._loss_tracker)
            if self._compile_metrics is not None:
                metrics.append(self._compile_metrics)
            if self._compile_loss is not None:
                metrics.extend(self._compile_loss.metrics)
        metrics.extend(self._tracked_metrics())
        return metrics

    def _tracked_metrics(self):
        """The metrics tracked as attributes of the model and of its layers (not of nested
        models), as a tuple cached until a layer gains a metric or a sub-layer."""
        version = structure_version()
        cache = self.__dict__.get("_tracked_metrics_cache")
        if cache is not None and cache[0] == version and cache[1] is self:
            return cache[2]
        tracked = list(getattr(self, "_metrics", []))
        for layer in self._flatten_layers(include_self=False):
            if not isinstance(layer, Trainer):
                tracked.extend(getattr(layer, "_metrics", []))
        tracked = tuple(tracked)
        self.__dict__["_tracked_metrics_cache"] = (version, self, tracked)
        return tracked

    @property
    def metrics_names(self):
        """Names of the values ``evaluate`` returns as a list, in that order."""
        return list(self._metric_name_order())

    def _metric_name_order(self):
        names = []
        metrics = self.metrics
        compiled = [m for m in metrics if isinstance(m, CompiledMetrics)]
        loss_metrics = [] if self._compile_loss is None else self._compile_loss.metrics
        for metric in metrics:
            if metric is self._loss_tracker:
                names.append(metric.name)
                names.extend(m.name for m in loss_metrics)
        for metric in compiled:
            names.extend(metric.names)
        for metric in metrics:
            if metric is self._loss_tracker or isinstance(metric, CompiledMetrics):
                continue
            if any(metric is m for m in loss_metrics):
                continue
            names.append(metric.name)
        return names

    def reset_metrics(self):
        """Reset the state of every metric in :attr:`metrics`."""
        for metric in self.metrics:
            metric.reset_state()

    @property
    def compiled_metrics(self):
        """tf.keras 2's ``compiled_metrics`` (``update_state`` updates the compiled metrics)."""
        return _CompiledMetricsShim(self)

    def compiled_loss(self, y, y_pred, sample_weight=None, regularization_losses=None):
        """tf.keras 2's ``compiled_loss``: :meth:`compute_loss` (which already adds
        ``model.losses``) that also updates the ``loss`` tracker."""
        loss = self.compute_loss(x=None, y=y, y_pred=y_pred, sample_weight=sample_weight)
        if self._loss_tracker is not None:
            self._loss_tracker.update_state(
                Tensor(loss.data), sample_weight=data_adapters.batch_size_of(y_pred)
            )
        return loss

    # ------------------------------------------------------- loss and metrics
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The total loss: the compiled loss of ``y_pred`` against ``y`` plus ``model.losses``.

        Override it to change what is minimised; ``x`` and ``training`` are unused here.

        Raises:
            ValueError: when there is nothing to minimise (no compiled loss, no added losses).
        """
        del x, training
        losses = []
        if self._compile_loss is not None:
            loss = self._compile_loss(y, y_pred, sample_weight)
            if loss is not None:
                losses.append(loss)
        for loss in self.losses:
            if not isinstance(loss, Tensor):
                loss = Tensor(get_array_module(loss).asarray(loss))
            if loss.dtype.kind != "f":
                loss = ops.cast(loss, "float32")
            losses.append(ops.sum(loss) if loss.ndim else loss)
        if not losses:
            raise ValueError(
                f"No loss to compute for model {self.name!r}. Provide a `loss` argument in "
                "`compile()`, add losses with `add_loss()`, or override `train_step`."
            )
        total = losses[0]
        for loss in losses[1:]:
            total = total + loss
        return total

    def _compute_loss(self, x, y, y_pred, sample_weight, training):
        """Call :meth:`compute_loss`, also when an override has no ``training`` argument."""
        compute_loss = self.compute_loss
        key = getattr(compute_loss, "__func__", compute_loss)
        takes_training = _TAKES_TRAINING.get(key)
        if takes_training is None:  # inspect.signature costs ~20 us: once per function
            params = inspect.signature(compute_loss).parameters
            takes_training = "training" in params or any(
                p.kind is p.VAR_KEYWORD for p in params.values()
            )
            _TAKES_TRAINING[key] = takes_training
        if takes_training:
            return self.compute_loss(x, y, y_pred, sample_weight, training=training)
        return self.compute_loss(x, y, y_pred, sample_weight)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        """Update the compiled metrics and return :meth:`get_metrics_result`."""
        del x
        if self._compile_metrics is not None:
            if is_recording():
                with no_grad():
                    self._compile_metrics.update_state(y, y_pred, sample_weight)
            else:  # the default train_step updates the metrics after its tape
                self._compile_metrics.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    def get_metrics_result(self):
        """``{name: value}`` for every metric in :attr:`metrics` (dict results are merged);
        the values are 0-d device Tensors."""
        results = {}
        for metric in self.metrics:
            result = metric.result()
            if isinstance(result, dict):
                results.update(result)
            else:
                results[metric.name] = result
        return results

    def _track_loss(self, loss, x):
        if self._loss_tracker is not None:
            value = Tensor(loss.data) if isinstance(loss, Tensor) else loss
            self._loss_tracker.update_state(value, sample_weight=data_adapters.batch_size_of(x))

    # ------------------------------------------------------------------ steps
    def train_step(self, data):
        """One training step on a batch; returns the logs dict.

        ``data`` is ``x``, ``(x, y)`` or ``(x, y, sample_weight)`` (see
        ``gpuk.utils.unpack_x_y_sample_weight``). Override it to customise ``fit``.
        """
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        with GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self._compute_loss(x, y, y_pred, sample_weight, training=True)
            # Keras 3: the optimizer scales the loss (LossScaleOptimizer, loss_scale_factor)
            # and unscales the gradients in apply_gradients.
            scaled = self.optimizer.scale_loss(loss) if self.optimizer is not None else loss
        self._track_loss(loss, x)
        variables = self.trainable_weights
        if variables:
            grads = tape.gradient(scaled, variables)
            self.optimizer.apply_gradients(zip(grads, variables))
        else:
            warnings.warn("The model does not have any trainable weights.", stacklevel=2)
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def test_step(self, data):
        """One evaluation step on a batch; returns the logs dict. Override it to customise
        ``evaluate``."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        loss = self._compute_loss(x, y, y_pred, sample_weight, training=False)
        self._track_loss(loss, x)
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def predict_step(self, data):
        """The model's outputs for one batch. Override it to customise ``predict``."""
        x, _, _ = unpack_x_y_sample_weight(data)
        return self(x, training=False)

    def _get_metrics_result_or_logs(self, logs):
        """The metrics' results when the step's logs have the same keys, else the logs (a
        custom step may return other names)."""
        results = self.get_metrics_result()
        if isinstance(logs, dict) and set(logs) == set(results):
            return results
        return logs

    def _require_compiled(self, what):
        if not self.compiled:
            raise ValueError(f"You must call compile() on model {self.name!r} before {what}()")

    def get_compile_config(self):
        """The arguments ``compile`` was called with (for saving)."""
        return copy.copy(getattr(self, "_compile_config", None))


def _looks_like_metrics(value):
    items = list(value.values()) if isinstance(value, dict) else value
    if not isinstance(items, (list, tuple)):
        return False
    return any(not isinstance(v, (int, float, type(None))) for v in flatten(list(items)))


__all__ = ["Trainer"]
