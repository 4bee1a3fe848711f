"""Weight initializers with Keras's names, arguments, defaults, configs and formulas.

An initializer is called as ``init(shape, dtype=None)`` and returns a **NumPy array** of that
shape (``dtype`` defaults to ``gpuk.config.floatx()``); ``Layer.add_weight`` moves it to the
layer's device. Drawing on the host keeps the values identical on CPU and GPU runs.

Randomness: with ``seed=None`` values come from gpuk's NumPy generator, so
``gpuk.utils.set_random_seed(s)`` makes a whole model's initial weights reproducible, and two
calls give different values. With an integer ``seed`` every call gives the same values (Keras 3's
rule for an explicit seed). The values themselves are NumPy's, not TensorFlow's or JAX's.

Names: the classes (``GlorotUniform``) and their snake_case aliases (``glorot_uniform``, which
are the same classes, as in Keras 3), plus Keras's extra spellings ``normal``, ``uniform``,
``one``, ``zero``, ``IdentityInitializer``, ``OrthogonalInitializer``.
"""

import math

import numpy as np

from gpuk import _array
from gpuk._config import floatx
from gpuk.autograd.variable import register_initializer_getter as _register_initializer_getter
from gpuk.utils.serialization import deserialize_keras_object, get_object, serialize_keras_object

__all__ = [
    "Constant",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "Identity",
    "IdentityInitializer",
    "Initializer",
    "LecunNormal",
    "LecunUniform",
    "Ones",
    "Orthogonal",
    "OrthogonalInitializer",
    "RandomNormal",
    "RandomUniform",
    "STFT",
    "STFTInitializer",
    "TruncatedNormal",
    "VarianceScaling",
    "Zeros",
    "compute_fans",
    "constant",
    "deserialize",
    "get",
    "glorot_normal",
    "glorot_uniform",
    "he_normal",
    "he_uniform",
    "identity",
    "lecun_normal",
    "lecun_uniform",
    "ones",
    "orthogonal",
    "random_normal",
    "random_uniform",
    "serialize",
    "stft",
    "truncated_normal",
    "variance_scaling",
    "zeros",
]

# stddev of a unit normal truncated to [-2, 2]; dividing by it restores the wanted variance.
_TRUNCATED_STDDEV = 0.87962566103423978


def _shape(shape):
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    try:
        return tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        raise ValueError(
            f"An initializer needs a shape of known integers; received shape={shape!r}"
        ) from None


def _dtype(dtype, who, float_only):
    name = floatx() if dtype is None else dtype
    try:
        result = np.dtype(getattr(name, "name", name))
    except TypeError:
        raise ValueError(f"{who}: unknown dtype {dtype!r}") from None
    if float_only and result.kind != "f":
        raise ValueError(f"{who} only makes floating-point values; received dtype={result.name}")
    return result


class Initializer:
    """Base class of initializers: subclass it and implement ``__call__(shape, dtype=None)``.

    Example::

        class ConstantTwo(gpuk.initializers.Initializer):
            def __call__(self, shape, dtype=None):
                return np.full(shape, 2.0, dtype=dtype or "float32")
    """

    def __call__(self, shape, dtype=None):
        """Return the initial value, a NumPy array of ``shape`` and ``dtype`` (floatx)."""
        raise NotImplementedError(
            f"Initializer subclasses must implement __call__; {type(self).__name__} does not"
        )

    def get_config(self):
        """The constructor arguments as a JSON-serializable dict."""
        return {}

    @classmethod
    def from_config(cls, config):
        """Rebuild an initializer from :meth:`get_config`'s output."""
        return cls(**config)

    def clone(self):
        """A new initializer with the same configuration."""
        return self.__class__.from_config(self.get_config())

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Zeros(Initializer):
    """Initializer that makes arrays of zeros."""

    def __call__(self, shape, dtype=None):
        return np.zeros(_shape(shape), dtype=_dtype(dtype, "Zeros", False))


class Ones(Initializer):
    """Initializer that makes arrays of ones."""

    def __call__(self, shape, dtype=None):
        return np.ones(_shape(shape), dtype=_dtype(dtype, "Ones", False))


