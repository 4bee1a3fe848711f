"""Fused softmax + cross-entropy: one pass over each row forward, the gradient in one write.

Generic twin: the composed losses of ``gpuk.losses`` (``categorical_crossentropy`` and
``sparse_categorical_crossentropy``, ``from_logits`` True or False). Kernels
``xent_forward`` / ``xent_backward`` in ``kernels/softmax_xent.cu``, one block per row
(:func:`gpuk.ops.fused.launch.softmax_xent_config`), warp-shuffle reductions.

Numerics follow Keras 3: from logits, ``loss = logsumexp(x) - sum(y * x) / ...`` computed as
``-sum(y * log_softmax(x))``; from probabilities (after a softmax layer),
``p = clip(p / sum(p), epsilon, 1 - epsilon)`` and ``loss = -sum(y * log(p))``, whose gradient
is zero where the clip is active.
"""

import dataclasses
import functools

import numpy as np

from gpuk import _array, _config
from gpuk.autograd import Function, Tensor
from gpuk.ops.fused import launch
from gpuk.ops.fused.protocol import device_reason, dtype_reason, require

KERNEL_FILE = "softmax_xent.cu"


@dataclasses.dataclass(frozen=True)
class SoftmaxCrossEntropyConfig:
    """One call of the categorical cross-entropy losses as :func:`supports` reads it: the
    module and dtype of ``y_pred``, its rank, the class ``axis`` and class count, and whether
    the targets need a gradient (the kernel differentiates ``y_pred`` only)."""

    xp: object
    dtype: np.dtype
    ndim: int
    classes: int
    axis: int = -1
    sparse: bool = False
    from_logits: bool = False
    target_requires_grad: bool = False


def softmax_cross_entropy_config(target, output, *, axis=-1, sparse=False, from_logits=False):
    """The :class:`SoftmaxCrossEntropyConfig` of a call (``target`` may be None: sparse)."""
    like = output.data if isinstance(output, Tensor) else output
    return SoftmaxCrossEntropyConfig(
        xp=_array.get_array_module(like),
        dtype=np.dtype(like.dtype),
        ndim=like.ndim,
        classes=int(like.shape[-1]) if like.ndim else 0,
        axis=axis,
        sparse=bool(sparse),
        from_logits=bool(from_logits),
        target_requires_grad=bool(getattr(target, "requires_grad", False)),
    )


def supports(config):
    """None when the fused kernel runs ``config``, else why not: it reduces the last axis of
    float32/float64 predictions and gives no gradient for the targets."""
    reason = device_reason(config.xp) or dtype_reason(config.dtype, "Fused cross-entropy kernels")
    if reason is not None:
        return reason
    if config.ndim < 1:
        return "ndim: the predictions must have a class axis"
    if config.axis not in (-1, config.ndim - 1):
        return f"axis: the fused kernel reduces the last axis only, not axis={config.axis}"
    if config.classes < 1:
        return "classes: there must be at least one class"
    if config.target_requires_grad:
        return "target_requires_grad: the fused kernel gives no gradient for the targets"
    return None


_kernel = functools.partial(launch.typed_kernel, KERNEL_FILE)


class SoftmaxCrossEntropy(Function):
    """Per-row cross-entropy of ``output`` (logits or probabilities) against ``target``.

    Inputs: ``target`` (dense, same shape as output; or sparse integer labels of the leading
    shape) and ``output`` (..., classes). Output: per-row losses (leading shape). Only
    ``output`` gets a gradient.
    """

    def forward(self, target, output):
        xp = _array.get_array_module(output)
        classes = output.shape[-1]
        lead = output.shape[:-1]
        rows = int(np.prod(lead, dtype=np.int64))
        x = xp.ascontiguousarray(output).reshape(rows, classes)
        dtype = x.dtype
        if self.sparse:
            y_dense = xp.zeros((1,), dtype)
            y_sparse = xp.ascontiguousarray(target.reshape(rows).astype(np.int64))
        else:
            y_dense = xp.ascontiguousarray(target.astype(dtype, copy=False)).reshape(rows, classes)
            y_sparse = xp.zeros((1,), np.int64)
        loss = xp.empty((rows,), dtype)
        stat = xp.empty((rows, 2), dtype)
        config = launch.softmax_xent_config(rows, classes)
        scalars = (np.int32(rows), np.int32(classes), np.int32(self.sparse))
        scalars += (np.int32(self.from_logits), np.dtype(dtype).type(self.epsilon))
        if rows:
            _kernel("xent_forward", dtype, xp)(
                config["grid"], config["block"], (x, y_dense, y_sparse, loss, stat) + scalars
            )
        self.saved = (x, y_dense, y_sparse, stat, scalars, config, output.shape)
        return loss.reshape(lead)

    def backward(self, gloss):
        x, y_dense, y_sparse, stat, scalars, config, shape = self.saved
        xp = _array.get_array_module(x)
        grad = xp.empty_like(x)
        gloss = xp.ascontiguousarray(gloss, dtype=x.dtype).reshape(-1)
        if x.shape[0]:
            _kernel("xent_backward", x.dtype, xp)(
                config["grid"], config["block"], (x, y_dense, y_sparse, stat, gloss, grad) + scalars
            )
        return None, grad.reshape(shape)


def softmax_cross_entropy_fused(target, output, *, from_logits=False, sparse=False, epsilon=None):
    """Per-sample categorical cross-entropy on the fused kernel (Keras 3 numerics).

    Args:
        target: one-hot/probability targets shaped like ``output`` (``sparse=False``) or
            integer class indices of shape ``output.shape[:-1]`` (``sparse=True``).
        output: logits (``from_logits=True``) or probabilities, classes on the last axis.
        from_logits: whether ``output`` is unnormalised logits.
        sparse: integer labels instead of dense targets.
        epsilon: clipping of probabilities (``from_logits=False``); Keras's fuzz factor
            ``gpuk.config.epsilon()`` by default.

    Returns:
        The loss per sample, shape ``output.shape[:-1]``, as a Tensor (not yet averaged).

    Shapes are not checked here: the public losses
    (``gpuk.losses.categorical_crossentropy``, ``sparse_categorical_crossentropy``) check them.

    Raises:
        FusedUnsupported: (a ValueError and a RuntimeError) when :func:`supports` declines,
            e.g. on NumPy arrays (the fused kernels need a GPU).
    """
    config = softmax_cross_entropy_config(target, output, sparse=sparse, from_logits=from_logits)
    require("softmax_cross_entropy_fused", supports, config)
    xp = config.xp
    if sparse and target.ndim == config.ndim:
        target = target.reshape(target.shape[:-1])
    target = target.data if isinstance(target, Tensor) else target
    return SoftmaxCrossEntropy.apply(
        xp.asarray(target),
        output,
        from_logits=bool(from_logits),
        sparse=bool(sparse),
        epsilon=_config.epsilon() if epsilon is None else float(epsilon),
    )
