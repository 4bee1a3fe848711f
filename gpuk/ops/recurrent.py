"""Recurrent sequence ops: ``gru``, ``lstm`` and ``simple_rnn`` over whole sequences.

Three implementations of each (docs/architecture.md, "Three implementations of each hot op"):

1. **Composed** (``*_composed``): a step-by-step loop of primitive ``gpuk.ops``; autograd gives
   its gradient. It is the test oracle and the path taken for activation *callables*.
2. **Whole-sequence Function** (``GRUSequence``, ``LSTMSequence``, ``SimpleRNNSequence``): one
   autograd node per call with a hand-written backward through time. The input projection of all
   time steps is one matrix product ``(T*B, D) @ kernel``; only the recurrent product loops over
   time. Backward runs the loop in reverse collecting per-step gate gradients, then computes the
   kernel, recurrent-kernel and input gradients as single big matrix products after the loop.
   Written once over ``xp`` (NumPy or CuPy), float32 and float64.
3. **Fused CUDA kernel** from ``gpuk.ops.fused.<cell>`` (``gru``, ``lstm``, ``simple_rnn``),
   used with ``fused="auto"`` when the arrays are CuPy and that module's
   ``supports(...) -> (bool, reason)`` accepts the configuration. The fused op
   (``<cell>_fused``) has the same signature and semantics as the public function here.
   ``supports`` receives those of the keywords ``cell, dtype, xp, batch_size, timesteps,
   input_dim, units, activation, recurrent_activation, reset_after, go_backwards, use_bias,
   has_mask, has_initial_state, has_recurrent_dropout`` that it declares;
   ``"hard_sigmoid_legacy"`` is passed to the fused module as ``"hard_sigmoid_tf"``. With a
   mask the fused ops output zeros before the first unmasked step, like the generic ones, also
   with an explicit initial state. Dropout masks (``input_dropout_mask(s)``,
   ``recurrent_dropout_mask(s)``, Keras's per-gate masks in training) run inside the fused
   kernels, or on the composed path when no kernel applies.

Activations are names with hand-written derivatives -- ``"tanh"``, ``"sigmoid"``, ``"relu"``,
``"linear"``, ``"hard_sigmoid"`` (Keras 3: ``clip(x / 6 + 0.5, 0, 1)``) and
``"hard_sigmoid_legacy"`` (Keras 1/2 and tf.keras: ``clip(0.2 * x + 0.5, 0, 1)``) -- or any
callable on Tensors, which selects the composed path.

Semantics match Keras 3 exactly:

* ``mask`` is boolean ``(batch, time)``. At a masked step the state (``h``, and ``c`` for the
  LSTM) is carried forward unchanged, and the sequence output repeats the output of the last
  *unmasked* step (zeros before the first one, even with a non-zero initial state); Keras 3's
  ``zero_output_for_mask=False`` default. ``last_state`` is the carried state.
* ``go_backwards=True`` processes time reversed (the mask too) and returns the sequence outputs
  in processing order, i.e. reversed relative to the input, as Keras does.
* GRU gate order z, r, h; ``reset_after=True``: bias ``(2, 3u)`` = [input bias; recurrent bias],
  ``hh = act(x_h + r * (h @ U_h + b_rh))``; ``reset_after=False``: bias ``(3u,)``,
  ``hh = act(x_h + (r * h) @ U_h)``; ``h = z * h_prev + (1 - z) * hh``.
* LSTM gate order i, f, c, o, bias ``(4u,)``; ``c = f * c_prev + i * act(x_c)``,
  ``h = o * act(c)``.
"""

import importlib
import inspect

import numpy as np

from gpuk._array import asarray, get_array_module, serial_blas
from gpuk.autograd import Function, Tensor, as_array
from gpuk.ops import math as _math
from gpuk.ops import shaping as _shape
from gpuk.ops.compare import greater
from gpuk.ops.linalg import matmul

__all__ = [
    "ACTIVATIONS",
    "GRUSequence",
    "LSTMSequence",
    "SimpleRNNSequence",
    "gru",
    "gru_composed",
    "lstm",
    "lstm_composed",
    "simple_rnn",
    "simple_rnn_composed",
]

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

ACTIVATIONS = tuple(_FORWARD)
"""Activation names the whole-sequence Functions (and fused kernels) differentiate by hand."""


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


def _project(xp, x, kernel, go_backwards):
    """All time steps' input projection as ONE product: time-major ``(T, B, G)``."""
    batch, timesteps, features = x.shape
    xs = x[:, ::-1] if go_backwards else x
    x_tm = xp.ascontiguousarray(xs.transpose(1, 0, 2)).reshape(timesteps * batch, features)
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


# ----------------------------------------------------------------------------- GRU


