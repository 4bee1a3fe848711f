"""The GRU's common case on arrays: ``reset_after=True``, no mask, gates activated in place.

:class:`~gpuk.ops.recurrent.gru.GRUSequence` runs these loops when they apply
(:func:`applies`) and its general loop otherwise. They keep every per-gate block contiguous:
the input projection, the recurrent product and the backward's gate gradients are laid out
gate-major (``(gates, ..., batch, units)``), so each elementwise op works on whole contiguous
blocks instead of column slices of a ``(batch, 3 * units)`` row, and every op writes into a
preallocated buffer with ``out=`` (nothing is allocated per step). Training keeps each step's
gates in a reused workspace written in place, and the backward computes the weight and
input gradients after the loop as a few large products. The time loops choose their BLAS
threads by timing (:func:`gpuk._array.blas.loop_blocks`); the large products before and after
them follow that choice.

With a sigmoid recurrent activation, the z and r columns of both kernels and of the biases are
pre-scaled by 0.5 (exact in floating point), so ``sigmoid(a) = 0.5 * tanh(0.5 * a) + 0.5``
needs no multiply before its tanh. The recurrent bias of z and r is folded into the input
projection; results equal the general loop's up to rounding.
"""

import sys

import numpy as np

from gpuk._array.blas import loop_blocks, timed_threads
from gpuk.ops.recurrent._common import _DERIVATIVE, _FORWARD_INPLACE, _time_major

#: Activations the loops apply and differentiate in place.
ACTIVATIONS = ("tanh", "sigmoid", "relu", "linear")


def applies(reset_after, mask, activation, recurrent_activation):
    """Whether the gate-major loops run this configuration."""
    return (
        reset_after
        and mask is None
        and activation in ACTIVATIONS
        and recurrent_activation in ACTIVATIONS
    )


def _gate_major(xp, matrix, units):
    """``(rows, 3 * units)`` -> ``(3, rows, units)`` view, one block per gate."""
    return matrix.reshape(matrix.shape[0], 3, units).transpose(1, 0, 2)


def _sigmoid_from_half(xp, zr):
    """``sigmoid(a)`` from ``zr = 0.5 * a``, in place."""
    xp.tanh(zr, out=zr)
    zr *= 0.5
    zr += 0.5
    return zr


