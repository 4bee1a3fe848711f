"""Shared logic of the callbacks that watch a logged quantity (monitor, mode, min_delta)."""

import warnings

import numpy as np

from gpuk._array import to_numpy

# Metric names whose larger values are better (Keras 3 reads a metric's direction; tf.keras 2
# looked for "acc" in the name). Matched against the monitor without its "val_" prefix.
_HIGHER_IS_BETTER = (
    "acc",
    "auc",
    "precision",
    "recall",
    "f1",
    "fbeta",
    "iou",
    "r2",
    "cosine_similarity",
    "true_positives",
    "true_negatives",
    "sensitivity",
    "specificity",
)
_LOWER_IS_BETTER = (
    "loss",
    "error",
    "mse",
    "mae",
    "mape",
    "msle",
    "rmse",
    "crossentropy",
    "hinge",
    "poisson",
    "divergence",
    "logcosh",
    "false_positives",
    "false_negatives",
)


def scalar(value):
    """A learning rate or log value (Variable, Tensor, array, number) as a Python float."""
    if hasattr(value, "numpy") and callable(value.numpy):
        value = value.numpy()
    return float(to_numpy(value))


class MonitorCallback:
    """Mixin: decides whether a monitored value improved.

    Args:
        monitor: the logs key watched.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (direction from the metric's name).
        baseline: initial best value, or None.
        min_delta: smallest change that counts as an improvement.
    """

    def _init_monitor(self, monitor, mode, baseline, min_delta):
        if mode not in ("auto", "min", "max"):
            warnings.warn(
                f"{type(self).__name__} mode '{mode}' is unknown, fallback to auto mode.",
                stacklevel=3,
            )
            mode = "auto"
        self.monitor = monitor
        self.mode = mode
        self.best = baseline
        self.min_delta = abs(min_delta)
        self.monitor_op = None
        self._warned_missing = False

    def _set_monitor_op(self):
        if self.mode == "min":
            self.monitor_op = np.less
        elif self.mode == "max":
            self.monitor_op = np.greater
        else:
            self.monitor_op = self._infer_direction()
        if self.monitor_op is np.less:
            self.min_delta = -abs(self.min_delta)
        else:
            self.min_delta = abs(self.min_delta)

    def _infer_direction(self):
        name = self.monitor[4:] if self.monitor.startswith("val_") else self.monitor
        if name == "loss":
            return np.less
        for metric in getattr(self.model, "metrics", None) or []:
            direction = getattr(metric, "_direction", None)
            if getattr(metric, "name", None) == name and direction in ("up", "down"):
                return np.greater if direction == "up" else np.less
        if name.endswith("_loss"):  # an output's loss, which no metric declares
            return np.less
        lowered = name.lower()
        if any(word in lowered for word in _LOWER_IS_BETTER):
            return np.less
        if any(word in lowered for word in _HIGHER_IS_BETTER):
            return np.greater
        warnings.warn(
            f"{type(self).__name__}: cannot tell whether monitor={self.monitor!r} should be "
            "maximized or minimized; minimizing it. Pass mode='max' or mode='min'.",
            stacklevel=4,
        )
        return np.less

    def _is_improvement(self, monitor_value, reference_value):
        if reference_value is None:
            return True
        return bool(self.monitor_op(monitor_value - self.min_delta, reference_value))

    def _monitor_value(self, logs, what):
        """The monitored value from ``logs``, or None (warning once per run) when absent."""
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            if not self._warned_missing:
                self._warned_missing = True
                warnings.warn(
                    f"{what} conditioned on metric `{self.monitor}` which is not available. "
                    f"Available metrics are: {','.join(list(logs.keys()))}",
                    stacklevel=4,
                )
            return None
        if self.monitor_op is None:
            self._set_monitor_op()
        return scalar(value)
