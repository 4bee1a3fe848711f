"""Questions about symbolic tensors asked without importing the layers package: a
``KerasTensor`` marks itself with the class attribute ``_is_symbolic_tensor``, and its
``_keras_history`` (layer, node index, tensor index) locates it in the layer graph."""


def is_keras_tensor(value):
    """True for a symbolic tensor made by ``Input`` or by calling a layer on one."""
    return bool(getattr(type(value), "_is_symbolic_tensor", False))


def get_source_inputs(tensor):
    """The model inputs a symbolic tensor was computed from (a list, without repeats), as
    Keras's ``keras.utils.get_source_inputs``. A value with no graph history comes back as is."""
    if not hasattr(tensor, "_keras_history"):
        return tensor
    sources, pending = [], [tensor]
    while pending:
        current = pending.pop()
        layer, node_index, _ = current._keras_history
        nodes = getattr(layer, "_inbound_nodes", None)
        if not nodes:
            found = [current]
        elif nodes[node_index].is_input:
            found = list(nodes[node_index].output_tensors)
        else:
            pending.extend(reversed(nodes[node_index].input_tensors))
            continue
        sources.extend(t for t in found if all(t is not s for s in sources))
    return sources
