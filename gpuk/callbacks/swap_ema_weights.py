"""SwapEMAWeights: evaluate and predict with the optimizer's moving average of the weights."""

import numpy as np

from gpuk.callbacks.base import Callback


class SwapEMAWeights(Callback):
    """Swap the model's weights with the optimizer's exponential moving averages (``use_ema``).

    Before ``evaluate``/``predict`` (and the validation inside ``fit``) the averages go into
    the model and the current weights into the optimizer; afterwards they are swapped back.
    With ``swap_on_epoch=True`` the swap also happens at every epoch end (so checkpoints written
    by callbacks after this one hold the averages) and is undone at the next epoch begin.

    Keras 3's exact behaviour is kept, including that ``on_predict_end`` does not swap back
    (the averages stay in the model after ``predict`` until the next test run swaps them).

    Args:
        swap_on_epoch: also swap at epoch ends (put this callback before ModelCheckpoint).

    Raises:
        ValueError: when the optimizer (or, for a MultiOptimizer, every sub-optimizer) has
            ``use_ema=False``.
    """

    def __init__(self, swap_on_epoch=False):
        super().__init__()
        self.swap_on_epoch = swap_on_epoch
        self._ema_weights_in_model = False

    @staticmethod
    def _swap(optimizer):
        for variable, average in zip(
            optimizer._trainable_variables, optimizer._model_variables_moving_average
        ):
            current = variable.data.copy()
            variable.assign(average.data)
            average.data = current

    @staticmethod
    def _finalize(optimizer):
        for variable, average in zip(
            optimizer._trainable_variables, optimizer._model_variables_moving_average
        ):
            average.data = variable.data.copy()

    def _apply(self, fn):
        optimizer = self.model.optimizer
        optimizer = getattr(optimizer, "inner_optimizer", optimizer)
        if hasattr(optimizer, "optimizers"):
            if not any(getattr(opt, "use_ema", False) for opt in optimizer.optimizers):
                raise ValueError(
                    "SwapEMAWeights must be used when at least one inner optimizer has "
                    "`use_ema=True` set. Received a MultiOptimizer with all inner optimizers "
                    "having `use_ema=False`."
                )
            targets = [opt for opt in optimizer.optimizers if getattr(opt, "use_ema", False)]
        else:
            targets = [optimizer]
        for opt in targets:
            if not hasattr(opt, "_model_variables_moving_average"):
                raise ValueError(
                    "SwapEMAWeights must be used when `use_ema=True` is set on the optimizer. "
                    f"Received: use_ema={getattr(opt, 'use_ema', None)}"
                )
            fn(opt)

    def _swap_variables(self):
        self._apply(self._swap)

    def on_epoch_begin(self, epoch, logs=None):
        if self.swap_on_epoch and self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = False

    def on_epoch_end(self, epoch, logs=None):
        if self.swap_on_epoch and not self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = True
            # fit ends with finalize_variable_values (averages -> model): keep the averages
            # there after the last epoch's swap.
            if epoch == self.params.get("epochs", np.inf) - 1:
                self._apply(self._finalize)

    def on_test_begin(self, logs=None):
        if not self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = True

    def on_test_end(self, logs=None):
        if self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = False

    def on_predict_begin(self, logs=None):
        if not self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = True

    def on_predict_end(self, logs=None):
        if not self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = False
