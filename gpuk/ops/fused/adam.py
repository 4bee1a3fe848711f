"""Fused multi-tensor Adam: one kernel launch updates every parameter and slot of a model.

Generic twin: ``gpuk.optimizers.adam.adam_update``, the optimizer's own per-variable update
(Keras 3's ``Adam.update_step``); the tests compare the kernel with it. Kernel:
``adam_multi_tensor`` in ``kernels/adam.cu``: a table maps each block to a chunk of one tensor
(:func:`gpuk.ops.fused.launch.adam_chunks`); loads are vectorised (4 floats / 2 doubles) when
the chunk is aligned. Weight decay, gradient clipping and loss scaling are applied by the
optimizer before this step, as in Keras.

Keras 3 numerics, with ``t`` the 1-based step::

    alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)
    m += (g - m) * (1 - beta_1)           # = beta_1 * m + (1 - beta_1) * g
    v += (g * g - v) * (1 - beta_2)
    vhat = max(vhat, v); v_used = vhat if amsgrad else v
    p -= alpha * m / (sqrt(v_used) + epsilon)
"""

import dataclasses

import numpy as np

from gpuk import _array
from gpuk.ops.fused import launch
from gpuk.ops.fused.protocol import device_reason, dtype_reason, require

KERNEL_FILE = "adam.cu"


@dataclasses.dataclass(frozen=True)
class AdamConfig:
    """One optimizer step over a group of parameters as :func:`supports` reads it."""

    xp: object
    dtypes: tuple
    contiguous: bool
    amsgrad: bool = False


def adam_config(params, amsgrad=False):
    """The :class:`AdamConfig` of a step over ``params`` (arrays); NumPy if any is NumPy."""
    modules = {_array.get_array_module(p) for p in params}
    return AdamConfig(
        xp=np if np in modules or not modules else modules.pop(),
        dtypes=tuple(sorted({np.dtype(p.dtype).name for p in params})),
        contiguous=all(p.flags.c_contiguous for p in params),
        amsgrad=bool(amsgrad),
    )


def supports(config):
    """None when :func:`adam_multi_tensor` runs ``config``, else why not: parameters of one
    float type (float32 or float64), contiguous, on the GPU."""
    reason = device_reason(config.xp)
    if reason is not None:
        return reason
    if len(config.dtypes) != 1:
        return f"dtypes: fused Adam needs all parameters of one dtype; got {list(config.dtypes)}"
    reason = dtype_reason(config.dtypes[0], "Fused Adam kernels", "dtypes")
    if reason is not None:
        return reason
    if not config.contiguous:
        return "contiguous: fused Adam needs contiguous parameter arrays"
    return None


_tables = {}


_pointer_tables = {}
_grad_buffers = {}
#: Entries each cache keeps; the oldest goes first. (Emptying a full cache dropped the tables
#: a step had just added, so the next steps uploaded them again.)
_POINTER_TABLES_KEPT = 64
_GRAD_BUFFERS_KEPT = 16


def _cached(cache, key, make, kept):
    """``cache[key]``, made by ``make()`` when missing; the oldest entry leaves a full cache."""
    value = cache.get(key)
    if value is None:
        while len(cache) >= kept:
            del cache[next(iter(cache))]
        value = cache[key] = make()
    return value


def _device_key(xp):
    return (xp.__name__, 0 if xp is np else int(xp.cuda.Device().id))


def _pointer_table(arrays, xp):
    """Device table of the arrays' addresses, cached by device and addresses: a model's
    buffers do not move (variables are updated in place), so steady steps upload nothing."""
    if xp is np:
        return np.asarray([a.ctypes.data for a in arrays], np.uint64)
    addresses = _device_key(xp) + tuple(int(a.data.ptr) for a in arrays)
    return _cached(
        _pointer_tables,
        addresses,
        lambda: xp.asarray(np.asarray(addresses[2:], np.uint64)),
        _POINTER_TABLES_KEPT,
    )


