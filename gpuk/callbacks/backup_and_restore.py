"""BackupAndRestore: resume an interrupted ``fit`` from its last finished epoch."""

import json
import os
import shutil

import numpy as np

from gpuk.callbacks.base import Callback
from gpuk.callbacks.model_checkpoint import atomic_save

_STATE = "latest.npz"
_METADATA = "training_metadata.json"


class BackupAndRestore(Callback):
    """Back up the training state regularly, and restore it when ``fit`` starts again.

    Each backup holds the model's weights, the optimizer's variables (its iteration count and
    slots, so Adam & co. continue exactly) and the epoch to resume from. When ``fit`` is
    called again with this callback after an interruption (an exception, a killed process),
    ``on_train_begin`` restores that state and sets ``model._initial_epoch``; ``fit``
    continues from that epoch. A finished ``fit`` deletes the backup
    (``delete_checkpoint=True``), so the next ``fit`` starts afresh.

    Args:
        backup_dir: folder for the backup (created when needed). Use a different folder for
            each training run.
        save_freq: ``"epoch"`` or an integer number of batches between backups (a run
            interrupted mid-epoch restarts that epoch from the weights of the last backup).
        double_checkpoint: also keep the previous backup (``*.bkp``), used when the latest
            one cannot be read.
        delete_checkpoint: delete ``backup_dir`` when training finishes.
    """

    def __init__(
        self, backup_dir, save_freq="epoch", double_checkpoint=False, delete_checkpoint=True
    ):
        super().__init__()
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, int)):
            raise ValueError(
                f"Invalid value for argument `save_freq`. Received: save_freq={save_freq}. "
                "Expected either 'epoch' or an integer value."
            )
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self._state_path = os.path.join(self.backup_dir, _STATE)
        self._metadata_path = os.path.join(self.backup_dir, _METADATA)
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = 0
        self._current_epoch = 0

    # ------------------------------------------------------------------ restore
    def on_train_begin(self, logs=None):
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = 0
        self._current_epoch = 0
        if getattr(self.model, "built", True) is False:
            raise ValueError(
                "To use the BackupAndRestore callback, your model must be built before you "
                f"call `fit()`. Model {self.model} is unbuilt."
            )
        candidates = [p for p in (self._state_path, self._state_path + ".bkp") if os.path.exists(p)]
        for i, path in enumerate(candidates):
            try:
                self._restore(path)
                return
            except (OSError, ValueError, KeyError):
                if i == len(candidates) - 1:
                    raise

    def _restore(self, path):
        with np.load(path, allow_pickle=False) as state:
            weights = [state[f"model_{i}"] for i in range(int(state["model_count"]))]
            optimizer_weights = [
                state[f"optimizer_{i}"] for i in range(int(state["optimizer_count"]))
            ]
            epoch = int(state["epoch"])
        self.model.set_weights(weights)
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and optimizer_weights:
            if not getattr(optimizer, "built", True):
                optimizer.build(self.model.trainable_weights)
            optimizer.set_weights(optimizer_weights)
        self._current_epoch = epoch
        self.model._initial_epoch = epoch

    # ------------------------------------------------------------------ backup
    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch = epoch + 1
        self._last_batch_seen = 0
        if self.save_freq == "epoch":
            self._save()

    def on_train_batch_end(self, batch, logs=None):
        if self._should_save_on_batch(batch):
            self._save()

    def _should_save_on_batch(self, batch):
        if self.save_freq == "epoch":
            return False
        if batch <= self._last_batch_seen:
            added = batch + 1
        else:
            added = batch - self._last_batch_seen
        self._batches_seen_since_last_saving += added
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    def _save(self):
        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint and os.path.exists(self._state_path):
            shutil.copyfile(self._state_path, self._state_path + ".bkp")
        arrays = {"epoch": np.asarray(self._current_epoch)}
        weights = self.model.get_weights()
        arrays["model_count"] = np.asarray(len(weights))
        for i, weight in enumerate(weights):
            arrays[f"model_{i}"] = np.asarray(weight)
        optimizer = getattr(self.model, "optimizer", None)
        optimizer_weights = (
            optimizer.get_weights()
            if optimizer is not None and getattr(optimizer, "built", False)
            else []
        )
        arrays["optimizer_count"] = np.asarray(len(optimizer_weights))
        for i, weight in enumerate(optimizer_weights):
            arrays[f"optimizer_{i}"] = np.asarray(weight)

        def write(tmp):
            with open(tmp, "wb") as f:
                np.savez(f, **arrays)

        # One file holds the weights and the epoch, so they can never disagree.
        atomic_save(self._state_path, write)
        metadata = {"epoch": self._current_epoch, "batch": self._last_batch_seen}

        def write_metadata(tmp):
            with open(tmp, "w") as f:
                json.dump(metadata, f)

        atomic_save(self._metadata_path, write_metadata)

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and os.path.exists(self.backup_dir):
            shutil.rmtree(self.backup_dir)
