"""Keras 3's ``keras.random``: seeded random tensors on the current device.

Seeds work as in Keras:

- an int ``seed`` is stateless: the same call with the same seed gives the same tensor;
- a :class:`SeedGenerator` advances its state at every draw, so repeated calls differ but a
  generator built with the same seed replays the same sequence;
- ``seed=None`` draws from gpuk's shared generator of the device, which
  ``gpuk.utils.set_random_seed`` resets (so whole programs are reproducible).

Everything is drawn on the device in use (NumPy's ``Generator`` on the CPU, CuPy's
``RandomState`` on a GPU) without reading values back to the host.
"""

import numpy as np

from gpuk._array import default_module, fresh_seed, generator
from gpuk._array.graphs import refuse_in_capture
from gpuk._config import floatx
from gpuk.autograd import Tensor, as_tensor
from gpuk.ops._util import xp_of
from gpuk.ops.random import dropout as _dropout
from gpuk.ops.shaping import gather

__all__ = [
    "SeedGenerator",
    "beta",
    "binomial",
    "categorical",
    "dropout",
    "gamma",
    "normal",
    "randint",
    "shuffle",
    "truncated_normal",
    "uniform",
]


class SeedGenerator:
    """A stateful source of seeds: each draw that uses it gets a new seed.

    Args:
        seed: an int; None picks one from gpuk's shared generator (reproducible under
            ``gpuk.utils.set_random_seed``).
        name: accepted for Keras compatibility.

    Example::

        gen = gpuk.random.SeedGenerator(1337)
        a = gpuk.random.normal((2,), seed=gen)
        b = gpuk.random.normal((2,), seed=gen)   # differs from a
    """

    def __init__(self, seed=None, name=None, **kwargs):
        if seed is not None and not isinstance(seed, (int, np.integer)):
            raise ValueError(f"SeedGenerator: seed must be an int or None, got {seed!r}")
        self._initial_seed = int(seed) if seed is not None else fresh_seed()
        self.name = name or "seed_generator"
        self._counter = 0

    @property
    def state(self):
        """``[seed, number of draws so far]`` as a uint32 tensor (as Keras's state)."""
        return Tensor(np.array([self._initial_seed % 2**32, self._counter], dtype=np.uint32))

    def next(self, ordered=True):
        """The next seed (an int) and advance the state."""
        words = np.random.SeedSequence([self._initial_seed % 2**63, self._counter])
        self._counter += 1
        return int(words.generate_state(1, dtype=np.uint32)[0])

    def get_config(self):
        return {"seed": self._initial_seed, "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _resolve_seed(seed):
    """An int seed for a fresh generator, or None for the shared one."""
    if seed is None:
        return None
    if isinstance(seed, SeedGenerator):
        return seed.next()
    if isinstance(seed, (int, np.integer)):
        return int(seed)
    if isinstance(seed, Tensor) or hasattr(seed, "shape"):
        values = np.asarray(as_tensor(seed).numpy()).reshape(-1).astype(np.uint64).tolist()
        return int(np.random.SeedSequence(values).generate_state(1, np.uint32)[0])
    raise ValueError(
        f"seed must be None, an int, a SeedGenerator or a seed tensor, got {type(seed).__name__}"
    )


class _Draw:
    """The generator methods gpuk needs, on NumPy's Generator or CuPy's RandomState."""

    def __init__(self, xp, seed):
        if seed is not None:
            refuse_in_capture("a seeded random draw")
        self.xp = xp
        if seed is None:
            self.rng = generator(xp)
        elif xp is np:
            self.rng = np.random.default_rng(seed)
        else:
            self.rng = xp.random.RandomState(seed)

    def normal(self, shape):
        return self.rng.normal(0.0, 1.0, size=shape)

    def uniform(self, shape):
        return self.rng.uniform(0.0, 1.0, size=shape)

    def integers(self, low, high, shape):
        if hasattr(self.rng, "integers"):
            return self.rng.integers(low, high, size=shape)
        return self.rng.randint(low, high, size=shape)

    def gamma(self, alpha, shape):
        return self.rng.gamma(alpha, 1.0, size=shape)

    def beta(self, a, b, shape):
        return self.rng.beta(a, b, size=shape)

    def binomial(self, n, p, shape):
        return self.rng.binomial(n, p, size=shape)


def _shape(shape):
    if isinstance(shape, Tensor):
        shape = shape.numpy().tolist()
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(s) for s in shape)


def _float_dtype(dtype, name):
    dtype = np.dtype(dtype or floatx())
    if dtype.kind != "f":
        raise ValueError(f"random.{name}: dtype must be a float type, got {dtype.name!r}")
    return dtype


