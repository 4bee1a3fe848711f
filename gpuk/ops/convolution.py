"""Convolutions as matrix products: ``conv``, ``conv_transpose``, ``depthwise_conv``,
``separable_conv`` with Keras 3's ``keras.ops`` signatures.

A convolution gathers its input windows into one ``(positions, taps * channels)`` matrix
(im2col, one strided copy per kernel tap) and multiplies it by the kernel reshaped to
``(taps * channels, filters)``: one GEMM through the BLAS/cuBLAS behind NumPy/CuPy, batched
over groups when ``groups > 1`` (depthwise convolutions are ``groups = channels``). The
backward pass is two more GEMMs and the scatter-add adjoint of the gather. Kernels have
Keras's layout: ``(*kernel_size, in_channels // groups, filters)`` for ``conv``,
``(*kernel_size, filters, in_channels)`` for ``conv_transpose``.
"""

import contextlib
import math

from gpuk._array import serial_blas
from gpuk.autograd import Function, Tensor, as_array
from gpuk.ops import _windows as W
from gpuk.ops._util import xp_of
from gpuk.ops.shaping import reshape

# Below this many multiply-adds, or with a dimension this thin (a 1-channel first layer has
# 9-wide im2col rows), multi-threaded OpenBLAS loses to one thread: measured on 2 shared
# cores, (86528 x 9) @ (9 x 32) took 110 ms threaded and 8 ms serial.
_SERIAL_MACS = 1 << 25
_SERIAL_DIM = 32


# im2col buffers above this many elements (256 MB of float32) are built a batch slice at a time.
_COLS_LIMIT = 1 << 26


def _blas_for(xp, *shapes):
    """Serial BLAS for small or thin products on the CPU (see ``gpuk._array.blas``)."""
    (m, k), (_, n) = shapes
    if m * k * n < _SERIAL_MACS or min(m, k, n) < _SERIAL_DIM:
        return serial_blas(xp)
    return contextlib.nullcontext()


def _mm(xp, a, b):
    """``a @ b`` (2-D or batched) with the BLAS threading chosen for its size."""
    with _blas_for(xp, a.shape[-2:], b.shape[-2:]):
        return xp.matmul(a, b)


def _tensor(x, like=None):
    return x if isinstance(x, Tensor) else Tensor(as_array(x, like))