class Constant(Initializer):
    """Initializer that fills arrays with ``value`` (a number, or an array broadcast to shape).

    Args:
        value: the fill value.
    """

    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None):
        shape = _shape(shape)
        value = np.asarray(_array.to_numpy(getattr(self.value, "data", self.value)))
        try:
            filled = np.broadcast_to(value, shape)
        except ValueError:
            raise ValueError(
                f"Constant: value of shape {value.shape} cannot fill shape {shape}"
            ) from None
        return np.array(filled, dtype=_dtype(dtype, "Constant", False))

    def get_config(self):
        value = self.value
        if not _array.is_array(value) and _array.is_array(getattr(value, "data", None)):
            value = value.data  # a Tensor
        if _array.is_array(value):  # NumPy or CuPy: both are written as nested lists
            value = _array.to_numpy(value).tolist()
        elif isinstance(value, np.generic):
            value = value.item()
        return {"value": value}


class RandomInitializer(Initializer):
    """Base of the random initializers: holds the seed and picks the generator."""

    def __init__(self, seed=None):
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
            raise ValueError(
                f"{type(self).__name__}: seed must be an integer or None; received seed={seed!r}"
            )
        self.seed = None if seed is None else int(seed)

    def _rng(self):
        if self.seed is None:
            return _array.generator(np)
        return np.random.default_rng(self.seed)

    def _truncated(self, shape, mean, stddev):
        """Normal draws re-drawn until within two standard deviations, as Keras does."""
        rng = self._rng()
        values = rng.standard_normal(shape)
        outside = np.abs(values) > 2.0
        while outside.any():
            values[outside] = rng.standard_normal(int(outside.sum()))
            outside = np.abs(values) > 2.0
        return mean + stddev * values

    def get_config(self):
        return {"seed": self.seed}


class RandomNormal(RandomInitializer):
    """Values drawn from a normal distribution.

    Args:
        mean: mean of the distribution.
        stddev: standard deviation of the distribution.
        seed: integer seed (same values on every call) or None.
    """

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean = mean
        self.stddev = stddev
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        dtype = _dtype(dtype, "RandomNormal", True)
        values = self._rng().normal(self.mean, self.stddev, size=_shape(shape))
        return values.astype(dtype)

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class TruncatedNormal(RandomInitializer):
    """Normal values re-drawn when further than two standard deviations from the mean.

    Args:
        mean: mean of the distribution before truncation.
        stddev: standard deviation before truncation.
        seed: integer seed (same values on every call) or None.
    """

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean = mean
        self.stddev = stddev
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        dtype = _dtype(dtype, "TruncatedNormal", True)
        return self._truncated(_shape(shape), self.mean, self.stddev).astype(dtype)

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class RandomUniform(RandomInitializer):
    """Values drawn uniformly from ``[minval, maxval)``.

    Args:
        minval: lower bound.
        maxval: upper bound.
        seed: integer seed (same values on every call) or None.
    """

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval = minval
        self.maxval = maxval
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        dtype = _dtype(dtype, "RandomUniform", True)
        values = self._rng().uniform(self.minval, self.maxval, size=_shape(shape))
        return values.astype(dtype)

    def get_config(self):
        return {**super().get_config(), "minval": self.minval, "maxval": self.maxval}


def compute_fans(shape, input_axes=None, output_axes=None):
    """``(fan_in, fan_out)`` of a weight shape, Keras's rule.

    Rank 0: (1, 1); rank 1: (n, n); rank 2: (rows, cols); higher ranks are convolution kernels
    ``(..., input_depth, depth)`` whose leading dimensions multiply both fans (the receptive
    field). Keras 3.15's ``input_axes``/``output_axes``, when both given, name the axes to
    multiply instead.
    """
    shape = _shape(shape)
    if input_axes is not None and output_axes is not None:
        return (
            int(math.prod(shape[a] for a in input_axes)),
            int(math.prod(shape[a] for a in output_axes)),
        )
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive_field = math.prod(shape[:-2])
    return shape[-2] * receptive_field, shape[-1] * receptive_field


