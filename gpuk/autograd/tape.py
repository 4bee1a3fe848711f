"""GradientTape: TensorFlow's way to ask for gradients, on gpuk's eager autodiff."""

from gpuk._array import get_array_module
from gpuk._tree import flatten, pack_like
from gpuk.autograd import engine, recording
from gpuk.autograd.tensor import Tensor
from gpuk.autograd.variable import Variable


class GradientTape:
    """Record operations run inside a ``with`` block, then differentiate through them.

    Trainable Variables are watched automatically; ``watch`` adds other tensors::

        with gpuk.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        grads = tape.gradient(loss, model.trainable_weights)

    Args:
        persistent: allow several ``gradient`` calls on one recording.
        watch_accessed_variables: accepted for TensorFlow compatibility; trainable
            Variables are always watched.
    """

    def __init__(self, persistent=False, watch_accessed_variables=True):
        self.persistent = persistent
        self.watch_accessed_variables = watch_accessed_variables
        self._context = None
        self._used = False

    def __enter__(self):
        self._context = recording.tape_active()
        self._context.__enter__()
        return self

    def __exit__(self, *exc_info):
        self._context.__exit__(*exc_info)
        self._context = None
        return False

    def watch(self, tensor):
        """Differentiate with respect to ``tensor`` (a Tensor, or a nested list of them)."""
        for item in flatten(tensor):
            if not isinstance(item, Tensor):
                raise TypeError(
                    f"GradientTape.watch expects gpuk Tensors or Variables, got {type(item)}; "
                    "wrap values with gpuk.backend.constant(...) first"
                )
            if item.node is None and not item.requires_grad:
                item.requires_grad = True

    def stop_recording(self):
        """Context manager that pauses recording inside the tape's block."""
        return recording.no_grad()

    def reset(self):
        """Forget the recording; later ``gradient`` calls see only new operations."""
        self._used = False

    def gradient(self, target, sources, output_gradients=None):
        """Return the gradient of ``target`` with respect to ``sources``.

        A non-scalar target is summed (as TensorFlow does). ``sources`` may be one tensor or a
        nested list/tuple/dict; the result has the same structure, with ``None`` for sources
        that ``target`` does not depend on.
        """
        if self._used and not self.persistent:
            raise RuntimeError(
                "A non-persistent GradientTape can only be used to compute one set of gradients; "
                "create it with GradientTape(persistent=True) to call gradient() again"
            )
        self._used = True
        targets = [t for t in flatten(target)]
        for t in targets:
            if not isinstance(t, Tensor):
                raise TypeError(
                    f"GradientTape.gradient target must be a gpuk Tensor, got {type(t)}"
                )
        if output_gradients is None:
            seeds = [_ones_like(t) for t in targets]
        else:
            seeds = [_as_data(g, t) for g, t in zip(flatten(output_gradients), targets)]
        flat_sources = list(flatten(sources))
        for s in flat_sources:
            if not isinstance(s, Tensor):
                raise TypeError(
                    f"GradientTape.gradient sources must be gpuk Tensors, got {type(s)}"
                )
        grads = engine.gradients(targets, seeds, flat_sources)
        wrapped = iter([None if g is None else Tensor(g) for g in grads])
        return pack_like(sources, wrapped)


def _ones_like(tensor):
    xp = get_array_module(tensor.data)
    return xp.ones(tensor.shape, dtype=tensor.dtype)


def _as_data(grad, like):
    data = grad.data if isinstance(grad, Tensor) else grad
    xp = get_array_module(like.data)
    return xp.asarray(data, dtype=like.dtype)


__all__ = ["GradientTape", "Variable"]