class Conv(Function):
    """``y = conv(x, kernel) [+ bias] [then relu]``; params: strides, dilation, pads, groups,
    data_format, relu (a layer's bias and ReLU applied in place on the GEMM's output)."""

    relu = False

    def forward(self, x, kernel, bias=None):
        xp = xp_of(x)
        x = W.to_channels_last(xp, x, self.data_format)
        self.in_sizes = x.shape[1:-1]
        k = kernel.shape[:-2]
        xpad = W.pad_spatial(xp, x, self.pads)
        out_sizes = tuple(
            (n - W.effective_size(kk, d)) // s + 1
            for n, kk, d, s in zip(xpad.shape[1:-1], k, self.dilation, self.strides)
        )
        self.padded_shape, self.out_sizes, self.kernel = xpad.shape, out_sizes, kernel
        per_sample = math.prod(out_sizes) * math.prod(k) * x.shape[-1]
        self.step = max(1, _COLS_LIMIT // max(per_sample, 1))
        n = x.shape[0]
        if self.step >= n:
            self.cols = self._gather(xp, xpad)
            y = self._matmul(xp, self.cols, kernel)
        else:
            # Bounded memory: im2col one slice of the batch at a time; backward gathers again.
            self.cols, self.xpad = None, xpad
            y = xp.concatenate(
                [
                    self._matmul(xp, self._gather(xp, xpad[i : i + self.step]), kernel)
                    for i in range(0, n, self.step)
                ]
            )
        self.has_bias = bias is not None
        if bias is not None:
            y += bias
        if self.relu:
            xp.maximum(y, 0, out=y)
            self.y = y
        return W.from_channels_last(
            xp, y.reshape(n, *out_sizes, kernel.shape[-1]), self.data_format
        )

    def _gather(self, xp, xpad):
        k = self.kernel.shape[:-2]
        return W.gather_windows(xp, xpad, k, self.strides, self.dilation, self.out_sizes)

    def _shapes(self, cols, kernel):
        m = math.prod(cols.shape[:-2])
        taps, c_in = cols.shape[-2], cols.shape[-1]
        groups = self.groups
        return m, taps, c_in, groups, c_in // groups, kernel.shape[-1] // groups

    def _matmul(self, xp, cols, kernel):
        m, taps, c_in, g, cg, og = self._shapes(cols, kernel)
        if g == 1:
            return _mm(xp, cols.reshape(m, taps * c_in), kernel.reshape(taps * c_in, -1))
        a = cols.reshape(m, taps, g, cg).transpose(2, 0, 1, 3).reshape(g, m, taps * cg)
        w = kernel.reshape(taps, cg, g, og).transpose(2, 0, 1, 3).reshape(g, taps * cg, og)
        return _mm(xp, a, w).transpose(1, 0, 2).reshape(m, g * og)

    def backward(self, grad):
        xp = xp_of(grad)
        gy = W.to_channels_last(xp, grad, self.data_format)
        if self.relu:
            gy = gy * (self.y.reshape(gy.shape) > 0)
        dbias = None
        if self.has_bias and self.needs_input_grad[2]:
            dbias = gy.reshape(-1, gy.shape[-1]).sum(axis=0)
        if self.cols is not None:
            dpad, dk = self._backward_part(xp, self.cols, gy)
        else:
            n, step = gy.shape[0], self.step
            dpad = xp.zeros(self.padded_shape, dtype=gy.dtype) if self.needs_input_grad[0] else None
            dk = None
            for i in range(0, n, step):
                cols = self._gather(xp, self.xpad[i : i + step])
                part, dk_part = self._backward_part(xp, cols, gy[i : i + step])
                if dpad is not None:
                    dpad[i : i + step] = part
                if dk_part is not None:
                    dk = dk_part if dk is None else dk + dk_part
        dx = None
        if self.needs_input_grad[0]:
            dx = W.from_channels_last(
                xp, W.crop_spatial(dpad, self.pads, self.in_sizes), self.data_format
            )
        return (dx, dk, dbias) if self.has_bias else (dx, dk)

    def _backward_part(self, xp, cols, gy):
        """``(d padded input, d kernel)`` of one batch slice (None where not wanted)."""
        kernel = self.kernel
        m, taps, c_in, g, cg, og = self._shapes(cols, kernel)
        gy = gy.reshape(m, kernel.shape[-1])
        dpad = dk = None
        if g == 1:
            c2 = cols.reshape(m, taps * c_in)
            k2 = kernel.reshape(taps * c_in, -1)
            if self.needs_input_grad[1]:
                dk = _mm(xp, c2.T, gy).reshape(kernel.shape)
            if self.needs_input_grad[0]:
                dcols = _mm(xp, gy, k2.T)
        else:
            gyg = gy.reshape(m, g, og).transpose(1, 0, 2)
            if self.needs_input_grad[1]:
                a = cols.reshape(m, taps, g, cg).transpose(2, 0, 1, 3).reshape(g, m, taps * cg)
                dk = _mm(xp, a.transpose(0, 2, 1), gyg)
                dk = dk.reshape(g, taps, cg, og).transpose(1, 2, 0, 3).reshape(kernel.shape)
            if self.needs_input_grad[0]:
                w = kernel.reshape(taps, cg, g, og).transpose(2, 0, 1, 3).reshape(g, taps * cg, og)
                dcols = _mm(xp, gyg, w.transpose(0, 2, 1))
                dcols = dcols.reshape(g, m, taps, cg).transpose(1, 2, 0, 3)
        if self.needs_input_grad[0]:
            shape = (cols.shape[0], *self.padded_shape[1:])
            dpad = W.scatter_windows(
                xp,
                dcols.reshape(cols.shape),
                shape,
                kernel.shape[:-2],
                self.strides,
                self.dilation,
                self.out_sizes,
            )
        return dpad, dk


class ConvTranspose(Function):
    """The adjoint of :class:`Conv` in ``x``: params strides, dilation, crops, out_sizes,
    data_format (kernel ``(*k, filters, in_channels)``)."""

    def forward(self, x, kernel):
        xp = xp_of(x)
        x = W.to_channels_last(xp, x, self.data_format)
        self.x_shape = x.shape
        k = kernel.shape[:-2]
        filters, c_in = kernel.shape[-2], kernel.shape[-1]
        m = math.prod(x.shape[:-1])
        taps = math.prod(k)
        x2 = x.reshape(m, c_in)
        k2 = kernel.reshape(taps * filters, c_in)
        cols = _mm(xp, x2, k2.T).reshape(*x.shape[:-1], taps, filters)
        full = tuple(
            max((n - 1) * s + W.effective_size(kk, d), lo + out)
            for n, kk, s, d, lo, out in zip(
                x.shape[1:-1], k, self.strides, self.dilation, self.crops, self.out_sizes
            )
        )
        self.full_shape = (x.shape[0], *full, filters)
        y = W.scatter_windows(
            xp, cols, self.full_shape, k, self.strides, self.dilation, x.shape[1:-1]
        )
        self.x2, self.kernel = x2, kernel
        y = y[(slice(None), *self._window(), slice(None))]
        return W.from_channels_last(xp, y, self.data_format)

    def _window(self):
        return tuple(slice(lo, lo + n) for lo, n in zip(self.crops, self.out_sizes))

    def backward(self, grad):
        xp = xp_of(grad)
        kernel = self.kernel
        k = kernel.shape[:-2]
        g = W.to_channels_last(xp, grad, self.data_format)
        gfull = xp.zeros(self.full_shape, dtype=g.dtype)
        gfull[(slice(None), *self._window(), slice(None))] = g
        cols = W.gather_windows(xp, gfull, k, self.strides, self.dilation, self.x_shape[1:-1])
        m = self.x2.shape[0]
        c2 = cols.reshape(m, -1)
        dx = dk = None
        if self.needs_input_grad[0]:
            dx = _mm(xp, c2, kernel.reshape(c2.shape[1], -1)).reshape(self.x_shape)
            dx = W.from_channels_last(xp, dx, self.data_format)
        if self.needs_input_grad[1]:
            dk = _mm(xp, c2.T, self.x2).reshape(kernel.shape)
        return dx, dk


def _check_ranks(op, inputs, kernel, kernel_what):
    if inputs.ndim < 3:
        raise ValueError(
            f"{op}: inputs must have rank 3 or more (batch, spatial..., channels), "
            f"received shape {inputs.shape}"
        )
    if kernel.ndim != inputs.ndim:
        raise ValueError(
            f"{op}: a rank-{inputs.ndim} input needs a rank-{inputs.ndim} kernel "
            f"({kernel_what}), received kernel shape {kernel.shape} for inputs {inputs.shape}"
        )


def _spatial(shape, data_format):
    return tuple(shape[2:]) if data_format == "channels_first" else tuple(shape[1:-1])


def _channels(shape, data_format):
    return shape[1] if data_format == "channels_first" else shape[-1]


def conv_pads(op, in_sizes, kernel, strides, dilation, padding, input_shape=None):
    """Padding per spatial axis, raising when a 'valid' window does not fit the input."""
    pads = [
        W.padding_amounts(n, k, s, d, padding)
        for n, k, s, d in zip(in_sizes, kernel, strides, dilation)
    ]
    for n, k, d, (lo, hi) in zip(in_sizes, kernel, dilation, pads):
        if n + lo + hi < W.effective_size(k, d):
            raise ValueError(
                f"{op}: the kernel (size {tuple(kernel)}, dilation {tuple(dilation)}) is larger "
                f"than the input's spatial size {tuple(in_sizes)} with padding={padding!r} "
                f"(input shape {input_shape})"
            )
    return pads


def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """N-D convolution (cross-correlation) as Keras's ``keras.ops.conv``.

    Args:
        inputs: ``(batch, *spatial, channels)`` (``channels_last``) or
            ``(batch, channels, *spatial)``.
        kernel: ``(*kernel_size, channels // groups, filters)``; ``groups`` is inferred from
            the input's channels.
        strides, dilation_rate: ints or tuples, one entry per spatial axis.
        padding: ``"valid"`` or ``"same"`` (TensorFlow's rule: extra padding goes after).
        data_format: ``"channels_last"`` or ``"channels_first"`` (default: the global one).
    """
    return conv_bias_relu(inputs, kernel, None, False, strides, padding, data_format, dilation_rate)


def conv_bias_relu(
    inputs, kernel, bias, relu, strides=1, padding="valid", data_format=None, dilation_rate=1
):
    """:func:`conv` plus an optional ``bias`` over the channels and ReLU, in one graph node
    (what ``Conv*`` layers with ``activation="relu"`` run)."""
    inputs = _tensor(inputs)
    kernel = _tensor(kernel, inputs.data)
    _check_ranks("conv", inputs, kernel, "(*kernel_size, in_channels // groups, filters)")
    data_format = W.normalize_data_format(data_format, "conv")
    padding = W.normalize_padding(padding, "conv", allow_causal=True)
    rank = inputs.ndim - 2
    strides = W.normalize_tuple(strides, rank, "strides", "conv")
    dilation = W.normalize_tuple(dilation_rate, rank, "dilation_rate", "conv")
    channels = _channels(inputs.shape, data_format)
    per_group = kernel.shape[-2]
    if per_group <= 0 or channels % per_group:
        raise ValueError(
            f"conv: the input's {channels} channels are not a multiple of the kernel's input "
            f"channels {per_group} (kernel shape {kernel.shape}, inputs {inputs.shape})"
        )
    groups = channels // per_group
    if kernel.shape[-1] % groups:
        raise ValueError(
            f"conv: {kernel.shape[-1]} filters cannot be split into {groups} groups "
            f"(kernel shape {kernel.shape}, inputs {inputs.shape})"
        )
    in_sizes = _spatial(inputs.shape, data_format)
    pads = conv_pads("conv", in_sizes, kernel.shape[:-2], strides, dilation, padding, inputs.shape)
    extra = () if bias is None else (_tensor(bias, inputs.data),)
    return Conv.apply(
        inputs,
        kernel,
        *extra,
        strides=strides,
        dilation=dilation,
        pads=pads,
        groups=groups,
        data_format=data_format,
        relu=bool(relu),
    )


def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """Depthwise convolution as ``keras.ops.depthwise_conv``.

    ``kernel`` is ``(*kernel_size, channels, depth_multiplier)``; output channel
    ``c * depth_multiplier + m`` is channel ``c`` convolved with ``kernel[..., c, m]``.
    """
    inputs = _tensor(inputs)
    kernel = _tensor(kernel, inputs.data)
    _check_ranks("depthwise_conv", inputs, kernel, "(*kernel_size, channels, multiplier)")
    data_format = W.normalize_data_format(data_format, "depthwise_conv")
    channels = _channels(inputs.shape, data_format)
    if kernel.shape[-2] != channels:
        raise ValueError(
            f"depthwise_conv: the kernel's channel axis ({kernel.shape[-2]}, kernel shape "
            f"{kernel.shape}) must equal the input's {channels} channels (inputs {inputs.shape})"
        )
    flat = reshape(kernel, (*kernel.shape[:-2], 1, kernel.shape[-2] * kernel.shape[-1]))
    return conv(inputs, flat, strides, padding, data_format, dilation_rate)


def separable_conv(
    inputs,
    depthwise_kernel,
    pointwise_kernel,
    strides=1,
    padding="valid",
    data_format=None,
    dilation_rate=1,
):
    """Depthwise convolution followed by a 1x1 convolution, as ``keras.ops.separable_conv``."""
    depthwise = depthwise_conv(
        inputs, depthwise_kernel, strides, padding, data_format, dilation_rate
    )
    return conv(depthwise, pointwise_kernel, 1, "valid", data_format, 1)


def conv_transpose_length(length, kernel, stride, dilation, padding, output_padding):
    """Keras's output length of a transposed convolution (``None`` stays ``None``)."""
    if length is None:
        return None
    left, right = transpose_pads(kernel, stride, dilation, padding, output_padding)
    span = W.effective_size(kernel, dilation)
    return (length - 1) * stride + 1 + left + right - span + 1


def transpose_pads(kernel, stride, dilation, padding, output_padding):
    """JAX-style ``(left, right)`` padding of the stride-dilated input (Keras's rule)."""
    span = W.effective_size(kernel, dilation)
    if padding == "valid":
        if output_padding is None:
            output_padding = max(span, stride) - span
        return span - 1, span - 1 + output_padding
    if output_padding is None:
        total = stride + span - 2
    else:
        total = span + span % 2 - 2 + output_padding
    left = min(total // 2 + total % 2, span - 1)
    return left, total - left


def conv_transpose(
    inputs,
    kernel,
    strides=1,
    padding="valid",
    output_padding=None,
    data_format=None,
    dilation_rate=1,
):
    """Transposed convolution as ``keras.ops.conv_transpose``.

    ``kernel`` is ``(*kernel_size, filters, in_channels)``; the output length of each axis is
    Keras's ``compute_conv_transpose_output_shape`` (``output_padding`` adds to the end).
    """
    inputs = _tensor(inputs)
    kernel = _tensor(kernel, inputs.data)
    _check_ranks("conv_transpose", inputs, kernel, "(*kernel_size, filters, in_channels)")
    data_format = W.normalize_data_format(data_format, "conv_transpose")
    padding = W.normalize_padding(padding, "conv_transpose")
    rank = inputs.ndim - 2
    strides = W.normalize_tuple(strides, rank, "strides", "conv_transpose")
    dilation = W.normalize_tuple(dilation_rate, rank, "dilation_rate", "conv_transpose")
    if output_padding is None:
        output_padding = (None,) * rank
    else:
        output_padding = W.normalize_tuple(output_padding, rank, "output_padding", "conv_transpose")
    channels = _channels(inputs.shape, data_format)
    if kernel.shape[-1] != channels:
        raise ValueError(
            f"conv_transpose: the kernel's last axis ({kernel.shape[-1]}, kernel shape "
            f"{kernel.shape}) must equal the input's {channels} channels (inputs {inputs.shape})"
        )
    crops, out_sizes = [], []
    for n, k, s, d, op in zip(
        _spatial(inputs.shape, data_format), kernel.shape[:-2], strides, dilation, output_padding
    ):
        left, right = transpose_pads(k, s, d, padding, op)
        crops.append(W.effective_size(k, d) - 1 - left)
        out_sizes.append(conv_transpose_length(n, k, s, d, padding, op))
    return ConvTranspose.apply(
        inputs,
        kernel,
        strides=strides,
        dilation=dilation,
        crops=tuple(crops),
        out_sizes=tuple(out_sizes),
        data_format=data_format,
    )
