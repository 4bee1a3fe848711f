"""Callbacks that set the optimizer's learning rate: LearningRateScheduler, ReduceLROnPlateau."""

import inspect
import numbers

import numpy as np

from gpuk.callbacks.base import Callback
from gpuk.callbacks.monitor import MonitorCallback, scalar


def _optimizers(model):
    """The optimizer, or the inner ones of an optimizer that wraps several."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        raise ValueError("The model has no optimizer: compile() it before fit()")
    inner = getattr(optimizer, "optimizers", None)
    return list(inner) if inner else [optimizer]


def _record_learning_rate(model, logs):
    if logs is None:
        return
    optimizers = _optimizers(model)
    if len(optimizers) > 1 or getattr(model.optimizer, "optimizers", None):
        for optimizer in optimizers:
            logs[f"learning_rate_{optimizer.name}"] = scalar(optimizer.learning_rate)
    else:
        logs["learning_rate"] = scalar(optimizers[0].learning_rate)


def _accepts_two_arguments(function):
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return None
    positional = [
        p
        for p in parameters
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
    ]
    return len(positional) >= 2 or any(p.kind == p.VAR_POSITIONAL for p in positional)


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch from ``schedule``.

    Args:
        schedule: ``schedule(epoch, lr) -> new_lr`` or ``schedule(epoch) -> new_lr`` (epoch
            is 0-based, ``lr`` the current rate as a float).
        verbose: 1 prints the new rate each epoch.

    The rate of each epoch is added to its logs as ``learning_rate`` (so ``History`` records
    it), as Keras 3 does.
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(
                f"LearningRateScheduler: `schedule` must be callable; received {schedule!r}"
            )
        self.schedule = schedule
        self.verbose = verbose

    def _new_rate(self, optimizer, epoch):
        if not hasattr(optimizer, "learning_rate"):
            raise ValueError('Optimizer must have a "learning_rate" attribute.')
        two = _accepts_two_arguments(self.schedule)
        if two is None:  # no signature (a builtin): try both forms, as Keras does
            try:
                rate = self.schedule(epoch, scalar(optimizer.learning_rate))
            except TypeError:
                rate = self.schedule(epoch)
        elif two:
            rate = self.schedule(epoch, scalar(optimizer.learning_rate))
        else:
            rate = self.schedule(epoch)
        if hasattr(rate, "numpy") and callable(rate.numpy):
            rate = rate.numpy()
        if isinstance(rate, np.ndarray) and rate.ndim == 0:
            rate = rate[()]
        if isinstance(rate, bool) or not isinstance(rate, numbers.Real):
            raise ValueError(
                f"The output of the `schedule` function should be a float. Got: {rate!r}"
            )
        optimizer.learning_rate = float(rate)
        return float(rate)

    def on_epoch_begin(self, epoch, logs=None):
        optimizers = _optimizers(self.model)
        for optimizer in optimizers:
            rate = self._new_rate(optimizer, epoch)
            if self.verbose > 0:
                which = f" {optimizer.name}" if len(optimizers) > 1 else ""
                print(
                    f"\nEpoch {epoch + 1}: LearningRateScheduler setting{which} learning rate "
                    f"to {rate}."
                )

    def on_epoch_end(self, epoch, logs=None):
        _record_learning_rate(self.model, logs)


class ReduceLROnPlateau(MonitorCallback, Callback):
    """Reduce the learning rate when ``monitor`` has stopped improving.

    After ``patience`` epochs without an improvement larger than ``min_delta`` the rate is
    multiplied by ``factor`` (never below ``min_lr``), then ``cooldown`` epochs pass before
    counting again. The current rate is added to each epoch's logs as ``learning_rate``.

    Args:
        monitor: the logs key watched.
        factor: the multiplier, < 1.
        patience: epochs without improvement before reducing.
        verbose: 1 prints a message when reducing.
        mode: ``"auto"``, ``"min"`` or ``"max"``.
        min_delta: smallest change that counts as an improvement.
        cooldown: epochs to wait after a reduction.
        min_lr: lower bound of the rate.
        **kwargs: ``epsilon`` (old spelling of ``min_delta``).
    """

    def __init__(
        self,
        monitor="val_loss",
        factor=0.1,
        patience=10,
        verbose=0,
        mode="auto",
        min_delta=1e-4,
        cooldown=0,
        min_lr=0.0,
        **kwargs,
    ):
        Callback.__init__(self)
        if "epsilon" in kwargs:
            min_delta = kwargs.pop("epsilon")
        if kwargs:
            raise TypeError(f"ReduceLROnPlateau got unexpected keyword arguments {sorted(kwargs)}")
        if factor >= 1.0:
            raise ValueError(
                f"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}"
            )
        self._init_monitor(monitor, mode, None, min_delta)
        self.factor = factor
        self.min_lr = min_lr
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        self.cooldown_counter = 0
        self.wait = 0

    def _reset(self):
        self.best = None
        self.cooldown_counter = 0
        self.wait = 0
        self._warned_missing = False

    def on_train_begin(self, logs=None):
        self._reset()

    def in_cooldown(self):
        return self.cooldown_counter > 0

    def _reduce(self, optimizer, epoch, name):
        old = scalar(optimizer.learning_rate)
        if old <= np.float32(self.min_lr):
            return False
        new = max(old * self.factor, self.min_lr)
        optimizer.learning_rate = new
        if self.verbose > 0:
            which = f" {name}" if name else ""
            print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing{which} learning rate to {new}.")
        return True

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            logs = {}
        _record_learning_rate(self.model, logs)
        current = self._monitor_value(logs, "Learning rate reduction is")
        if current is None:
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                optimizers = _optimizers(self.model)
                reduced = False
                for optimizer in optimizers:
                    name = optimizer.name if len(optimizers) > 1 else ""
                    reduced = self._reduce(optimizer, epoch, name) or reduced
                if reduced:
                    self.cooldown_counter = self.cooldown
                    self.wait = 0
