"""The symbolic ``KerasTensor`` and the ``Node`` that records one layer call on them
(docs/architecture.md, "Two graphs")."""

import numpy as np

from gpuk._tree import flatten, normalize_shape
from gpuk.utils.dtypes import is_string_dtype
from gpuk.utils.naming import unique_name
from gpuk.utils.symbolic import is_keras_tensor


class KerasTensor:
    """A symbolic tensor: a shape (``None`` for unknown sizes) and a dtype, no values.

    Attributes:
        shape: tuple such as ``(None, None, 16)``.
        dtype: dtype name, e.g. ``"float32"``.
        name: a readable name (the producing layer's, for layer outputs).
        _keras_history: ``(layer, node_index, tensor_index)`` locating the tensor in the graph.
    """

    __hash__ = object.__hash__
    _is_symbolic_tensor = True  # what gpuk.utils.is_keras_tensor looks for

    def __init__(self, shape, dtype="float32", name=None, history=None):
        self.shape = normalize_shape(shape)
        self.dtype = "string" if is_string_dtype(dtype) else np.dtype(dtype).name
        self.name = name or unique_name("keras_tensor")
        self._keras_history = history

    @property
    def ndim(self):
        return len(self.shape)

    def __len__(self):
        raise TypeError(
            "A symbolic KerasTensor has no length; use .shape (its first dimension is the batch)."
        )

    def __array__(self, *args, **kwargs):
        raise TypeError(
            f"KerasTensor {self.name!r} of shape {self.shape} is symbolic: it has no values "
            "until the model is called on real data."
        )

    def __bool__(self):
        raise TypeError(f"KerasTensor {self.name!r} is symbolic and has no truth value.")

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"


class Node:
    """One call of a layer on symbolic tensors.

    Attributes:
        layer: the layer called.
        call_args, call_kwargs: the arguments as given, KerasTensors included.
        input_tensors: the KerasTensors found in the arguments, flattened in order.
        outputs: the output structure; ``output_tensors`` is it flattened.
    """

    def __init__(self, layer, call_args=(), call_kwargs=None, outputs=None):
        self.layer = layer
        self.call_args = tuple(call_args)
        self.call_kwargs = dict(call_kwargs or {})
        self.input_tensors = [
            t for t in flatten([list(self.call_args), self.call_kwargs]) if is_keras_tensor(t)
        ]
        self.outputs = outputs
        self.output_tensors = flatten(outputs) if outputs is not None else []
        self.is_input = not self.input_tensors

    @property
    def parent_nodes(self):
        """The nodes that produced this node's inputs."""
        parents = []
        for tensor in self.input_tensors:
            layer, node_index, _ = tensor._keras_history
            parents.append(layer._inbound_nodes[node_index])
        return parents

    @property
    def input_shapes(self):
        shapes = [t.shape for t in self.input_tensors]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shapes(self):
        shapes = [t.shape for t in self.output_tensors]
        return shapes[0] if len(shapes) == 1 else shapes


class LayerNodes:
    """A layer's view of the graph nodes it was called in (``input``, ``output``, their shapes,
    ``get_*_at``); a base of ``Layer``, which keeps ``_inbound_nodes``."""

    def _single_node_attr(self, attr, what):
        if not self._inbound_nodes:
            raise AttributeError(
                f"Layer {self.name!r} has never been called on symbolic inputs and thus has no "
                f"defined {what}."
            )
        values = {repr(getattr(node, attr)) for node in self._inbound_nodes}
        if len(values) > 1:
            raise AttributeError(
                f"Layer {self.name!r} has multiple inbound nodes with different {what}s; "
                f"use get_{what.replace(' ', '_')}_at(node_index)."
            )
        return getattr(self._inbound_nodes[0], attr)

    @property
    def input(self):
        return self._single_node_attr("call_args", "input")[0]

    @property
    def output(self):
        return self._single_node_attr("outputs", "output")

    @property
    def input_shape(self):
        return self._single_node_attr("input_shapes", "input shape")

    @property
    def output_shape(self):
        return self._single_node_attr("output_shapes", "output shape")

    def get_input_at(self, node_index):
        return self._inbound_nodes[node_index].call_args[0]

    def get_output_at(self, node_index):
        return self._inbound_nodes[node_index].outputs

    def get_input_shape_at(self, node_index):
        return self._inbound_nodes[node_index].input_shapes

    def get_output_shape_at(self, node_index):
        return self._inbound_nodes[node_index].output_shapes
