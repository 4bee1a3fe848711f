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

import numpy as np

from gpuk import _array, _config
from gpuk.autograd import Function, Tensor
from gpuk.ops.fused import launch

KERNEL_FILE = "softmax_xent.cu"


def supports(classes, dtype, xp, axis=-1):
    """Whether the fused softmax-cross-entropy applies, and why not.

    Returns:
        ``(True, "")`` or ``(False, reason)``.
    """
    if xp is np and launch._provider["function"] is None:
        return False, "Fused kernels run on a GPU only, and these are NumPy (CPU) arrays."
    if np.dtype(dtype) not in launch.SCALAR_TYPES:
        return False, f"Fused cross-entropy exists for float32 and float64, not {np.dtype(dtype)}."
    if axis not in (-1, None):
        return False, f"Fused cross-entropy reduces the last axis only, not axis={axis}."
    if int(classes) < 1:
        return False, "There must be at least one class."
    return True, ""


def _kernel(name, dtype, xp):
    return launch.get_kernel(KERNEL_FILE, f"{name}<{launch.type_name(dtype)}>", xp)


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

    Raises:
        RuntimeError: on NumPy arrays (fused kernels need a GPU).
        ValueError: when target and output shapes do not match.
    """
    like = output.data if isinstance(output, Tensor) else output
    xp = _array.get_array_module(like)
    ok, reason = supports(like.shape[-1], like.dtype, xp)
    if not ok:
        raise (RuntimeError if "GPU" in reason else ValueError)(
            f"softmax_cross_entropy_fused: {reason}"
        )
    tshape = tuple(target.shape)
    expected = tuple(like.shape[:-1]) if sparse else tuple(like.shape)
    if sparse and tshape == expected + (1,):
        target = target.reshape(expected)
        tshape = expected
    if tshape != expected:
        raise ValueError(
            f"softmax_cross_entropy_fused: target shape {tshape} does not match output shape "
            f"{tuple(like.shape)} (sparse={sparse}); expected {expected}."
        )
    target = target.data if isinstance(target, Tensor) else target
    return SoftmaxCrossEntropy.apply(
        xp.asarray(target),
        output,
        from_logits=bool(from_logits),
        sparse=bool(sparse),
        epsilon=_config.epsilon() if epsilon is None else float(epsilon),
    )
