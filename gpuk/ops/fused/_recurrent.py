"""Shared host-side pieces of the fused recurrent Functions (GRU, LSTM, SimpleRNN).

:class:`RecurrentConfig` is what their ``supports`` read (the protocol of
:mod:`gpuk.ops.fused.protocol`), built by :func:`recurrent_config` from a call's operands;
:func:`common_reason` holds the checks all three make.

The kernels run only the recurrence; everything here is a constant number of array operations
per call (never a loop over time): the input projection of all steps, with Keras's per-gate
input dropout masks; the weight gradients after backward; dtype unification; masks.
"""

import dataclasses

import numpy as np

from gpuk import _array
from gpuk.autograd import Tensor
from gpuk.ops import shaping
from gpuk.ops._recurrent_activation import NAMES, Activation
from gpuk.ops.fused import launch
from gpuk.ops.fused.protocol import device_reason, dtype_reason


@dataclasses.dataclass(frozen=True)
class RecurrentConfig:
    """One call of a recurrent op (``gru``, ``lstm``, ``simple_rnn``) as ``supports`` reads it.

    The fields are what the generic op receives: the array module ``xp``, the ``dtype`` the
    call computes in (NumPy's promotion of the float operands), the sizes, the activations (an
    op name of :class:`~gpuk.ops._recurrent_activation.Activation`, or a callable) and flags.
    """

    cell: str
    xp: object
    dtype: np.dtype
    batch_size: int
    timesteps: int
    input_dim: int
    units: int
    activation: object = "tanh"
    recurrent_activation: object = None
    reset_after: bool = False
    go_backwards: bool = False
    use_bias: bool = True
    has_mask: bool = False
    has_initial_state: bool = False
    has_input_dropout: bool = False
    has_recurrent_dropout: bool = False


def recurrent_config(cell, inputs, kernel, recurrent_kernel, bias, states, mask, **fields):
    """The :class:`RecurrentConfig` of a call with these operands (shapes already checked);
    ``fields``: activations and flags (``reset_after``, ``go_backwards``, ``has_*``)."""
    x = data(inputs)
    batch, steps, features = shape_of(x)
    return RecurrentConfig(
        cell=cell,
        xp=_array.get_array_module(x),
        dtype=common_dtype(inputs, kernel, recurrent_kernel, bias, *states),
        batch_size=int(batch),
        timesteps=int(steps),
        input_dim=int(features),
        units=int(shape_of(recurrent_kernel)[0]),
        use_bias=bias is not None,
        has_mask=mask is not None,
        **fields,
    )


def common_reason(config, what, activations):
    """The checks every fused recurrent op makes, in order: the arrays' module, the dtype
    (``what`` names the kernels), the named ``activations`` fields, the units."""
    reason = device_reason(config.xp) or dtype_reason(config.dtype, what)
    if reason is not None:
        return reason
    for field in activations:
        value = getattr(config, field)
        if Activation.named(value) is None:
            return f"{field}: {value!r} has no fused kernel (supported: {', '.join(NAMES)})"
    if config.units < 1:
        return f"units: must be positive, got {config.units}"
    return None


def sequence_config(batch, units, dtype, xp, gates, row_elements):
    """The persistent sequence kernels' launch config (``launch.recurrent_sequence_config``)
    on this device, or None when a batch row's ``row_elements`` values do not fit in shared
    memory."""
    max_shared, sm_count = launch.device_limits(xp)
    return launch.recurrent_sequence_config(
        batch, units, gates, np.dtype(dtype).itemsize, row_elements, max_shared, sm_count
    )


def shared_memory_reason(config, gates, row_elements_per_unit):
    """Why a batch row of ``config`` does not fit the sequence kernels, or None."""
    units = config.units
    row = row_elements_per_unit * units
    if sequence_config(max(1, config.batch_size), units, config.dtype, config.xp, gates, row):
        return None
    return f"units: {units} units need more shared memory per batch row than the device has"


def data(value):
    return value.data if isinstance(value, Tensor) else value


def shape_of(value):
    return tuple(value.shape) if hasattr(value, "shape") else np.shape(value)


def activation_code(name):
    """The kernel code of an activation op name (checked by ``supports`` before)."""
    return int(Activation.named(name))


def common_dtype(*values):
    """The float type every operand is computed in: NumPy's promotion of the float operands
    (float64 inputs with float32 weights run in float64, as the generic ops do)."""
    dtypes = [np.dtype(data(v).dtype) for v in values if v is not None]
    dtype = np.result_type(*[d for d in dtypes if d.kind == "f"] or [np.float32])
    return np.dtype(dtype)


