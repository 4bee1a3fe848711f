"""Choose, per call, the fused kernel, the whole-sequence Function or the composed oracle.

Whether the fused kernel runs is :func:`gpuk.ops.fused.registry.select`'s answer for the call's
:class:`~gpuk.ops.fused._recurrent.RecurrentConfig`; the rest is decided here.
"""

from gpuk.ops.fused import registry
from gpuk.ops.fused._recurrent import recurrent_config
from gpuk.ops.recurrent._common import _data

_GATES = {"gru": 3, "lstm": 4, "simple_rnn": 1}


def _check_dropout_masks(cell, dropout, batch, features, units):
    """The dropout masks' count and shapes, checked once here for every implementation."""
    gates = _GATES[cell]
    for argument, masks in dropout.items():
        size = units if argument.startswith("recurrent") else features
        group = masks if isinstance(masks, (list, tuple)) else [masks]
        if isinstance(masks, (list, tuple)) and len(masks) != gates:
            raise ValueError(f"{cell}: {argument} must hold {gates} masks, received {len(masks)}")
        for mask in group:
            if tuple(_data(mask).shape) != (batch, size):
                raise ValueError(
                    f"{cell}: each of {argument} must have shape {(batch, size)}, received "
                    f"{tuple(_data(mask).shape)}"
                )


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
    batch, _, features = _data(inputs).shape
    units = recurrent_kernel.shape[0]
    _check_dropout_masks(cell, dropout, batch, features, units)
    config = recurrent_config(
        cell,
        inputs,
        kernel,
        recurrent_kernel,
        bias,
        states,
        mask,
        go_backwards=bool(go_backwards),
        has_initial_state=given_state,
        has_input_dropout=any(k.startswith("input_dropout") for k in dropout),
        has_recurrent_dropout=any(k.startswith("recurrent_dropout") for k in dropout),
        **cell_params,
    )
    fused_op, _ = registry.select(cell, config, fused)
    arguments = (inputs, kernel, recurrent_kernel, bias, *states, mask)
    if fused_op is not None:
        return fused_op(*arguments, go_backwards=go_backwards, **dropout, **cell_params)
    activations = [v for k, v in cell_params.items() if k.endswith("activation")]
    if dropout or not all(isinstance(a, str) for a in activations):
        return composed(*arguments, go_backwards=go_backwards, **dropout, **cell_params)
    weights = (kernel, recurrent_kernel) + ((bias,) if bias is not None else ())
    masks = () if mask is None else (mask,)
    return sequence.apply(
        inputs,
        *weights,
        *states,
        *masks,
        go_backwards=bool(go_backwards),
        has_bias=bias is not None,
        has_mask=mask is not None,
        **cell_params,
    )
