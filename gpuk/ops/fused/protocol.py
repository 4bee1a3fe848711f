"""The protocol every fused op follows (docs/kernels.md, "The fused-op protocol").

A fused op is a pair in :data:`gpuk.ops.fused.registry.FUSED_OPS`:

* ``supports(config) -> str | None``: None when the kernel runs ``config``, else a sentence
  that starts with the name of the field that declines (``"dtype: ..."``, ``"xp: ..."``).
  ``config`` is the op's small frozen dataclass (``RecurrentConfig``,
  ``SoftmaxCrossEntropyConfig``, ``AdamConfig``) holding what the generic op receives: the
  array module, dtype, sizes, activations and flags. ``supports`` never raises and never
  touches array data.
* the implementation, with the generic op's signature (minus ``fused``), which raises
  :class:`FusedUnsupported` for a configuration ``supports`` declines (:func:`require`).

Shapes are validated once, by the public generic op, before any dispatch; the fused
implementation trusts them.
"""

import numpy as np

from gpuk.ops.fused import launch


class FusedUnsupported(ValueError, RuntimeError):
    """A fused kernel was required (``fused=True``, or a fused op called directly) for a
    configuration its ``supports`` declines; the message carries the reason.

    Both a ValueError (an argument the kernel cannot take) and a RuntimeError (no GPU here),
    the two types gpuk raised for these cases before the protocol was unified.
    """


def device_reason(xp):
    """Why arrays of module ``xp`` cannot run fused kernels, or None.

    CuPy arrays can. NumPy arrays can only while the tests' CPU CUDA emulator serves the
    kernels (:func:`gpuk.ops.fused.launch.use_kernel_provider`).
    """
    if xp is np and launch._provider["function"] is None:
        return (
            "xp: the arrays are NumPy (CPU) arrays, not CuPy (GPU) arrays; fused kernels run "
            "on a GPU only"
        )
    return None


def dtype_reason(dtype, what, field="dtype"):
    """None for float32/float64, else why ``what`` (e.g. ``"Fused GRU kernels"``) declines."""
    if np.dtype(dtype) not in launch.SCALAR_TYPES:
        return f"{field}: {what} exist for float32 and float64, not {np.dtype(dtype)}"
    return None


def require(name, supports, config):
    """Raise :class:`FusedUnsupported` (``"<name>: <reason>"``) unless ``supports(config)``
    accepts; what a fused implementation does first when it is called directly."""
    reason = supports(config)
    if reason is not None:
        raise FusedUnsupported(f"{name}: {reason}")
