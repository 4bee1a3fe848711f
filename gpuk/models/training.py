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

import numpy as np

from gpuk import ops
from gpuk import optimizers as optimizers_module
from gpuk._array import get_array_module, to_numpy
from gpuk.autograd import GradientTape, Tensor, no_grad
from gpuk.callbacks import CallbackList
from gpuk.callbacks.base import logs_to_host
from gpuk.layers.base import flatten, pack_like
from gpuk.metrics.base import Mean
from gpuk.models import training_data as data_module
from gpuk.models.training_losses import CompiledLoss, CompiledMetrics
from gpuk.utils.packing import pack_x_y_sample_weight, unpack_x_y_sample_weight


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


class Trainer:
    """Keras's training methods; ``Model`` inherits them."""

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
            run_eagerly, steps_per_execution, jit_compile, auto_scale_loss: accepted for
                compatibility; gpuk always runs eagerly.
        """
        unknown = sorted(set(kwargs) - {"sample_weight_mode", "target_tensors", "distribute"})
        if unknown:
            raise TypeError(f"compile() got unexpected keyword arguments {unknown}")
        if metrics is None and _looks_like_metrics(loss_weights):
            # tf.keras 2's positional order was (optimizer, loss, metrics, loss_weights).
            metrics, loss_weights = loss_weights, None
        self.optimizer = optimizers_module.get(optimizer)
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
        self.compiled = True
        self._is_compiled = True
        self.stop_training = False

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
        metrics.extend(getattr(self, "_metrics", []))
        for layer in self._flatten_layers(include_self=False):
            if isinstance(layer, Trainer):
                continue
            metrics.extend(getattr(layer, "_metrics", []))
        return metrics

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
                Tensor(loss.data), sample_weight=data_module.batch_size_of(y_pred)
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
        params = inspect.signature(self.compute_loss).parameters
        if "training" in params or any(p.kind is p.VAR_KEYWORD for p in params.values()):
            return self.compute_loss(x, y, y_pred, sample_weight, training=training)
        return self.compute_loss(x, y, y_pred, sample_weight)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        """Update the compiled metrics and return :meth:`get_metrics_result`."""
        del x
        if self._compile_metrics is not None:
            with no_grad():
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
            self._loss_tracker.update_state(value, sample_weight=data_module.batch_size_of(x))

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
        self._track_loss(loss, x)
        variables = self.trainable_weights
        if variables:
            grads = tape.gradient(loss, variables)
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

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        x=None,
        y=None,
        batch_size=None,
        epochs=1,
        verbose="auto",
        callbacks=None,
        validation_split=0.0,
        validation_data=None,
        shuffle=True,
        class_weight=None,
        sample_weight=None,
        initial_epoch=0,
        steps_per_epoch=None,
        validation_steps=None,
        validation_batch_size=None,
        validation_freq=1,
        **kwargs,
    ):
        """Train the model for a number of epochs; returns a ``History``.

        Args:
            x: input data: an array, a list/tuple of arrays, a dict keyed by input name, a
                generator yielding ``x``, ``(x, y)`` or ``(x, y, sample_weight)``, or a
                ``gpuk.utils.PyDataset``/``Sequence``.
            y: targets like ``x`` (a list or dict for several outputs); omitted with a
                generator or data set, and for models trained through ``add_loss`` alone.
            batch_size: samples per gradient update (32 when None); not for generators.
            epochs: index of the last epoch (training runs from ``initial_epoch`` to it).
            verbose: 0 silent, 1 progress bar, 2 one line per epoch; ``"auto"`` is 1.
            callbacks: a list of ``gpuk.callbacks.Callback``.
            validation_split: fraction of the array data held out for validation, taken from
                the end before shuffling (as Keras does); not with generators.
            validation_data: ``(x_val, y_val)``, ``(x_val, y_val, sample_weight)``, or a
                generator/data set, evaluated at the end of each epoch.
            shuffle: shuffle array data before each epoch (``"batch"`` shuffles batch order).
            class_weight: ``{class_index: weight}`` scaling each sample's loss by its class.
            sample_weight: per-sample loss weights, shape ``(samples,)``.
            initial_epoch: epoch to start from (to resume a run).
            steps_per_epoch: batches per epoch (default: one pass over the data).
            validation_steps: batches of validation data per evaluation.
            validation_batch_size: batch size for validation (default ``batch_size``).
            validation_freq: validate every N epochs, or on the epochs listed (1-based).

        Returns:
            A ``History`` whose ``history`` maps each log name (``loss``, metrics, their
            ``val_`` twins) to per-epoch values.
        """
        if kwargs:
            raise TypeError(f"fit() got unexpected keyword arguments {sorted(kwargs)}")
        self._require_compiled("fit")
        verbose = 1 if verbose == "auto" else int(verbose)
        train, validation = self._make_fit_data(
            x,
            y,
            batch_size,
            validation_split,
            validation_data,
            shuffle,
            class_weight,
            sample_weight,
            steps_per_epoch,
            validation_steps,
            validation_batch_size,
        )
        callback_list = (
            callbacks
            if isinstance(callbacks, CallbackList)
            else CallbackList(
                callbacks,
                add_history=True,
                add_progbar=verbose != 0,
                model=self,
                verbose=verbose,
                epochs=epochs,
                steps=len(train),
            )
        )
        self.stop_training = False
        callback_list.on_train_begin()
        # BackupAndRestore sets _initial_epoch in on_train_begin when it restores a backup.
        initial_epoch = getattr(self, "_initial_epoch", None) or initial_epoch
        self._initial_epoch = None
        training_logs = None
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            callback_list.on_epoch_begin(epoch)
            logs = None
            for step, batch in enumerate(train.epoch()):
                callback_list.on_train_batch_begin(step)
                logs = self.train_step(batch)
                callback_list.on_train_batch_end(step, logs)
                if self.stop_training:
                    break
            if logs is None:
                warnings.warn("fit(): the training data produced no batches", stacklevel=2)
                break
            epoch_logs = dict(self._get_metrics_result_or_logs(logs))
            if validation is not None and _should_validate(epoch, validation_freq):
                val_logs = self._evaluation_loop(validation, callback_list)
                epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
            epoch_logs = logs_to_host(epoch_logs)
            callback_list.on_epoch_end(epoch, epoch_logs)
            training_logs = epoch_logs
            if self.stop_training or train.exhausted:
                if train.exhausted and epoch + 1 < epochs:
                    warnings.warn(
                        "fit(): the generator ran out of data; give steps_per_epoch or a "
                        "PyDataset to train several epochs",
                        stacklevel=2,
                    )
                break
        callback_list.on_train_end(training_logs)
        return callback_list.history

    def _make_fit_data(
        self,
        x,
        y,
        batch_size,
        validation_split,
        validation_data,
        shuffle,
        class_weight,
        sample_weight,
        steps_per_epoch,
        validation_steps,
        validation_batch_size,
    ):
        if data_module.is_generator_like(x):
            if y is not None:
                raise ValueError("fit(): y must not be given when x is a generator or data set")
            if validation_split:
                raise ValueError(
                    "fit(): validation_split is only supported for array data, not for "
                    "generators or data sets; pass validation_data instead"
                )
            if batch_size is not None:
                raise ValueError(
                    "fit(): batch_size must not be given with a generator; "
                    "the generator decides the batch size"
                )
            train = data_module.GeneratorBatches(x, steps_per_epoch)
        else:
            x, y, sample_weight = self._array_data(x, y, sample_weight, class_weight)
            validation_from_split = None
            if validation_split and validation_data is None:
                (x, y, sample_weight), validation_from_split = data_module.split_validation(
                    x, y, sample_weight, validation_split
                )
            train = data_module.ArrayBatches(
                x, y, sample_weight, batch_size or 32, shuffle, steps_per_epoch
            )
            if validation_from_split is not None:
                vx, vy, vsw = validation_from_split
                return train, data_module.ArrayBatches(
                    vx, vy, vsw, validation_batch_size or batch_size or 32, False, validation_steps
                )
        if validation_data is None:
            return train, None
        return train, self._validation_batches(
            validation_data, validation_batch_size or batch_size or 32, validation_steps
        )

    def _validation_batches(self, validation_data, batch_size, steps):
        if data_module.is_generator_like(validation_data):
            return data_module.GeneratorBatches(validation_data, steps)
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise ValueError(
                "validation_data must be (x_val, y_val), (x_val, y_val, sample_weight) or a "
                f"generator; got {type(validation_data).__name__} of length "
                f"{len(validation_data) if hasattr(validation_data, '__len__') else '?'}"
            )
        vx, vy, vsw = unpack_x_y_sample_weight(tuple(validation_data))
        vx, vy, vsw = self._array_data(vx, vy, vsw, None)
        return data_module.ArrayBatches(vx, vy, vsw, batch_size, False, steps)

    def _array_data(self, x, y, sample_weight, class_weight):
        """Check array data and fold ``class_weight`` into ``sample_weight``."""
        if x is None:
            raise ValueError(f"Model {self.name!r}: no input data given (x is None)")
        x = data_module.standardize(x)
        y = data_module.standardize(y)
        self._maybe_build_from_data(x)
        if class_weight is not None:
            if y is None:
                raise ValueError("class_weight needs targets (y)")
            if sample_weight is not None:
                raise ValueError(
                    "Arguments `sample_weight` and `class_weight` cannot be specified at the "
                    "same time."
                )
            sample_weight = data_module.class_weights_to_sample_weights(y, class_weight)
        elif sample_weight is not None:
            sample_weight = data_module.standardize(sample_weight)
        arrays = data_module.leaves(x) + data_module.leaves(y)
        data_module.num_samples(arrays + data_module.leaves(sample_weight), "inputs and targets")
        return x, y, sample_weight

    def _maybe_build_from_data(self, x):
        ensure_graph = getattr(self, "_ensure_graph", None)
        if ensure_graph is not None and not ensure_graph():
            # A Sequential model without an input shape is built from the first data it sees.
            first = data_module.leaves(x)[0]
            self.build(
                (None,) + tuple(np.shape(first) if not hasattr(first, "shape") else first.shape)[1:]
            )

    # ------------------------------------------------------------- evaluate
    def _evaluation_loop(self, batches, callbacks):
        """Run ``test_step`` over ``batches``; returns the logs (device values)."""
        callbacks.on_test_begin()
        self.reset_metrics()
        logs = None
        self.stop_evaluating = False
        for step, batch in enumerate(batches.epoch()):
            callbacks.on_test_batch_begin(step)
            logs = self.test_step(batch)
            callbacks.on_test_batch_end(step, logs)
            if self.stop_evaluating:
                break
        logs = {} if logs is None else self._get_metrics_result_or_logs(logs)
        logs = logs_to_host(logs)
        callbacks.on_test_end(logs)
        return logs

    def evaluate(
        self,
        x=None,
        y=None,
        batch_size=None,
        verbose="auto",
        sample_weight=None,
        steps=None,
        callbacks=None,
        return_dict=False,
        **kwargs,
    ):
        """Return the loss and metrics on the given data.

        Returns a scalar when there is only the loss, else a list ordered as
        ``metrics_names``; a dict when ``return_dict=True``.
        """
        if kwargs:
            raise TypeError(f"evaluate() got unexpected keyword arguments {sorted(kwargs)}")
        self._require_compiled("evaluate")
        if data_module.is_generator_like(x):
            batches = data_module.GeneratorBatches(x, steps)
        else:
            x, y, sample_weight = self._array_data(x, y, sample_weight, None)
            batches = data_module.ArrayBatches(x, y, sample_weight, batch_size or 32, False, steps)
        verbose = 1 if verbose == "auto" else int(verbose)
        callback_list = (
            callbacks
            if isinstance(callbacks, CallbackList)
            else CallbackList(
                callbacks,
                add_progbar=verbose != 0,
                model=self,
                verbose=verbose,
                epochs=1,
                steps=len(batches),
            )
        )
        return self._format_logs(self._evaluation_loop(batches, callback_list), return_dict)

    # -------------------------------------------------------------- predict
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Run ``predict_step`` on ``x`` in batches without recording gradients.

        Returns NumPy arrays in the structure of the model's outputs (one array, a list, or
        a dict).
        """
        if data_module.is_generator_like(x):
            batches = data_module.GeneratorBatches(x, steps)
        else:
            x = data_module.standardize(x)
            self._maybe_build_from_data(x)
            batches = data_module.ArrayBatches(x, None, None, batch_size or 32, False, steps)
        verbose = 1 if verbose == "auto" else int(verbose)
        callback_list = CallbackList(
            callbacks,
            add_progbar=verbose != 0,
            model=self,
            verbose=verbose,
            epochs=1,
            steps=len(batches),
        )
        callback_list.on_predict_begin()
        structure, chunks = None, None
        for step, batch in enumerate(batches.epoch()):
            callback_list.on_predict_batch_begin(step)
            with no_grad():
                outputs = self.predict_step(batch)
            flat = [_raw(o) for o in flatten(outputs)]
            if structure is None:
                structure, chunks = outputs, [[] for _ in flat]
            for chunk, output in zip(chunks, flat):
                chunk.append(output)
            callback_list.on_predict_batch_end(step, {"outputs": outputs})
        callback_list.on_predict_end()
        if structure is None:
            return np.zeros((0,))
        results = [_concatenate(chunk) for chunk in chunks]
        return pack_like(structure, results)

    # ------------------------------------------------------------ on_batch
    def train_on_batch(
        self,
        x,
        y=None,
        sample_weight=None,
        class_weight=None,
        reset_metrics=True,
        return_dict=False,
    ):
        """One ``train_step`` on one batch; returns the loss (and metrics) like evaluate."""
        self._require_compiled("train_on_batch")
        return self._on_batch(
            self.train_step, x, y, sample_weight, class_weight, reset_metrics, return_dict
        )

    def test_on_batch(self, x, y=None, sample_weight=None, reset_metrics=True, return_dict=False):
        """One ``test_step`` on one batch: the loss (and metrics), weights unchanged."""
        self._require_compiled("test_on_batch")
        return self._on_batch(self.test_step, x, y, sample_weight, None, reset_metrics, return_dict)

    def _on_batch(self, step, x, y, sample_weight, class_weight, reset_metrics, return_dict):
        if reset_metrics:
            self.reset_metrics()
        x, y, sample_weight = self._array_data(x, y, sample_weight, class_weight)
        arrays = data_module.leaves(x) + data_module.leaves(y)
        size = max(1, data_module.num_samples(arrays))
        (batch,) = data_module.ArrayBatches(x, y, sample_weight, size, False).epoch()
        logs = step(batch)
        return self._format_logs(logs_to_host(logs), return_dict)

    def predict_on_batch(self, x):
        """The model's outputs for one batch, as NumPy arrays."""
        x = data_module.standardize(x)
        self._maybe_build_from_data(x)
        with no_grad():
            outputs = self.predict_step(data_module.convert_batch(pack_x_y_sample_weight(x)))
        return pack_like(outputs, [to_numpy(_raw(o)) for o in flatten(outputs)])

    def _format_logs(self, logs, return_dict):
        """A dict, or Keras's value: a scalar for one value, else a list in
        ``metrics_names`` order (names it does not know come after, sorted)."""
        if return_dict:
            return logs
        order = self._metric_name_order()
        values = [logs[name] for name in order if name in logs]
        values += [logs[name] for name in sorted(logs) if name not in order]
        return values[0] if len(values) == 1 else values

    def get_compile_config(self):
        """The arguments ``compile`` was called with (for saving)."""
        return copy.copy(getattr(self, "_compile_config", None))


def _looks_like_metrics(value):
    items = list(value.values()) if isinstance(value, dict) else value
    if not isinstance(items, (list, tuple)):
        return False
    return any(not isinstance(v, (int, float, type(None))) for v in flatten(list(items)))


def _raw(value):
    return value.data if isinstance(value, Tensor) else value


def _concatenate(chunks):
    xp = get_array_module(*chunks)
    joined = chunks[0] if len(chunks) == 1 else xp.concatenate(chunks, axis=0)
    return np.asarray(to_numpy(joined))


def _should_validate(epoch, validation_freq):
    if isinstance(validation_freq, int):
        return (epoch + 1) % validation_freq == 0
    return epoch + 1 in validation_freq


__all__ = ["Trainer"]