class GRUSequence(Function):
    """Whole-sequence GRU with a hand-written backward through time.

    Inputs: ``x (B, T, D), kernel (D, 3U), recurrent_kernel (U, 3U), [bias], h0 (B, U)``
    (``bias`` present when ``has_bias``). Params: ``activation, recurrent_activation,
    reset_after, go_backwards, has_bias, mask`` (bool ``(B, T)`` array or None).
    Outputs: ``(sequence_outputs (B, T, U), last_state (B, U))``.
    """

    @_serial_blas_loop
    def forward(self, x, kernel, recurrent_kernel, *rest):
        bias, h0 = rest if self.has_bias else (None, rest[0])
        xp = get_array_module(x)
        act, ract = _FORWARD[self.activation], _FORWARD[self.recurrent_activation]
        batch, timesteps, _ = x.shape
        units = recurrent_kernel.shape[0]
        x_tm, proj = _project(xp, x, kernel, self.go_backwards)
        rec_bias = None
        if bias is not None:
            if self.reset_after:
                proj += bias[0]
                rec_bias = bias[1]
            else:
                proj += bias
        mask_tm = _time_major_mask(self.mask, self.go_backwards)
        u2 = 2 * units
        if (
            self.reset_after
            and mask_tm is None
            and self.activation in _FORWARD_INPLACE
            and self.recurrent_activation in _FORWARD_INPLACE
        ):
            return self._forward_in_place(xp, x_tm, proj, kernel, recurrent_kernel, rec_bias, h0)
        h_prev = xp.empty((timesteps, batch, units), dtype=proj.dtype)
        z_all, r_all, hh_all = (xp.empty_like(h_prev) for _ in range(3))
        aux = xp.empty_like(h_prev)  # reset_after: h @ U_h + b_rh; else: r * h
        h_new_all = xp.empty_like(h_prev)
        u_zr, u_h = recurrent_kernel[:, :u2], recurrent_kernel[:, u2:]
        h = h0.astype(proj.dtype, copy=False)
        for t in range(timesteps):
            h_prev[t] = h
            xg = proj[t]
            if self.reset_after:
                hu = h @ recurrent_kernel
                if rec_bias is not None:
                    hu += rec_bias
                zr = ract(xp, xg[:, :u2] + hu[:, :u2])
                z, r = zr[:, :units], zr[:, units:]
                aux[t] = hu[:, u2:]
                hh = act(xp, xg[:, u2:] + r * aux[t])
            else:
                zr = ract(xp, xg[:, :u2] + h @ u_zr)
                z, r = zr[:, :units], zr[:, units:]
                aux[t] = r * h
                hh = act(xp, xg[:, u2:] + aux[t] @ u_h)
            z_all[t], r_all[t], hh_all[t] = z, r, hh
            h_new = z * h + (1 - z) * hh
            h_new_all[t] = h_new
            h = h_new if mask_tm is None else xp.where(mask_tm[t], h_new, h)
        self.saved = (x_tm, kernel, recurrent_kernel, h_prev, z_all, r_all, hh_all, aux)
        self.shape = (batch, timesteps, units)
        self.mask_tm = mask_tm
        outputs = _sequence_outputs(xp, h_new_all, mask_tm)
        return _batch_major(xp, outputs), h

    def _forward_in_place(self, xp, x_tm, proj, kernel, recurrent_kernel, rec_bias, h0):
        """The unmasked reset_after loop with preallocated buffers: nothing allocated per
        step, and nothing kept for backward when the call is not recorded (predict). Same
        operations in the same order as the general loop, so the values are identical."""
        timesteps, batch, _ = proj.shape
        units = recurrent_kernel.shape[0]
        u2 = 2 * units
        dtype = proj.dtype
        act = _FORWARD_INPLACE[self.activation]
        ract = _FORWARD_INPLACE[self.recurrent_activation]
        keep = bool(self.needs_input_grad)  # recorded: backward needs the per-step values
        h_new_all = xp.empty((timesteps, batch, units), dtype=dtype)
        if keep:
            h_prev, z_all, r_all, hh_all, aux = (xp.empty_like(h_new_all) for _ in range(5))
        hu = xp.empty((batch, 3 * units), dtype=dtype)
        zr = xp.empty((batch, u2), dtype=dtype)
        hh = xp.empty((batch, units), dtype=dtype)
        tmp = xp.empty((batch, units), dtype=dtype)
        z, r = zr[:, :units], zr[:, units:]
        h = h0.astype(dtype, copy=False)
        for t in range(timesteps):
            if keep:
                h_prev[t] = h
            xg = proj[t]
            xp.matmul(h, recurrent_kernel, out=hu)
            if rec_bias is not None:
                hu += rec_bias
            xp.add(xg[:, :u2], hu[:, :u2], out=zr)
            ract(xp, zr)
            xp.multiply(r, hu[:, u2:], out=hh)
            xp.add(xg[:, u2:], hh, out=hh)
            act(xp, hh)
            # h_new = z * h + (1 - z) * hh, as in the general loop
            h_new = h_new_all[t]
            xp.multiply(z, h, out=h_new)
            xp.subtract(1, z, out=tmp)
            tmp *= hh
            h_new += tmp
            if keep:
                z_all[t], r_all[t], hh_all[t], aux[t] = z, r, hh, hu[:, u2:]
            h = h_new
        if keep:
            self.saved = (x_tm, kernel, recurrent_kernel, h_prev, z_all, r_all, hh_all, aux)
        self.shape = (batch, timesteps, units)
        self.mask_tm = None
        return _batch_major(xp, h_new_all), h.copy()

    @_serial_blas_loop
    def backward(self, gy_seq, gy_last):
        x_tm, kernel, recurrent_kernel, h_prev, z_all, r_all, hh_all, aux = self.saved
        xp = get_array_module(gy_seq)
        batch, timesteps, units = self.shape
        u2 = 2 * units
        dact, dract = _DERIVATIVE[self.activation], _DERIVATIVE[self.recurrent_activation]
        mask_tm = self.mask_tm
        g_seq = xp.ascontiguousarray(gy_seq.transpose(1, 0, 2))
        if mask_tm is not None:
            g_seq = _output_carry_backward(xp, g_seq, mask_tm)
        d_x = xp.empty((timesteps, batch, 3 * units), dtype=g_seq.dtype)
        # Gradients of the recurrent product's output, per step: (T, B, 3U) or (T, B, 2U)+(T, B, U).
        d_rec = xp.empty((timesteps, batch, 3 * units), dtype=g_seq.dtype)
        u_zr_t, u_h_t = recurrent_kernel[:, :u2].T, recurrent_kernel[:, u2:].T
        rk_t = recurrent_kernel.T
        gh = gy_last.astype(g_seq.dtype, copy=True)
        for t in range(timesteps - 1, -1, -1):
            g = gh + g_seq[t]
            if mask_tm is not None:
                g_new = xp.where(mask_tm[t], g, 0)
                g_carry = g - g_new
            else:
                g_new, g_carry = g, None
            z, r, hh, hp = z_all[t], r_all[t], hh_all[t], h_prev[t]
            d_hh = g_new * (1 - z) * dact(hh)
            d_z = g_new * (hp - hh) * dract(z)
            if self.reset_after:
                d_r = d_hh * aux[t] * dract(r)
                d_x[t, :, :units], d_x[t, :, units:u2], d_x[t, :, u2:] = d_z, d_r, d_hh
                d_rec[t, :, :u2] = d_x[t, :, :u2]
                d_rec[t, :, u2:] = d_hh * r
                gh = g_new * z + d_rec[t] @ rk_t
            else:
                d_rh = d_hh @ u_h_t
                d_r = d_rh * hp * dract(r)
                d_x[t, :, :units], d_x[t, :, units:u2], d_x[t, :, u2:] = d_z, d_r, d_hh
                gh = g_new * z + d_rh * r + d_x[t, :, :u2] @ u_zr_t
            if g_carry is not None:
                gh = gh + g_carry
        need = self.needs_input_grad or (True,) * (5 if self.has_bias else 4)
        g_x, g_kernel = _input_grads(
            xp, x_tm, kernel, d_x, batch, timesteps, self.go_backwards, need[0], need[1]
        )
        flat_hp = h_prev.reshape(timesteps * batch, units)
        g_rk = None
        if need[2]:
            if self.reset_after:
                g_rk = flat_hp.T @ d_rec.reshape(timesteps * batch, 3 * units)
            else:
                g_rk = xp.empty_like(recurrent_kernel)
                g_rk[:, :u2] = flat_hp.T @ d_x[:, :, :u2].reshape(timesteps * batch, u2)
                g_rk[:, u2:] = aux.reshape(timesteps * batch, units).T @ d_x[:, :, u2:].reshape(
                    timesteps * batch, units
                )
        grads = [g_x, g_kernel, g_rk]
        if self.has_bias:
            g_in = d_x.sum(axis=(0, 1))
            if self.reset_after:
                grads.append(xp.stack([g_in, d_rec.sum(axis=(0, 1))]))
            else:
                grads.append(g_in)
        grads.append(gh)
        return tuple(grads)


