"""Functions that call the fused CUDA kernels in ``kernels/*.cu``; each names its generic twin.

These are used on the GPU only, by the generic ops that dispatch to them (``fused="auto"``):

* :func:`gru_fused` (twin: ``gpuk.ops.recurrent.gru``), :func:`gru_supports`;
* :func:`softmax_cross_entropy_fused` (twin: the composed softmax + cross-entropy of
  ``gpuk.losses``), :func:`softmax_cross_entropy_supports`;
* :func:`adam_step_fused` (twin: :func:`adam_step_reference`, Keras 3's Adam update).

The launch configuration of every kernel is computed by the plain Python functions in
:mod:`gpuk.ops.fused.launch`, shared with the CPU emulation tests.
"""

from gpuk.ops.fused.adam import adam_step_fused, adam_step_reference, adam_supports
from gpuk.ops.fused.gru import gru_fused
from gpuk.ops.fused.gru import supports as gru_supports
from gpuk.ops.fused.softmax_xent import softmax_cross_entropy_fused
from gpuk.ops.fused.softmax_xent import supports as softmax_cross_entropy_supports

__all__ = [
    "adam_step_fused",
    "adam_step_reference",
    "adam_supports",
    "gru_fused",
    "gru_supports",
    "softmax_cross_entropy_fused",
    "softmax_cross_entropy_supports",
]