class VarianceScaling(RandomInitializer):
    """Values whose variance is ``scale / n``, n the fan chosen by ``mode``.

    ``truncated_normal`` (also spelled ``normal``) draws a normal truncated at two standard
    deviations with stddev ``sqrt(scale / n) / 0.87962566103423978`` (so the truncated values
    keep the intended variance); ``untruncated_normal`` uses stddev ``sqrt(scale / n)``;
    ``uniform`` draws from ``[-limit, limit]`` with ``limit = sqrt(3 * scale / n)``.

    Args:
        scale: positive scaling factor.
        mode: ``"fan_in"``, ``"fan_out"`` or ``"fan_avg"``.
        distribution: ``"truncated_normal"``, ``"untruncated_normal"`` or ``"uniform"``.
        seed: integer seed (same values on every call) or None.
        input_axes: optional axes giving fan_in (Keras 3.15); used with ``output_axes``.
        output_axes: optional axes giving fan_out (Keras 3.15).

    Raises:
        ValueError: for a non-positive scale or an unknown mode or distribution.
    """

    def __init__(
        self,
        scale=1.0,
        mode="fan_in",
        distribution="truncated_normal",
        seed=None,
        input_axes=None,
        output_axes=None,
    ):
        if not scale > 0.0:
            raise ValueError(f"VarianceScaling: scale must be positive; received scale={scale}")
        modes = ("fan_in", "fan_out", "fan_avg")
        if mode not in modes:
            raise ValueError(
                f"VarianceScaling: invalid mode={mode!r}; use one of {', '.join(modes)}"
            )
        distribution = str(distribution).lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        distributions = ("truncated_normal", "untruncated_normal", "uniform")
        if distribution not in distributions:
            raise ValueError(
                f"VarianceScaling: invalid distribution={distribution!r}; use one of "
                f"{', '.join(distributions)} (or 'normal')"
            )
        self.scale = scale
        self.mode = mode
        self.distribution = distribution
        self.input_axes = input_axes
        self.output_axes = output_axes
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        dtype = _dtype(dtype, type(self).__name__, True)
        shape = _shape(shape)
        fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}
        scale = self.scale / max(1.0, fan[self.mode])
        if self.distribution == "truncated_normal":
            values = self._truncated(shape, 0.0, math.sqrt(scale) / _TRUNCATED_STDDEV)
        elif self.distribution == "untruncated_normal":
            values = self._rng().normal(0.0, math.sqrt(scale), size=shape)
        else:
            limit = math.sqrt(3.0 * scale)
            values = self._rng().uniform(-limit, limit, size=shape)
        return values.astype(dtype)

    def _axes_config(self):
        # Written only when set, so that configs stay loadable by tf.keras (which rejects them).
        config = {}
        if self.input_axes is not None:
            config["input_axes"] = self.input_axes
        if self.output_axes is not None:
            config["output_axes"] = self.output_axes
        return config

    def get_config(self):
        return {
            **super().get_config(),
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            **self._axes_config(),
        }


def _variance_scaling_preset(name, scale, mode, distribution, formula):
    def __init__(self, seed=None, input_axes=None, output_axes=None):
        VarianceScaling.__init__(
            self,
            scale=scale,
            mode=mode,
            distribution=distribution,
            seed=seed,
            input_axes=input_axes,
            output_axes=output_axes,
        )

    def get_config(self):
        return {"seed": self.seed, **self._axes_config()}

    doc = (
        f"{formula}\n\n    Same as ``VarianceScaling(scale={scale}, mode={mode!r}, "
        f"distribution={distribution!r})``.\n\n    Args:\n        seed: integer seed (same "
        "values on every call) or None.\n    "
    )
    return type(
        name,
        (VarianceScaling,),
        {"__init__": __init__, "get_config": get_config, "__doc__": doc, "__module__": __name__},
    )


GlorotUniform = _variance_scaling_preset(
    "GlorotUniform",
    1.0,
    "fan_avg",
    "uniform",
    "Glorot (Xavier) uniform: ``U(-limit, limit)``, ``limit = sqrt(6 / (fan_in + fan_out))``.",
)
GlorotNormal = _variance_scaling_preset(
    "GlorotNormal",
    1.0,
    "fan_avg",
    "truncated_normal",
    "Glorot (Xavier) normal: truncated normal, stddev ``sqrt(2 / (fan_in + fan_out))``.",
)
HeNormal = _variance_scaling_preset(
    "HeNormal", 2.0, "fan_in", "truncated_normal", "He normal: stddev ``sqrt(2 / fan_in)``."
)
HeUniform = _variance_scaling_preset(
    "HeUniform", 2.0, "fan_in", "uniform", "He uniform: limit ``sqrt(6 / fan_in)``."
)
LecunNormal = _variance_scaling_preset(
    "LecunNormal", 1.0, "fan_in", "truncated_normal", "LeCun normal: stddev ``sqrt(1 / fan_in)``."
)
LecunUniform = _variance_scaling_preset(
    "LecunUniform", 1.0, "fan_in", "uniform", "LeCun uniform: limit ``sqrt(3 / fan_in)``."
)