# ----------------------------------------------------------------------------- LSTM


class LSTMSequence(Function):
    """Whole-sequence LSTM with a hand-written backward through time.

    Inputs: ``x, kernel (D, 4U), recurrent_kernel (U, 4U), [bias (4U,)], h0, c0``.
    Outputs: ``(sequence_outputs, last_h, last_c)``.
    """

    @_serial_blas_loop
    def forward(self, x, kernel, recurrent_kernel, *rest):
        bias, h0, c0 = rest if self.has_bias else (None, *rest)
        xp = get_array_module(x)
        act, ract = _FORWARD[self.activation], _FORWARD[self.recurrent_activation]
        batch, timesteps, _ = x.shape
        units = recurrent_kernel.shape[0]
        x_tm, proj = _project(xp, x, kernel, self.go_backwards)
        if bias is not None:
            proj += bias
        mask_tm = _time_major_mask(self.mask, self.go_backwards)
        h_prev = xp.empty((timesteps, batch, units), dtype=proj.dtype)
        c_prev, tc_all = xp.empty_like(h_prev), xp.empty_like(h_prev)
        gates = xp.empty((timesteps, batch, 4 * units), dtype=proj.dtype)
        h_new_all = xp.empty_like(h_prev)
        h, c = h0.astype(proj.dtype, copy=False), c0.astype(proj.dtype, copy=False)
        u, u2, u3 = units, 2 * units, 3 * units
        for t in range(timesteps):
            h_prev[t], c_prev[t] = h, c
            pre = proj[t] + h @ recurrent_kernel
            gates[t, :, :u2] = ract(xp, pre[:, :u2])
            gates[t, :, u2:u3] = act(xp, pre[:, u2:u3])
            gates[t, :, u3:] = ract(xp, pre[:, u3:])
            i, f, g, o = gates[t, :, :u], gates[t, :, u:u2], gates[t, :, u2:u3], gates[t, :, u3:]
            c_new = f * c + i * g
            tc_all[t] = act(xp, c_new)
            h_new = o * tc_all[t]
            h_new_all[t] = h_new
            if mask_tm is None:
                h, c = h_new, c_new
            else:
                h = xp.where(mask_tm[t], h_new, h)
                c = xp.where(mask_tm[t], c_new, c)
        self.saved = (x_tm, kernel, recurrent_kernel, h_prev, c_prev, gates, tc_all)
        self.shape = (batch, timesteps, units)
        self.mask_tm = mask_tm
        outputs = _sequence_outputs(xp, h_new_all, mask_tm)
        return _batch_major(xp, outputs), h, c

    @_serial_blas_loop
    def backward(self, gy_seq, gy_h, gy_c):
        x_tm, kernel, recurrent_kernel, h_prev, c_prev, gates, tc_all = self.saved
        xp = get_array_module(gy_seq)
        batch, timesteps, units = self.shape
        u, u2, u3 = units, 2 * units, 3 * units
        dact, dract = _DERIVATIVE[self.activation], _DERIVATIVE[self.recurrent_activation]
        mask_tm = self.mask_tm
        g_seq = xp.ascontiguousarray(gy_seq.transpose(1, 0, 2))
        if mask_tm is not None:
            g_seq = _output_carry_backward(xp, g_seq, mask_tm)
        d_pre = xp.empty((timesteps, batch, 4 * units), dtype=g_seq.dtype)
        rk_t = recurrent_kernel.T
        gh = gy_h.astype(g_seq.dtype, copy=True)
        gc = gy_c.astype(g_seq.dtype, copy=True)
        for t in range(timesteps - 1, -1, -1):
            g = gh + g_seq[t]
            if mask_tm is not None:
                keep = mask_tm[t]
                g_h_new, g_c_new = xp.where(keep, g, 0), xp.where(keep, gc, 0)
                carry_h, carry_c = g - g_h_new, gc - g_c_new
            else:
                g_h_new, g_c_new, carry_h, carry_c = g, gc, None, None
            i, f, gg, o = gates[t, :, :u], gates[t, :, u:u2], gates[t, :, u2:u3], gates[t, :, u3:]
            tc = tc_all[t]
            d_c = g_c_new + g_h_new * o * dact(tc)
            d_pre[t, :, :u] = d_c * gg * dract(i)
            d_pre[t, :, u:u2] = d_c * c_prev[t] * dract(f)
            d_pre[t, :, u2:u3] = d_c * i * dact(gg)
            d_pre[t, :, u3:] = g_h_new * tc * dract(o)
            gh = d_pre[t] @ rk_t
            gc = d_c * f
            if carry_h is not None:
                gh = gh + carry_h
                gc = gc + carry_c
        need = self.needs_input_grad or (True,) * (6 if self.has_bias else 5)
        g_x, g_kernel = _input_grads(
            xp, x_tm, kernel, d_pre, batch, timesteps, self.go_backwards, need[0], need[1]
        )
        flat = d_pre.reshape(timesteps * batch, 4 * units)
        g_rk = h_prev.reshape(timesteps * batch, units).T @ flat if need[2] else None
        grads = [g_x, g_kernel, g_rk]
        if self.has_bias:
            grads.append(flat.sum(axis=0))
        grads.extend([gh, gc])
        return tuple(grads)


