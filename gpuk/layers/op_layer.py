"""``keras.ops`` calls and Python operators on symbolic tensors become graph nodes.

Keras 3 builds functional models through ``keras.ops`` calls on ``KerasTensor`` s
(``x = keras.ops.expand_dims(inputs, -1)``, ``inputs * 2.0``, ``inputs[:, 0]``). Here each
such call is an :class:`OpLayer` node holding the op's public name and its non-symbolic
arguments; the symbolic ones arrive as the layer's inputs. Its output shape is inferred by
running the op on small zero batches, as any layer without a formula.
"""

import numpy as np

from gpuk.layers import serialization
from gpuk.layers.base import KerasTensor, Layer, unique_name
from gpuk.ops import _symbolic
from gpuk.utils.naming import to_snake_case


class _Slot:
    """Where the ``index``-th symbolic argument goes back into the call."""

    def __init__(self, index):
        self.index = index


def _template(structure, found):
    """``structure`` with every KerasTensor replaced by a ``_Slot`` (collected in ``found``)."""
    if isinstance(structure, KerasTensor):
        found.append(structure)
        return _Slot(len(found) - 1)
    if isinstance(structure, (list, tuple)):
        items = [_template(v, found) for v in structure]
        return items if isinstance(structure, list) else tuple(items)
    if isinstance(structure, dict):
        return {k: _template(v, found) for k, v in structure.items()}
    return structure


def _fill(structure, tensors):
    if isinstance(structure, _Slot):
        return tensors[structure.index]
    if isinstance(structure, (list, tuple)):
        items = [_fill(v, tensors) for v in structure]
        return items if isinstance(structure, list) else tuple(items)
    if isinstance(structure, dict):
        return {k: _fill(v, tensors) for k, v in structure.items()}
    return structure


def _to_config(structure):
    if isinstance(structure, _Slot):
        return {"__slot__": structure.index}
    if isinstance(structure, slice):
        return {"__slice__": [structure.start, structure.stop, structure.step]}
    if isinstance(structure, type(Ellipsis)):
        return {"__ellipsis__": True}
    if isinstance(structure, (list, tuple)):
        items = [_to_config(v) for v in structure]
        return items if isinstance(structure, list) else {"__tuple__": items}
    if isinstance(structure, dict):
        return {"__dict__": {k: _to_config(v) for k, v in structure.items()}}
    if structure is None or isinstance(structure, (bool, int, float, str)):
        return structure
    if hasattr(structure, "tolist"):
        return structure.tolist()
    raise TypeError(f"OpLayer: cannot serialize the argument {structure!r}")


def _from_config(config):
    if isinstance(config, list):
        return [_from_config(v) for v in config]
    if isinstance(config, dict):
        if "__slot__" in config:
            return _Slot(config["__slot__"])
        if "__slice__" in config:
            return slice(*config["__slice__"])
        if "__ellipsis__" in config:
            return Ellipsis
        if "__tuple__" in config:
            return tuple(_from_config(v) for v in config["__tuple__"])
        if "__dict__" in config:
            return {k: _from_config(v) for k, v in config["__dict__"].items()}
    return config


