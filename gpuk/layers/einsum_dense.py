"""EinsumDense: a dense layer whose contraction is an einsum equation (Keras 3's rules for the
kernel, bias and output shapes)."""

import re

from gpuk import activations, constraints, initializers, ops, regularizers
from gpuk.layers.base import InputSpec, Layer
from gpuk.ops.contraction import einsum

__all__ = ["EinsumDense", "analyze_einsum_string"]


def analyze_einsum_string(equation, bias_axes, input_shape, output_shape, layer_name="einsum"):
    """``(kernel_shape, bias_shape, full_output_shape, input_axes, output_axes)`` for an
    EinsumDense ``equation`` (``ab,bc->ac``, ``...b,bc->...c`` or ``ab...,bc->ac...``).

    Raises:
        ValueError: naming the layer, for malformed equations and mismatched shapes.
    """
    replaced = re.sub(r"\.\.\.", "0", equation)
    for pattern, left_elided in (
        ("([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)$", False),
        ("0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)$", True),
        ("([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0$", False),
    ):
        match = re.match(pattern, replaced)
        if match:
            return _analyze_split(
                match.groups(),
                bias_axes,
                input_shape,
                output_shape,
                left_elided,
                layer_name,
                "..." in equation,
            )
    raise ValueError(
        f"EinsumDense {layer_name!r}: invalid einsum equation {equation!r}. Equations must be in "
        "the form [X],[Y]->[Z], ...[X],[Y]->...[Z], or [X]...,[Y]->[Z]...."
    )


def _analyze_split(groups, bias_axes, input_shape, output_shape, left_elided, layer_name, ellipsis):
    input_spec, weight_spec, output_spec = groups
    input_shape = tuple(input_shape)
    elided = len(input_shape) - len(input_spec)
    if elided < 0 or (elided and not ellipsis):
        raise ValueError(
            f"EinsumDense {layer_name!r}: the equation's input spec {input_spec!r} has rank "
            f"{len(input_spec)} but the input shape {input_shape} has rank {len(input_shape)}"
        )
    output_shape = [output_shape] if isinstance(output_shape, int) else list(output_shape)
    output_shape.insert(0, input_shape[0])
    if elided > 0 and left_elided:
        for i in range(1, elided):
            output_shape.insert(1, input_shape[i])
    elif elided > 0:
        for i in range(len(input_shape) - elided, len(input_shape)):
            output_shape.append(input_shape[i])
    if left_elided:
        input_dim_map = {d: (i + elided) - len(input_shape) for i, d in enumerate(input_spec)}
        output_dim_map = {d: i + elided for i, d in enumerate(output_spec)}
    else:
        input_dim_map = {d: i for i, d in enumerate(input_spec)}
        output_dim_map = {d: i for i, d in enumerate(output_spec)}
    if len(output_shape) != len(output_spec) + max(elided, 0):
        raise ValueError(
            f"EinsumDense {layer_name!r}: output_shape {tuple(output_shape[1:])} does not match "
            f"the output spec {output_spec!r} of the equation (input shape {input_shape})"
        )
    for dim in input_spec:
        size = input_shape[input_dim_map[dim]]
        if dim in output_dim_map:
            out = output_shape[output_dim_map[dim]]
            if out is not None and out != size:
                raise ValueError(
                    f"EinsumDense {layer_name!r}: input shape and output shape do not match at "
                    f"shared dimension '{dim}'. Input shape is {size}, and output shape is {out}."
                )
    for dim in output_spec:
        if dim not in input_spec and dim not in weight_spec:
            raise ValueError(
                f"EinsumDense {layer_name!r}: dimension '{dim}' was specified in the output "
                f"'{output_spec}' but has no corresponding dim in the input spec "
                f"'{input_spec}' or weight spec '{weight_spec}'"
            )
    weight_shape, input_axes, output_axes = [], [], []
    for i, dim in enumerate(weight_spec):
        if dim in output_dim_map:
            weight_shape.append(output_shape[output_dim_map[dim]])
            output_axes.append(i)
        elif dim in input_dim_map:
            weight_shape.append(input_shape[input_dim_map[dim]])
            input_axes.append(i)
        else:
            raise ValueError(
                f"EinsumDense {layer_name!r}: weight dimension '{dim}' did not have a match in "
                f"either the input spec '{input_spec}' or the output spec '{output_spec}'. For "
                "this layer, the weight must be fully specified."
            )
    bias_shape = None
    if bias_axes is not None:
        num_left_elided = elided if left_elided else 0
        idx_map = {c: output_shape[i + num_left_elided] for i, c in enumerate(output_spec)}
        for c in bias_axes:
            if c not in output_spec:
                raise ValueError(
                    f"EinsumDense {layer_name!r}: bias dimension '{c}' was requested, but is "
                    f"not part of the output spec '{output_spec}'"
                )
        first = min(output_spec.find(c) for c in bias_axes)
        bias_shape = [idx_map[c] if c in bias_axes else 1 for c in output_spec[first:]]
        if not left_elided:
            bias_shape.extend([1] * elided)
    return weight_shape, bias_shape, output_shape, input_axes, output_axes