# ----------------------------------------------------------------------------- SimpleRNN


class SimpleRNNSequence(Function):
    """Whole-sequence SimpleRNN ``h = act(x @ W + b + h_prev @ U)`` with hand-written BPTT.

    Inputs: ``x, kernel (D, U), recurrent_kernel (U, U), [bias (U,)], h0``.
    """

    @_serial_blas_loop
    def forward(self, x, kernel, recurrent_kernel, *rest):
        bias, h0 = rest if self.has_bias else (None, rest[0])
        xp = get_array_module(x)
        act = _FORWARD[self.activation]
        batch, timesteps, _ = x.shape
        units = recurrent_kernel.shape[0]
        x_tm, proj = _project(xp, x, kernel, self.go_backwards)
        if bias is not None:
            proj += bias
        mask_tm = _time_major_mask(self.mask, self.go_backwards)
        h_prev = xp.empty((timesteps, batch, units), dtype=proj.dtype)
        h_new_all = xp.empty_like(h_prev)
        h = h0.astype(proj.dtype, copy=False)
        for t in range(timesteps):
            h_prev[t] = h
            h_new = act(xp, proj[t] + h @ recurrent_kernel)
            h_new_all[t] = h_new
            h = h_new if mask_tm is None else xp.where(mask_tm[t], h_new, h)
        self.saved = (x_tm, kernel, recurrent_kernel, h_prev, h_new_all)
        self.shape = (batch, timesteps, units)
        self.mask_tm = mask_tm
        outputs = _sequence_outputs(xp, h_new_all, mask_tm)
        return _batch_major(xp, outputs), h

    @_serial_blas_loop
    def backward(self, gy_seq, gy_last):
        x_tm, kernel, recurrent_kernel, h_prev, h_new_all = self.saved
        xp = get_array_module(gy_seq)
        batch, timesteps, units = self.shape
        dact = _DERIVATIVE[self.activation]
        mask_tm = self.mask_tm
        g_seq = xp.ascontiguousarray(gy_seq.transpose(1, 0, 2))
        if mask_tm is not None:
            g_seq = _output_carry_backward(xp, g_seq, mask_tm)
        d_pre = xp.empty((timesteps, batch, units), dtype=g_seq.dtype)
        rk_t = recurrent_kernel.T
        gh = gy_last.astype(g_seq.dtype, copy=True)
        for t in range(timesteps - 1, -1, -1):
            g = gh + g_seq[t]
            if mask_tm is not None:
                g_new = xp.where(mask_tm[t], g, 0)
                carry = g - g_new
            else:
                g_new, carry = g, None
            d_pre[t] = g_new * dact(h_new_all[t])
            gh = d_pre[t] @ rk_t
            if carry is not None:
                gh = gh + carry
        need = self.needs_input_grad or (True,) * (5 if self.has_bias else 4)
        g_x, g_kernel = _input_grads(
            xp, x_tm, kernel, d_pre, batch, timesteps, self.go_backwards, need[0], need[1]
        )
        flat = d_pre.reshape(timesteps * batch, units)
        g_rk = h_prev.reshape(timesteps * batch, units).T @ flat if need[2] else None
        grads = [g_x, g_kernel, g_rk]
        if self.has_bias:
            grads.append(flat.sum(axis=0))
        grads.append(gh)
        return tuple(grads)