def forward(
    xp, x, go_backwards, kernel, recurrent_kernel, bias, h0, activation, recurrent_activation, keep
):
    """GRU forward over ``x (B, T, D)``, reversed in time when ``go_backwards``.

    Returns ``(states (T + 1, B, U), saved)``: ``states[0]`` is ``h0`` and ``states[t + 1]``
    the state after step ``t``; ``saved`` holds what :func:`backward` needs (None unless
    ``keep``).
    """
    batch, timesteps, features = x.shape
    n = batch * timesteps
    units = recurrent_kernel.shape[0]
    dtype = xp.result_type(x.dtype, kernel.dtype)
    half = recurrent_activation == "sigmoid"
    # (3, 1, 1): 0.5 for the z and r gates when the sigmoid is taken from its half argument
    scale = xp.asarray([0.5, 0.5, 1.0] if half else [1.0, 1.0, 1.0], dtype=dtype)[:, None, None]
    k3 = _gate_major(xp, kernel, units) * scale
    r3 = _gate_major(xp, recurrent_kernel, units) * scale  # a contiguous (3, U, U) copy
    key = ("gru", keep, batch, units, dtype.str)
    projection = timed_threads(("gru projection", *key, features), n * features * 3 * units, xp)
    rec_bias_h = None
    if bias is None:
        x_tm = _time_major(xp, x, go_backwards)
        with projection:
            proj = xp.matmul(x_tm, k3)  # (3, T * B, U)
    else:
        b_in = bias[0].reshape(3, 1, units)
        b_rec = bias[1].reshape(3, 1, units)
        folded = b_in.astype(dtype, copy=True)
        folded[:2] += b_rec[:2]
        rec_bias_h = b_rec[2, 0].astype(dtype, copy=False)
        x_ones = _time_major(xp, x, go_backwards, ones_column=True)
        x_tm = x_ones[:, :features]
        # the folded bias as the weights of the ones column: no pass over the projection
        k3 = xp.concatenate([k3, folded * scale], axis=1)
        with projection:
            proj = xp.matmul(x_ones, k3)
    proj = proj.reshape(3, timesteps, batch, units)
    proj_zr = proj[:2].transpose(1, 0, 2, 3)  # (T, 2, B, U), each gate block contiguous
    proj_h = proj[2]
    act = _FORWARD_INPLACE[activation]
    ract = _sigmoid_from_half if half else _FORWARD_INPLACE[recurrent_activation]
    add, multiply, subtract, matmul = xp.add, xp.multiply, xp.subtract, xp.matmul

    block = batch * units
    hu = xp.empty((3, batch, units), dtype=dtype)
    hu_zr, hu_h = hu[:2], hu[2]
    if keep:
        # states (T + 1), z and r (2T), hh, aux, diff (T each): one reusable workspace
        space = _workspace(xp, (6 * timesteps + 1) * block, dtype)
        states = space[: (timesteps + 1) * block].reshape(timesteps + 1, batch, units)
        kept = space[(timesteps + 1) * block :].reshape(5, timesteps, batch, units)
        zr_all = kept[:2].transpose(1, 0, 2, 3)
        hh_all, aux_all, diff_all = kept[2], kept[3], kept[4]
    else:  # one buffer each, reused by every step
        states = xp.empty((timesteps + 1, batch, units), dtype=dtype)
        zr_all = _Repeat(xp.empty((2, batch, units), dtype=dtype))
        hh_all = _Repeat(xp.empty((batch, units), dtype=dtype))
        aux_all = _Repeat(hu_h)
        diff_all = _Repeat(xp.empty((batch, units), dtype=dtype))
    states[0] = h0
    for block in loop_blocks(key, range(timesteps), 3 * batch * units * units, xp):
        for t in block:
            h, h_new = states[t], states[t + 1]
            zr, hh, aux, diff = zr_all[t], hh_all[t], aux_all[t], diff_all[t]
            matmul(h, r3, out=hu)
            add(proj_zr[t], hu_zr, out=zr)
            ract(xp, zr)
            if rec_bias_h is not None:
                add(hu_h, rec_bias_h, out=aux)
            elif keep:
                aux[...] = hu_h
            multiply(zr[1], aux, out=hh)
            hh += proj_h[t]
            act(xp, hh)
            # h_new = z * h + (1 - z) * hh, as hh + z * (h - hh)
            subtract(h, hh, out=diff)
            multiply(zr[0], diff, out=h_new)
            h_new += hh
    saved = None
    if keep:
        saved = (x_tm, kernel, recurrent_kernel, states, zr_all, hh_all, aux_all, diff_all)
    return states, saved


#: Workspaces of recent training calls (NumPy only; CuPy has its own memory pool), reused
#: once no array of the call that used them is alive: fresh host memory costs a page fault
#: per 4 KiB on first touch, ~10 ms a step for a GRU(128) over 100 steps.
_WORKSPACES = []
_MAX_WORKSPACES = 8


def _references(spaces, index):
    space = spaces[index]
    return sys.getrefcount(space)


#: The reference count of a workspace nothing else uses (the list's, the local's and
#: getrefcount's own), measured on this interpreter; every view of it adds one.
_FREE = _references([np.empty(0)], 0)


def _workspace(xp, size, dtype):
    """A flat ``size``-element buffer, a free cached one when there is one."""
    if xp is not np:
        return xp.empty(size, dtype=dtype)
    for index in range(len(_WORKSPACES)):
        # no local name for the candidate before the count: it would add a reference
        if (
            _WORKSPACES[index].size == size
            and _WORKSPACES[index].dtype == dtype
            and _references(_WORKSPACES, index) <= _FREE
        ):
            space = _WORKSPACES.pop(index)
            _WORKSPACES.append(space)
            return space
    space = np.empty(size, dtype=dtype)
    _WORKSPACES.append(space)
    if len(_WORKSPACES) > _MAX_WORKSPACES:
        _WORKSPACES.pop(0)
    return space


class _Repeat:
    """The same buffer at every index: a step's scratch when nothing is kept."""

    __slots__ = ("array",)

    def __init__(self, array):
        self.array = array

    def __getitem__(self, index):
        return self.array


def _activation_grad(xp, name, grad, y, tmp):
    """``grad *= activation'(.)`` in place, from the activation's output ``y``."""
    if name == "tanh":
        xp.multiply(y, y, out=tmp)
        xp.subtract(1, tmp, out=tmp)
        grad *= tmp
    elif name == "sigmoid":
        xp.subtract(1, y, out=tmp)
        tmp *= y
        grad *= tmp
    elif name == "relu":
        xp.sign(y, out=tmp)  # y = max(a, 0) >= 0: its sign is the derivative, 0 or 1
        grad *= tmp
    elif name != "linear":  # pragma: no cover - applies() admits only the four above
        grad *= _DERIVATIVE[name](y)


