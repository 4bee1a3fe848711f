"""Fused multi-tensor Adam: one kernel launch updates every parameter and slot of a model.

Generic twin: :func:`adam_step_reference` (Keras 3's ``Adam.update_step``, in xp). Kernel:
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

import math

import numpy as np

from gpuk import _array
from gpuk.ops.fused import launch

KERNEL_FILE = "adam.cu"


def _alpha(learning_rate, beta_1, beta_2, step):
    return learning_rate * math.sqrt(1.0 - beta_2**step) / (1.0 - beta_1**step)


def adam_supports(params, xp):
    """Whether :func:`adam_step_fused` applies to these arrays, and why not.

    Returns:
        ``(True, "")`` or ``(False, reason)``.
    """
    if xp is np and launch._provider["function"] is None:
        return False, "Fused kernels run on a GPU only, and these are NumPy (CPU) arrays."
    dtypes = {np.dtype(p.dtype) for p in params}
    if len(dtypes) != 1 or next(iter(dtypes)) not in launch.SCALAR_TYPES:
        return False, f"Fused Adam needs all parameters float32 or all float64; got {dtypes}."
    if not all(p.flags.c_contiguous for p in params):
        return False, "Fused Adam needs contiguous parameter arrays."
    return True, ""


def adam_step_reference(
    params,
    grads,
    ms,
    vs,
    vhats=None,
    *,
    learning_rate,
    beta_1,
    beta_2,
    epsilon,
    step,
    amsgrad=False,
):
    """Keras 3's Adam step over lists of arrays, in place, in xp (the generic twin).

    Args:
        params, grads, ms, vs: lists of arrays of equal shapes (parameters, their gradients,
            first and second moments); ``vhats`` the AMSGrad maxima (needed if ``amsgrad``).
        learning_rate, beta_1, beta_2, epsilon: Python floats.
        step: the 1-based iteration number (Keras's ``iterations + 1``).
        amsgrad: use ``vhat = max(vhat, v)`` in the denominator.
    """
    alpha = _alpha(learning_rate, beta_1, beta_2, step)
    for index, (p, g) in enumerate(zip(params, grads)):
        xp = _array.get_array_module(p)
        m, v = ms[index], vs[index]
        m += (g - m) * (1 - beta_1)
        v += (g * g - v) * (1 - beta_2)
        if amsgrad:
            xp.maximum(vhats[index], v, out=vhats[index])
            v = vhats[index]
        p -= (m * alpha) / (xp.sqrt(v) + epsilon)


_tables = {}


_pointer_tables = {}
_grad_buffers = {}


def _device_key(xp):
    return (xp.__name__, 0 if xp is np else int(xp.cuda.Device().id))


def _pointer_table(arrays, xp):
    """Device table of the arrays' addresses, cached by device and addresses: a model's
    buffers do not move (variables are updated in place), so steady steps upload nothing."""
    if xp is np:
        return np.asarray([a.ctypes.data for a in arrays], np.uint64)
    addresses = _device_key(xp) + tuple(int(a.data.ptr) for a in arrays)
    if addresses not in _pointer_tables:
        if len(_pointer_tables) > 64:
            _pointer_tables.clear()
        _pointer_tables[addresses] = xp.asarray(np.asarray(addresses[2:], np.uint64))
    return _pointer_tables[addresses]


def _staged_grads(grads, sizes, dtype, xp):
    """The gradients copied (one launch) into a flat buffer kept per device, dtype and sizes:
    fresh gradient arrays live at new addresses every step, the buffer's views do not."""
    key = _device_key(xp) + (np.dtype(dtype).str, tuple(sizes))
    if key not in _grad_buffers:
        if len(_grad_buffers) > 16:
            _grad_buffers.clear()
        _grad_buffers[key] = xp.empty((sum(sizes),), dtype=dtype)
    buffer = _grad_buffers[key]
    xp.concatenate([g.reshape(-1) for g in grads], out=buffer)
    views, offset = [], 0
    for size in sizes:
        views.append(buffer[offset : offset + size])
        offset += size
    return views


def adam_step_fused(
    params,
    grads,
    ms,
    vs,
    vhats=None,
    *,
    learning_rate,
    beta_1,
    beta_2,
    epsilon,
    step,
    amsgrad=False,
):
    """Keras 3's Adam step for all tensors in one kernel launch (twin: adam_step_reference).

    Same arguments as :func:`adam_step_reference`. Arrays are updated in place; they must be
    contiguous, of one dtype (float32 or float64), on the GPU. Gradients may be any layout
    convertible without copy; non-contiguous ones are copied first.

    Raises:
        RuntimeError: when the arrays are not on a GPU (see :func:`adam_supports`).
    """
    if not params:
        return
    xp = _array.get_array_module(params[0])
    ok, reason = adam_supports(params, xp)
    if not ok:
        raise RuntimeError(f"adam_step_fused: {reason}")
    if amsgrad and vhats is None:
        raise ValueError("adam_step_fused: amsgrad=True needs vhats (the AMSGrad maxima).")
    alpha = _alpha(learning_rate, beta_1, beta_2, step)
    _launch_adam(params, grads, ms, vs, vhats, alpha, beta_1, beta_2, epsilon, amsgrad)


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
    kernel = launch.get_kernel(KERNEL_FILE, f"adam_multi_tensor<{launch.type_name(dtype)}>", xp)
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


def adam_multi_tensor(params, grads, ms, vs, vhats, *, lr, beta_1, beta_2, epsilon, amsgrad, alpha):
    """The hook ``gpuk.optimizers.Adam`` calls on CuPy variables (see its module docstring).

    Updates everything in one launch and returns True, or returns False (nothing touched) when
    :func:`adam_supports` declines, so the optimizer's per-variable loop runs instead.
    """
    xp = _array.get_array_module(params[0])
    if not adam_supports(params, xp)[0]:
        return False
    _launch_adam(params, grads, ms, vs, vhats, alpha, beta_1, beta_2, epsilon, amsgrad)
    return True
