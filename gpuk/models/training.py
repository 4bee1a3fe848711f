"""compile / fit / evaluate / predict: the Keras training API, mixed into ``Model``.

A training step runs the model eagerly on device arrays inside a ``GradientTape``, applies
the optimizer, and updates metric states on the device. The only host copy per batch is one
small vector of log scalars.
"""

import copy
import warnings

import numpy as np

from gpuk import optimizers as optimizers_module
from gpuk._array import get_array_module, to_numpy
from gpuk.autograd import GradientTape, Tensor, no_grad
from gpuk.callbacks import CallbackList
from gpuk.models import training_data as data
from gpuk.models.training_losses import CompiledLoss, CompiledMetrics


class _RunningMean:
    """Sample-weighted mean of per-batch scalars, kept on the device."""

    def __init__(self):
        self.total = None
        self.count = 0

    def update(self, value, count):
        value = value.data * count
        self.total = value if self.total is None else self.total + value
        self.count += count

    def result(self):
        return self.total / max(self.count, 1)


class Trainer:
    """Keras's training methods; ``Model`` inherits them."""

    def compile(
        self,
        optimizer="rmsprop",
        loss=None,
        metrics=None,
        loss_weights=None,
        weighted_metrics=None,
        run_eagerly=None,
        steps_per_execution=None,
        jit_compile=None,
        **kwargs,
    ):
        """Configure the model for training.

        Args:
            optimizer: a name (``"adam"``, ``"sgd"``, ...) or an optimizer instance.
            loss: a name (``"mse"``), a function ``loss(y_true, y_pred)`` written with
                ``gpuk.backend`` / ``gpuk.ops``, a ``gpuk.losses.Loss`` instance, or, for a
                model with several outputs, a list (in output order) or a dict keyed by output
                name; ``None`` in a list/dict leaves that output without a loss.
            metrics: a list of metrics applied to every output, a list of lists (one list per
                output), or a dict ``{output_name: metric or list}``. Entries are names
                (``"accuracy"``/``"acc"`` is resolved to binary, categorical or sparse
                accuracy from the loss and shapes, as Keras does), functions or Metric objects.
            loss_weights: a list or dict of scalars. The loss that is minimised is
                ``sum_i loss_weights[i] * loss_i(y_true_i, y_pred_i) + sum(model.losses)``:
                the weighted sum of the output losses plus the layers' regularization losses.
            weighted_metrics: metrics that take ``sample_weight``/``class_weight`` into account.
            run_eagerly, steps_per_execution, jit_compile: accepted for compatibility; gpuk
                always runs eagerly.
        """
        unknown = sorted(set(kwargs) - {"sample_weight_mode", "target_tensors", "distribute"})
        if unknown:
            raise TypeError(f"compile() got unexpected keyword arguments {unknown}")
        if loss is None:
            warnings.warn(
                "compile() without a loss: fit() will fail until a loss is given", stacklevel=2
            )
        self.optimizer = optimizers_module.get(optimizer)
        self.loss = loss
        self.loss_weights = loss_weights
        self.compiled_loss = (
            None if loss is None else CompiledLoss(loss, loss_weights, self.output_names)
        )
        resolved = (
            self.compiled_loss.losses if self.compiled_loss else [None] * len(self.output_names)
        )
        self.compiled_metrics = CompiledMetrics(
            metrics, weighted_metrics, self.output_names, resolved
        )
        self._compile_config = {
            "optimizer": optimizer,
            "loss": loss,
            "metrics": metrics,
            "loss_weights": loss_weights,
            "weighted_metrics": weighted_metrics,
        }
        self._is_compiled = True
        self.stop_training = False

    @property
    def metrics_names(self):
        """Names of the values ``evaluate`` returns: loss, per-output losses, then metrics."""
        if not getattr(self, "_is_compiled", False):
            return []
        names = ["loss"]
        if self.compiled_loss is not None and len(self.output_names) > 1:
            names += [n for n, fn in zip(self.compiled_loss.names, self.compiled_loss.losses) if fn]
        return names + self.compiled_metrics.names

    def _require_compiled(self, what):
        if not getattr(self, "_is_compiled", False):
            raise ValueError(f"You must call compile() on model {self.name!r} before {what}()")
        if self.compiled_loss is None and what != "predict":
            raise ValueError(f"Model {self.name!r} was compiled without a loss; cannot {what}()")

    # ---------------------------------------------------------------- steps
    def _forward(self, x, training):
        outputs = self(x if len(x) > 1 else x[0], training=training)
        return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]

    def _train_step(self, x, y, sample_weight):
        with GradientTape() as tape:
            y_pred = self._forward(x, training=True)
            total, per_output = self.compiled_loss(
                y, y_pred, sample_weight, regularization=self.losses
            )
        variables = self.trainable_weights
        grads = tape.gradient(total, variables)
        self.optimizer.apply_gradients([(g, v) for g, v in zip(grads, variables) if g is not None])
        with no_grad():
            self.compiled_metrics.update(y, [Tensor(p.data) for p in y_pred], sample_weight)
        return total, per_output

    def _test_step(self, x, y, sample_weight):
        with no_grad():
            y_pred = self._forward(x, training=False)
            total, per_output = self.compiled_loss(
                y, y_pred, sample_weight, regularization=self.losses
            )
            self.compiled_metrics.update(y, y_pred, sample_weight)
        return total, per_output

    # ----------------------------------------------------------- log helpers
    def _loss_trackers(self):
        return [_RunningMean() for _ in range(1 + len(self.output_names))]

    def _track(self, trackers, total, per_output, batch_size):
        trackers[0].update(total, batch_size)
        for tracker, value in zip(trackers[1:], per_output):
            if value is not None:
                tracker.update(value, batch_size)

    def _logs(self, trackers, prefix=""):
        """One device-to-host copy of every scalar, as a Keras logs dict (keys sorted)."""
        names = ["loss"]
        values = [trackers[0].result()]
        if len(self.output_names) > 1:
            for name, tracker in zip(self.compiled_loss.names, trackers[1:]):
                if tracker.count:
                    names.append(name)
                    values.append(tracker.result())
        for name, result in zip(self.compiled_metrics.names, self.compiled_metrics.results()):
            names.append(name)
            values.append(result.data if isinstance(result, Tensor) else result)
        xp = get_array_module(*[v for v in values if not isinstance(v, (int, float))])
        host = to_numpy(xp.stack([xp.asarray(v, dtype=xp.float64).reshape(()) for v in values]))
        logs = {prefix + n: float(v) for n, v in zip(names, host)}
        return dict(sorted(logs.items()))

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
            x: input data: a NumPy array, a list of arrays (several inputs), a dict keyed by
                input name, a generator yielding ``(x, y)`` or ``(x, y, sample_weight)``, or a
                ``gpuk.utils.PyDataset``/``Sequence``.
            y: target data like ``x`` (a list or dict for several outputs); omitted when ``x``
                is a generator or data set.
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
            A ``History`` whose ``history`` dict maps ``loss``, ``<output>_loss``, metric names
            and their ``val_`` twins to per-epoch values.
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
        logs = {}
        for epoch in range(initial_epoch, epochs):
            self.compiled_metrics.reset()
            callback_list.on_epoch_begin(epoch)
            trackers = self._loss_trackers()
            step = -1
            for step, (xb, yb, swb) in enumerate(train.epoch()):
                callback_list.on_train_batch_begin(step)
                total, per_output = self._train_step(xb, yb, swb)
                self._track(trackers, total, per_output, int(xb[0].shape[0]))
                logs = self._logs(trackers)
                callback_list.on_train_batch_end(step, logs)
                if self.stop_training:
                    break
            if step < 0:
                warnings.warn("fit(): the training data produced no batches", stacklevel=2)
                break
            epoch_logs = dict(logs)
            if validation is not None and _should_validate(epoch, validation_freq):
                epoch_logs.update(
                    self._run_evaluation(validation, callbacks=callback_list, prefix="val_")
                )
            callback_list.on_epoch_end(epoch, epoch_logs)
            logs = epoch_logs
            if self.stop_training or getattr(train, "exhausted", False):
                if getattr(train, "exhausted", False) and epoch + 1 < epochs:
                    warnings.warn(
                        "fit(): the generator ran out of data; give steps_per_epoch or a "
                        "PyDataset to train several epochs",
                        stacklevel=2,
                    )
                break
        callback_list.on_train_end(logs)
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
        if data.is_generator_like(x):
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
            train = data.GeneratorBatches(x, self.input_names, self.output_names, steps_per_epoch)
        else:
            xs, ys, sws = self._array_lists(x, y, sample_weight, class_weight)
            validation_from_split = None
            if validation_split and validation_data is None:
                (xs, ys, sws), validation_from_split = data.split_validation(
                    xs, ys, sws, validation_split
                )
            train = data.ArrayBatches(xs, ys, sws, batch_size or 32, shuffle, steps_per_epoch)
            if validation_from_split is not None:
                vx, vy, vsw = validation_from_split
                return train, data.ArrayBatches(
                    vx, vy, vsw, validation_batch_size or batch_size or 32, False, validation_steps
                )
        if validation_data is None:
            return train, None
        return train, self._validation_batches(
            validation_data, validation_batch_size or batch_size or 32, validation_steps
        )

    def _validation_batches(self, validation_data, batch_size, steps):
        if data.is_generator_like(validation_data):
            return data.GeneratorBatches(
                validation_data, self.input_names, self.output_names, steps
            )
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise ValueError(
                "validation_data must be (x_val, y_val), (x_val, y_val, sample_weight) or a "
                f"generator; got {type(validation_data).__name__} of length "
                f"{len(validation_data) if hasattr(validation_data, '__len__') else '?'}"
            )
        vx, vy = validation_data[0], validation_data[1]
        vsw = validation_data[2] if len(validation_data) == 3 else None
        xs, ys, sws = self._array_lists(vx, vy, vsw, None)
        return data.ArrayBatches(xs, ys, sws, batch_size, False, steps)

    def _array_lists(self, x, y, sample_weight, class_weight):
        xs = data.as_list(x, self.input_names, "input")
        if xs is None:
            raise ValueError("No input data given (x is None)")
        ys = data.as_list(y, self.output_names, "output")
        xs = self._check_input_shapes(xs)
        sws = None
        if class_weight is not None:
            if len(self.output_names) > 1:
                raise ValueError("class_weight is only supported for models with one output")
            sws = [data.class_weights_to_sample_weights(ys[0], class_weight)]
        if sample_weight is not None:
            given = (
                data.as_list(sample_weight, self.output_names, "output")
                if isinstance(sample_weight, (list, dict))
                else [sample_weight] * len(self.output_names)
            )
            given = [None if w is None else np.asarray(to_numpy(w)) for w in given]
            sws = (
                given if sws is None else [None if g is None else g * c for g, c in zip(given, sws)]
            )
        arrays = [a for a in xs + (ys or []) if a is not None]
        data.num_samples(arrays, "inputs and targets")
        return xs, ys, sws

    def _check_input_shapes(self, xs):
        ensure_graph = getattr(self, "_ensure_graph", None)
        if ensure_graph is not None and not ensure_graph():
            # A Sequential model without an input shape is built from the first data it sees.
            self.build((None,) + tuple(np.shape(xs[0]))[1:])
        adjusted = list(xs)
        for i, (name, array, tensor) in enumerate(zip(self.input_names, xs, self.inputs)):
            expected = tuple(tensor.shape)
            shape = tuple(np.shape(array)) if not hasattr(array, "shape") else tuple(array.shape)
            if len(shape) == len(expected) - 1 and expected[-1] == 1:
                # Keras's rank adjustment: (n,) data feeds an input of shape (None, 1).
                array = array if hasattr(array, "reshape") else np.asarray(array)
                adjusted[i] = array = array.reshape(*shape, 1)
                shape = (*shape, 1)
            if len(shape) != len(expected) or any(
                e is not None and e != s for e, s in zip(expected[1:], shape[1:])
            ):
                raise ValueError(
                    f"Input {name!r} of model {self.name!r} expects shape {expected}, "
                    f"but the data has shape {shape}"
                )
        return adjusted

    # ------------------------------------------------------------- evaluate
    def _run_evaluation(self, batches, callbacks, prefix=""):
        self.compiled_metrics.reset()
        trackers = self._loss_trackers()
        if callbacks is not None:
            callbacks.on_test_begin()
        logs = {}
        for step, (xb, yb, swb) in enumerate(batches.epoch()):
            if callbacks is not None:
                callbacks.on_test_batch_begin(step)
            total, per_output = self._test_step(xb, yb, swb)
            self._track(trackers, total, per_output, int(xb[0].shape[0]))
            if callbacks is not None:
                logs = self._logs(trackers)
                callbacks.on_test_batch_end(step, logs)
        logs = self._logs(trackers) if trackers[0].count else {}
        if callbacks is not None:
            callbacks.on_test_end(logs)
        return {prefix + name: value for name, value in logs.items()}

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
        if data.is_generator_like(x):
            batches = data.GeneratorBatches(x, self.input_names, self.output_names, steps)
        else:
            xs, ys, sws = self._array_lists(x, y, sample_weight, None)
            batches = data.ArrayBatches(xs, ys, sws, batch_size or 32, False, steps)
        verbose = 1 if verbose == "auto" else int(verbose)
        callback_list = CallbackList(
            callbacks,
            add_progbar=verbose != 0,
            model=self,
            verbose=verbose,
            epochs=1,
            steps=len(batches),
        )
        return self._format_batch_logs(self._run_evaluation(batches, callback_list), return_dict)

    # -------------------------------------------------------------- predict
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Run the model on ``x`` in batches without recording gradients; NumPy results.

        Returns an array, or a list of arrays for a model with several outputs.
        """
        if data.is_generator_like(x):
            batches = data.GeneratorBatches(x, self.input_names, self.output_names, steps)
        else:
            xs = data.as_list(x, self.input_names, "input")
            xs = self._check_input_shapes(xs)
            batches = data.ArrayBatches(xs, None, None, batch_size or 32, False, steps)
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
        chunks = [[] for _ in self.output_names]
        for step, (xb, _, _) in enumerate(batches.epoch()):
            callback_list.on_predict_batch_begin(step)
            with no_grad():
                outputs = self._forward(xb, training=False)
            for chunk, output in zip(chunks, outputs):
                chunk.append(to_numpy(output.data))
            batch_outputs = [chunk[-1] for chunk in chunks]
            callback_list.on_predict_batch_end(
                step, {"outputs": batch_outputs[0] if len(batch_outputs) == 1 else batch_outputs}
            )
        callback_list.on_predict_end()
        results = [np.concatenate(c, axis=0) if c else np.zeros((0,)) for c in chunks]
        return results[0] if len(results) == 1 else results

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
        """One gradient update on one batch; returns the loss (and metrics) like evaluate."""
        return self._on_batch(
            "train_on_batch",
            self._train_step,
            x,
            y,
            sample_weight,
            class_weight,
            reset_metrics,
            return_dict,
        )

    def test_on_batch(self, x, y=None, sample_weight=None, reset_metrics=True, return_dict=False):
        """Loss (and metrics) on one batch, without updating weights."""
        return self._on_batch(
            "test_on_batch", self._test_step, x, y, sample_weight, None, reset_metrics, return_dict
        )

    def _on_batch(self, what, step, x, y, sample_weight, class_weight, reset_metrics, return_dict):
        self._require_compiled(what)
        if reset_metrics:
            self.compiled_metrics.reset()
        xs, ys, sws = self._array_lists(x, y, sample_weight, class_weight)
        size = max(1, data.num_samples([a for a in xs if a is not None]))
        ((xb, yb, swb),) = data.ArrayBatches(xs, ys, sws, size, False).epoch()
        trackers = self._loss_trackers()
        total, per_output = step(xb, yb, swb)
        self._track(trackers, total, per_output, int(xb[0].shape[0]))
        return self._format_batch_logs(self._logs(trackers), return_dict)

    def predict_on_batch(self, x):
        """The model's outputs for one batch, as NumPy arrays."""
        xs = data.as_list(x, self.input_names, "input")
        with no_grad():
            outputs = self._forward([data.to_device(a) for a in xs], training=False)
        results = [to_numpy(o.data) for o in outputs]
        return results[0] if len(results) == 1 else results

    def _format_batch_logs(self, logs, return_dict):
        """A dict, or Keras's return value: a scalar for the loss alone, else a list in
        ``metrics_names`` order."""
        if return_dict:
            return logs
        values = [logs[name] for name in self.metrics_names if name in logs]
        return values[0] if len(values) == 1 else values

    def get_compile_config(self):
        """The arguments ``compile`` was called with (for saving)."""
        return copy.copy(getattr(self, "_compile_config", None))


def _should_validate(epoch, validation_freq):
    if isinstance(validation_freq, int):
        return (epoch + 1) % validation_freq == 0
    return epoch + 1 in validation_freq


__all__ = ["Trainer"]
