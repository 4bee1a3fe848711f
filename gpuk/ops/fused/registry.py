"""Which code runs on my GPU? :func:`select` answers it, for every fused op, from this table.

:data:`FUSED_OPS` maps each op name to its ``supports(config) -> reason | None`` and its fused
implementation (docs/kernels.md, "The fused-op protocol"). The generic ops, the losses and the
optimizer ask :func:`select` with the op's config and run what it returns, or their generic
code when it declines. Set the ``gpuk.ops.fused`` logger to DEBUG to see every decline and
its reason; ``gpuk info`` prints whether this machine's arrays reach the kernels at all.
"""

import dataclasses
import logging

from gpuk.ops.fused import adam, gru, lstm, simple_rnn, softmax_xent
from gpuk.ops.fused._recurrent import RecurrentConfig
from gpuk.ops.fused.protocol import FusedUnsupported, device_reason

_log = logging.getLogger("gpuk.ops.fused")


@dataclasses.dataclass(frozen=True)
class FusedOp:
    """One row of :data:`FUSED_OPS`: the op's ``supports`` and fused implementation, the
    config type ``supports`` reads, the CUDA source and the generic twin it must equal."""

    supports: object
    implementation: object
    config: type
    kernel_file: str
    generic: str


FUSED_OPS = {
    "gru": FusedOp(
        gru.supports, gru.gru_fused, RecurrentConfig, gru.KERNEL_FILE, "gpuk.ops.recurrent.gru"
    ),
    "lstm": FusedOp(
        lstm.supports, lstm.lstm_fused, RecurrentConfig, lstm.KERNEL_FILE, "gpuk.ops.recurrent.lstm"
    ),
    "simple_rnn": FusedOp(
        simple_rnn.supports,
        simple_rnn.simple_rnn_fused,
        RecurrentConfig,
        simple_rnn.KERNEL_FILE,
        "gpuk.ops.recurrent.simple_rnn",
    ),
    "softmax_cross_entropy": FusedOp(
        softmax_xent.supports,
        softmax_xent.softmax_cross_entropy_fused,
        softmax_xent.SoftmaxCrossEntropyConfig,
        softmax_xent.KERNEL_FILE,
        "gpuk.losses.categorical_crossentropy / sparse_categorical_crossentropy",
    ),
    "adam": FusedOp(
        adam.supports,
        adam.adam_multi_tensor,
        adam.AdamConfig,
        adam.KERNEL_FILE,
        "gpuk.optimizers.adam.adam_update (Adam.update_step)",
    ),
}


def select(op, config, fused="auto"):
    """The fused implementation that runs ``config``, or why none does.

    Args:
        op: a key of :data:`FUSED_OPS`.
        config: the op's config (``FUSED_OPS[op].config``).
        fused: the caller's ``fused`` setting: ``"auto"`` (the kernel when it supports
            ``config``), True (the kernel or an error), False (never the kernel).

    Returns:
        ``(implementation, None)`` or ``(None, reason)``.

    Raises:
        FusedUnsupported: for ``fused=True`` when ``supports`` declines, with the reason.
        ValueError: for a ``fused`` that is not ``"auto"``, True or False.
    """
    if fused not in ("auto", True, False):
        raise ValueError(f"{op}: fused must be 'auto', True or False, received {fused!r}")
    if fused is False:
        return None, "fused: False"
    entry = FUSED_OPS[op]
    reason = entry.supports(config)
    if reason is None:
        return entry.implementation, None
    if fused is True:
        raise FusedUnsupported(
            f"{op}: fused=True was requested, but {reason} (fused='auto' falls back to the "
            "generic op)"
        )
    if _log.isEnabledFor(logging.DEBUG):
        _log.debug("fused %s declined: %s", op, reason)
    return None, reason


def describe(xp):
    """``(op, line)`` per fused op for arrays of module ``xp``: its kernel file, its generic
    twin, and whether such arrays reach it (``gpuk info`` prints these)."""
    reason = device_reason(xp)
    status = "reachable" if reason is None else f"declines: {reason}"
    return [
        (op, f"kernels/{entry.kernel_file}, twin {entry.generic}; {status}")
        for op, entry in FUSED_OPS.items()
    ]
