"""Keras 3's Fourier transforms and complex helpers: ``fft``, ``fft2``, ``ifft2``, ``rfft``,
``irfft``, ``stft``, ``istft``, ``real``, ``imag``, ``conj``, ``angle``, ``view_as_*``.

As in Keras, transforms take and return ``(real, imag)`` pairs of float tensors. They are
linear maps, so each backward is the adjoint transform (no complex autodiff is needed);
``stft``/``istft`` are composed from framing, windows and these transforms.
"""

import math

import numpy as np

from gpuk.autograd import Function, Tensor, as_tensor
from gpuk.ops._util import xp_of
from gpuk.ops.indexing import rearrange_op
from gpuk.ops.math import divide, multiply
from gpuk.ops.shaping import getitem
from gpuk.ops.slicing import extract_sequences

__all__ = [
    "angle",
    "conj",
    "conjugate",
    "fft",
    "fft2",
    "ifft2",
    "imag",
    "irfft",
    "istft",
    "real",
    "rfft",
    "stft",
    "view_as_complex",
    "view_as_real",
]


def real(x):
    """The real part (``x`` itself for real tensors, with its gradient)."""
    x = as_tensor(x)
    if x.dtype.kind != "c":
        return x
    return Tensor(x.data.real.copy())


def imag(x):
    """The imaginary part (zeros for real tensors)."""
    x = as_tensor(x)
    if x.dtype.kind != "c":
        return Tensor(xp_of(x.data).zeros_like(x.data))
    return Tensor(x.data.imag.copy())


def conj(x):
    """The complex conjugate (``x`` itself for real tensors)."""
    x = as_tensor(x)
    if x.dtype.kind != "c":
        return x
    return Tensor(xp_of(x.data).conj(x.data))


conjugate = conj


def angle(x):
    """The argument (phase) of complex values; 0 or pi for real ones. No gradient."""
    data = as_tensor(x).data
    out = xp_of(data).angle(data)
    return Tensor(out.astype(data.dtype) if data.dtype.kind == "f" else out)


def view_as_complex(x):
    """A complex tensor from a float tensor whose last axis holds (real, imag)."""
    data = as_tensor(x).data
    if data.shape[-1] != 2:
        raise ValueError(f"view_as_complex: last axis must have size 2, got shape {data.shape}")
    return Tensor(data[..., 0] + 1j * data[..., 1])


def view_as_real(x):
    """A float tensor with a trailing (real, imag) axis from a complex one."""
    data = as_tensor(x).data
    return Tensor(xp_of(data).stack([data.real, data.imag], axis=-1))


def _pair(x, name):
    if not isinstance(x, (tuple, list)) or len(x) != 2:
        raise ValueError(f"{name}: x must be a (real, imag) pair of tensors, got {type(x)}")
    re, im = as_tensor(x[0]), as_tensor(x[1], as_tensor(x[0]).data)
    if re.shape != im.shape:
        raise ValueError(f"{name}: real {re.shape} and imag {im.shape} shapes must match")
    if re.dtype.kind != "f" or im.dtype.kind != "f":
        raise ValueError(f"{name}: real and imaginary parts must be float tensors")
    return re, im


class _ComplexLinear(Function):
    """``(re, im) -> (re, im)`` of a complex linear transform and its adjoint."""

    def forward(self, re, im):
        xp = xp_of(re)
        self.dtype = re.dtype
        out = self.apply_fn(xp, re + 1j * im)
        return out.real.astype(re.dtype), out.imag.astype(re.dtype)

    def backward(self, g_re, g_im):
        xp = xp_of(g_re)
        g = g_re + 1j * g_im
        out = self.adjoint_fn(xp, g)
        return out.real.astype(self.dtype), out.imag.astype(self.dtype)


def _n_last(g, k):
    return int(np.prod(g.shape[-k:]))


def fft(x):
    """Discrete Fourier transform over the last axis of ``(real, imag)``."""
    re, im = _pair(x, "fft")
    return _ComplexLinear.apply(
        re,
        im,
        apply_fn=lambda xp, z: xp.fft.fft(z, axis=-1),
        adjoint_fn=lambda xp, g: xp.fft.ifft(g, axis=-1) * g.shape[-1],
    )