class Orthogonal(RandomInitializer):
    """A (semi-)orthogonal matrix from the QR decomposition of a normal matrix, times ``gain``.

    Shapes of rank > 2 are treated as ``(prod(shape[:-1]), shape[-1])`` matrices and reshaped.
    With fewer rows than columns the rows are orthonormal, otherwise the columns. The signs of
    Q's columns are fixed by the signs of R's diagonal, as Keras does, so that the result is
    uniformly distributed.

    Args:
        gain: multiplicative factor.
        seed: integer seed (same values on every call) or None.

    Raises:
        ValueError: when called with a shape of rank < 2.
    """

    def __init__(self, gain=1.0, seed=None):
        self.gain = gain
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        dtype = _dtype(dtype, "Orthogonal", True)
        shape = _shape(shape)
        if len(shape) < 2:
            raise ValueError(
                "Orthogonal: the tensor to initialize must be at least two-dimensional; "
                f"received shape={shape} of rank {len(shape)}"
            )
        rows, cols = math.prod(shape[:-1]), shape[-1]
        flat = self._rng().standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(flat)
        q = q * np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return (self.gain * q.reshape(shape)).astype(dtype)

    def get_config(self):
        return {**super().get_config(), "gain": self.gain}


class Identity(Initializer):
    """``gain`` times the identity matrix (2-D shapes only; rectangular shapes are allowed).

    Args:
        gain: multiplicative factor.

    Raises:
        ValueError: when called with a shape that is not 2-D.
    """

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        dtype = _dtype(dtype, "Identity", False)
        shape = _shape(shape)
        if len(shape) != 2:
            raise ValueError(
                "Identity: the identity initializer only makes 2-D matrices; "
                f"received shape={shape}"
            )
        return (self.gain * np.eye(*shape)).astype(dtype)

    def get_config(self):
        return {"gain": self.gain}


# Keras 3 exports the snake_case names as the classes themselves.
class STFT(Initializer):
    """Windowed Fourier basis for a ``(frame_length, 1, fft_bins)`` kernel, as Keras 3's
    ``initializers.STFT``: ``side`` ``"real"`` (cosines) or ``"imag"`` (sines), a SciPy
    ``window`` name or array (``None`` for none), ``scaling`` ``"density"``/``"spectrum"``/None."""

    def __init__(self, side="real", window="hann", scaling="density", periodic=False):
        if side not in ("real", "imag"):
            raise ValueError(f"side should be 'real' or 'imag', not {side}")
        if isinstance(window, str):
            _window(window, 1, periodic)  # refuses an unknown window name early
        if scaling is not None and scaling not in ("density", "spectrum"):
            raise ValueError(
                "Scaling is invalid, it must be `None`, 'density' or 'spectrum'. "
                f"Received scaling={scaling}"
            )
        self.side, self.window, self.scaling, self.periodic = side, window, scaling, periodic

    def __call__(self, shape, dtype=None):
        # Keras's contract: a (frame_length, 1, fft_bins) kernel whatever the channel count.
        frame_length, _, fft_bins = _shape(shape)
        return stft_kernel(
            self.side,
            frame_length,
            fft_bins,
            self.window,
            self.scaling,
            self.periodic,
            _dtype(dtype, "STFT", True).name,
        )

    def get_config(self):
        window = self.window.tolist() if hasattr(self.window, "tolist") else self.window
        return {
            "side": self.side,
            "window": window,
            "scaling": self.scaling,
            "periodic": self.periodic,
        }


def _window(window, length, periodic):
    if window is None:
        return None
    if isinstance(window, str):
        import scipy.signal

        return np.asarray(scipy.signal.get_window(window, length, fftbins=periodic), np.float64)
    return np.asarray(window, np.float64)


