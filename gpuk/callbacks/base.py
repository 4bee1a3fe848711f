"""Callback base, the list that dispatches to callbacks, History and the progress logger.

The hooks are called as Keras 3 calls them: ``on_train_begin(logs)``,
``on_epoch_begin(epoch, logs)``, ``on_train_batch_begin(batch, logs=logs)``,
``on_train_batch_end(batch, logs=logs)``, ``on_epoch_end(epoch, logs)``,
``on_train_end(logs)`` (and the same for ``test``/``predict``): ``logs`` is always a dict
(``{}`` when there is nothing to report), positional for the begin/end and epoch hooks,
a keyword for the batch hooks. One dict is built per hook call and given to every callback
in order, so a callback that adds a key (``learning_rate``) is seen by the ones after it,
``History`` included (it comes last).
"""

import numpy as np

from gpuk._array import get_array_module, is_array, to_numpy
from gpuk.utils.progbar import Progbar


class Callback:
    """Base class of callbacks: override the hooks you need.

    Attributes:
        model: the model being trained, evaluated or run (set by ``set_model``).
        params: ``{"verbose": ..., "epochs": ..., "steps": ...}`` (set by ``set_params``).
    """

    def __init__(self):
        self.model = None
        self.params = {}
        self.validation_data = None

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None):
        """Called at the start of ``fit``."""

    def on_train_end(self, logs=None):
        """Called at the end of ``fit``; ``logs`` are the last epoch's logs."""

    def on_epoch_begin(self, epoch, logs=None):
        """Called at the start of each epoch (0-based ``epoch``)."""

    def on_epoch_end(self, epoch, logs=None):
        """Called at the end of each epoch with its logs, validation (``val_``) keys included."""

    def on_train_batch_begin(self, batch, logs=None):
        """Called before each training batch; calls the legacy ``on_batch_begin``."""
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        """Called after each training batch with running logs; calls ``on_batch_end``."""
        self.on_batch_end(batch, logs=logs)

    def on_batch_begin(self, batch, logs=None):
        """Legacy alias of ``on_train_batch_begin``."""

    def on_batch_end(self, batch, logs=None):
        """Legacy alias of ``on_train_batch_end``."""

    def on_test_begin(self, logs=None):
        """Called at the start of ``evaluate`` (and of validation inside ``fit``)."""

    def on_test_end(self, logs=None):
        """Called at the end of ``evaluate``/validation with its (unprefixed) logs."""

    def on_test_batch_begin(self, batch, logs=None):
        """Called before each evaluation batch."""

    def on_test_batch_end(self, batch, logs=None):
        """Called after each evaluation batch with running logs."""

    def on_predict_begin(self, logs=None):
        """Called at the start of ``predict``."""

    def on_predict_end(self, logs=None):
        """Called at the end of ``predict``."""

    def on_predict_batch_begin(self, batch, logs=None):
        """Called before each prediction batch."""

    def on_predict_batch_end(self, batch, logs=None):
        """Called after each prediction batch; ``logs["outputs"]`` holds the batch's outputs."""


def _flatten(callbacks):
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback):
        return [callbacks]
    flat = []
    for item in callbacks:
        if isinstance(item, (list, tuple)):
            flat.extend(_flatten(item))
        elif item is not None:
            if not isinstance(item, Callback) and not hasattr(item, "on_epoch_end"):
                raise TypeError(
                    "callbacks must be gpuk.callbacks.Callback instances; received "
                    f"{item!r} of type {type(item).__name__}"
                )
            flat.append(item)
    return flat


