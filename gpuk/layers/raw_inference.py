"""Inference on raw backend arrays: the layers' side of the functional fast path.

``model.predict``/``predict_on_batch`` and ``model(x, training=False)`` outside a GradientTape
need no autodiff bookkeeping and no per-layer call machinery. A layer that can compute its
inference call directly on NumPy/CuPy arrays returns such a function from
``Layer._inference_fn()``; a functional model whose layers all do runs them back to back
(``Functional._run_inference``) and wraps only the model's outputs in Tensors. Anything else
(masks, mixed precision, a training flag, a subclass that changes the call machinery, layers
without a raw function) takes the normal path.

A raw function must return the same bits as the layer's normal call. It may write in place
only into arrays it allocated itself (its input may feed other layers too).
"""

from gpuk import activations
from gpuk.autograd import Tensor, as_array
from gpuk.layers.base import Layer
from gpuk.ops._util import xp_of
from gpuk.ops.nn import softmax_value


def raw_call_ready(layer):
    """What every raw inference function assumes: the layer is built, has no activity
    regularizer, computes in its variable dtype (no autocast) and uses Layer's own call
    machinery (a subclass overriding ``__call__``, ``_eager_call``, ``_convert_input`` or
    ``compute_mask`` is out)."""
    cls = type(layer)
    return (
        layer.built
        and layer.activity_regularizer is None
        and cls.__call__ is Layer.__call__
        and cls._eager_call is Layer._eager_call
        and cls._convert_input is Layer._convert_input
        and cls.compute_mask is Layer.compute_mask
        and layer.compute_dtype == layer.dtype
    )


def raw_input(layer, array):
    """``array`` cast as ``Layer._convert_input`` casts a layer's input (float inputs to the
    compute dtype)."""
    if layer._convert_input_args and array.dtype.kind == "f" and array.dtype != layer.dtype:
        return array.astype(layer.dtype)
    return array


def call_on_array(layer, array, **kwargs):
    """``layer.call`` on an array wrapped in a Tensor, back to an array: what ``__call__``
    does once :func:`raw_call_ready` holds and no mask or autocast is involved."""
    out = layer.call(Tensor(array), **kwargs)
    return out.data if isinstance(out, Tensor) else as_array(out)


def apply_activation(activation, y, owned):
    """``activation(y)`` on an array, as the activation op computes it.

    ``owned``: ``y`` was allocated by the caller, so relu and softmax may work in place.
    Activations without a raw form run their op on a Tensor (nothing is recorded outside a
    tape).
    """
    if activation is None or activation is activations.linear:
        return y
    if activation is activations.relu:
        return xp_of(y).maximum(y, 0, out=y if owned else None)
    if activation is activations.softmax and y.ndim:
        return softmax_value(y, -1, overwrite=owned)
    out = activation(Tensor(y))
    return out.data if isinstance(out, Tensor) else as_array(out)