def cast_all(values, dtype):
    """Cast Tensors (differentiably: gradients come back in each operand's own dtype) and
    arrays to ``dtype``; None stays None. The kernels read every buffer as one element type."""
    out = []
    for value in values:
        if value is None or np.dtype(data(value).dtype) == dtype:
            out.append(value)
        elif isinstance(value, Tensor):
            out.append(shaping.cast(value, dtype))
        else:
            out.append(data(value).astype(dtype))
    return out


def dropout_masks(masks, gates, dtype, xp):
    """Per-gate dropout masks as one contiguous ``(batch, gates * size)`` array, or None.

    ``masks``: None, one ``(batch, size)`` array (used for every gate) or a sequence of
    ``gates`` of them (Keras's per-gate masks); the public op checked their shapes.
    """
    if masks is None:
        return None
    if not isinstance(masks, (list, tuple)):
        masks = [masks] * gates
    arrays = [_array.asarray(data(m), xp=xp).astype(dtype, copy=False) for m in masks]
    return xp.ascontiguousarray(xp.concatenate(arrays, axis=1))


def project(xp, x, kernel, x_masks, gates):
    """``x @ kernel`` for all steps, ``(B, T, G)``; with per-gate input masks ``(B, gates*D)``
    gate ``q`` sees ``x * mask_q`` (one product per gate)."""
    batch, steps, features = x.shape
    width = kernel.shape[1]
    if x_masks is None:
        return xp.matmul(x.reshape(-1, features), kernel).reshape(batch, steps, width)
    units = width // gates
    out = xp.empty((batch, steps, width), x.dtype)
    for q in range(gates):
        xq = x * x_masks[:, None, q * features : (q + 1) * features]
        out[:, :, q * units : (q + 1) * units] = xp.matmul(
            xq.reshape(-1, features), kernel[:, q * units : (q + 1) * units]
        ).reshape(batch, steps, units)
    return out


def project_backward(xp, x, kernel, x_masks, gx, gates, need_x, need_kernel):
    """Gradients of :func:`project` for ``x`` and ``kernel`` from ``gx (B, T, G)``."""
    batch, steps, features = x.shape
    width = kernel.shape[1]
    g2 = gx.reshape(-1, width)
    grad_x = grad_kernel = None
    if x_masks is None:
        if need_x:
            grad_x = xp.matmul(g2, kernel.T).reshape(x.shape)
        if need_kernel:
            grad_kernel = xp.matmul(x.reshape(-1, features).T, g2)
        return grad_x, grad_kernel
    units = width // gates
    if need_x:
        grad_x = xp.zeros(x.shape, x.dtype)
    if need_kernel:
        grad_kernel = xp.empty(kernel.shape, x.dtype)
    for q in range(gates):
        cols = slice(q * units, (q + 1) * units)
        mq = x_masks[:, None, q * features : (q + 1) * features]
        if need_x:
            grad_x += xp.matmul(g2[:, cols], kernel[:, cols].T).reshape(x.shape) * mq
        if need_kernel:
            grad_kernel[:, cols] = xp.matmul((x * mq).reshape(-1, features).T, g2[:, cols])
    return grad_x, grad_kernel


def recurrent_grad(xp, hprev, d, h_masks, gates):
    """Gradient of the recurrent kernel: ``sum_t (h_prev * mask_q)^T @ d_q`` per gate.

    ``hprev (B, T, U)`` the states entering each step, ``d (B, T, G)`` the gradients of the
    recurrent products, ``h_masks (B, gates*U)`` or None.
    """
    units = hprev.shape[-1]
    width = d.shape[-1]
    d2 = d.reshape(-1, width)
    if h_masks is None:
        return xp.matmul(hprev.reshape(-1, units).T, d2)
    grad = xp.empty((units, width), d.dtype)
    for q in range(gates):
        cols = slice(q * units, (q + 1) * units)
        hq = (hprev * h_masks[:, None, cols]).reshape(-1, units)
        grad[:, cols] = xp.matmul(hq.T, d2[:, cols])
    return grad


def time_mask(xp, mask):
    """``(mask_u8, seen)``: the (B, T) uint8 mask for the kernels (a 1-element dummy when None)
    and where an unmasked step has been seen, (B, T, 1), for Keras's zero outputs before the
    first unmasked step (None without a mask)."""
    if mask is None:
        return xp.ones((1,), np.uint8), None
    mask_u8 = xp.ascontiguousarray(mask.astype(np.uint8))
    return mask_u8, (xp.cumsum(mask_u8, axis=1) > 0)[:, :, None]


def previous_states(xp, first, states):
    """``(B, T, U)``: the state entering each step (``first`` then ``states[:, :-1]``)."""
    return xp.concatenate([first[:, None], states[:, :-1]], axis=1)