def _staged_grads(grads, sizes, dtype, xp):
    """The gradients copied (one launch) into a flat buffer kept per device, dtype and sizes:
    fresh gradient arrays live at new addresses every step, the buffer's views do not."""
    key = _device_key(xp) + (np.dtype(dtype).str, tuple(sizes))
    buffer = _cached(
        _grad_buffers, key, lambda: xp.empty((sum(sizes),), dtype=dtype), _GRAD_BUFFERS_KEPT
    )
    xp.concatenate([g.reshape(-1) for g in grads], out=buffer)
    views, offset = [], 0
    for size in sizes:
        views.append(buffer[offset : offset + size])
        offset += size
    return views


def _launch_adam(params, grads, ms, vs, vhats, alpha, beta_1, beta_2, epsilon, amsgrad):
    """One launch of ``adam_multi_tensor`` with the bias-corrected step size ``alpha``.

    ``1 - beta`` is computed here, in double, and rounded to the parameters' type, as Keras
    computes it (``float32(1 - 0.999) = 0.001``; the kernel's ``1 - 0.999f`` would be
    ``0.0009999871``). ``beta_1``/``beta_2`` must be the optimizer's Python floats.
    """
    xp = _array.get_array_module(params[0])
    dtype = params[0].dtype
    vhats = vhats if amsgrad else vs
    sizes = [int(p.size) for p in params]
    if xp is np:
        grads = [xp.ascontiguousarray(g, dtype=dtype) for g in grads]
    else:
        grads = _staged_grads(grads, sizes, dtype, xp)
    key = _device_key(xp) + (tuple(sizes),)
    if key not in _tables:
        tensor_index, start = launch.adam_chunks(sizes)
        _tables[key] = (
            xp.asarray(np.asarray(sizes, np.int64)),
            xp.asarray(tensor_index),
            xp.asarray(start),
        )
    sizes_d, tensor_d, start_d = _tables[key]
    pointers = [_pointer_table(group, xp) for group in (params, grads, ms, vs, vhats)]
    config = launch.adam_config(sizes)
    scalar = np.dtype(dtype).type
    kernel = launch.typed_kernel(KERNEL_FILE, "adam_multi_tensor", dtype, xp)
    kernel(
        config["grid"],
        config["block"],
        tuple(pointers)
        + (sizes_d, tensor_d, start_d, np.int64(launch.ADAM_CHUNK))
        + (scalar(alpha), scalar(1.0 - float(beta_1)), scalar(1.0 - float(beta_2)))
        + (scalar(epsilon), np.int32(bool(amsgrad))),
    )
    # keep the grads' contiguous copies alive until the launch is queued
    del grads


def adam_multi_tensor(params, grads, ms, vs, vhats, *, alpha, beta_1, beta_2, epsilon, amsgrad):
    """Keras 3's Adam step for every tensor in one launch, in place (twin: ``adam_update``).

    What ``gpuk.optimizers.Adam`` calls for a group of variables of one dtype once
    :func:`gpuk.ops.fused.registry.select` accepted their :class:`AdamConfig`.

    Args:
        params, grads, ms, vs: lists of arrays of equal shapes (parameters, their gradients,
            first and second moments); ``vhats`` the AMSGrad maxima, or None.
        alpha: the bias-corrected step size ``lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)``,
            a host scalar of the parameters' dtype (the optimizer's ``adam_alpha``).
        beta_1, beta_2: the optimizer's Python floats; epsilon: a host scalar.
        amsgrad: use ``max(vhat, v)`` in the denominator (needs ``vhats``).

    Raises:
        FusedUnsupported: when :func:`supports` declines (nothing is touched then).
    """
    if not params:
        return
    require("adam_multi_tensor", supports, adam_config(params, amsgrad))
    if amsgrad and vhats is None:
        raise ValueError("adam_multi_tensor: amsgrad=True needs vhats (the AMSGrad maxima).")
    _launch_adam(params, grads, ms, vs, vhats, alpha, beta_1, beta_2, epsilon, amsgrad)
