"""LambdaCallback: a callback made of plain functions."""

from gpuk.callbacks.base import Callback


class LambdaCallback(Callback):
    """Build a callback from functions.

    The functions are called with the same positional arguments as the hooks they replace:
    ``on_epoch_begin(epoch, logs)``, ``on_epoch_end(epoch, logs)``, ``on_train_begin(logs)``,
    ``on_train_end(logs)``, ``on_train_batch_begin(batch, logs)``,
    ``on_train_batch_end(batch, logs)``; any other hook (``on_batch_begin``, ``on_batch_end``,
    ``on_test_end`` ...) can be given as a keyword argument too.

    Example:
        ``LambdaCallback(on_epoch_end=lambda epoch, logs: print(epoch, logs["loss"]))``
    """

    def __init__(
        self,
        on_epoch_begin=None,
        on_epoch_end=None,
        on_train_begin=None,
        on_train_end=None,
        on_train_batch_begin=None,
        on_train_batch_end=None,
        **kwargs,
    ):
        super().__init__()
        self.__dict__.update(kwargs)
        hooks = {
            "on_epoch_begin": on_epoch_begin,
            "on_epoch_end": on_epoch_end,
            "on_train_begin": on_train_begin,
            "on_train_end": on_train_end,
            "on_train_batch_begin": on_train_batch_begin,
            "on_train_batch_end": on_train_batch_end,
        }
        for name, function in {**hooks, **kwargs}.items():
            if function is None:
                continue
            if name.startswith("on_") and not callable(function):
                raise TypeError(
                    f"LambdaCallback: `{name}` must be a function; received {function!r}"
                )
            setattr(self, name, function)
