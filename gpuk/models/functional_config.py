"""Rebuilding a functional model's graph from its config (Keras 3's and Keras 2's node forms):
the inverse of ``Functional.get_config``, and the node forms that method writes."""

from gpuk._tree import flatten
from gpuk.layers.serialization import deserialize as deserialize_layer
from gpuk.utils.symbolic import is_keras_tensor


def _is_ref(value):
    return (
        isinstance(value, (list, tuple))
        and len(value) >= 3
        and isinstance(value[0], str)
        and isinstance(value[1], int)
    )


def _functional_from_config(cls, config, custom_objects):
    created = {}
    pending = {}
    order = []
    for entry in config["layers"]:
        layer = deserialize_layer(entry, custom_objects=custom_objects)
        name = entry.get("name") or entry.get("config", {}).get("name") or layer.name
        created[name] = layer
        order.append(name)
        nodes = entry.get("inbound_nodes", [])
        pending[name] = list(nodes)

    def tensor_for(layer_name, node_index, tensor_index):
        layer = created.get(layer_name)
        if layer is None:
            raise ValueError(f"Model config references an unknown layer {layer_name!r}")
        if node_index >= len(layer._inbound_nodes):
            return None
        outputs = layer._inbound_nodes[node_index].output_tensors
        return outputs[tensor_index]

    def resolve_keras3(item):
        if isinstance(item, dict) and item.get("class_name") == "__keras_tensor__":
            history = item["config"]["keras_history"]
            return tensor_for(*history[:3])
        if isinstance(item, dict):
            return {k: resolve_keras3(v) for k, v in item.items()}
        if isinstance(item, list):
            return [resolve_keras3(v) for v in item]
        return item

    def try_node(layer, node):
        if isinstance(node, dict):
            args = resolve_keras3(node.get("args", []))
            kwargs = resolve_keras3(node.get("kwargs", {}))
            if _unresolved(node, tensor_for):
                return False
            kwargs = _clean_call_kwargs(kwargs)
            layer(*args, **kwargs)
            return True
        entries = node
        tensors = []
        kwargs = {}
        for entry in entries:
            tensor = tensor_for(entry[0], entry[1], entry[2])
            if tensor is None:
                return False
            tensors.append(tensor)
            if len(entry) > 3 and isinstance(entry[3], dict):
                kwargs = dict(entry[3])
                # tf.keras writes tensor keyword arguments (MultiHeadAttention's value) as
                # [layer_name, node_index, tensor_index] references.
                for key, value in kwargs.items():
                    if _is_ref(value):
                        kwargs[key] = tensor_for(value[0], value[1], value[2])
                        if kwargs[key] is None:
                            return False
        kwargs = _clean_call_kwargs(dict(kwargs))
        layer(tensors[0] if len(tensors) == 1 else tensors, **kwargs)
        return True

    progress = True
    while progress and any(pending.values()):
        progress = False
        for name in order:
            layer = created[name]
            while pending[name]:
                if not try_node(layer, pending[name][0]):
                    break
                pending[name].pop(0)
                progress = True
    stuck = [name for name in order if pending[name]]
    if stuck:
        raise ValueError(
            f"Could not rebuild the model graph: layers {stuck} have unresolved inputs"
        )

    def refs(value):
        if _is_ref(value):
            return tensor_for(value[0], value[1], value[2])
        if isinstance(value, dict):
            return {k: refs(v) for k, v in value.items()}
        return [refs(v) for v in value]

    inputs = refs(config["input_layers"])
    outputs = refs(config["output_layers"])
    model = cls(inputs=inputs, outputs=outputs, name=config.get("name"))
    if "trainable" in config:
        model.trainable = config["trainable"]
    return model


def _unresolved(node, tensor_for):
    def walk(item):
        if isinstance(item, dict) and item.get("class_name") == "__keras_tensor__":
            return tensor_for(*item["config"]["keras_history"][:3]) is None
        if isinstance(item, dict):
            return any(walk(v) for v in item.values())
        if isinstance(item, list):
            return any(walk(v) for v in item)
        return False

    return walk(node.get("args", [])) or walk(node.get("kwargs", {}))


def _clean_call_kwargs(kwargs):
    kwargs = dict(kwargs)
    if kwargs.get("mask") is None:
        kwargs.pop("mask", None)
    if not kwargs.get("training"):
        kwargs.pop("training", None)
    return kwargs


# ----------------------------------------------------------------------------- writing


def _keras3_node(node, node_index_map):
    """``{"args", "kwargs"}`` with ``__keras_tensor__`` references, as Keras 3 writes nodes."""

    def ser(item):
        if is_keras_tensor(item):
            producer, node_index, tensor_index = item._keras_history
            index = node_index_map[id(producer._inbound_nodes[node_index])]
            return {
                "class_name": "__keras_tensor__",
                "config": {
                    "shape": list(item.shape),
                    "dtype": item.dtype,
                    "keras_history": [producer.name, index, tensor_index],
                },
            }
        if isinstance(item, (list, tuple)):
            return [ser(v) for v in item]
        if isinstance(item, dict):
            return {k: ser(v) for k, v in item.items()}
        if isinstance(item, (bool, int, float, str, type(None))):
            return item
        return None

    return {"args": ser(list(node.call_args)), "kwargs": ser(dict(node.call_kwargs))}


def _plain_kwargs(kwargs):
    out = {}
    for key, value in kwargs.items():
        if any(is_keras_tensor(t) for t in flatten(value)):
            continue
        if isinstance(value, (bool, int, float, str, type(None), list, dict)):
            out[key] = value
    return out
