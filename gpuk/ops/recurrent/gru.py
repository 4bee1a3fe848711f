"""GRU over a whole sequence: ``GRUSequence`` (hand-written backward), ``gru_composed`` (the
oracle) and the public op ``gru``.
"""

import numpy as np

from gpuk._array import get_array_module
from gpuk.autograd import Function
from gpuk.ops import math as _math
from gpuk.ops import shaping as _shape
from gpuk.ops.linalg import matmul
from gpuk.ops.recurrent import _gru_loops
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

# ----------------------------------------------------------------------------- GRU


class GRUSequence(Function):
    """Whole-sequence GRU with a hand-written backward through time.

    Inputs: ``x (B, T, D), kernel (D, 3U), recurrent_kernel (U, 3U), [bias], h0 (B, U), [mask]``
    (``bias`` present when ``has_bias``; ``mask`` bool ``(B, T)`` when ``has_mask``, last as in
    the fused Functions). Params: ``activation, recurrent_activation,
    reset_after, go_backwards, has_bias, has_mask``.
    Outputs: ``(sequence_outputs (B, T, U), last_state (B, U))``.
    """

    def forward(self, x, kernel, recurrent_kernel, *rest):
        mask = rest[-1] if self.has_mask else None
        rest = rest[:-1] if self.has_mask else rest
        bias, h0 = rest if self.has_bias else (None, rest[0])
        xp = get_array_module(x)
        self.gate_major = _gru_loops.applies(
            self.reset_after, mask, self.activation, self.recurrent_activation
        )
        if self.gate_major:
            return self._forward_gate_major(xp, x, kernel, recurrent_kernel, bias, h0)
        return self._forward_general(x, kernel, recurrent_kernel, bias, h0, mask)

    def _forward_gate_major(self, xp, x, kernel, recurrent_kernel, bias, h0):
        batch, timesteps, _ = x.shape
        states, self.saved = _gru_loops.forward(
            xp,
            x,
            self.go_backwards,
            kernel,
            recurrent_kernel,
            bias,
            h0,
            self.activation,
            self.recurrent_activation,
            keep=bool(self.needs_input_grad),  # recorded: backward needs the per-step values
        )
        self.shape = (batch, timesteps, recurrent_kernel.shape[0])
        if self.saved is None and xp is np:
            # predict: a view, since most layers keep only the last state (no 3 MB copy);
            # device arrays stay contiguous for the kernels that read them
            return states[1:].transpose(1, 0, 2), states[-1].copy()
        return _batch_major(xp, states[1:]), states[-1].copy()

    @_serial_blas_loop
    def _forward_general(self, x, kernel, recurrent_kernel, bias, h0, mask):
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
        mask_tm = _time_major_mask(mask, self.go_backwards)
        u2 = 2 * units
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

    def backward(self, gy_seq, gy_last):
        if self.gate_major:
            return self._backward_gate_major(gy_seq, gy_last)
        return self._backward_general(gy_seq, gy_last)

    def _backward_gate_major(self, gy_seq, gy_last):
        xp = get_array_module(gy_seq)
        batch, timesteps, _ = self.shape
        need = self.needs_input_grad or (True,) * (5 if self.has_bias else 4)
        if not self.has_bias:
            need = (*need[:3], False, need[3])
        g_seq = xp.ascontiguousarray(gy_seq.transpose(1, 0, 2))
        g_x, g_kernel, g_rk, g_bias, g_h0 = _gru_loops.backward(
            xp,
            self.saved,
            g_seq,
            gy_last,
            self.activation,
            self.recurrent_activation,
            need,
        )
        if g_x is not None:
            g_x = g_x.reshape(timesteps, batch, -1).transpose(1, 0, 2)
            g_x = xp.ascontiguousarray(g_x[:, ::-1] if self.go_backwards else g_x)
        grads = [g_x, g_kernel, g_rk]
        if self.has_bias:
            grads.append(g_bias)
        grads.append(g_h0)
        return tuple(grads)

    @_serial_blas_loop
    def _backward_general(self, gy_seq, gy_last):
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
        if self.has_mask:
            grads.append(None)  # the mask
        return tuple(grads)


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
    return _shape.stack(outputs, axis=1), h


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
