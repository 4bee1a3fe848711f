"""SimpleRNN over a whole sequence: ``SimpleRNNSequence`` (hand-written backward),
``simple_rnn_composed`` (the oracle) and the public op ``simple_rnn``.
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

# ----------------------------------------------------------------------------- SimpleRNN


class SimpleRNNSequence(Function):
    """Whole-sequence SimpleRNN ``h = act(x @ W + b + h_prev @ U)`` with hand-written BPTT.

    Inputs: ``x, kernel (D, U), recurrent_kernel (U, U), [bias (U,)], h0, [mask]``.
    """

    @_serial_blas_loop
    def forward(self, x, kernel, recurrent_kernel, *rest):
        mask = rest[-1] if self.has_mask else None
        rest = rest[:-1] if self.has_mask else rest
        bias, h0 = rest if self.has_bias else (None, rest[0])
        xp = get_array_module(x)
        act = _FORWARD[self.activation]
        batch, timesteps, _ = x.shape
        units = recurrent_kernel.shape[0]
        x_tm, proj = _project(xp, x, kernel, self.go_backwards)
        if bias is not None:
            proj += bias
        mask_tm = _time_major_mask(mask, self.go_backwards)
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
        if self.has_mask:
            grads.append(None)  # the mask
        return tuple(grads)


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
    return _shape.stack(outputs, axis=1), h


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