def _param(value, xp):
    """A Python number as it is; a tensor or array as an array on ``xp``."""
    if isinstance(value, (int, float, np.integer, np.floating)):
        return value
    data = as_tensor(value).data
    return data if xp_of(data) is xp else xp.asarray(data)


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples from a normal distribution with the given ``mean`` and ``stddev``."""
    xp = default_module()
    dtype = _float_dtype(dtype, "normal")
    z = _Draw(xp, _resolve_seed(seed)).normal(_shape(shape))
    return Tensor((_param(mean, xp) + _param(stddev, xp) * z).astype(dtype))


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Samples uniform in ``[minval, maxval)`` (float dtypes only, as Keras)."""
    xp = default_module()
    dtype = _float_dtype(dtype, "uniform")
    u = _Draw(xp, _resolve_seed(seed)).uniform(_shape(shape))
    low, high = _param(minval, xp), _param(maxval, xp)
    return Tensor((low + (high - low) * u).astype(dtype))


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal samples with values beyond two standard deviations redrawn."""
    xp = default_module()
    dtype = _float_dtype(dtype, "truncated_normal")
    shape = _shape(shape)
    draw = _Draw(xp, _resolve_seed(seed))
    z = draw.normal(shape)
    # A fixed number of redraw rounds keeps the loop free of device-to-host syncs; after
    # 12 rounds an entry is still outside with probability 0.0455**13 (~4e-18): clipped.
    for _ in range(12):
        z = xp.where(xp.abs(z) > 2.0, draw.normal(shape), z)
    z = xp.clip(z, -2.0, 2.0)
    return Tensor((_param(mean, xp) + _param(stddev, xp) * z).astype(dtype))


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Integers drawn uniformly from ``[minval, maxval)``."""
    dtype = np.dtype(dtype)
    if dtype.kind not in "iu":
        raise ValueError(f"random.randint: dtype must be an integer type, got {dtype.name!r}")
    xp = default_module()
    low, high = int(minval), int(maxval)
    if high <= low:
        raise ValueError(f"random.randint: maxval ({high}) must exceed minval ({low})")
    values = _Draw(xp, _resolve_seed(seed)).integers(low, high, _shape(shape))
    return Tensor(values.astype(dtype))


def categorical(logits, num_samples, dtype="int32", seed=None):
    """Class indices drawn from the distributions ``softmax(logits)`` (one row per batch
    entry): shape ``(batch, num_samples)``. Uses the Gumbel-max trick, on the device."""
    data = as_tensor(logits).data
    if data.ndim != 2:
        raise ValueError(
            f"random.categorical: logits must be 2-D (batch, classes), got {data.shape}"
        )
    xp = xp_of(data)
    batch, classes = data.shape
    u = _Draw(xp, _resolve_seed(seed)).uniform((batch, int(num_samples), classes))
    tiny = np.finfo(np.float64).tiny
    gumbel = -xp.log(-xp.log(xp.clip(u, tiny, 1.0)))
    picks = (data.astype(np.float64)[:, None, :] + gumbel).argmax(axis=-1)
    return Tensor(picks.astype(dtype))


def dropout(inputs, rate, noise_shape=None, seed=None):
    """Zero each entry with probability ``rate`` and scale the rest by ``1 / (1 - rate)``."""
    return _dropout(inputs, rate, noise_shape=noise_shape, seed=_resolve_seed(seed))


def shuffle(x, axis=0, seed=None):
    """``x`` with its slices along ``axis`` in a random order (gradients follow them)."""
    x = as_tensor(x)
    xp = xp_of(x.data)
    n = x.shape[axis]
    order = _Draw(xp, _resolve_seed(seed)).uniform((n,)).argsort()
    return gather(x, Tensor(order), axis=axis)


def gamma(shape, alpha, dtype=None, seed=None):
    """Samples from the gamma distribution with concentration ``alpha`` and scale 1."""
    xp = default_module()
    dtype = _float_dtype(dtype, "gamma")
    values = _Draw(xp, _resolve_seed(seed)).gamma(_param(alpha, xp), _shape(shape))
    return Tensor(values.astype(dtype))


def beta(shape, alpha, beta, dtype=None, seed=None):
    """Samples from the beta distribution with concentrations ``alpha`` and ``beta``."""
    xp = default_module()
    dtype = _float_dtype(dtype, "beta")
    draw = _Draw(xp, _resolve_seed(seed))
    values = draw.beta(_param(alpha, xp), _param(beta, xp), _shape(shape))
    return Tensor(values.astype(dtype))


def binomial(shape, counts, probabilities, dtype=None, seed=None):
    """Samples from binomial distributions of ``counts`` trials with success
    ``probabilities`` (returned in a float dtype, as Keras)."""
    xp = default_module()
    dtype = _float_dtype(dtype, "binomial")
    draw = _Draw(xp, _resolve_seed(seed))
    counts = _param(counts, xp)
    counts = counts.astype(np.int64) if hasattr(counts, "astype") else int(counts)
    values = draw.binomial(counts, _param(probabilities, xp), _shape(shape))
    return Tensor(values.astype(dtype))