# ----------------------------------------------------------------------------- composed oracle


class _Stack(Function):
    """Stack same-shape tensors along a new axis 1 (batch-major sequences)."""

    def forward(self, *xs):
        return get_array_module(*xs).stack(xs, axis=1)

    def backward(self, g):
        return tuple(g[:, i] for i in range(g.shape[1]))


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


def gru_composed(
    inputs,
    kernel,
    recurrent_kernel,
    bias,
    initial_state,
    mask=None,
    *,
    activation="tanh",
    recurrent_activation="sigmoid",
    reset_after=True,
    go_backwards=False,
    input_dropout_masks=None,
    recurrent_dropout_masks=None,
):
    """Step-by-step GRU from primitive ops (the oracle; any activation callable).

    ``input_dropout_masks`` / ``recurrent_dropout_masks``: optional triples of ``(B, D)`` /
    ``(B, U)`` multipliers for the z, r, h gates (Keras's per-gate dropout masks, the same at
    every step).
    """
    batch, timesteps, _, units = _check_inputs("gru", inputs, kernel, recurrent_kernel, 3)
    act, ract = _composed_activation(activation), _composed_activation(recurrent_activation)
    mask = _prepare_mask(mask, _data(inputs), batch, timesteps)
    h = _zeros_state(inputs, batch, units) if initial_state is None else initial_state
    u, u2, u3 = units, 2 * units, 3 * units
    w = [_column(kernel, a, b) for a, b in ((0, u), (u, u2), (u2, u3))]
    rw = [_column(recurrent_kernel, a, b) for a, b in ((0, u), (u, u2), (u2, u3))]
    b_in = b_rec = None
    if bias is not None:
        if reset_after:
            b_in, b_rec = _shape.getitem(bias, 0), _shape.getitem(bias, 1)
        else:
            b_in = bias
    output = None
    outputs = []
    for x_t, m_t in _step_inputs(inputs, mask, go_backwards):
        xs = (
            [x_t] * 3
            if input_dropout_masks is None
            else [_math.multiply(x_t, m) for m in input_dropout_masks]
        )
        hs = (
            [h] * 3
            if recurrent_dropout_masks is None
            else [_math.multiply(h, m) for m in recurrent_dropout_masks]
        )
        xg = [matmul(xs[k], w[k]) for k in range(3)]
        if b_in is not None:
            xg = [_math.add(xg[k], _column(b_in, k * u, (k + 1) * u)) for k in range(3)]
        rz = matmul(hs[0], rw[0])
        rr = matmul(hs[1], rw[1])
        if b_rec is not None:
            rz = _math.add(rz, _column(b_rec, 0, u))
            rr = _math.add(rr, _column(b_rec, u, u2))
        z = ract(_math.add(xg[0], rz))
        r = ract(_math.add(xg[1], rr))
        if reset_after:
            rh = matmul(hs[2], rw[2])
            if b_rec is not None:
                rh = _math.add(rh, _column(b_rec, u2, u3))
            hh = act(_math.add(xg[2], _math.multiply(r, rh)))
        else:
            hh = act(_math.add(xg[2], matmul(_math.multiply(r, hs[2]), rw[2])))
        h_new = _math.add(_math.multiply(z, h), _math.multiply(_math.subtract(1.0, z), hh))
        output = _next_output(m_t, h_new, output)
        h = _carry(m_t, h_new, h)
        outputs.append(output)
    return _Stack.apply(*outputs), h


def _next_output(m_t, new, previous):
    if m_t is None:
        return new
    if previous is None:
        previous = _math.multiply(new, 0.0)
    return _math.where(m_t, new, previous)


