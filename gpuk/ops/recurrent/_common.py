"""Shared pieces of the recurrent ops: hand-differentiated activations, input checks,
the time-major helpers of the whole-sequence Functions and the composed oracles' step helpers.
"""

import numpy as np

from gpuk._array import asarray, get_array_module, serial_blas
from gpuk.autograd import Tensor, as_array
from gpuk.ops import math as _math
from gpuk.ops import shaping as _shape
from gpuk.ops._recurrent_activation import NAMES
from gpuk.ops.compare import greater

# ----------------------------------------------------------------------------- activations
# Each derivative is written in terms of the activation's *output* y, so backward only keeps y.


def _clip01(xp, v):
    return xp.clip(v, 0, 1).astype(v.dtype, copy=False)


def _inside01(y):
    return ((y > 0) & (y < 1)).astype(y.dtype)


_FORWARD = {
    "tanh": lambda xp, x: xp.tanh(x),
    # 0.5 * tanh(0.5 x) + 0.5 equals 1 / (1 + exp(-x)) and never overflows.
    "sigmoid": lambda xp, x: 0.5 * xp.tanh(0.5 * x) + 0.5,
    "relu": lambda xp, x: xp.maximum(x, 0),
    "linear": lambda xp, x: x,
    "hard_sigmoid": lambda xp, x: _clip01(xp, x / 6 + 0.5),
    "hard_sigmoid_legacy": lambda xp, x: _clip01(xp, 0.2 * x + 0.5),
}


def _sigmoid_in_place(xp, x):
    x *= 0.5
    xp.tanh(x, out=x)
    x *= 0.5
    x += 0.5
    return x


#: The activations above computed in place (same operations, same order: identical values).
_FORWARD_INPLACE = {
    "tanh": lambda xp, x: xp.tanh(x, out=x),
    "sigmoid": _sigmoid_in_place,
    "relu": lambda xp, x: xp.maximum(x, 0, out=x),
    "linear": lambda xp, x: x,
}

_DERIVATIVE = {
    "tanh": lambda y: 1 - y * y,
    "sigmoid": lambda y: y * (1 - y),
    "relu": lambda y: (y > 0).astype(y.dtype),
    "linear": lambda y: 1,
    "hard_sigmoid": lambda y: _inside01(y) / 6,
    "hard_sigmoid_legacy": lambda y: _inside01(y) * 0.2,
}

ACTIVATIONS = NAMES
"""Activation names the whole-sequence Functions (and fused kernels) differentiate by hand: the
op names of the one enumeration, :class:`gpuk.ops._recurrent_activation.Activation`."""


def _composed_activation(activation):
    """A function on Tensors, built from primitive differentiable ops, for a name or callable."""
    if callable(activation):
        return activation
    if activation == "tanh":
        return _math.tanh
    if activation == "sigmoid":
        return lambda x: _math.add(_math.multiply(_math.tanh(_math.multiply(x, 0.5)), 0.5), 0.5)
    if activation == "relu":
        return lambda x: _math.where(greater(x, 0.0), x, 0.0)
    if activation == "linear":
        return lambda x: x
    if activation == "hard_sigmoid":
        return lambda x: _math.clip(_math.add(_math.divide(x, 6.0), 0.5), 0.0, 1.0)
    if activation == "hard_sigmoid_legacy":
        return lambda x: _math.clip(_math.add(_math.multiply(x, 0.2), 0.5), 0.0, 1.0)
    raise ValueError(_activation_error(activation))


def _activation_error(activation):
    return (
        f"Unknown recurrent activation {activation!r}: expected one of {list(ACTIVATIONS)} or a "
        "callable"
    )


def _check_activation(activation, argument):
    if callable(activation):
        return
    if not isinstance(activation, str) or activation not in _FORWARD:
        raise ValueError(f"{argument}: " + _activation_error(activation))


# ----------------------------------------------------------------------------- shared helpers


def _data(value):
    return value.data if isinstance(value, Tensor) else value


def _prepare_mask(mask, like, batch, timesteps):
    """The mask as a boolean ``(batch, time)`` array on ``like``'s device, or None."""
    if mask is None:
        return None
    array = asarray(as_array(mask), xp=get_array_module(like)).astype(bool)
    if array.shape != (batch, timesteps):
        raise ValueError(
            f"Recurrent mask must have shape (batch, time) = {(batch, timesteps)}, received a "
            f"mask of shape {tuple(array.shape)}"
        )
    return array


def _check_inputs(name, inputs, kernel, recurrent_kernel, gates):
    shape = tuple(_data(inputs).shape)
    if len(shape) != 3:
        raise ValueError(
            f"{name}: inputs must have rank 3 (batch, time, features), received shape {shape}"
        )
    units = _data(recurrent_kernel).shape[0]
    expected_kernel = (shape[2], gates * units)
    if tuple(_data(kernel).shape) != expected_kernel:
        raise ValueError(
            f"{name}: kernel must have shape {expected_kernel} for inputs of shape {shape} and "
            f"{units} units, received {tuple(_data(kernel).shape)}"
        )
    if tuple(_data(recurrent_kernel).shape) != (units, gates * units):
        raise ValueError(
            f"{name}: recurrent_kernel must have shape {(units, gates * units)}, received "
            f"{tuple(_data(recurrent_kernel).shape)}"
        )
    return shape[0], shape[1], shape[2], units