def _to_host(value):
    """A log value as Keras hands it to callbacks: Python floats for scalars, NumPy arrays."""
    if isinstance(value, (float, int, str, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return type(value)(_to_host(v) for v in value)
    if isinstance(value, dict):
        return {k: _to_host(v) for k, v in value.items()}
    if hasattr(value, "numpy") and callable(value.numpy):
        value = value.numpy()
    elif hasattr(value, "get") and hasattr(value, "__cuda_array_interface__"):
        value = value.get()
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "fiub":
        return float(value)
    if isinstance(value, np.generic) and value.dtype.kind in "fiub":
        return float(value)
    return value


def _flat_logs(logs, out):
    for key, value in logs.items():
        if isinstance(value, dict):
            _flat_logs(value, out)
        else:
            out[key] = value
    return out


def logs_to_host(logs):
    """Training logs as Keras 3 gives them to callbacks: nested dicts merged, keys sorted,
    scalars as Python floats.

    Device scalars (0-d gpuk Tensors or CuPy arrays) are stacked and copied to the host in
    one transfer, so a dict of N metrics costs one sync, not N.
    """
    if not logs:
        return {}
    flat = _flat_logs(logs if isinstance(logs, dict) else dict(logs), {})
    scalars = {}
    for key, value in flat.items():
        data = getattr(value, "data", value) if hasattr(value, "numpy") else value
        if type(data) is np.ndarray:
            if data.ndim == 0 and data.dtype.kind in "fiub":
                flat[key] = float(data)  # what _to_host makes of it, without its copies
        elif is_array(data) and data.ndim == 0 and get_array_module(data) is not np:
            scalars[key] = data
    if len(scalars) > 1:
        first = next(iter(scalars.values()))
        xp = get_array_module(first)
        # One stack (NumPy's promotion of the dtypes is exact for every value) and one copy.
        stacked = xp.stack(list(scalars.values()))
        for key, value in zip(scalars, to_numpy(stacked).tolist()):
            flat[key] = float(value)
    return {key: _to_host(flat[key]) for key in sorted(flat)}


def _logs(logs):
    return {} if not logs else {k: _to_host(v) for k, v in dict(logs).items()}


# The hooks a callback may implement for each batch-level hook CallbackList calls: Callback's
# on_train_batch_* calls the legacy on_batch_*.
_BATCH_HOOKS = {
    "on_train_batch_begin": ("on_train_batch_begin", "on_batch_begin"),
    "on_train_batch_end": ("on_train_batch_end", "on_batch_end"),
    "on_batch_begin": ("on_batch_begin",),
    "on_batch_end": ("on_batch_end",),
    "on_test_batch_begin": ("on_test_batch_begin",),
    "on_test_batch_end": ("on_test_batch_end",),
    "on_predict_batch_begin": ("on_predict_batch_begin",),
    "on_predict_batch_end": ("on_predict_batch_end",),
}


def _implements(callback, names):
    """True when ``callback`` overrides one of the hooks ``names`` (or is not a Callback)."""
    if not isinstance(callback, Callback):
        return True
    for name in names:
        if name in vars(callback):  # set per instance, as LambdaCallback does
            return True
        if getattr(type(callback), name, None) is not getattr(Callback, name):
            return True
    return False


class CallbackList(Callback):
    """Calls every hook on each of its callbacks, in order.

    Args:
        callbacks: the user's callbacks (nested lists are flattened).
        add_history: append a :class:`History` (kept as ``self.history``) unless one is given.
        add_progbar: append a :class:`ProgbarLogger` (after History) unless one is given.
        model: the model, passed to every callback.
        **params: ``verbose``, ``epochs``, ``steps``, given to every callback's ``set_params``.
    """

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None, **params):
        super().__init__()
        self.callbacks = _flatten(callbacks)
        self.history = next((c for c in self.callbacks if isinstance(c, History)), None)
        self._progbar = next((c for c in self.callbacks if isinstance(c, ProgbarLogger)), None)
        if add_history and self.history is None:
            self.history = History()
            self.callbacks.append(self.history)
        if add_progbar and self._progbar is None:
            self._progbar = ProgbarLogger()
            self.callbacks.append(self._progbar)
        if model is not None:
            self.set_model(model)
        if params:
            self.set_params(params)

    def append(self, callback):
        """Add a callback at the end (it gets the list's model and params)."""
        self.callbacks.append(callback)
        self._callers = {}
        if self.model is not None:
            callback.set_model(self.model)
        if self.params:
            callback.set_params(self.params)

    def __iter__(self):
        return iter(self.callbacks)

    def __len__(self):
        return len(self.callbacks)

    def set_model(self, model):
        super().set_model(model)
        if model is None:
            return
        if self.history is not None:
            model.history = self.history
        for callback in self.callbacks:
            callback.set_model(model)

    def set_params(self, params):
        super().set_params(params)
        if params:
            for callback in self.callbacks:
                callback.set_params(params)

    # Keras passes logs positionally to begin/end/epoch hooks and as a keyword to batch hooks;
    # user callbacks written either way (``def on_epoch_end(self, epoch, logs)``,
    # ``def on_batch_end(self, batch, **kwargs)``) depend on it.
    def _positional(self, hook, args, logs):
        if hook.endswith("_begin") and not args:
            self._callers = {}  # on_train/test/predict_begin: look at the callbacks again
        logs = logs_to_host(logs)
        for callback in self.callbacks:
            getattr(callback, hook)(*args, logs)

    def _keyword(self, hook, batch, logs):
        # Batch hooks go only to the callbacks that implement them (Keras 3 skips the rest);
        # with none, the device logs are not copied to the host at all. Which callbacks
        # implement the hook is decided once per fit/evaluate/predict (``_positional``).
        cache = self.__dict__.setdefault("_callers", {})
        callers = cache.get(hook)
        if callers is None:
            callers = [c for c in self.callbacks if _implements(c, _BATCH_HOOKS[hook])]
            cache[hook] = callers
        if not callers:
            return
        logs = _logs(logs) if hook.startswith("on_predict") else logs_to_host(logs)
        for callback in callers:
            getattr(callback, hook)(batch, logs=logs)

    def on_train_begin(self, logs=None):
        self._positional("on_train_begin", (), logs)

    def on_train_end(self, logs=None):
        self._positional("on_train_end", (), logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._positional("on_epoch_begin", (epoch,), logs)

    def on_epoch_end(self, epoch, logs=None):
        self._positional("on_epoch_end", (epoch,), logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._keyword("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self._keyword("on_train_batch_end", batch, logs)

    def on_batch_begin(self, batch, logs=None):
        self._keyword("on_batch_begin", batch, logs)

    def on_batch_end(self, batch, logs=None):
        self._keyword("on_batch_end", batch, logs)

    def on_test_begin(self, logs=None):
        self._positional("on_test_begin", (), logs)

    def on_test_end(self, logs=None):
        self._positional("on_test_end", (), logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._keyword("on_test_batch_begin", batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        self._keyword("on_test_batch_end", batch, logs)

    def on_predict_begin(self, logs=None):
        self._positional("on_predict_begin", (), logs)

    def on_predict_end(self, logs=None):
        self._positional("on_predict_end", (), logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._keyword("on_predict_batch_begin", batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._keyword("on_predict_batch_end", batch, logs)


class History(Callback):
    """Records the epoch logs; ``fit`` returns it (also ``model.history``).

    Attributes:
        history: ``{"loss": [...], "val_loss": [...], ...}``, one value per epoch. It keeps
            growing when the same History is used for several ``fit`` calls, as in Keras.
        epoch: the epoch indices run by the last ``fit``.
    """

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        if self.model is not None:
            self.model.history = self


class ProgbarLogger(Callback):
    """Prints Keras's progress output.

    ``verbose=1``: a live bar per epoch with the step count, ETA, time per step and the
    running metrics; ``verbose=2``: one line per epoch; ``Epoch i/n`` headers when there are
    several epochs. Validation inside ``fit`` is silent; ``evaluate`` and ``predict`` get their
    own bar. When standard output is not a terminal the live bar is printed once per epoch
    (see :class:`gpuk.utils.Progbar`).

    Args:
        count_mode: ``"steps"`` (accepted for tf.keras compatibility; only steps are counted).
        stateful_metrics: accepted for tf.keras compatibility; logs are shown as given.
    """

    def __init__(self, count_mode="steps", stateful_metrics=None):
        super().__init__()
        if count_mode not in ("steps", "samples"):
            raise ValueError(
                f"ProgbarLogger: unknown `count_mode`: {count_mode!r} (expected 'steps' or "
                "'samples')"
            )
        self.seen = 0
        self.progbar = None
        self.target = None
        self.verbose = 1
        self.epochs = 1
        self._called_in_fit = False

    def set_params(self, params):
        super().set_params(params)
        verbose = params.get("verbose", 1)
        self.verbose = 1 if verbose == "auto" else int(verbose or 0)
        self.epochs = params.get("epochs") or 1
        self.target = params.get("steps")

    def on_train_begin(self, logs=None):
        # Validation inside fit is not shown: its results appear in the epoch line.
        self._called_in_fit = True

    def on_train_end(self, logs=None):
        self._called_in_fit = False

    def on_test_begin(self, logs=None):
        if not self._called_in_fit:
            self._reset_progbar()
            self._maybe_init_progbar()

    def on_predict_begin(self, logs=None):
        self._reset_progbar()
        self._maybe_init_progbar()

    def on_epoch_begin(self, epoch, logs=None):
        self._reset_progbar()
        self._maybe_init_progbar()
        if self.verbose and self.epochs > 1:
            print(f"Epoch {epoch + 1}/{self.epochs}", flush=True)

    def on_train_batch_end(self, batch, logs=None):
        self._update_progbar(batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        if not self._called_in_fit:
            self._update_progbar(batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._update_progbar(batch, None)  # the predictions are not metrics

    def on_epoch_end(self, epoch, logs=None):
        self._finalize_progbar(logs)

    def on_test_end(self, logs=None):
        if not self._called_in_fit:
            self._finalize_progbar(logs)

    def on_predict_end(self, logs=None):
        self._finalize_progbar(logs)

    def _reset_progbar(self):
        self.seen = 0
        self.progbar = None

    def _maybe_init_progbar(self):
        if self.progbar is None:
            # fit's logs are already running means: show them as given.
            self.progbar = Progbar(
                target=self.target, verbose=self.verbose, unit_name="step", stateless_metrics=()
            )

    def _update_progbar(self, batch, logs):
        self._maybe_init_progbar()
        self.seen = batch + 1
        if self.verbose == 1:
            self.progbar.update(self.seen, list((logs or {}).items()), finalize=False)

    def _finalize_progbar(self, logs):
        self._maybe_init_progbar()
        if self.target is None:
            self.target = self.seen
            self.progbar.target = self.seen
        self.progbar.update(self.target, list((logs or {}).items()), finalize=True)
