"""The inference fast path of functional models: the execution plan run on raw arrays.

``model(x, training=False)``, ``predict`` and ``predict_on_batch`` outside a GradientTape record
nothing, so they need neither Tensors nor the per-layer call machinery. When every step of a
functional model's plan is a one-tensor call of a layer with a raw inference function
(``Layer._inference_fn``, see ``gpuk/layers/raw_inference.py``: Dense, Activation, Dropout),
:func:`run` feeds the input array through those functions and wraps only the outputs in
Tensors. Anything it does not cover (several inputs, masks, mixed precision, ``training``
truthy, a node recorded with ``training=True``, other layers, subclasses that change the call
machinery) returns None and the normal path runs. Results are the normal path's, bit for bit.
"""

import numpy as np

from gpuk._array import asarray, default_module, is_array
from gpuk._tree import pack_like
from gpuk.autograd import Tensor, autocast_dtype
from gpuk.autograd.recording import _local as _recording
from gpuk.layers.base import Layer
from gpuk.layers.call_context import call_stack_depth, current_training
from gpuk.layers.input_layer import InputLayer
from gpuk.layers.layer_tracking import attribute_version
from gpuk.models import subclassing

#: Model class -> whether it keeps Functional's call machinery (the fast path's assumption).
_PLAIN_CLASSES = {}


def input_array(data, dtype):
    """A model input on the device, floats in the ``Input``'s float dtype; None for strings
    (they stay host Tensors, see ``functional._to_tensor``)."""
    if dtype == "string" or isinstance(data, np.ndarray) and data.dtype.kind in "OUS":
        return None
    array = data if type(data) is np.ndarray and default_module() is np else asarray(data)
    if array.dtype.kind == "f" and np.dtype(dtype).kind == "f" and array.dtype != dtype:
        array = array.astype(dtype)
    return array


def run(model, value, training, functional_cls):
    """The model's outputs for one input ``value`` by the fast path, or None when it does not
    apply (the caller then runs the normal path)."""
    if isinstance(value, Tensor):
        if getattr(value, "_keras_mask", None) is not None:
            return None
        value = value.data
    elif not is_array(value):
        return None
    if training is None:
        training = current_training()
    elif type(training) is not bool:
        return None  # a tensor flag: the normal path decides
    if training or (_recording.tapes and not _recording.paused) or autocast_dtype() is not None:
        return None
    cached = model.__dict__.get("_raw_steps")
    if cached is None or cached[0] != attribute_version():
        cached = (attribute_version(), *_resolve_steps(model, functional_cls))
        object.__setattr__(model, "_raw_steps", cached)
    _, steps, node_training = cached
    if steps is None or (node_training and training is None):
        return None  # not covered, or a node's recorded training=True applies (MC dropout)
    (tensor,) = model._inputs
    if not _same_shape(value.shape, tensor.shape):
        value = subclassing.adjust_rank(tensor, value, model.name)
        model._check_value_shape(tensor, value)
    value = input_array(value, tensor.dtype)
    if value is None:
        return None
    if model.__dict__.get("_raw_cleared") != Layer._loss_version and not call_stack_depth():
        # As the outermost call of the normal path does; the raw functions add no losses.
        model._clear_losses()
        object.__setattr__(model, "_raw_cleared", Layer._loss_version)
    values = {id(tensor): value}
    for fn, source, target in steps:
        values[target] = fn(values[source])
    structure = model._output_structure
    if not isinstance(structure, (list, tuple, dict)):
        return Tensor(values[id(structure)])
    return pack_like(structure, [Tensor(values[id(t)]) for t in model._outputs])


def _resolve_steps(model, functional_cls):
    """``(steps, any node recorded training=True)``: the plan as ``(raw function, input id,
    output id)`` triples, or ``(None, False)`` when the fast path does not cover the model.
    It reads layer attributes only, so :func:`run` keeps it until any attribute changes."""
    raw_plan = model.__dict__.get("_raw_plan")
    if raw_plan is None:
        raw_plan = _build_raw_plan(model)
    if raw_plan is False or not _plain_class(type(model), functional_cls):
        return None, False
    if model.activity_regularizer is not None or model.compute_dtype != model.dtype:
        return None, False
    steps, any_training = [], False
    for layer, source, target, node_training in raw_plan:
        fn = layer._inference_fn()
        if fn is None:
            return None, False
        steps.append((fn, source, target))
        any_training = any_training or node_training
    return steps, any_training


def _same_shape(shape, expected):
    """``shape`` fits ``expected`` as it is (same rank, the known sizes after the batch)."""
    if len(shape) != len(expected):
        return False
    for i in range(1, len(shape)):
        if expected[i] is not None and shape[i] != expected[i]:
            return False
    return True


def _plain_class(cls, functional_cls):
    plain = _PLAIN_CLASSES.get(cls)
    if plain is None:
        plain = (
            cls.call is functional_cls.call
            and cls.run_graph is functional_cls.run_graph
            and cls._eager_call is Layer._eager_call
            and cls.compute_mask is Layer.compute_mask
        )
        _PLAIN_CLASSES[cls] = plain
    return plain


def _build_raw_plan(model):
    """``(layer, input id, output id, node's training flag)`` per plan step when the graph is
    one input feeding a chain (or tree) of one-tensor calls, else False; kept on the model
    (``_init_graph`` resets it)."""
    raw_plan = False
    if len(model._inputs) == 1 and isinstance(model._inputs[0]._keras_history[0], InputLayer):
        raw_plan = []
        for layer, args, simple_args, kwargs, _, outputs in model._execution_plan():
            node_training = kwargs.get("training", False)
            if (
                not (simple_args and len(args) == 1 and len(outputs) == 1)
                or set(kwargs) - {"training"}
                or type(node_training) is not bool
            ):
                raw_plan = False
                break
            raw_plan.append((layer, args[0].id, outputs[0], node_training))
    object.__setattr__(model, "_raw_plan", raw_plan)
    return raw_plan
