"""Callbacks that hook into training: History, progress output, early stopping, checkpoints..."""

from gpuk.callbacks.base import Callback, CallbackList, History, ProgbarLogger

__all__ = ["Callback", "CallbackList", "History", "ProgbarLogger"]
