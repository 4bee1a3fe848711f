"""Fused LSTM: the whole sequence in one persistent kernel launch per direction.

Generic twin: ``gpuk.ops.recurrent.lstm`` (same arguments minus ``fused``, same results).
Kernels: ``lstm_sequence_forward`` / ``lstm_sequence_backward`` in ``kernels/lstm.cu``. The
input projection ``x @ kernel`` for all steps and the weight gradients are single large matrix
products (one per gate with per-gate input dropout masks); only the recurrence runs in the
kernels, with the recurrent kernel in shared memory when it fits and read from global memory
otherwise (:func:`gpuk.ops.fused.launch.recurrent_sequence_config`). The number of launches of
a call does not depend on the sequence length.

Keras's equations, gates i, f, c, o: ``c = f * c_prev + i * act(x_c + h_prev @ U_c)``,
``h = o * act(c)``. Masked steps (``mask[b, t]`` false) keep both states; the sequence output
repeats the last unmasked output (zeros before the first one), Keras 3's
``zero_output_for_mask=False``. ``go_backwards`` processes time reversed and returns the
outputs in processed order. ``recurrent_dropout_masks`` (four ``(B, U)`` multipliers, one per
gate, as Keras's ``LSTMCell`` draws them) scale ``h_prev`` inside the kernel;
``input_dropout_masks`` (four ``(B, D)``) scale the inputs of each gate's projection.
"""

import functools

import numpy as np

from gpuk import _array
from gpuk.autograd import Function
from gpuk.ops.fused import _recurrent as common
from gpuk.ops.fused import launch
from gpuk.ops.fused.protocol import require

KERNEL_FILE = "lstm.cu"
GATES = 4
#: Elements of dynamic shared memory per batch row: h, c and 4U gate values (forward); dh, dc
#: and 4U gate gradients (backward).
ROW_ELEMENTS = 6


def supports(config):
    """None when the fused LSTM runs ``config`` (a :class:`RecurrentConfig`), else why not.

    Every :class:`~gpuk.ops._recurrent_activation.Activation`, masks, ``go_backwards`` and
    dropout masks are fused; a batch row's buffers must fit in shared memory.
    """
    return common.common_reason(
        config, "Fused LSTM kernels", ("activation", "recurrent_activation")
    ) or common.shared_memory_reason(config, GATES, ROW_ELEMENTS)


_kernel = functools.partial(launch.typed_kernel, KERNEL_FILE)


class LSTMFused(Function):
    """Whole-sequence LSTM over the fused kernels (twin: ``gpuk.ops.recurrent.lstm``).

    Inputs: ``inputs (B, T, D), kernel (D, 4U), recurrent_kernel (U, 4U), bias (4U,), h0, c0``
    (one dtype) and optionally ``mask (B, T)`` (no gradient). Outputs: the sequence, last h,
    last c.
    """

    def forward(self, x, kernel, recurrent_kernel, bias, h0, c0, mask=None):
        xp = _array.get_array_module(x)
        dtype = x.dtype
        batch, steps, _ = x.shape
        units = recurrent_kernel.shape[0]
        if self.go_backwards:
            x = x[:, ::-1]
            mask = None if mask is None else mask[:, ::-1]
        x = xp.ascontiguousarray(x)
        xproj = common.project(xp, x, kernel, self.x_masks, GATES)
        xproj += bias
        mask_u8, self.seen = common.time_mask(xp, mask)
        h0 = xp.ascontiguousarray(h0)
        c0 = xp.ascontiguousarray(c0)
        hmask = self.h_masks if self.h_masks is not None else xp.ones((1,), dtype)
        hs = xp.empty((batch, steps, units), dtype)
        cs = xp.empty((batch, steps, units), dtype)
        cache = xp.empty((batch, steps, 5 * units), dtype)
        config = common.sequence_config(batch, units, dtype, xp, GATES, ROW_ELEMENTS * units)
        self.flags = (np.int32(config["weights_shared"]), np.int32(self.act), np.int32(self.ract))
        self.flags += (np.int32(mask is not None), np.int32(self.h_masks is not None))
        if steps > 0:
            _kernel("lstm_sequence_forward", dtype, xp)(
                config["grid"],
                config["block_forward"],
                (xproj, xp.ascontiguousarray(recurrent_kernel), h0, c0, mask_u8, hmask)
                + (hs, cs, cache, np.int32(batch), np.int32(steps), np.int32(units))
                + (np.int32(config["rows"]),)
                + self.flags,
                shared_mem=config["shared"],
            )
        self.saved = (x, kernel, recurrent_kernel, h0, c0, mask_u8, hmask, hs, cs, cache, config)
        last_h = xp.ascontiguousarray(hs[:, -1]) if steps > 0 else h0.copy()
        last_c = xp.ascontiguousarray(cs[:, -1]) if steps > 0 else c0.copy()
        out = hs if self.seen is None else xp.where(self.seen, hs, 0).astype(dtype, copy=False)
        return out, last_h, last_c

    def backward(self, gseq, glast_h, glast_c):
        x, kernel, recurrent_kernel, h0, c0, mask_u8, hmask, hs, cs, cache, config = self.saved
        xp = _array.get_array_module(hs)
        dtype = hs.dtype
        batch, steps, units = hs.shape
        gseq = xp.zeros_like(hs) if gseq is None else xp.ascontiguousarray(gseq, dtype=dtype)
        if self.seen is not None:
            gseq = xp.ascontiguousarray(xp.where(self.seen, gseq, 0).astype(dtype, copy=False))
        glast_h = xp.zeros_like(h0) if glast_h is None else xp.ascontiguousarray(glast_h, dtype)
        glast_c = xp.zeros_like(c0) if glast_c is None else xp.ascontiguousarray(glast_c, dtype)
        mask_grad = (None,) if self.has_mask else ()
        if steps == 0:
            return (None, None, None, None, glast_h, glast_c) + mask_grad
        gxproj = xp.empty((batch, steps, GATES * units), dtype)
        gh0, gc0 = xp.empty_like(h0), xp.empty_like(c0)
        _kernel("lstm_sequence_backward", dtype, xp)(
            config["grid"],
            config["block_backward"],
            (xp.ascontiguousarray(recurrent_kernel.T), c0, cs, cache, mask_u8, hmask, gseq)
            + (glast_h, glast_c, gxproj, gh0, gc0, np.int32(batch), np.int32(steps))
            + (np.int32(units), np.int32(config["rows"]))
            + self.flags,
            shared_mem=config["shared"],
        )
        need = self.needs_input_grad
        grad_x, grad_kernel = common.project_backward(
            xp, x, kernel, self.x_masks, gxproj, GATES, need[0], need[1]
        )
        if grad_x is not None and self.go_backwards:
            grad_x = grad_x[:, ::-1]
        grad_rec = None
        if need[2]:
            hprev = common.previous_states(xp, h0, hs)
            grad_rec = common.recurrent_grad(xp, hprev, gxproj, self.h_masks, GATES)
        grad_bias = gxproj.reshape(-1, GATES * units).sum(axis=0)
        return (grad_x, grad_kernel, grad_rec, grad_bias, gh0, gc0) + mask_grad