def lstm_composed(
    inputs,
    kernel,
    recurrent_kernel,
    bias,
    initial_state_h,
    initial_state_c,
    mask=None,
    *,
    activation="tanh",
    recurrent_activation="sigmoid",
    go_backwards=False,
    input_dropout_masks=None,
    recurrent_dropout_masks=None,
):
    """Step-by-step LSTM from primitive ops (gate order i, f, c, o; per-gate dropout masks)."""
    batch, timesteps, _, units = _check_inputs("lstm", inputs, kernel, recurrent_kernel, 4)
    act, ract = _composed_activation(activation), _composed_activation(recurrent_activation)
    mask = _prepare_mask(mask, _data(inputs), batch, timesteps)
    h = _zeros_state(inputs, batch, units) if initial_state_h is None else initial_state_h
    c = _zeros_state(inputs, batch, units) if initial_state_c is None else initial_state_c
    spans = [(k * units, (k + 1) * units) for k in range(4)]
    w = [_column(kernel, a, b) for a, b in spans]
    rw = [_column(recurrent_kernel, a, b) for a, b in spans]
    output = None
    outputs = []
    for x_t, m_t in _step_inputs(inputs, mask, go_backwards):
        xs = (
            [x_t] * 4
            if input_dropout_masks is None
            else [_math.multiply(x_t, m) for m in input_dropout_masks]
        )
        hs = (
            [h] * 4
            if recurrent_dropout_masks is None
            else [_math.multiply(h, m) for m in recurrent_dropout_masks]
        )
        pre = [_math.add(matmul(xs[k], w[k]), matmul(hs[k], rw[k])) for k in range(4)]
        if bias is not None:
            pre = [_math.add(pre[k], _column(bias, a, b)) for k, (a, b) in enumerate(spans)]
        i, f, g, o = ract(pre[0]), ract(pre[1]), act(pre[2]), ract(pre[3])
        c_new = _math.add(_math.multiply(f, c), _math.multiply(i, g))
        h_new = _math.multiply(o, act(c_new))
        output = _next_output(m_t, h_new, output)
        h, c = _carry(m_t, h_new, h), _carry(m_t, c_new, c)
        outputs.append(output)
    return _Stack.apply(*outputs), h, c


def simple_rnn_composed(
    inputs,
    kernel,
    recurrent_kernel,
    bias,
    initial_state,
    mask=None,
    *,
    activation="tanh",
    go_backwards=False,
    input_dropout_mask=None,
    recurrent_dropout_mask=None,
):
    """Step-by-step SimpleRNN from primitive ops (optional single dropout masks)."""
    batch, timesteps, _, units = _check_inputs("simple_rnn", inputs, kernel, recurrent_kernel, 1)
    act = _composed_activation(activation)
    mask = _prepare_mask(mask, _data(inputs), batch, timesteps)
    h = _zeros_state(inputs, batch, units) if initial_state is None else initial_state
    output = None
    outputs = []
    for x_t, m_t in _step_inputs(inputs, mask, go_backwards):
        if input_dropout_mask is not None:
            x_t = _math.multiply(x_t, input_dropout_mask)
        h_in = h if recurrent_dropout_mask is None else _math.multiply(h, recurrent_dropout_mask)
        pre = _math.add(matmul(x_t, kernel), matmul(h_in, recurrent_kernel))
        if bias is not None:
            pre = _math.add(pre, bias)
        h_new = act(pre)
        output = _next_output(m_t, h_new, output)
        h = _carry(m_t, h_new, h)
        outputs.append(output)
    return _Stack.apply(*outputs), h


# ----------------------------------------------------------------------------- dispatch


def _fused_module(cell):
    try:
        return importlib.import_module(f"gpuk.ops.fused.{cell}")
    except ImportError:
        return None


# gpuk.ops.fused spells the Keras 2 hard sigmoid "hard_sigmoid_tf".
_FUSED_NAMES = {"hard_sigmoid_legacy": "hard_sigmoid_tf"}


def _fused_name(activation):
    return _FUSED_NAMES.get(activation, activation)


def _kernels_emulated():
    """Whether the tests' CPU CUDA emulator serves the kernels (then NumPy arrays run them)."""
    from gpuk.ops.fused import launch  # noqa: PLC0415 - the fused package is optional

    return launch._provider["function"] is not None


def _choose(cell, fused, inputs, config):
    """The fused module's op when it should run, else None; raises for ``fused=True`` misses.

    ``supports`` gets the keywords of ``config`` it declares (plus ``xp``); the op is
    ``<cell>_fused`` (or ``<cell>``) of ``gpuk.ops.fused.<cell>``.
    """
    if fused not in ("auto", True, False):
        raise ValueError(f"{cell}: fused must be 'auto', True or False, received {fused!r}")
    if fused is False:
        return None
    reason = None
    module = None
    if get_array_module(_data(inputs)) is np and not _kernels_emulated():
        reason = "the inputs are not CuPy (GPU) arrays"
    else:
        module = _fused_module(cell)
        if module is None:
            reason = f"gpuk.ops.fused.{cell} is not available"
    if module is not None:
        op = getattr(module, f"{cell}_fused", None) or getattr(module, cell, None)
        params = inspect.signature(module.supports).parameters
        args = dict(config, xp=get_array_module(_data(inputs)))
        for key in ("activation", "recurrent_activation"):
            args[key] = _fused_name(args.get(key))
        if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
            args = {k: v for k, v in args.items() if k in params}
        ok, why = module.supports(**args)
        if ok and op is not None:
            return op
        reason = f"the fused kernel does not support this configuration: {why}"
    if fused is True:
        raise ValueError(f"{cell}: fused=True was requested, but {reason}")
    return None


