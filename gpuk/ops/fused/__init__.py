"""The fused CUDA kernels of ``kernels/*.cu`` and the one protocol that reaches them.

:mod:`gpuk.ops.fused.registry` holds the table of fused ops (``gru``, ``lstm``,
``simple_rnn``, ``softmax_cross_entropy``, ``adam``) and :func:`select`, which says for a
call's config which implementation runs, or why the kernel declines. Each op module defines its
config, ``supports(config) -> reason | None`` and an implementation with its generic twin's
signature; :mod:`gpuk.ops.fused.protocol` the shared checks and :class:`FusedUnsupported`;
:mod:`gpuk.ops.fused.launch` the launch configurations, shared with the CPU emulation tests.
See docs/kernels.md.
"""

from gpuk.ops.fused.protocol import FusedUnsupported
from gpuk.ops.fused.registry import FUSED_OPS, FusedOp, select

__all__ = ["FUSED_OPS", "FusedOp", "FusedUnsupported", "select"]
