"""Fused SimpleRNN: the whole sequence in one persistent kernel launch per direction.

Generic twin: ``gpuk.ops.recurrent.simple_rnn`` (same arguments minus ``fused``, same
results). Kernels: ``simple_rnn_sequence_forward`` / ``simple_rnn_sequence_backward`` in
``kernels/simple_rnn.cu``; ``x @ kernel`` for all steps and the weight gradients are single
matrix products, the recurrence runs in the kernels with the recurrent kernel in shared memory
when it fits, else read from global memory
(:func:`gpuk.ops.fused.launch.recurrent_sequence_config`).
The number of launches of a call does not depend on the sequence length.

``h = act(x @ kernel + bias + (h_prev * recurrent_dropout_mask) @ recurrent_kernel)``; masks,
``go_backwards`` and the outputs follow Keras 3 as in ``gpuk.ops.fused.lstm``.
"""

import functools

import numpy as np

from gpuk import _array
from gpuk.autograd import Function
from gpuk.ops.fused import _recurrent as common
from gpuk.ops.fused import launch
from gpuk.ops.fused.protocol import require

KERNEL_FILE = "simple_rnn.cu"
GATES = 1
#: Elements of dynamic shared memory per batch row: the state and the recurrent product
#: (forward), the state gradient and the pre-activation gradient (backward).
ROW_ELEMENTS = 2


def supports(config):
    """None when the fused SimpleRNN runs ``config`` (a :class:`RecurrentConfig`), else why
    not (as :func:`gpuk.ops.fused.lstm.supports`)."""
    return common.common_reason(
        config, "Fused SimpleRNN kernels", ("activation",)
    ) or common.shared_memory_reason(config, GATES, ROW_ELEMENTS)


_kernel = functools.partial(launch.typed_kernel, KERNEL_FILE)


class SimpleRNNFused(Function):
    """Whole-sequence SimpleRNN over the fused kernels (twin: ``gpuk.ops.recurrent.simple_rnn``).

    Inputs: ``inputs (B, T, D), kernel (D, U), recurrent_kernel (U, U), bias (U,), h0 (B, U)``
    (one dtype) and optionally ``mask (B, T)``. Outputs: the sequence and the last state.
    """

    def forward(self, x, kernel, recurrent_kernel, bias, h0, mask=None):
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
        hmask = self.h_masks if self.h_masks is not None else xp.ones((1,), dtype)
        hs = xp.empty((batch, steps, units), dtype)
        config = common.sequence_config(batch, units, dtype, xp, GATES, ROW_ELEMENTS * units)
        self.flags = (np.int32(config["weights_shared"]), np.int32(self.act))
        self.flags += (np.int32(mask is not None), np.int32(self.h_masks is not None))
        if steps > 0:
            _kernel("simple_rnn_sequence_forward", dtype, xp)(
                config["grid"],
                config["block_forward"],
                (xproj, xp.ascontiguousarray(recurrent_kernel), h0, mask_u8, hmask, hs)
                + (np.int32(batch), np.int32(steps), np.int32(units), np.int32(config["rows"]))
                + self.flags,
                shared_mem=config["shared"],
            )
        self.saved = (x, kernel, recurrent_kernel, h0, mask_u8, hmask, hs, config)
        last = xp.ascontiguousarray(hs[:, -1]) if steps > 0 else h0.copy()
        out = hs if self.seen is None else xp.where(self.seen, hs, 0).astype(dtype, copy=False)
        return out, last

    def backward(self, gseq, glast):
        x, kernel, recurrent_kernel, h0, mask_u8, hmask, hs, config = self.saved
        xp = _array.get_array_module(hs)
        dtype = hs.dtype
        batch, steps, units = hs.shape
        gseq = xp.zeros_like(hs) if gseq is None else xp.ascontiguousarray(gseq, dtype=dtype)
        if self.seen is not None:
            gseq = xp.ascontiguousarray(xp.where(self.seen, gseq, 0).astype(dtype, copy=False))
        glast = xp.zeros_like(h0) if glast is None else xp.ascontiguousarray(glast, dtype)
        mask_grad = (None,) if self.has_mask else ()
        if steps == 0:
            return (None, None, None, None, glast) + mask_grad
        gxproj = xp.empty((batch, steps, units), dtype)
        gh0 = xp.empty_like(h0)
        _kernel("simple_rnn_sequence_backward", dtype, xp)(
            config["grid"],
            config["block_backward"],
            (xp.ascontiguousarray(recurrent_kernel.T), hs, mask_u8, hmask, gseq, glast)
            + (gxproj, gh0, np.int32(batch), np.int32(steps), np.int32(units))
            + (np.int32(config["rows"]),)
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
        grad_bias = gxproj.reshape(-1, units).sum(axis=0)
        return (grad_x, grad_kernel, grad_rec, grad_bias, gh0) + mask_grad


def simple_rnn_fused(
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
    """SimpleRNN over a whole sequence on the fused kernels (twin:
    ``gpuk.ops.recurrent.simple_rnn``).

    Args:
        inputs: (batch, timesteps, features). kernel: (features, units).
        recurrent_kernel: (units, units). bias: (units,) or None.
        initial_state: (batch, units) or None for zeros.
        mask: optional (batch, timesteps) booleans; a masked step keeps the state.
        activation: activation name (see :func:`supports`).
        go_backwards: process time reversed; outputs are in processed order, as in Keras.
        input_dropout_mask: None or a (batch, features) multiplier of the inputs.
        recurrent_dropout_mask: None or a (batch, units) multiplier of ``h_prev``.

    Returns:
        ``(sequence_outputs (B, T, U), last_state (B, U))`` as Tensors.

    Shapes are not checked here: the public op ``gpuk.ops.recurrent.simple_rnn`` checks them.

    Raises:
        FusedUnsupported: (a ValueError and a RuntimeError) when :func:`supports` declines,
            e.g. on NumPy arrays (the fused kernels need a GPU).
    """
    config = common.recurrent_config(
        "simple_rnn",
        inputs,
        kernel,
        recurrent_kernel,
        bias,
        [initial_state],
        mask,
        activation=activation,
        go_backwards=bool(go_backwards),
        has_initial_state=initial_state is not None,
        has_input_dropout=input_dropout_mask is not None,
        has_recurrent_dropout=recurrent_dropout_mask is not None,
    )
    require("simple_rnn_fused", supports, config)
    xp, dtype, units = config.xp, config.dtype, config.units
    if bias is None:
        bias = xp.zeros((units,), dtype)
    if initial_state is None:
        initial_state = xp.zeros((config.batch_size, units), dtype)
    args = common.cast_all([inputs, kernel, recurrent_kernel, bias, initial_state], dtype)
    if mask is not None:
        args.append(_array.asarray(common.data(mask), xp=xp).astype(bool))
    return SimpleRNNFused.apply(
        *args,
        act=common.activation_code(activation),
        go_backwards=bool(go_backwards),
        has_mask=mask is not None,
        x_masks=common.dropout_masks(input_dropout_mask, GATES, dtype, xp),
        h_masks=common.dropout_masks(recurrent_dropout_mask, GATES, dtype, xp),
    )
