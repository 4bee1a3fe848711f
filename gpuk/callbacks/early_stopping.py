"""EarlyStopping: stop training when a monitored quantity stops improving."""

from gpuk.callbacks.base import Callback
from gpuk.callbacks.monitor import MonitorCallback


class EarlyStopping(MonitorCallback, Callback):
    """Stop training when ``monitor`` has not improved for ``patience`` epochs.

    As in Keras 3: each epoch without an improvement (by more than ``min_delta``) counts
    towards ``patience``; when the count reaches ``patience`` (from the second epoch on),
    ``model.stop_training`` is set. With ``restore_best_weights=True`` the weights of the best
    epoch are put back when training ends, whether it stopped early or ran all its epochs.

    Args:
        monitor: the logs key watched (``"val_loss"``).
        min_delta: smallest absolute change that counts as an improvement.
        patience: epochs without improvement after which training stops.
        verbose: 1 prints a message when stopping or restoring.
        mode: ``"auto"``, ``"min"`` or ``"max"``.
        baseline: the value to reach; epochs that improve on the best value but not on
            ``baseline`` still count towards ``patience``.
        restore_best_weights: restore the weights of the best epoch at the end.
        start_from_epoch: epochs to wait before watching (a warm-up).
    """

    def __init__(
        self,
        monitor="val_loss",
        min_delta=0,
        patience=0,
        verbose=0,
        mode="auto",
        baseline=None,
        restore_best_weights=False,
        start_from_epoch=0,
    ):
        Callback.__init__(self)
        self._init_monitor(monitor, mode, None, min_delta)
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.wait = 0
        self.stopped_epoch = 0
        self.best_weights = None
        self.best_epoch = 0

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0
        self._warned_missing = False

    def on_epoch_end(self, epoch, logs=None):
        current = self._monitor_value(logs, "Early stopping")
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            # The first watched epoch is the best so far, even when it misses the baseline.
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(
                    "Restoring model weights from the end of the best epoch: "
                    f"{self.best_epoch + 1}."
                )
            self.model.set_weights(self.best_weights)

    def get_monitor_value(self, logs):
        """The monitored value in ``logs`` (None, with a warning once, when missing)."""
        return self._monitor_value(logs, "Early stopping")