def backward(xp, saved, gy_seq, gy_last, activation, recurrent_activation, need):
    """Gradients for :func:`forward`'s saved values.

    ``gy_seq`` is the time-major ``(T, B, U)`` gradient of the sequence outputs (steps in
    processing order), ``gy_last`` that of the last state; ``need`` flags the wanted input
    gradients ``(x, kernel, recurrent_kernel, bias, h0)`` (bias None without one). Returns
    ``(g_x_tm (T * B, D) or None, g_kernel, g_recurrent_kernel, g_bias, g_h0)``.
    """
    x_tm, kernel, recurrent_kernel, states, zr_all, hh_all, aux_all, diff_all = saved
    timesteps, _, batch, units = zr_all.shape
    n = timesteps * batch
    dtype = states.dtype
    # Gate-gradient blocks [h, z, r, hr] per step: d_all[:3] are the input projection's
    # (gates h, z, r), d_all[1:] the recurrent product's (z, r and h after the reset gate).
    d_all = _workspace(xp, 4 * n * units, dtype).reshape(4, timesteps, batch, units)
    # (3, U, U): the transposed gate blocks of the recurrent kernel, gates z, r, h
    r3_t = xp.ascontiguousarray(
        recurrent_kernel.reshape(units, 3, units).transpose(1, 2, 0).astype(dtype, copy=False)
    )
    gh = gy_last.astype(dtype, copy=True)
    g, gz, tmp = xp.empty_like(gh), xp.empty_like(gh), xp.empty_like(gh)
    tmp2 = xp.empty((2, batch, units), dtype=dtype)
    tmp3 = xp.empty((3, batch, units), dtype=dtype)
    add, multiply, subtract, matmul = xp.add, xp.multiply, xp.subtract, xp.matmul
    key = ("gru backward", batch, units, dtype.str)
    steps = range(timesteps - 1, -1, -1)
    for block in loop_blocks(key, steps, 3 * batch * units * units, xp):
        for t in block:
            add(gh, gy_seq[t], out=g)
            zr, hh = zr_all[t], hh_all[t]
            d_h, d_z, d_r, d_hr = d_all[0, t], d_all[1, t], d_all[2, t], d_all[3, t]
            multiply(g, zr[0], out=gz)
            subtract(g, gz, out=d_h)  # g * (1 - z)
            _activation_grad(xp, activation, d_h, hh, tmp)
            multiply(g, diff_all[t], out=d_z)  # g * (h - hh)
            multiply(d_h, aux_all[t], out=d_r)
            _activation_grad(xp, recurrent_activation, d_all[1:3, t], zr, tmp2)
            multiply(d_h, zr[1], out=d_hr)
            matmul(d_all[1:, t], r3_t, out=tmp3)
            tmp3.sum(axis=0, out=gh)
            gh += gz
    need_x, need_k, need_rk, need_b, _ = need
    flat = d_all.reshape(4, n, units)
    features = x_tm.shape[1]
    g_x = g_kernel = g_rk = g_bias = None
    if need_x:
        # kernel blocks transposed, in d_all's gate order h, z, r: (3, U, D)
        k3_t = kernel.reshape(features, 3, units).transpose(1, 2, 0)[[2, 0, 1]]
        with timed_threads(("gru g_x", *key, features), 3 * n * units * features, xp):
            g_x = xp.matmul(flat[:3], k3_t).sum(axis=0)
    if need_k:
        with timed_threads(("gru g_kernel", *key, features), 3 * n * units * features, xp):
            g3 = xp.matmul(x_tm.T, flat[:3])  # (3, D, U), gates h, z, r
        g_kernel = xp.concatenate([g3[1], g3[2], g3[0]], axis=1)
    if need_rk:
        with timed_threads(("gru g_recurrent", *key), 3 * n * units * units, xp):
            g3 = xp.matmul(states[:-1].reshape(n, units).T, flat[1:])  # (3, U, U): z, r, h
        g_rk = xp.concatenate([g3[0], g3[1], g3[2]], axis=1)
    if need_b:
        sums = flat.sum(axis=1)  # (4, U): h, z, r, hr
        g_bias = xp.stack(
            [
                xp.concatenate([sums[1], sums[2], sums[0]]),
                xp.concatenate([sums[1], sums[2], sums[3]]),
            ]
        )
    return g_x, g_kernel, g_rk, g_bias, gh
