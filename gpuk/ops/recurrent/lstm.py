"""LSTM over a whole sequence: ``LSTMSequence`` (hand-written backward), ``lstm_composed`` (the
oracle) and the public op ``lstm``.
"""

from gpuk._array import get_array_module
from gpuk.autograd import Function
from gpuk.ops import math as _math
from gpuk.ops import shaping as _shape
from gpuk.ops.linalg import matmul
from gpuk.ops.recurrent._common import (
    _DERIVATIVE,
    _FORWARD,
    _batch_major,
    _carry,
    _check_activation,
    _check_inputs,
    _column,
    _composed_activation,
    _data,
    _input_grads,
    _next_output,
    _output_carry_backward,
    _prepare_mask,
    _project,
    _sequence_outputs,
    _serial_blas_loop,
    _step_inputs,
    _time_major_mask,
    _zeros_state,
)
from gpuk.ops.recurrent._dispatch import _dispatch

# ----------------------------------------------------------------------------- LSTM


class LSTMSequence(Function):
    """Whole-sequence LSTM with a hand-written backward through time.

    Inputs: ``x, kernel (D, 4U), recurrent_kernel (U, 4U), [bias (4U,)], h0, c0, [mask]``.
    Outputs: ``(sequence_outputs, last_h, last_c)``.
    """

    @_serial_blas_loop
    def forward(self, x, kernel, recurrent_kernel, *rest):
        mask = rest[-1] if self.has_mask else None
        rest = rest[:-1] if self.has_mask else rest
        bias, h0, c0 = rest if self.has_bias else (None, *rest)
        xp = get_array_module(x)
        act, ract = _FORWARD[self.activation], _FORWARD[self.recurrent_activation]
        batch, timesteps, _ = x.shape
        units = recurrent_kernel.shape[0]
        x_tm, proj = _project(xp, x, kernel, self.go_backwards)
        if bias is not None:
            proj += bias
        mask_tm = _time_major_mask(mask, self.go_backwards)
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
        if self.has_mask:
            grads.append(None)  # the mask
        return tuple(grads)


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
    return _shape.stack(outputs, axis=1), h, c


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