def _config(cell, inputs, units, mask, bias, **extra):
    data = _data(inputs)
    batch, timesteps, features = data.shape
    return dict(
        cell=cell,
        dtype=np.dtype(data.dtype).name,
        batch_size=batch,
        timesteps=timesteps,
        input_dim=features,
        units=units,
        use_bias=bias is not None,
        has_mask=mask is not None,
        **extra,
    )


def _named(*activations):
    return all(isinstance(a, str) for a in activations)


def _dispatch(
    cell,
    sequence,
    composed,
    inputs,
    kernel,
    recurrent_kernel,
    bias,
    states,
    mask,
    given_state,
    fused,
    go_backwards,
    dropout=None,
    **cell_params,
):
    """Run one recurrent cell over a sequence with the best of the three versions.

    The fused kernel when ``fused`` allows it and it supports the configuration, else the
    whole-sequence Function (named activations), else the composed step-by-step oracle (any
    activation callable). ``cell_params`` are the activation names and cell options
    (``reset_after``) that every version takes. ``dropout``: the dropout-mask keywords of the
    fused and composed ops (``input_dropout_mask(s)``, ``recurrent_dropout_mask(s)``) when any
    is given; the whole-sequence Functions have none, so without a kernel they run composed.
    """
    dropout = {k: v for k, v in (dropout or {}).items() if v is not None}
    activations = [v for k, v in cell_params.items() if k.endswith("activation")]
    if not _named(*activations):
        if fused is True:
            raise ValueError(
                f"{cell}: fused=True was requested, but activation callables need fused=False"
            )
        return composed(
            inputs,
            kernel,
            recurrent_kernel,
            bias,
            *states,
            mask,
            go_backwards=go_backwards,
            **dropout,
            **cell_params,
        )
    config = dict(recurrent_activation=None, reset_after=None)
    config.update(cell_params)
    config = _config(
        cell,
        inputs,
        recurrent_kernel.shape[0],
        mask,
        bias,
        go_backwards=go_backwards,
        has_initial_state=given_state,
        has_recurrent_dropout=any(k.startswith("recurrent_dropout") for k in dropout),
        **config,
    )
    op = _choose(cell, fused, inputs, config)
    if op is not None:
        fused_params = {
            k: _fused_name(v) if k.endswith("activation") else v for k, v in cell_params.items()
        }
        return op(
            inputs,
            kernel,
            recurrent_kernel,
            bias,
            *states,
            mask,
            go_backwards=go_backwards,
            **dropout,
            **fused_params,
        )
    if dropout:
        return composed(
            inputs,
            kernel,
            recurrent_kernel,
            bias,
            *states,
            mask,
            go_backwards=go_backwards,
            **dropout,
            **cell_params,
        )
    weights = (kernel, recurrent_kernel) + ((bias,) if bias is not None else ())
    return sequence.apply(
        inputs,
        *weights,
        *states,
        go_backwards=bool(go_backwards),
        has_bias=bias is not None,
        mask=mask,
        **cell_params,
    )


def gru(
    inputs,
    kernel,
    recurrent_kernel,
    bias,
    initial_state,
    mask=None,
    *,
    activation="tanh",
    recurrent_activation="sigmoid",
    reset_after=True,
    go_backwards=False,
    fused="auto",
    input_dropout_masks=None,
    recurrent_dropout_masks=None,
):
    """Run a Keras GRU over a whole sequence.

    Args:
        inputs: ``(batch, time, features)``.
        kernel: ``(features, 3 * units)``, gate blocks z, r, h.
        recurrent_kernel: ``(units, 3 * units)``.
        bias: ``(2, 3 * units)`` when ``reset_after`` (input bias; recurrent bias), else
            ``(3 * units,)``; None for no bias.
        initial_state: ``(batch, units)``, or None for zeros.
        mask: boolean ``(batch, time)`` or None; masked steps carry the state forward.
        activation, recurrent_activation: a name from :data:`ACTIVATIONS` or a callable.
        reset_after: Keras's ``reset_after`` (apply the reset gate after the recurrent product).
        go_backwards: process time reversed; outputs come back in processing order.
        fused: ``"auto"`` (kernel when on GPU and supported), True (kernel or error), False.
        input_dropout_masks, recurrent_dropout_masks: None or three ``(batch, features)`` /
            ``(batch, units)`` multipliers, one per gate (Keras's dropout masks in training);
            run in the fused kernel when it applies, else on the composed path.

    Returns:
        ``(sequence_outputs (batch, time, units), last_state (batch, units))`` Tensors.
    """
    batch, timesteps, _, units = _check_inputs("gru", inputs, kernel, recurrent_kernel, 3)
    _check_activation(activation, "gru activation")
    _check_activation(recurrent_activation, "gru recurrent_activation")
    if bias is not None:
        expected = (2, 3 * units) if reset_after else (3 * units,)
        if tuple(_data(bias).shape) != expected:
            raise ValueError(
                f"gru: bias must have shape {expected} with reset_after={reset_after}, received "
                f"{tuple(_data(bias).shape)}"
            )
    mask = _prepare_mask(mask, _data(inputs), batch, timesteps)
    given_state = initial_state is not None
    if initial_state is None:
        initial_state = _zeros_state(inputs, batch, units)
    return _dispatch(
        "gru",
        GRUSequence,
        gru_composed,
        inputs,
        kernel,
        recurrent_kernel,
        bias,
        [initial_state],
        mask,
        given_state,
        fused,
        go_backwards,
        dropout=dict(
            input_dropout_masks=input_dropout_masks,
            recurrent_dropout_masks=recurrent_dropout_masks,
        ),
        activation=activation,
        recurrent_activation=recurrent_activation,
        reset_after=bool(reset_after),
    )