class EinsumDense(Layer):
    """A dense layer defined by an einsum equation: ``einsum(equation, inputs, kernel) + bias``.

    Args:
        equation: e.g. ``"ab,bc->ac"`` (a Dense), ``"abc,cde->abde"`` (attention heads),
            ``"...b,bc->...c"``.
        output_shape: the output shape without the batch axis (an int for rank 2); ``None``
            for sizes taken from the input.
        activation: optional activation.
        bias_axes: letters of the output spec that get a bias, e.g. ``"de"``; None for no bias.
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
        kernel_constraint, bias_constraint, activity_regularizer: as Dense.

    Weights: ``kernel`` (shape from the equation), then ``bias`` when ``bias_axes`` is given.
    """

    def __init__(
        self,
        equation,
        output_shape,
        activation=None,
        bias_axes=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        lora_rank=None,
        lora_alpha=None,
        **kwargs,
    ):
        for ignored in ("quantization_config", "gptq_unpacked_column_size"):
            kwargs.pop(ignored, None)
        super().__init__(**kwargs)
        if lora_rank:
            raise NotImplementedError(f"EinsumDense {self.name!r}: LoRA is not implemented")
        self.equation = equation
        self.partial_output_shape = (
            (output_shape,) if isinstance(output_shape, int) else tuple(output_shape)
        )
        self.bias_axes = bias_axes
        self.activation = activations.get(activation)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.lora_rank = lora_rank
        self.lora_alpha = lora_alpha

    def _analyze(self, input_shape):
        return analyze_einsum_string(
            self.equation, self.bias_axes, input_shape, self.partial_output_shape, self.name
        )

    def build(self, input_shape):
        kernel_shape, bias_shape, _, input_axes, output_axes = self._analyze(input_shape)
        if any(s is None for s in kernel_shape) or any(s is None for s in bias_shape or ()):
            raise ValueError(
                f"EinsumDense {self.name!r}: kernel shape {tuple(kernel_shape)} (bias "
                f"{bias_shape}) has unknown sizes for input shape {tuple(input_shape)}; give "
                "output_shape and a known last input dimension"
            )
        self.input_spec = InputSpec(ndim=len(input_shape))
        init = self.kernel_initializer
        if isinstance(init, initializers.VarianceScaling) and (
            getattr(init, "input_axes", None) is None or getattr(init, "output_axes", None) is None
        ):
            config = init.get_config()
            config["input_axes"] = input_axes
            config["output_axes"] = output_axes
            init = type(init).from_config(config)
        self.kernel = self.add_weight(
            name="kernel",
            shape=tuple(kernel_shape),
            initializer=init,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.bias = None
        if bias_shape is not None:
            self.bias = self.add_weight(
                name="bias",
                shape=tuple(bias_shape),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        self.built = True

    def call(self, inputs, training=None):
        x = einsum(self.equation, inputs, self.kernel)
        if self.bias is not None:
            x = ops.add(x, self.bias)
        if self.activation is not None and self.activation is not activations.get(None):
            x = self.activation(x)
        return x

    def compute_output_shape(self, input_shape):
        return tuple(self._analyze(input_shape)[2])

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "output_shape": self.partial_output_shape,
                "equation": self.equation,
                "activation": activations.serialize(self.activation),
                "bias_axes": self.bias_axes,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint),
                "quantization_config": None,
            }
        )
        return config
