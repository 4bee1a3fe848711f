"""Audio feature layers: STFTSpectrogram and MelSpectrogram, numerically as Keras 3.

``STFTSpectrogram`` is Keras's: a strided 1-D convolution with trainable ``real_kernel`` and
``imag_kernel`` weights initialised to windowed Fourier bases (so gradients reach them).
``MelSpectrogram`` frames the centred (reflect-padded) signal, takes ``rfft`` on the signal's
array module, applies the HTK mel filterbank and optional decibel scaling.
"""

import math
import warnings

import numpy as np

from gpuk import ops
from gpuk._array import get_array_module
from gpuk._config import epsilon
from gpuk.autograd import Tensor
from gpuk.backend import image_data_format
from gpuk.initializers import _window, stft_kernel
from gpuk.layers.base import InputSpec, Layer
from gpuk.layers.preprocessing.base import PreprocessingLayer, raw

__all__ = ["MelSpectrogram", "STFTSpectrogram"]

_MEL_BREAK_FREQUENCY_HERTZ = 700.0
_MEL_HIGH_FREQUENCY_Q = 1127.0


def _frames(x, length, step, padding):
    """``(batch, frames, length)`` windows of ``(batch, time)`` (Keras's conv padding rule)."""
    xp = get_array_module(x)
    time = x.shape[-1]
    if padding == "same":
        out = -(-time // step)
        total = max((out - 1) * step + length - time, 0)
        x = xp.pad(x, ((0, 0), (total // 2, total - total // 2)))
    count = (x.shape[-1] - length) // step + 1
    index = np.arange(length)[None, :] + step * np.arange(count)[:, None]
    return x[:, xp.asarray(index)]


class STFTSpectrogram(Layer):
    """Short-time Fourier transform of ``(batch, time, channels)`` signals (Keras 3's layer).

    Args:
        mode: ``"log"`` (default), ``"magnitude"``, ``"psd"``, ``"real"``, ``"imag"``,
            ``"angle"`` or ``"stft"`` (real and imaginary parts concatenated).
        frame_length: window size; frame_step: hop (``frame_length // 2`` by default).
        fft_length: FFT size (next power of two of ``frame_length`` by default).
        window: a SciPy window name or an array; periodic: periodic window.
        scaling: ``"density"``, ``"spectrum"`` or None.
        padding: ``"valid"`` or ``"same"``.
        expand_dims: keep channels as a separate last axis.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
    """

    def __init__(
        self,
        mode="log",
        frame_length=256,
        frame_step=None,
        fft_length=None,
        window="hann",
        periodic=False,
        scaling="density",
        padding="valid",
        expand_dims=False,
        data_format=None,
        **kwargs,
    ):
        if frame_step is not None and (frame_step > frame_length or frame_step < 1):
            raise ValueError(
                "`frame_step` should be a positive integer not greater than `frame_length`. "
                f"Received frame_step={frame_step}, frame_length={frame_length}"
            )
        if fft_length is not None and fft_length < frame_length:
            raise ValueError(
                "`fft_length` should be not less than `frame_length`. "
                f"Received fft_length={fft_length}, frame_length={frame_length}"
            )
        if fft_length is not None and (fft_length & -fft_length) != fft_length:
            warnings.warn(
                "`fft_length` is recommended to be a power of two. "
                f"Received fft_length={fft_length}",
                stacklevel=2,
            )
        modes = ["log", "magnitude", "psd", "real", "imag", "angle", "stft"]
        if mode not in modes:
            raise ValueError(f"Output mode is invalid, it must be one of {modes}. Received: {mode}")
        if scaling is not None and scaling not in ["density", "spectrum"]:
            raise ValueError(
                "Scaling is invalid, it must be `None`, 'density' or 'spectrum'. "
                f"Received {scaling}"
            )
        if padding not in ["valid", "same"]:
            raise ValueError(
                f"Padding is invalid, it should be 'valid', 'same'. Received: {padding}"
            )
        super().__init__(**kwargs)
        self.mode = mode
        self.frame_length = int(frame_length)
        self.frame_step = frame_step
        self._frame_step = frame_step or self.frame_length // 2
        self.fft_length = fft_length
        self._fft_length = fft_length or 2 ** int(math.ceil(math.log2(frame_length)))
        self.window = window
        self.periodic = periodic
        self.scaling = scaling
        self.padding = padding
        self.expand_dims = expand_dims
        self.data_format = data_format or image_data_format()
        self.input_spec = InputSpec(ndim=3)

    def build(self, input_shape):
        shape = (self.frame_length, 1, self._fft_length // 2 + 1)

        def init(side):
            return lambda shape, dtype=None: stft_kernel(
                side,
                shape[0],
                shape[2],
                self.window,
                self.scaling,
                self.periodic,
                dtype or self.dtype,
            )

        if self.mode != "imag":
            self.real_kernel = self.add_weight(
                name="real_kernel", shape=shape, initializer=init("real")
            )
        if self.mode != "real":
            self.imag_kernel = self.add_weight(
                name="imag_kernel", shape=shape, initializer=init("imag")
            )
        self.built = True

    def _conv(self, x, kernel):
        """``(batch, channels, freq, time)`` convolution of every channel with ``kernel``."""
        xp = get_array_module(x)
        if self.data_format == "channels_last":
            x = x.transpose(0, 2, 1)
        batch, channels, time = x.shape
        frames = _frames(
            x.reshape(batch * channels, time), self.frame_length, self._frame_step, self.padding
        )
        weights = ops.reshape(kernel, (self.frame_length, -1))
        out = ops.matmul(Tensor(xp.ascontiguousarray(frames)), weights)  # (b*c, time', freq)
        out = ops.reshape(out, (batch, channels, out.shape[1], out.shape[2]))
        return ops.transpose(out, (0, 1, 3, 2))

    def _adjust(self, out):
        batch, channels, freq, time = out.shape
        if self.data_format == "channels_last":
            if self.expand_dims:
                return ops.transpose(out, (0, 3, 2, 1))
            return ops.transpose(ops.reshape(out, (batch, channels * freq, time)), (0, 2, 1))
        if self.expand_dims:
            return ops.transpose(out, (0, 1, 3, 2))
        return ops.reshape(out, (batch, channels * freq, time))

    def call(self, inputs):
        x = raw(inputs)
        real = self._conv(x, self.real_kernel) if self.mode != "imag" else None
        imag = self._conv(x, self.imag_kernel) if self.mode != "real" else None
        if self.mode == "real":
            return self._adjust(real)
        if self.mode == "imag":
            return self._adjust(imag)
        if self.mode == "angle":
            xp = get_array_module(real.data)
            return self._adjust(Tensor(xp.arctan2(imag.data, real.data)))
        if self.mode == "stft":
            return self._adjust(ops.concatenate([real, imag], axis=2))
        power = ops.square(real) + ops.square(imag)
        if self.mode == "psd":
            inner = ops.pad(power[:, :, 1:-1, :], [[0, 0], [0, 0], [1, 1], [0, 0]])
            return self._adjust(power + inner)
        magnitude = self._adjust(ops.sqrt(ops.maximum(power, epsilon())))
        if self.mode == "magnitude":
            return magnitude
        return ops.log(ops.maximum(magnitude, epsilon()))

    def compute_output_shape(self, input_shape):
        if self.data_format == "channels_last":
            batch, time, channels = input_shape
        else:
            batch, channels, time = input_shape
        freq = self._fft_length // 2 + 1
        if self.mode == "stft":
            freq *= 2
        if time is None:
            steps = None
        elif self.padding == "same":
            steps = -(-time // self._frame_step)
        else:
            steps = (time - self.frame_length) // self._frame_step + 1
        if self.expand_dims:
            if self.data_format == "channels_last":
                return (batch, steps, freq, channels)
            return (batch, channels, steps, freq)
        if self.data_format == "channels_last":
            return (batch, steps, freq * channels)
        return (batch, freq * channels, steps)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "mode": self.mode,
                "frame_length": self.frame_length,
                "frame_step": self.frame_step,
                "fft_length": self.fft_length,
                "window": self.window,
                "periodic": self.periodic,
                "scaling": self.scaling,
                "padding": self.padding,
                "data_format": self.data_format,
                "expand_dims": self.expand_dims,
            }
        )
        return config


class MelSpectrogram(PreprocessingLayer):
    """Mel spectrogram of ``(time,)`` or ``(batch, time)`` signals (Keras 3's layer).

    Output: ``(batch, num_mel_bins, frames)``. Arguments and defaults are Keras's:
    ``fft_length=2048``, ``sequence_stride=512``, ``sequence_length`` (defaults to
    ``fft_length``), ``window`` (``"hann"`` or ``"hamming"``), ``sampling_rate=16000``,
    ``num_mel_bins=128``, ``min_freq=20.0``, ``max_freq`` (Nyquist), ``power_to_db=True``,
    ``top_db=80.0``, ``mag_exp=2.0``, ``min_power=1e-10``, ``ref_power=1.0``.
    """

    def __init__(
        self,
        fft_length=2048,
        sequence_stride=512,
        sequence_length=None,
        window="hann",
        sampling_rate=16000,
        num_mel_bins=128,
        min_freq=20.0,
        max_freq=None,
        power_to_db=True,
        top_db=80.0,
        mag_exp=2.0,
        min_power=1e-10,
        ref_power=1.0,
        **kwargs,
    ):
        self.fft_length = fft_length
        self.sequence_stride = sequence_stride
        self.sequence_length = sequence_length or fft_length
        if self.fft_length < self.sequence_length:
            raise ValueError(
                "`fft_length` must be greater than or equal to `sequence_length`. Received: "
                f"`sequence_length`={self.sequence_length}, `fft_length`={self.fft_length}."
            )
        self.window = window
        self.sampling_rate = sampling_rate
        self.num_mel_bins = num_mel_bins
        self.min_freq = min_freq
        self.max_freq = max_freq or int(sampling_rate / 2)
        self.power_to_db = power_to_db
        self.top_db = top_db
        self.mag_exp = mag_exp
        self.min_power = min_power
        self.ref_power = ref_power
        super().__init__(**kwargs)

    def _spectrogram(self, x):
        xp = get_array_module(x)
        half = self.fft_length // 2
        x = xp.pad(x, [(0, 0)] * (x.ndim - 1) + [(half, half)], mode="reflect")
        left = (self.fft_length - self.sequence_length) // 2
        right = self.fft_length - self.sequence_length - left
        if self.window is None:
            win = np.ones(self.fft_length)
        else:
            if isinstance(self.window, str) and self.window not in ("hann", "hamming"):
                raise ValueError(
                    "If a string is passed to `window`, it must be one of `'hann'`, `'hamming'`."
                )
            win = np.pad(_window(self.window, self.sequence_length, True), (left, right))
        win = win.astype(x.dtype)
        count = (x.shape[-1] - self.fft_length) // self.sequence_stride + 1
        index = (
            np.arange(self.fft_length)[None, :] + self.sequence_stride * np.arange(count)[:, None]
        )
        frames = x[..., xp.asarray(index)] * xp.asarray(win)
        spectrum = xp.fft.rfft(frames, n=self.fft_length, axis=-1)
        real = spectrum.real.astype(x.dtype)
        imag = spectrum.imag.astype(x.dtype)
        return xp.sqrt(real * real + imag * imag) ** self.mag_exp

    def linear_to_mel_weight_matrix(
        self,
        num_mel_bins=20,
        num_spectrogram_bins=129,
        sampling_rate=8000,
        lower_edge_hertz=125.0,
        upper_edge_hertz=3800.0,
        dtype="float32",
    ):
        """HTK mel filterbank, ``(num_spectrogram_bins, num_mel_bins)``, peaks of 1."""
        dtype = np.dtype(dtype)

        def to_mel(hz):
            return _MEL_HIGH_FREQUENCY_Q * np.log(1.0 + hz / _MEL_BREAK_FREQUENCY_HERTZ)

        nyquist = np.asarray(sampling_rate, dtype) / 2.0
        linear = np.linspace(np.asarray(0.0, dtype), nyquist, num_spectrogram_bins).astype(dtype)
        bins_mel = to_mel(linear[1:])[:, None]
        edges = np.linspace(
            to_mel(np.asarray(lower_edge_hertz, dtype)),
            to_mel(np.asarray(upper_edge_hertz, dtype)),
            num_mel_bins + 2,
        ).astype(dtype)
        lower, center, upper = edges[:-2][None], edges[1:-1][None], edges[2:][None]
        lower_slopes = (bins_mel - lower) / (center - lower)
        upper_slopes = (upper - bins_mel) / (upper - center)
        weights = np.maximum(0.0, np.minimum(lower_slopes, upper_slopes)).astype(dtype)
        return np.pad(weights, [[1, 0], [0, 0]])

    def call(self, inputs):
        x = raw(inputs)
        xp = get_array_module(x)
        dtype = self.compute_dtype if self.compute_dtype in ("float32", "float64") else "float32"
        x = x.astype(dtype)
        spec = self._spectrogram(x)
        matrix = self.linear_to_mel_weight_matrix(
            self.num_mel_bins, spec.shape[-1], self.sampling_rate, self.min_freq, self.max_freq
        )
        out = xp.tensordot(spec, xp.asarray(matrix.astype(dtype)), axes=1)
        if self.power_to_db:
            log_spec = 10.0 * xp.log10(xp.maximum(out, self.min_power))
            log_spec = log_spec - 10.0 * np.log10(max(abs(self.ref_power), self.min_power))
            out = xp.maximum(log_spec, log_spec.max() - self.top_db)
        return Tensor(xp.swapaxes(out, -1, -2).astype(self.compute_dtype))

    def compute_output_shape(self, input_shape):
        def frames(n):
            return None if n is None else (n + self.sequence_stride + 1) // self.sequence_stride

        if len(input_shape) == 1:
            return (self.num_mel_bins, frames(input_shape[0]))
        return (input_shape[0], self.num_mel_bins, frames(input_shape[1]))

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "fft_length": self.fft_length,
                "sequence_stride": self.sequence_stride,
                "sequence_length": self.sequence_length,
                "window": self.window,
                "sampling_rate": self.sampling_rate,
                "num_mel_bins": self.num_mel_bins,
                "min_freq": self.min_freq,
                "max_freq": self.max_freq,
                "power_to_db": self.power_to_db,
                "top_db": self.top_db,
                "mag_exp": self.mag_exp,
                "min_power": self.min_power,
                "ref_power": self.ref_power,
            }
        )
        return config
