"""Callbacks that hook into training: History, progress output, early stopping, checkpoints...

Keras's callback set with Keras 3's hooks, arguments and logs keys.
"""

from gpuk.callbacks.backup_and_restore import BackupAndRestore
from gpuk.callbacks.base import Callback, CallbackList, History, ProgbarLogger
from gpuk.callbacks.csv_logger import CSVLogger
from gpuk.callbacks.early_stopping import EarlyStopping
from gpuk.callbacks.lambda_callback import LambdaCallback
from gpuk.callbacks.learning_rate import LearningRateScheduler, ReduceLROnPlateau
from gpuk.callbacks.model_checkpoint import ModelCheckpoint
from gpuk.callbacks.orbax_checkpoint import OrbaxCheckpoint
from gpuk.callbacks.remote_monitor import RemoteMonitor
from gpuk.callbacks.swap_ema_weights import SwapEMAWeights
from gpuk.callbacks.tensorboard import TensorBoard
from gpuk.callbacks.terminate_on_nan import TerminateOnNaN

__all__ = [
    "BackupAndRestore",
    "CSVLogger",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "OrbaxCheckpoint",
    "ProgbarLogger",
    "ReduceLROnPlateau",
    "RemoteMonitor",
    "SwapEMAWeights",
    "TensorBoard",
    "TerminateOnNaN",
]