def fft2(x):
    """2-D discrete Fourier transform over the last two axes of ``(real, imag)``."""
    re, im = _pair(x, "fft2")
    return _ComplexLinear.apply(
        re,
        im,
        apply_fn=lambda xp, z: xp.fft.fft2(z, axes=(-2, -1)),
        adjoint_fn=lambda xp, g: xp.fft.ifft2(g, axes=(-2, -1)) * _n_last(g, 2),
    )


def ifft2(x):
    """Inverse 2-D discrete Fourier transform over the last two axes of ``(real, imag)``."""
    re, im = _pair(x, "ifft2")
    return _ComplexLinear.apply(
        re,
        im,
        apply_fn=lambda xp, z: xp.fft.ifft2(z, axes=(-2, -1)),
        adjoint_fn=lambda xp, g: xp.fft.fft2(g, axes=(-2, -1)) / _n_last(g, 2),
    )


class RFFT(Function):
    def forward(self, x):
        xp = xp_of(x)
        self.in_shape, self.dtype = x.shape, x.dtype
        out = xp.fft.rfft(x, n=self.n, axis=-1)
        return out.real.astype(x.dtype), out.imag.astype(x.dtype)

    def backward(self, g_re, g_im):
        # rfft = (first half of) fft of the zero-padded or cut input: adjoint = Re(F^H P^T g).
        xp = xp_of(g_re)
        n = self.n or self.in_shape[-1]
        full = xp.zeros(g_re.shape[:-1] + (n,), dtype=np.result_type(g_re.dtype, np.complex64))
        full[..., : g_re.shape[-1]] = g_re + 1j * g_im
        grad = (xp.fft.ifft(full, axis=-1) * n).real
        m = self.in_shape[-1]
        if n >= m:
            grad = grad[..., :m]
        else:
            grad = xp.concatenate([grad, xp.zeros(grad.shape[:-1] + (m - n,), grad.dtype)], -1)
        return (grad.astype(self.dtype),)


def rfft(x, fft_length=None):
    """Real-input FFT over the last axis: ``(real, imag)`` of ``fft_length // 2 + 1`` bins."""
    x = as_tensor(x)
    return RFFT.apply(x, n=None if fft_length is None else int(fft_length))


class IRFFT(Function):
    def forward(self, re, im):
        xp = xp_of(re)
        self.m, self.dtype = re.shape[-1], re.dtype
        self.n = self.n or 2 * (self.m - 1)
        return xp.fft.irfft(re + 1j * im, n=self.n, axis=-1).astype(re.dtype)

    def backward(self, g):
        # y_t = (1/n) sum_k w_k Re(z_k e^{2 pi i k t / n}) with w = 1 at DC (and at Nyquist
        # for even n), 2 elsewhere: the adjoint is (w / n) * rfft(g), with no imaginary part
        # at DC and Nyquist (irfft ignores it there).
        xp = xp_of(g)
        n = self.n
        bins = n // 2 + 1
        spec = xp.fft.rfft(g, axis=-1)
        w = xp.full(bins, 2.0)
        w[0] = 1.0
        if n % 2 == 0:
            w[-1] = 1.0
        spec = spec * w / n
        im = spec.imag.copy()
        im[..., 0] = 0
        if n % 2 == 0:
            im[..., -1] = 0
        re = spec.real
        if self.m > bins:
            pad = xp.zeros(g.shape[:-1] + (self.m - bins,), dtype=re.dtype)
            re, im = xp.concatenate([re, pad], -1), xp.concatenate([im, pad], -1)
        else:
            re, im = re[..., : self.m], im[..., : self.m]
        return re.astype(self.dtype), im.astype(self.dtype)


def irfft(x, fft_length=None):
    """Inverse of ``rfft``: a real signal of ``fft_length`` (``2 * (bins - 1)`` by default)
    from ``(real, imag)`` bins."""
    re, im = _pair(x, "irfft")
    return IRFFT.apply(re, im, n=None if fft_length is None else int(fft_length))