def lstm_fused(
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
    """LSTM over a whole sequence on the fused kernels (twin: ``gpuk.ops.recurrent.lstm``).

    Args:
        inputs: (batch, timesteps, features). kernel: (features, 4 * units).
        recurrent_kernel: (units, 4 * units). bias: (4 * units,) or None.
        initial_state_h, initial_state_c: (batch, units) or None for zeros.
        mask: optional (batch, timesteps) booleans; a masked step keeps both states.
        activation, recurrent_activation: activation names (see :func:`supports`).
        go_backwards: process time reversed; outputs are in processed order, as in Keras.
        input_dropout_masks: None or four (batch, features) multipliers (gates i, f, c, o).
        recurrent_dropout_masks: None or four (batch, units) multipliers of ``h_prev``.

    Operands of mixed float types are computed in their promoted type (gradients return in
    each operand's own type).

    Returns:
        ``(sequence_outputs (B, T, U), last_h (B, U), last_c (B, U))`` as Tensors.

    Shapes are not checked here: the public op ``gpuk.ops.recurrent.lstm`` checks them.

    Raises:
        FusedUnsupported: (a ValueError and a RuntimeError) when :func:`supports` declines,
            e.g. on NumPy arrays (the fused kernels need a GPU).
    """
    config = common.recurrent_config(
        "lstm",
        inputs,
        kernel,
        recurrent_kernel,
        bias,
        [initial_state_h, initial_state_c],
        mask,
        activation=activation,
        recurrent_activation=recurrent_activation,
        go_backwards=bool(go_backwards),
        has_initial_state=initial_state_h is not None or initial_state_c is not None,
        has_input_dropout=input_dropout_masks is not None,
        has_recurrent_dropout=recurrent_dropout_masks is not None,
    )
    require("lstm_fused", supports, config)
    xp, dtype, units, batch = config.xp, config.dtype, config.units, config.batch_size
    if bias is None:
        bias = xp.zeros((4 * units,), dtype)
    if initial_state_h is None:
        initial_state_h = xp.zeros((batch, units), dtype)
    if initial_state_c is None:
        initial_state_c = xp.zeros((batch, units), dtype)
    args = common.cast_all(
        [inputs, kernel, recurrent_kernel, bias, initial_state_h, initial_state_c], dtype
    )
    if mask is not None:
        args.append(_array.asarray(common.data(mask), xp=xp).astype(bool))
    return LSTMFused.apply(
        *args,
        act=common.activation_code(activation),
        ract=common.activation_code(recurrent_activation),
        go_backwards=bool(go_backwards),
        has_mask=mask is not None,
        x_masks=common.dropout_masks(input_dropout_masks, GATES, dtype, xp),
        h_masks=common.dropout_masks(recurrent_dropout_masks, GATES, dtype, xp),
    )
