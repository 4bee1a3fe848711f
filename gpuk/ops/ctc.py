"""Keras 3's CTC ops: ``ctc_loss`` (differentiable) and ``ctc_decode`` (greedy).

The loss runs the CTC forward algorithm in log space, keeping for every label position two
scores: ending in a blank ("phi", one more slot than labels) or ending on the label itself
("emit"). Each time step is a few elementwise ops over the batch, so the loop is T steps of
device work with no host syncs, differentiated by the tape.
"""

import numpy as np

from gpuk.autograd import Tensor, as_tensor
from gpuk.ops._util import xp_of
from gpuk.ops.elementwise import logaddexp
from gpuk.ops.math import add, multiply, subtract
from gpuk.ops.nn import log_softmax
from gpuk.ops.products import einsum
from gpuk.ops.shaping import cast, concatenate, getitem, one_hot

__all__ = ["ctc_decode", "ctc_loss"]

_LOG_EPS = -1e5  # "log zero" that keeps every score finite


def _ints(x, like):
    data = as_tensor(x).data
    return xp_of(like).asarray(data).astype(np.int64)


def _blend(pad, kept, new):
    """``kept`` where ``pad`` (1.0 past a sequence's end), else ``new``."""
    return add(multiply(kept, pad), multiply(new, subtract(1.0, pad)))


def _phi_plus(phi, added):
    """``phi[:, 1:]`` combined (log-add) with ``added``; ``phi[:, 0]`` unchanged."""
    return concatenate([getitem(phi, (slice(None), slice(0, 1))),
                        logaddexp(getitem(phi, (slice(None), slice(1, None))), added)],
                       axis=1)  # fmt: skip


def ctc_loss(target, output, target_length, output_length, mask_index=0):
    """Connectionist temporal classification loss per batch entry.

    Args:
        target: int labels ``(batch, max_label_length)``.
        output: logits ``(batch, max_time, num_classes)`` (log-softmax is applied here).
        target_length, output_length: ``(batch,)`` valid lengths.
        mask_index: the blank class.

    Returns:
        ``(batch,)`` negative log-likelihoods; differentiable in ``output``.
    """
    output = as_tensor(output)
    if output.dtype.kind != "f":
        output = cast(output, "float32")
    xp = xp_of(output.data)
    labels = _ints(target, output.data)
    batch, steps, classes = output.shape
    n = labels.shape[1]
    dtype = output.dtype
    label_len = _ints(target_length, output.data)
    out_len = _ints(output_length, output.data)
    pad_time = (xp.arange(steps)[None, :] >= out_len[:, None]).astype(dtype)  # (B, T)
    repeat = xp.zeros((batch, n), dtype=dtype)
    repeat[:, :-1] = labels[:, :-1] == labels[:, 1:]
    logp = log_softmax(output, axis=-1)
    blank = getitem(logp, (slice(None), slice(None), slice(mask_index, mask_index + 1)))
    emit_all = einsum(
        "btk,bnk->btn", logp, Tensor(one_hot(Tensor(labels), classes, dtype=dtype).data)
    )
    phi = xp.full((batch, n + 1), _LOG_EPS, dtype=dtype)
    phi[:, 0] = 0.0
    phi, emit = Tensor(phi), Tensor(xp.full((batch, n), _LOG_EPS, dtype=dtype))
    no_repeat_eps = Tensor(_LOG_EPS * repeat)
    repeat_eps = Tensor(_LOG_EPS * (1.0 - repeat))
    for t in range(steps):
        lp_emit = getitem(emit_all, (slice(None), t))
        lp_blank = getitem(blank, (slice(None), t))
        pad = Tensor(pad_time[:, t : t + 1])
        # a label can hand over to the following blank slot unless the next label repeats
        phi_in = _phi_plus(phi, add(emit, no_repeat_eps))
        next_emit = logaddexp(add(getitem(phi_in, (slice(None), slice(0, n))), lp_emit),
                              add(emit, lp_emit))  # fmt: skip
        next_phi = _phi_plus(add(phi_in, lp_blank), add(add(emit, lp_blank), repeat_eps))
        phi, emit = _blend(pad, phi, next_phi), _blend(pad, emit, next_emit)
    last = _phi_plus(phi, emit)
    pick = Tensor(one_hot(Tensor(label_len), n + 1, dtype=dtype).data)
    return multiply(einsum("bn,bn->b", last, pick), -1.0)


def ctc_decode(
    inputs,
    sequence_lengths,
    strategy="greedy",
    beam_width=100,
    top_paths=1,
    merge_repeated=True,
    mask_index=0,
):
    """Decode CTC outputs ``(batch, time, classes)``.

    Returns ``(decoded, scores)``: int32 labels ``(1, batch, time)`` packed to the left and
    padded with -1, and ``(batch, 1)`` scores (minus the summed best scores). Only the
    ``'greedy'`` strategy is implemented in gpuk; ``'beam_search'`` raises.
    """
    if strategy == "beam_search":
        raise NotImplementedError("ctc_decode: gpuk implements strategy='greedy' only")
    if strategy != "greedy":
        raise ValueError(
            f"ctc_decode: strategy must be 'greedy' or 'beam_search', got {strategy!r}"
        )
    data = as_tensor(inputs).data
    if data.dtype.kind != "f":
        data = data.astype("float32")
    xp = xp_of(data)
    batch, steps, classes = data.shape
    blank = classes - 1 if mask_index is None else int(mask_index)
    lengths = _ints(sequence_lengths, data)
    best = data.argmax(axis=-1)
    scores = data.max(axis=-1)
    beyond = xp.arange(steps)[None, :] >= lengths[:, None]
    best = xp.where(beyond, blank, best)
    scores = xp.where(beyond, 0, scores)
    if merge_repeated:
        same = xp.zeros_like(beyond)
        same[:, 1:] = best[:, 1:] == best[:, :-1]
        best = xp.where(same, blank, best)
    dropped = best == blank
    best = xp.where(dropped, -1, best)
    order = xp.where(dropped, steps, xp.arange(steps)[None, :]).argsort(axis=-1, kind="stable")
    decoded = xp.take_along_axis(best, order, axis=-1).astype(np.int32)
    return Tensor(decoded[None]), Tensor(-scores.sum(axis=1, keepdims=True))