def _serial_blas_loop(method):
    """Run a whole-sequence forward/backward with single-threaded BLAS on the CPU: its time
    loop is many small products (see gpuk._array.blas)."""

    def wrapper(self, *arrays):
        with serial_blas(get_array_module(arrays[0])):
            return method(self, *arrays)

    wrapper.__name__, wrapper.__doc__ = method.__name__, method.__doc__
    return wrapper


def _zeros_state(inputs, batch, units):
    data = _data(inputs)
    xp = get_array_module(data)
    dtype = data.dtype if data.dtype.kind == "f" else np.dtype("float32")
    return Tensor(xp.zeros((batch, units), dtype=dtype))


def _time_major(xp, x, go_backwards, ones_column=False):
    """``x (B, T, D)`` as a contiguous time-major ``(T * B, D)`` matrix, in processing order;
    with ``ones_column``, ``(T * B, D + 1)`` ending in a column of ones, so that one product
    also adds a bias (the ones' weights)."""
    batch, timesteps, features = x.shape
    xs = (x[:, ::-1] if go_backwards else x).transpose(1, 0, 2)
    if not ones_column:
        return xp.ascontiguousarray(xs).reshape(timesteps * batch, features)
    out = xp.empty((timesteps, batch, features + 1), dtype=x.dtype)
    out[..., :features] = xs
    out[..., features] = 1
    return out.reshape(timesteps * batch, features + 1)


def _project(xp, x, kernel, go_backwards):
    """All time steps' input projection as ONE product: time-major ``(T, B, G)``."""
    batch, timesteps, _ = x.shape
    x_tm = _time_major(xp, x, go_backwards)
    return x_tm, (x_tm @ kernel).reshape(timesteps, batch, kernel.shape[1])


def _time_major_mask(mask, go_backwards):
    if mask is None:
        return None
    m = mask[:, ::-1] if go_backwards else mask
    return m.T[:, :, None]  # (T, B, 1)


def _input_grads(xp, x_tm, kernel, d_gates, batch, timesteps, go_backwards, need_x, need_k):
    """Kernel and input gradients from the per-step gate gradients, as single big products."""
    flat = d_gates.reshape(timesteps * batch, d_gates.shape[-1])
    g_kernel = x_tm.T @ flat if need_k else None
    g_x = None
    if need_x:
        g_x = (flat @ kernel.T).reshape(timesteps, batch, kernel.shape[0]).transpose(1, 0, 2)
        if go_backwards:
            g_x = g_x[:, ::-1]
        g_x = xp.ascontiguousarray(g_x)
    return g_x, g_kernel


def _output_carry_backward(xp, gy_seq, mask_tm):
    """Turn gradients of the carried sequence outputs into gradients of each step's new state.

    Forward: ``out[t] = h_new[t]`` where the step is unmasked, else ``out[t-1]`` (zeros before
    the first unmasked step). Returns ``g_new`` with ``g_new[t]`` the gradient reaching
    ``h_new[t]`` through the outputs.
    """
    g_new = xp.empty_like(gy_seq)
    carry = xp.zeros_like(gy_seq[0])
    for t in range(gy_seq.shape[0] - 1, -1, -1):
        total = gy_seq[t] + carry
        g_new[t] = xp.where(mask_tm[t], total, 0)
        carry = xp.where(mask_tm[t], 0, total)
    return g_new


def _sequence_outputs(xp, states_new, mask_tm):
    """Forward of the carried sequence outputs from the per-step new states ``(T, B, U)``."""
    if mask_tm is None:
        return states_new
    out = xp.empty_like(states_new)
    previous = xp.zeros_like(states_new[0])
    for t in range(states_new.shape[0]):
        previous = xp.where(mask_tm[t], states_new[t], previous)
        out[t] = previous
    return out


def _batch_major(xp, seq_tm):
    return xp.ascontiguousarray(seq_tm.transpose(1, 0, 2))


# ----------------------------------------------------------------------------- composed oracle


def _step_inputs(inputs, mask, go_backwards):
    timesteps = _data(inputs).shape[1]
    order = range(timesteps - 1, -1, -1) if go_backwards else range(timesteps)
    for t in order:
        x_t = _shape.getitem(inputs, (slice(None), t))
        m_t = None if mask is None else mask[:, t : t + 1]
        yield x_t, m_t


def _carry(m_t, new, old):
    return new if m_t is None else _math.where(m_t, new, old)


def _column(value, start, stop):
    return _shape.getitem(value, (Ellipsis, slice(start, stop)))


def _next_output(m_t, new, previous):
    if m_t is None:
        return new
    if previous is None:
        previous = _math.multiply(new, 0.0)
    return _math.where(m_t, new, previous)