def _window(window, sequence_length, fft_length, like):
    xp = xp_of(like)
    if window is None:
        return xp.ones(fft_length, dtype=like.dtype)
    if isinstance(window, str):
        if window not in ("hann", "hamming"):
            raise ValueError(f"window must be 'hann', 'hamming', a tensor or None, got {window!r}")
        n = np.arange(sequence_length)
        a = 0.5 if window == "hann" else 0.54
        win = a - (1 - a) * np.cos(2 * math.pi * n / sequence_length)  # periodic, as scipy
        win = xp.asarray(win, dtype=like.dtype)
    else:
        win = xp.asarray(as_tensor(window).data, dtype=like.dtype)
        if win.shape != (sequence_length,):
            raise ValueError(f"window must have shape ({sequence_length},), got {win.shape}")
    left = (fft_length - sequence_length) // 2
    return xp.pad(win, (left, fft_length - sequence_length - left))


def _check(sequence_length, fft_length, name):
    if fft_length < sequence_length:
        raise ValueError(
            f"{name}: fft_length ({fft_length}) must be >= sequence_length ({sequence_length})"
        )


def stft(x, sequence_length, sequence_stride, fft_length, window="hann", center=True):
    """Short-time Fourier transform over the last axis: ``(real, imag)`` of shape
    ``(..., frames, fft_length // 2 + 1)``; ``center`` reflect-pads by ``fft_length // 2``."""
    x = as_tensor(x)
    if x.dtype not in (np.float32, np.float64):
        raise TypeError(f"stft: expected float32 or float64 input, got {x.dtype}")
    _check(sequence_length, fft_length, "stft")
    if center:
        half = fft_length // 2
        width = [(0, 0)] * (x.ndim - 1) + [(half, half)]
        x = rearrange_op(x, lambda xp, a: xp.pad(a, width, mode="reflect"))
    frames = extract_sequences(x, fft_length, sequence_stride)
    win = _window(window, sequence_length, fft_length, x.data)
    return rfft(multiply(frames, Tensor(win)), fft_length)


class OverlapAdd(Function):
    """Sum frames ``(..., F, n)`` placed every ``stride`` samples; the adjoint re-frames."""

    def forward(self, frames):
        xp = xp_of(frames)
        f, n = frames.shape[-2:]
        self.idx = xp.arange(f)[:, None] * self.stride + xp.arange(n)[None, :]
        out = xp.zeros(frames.shape[:-2] + (n + self.stride * (f - 1),), dtype=frames.dtype)
        moved = xp.moveaxis(out, -1, 0)
        xp.add.at(
            moved,
            self.idx.reshape(-1),
            xp.moveaxis(frames.reshape(frames.shape[:-2] + (-1,)), -1, 0),
        )
        return out

    def backward(self, g):
        return (g[..., self.idx],)


def istft(x, sequence_length, sequence_stride, fft_length, length=None, window="hann",
          center=True):  # fmt: skip
    """Inverse of ``stft``: overlap-added, window-normalised frames (cut to ``length``)."""
    re, im = _pair(x, "istft")
    if re.ndim < 2:
        raise ValueError(f"istft: x must have at least 2 dimensions, got shape {re.shape}")
    _check(sequence_length, fft_length, "istft")
    frames = irfft((re, im), fft_length)
    win = _window(window, sequence_length, fft_length, re.data)
    signal = OverlapAdd.apply(multiply(frames, Tensor(win)), stride=int(sequence_stride))
    xp = xp_of(re.data)
    f = re.shape[-2]
    norm = OverlapAdd.apply(Tensor(xp.broadcast_to(win * win, (f, fft_length)).copy()),
                            stride=int(sequence_stride)).data  # fmt: skip
    norm = xp.where(norm > 1e-10, norm, xp.ones_like(norm))
    signal = divide(signal, Tensor(norm))
    if window is None:  # as Keras: scipy's spectrum scaling, divided by the stride
        signal = multiply(signal, fft_length / sequence_stride)
    start = 0 if not center else fft_length // 2
    if length is not None:
        end = start + int(length)
    elif center:
        end = signal.shape[-1] - fft_length // 2
    else:
        end = fft_length + sequence_stride * (f - 1)
    return getitem(signal, (Ellipsis, slice(start, end)))
