"""Merge layers: Concatenate, Add, Subtract, Multiply, Average, Maximum, Minimum, Dot, and
their functional forms (``concatenate``, ``add``, ...)."""

import numpy as np

from gpuk import ops
from gpuk.autograd import Tensor, as_array
from gpuk.layers.base import Layer, is_shape
from gpuk.ops._util import xp_of


class Merge(Layer):
    """Base of the merge layers: called on a list of tensors."""

    supports_masking = True
    _min_inputs = 1

    def _check_list(self, input_shape):
        if is_shape(input_shape) or not isinstance(input_shape, (list, tuple)):
            raise ValueError(
                f"A merge layer {self.name!r} ({type(self).__name__}) should be called on a list "
                f"of inputs. Received: input_shape={input_shape}"
            )
        if len(input_shape) < self._min_inputs:
            raise ValueError(
                f"A merge layer {self.name!r} ({type(self).__name__}) should be called on a list "
                f"of at least {self._min_inputs} inputs. Received {len(input_shape)} inputs."
            )
        return [tuple(s) for s in input_shape]

    def build(self, input_shape):
        shapes = self._check_list(input_shape)
        self._elementwise_shape(shapes)
        self.built = True

    def _elementwise_shape(self, shapes):
        """Broadcast shapes the way Keras's merge layers do, or raise naming the layer."""
        batch_sizes = {s[0] for s in shapes if s and s[0] is not None}
        out = list(shapes[0][1:])
        for shape in shapes[1:]:
            out = self._merge_pair(out, list(shape[1:]), shapes)
        batch = batch_sizes.pop() if len(batch_sizes) == 1 else None
        return (batch, *out)

    def _merge_pair(self, a, b, shapes):
        if len(a) < len(b):
            a, b = b, a
        if not b:
            return a
        out = list(a[: len(a) - len(b)])
        for x, y in zip(a[len(a) - len(b) :], b):
            if x is None or y is None:
                out.append(None)
            elif x == 1:
                out.append(y)
            elif y == 1 or x == y:
                out.append(x)
            else:
                raise ValueError(
                    f"Layer {self.name!r} ({type(self).__name__}): inputs must have compatible "
                    f"shapes. Received shapes {[tuple(s) for s in shapes]}"
                )
        return out

    def compute_output_shape(self, input_shape):
        return self._elementwise_shape(self._check_list(input_shape))

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(
                f"A merge layer {self.name!r} should be called on a list of inputs, received "
                f"{type(inputs).__name__}."
            )
        return self._merge(list(inputs))

    def compute_mask(self, inputs, mask=None):
        if mask is None or all(m is None for m in mask):
            return None
        masks = [as_array(m) for m in mask if m is not None]
        result = masks[0]
        for m in masks[1:]:
            result = result & m
        return Tensor(result)