def lstm(
    inputs,
    kernel,
    recurrent_kernel,
    bias,
    initial_state_h,
    initial_state_c,
    mask=None,
    *,
    activation="tanh",
    recurrent_activation="sigmoid",
    go_backwards=False,
    fused="auto",
    input_dropout_masks=None,
    recurrent_dropout_masks=None,
):
    """Run a Keras LSTM over a whole sequence (gate order i, f, c, o).

    Args:
        inputs: ``(batch, time, features)``.
        kernel: ``(features, 4 * units)``; recurrent_kernel: ``(units, 4 * units)``.
        bias: ``(4 * units,)`` or None.
        initial_state_h, initial_state_c: ``(batch, units)`` or None for zeros.
        mask, activation, recurrent_activation, go_backwards, fused: as for :func:`gru`.
        input_dropout_masks, recurrent_dropout_masks: as for :func:`gru`, four masks (i, f, c,
            o).

    Returns:
        ``(sequence_outputs, last_h, last_c)`` Tensors.
    """
    batch, timesteps, _, units = _check_inputs("lstm", inputs, kernel, recurrent_kernel, 4)
    _check_activation(activation, "lstm activation")
    _check_activation(recurrent_activation, "lstm recurrent_activation")
    if bias is not None and tuple(_data(bias).shape) != (4 * units,):
        raise ValueError(
            f"lstm: bias must have shape {(4 * units,)}, received {tuple(_data(bias).shape)}"
        )
    mask = _prepare_mask(mask, _data(inputs), batch, timesteps)
    given_state = initial_state_h is not None or initial_state_c is not None
    if initial_state_h is None:
        initial_state_h = _zeros_state(inputs, batch, units)
    if initial_state_c is None:
        initial_state_c = _zeros_state(inputs, batch, units)
    return _dispatch(
        "lstm",
        LSTMSequence,
        lstm_composed,
        inputs,
        kernel,
        recurrent_kernel,
        bias,
        [initial_state_h, initial_state_c],
        mask,
        given_state,
        fused,
        go_backwards,
        dropout=dict(
            input_dropout_masks=input_dropout_masks,
            recurrent_dropout_masks=recurrent_dropout_masks,
        ),
        activation=activation,
        recurrent_activation=recurrent_activation,
    )


def simple_rnn(
    inputs,
    kernel,
    recurrent_kernel,
    bias,
    initial_state,
    mask=None,
    *,
    activation="tanh",
    go_backwards=False,
    fused="auto",
    input_dropout_mask=None,
    recurrent_dropout_mask=None,
):
    """Run a Keras SimpleRNN ``h = activation(x @ kernel + bias + h_prev @ recurrent_kernel)``.

    Args:
        inputs: ``(batch, time, features)``; kernel ``(features, units)``; recurrent_kernel
            ``(units, units)``; bias ``(units,)`` or None; initial_state ``(batch, units)`` or
            None.
        mask, activation, go_backwards, fused: as for :func:`gru`.
        input_dropout_mask, recurrent_dropout_mask: None or one ``(batch, features)`` /
            ``(batch, units)`` multiplier (Keras's dropout masks in training).

    Returns:
        ``(sequence_outputs, last_state)`` Tensors.
    """
    batch, timesteps, _, units = _check_inputs("simple_rnn", inputs, kernel, recurrent_kernel, 1)
    _check_activation(activation, "simple_rnn activation")
    if bias is not None and tuple(_data(bias).shape) != (units,):
        raise ValueError(
            f"simple_rnn: bias must have shape {(units,)}, received {tuple(_data(bias).shape)}"
        )
    mask = _prepare_mask(mask, _data(inputs), batch, timesteps)
    given_state = initial_state is not None
    if initial_state is None:
        initial_state = _zeros_state(inputs, batch, units)
    return _dispatch(
        "simple_rnn",
        SimpleRNNSequence,
        simple_rnn_composed,
        inputs,
        kernel,
        recurrent_kernel,
        bias,
        [initial_state],
        mask,
        given_state,
        fused,
        go_backwards,
        dropout=dict(
            input_dropout_mask=input_dropout_mask, recurrent_dropout_mask=recurrent_dropout_mask
        ),
        activation=activation,
    )
