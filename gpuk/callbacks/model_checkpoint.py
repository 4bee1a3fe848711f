"""ModelCheckpoint: save the model or its weights during training, atomically."""

import os
import shutil
import stat
import uuid
import warnings

import numpy as np

from gpuk.callbacks.base import Callback
from gpuk.callbacks.monitor import MonitorCallback


def atomic_save(filepath, write):
    """Call ``write(tmp_path)`` then move the result onto ``filepath`` with ``os.replace``.

    The temporary file sits in the target's folder (so the rename is atomic) and keeps the
    target's name as its suffix (so ``.keras``/``.weights.h5`` still choose the format). If
    ``write`` fails, the previous ``filepath`` is left untouched and the temporary removed.
    """
    folder = os.path.dirname(filepath)
    if folder:
        os.makedirs(folder, exist_ok=True)
    if os.path.isdir(filepath):
        raise IsADirectoryError(
            "Please specify a non-directory filepath for ModelCheckpoint. Filepath used is an "
            f"existing directory: {filepath}"
        )
    tmp = os.path.join(folder, f".tmp-{uuid.uuid4().hex[:12]}-{os.path.basename(filepath)}")
    try:
        write(tmp)
        if os.path.exists(filepath) and os.path.isfile(tmp):
            # Replacing a file keeps its mode, as writing it in place with open() would.
            os.chmod(tmp, stat.S_IMODE(os.stat(filepath).st_mode))
        os.replace(tmp, filepath)
    finally:
        if os.path.isdir(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
        elif os.path.exists(tmp):
            os.remove(tmp)


class ModelCheckpoint(MonitorCallback, Callback):
    """Save the model (or its weights) at the end of every epoch or every N batches.

    Args:
        filepath: where to save; may hold ``str.format`` fields filled from the epoch
            (1-based), the batch (with an integer ``save_freq``) and the logs, e.g.
            ``"ckpt/model.{epoch:02d}-{val_loss:.2f}.keras"``. Missing folders are created.
            Full models: ``.keras`` (Keras 3 archive) or ``.h5``; weights only:
            ``.weights.h5`` (Keras 3 layout) or ``.h5``/``.hdf5`` (legacy layout).
        monitor: the logs key compared when ``save_best_only``.
        verbose: 1 prints a message on each save.
        save_best_only: save only when ``monitor`` improved (the same path is overwritten when
            it holds no fields).
        save_weights_only: ``model.save_weights`` instead of ``model.save``.
        mode: ``"auto"``, ``"min"`` or ``"max"``.
        save_freq: ``"epoch"`` or an integer number of batches between saves.
        initial_value_threshold: the value ``monitor`` must beat for the first save.

    Each file is written to a temporary file in the same folder and renamed onto the target,
    so a crash or an error while saving leaves the previous checkpoint intact.
    """

    def __init__(
        self,
        filepath,
        monitor="val_loss",
        verbose=0,
        save_best_only=False,
        save_weights_only=False,
        mode="auto",
        save_freq="epoch",
        initial_value_threshold=None,
        **kwargs,
    ):
        Callback.__init__(self)
        # tf.keras spellings: `period` (epochs between saves) and `options`.
        self.period = kwargs.pop("period", 1)
        kwargs.pop("options", None)
        if kwargs:
            raise TypeError(f"ModelCheckpoint got unexpected keyword arguments {sorted(kwargs)}")
        self._init_monitor(monitor, mode, initial_value_threshold, 0)
        self.verbose = verbose
        self.filepath = os.fspath(filepath)
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = None
        self._current_epoch = 0
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, int)):
            raise ValueError(
                f"Unrecognized save_freq: {save_freq}. Expected save_freq are 'epoch' or "
                "integer values"
            )
        if save_weights_only and not self.filepath.endswith((".h5", ".hdf5")):
            raise ValueError(
                "When using `save_weights_only=True` in `ModelCheckpoint`, the filepath provided "
                "must end in `.weights.h5` (Keras weights format) or `.h5`. "
                f"Received: filepath={self.filepath}"
            )

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self._should_save_on_batch(batch):
            self._save_model(self._current_epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch" and (epoch + 1) % max(int(self.period), 1) == 0:
            self._save_model(epoch, None, logs)

    def _should_save_on_batch(self, batch):
        if self.save_freq == "epoch":
            return False
        if self._last_batch_seen is None or batch <= self._last_batch_seen:
            added = batch + 1  # a new epoch started
        else:
            added = batch - self._last_batch_seen
        self._batches_seen_since_last_saving += added
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    def _should_save_model(self, epoch, logs, filepath):
        if not self.save_best_only:
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: saving model to {filepath}")
            return True
        current = (logs or {}).get(self.monitor)
        if current is None:
            warnings.warn(f"Can save best model only with {self.monitor} available.", stacklevel=3)
            return True
        if isinstance(current, np.ndarray) and current.ndim > 0:
            warnings.warn(
                "Can save best model only when `monitor` is a scalar value. "
                f"Received: {current}. Falling back to `save_best_only=False`.",
                stacklevel=3,
            )
            return True
        if self.monitor_op is None:
            self._set_monitor_op()
        current = float(current)
        best = "None" if self.best is None else f"{self.best:.5f}"
        if self._is_improvement(current, self.best):
            if self.verbose > 0:
                print(
                    f"\nEpoch {epoch + 1}: {self.monitor} improved from {best} to "
                    f"{current:.5f}, saving model to {filepath}"
                )
            self.best = current
            return True
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best}")
        return False

    def _get_file_path(self, epoch, batch, logs):
        logs = dict(logs or {})
        try:
            if batch is None or "batch" in logs:
                return self.filepath.format(epoch=epoch + 1, **logs)
            return self.filepath.format(epoch=epoch + 1, batch=batch + 1, **logs)
        except KeyError as error:
            raise KeyError(
                f'Failed to format this callback filepath: "{self.filepath}". Reason: {error}'
            ) from None

    def _save_model(self, epoch, batch, logs):
        filepath = self._get_file_path(epoch, batch, logs)
        if not self._should_save_model(epoch, logs, filepath):
            return
        if self.save_weights_only:
            atomic_save(filepath, lambda tmp: self.model.save_weights(tmp, overwrite=True))
        else:
            atomic_save(filepath, lambda tmp: self.model.save(tmp, overwrite=True))
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: finished saving model to {filepath}")