def _decode_keras(value):
    """A call argument from a Keras 3 config: ``__slice__``, ``__ellipsis__`` and
    ``__tensor__`` entries become Python slices, ``...`` and arrays."""
    if isinstance(value, dict):
        kind = value.get("class_name")
        if kind == "__slice__":
            c = value.get("config", {})
            return slice(c.get("start"), c.get("stop"), c.get("step"))
        if kind == "__ellipsis__":
            return Ellipsis
        if kind == "__tensor__":
            c = value["config"]
            return np.asarray(c["value"], dtype=c.get("dtype"))
        return {k: _decode_keras(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode_keras(v) for v in value]
    return value


def _resolve(op_name):
    from gpuk import ops

    fn = ops
    for part in op_name.split("."):
        fn = getattr(fn, part)
    return fn


class OpLayer(Layer):
    """One ``gpuk.ops`` call in a functional graph.

    Args:
        op_name: the op's public name in ``gpuk.ops`` (``'expand_dims'``, ``'image.resize'``).
        args, kwargs: the call's arguments, symbolic ones replaced by slots.
    """

    def __init__(self, op_name, args=(), kwargs=None, **layer_kwargs):
        layer_kwargs.setdefault("name", unique_name(op_name.replace(".", "_")))
        super().__init__(**layer_kwargs)
        self.op_name = op_name
        self.call_template = (
            _from_config(args) if isinstance(args, (list, dict)) else args,
            _from_config(kwargs) if isinstance(kwargs, dict) else {},
        )
        self._op = _resolve(op_name)

    @classmethod
    def from_keras_operation(cls, config):
        """An ``OpLayer`` for a node Keras 3 saved as one of its ``keras.src.ops`` operations
        (``{"class_name": "ExpandDims", "config": {"axis": -1, ...}}``): the operation's
        config holds the op's keyword arguments, the node's call its positional ones."""
        params = dict(config.get("config", {}))
        name = params.pop("name", None) or config.get("name")
        params.pop("trainable", None)
        layer = cls(to_snake_case(config["class_name"]), name=name)
        layer._keras_params = params
        layer.call_template = None
        return layer

    def __call__(self, *args, **kwargs):
        if self.call_template is None:  # first call of a node loaded from a Keras config
            args, kwargs = _decode_keras(list(args)), _decode_keras(dict(kwargs))
            if self.op_name == "get_item" and len(args) == 2 and isinstance(args[1], list):
                args[1] = tuple(args[1])
            if self.op_name == "einsum" and "subscripts" in self._keras_params:
                args = [self._keras_params.pop("subscripts")] + args
            kwargs = {**self._keras_params, **kwargs}
            found = []
            self.call_template = (_template(tuple(args), found), _template(kwargs, found))
            return super().__call__(found[0] if len(found) == 1 else found)
        return super().__call__(*args, **kwargs)

    def call(self, inputs):
        tensors = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        args, kwargs = _fill(self.call_template, tensors)
        return self._op(*args, **kwargs)

    def get_config(self):
        config = super().get_config()
        args, kwargs = self.call_template
        config.update(op_name=self.op_name, args=_to_config(list(args)),
                      kwargs=_to_config(dict(kwargs))["__dict__"])  # fmt: skip
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["kwargs"] = {k: _from_config(v) for k, v in config.get("kwargs", {}).items()}
        return cls(**config)


serialization.register_layer_class(OpLayer)


def _symbolic_call(op_name, args, kwargs):
    found = []
    template = (_template(tuple(args), found), _template(dict(kwargs), found))
    layer = OpLayer(op_name)
    layer.call_template = template
    return layer(found[0] if len(found) == 1 else found)


def _operator(op_name, swap=False):
    def method(self, *others):
        args = (others[0], self) if swap else (self, *others)
        return _symbolic_call(op_name, args, {})

    return method


def install():
    """Route symbolic ``gpuk.ops`` calls to :class:`OpLayer` and give KerasTensor Python's
    arithmetic, comparison and indexing operators."""
    _symbolic.set_handler(KerasTensor, _symbolic_call)
    pairs = {
        "add": "add",
        "sub": "subtract",
        "mul": "multiply",
        "truediv": "divide",
        "floordiv": "floor_divide",
        "mod": "mod",
        "pow": "power",
        "matmul": "matmul",
    }
    for dunder, op_name in pairs.items():
        setattr(KerasTensor, f"__{dunder}__", _operator(op_name))
        setattr(KerasTensor, f"__r{dunder}__", _operator(op_name, swap=True))
    for dunder, op_name in {"lt": "less", "le": "less_equal", "gt": "greater",
                            "ge": "greater_equal"}.items():  # fmt: skip
        setattr(KerasTensor, f"__{dunder}__", _operator(op_name))
    KerasTensor.__neg__ = _operator("negative")
    KerasTensor.__abs__ = _operator("abs")
    KerasTensor.__getitem__ = _operator("get_item")