def stft_kernel(
    side, frame_length, fft_bins, window="hann", scaling="density", periodic=False, dtype="float32"
):
    """Keras's ``initializers.STFT`` value: ``(frame_length, 1, fft_bins)`` Fourier basis."""
    fft_length = (fft_bins - 1) * 2
    freq = np.arange(fft_bins, dtype=dtype).reshape(1, 1, fft_bins) / np.asarray(fft_length, dtype)
    time = np.arange(frame_length, dtype=dtype).reshape(frame_length, 1, 1)
    args = (-2 * time * freq) * np.arccos(np.asarray(-1, dtype))
    kernel = (np.cos(args) if side == "real" else np.sin(args)).astype(dtype)
    win = _window(window, frame_length, periodic)
    if win is not None:
        if win.shape != (frame_length,):
            raise ValueError("The shape of `window` must be equal to [frame_length].")
        win = win.astype(dtype).reshape(frame_length, 1, 1)
        scale = 1.0
        if scaling == "density":
            scale = np.sqrt(np.sum(np.square(win)))
        elif scaling == "spectrum":
            scale = np.sum(np.abs(win))
        kernel = (kernel * win / np.asarray(scale, dtype)).astype(dtype)
    return kernel


IdentityInitializer = Identity
OrthogonalInitializer = Orthogonal
STFTInitializer = STFT
stft = STFT
zeros = Zeros
ones = Ones
constant = Constant
random_normal = RandomNormal
random_uniform = RandomUniform
truncated_normal = TruncatedNormal
variance_scaling = VarianceScaling
glorot_uniform = GlorotUniform
glorot_normal = GlorotNormal
he_normal = HeNormal
he_uniform = HeUniform
lecun_normal = LecunNormal
lecun_uniform = LecunUniform
orthogonal = Orthogonal
identity = Identity

_CLASSES = (
    Constant,
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    Identity,
    LecunNormal,
    LecunUniform,
    Ones,
    Orthogonal,
    RandomNormal,
    RandomUniform,
    STFT,
    TruncatedNormal,
    VarianceScaling,
    Zeros,
)
_SNAKE = {
    Constant: "constant",
    GlorotNormal: "glorot_normal",
    GlorotUniform: "glorot_uniform",
    HeNormal: "he_normal",
    HeUniform: "he_uniform",
    Identity: "identity",
    LecunNormal: "lecun_normal",
    LecunUniform: "lecun_uniform",
    Ones: "ones",
    Orthogonal: "orthogonal",
    RandomNormal: "random_normal",
    RandomUniform: "random_uniform",
    STFT: "stft",
    TruncatedNormal: "truncated_normal",
    VarianceScaling: "variance_scaling",
    Zeros: "zeros",
}
_BUILTINS = {cls.__name__: cls for cls in _CLASSES}
_BUILTINS.update({snake: cls for cls, snake in _SNAKE.items()})
_BUILTINS.update(
    {
        "IdentityInitializer": Identity,
        "OrthogonalInitializer": Orthogonal,
        "STFTInitializer": STFT,
        "normal": RandomNormal,
        "uniform": RandomUniform,
        "one": Ones,
        "zero": Zeros,
    }
)


def serialize(initializer):
    """The legacy-form config ``{"class_name": ..., "config": {...}}`` of an initializer."""
    return serialize_keras_object(initializer)


def deserialize(config, custom_objects=None):
    """An initializer instance from a name or a config dict (legacy or Keras 3 form).

    Raises:
        ValueError: for unknown names (the message lists the known ones).
    """
    return deserialize_keras_object(config, _BUILTINS, custom_objects, "initializer")


def _from_array(value):
    value = np.array(_array.to_numpy(getattr(value, "data", value)))

    def initialize(shape, dtype=None):
        if _shape(shape) != value.shape:
            raise ValueError(
                f"Expected shape {value.shape} for an array used as initializer; "
                f"received shape={tuple(shape)}"
            )
        return value.astype(_dtype(dtype, "initializer", False))

    return initialize


def get(identifier):
    """Resolve an initializer identifier.

    Args:
        identifier: None (returned as None), a name (``"glorot_uniform"``, ``"Zeros"``), a config
            dict in legacy or Keras 3 form, an initializer class (instantiated with defaults) or
            instance, any callable ``fn(shape, dtype=None)``, or an array (used as the value).

    Raises:
        ValueError: for unknown names (listing the known ones).
        TypeError: for identifiers of another type.
    """
    if _array.is_array(identifier) or hasattr(identifier, "data") and hasattr(identifier, "shape"):
        return _from_array(identifier)
    return get_object(identifier, deserialize, "initializer")


# gpuk.Variable(initializer="ones", shape=...) resolves names through this getter: autograd sits
# below this module and must not import it.
_register_initializer_getter(get)
