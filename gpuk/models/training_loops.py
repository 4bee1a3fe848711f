"""The loops of ``fit``, ``evaluate``, ``predict`` and ``*_on_batch``, mixed into ``Trainer``.

They turn the user's data into packed batches (:mod:`gpuk.models.training_data`), call the
step methods ``Trainer`` defines (``train_step``/``test_step``/``predict_step``, overridable),
and drive the callbacks. Logs stay device values; they are copied to the host once per epoch,
per batch only for callbacks that implement a batch hook, and at the end of ``evaluate`` and
``*_on_batch`` (see ``gpuk.callbacks.base.logs_to_host``).
"""

import warnings

import numpy as np

from gpuk import _config
from gpuk._array import get_array_module, to_numpy
from gpuk.autograd import Tensor, no_grad
from gpuk.callbacks import CallbackList
from gpuk.callbacks.base import logs_to_host
from gpuk.layers.base import flatten, pack_like
from gpuk.models import training_data as data_module
from gpuk.models import training_distributed as distributed
from gpuk.utils.packing import pack_x_y_sample_weight, unpack_x_y_sample_weight


class TrainingLoops:
    """``fit``/``evaluate``/``predict`` and the ``*_on_batch`` methods."""

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
        epochs = min(epochs, _config.max_epochs() or epochs)
        callbacks, verbose = distributed.chief_callbacks(callbacks, verbose)
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
        initial_epoch = distributed.start(self, initial_epoch)
        training_logs = None
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            callback_list.on_epoch_begin(epoch)
            logs = None
            for step, batch in enumerate(distributed.shard(train)):
                callback_list.on_train_batch_begin(step)
                if distributed.empty_shard():
                    distributed.empty_train_step(self)
                    logs = self.get_metrics_result()
                else:
                    logs = self.train_step(batch)
                logs = distributed.metrics_logs(self, logs)
                callback_list.on_train_batch_end(step, logs)
                if self.stop_training or step + 1 == _config.max_steps_per_epoch():
                    break
            if logs is None:
                warnings.warn("fit(): the training data produced no batches", stacklevel=2)
                break
            epoch_logs = dict(
                logs if distributed.active() else self._get_metrics_result_or_logs(logs)
            )
            if validation is not None and _should_validate(epoch, validation_freq):
                val_logs = self._evaluation_loop(validation, callback_list)
                epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
            epoch_logs = logs_to_host(epoch_logs)
            callback_list.on_epoch_end(epoch, epoch_logs)
            training_logs = epoch_logs
            self.stop_training = distributed.any_process(self.stop_training)
            if self.stop_training or train.exhausted:
                if train.exhausted and epoch + 1 < epochs:
                    warnings.warn(
                        "fit(): the generator ran out of data; give steps_per_epoch or a "
                        "PyDataset to train several epochs",
                        stacklevel=2,
                    )
                break
        if self.optimizer is not None and epochs > initial_epoch:
            self.optimizer.finalize_variable_values(self.trainable_weights)
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
        for step, batch in enumerate(distributed.shard(batches)):
            callbacks.on_test_batch_begin(step)
            if distributed.empty_shard():
                logs = self.get_metrics_result()
            else:
                logs = self.test_step(batch)
            logs = distributed.metrics_logs(self, logs)
            callbacks.on_test_batch_end(step, logs)
            if self.stop_evaluating:
                break
        logs = {} if logs is None else distributed.metrics_logs(self, logs)
        logs = logs if distributed.active() else self._get_metrics_result_or_logs(logs)
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
        callbacks, verbose = distributed.chief_callbacks(callbacks, verbose)
        distributed.start(self, optimizer=False)
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
        callbacks, verbose = distributed.chief_callbacks(callbacks, verbose)
        distributed.start(self, optimizer=False)
        callback_list = CallbackList(
            callbacks,
            add_progbar=verbose != 0,
            model=self,
            verbose=verbose,
            epochs=1,
            steps=len(batches),
        )
        callback_list.on_predict_begin()
        structure, per_batch = None, []
        for step, batch in enumerate(distributed.shard(batches)):
            callback_list.on_predict_batch_begin(step)
            if distributed.empty_shard():
                per_batch.append(None)
                continue
            with no_grad():
                outputs = self.predict_step(batch)
            flat = [_raw(o) for o in flatten(outputs)]
            if structure is None:
                structure = outputs
            per_batch.append(flat)
            callback_list.on_predict_batch_end(step, {"outputs": outputs})
        callback_list.on_predict_end()
        width = 0 if structure is None else len(flatten(structure))
        chunks = [[None if f is None else f[k] for f in per_batch] for k in range(width)]
        chunks = [
            [c for c in chunk if c is not None] for chunk in distributed.gather_predictions(chunks)
        ]
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


__all__ = ["TrainingLoops"]
