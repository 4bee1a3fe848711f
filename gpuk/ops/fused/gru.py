"""Fused GRU: the whole sequence in one persistent kernel launch, or one fused kernel per step.

Generic twin: ``gpuk.ops.recurrent.gru`` (same arguments minus ``fused``, same results).
Kernels: ``kernels/gru.cu``. The input projection ``x @ kernel`` for all time steps and the
weight gradients are single large matrix products (cuBLAS through ``xp.matmul``); only the
recurrence runs in the kernels:

* ``gru_sequence_forward`` / ``gru_sequence_backward``: persistent, one launch per call and
  direction whatever the sequence length; the recurrent weights sit in shared memory when they
  fit on chip and are read from global memory otherwise
  (:func:`gpuk.ops.fused.launch.gru_sequence_config`). Recurrent dropout masks are applied
  inside them.
* ``gru_step_forward`` / ``gru_step_backward``: the gate math of one step after the matrix
  products, used only when not even one batch row's buffers fit in shared memory (thousands
  of units); the recurrent product stays a matrix product per step.

Keras's equations (keras-formats.md section 4), gates in z, r, h order. A masked step
(``mask[b, t]`` false) keeps the previous state and repeats the last unmasked output (zeros
before the first unmasked step), Keras 3's ``zero_output_for_mask=False``.
``go_backwards`` processes the time axis reversed and returns the outputs in processed order,
as Keras does.
"""

import functools

import numpy as np

from gpuk import _array
from gpuk.autograd import Function
from gpuk.ops.fused import _recurrent as common
from gpuk.ops.fused import launch
from gpuk.ops.fused.protocol import require

KERNEL_FILE = "gru.cu"
_SEQUENCE_KERNELS = ("gru_sequence_forward", "gru_sequence_backward")
_STEP_KERNELS = ("gru_step_forward", "gru_step_backward")


def supports(config):
    """None when the fused GRU runs ``config`` (a :class:`RecurrentConfig`), else why not.

    Both ``reset_after`` variants, every :class:`~gpuk.ops._recurrent_activation.Activation`,
    masks, ``go_backwards`` and dropout masks are fused. Recurrent dropout runs in the
    persistent kernels only, not in the per-step fallback for hidden sizes whose batch row does
    not fit in shared memory.
    """
    reason = common.common_reason(
        config, "Fused GRU kernels", ("activation", "recurrent_activation")
    )
    if reason is not None or not config.has_recurrent_dropout:
        return reason
    max_shared, sm_count = launch.device_limits(config.xp)
    itemsize = np.dtype(config.dtype).itemsize
    sequence = launch.gru_sequence_config(
        max(1, config.batch_size), config.units, itemsize, max_shared, sm_count
    )
    if sequence is None:
        return (
            f"has_recurrent_dropout: recurrent dropout runs in the persistent GRU kernels only, "
            f"and one batch row of {config.units} units of {np.dtype(config.dtype)} does not "
            "fit in shared memory"
        )
    return None


_kernel = functools.partial(launch.typed_kernel, KERNEL_FILE)


