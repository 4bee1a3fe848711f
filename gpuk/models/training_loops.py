"""The loops of ``fit``, ``evaluate``, ``predict`` and ``*_on_batch``, mixed into ``Trainer``.

They take their data through one :class:`~gpuk.models.epoch_iterator.EpochIterator` per call
(``*_on_batch`` through :func:`~gpuk.models.epoch_iterator.single_batch`, the same
conversion of one batch), call the step methods ``Trainer`` defines
(``train_step``/``test_step``/``predict_step``, overridable), and drive the callbacks. What
does not change between batches (the step function, the distribution, the data's structure)
is decided once per call. Logs stay device values; they are copied to the host once per epoch,
per batch only for callbacks that implement a batch hook, and at the end of ``evaluate`` and
``*_on_batch`` (see ``gpuk.callbacks.base.logs_to_host``).
"""

import warnings

import numpy as np

from gpuk import _config
from gpuk._array import get_array_module, to_numpy
from gpuk.autograd import Tensor, no_grad
from gpuk.autograd.recording import _local as recording_state
from gpuk.callbacks import CallbackList
from gpuk.callbacks.base import logs_to_host
from gpuk.layers.base import flatten, pack_like
from gpuk.models import data_adapters
from gpuk.models import training_distributed as distributed
from gpuk.models.epoch_iterator import EpochIterator, single_batch
from gpuk.utils.packing import unpack_x_y_sample_weight


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
            batch_size: samples per gradient update for array data (None: 32, or
                ``ceil(samples / steps_per_epoch)`` with ``steps_per_epoch``); generators and
                data sets decide their own.
            epochs: index of the last epoch (training runs from ``initial_epoch`` to it).
            verbose: 0 silent, 1 progress bar, 2 one line per epoch; ``"auto"`` is 1.
            callbacks: a list of ``gpuk.callbacks.Callback``.
            validation_split: fraction of the array data held out for validation, taken from
                the end before shuffling (as Keras does); not with generators.
            validation_data: ``(x_val, y_val)``, ``(x_val, y_val, sample_weight)``, or a
                generator/data set, evaluated at the end of each epoch.
            shuffle: shuffle array data before each pass (``"batch"`` permutes the samples
                within each batch, as Keras does) and a ``PyDataset``'s batch order; ignored
                for generators.
            class_weight: ``{class_index: weight}`` scaling each sample's loss by its class
                (array data and ``PyDataset`` batches).
            sample_weight: per-sample loss weights, shape ``(samples,)``.
            initial_epoch: epoch to start from (to resume a run).
            steps_per_epoch: batches per epoch (default: one pass over the data); the next
                epoch continues where the last stopped. See docs/data-path.md.
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
        max_epochs = _config.max_epochs()
        if max_epochs and max_epochs < epochs:
            warnings.warn(f"Limiting epochs to {max_epochs}", stacklevel=2)
            epochs = max_epochs
        callbacks, verbose = distributed.chief_callbacks(callbacks, verbose)
        train, validation = self._fit_iterators(
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
                steps=train.num_batches,
            )
        )
        self.stop_training = False
        callback_list.on_train_begin()
        # BackupAndRestore sets _initial_epoch in on_train_begin when it restores a backup.
        initial_epoch = getattr(self, "_initial_epoch", None) or initial_epoch
        self._initial_epoch = None
        initial_epoch = distributed.start(self, initial_epoch)
        # Decided once per fit, not per batch: the step function and the distribution.
        step_function = (
            self._distributed_train_step if distributed.active() else self._train_function()
        )
        batches = distributed.shard if distributed.active() else EpochIterator.epoch
        training_logs = None
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            callback_list.on_epoch_begin(epoch)
            logs = None
            for step, batch in enumerate(batches(train)):
                callback_list.on_train_batch_begin(step)
                logs = step_function(batch)
                callback_list.on_train_batch_end(step, logs)
                if self.stop_training:
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
                if train.exhausted and epoch + 1 < epochs and not train.steps_per_epoch:
                    warnings.warn(data_adapters.RAN_OUT_WARNING, stacklevel=2)
                break
        if self.optimizer is not None and epochs > initial_epoch:
            self.optimizer.finalize_variable_values(self.trainable_weights)
        callback_list.on_train_end(training_logs)
        return callback_list.history

    def _distributed_train_step(self, batch):
        """``train_step`` on this process's shard; logs from the metrics of all processes."""
        if distributed.empty_shard():
            distributed.empty_train_step(self)
            logs = self.get_metrics_result()
        else:
            logs = self.train_step(batch)
        return distributed.metrics_logs(self, logs)

    def _distributed_test_step(self, batch):
        logs = self.get_metrics_result() if distributed.empty_shard() else self.test_step(batch)
        return distributed.metrics_logs(self, logs)

    def _epoch_iterator(
        self,
        x,
        y=None,
        sample_weight=None,
        batch_size=None,
        steps=None,
        shuffle=False,
        class_weight=None,
    ):
        """The :class:`EpochIterator` of one call; builds a model that has no input shape yet
        from the array data."""
        if x is None:
            raise ValueError(f"Model {self.name!r}: no input data given (x is None)")
        iterator = EpochIterator(x, y, sample_weight, batch_size, steps, shuffle, class_weight)
        adapter = iterator.data_adapter
        if isinstance(adapter, data_adapters.ArrayDataAdapter):
            self._maybe_build_from_data(adapter.structures[0])
        return iterator

    def _fit_iterators(
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
        """The training and the validation :class:`EpochIterator` of one ``fit``."""
        if validation_split and validation_data is None:
            if data_adapters.is_generator_like(x):
                raise ValueError(
                    "Argument `validation_split` is only supported for tensors or NumPy "
                    f"arrays. Found incompatible type in the input: [{type(x)}]"
                )
            x, y, sample_weight = (data_adapters.standardize(v) for v in (x, y, sample_weight))
            (x, y, sample_weight), validation_data = data_adapters.split_validation(
                x, y, sample_weight, validation_split
            )
        train = self._epoch_iterator(
            x, y, sample_weight, batch_size, steps_per_epoch, shuffle, class_weight
        )
        if validation_data is None:
            return train, None
        if not data_adapters.is_generator_like(validation_data) and (
            not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3)
        ):
            raise ValueError(
                "validation_data must be (x_val, y_val), (x_val, y_val, sample_weight) or a "
                f"generator; got {type(validation_data).__name__} of length "
                f"{len(validation_data) if hasattr(validation_data, '__len__') else '?'}"
            )
        vx, vy, vsw = unpack_x_y_sample_weight(
            validation_data
            if data_adapters.is_generator_like(validation_data)
            else tuple(validation_data)
        )
        validation = self._epoch_iterator(
            vx, vy, vsw, validation_batch_size or batch_size, validation_steps
        )
        return train, validation

    def _maybe_build_from_data(self, x):
        ensure_graph = getattr(self, "_ensure_graph", None)
        if ensure_graph is not None and not ensure_graph():
            # A Sequential model without an input shape is built from the first data it sees.
            first = data_adapters.leaves(x)[0]
            self.build(
                (None,) + tuple(np.shape(first) if not hasattr(first, "shape") else first.shape)[1:]
            )

    # ------------------------------------------------------------- evaluate
    def _evaluation_loop(self, iterator, callbacks):
        """Run ``test_step`` over one epoch of ``iterator``; returns the logs (host values)."""
        callbacks.on_test_begin()
        self.reset_metrics()
        iterator.reset()  # every evaluation starts at the beginning of the data, as in Keras
        step_function = self._distributed_test_step if distributed.active() else self.test_step
        batches = distributed.shard if distributed.active() else EpochIterator.epoch
        logs = None
        self.stop_evaluating = False
        for step, batch in enumerate(batches(iterator)):
            callbacks.on_test_batch_begin(step)
            logs = step_function(batch)
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
        iterator = self._epoch_iterator(x, y, sample_weight, batch_size, steps)
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
                steps=iterator.num_batches,
            )
        )
        return self._format_logs(self._evaluation_loop(iterator, callback_list), return_dict)

    # -------------------------------------------------------------- predict
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Run ``predict_step`` on ``x`` in batches without recording gradients.

        Returns NumPy arrays in the structure of the model's outputs (one array, a list, or
        a dict).
        """
        iterator = self._epoch_iterator(x, batch_size=batch_size, steps=steps)
        verbose = 1 if verbose == "auto" else int(verbose)
        callbacks, verbose = distributed.chief_callbacks(callbacks, verbose)
        distributed.start(self, optimizer=False)
        callback_list = CallbackList(
            callbacks,
            add_progbar=verbose != 0,
            model=self,
            verbose=verbose,
            epochs=1,
            steps=iterator.num_batches,
        )
        callback_list.on_predict_begin()
        active = distributed.active()
        batches = distributed.shard if active else EpochIterator.epoch
        predict_step = self.predict_step
        structure, per_batch = None, []
        for step, batch in enumerate(batches(iterator)):
            callback_list.on_predict_batch_begin(step)
            if active and distributed.empty_shard():
                per_batch.append(None)
                continue
            with no_grad():
                outputs = predict_step(batch)
            flat = (
                [outputs.data]
                if isinstance(outputs, Tensor)
                else [_raw(o) for o in flatten(outputs)]
            )
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
            self._train_function(), x, y, sample_weight, class_weight, reset_metrics, return_dict
        )

    def test_on_batch(self, x, y=None, sample_weight=None, reset_metrics=True, return_dict=False):
        """One ``test_step`` on one batch: the loss (and metrics), weights unchanged."""
        self._require_compiled("test_on_batch")
        return self._on_batch(self.test_step, x, y, sample_weight, None, reset_metrics, return_dict)

    def _on_batch(self, step, x, y, sample_weight, class_weight, reset_metrics, return_dict):
        if reset_metrics:
            self.reset_metrics()
        batch = self._single_batch(x, y, sample_weight, class_weight)
        logs = step(batch)
        return self._format_logs(logs_to_host(logs), return_dict)

    def _single_batch(self, x, y=None, sample_weight=None, class_weight=None):
        """The packed batch of a ``*_on_batch`` call (:func:`single_batch`); builds a model
        that has no input shape yet from it."""
        if x is None:
            raise ValueError(f"Model {self.name!r}: no input data given (x is None)")
        batch = single_batch(x, y, sample_weight, class_weight)
        ensure_graph = getattr(self, "_ensure_graph", None)
        if ensure_graph is not None and not ensure_graph():
            self._maybe_build_from_data(unpack_x_y_sample_weight(batch)[0])
        return batch

    def predict_on_batch(self, x):
        """The model's outputs for one batch, as NumPy arrays."""
        batch = self._single_batch(x)
        if recording_state.tapes:  # only an open tape could record the step
            with no_grad():
                outputs = self.predict_step(batch)
        else:
            outputs = self.predict_step(batch)
        if isinstance(outputs, Tensor):
            return _host_array(outputs.data)
        return pack_like(outputs, [_host_array(_raw(o)) for o in flatten(outputs)])

    def _format_logs(self, logs, return_dict):
        """A dict, or Keras's value: a scalar for one value, else a list in
        ``metrics_names`` order (names it does not know come after, sorted)."""
        if return_dict:
            return logs
        if len(logs) == 1:
            return next(iter(logs.values()))
        order = self._metric_name_order()
        values = [logs[name] for name in order if name in logs]
        values += [logs[name] for name in sorted(logs) if name not in order]
        return values[0] if len(values) == 1 else values


def _raw(value):
    return value.data if isinstance(value, Tensor) else value


def _host_array(array):
    """A C-contiguous NumPy array, as Keras returns (a recurrent layer's sequence output is a
    transposed view of its states on the CPU)."""
    array = to_numpy(array)
    if isinstance(array, np.ndarray) and not array.flags.c_contiguous:
        return array.copy(order="C")
    return array


def _concatenate(chunks):
    xp = get_array_module(*chunks)
    joined = chunks[0] if len(chunks) == 1 else xp.concatenate(chunks, axis=0)
    return np.asarray(_host_array(joined))


def _should_validate(epoch, validation_freq):
    if isinstance(validation_freq, int):
        return (epoch + 1) % validation_freq == 0
    return epoch + 1 in validation_freq


__all__ = ["TrainingLoops"]