class Add(Merge):
    """Elementwise sum of a list of tensors."""

    def _merge(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = ops.add(out, x)
        return out


class Subtract(Merge):
    """``inputs[0] - inputs[1]`` (exactly two inputs)."""

    def _check_list(self, input_shape):
        shapes = super()._check_list(input_shape)
        if len(shapes) != 2:
            raise ValueError(
                f"A Subtract layer {self.name!r} should be called on exactly 2 inputs. "
                f"Received {len(shapes)} inputs: {shapes}"
            )
        return shapes

    def _merge(self, inputs):
        if len(inputs) != 2:
            raise ValueError(
                f"A Subtract layer {self.name!r} should be called on exactly 2 inputs, received "
                f"{len(inputs)}."
            )
        return ops.subtract(inputs[0], inputs[1])


class Multiply(Merge):
    """Elementwise product of a list of tensors."""

    def _merge(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = ops.multiply(out, x)
        return out


class Average(Merge):
    """Elementwise mean of a list of tensors."""

    def _merge(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = ops.add(out, x)
        return ops.divide(out, float(len(inputs)))


class Maximum(Merge):
    """Elementwise maximum of a list of tensors."""

    def _merge(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = ops.maximum(out, x)
        return out


class Minimum(Merge):
    """Elementwise minimum of a list of tensors."""

    def _merge(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = ops.minimum(out, x)
        return out


class Concatenate(Merge):
    """Join a list of tensors along ``axis`` (the last by default).

    All other dimensions must match; mismatches fail when the graph is built.
    """

    _min_inputs = 1

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            axis = axis[0]
        self.axis = int(axis)

    def _fail(self, shapes):
        raise ValueError(
            f"A Concatenate layer {self.name!r} requires inputs with matching shapes except for "
            f"the concatenation axis (axis={self.axis}). Received: input_shape={shapes}"
        )

    def build(self, input_shape):
        self.compute_output_shape(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        shapes = self._check_list(input_shape)
        ranks = {len(s) for s in shapes}
        if len(ranks) != 1:
            self._fail(shapes)
        rank = ranks.pop()
        if not -rank <= self.axis < rank:
            raise ValueError(
                f"Concatenate {self.name!r}: axis {self.axis} is out of range for inputs of rank "
                f"{rank}. Received: input_shape={shapes}"
            )
        axis = self.axis % rank
        out = list(shapes[0])
        for shape in shapes[1:]:
            for i, (x, y) in enumerate(zip(out, shape)):
                if i == axis:
                    out[i] = None if x is None or y is None else x + y
                elif x is None:
                    out[i] = y
                elif y is not None and x != y:
                    self._fail(shapes)
        return tuple(out)

    def _merge(self, inputs):
        shapes = [tuple(x.shape) for x in inputs]
        self.compute_output_shape(shapes)
        return ops.concatenate(inputs, axis=self.axis)

    def compute_mask(self, inputs, mask=None):
        if mask is None or all(m is None for m in mask):
            return None
        datas = [as_array(x) for x in inputs]
        xp = xp_of(datas[0])
        masks = []
        for x, m in zip(datas, mask):
            if m is None:
                masks.append(xp.ones(x.shape, dtype=bool))
            else:
                m = as_array(m)
                while m.ndim < x.ndim:
                    m = m[..., None]
                masks.append(xp.broadcast_to(m, x.shape))
        return Tensor(xp.concatenate(masks, axis=self.axis).all(axis=-1))

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


class Dot(Merge):
    """Dot product of two tensors along ``axes`` (per sample), optionally cosine-normalized.

    Args:
        axes: an int, or a pair of ints (one axis per input); batch axis excluded (>= 1).
        normalize: L2-normalize both inputs along ``axes`` first (cosine similarity).
    """

    supports_masking = False

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axes, (int, list, tuple)):
            raise TypeError(
                f"Dot {self.name!r}: axes must be an int or a pair of ints, got {axes!r}"
            )
        if isinstance(axes, (list, tuple)) and len(axes) != 2:
            raise ValueError(f"Dot {self.name!r}: axes must be a pair of ints, got {axes!r}")
        self.axes = axes if isinstance(axes, int) else list(axes)
        self.normalize = normalize

    def _pair_axes(self, shapes):
        axes = [self.axes, self.axes] if isinstance(self.axes, int) else list(self.axes)
        return [a % len(s) if a < 0 else a for a, s in zip(axes, shapes)]

    def compute_output_shape(self, input_shape):
        shapes = self._check_list(input_shape)
        if len(shapes) != 2:
            raise ValueError(
                f"A Dot layer {self.name!r} should be called on exactly 2 inputs. Received "
                f"{len(shapes)} inputs: {shapes}"
            )
        a, b = self._pair_axes(shapes)
        if shapes[0][a] is not None and shapes[1][b] is not None and shapes[0][a] != shapes[1][b]:
            raise ValueError(
                f"Dot {self.name!r}: incompatible input shapes {shapes}: dimension {a} of the "
                f"first ({shapes[0][a]}) differs from dimension {b} of the second "
                f"({shapes[1][b]})."
            )
        out = list(shapes[0])
        out.pop(a)
        rest = list(shapes[1])
        rest.pop(b)
        out = out + rest[1:]
        if len(out) == 1:
            out.append(1)
        return tuple(out)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)
        self.built = True

    def _merge(self, inputs):
        if len(inputs) != 2:
            raise ValueError(f"A Dot layer {self.name!r} needs exactly 2 inputs, got {len(inputs)}")
        x, y = inputs
        a, b = self._pair_axes([x.shape, y.shape])
        if self.normalize:
            x, y = _l2_normalize(x, a), _l2_normalize(y, b)
        return _batch_dot(x, y, a, b)

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        config = super().get_config()
        config.update({"axes": self.axes, "normalize": self.normalize})
        return config


def _l2_normalize(x, axis):
    squared = ops.sum(ops.square(x), axis=axis, keepdims=True)
    return ops.divide(x, ops.sqrt(ops.maximum(squared, 1e-12)))


def _batch_dot(x, y, a, b):
    """Per-sample contraction of axis ``a`` of x with axis ``b`` of y, via one matmul."""
    xs, ys = tuple(x.shape), tuple(y.shape)
    x_rest = [i for i in range(1, len(xs)) if i != a]
    y_rest = [i for i in range(1, len(ys)) if i != b]
    x_t = ops.transpose(x, (0, *x_rest, a))
    y_t = ops.transpose(y, (0, b, *y_rest))
    m = int(np.prod([xs[i] for i in x_rest])) if x_rest else 1
    n = int(np.prod([ys[i] for i in y_rest])) if y_rest else 1
    out = ops.matmul(ops.reshape(x_t, (xs[0], m, xs[a])), ops.reshape(y_t, (ys[0], ys[b], n)))
    shape = [xs[i] for i in x_rest] + [ys[i] for i in y_rest]
    if not shape:
        shape = [1]
    return ops.reshape(out, (xs[0], *shape))


def add(inputs, **kwargs):
    """Functional form of :class:`Add`: ``add([x1, x2])``."""
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """Functional form of :class:`Subtract`."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """Functional form of :class:`Multiply`."""
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """Functional form of :class:`Average`."""
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """Functional form of :class:`Maximum`."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """Functional form of :class:`Minimum`."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    """Functional form of :class:`Concatenate`: ``concatenate([a, b], axis=-1)``."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes=-1, normalize=False, **kwargs):
    """Functional form of :class:`Dot`."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