class GRUFused(Function):
    """Whole-sequence GRU over the fused kernels (twin: ``gpuk.ops.recurrent.gru``).

    Inputs: ``inputs (B, T, D), kernel (D, 3U), recurrent_kernel (U, 3U), bias, initial_state
    (B, U)`` (one dtype) and optionally ``mask (B, T)`` (no gradient). Params ``x_masks`` /
    ``h_masks``: per-gate dropout masks ``(B, 3D)`` / ``(B, 3U)`` or None. Outputs: the
    sequence (B, T, U) and the last state (B, U).
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
        bias_in, bias_rec = self._split_bias(bias, units, dtype, xp)
        xproj = common.project(xp, x, kernel, self.x_masks, 3)
        xproj += bias_in
        mask_u8 = (
            xp.ones((1,), np.uint8) if mask is None else xp.ascontiguousarray(mask.astype(np.uint8))
        )
        h0 = xp.ascontiguousarray(h0, dtype=dtype)
        recurrent_kernel = xp.ascontiguousarray(recurrent_kernel)
        hs = xp.empty((batch, steps, units), dtype)
        cache = xp.empty((batch, steps, 4 * units), dtype)
        max_shared, sm_count = launch.device_limits(xp)
        config = launch.gru_sequence_config(
            batch, units, np.dtype(dtype).itemsize, max_shared, sm_count
        )
        flags = (np.int32(self.reset_after), np.int32(self.act), np.int32(self.ract))
        flags += (np.int32(mask is not None),)
        shared_flag = (np.int32(config["weights_shared"]),) if config is not None else ()
        hmask = self.h_masks if self.h_masks is not None else xp.ones((1,), dtype)
        hflag = (np.int32(self.h_masks is not None),)
        if config is None and self.h_masks is not None:
            raise ValueError(
                "gru_fused: recurrent dropout masks need the persistent kernels, and one batch "
                "row does not fit in shared memory (see supports())."
            )
        if config is not None and steps > 0:
            _kernel("gru_sequence_forward", dtype, xp)(
                config["grid"],
                config["block_forward"],
                (xproj, recurrent_kernel, bias_rec, h0, mask_u8, hmask, hs, cache)
                + (np.int32(batch), np.int32(steps), np.int32(units), np.int32(config["rows"]))
                + shared_flag
                + flags
                + hflag,
                shared_mem=config["shared_forward"],
            )
        elif steps > 0:
            self._step_forward(xproj, recurrent_kernel, bias_rec, h0, mask_u8, hs, cache, flags)
        self.saved = (x, kernel, recurrent_kernel, h0, mask_u8, hmask, hs, cache, config)
        last = xp.ascontiguousarray(hs[:, -1] if steps > 0 else h0)
        self.seen = None
        if mask is not None:
            # Keras repeats the last unmasked output; before the first one it outputs zeros,
            # not the carried initial state.
            self.seen = (xp.cumsum(mask_u8, axis=1) > 0)[:, :, None]
            return xp.where(self.seen, hs, 0).astype(dtype, copy=False), last
        return hs, last

    def _split_bias(self, bias, units, dtype, xp):
        if self.reset_after:
            bias = bias.reshape(2, 3 * units)
            return bias[0], xp.ascontiguousarray(bias[1], dtype=dtype)
        return bias.reshape(3 * units), xp.zeros((3 * units,), dtype)

    def _step_forward(self, xproj, recurrent_kernel, bias_rec, h0, mask_u8, hs, cache, flags):
        xp = _array.get_array_module(xproj)
        batch, steps, units = hs.shape
        config = launch.gru_step_config(batch, units)
        kernel = _kernel("gru_step_forward", hs.dtype, xp)
        rh = xp.empty((batch, units), hs.dtype)
        for t in range(steps):
            hprev = h0 if t == 0 else hs[:, t - 1]
            hprev_c = xp.ascontiguousarray(hprev)
            if self.reset_after:
                rec = xp.matmul(hprev_c, recurrent_kernel) + bias_rec
                phases = (1,)
            else:
                rec = xp.matmul(hprev_c, recurrent_kernel[:, : 2 * units])
                phases = (0, 1)
            for phase in phases:
                if phase == 1 and not self.reset_after:
                    rec = xp.matmul(rh, recurrent_kernel[:, 2 * units :])
                kernel(
                    config["grid"],
                    config["block"],
                    (xproj[:, t], xp.ascontiguousarray(rec), hprev_c, mask_u8, hs[:, t])
                    + (cache[:, t], rh, np.int32(batch), np.int32(steps), np.int32(units))
                    + (np.int32(t), np.int32(phase))
                    + flags,
                )

    def backward(self, gseq, glast):
        x, kernel, recurrent_kernel, h0, mask_u8, hmask, hs, cache, config = self.saved
        xp = _array.get_array_module(hs)
        dtype = hs.dtype
        batch, steps, units = hs.shape
        gseq = xp.zeros_like(hs) if gseq is None else xp.ascontiguousarray(gseq, dtype=dtype)
        if self.seen is not None:
            gseq = xp.where(self.seen, gseq, 0).astype(dtype, copy=False)
        glast = xp.zeros_like(h0) if glast is None else xp.ascontiguousarray(glast, dtype=dtype)
        if steps == 0:
            return (None, None, None, None, glast, None)
        flags = (np.int32(self.reset_after), np.int32(self.act), np.int32(self.ract))
        flags += (np.int32(mask_u8.size > 1 or self.has_mask),)
        gxproj = xp.empty((batch, steps, 3 * units), dtype)
        gh0 = xp.empty_like(h0)
        if config is not None:
            wt = xp.ascontiguousarray(recurrent_kernel.T)
            _kernel("gru_sequence_backward", dtype, xp)(
                config["grid"],
                config["block_backward"],
                (wt, h0, hs, cache, mask_u8, hmask, gseq, glast, gxproj, gh0)
                + (np.int32(batch), np.int32(steps), np.int32(units), np.int32(config["rows"]))
                + (np.int32(config["weights_shared"]),)
                + flags
                + (np.int32(self.h_masks is not None),),
                shared_mem=config["shared_backward"],
            )
        else:
            self._step_backward(recurrent_kernel, h0, hs, cache, mask_u8, gseq, glast, gxproj)
            gh0 = self._gh0
        hprev = common.previous_states(xp, h0, hs)
        r = cache[:, :, units : 2 * units]
        need = self.needs_input_grad
        grad_x, grad_kernel = common.project_backward(
            xp, x, kernel, self.x_masks, gxproj, 3, need[0], need[1]
        )
        if grad_x is not None and self.go_backwards:
            grad_x = grad_x[:, ::-1]
        hm = self.h_masks
        if self.reset_after:
            grec = gxproj.copy()
            grec[:, :, 2 * units :] *= r
            grad_rec = common.recurrent_grad(xp, hprev, grec, hm, 3)
            g2 = gxproj.reshape(-1, 3 * units)
            grad_bias = xp.stack([g2.sum(axis=0), grec.reshape(-1, 3 * units).sum(axis=0)])
        else:
            grad_zr = common.recurrent_grad(
                xp, hprev, gxproj[:, :, : 2 * units], None if hm is None else hm[:, : 2 * units], 2
            )
            grad_h = common.recurrent_grad(
                xp,
                r * hprev,
                gxproj[:, :, 2 * units :],
                None if hm is None else hm[:, 2 * units :],
                1,
            )
            grad_rec = xp.concatenate([grad_zr, grad_h], axis=1)
            grad_bias = gxproj.reshape(-1, 3 * units).sum(axis=0)
        grads = (grad_x, grad_kernel, grad_rec, grad_bias.reshape(self.bias_shape), gh0)
        return grads + ((None,) if self.has_mask else ())

    def _step_backward(self, recurrent_kernel, h0, hs, cache, mask_u8, gseq, glast, gxproj):
        xp = _array.get_array_module(hs)
        batch, steps, units = hs.shape
        config = launch.gru_step_config(batch, units)
        kernel = _kernel("gru_step_backward", hs.dtype, xp)
        flags = (np.int32(self.reset_after), np.int32(self.act), np.int32(self.ract))
        flags += (np.int32(self.has_mask),)
        gh = glast.copy()
        grec = xp.empty((batch, 3 * units), hs.dtype)
        ghd = xp.empty((batch, units), hs.dtype)
        drh = xp.zeros((batch, units), hs.dtype)
        for t in range(steps - 1, -1, -1):
            gh = gh + gseq[:, t]
            hprev = xp.ascontiguousarray(h0 if t == 0 else hs[:, t - 1])
            phases = (1,) if self.reset_after else (0, 1)
            for phase in phases:
                if phase == 1 and not self.reset_after:
                    drh = xp.matmul(grec[:, 2 * units :], recurrent_kernel[:, 2 * units :].T)
                kernel(
                    config["grid"],
                    config["block"],
                    (cache[:, t], hprev, mask_u8, gh, drh, gxproj[:, t], grec, ghd)
                    + (np.int32(batch), np.int32(steps), np.int32(units), np.int32(t))
                    + (np.int32(phase),)
                    + flags,
                )
            if self.reset_after:
                gh = ghd + xp.matmul(grec, recurrent_kernel.T)
            else:
                gh = ghd + xp.matmul(grec[:, : 2 * units], recurrent_kernel[:, : 2 * units].T)
        self._gh0 = gh


def gru_fused(
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
    """GRU over a whole sequence on the fused CUDA kernels (twin: ``gpuk.ops.recurrent.gru``).

    Args:
        inputs: (batch, timesteps, features).
        kernel: (features, 3 * units), gate blocks z, r, h.
        recurrent_kernel: (units, 3 * units).
        bias: (2, 3 * units) if ``reset_after`` else (3 * units,); None for no bias.
        initial_state: (batch, units); None for zeros.
        mask: optional (batch, timesteps) booleans; a masked step keeps the previous state.
        activation, recurrent_activation: op names of ``Activation`` (see :func:`supports`).
        reset_after: Keras's GRU variant (True: reset gate after the recurrent product).
        go_backwards: process time reversed; outputs are in processed order, as in Keras.
        input_dropout_masks: None or three (batch, features) multipliers (gates z, r, h).
        recurrent_dropout_masks: None or three (batch, units) multipliers of ``h_prev`` in each
            gate's recurrent product (Keras's ``GRUCell`` with ``recurrent_dropout``); applied
            inside the persistent kernels.

    Operands of mixed float types (float64 inputs, float32 weights) are computed in their
    promoted type, as the generic op does; gradients return in each operand's own type.

    Returns:
        ``(sequence_outputs (B, T, U), last_state (B, U))`` as Tensors.

    Shapes are not checked here: the public op ``gpuk.ops.recurrent.gru`` checks them.

    Raises:
        FusedUnsupported: (a ValueError and a RuntimeError) when :func:`supports` declines,
            e.g. on NumPy arrays (the fused kernels need a GPU).
    """
    config = common.recurrent_config(
        "gru",
        inputs,
        kernel,
        recurrent_kernel,
        bias,
        [initial_state],
        mask,
        activation=activation,
        recurrent_activation=recurrent_activation,
        reset_after=bool(reset_after),
        go_backwards=bool(go_backwards),
        has_initial_state=initial_state is not None,
        has_input_dropout=input_dropout_masks is not None,
        has_recurrent_dropout=recurrent_dropout_masks is not None,
    )
    require("gru_fused", supports, config)
    xp, dtype, units = config.xp, config.dtype, config.units
    bias_shape = (2, 3 * units) if reset_after else (3 * units,)
    if bias is None:
        bias = xp.zeros(bias_shape, dtype)
    if initial_state is None:
        initial_state = xp.zeros((config.batch_size, units), dtype)
    # The kernel template follows one dtype and reads every buffer as it: unify them first.
    args = common.cast_all([inputs, kernel, recurrent_kernel, bias, initial_state], dtype)
    if mask is not None:
        args.append(_array.asarray(common.data(mask), xp=xp).astype(bool))
    return GRUFused.apply(
        *args,
        act=common.activation_code(activation),
        ract=common.activation_code(recurrent_activation),
        reset_after=bool(reset_after),
        go_backwards=bool(go_backwards),
        has_mask=mask is not None,
        bias_shape=bias_shape,
        x_masks=common.dropout_masks(input_dropout_masks, 3, dtype, xp),
        h_masks=common.dropout_masks(recurrent_dropout_masks, 3, dtype, xp),
    )
