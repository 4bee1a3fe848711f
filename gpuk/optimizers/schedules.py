"""Learning-rate schedules with Keras 3's names, arguments, configs and formulas.

A schedule is called with the optimizer's step (``iterations``: a Variable, Tensor, array or
int) and returns the rate as a 0-d float32 Tensor. The arithmetic runs on the host in float32,
as Keras computes it (its Python-float arguments become float32 tensors), so the rate that reaches
the device is one scalar kernel argument. In a training step captured as a CUDA graph the
branch-free formulas run on the device step counter instead (:func:`device_rate`), with the same
float32 operations.
"""

import inspect
import math

import numpy as np

from gpuk._array import is_array, to_numpy
from gpuk.autograd import Tensor
from gpuk.utils.serialization import deserialize_keras_object, get_registered_name


def call_learning_rate(fn, step):
    """Keras calls a callable learning rate without arguments; ``fn(step)`` is accepted too."""
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return fn()
    positional = [
        p
        for p in parameters
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
    ]
    return fn(step) if positional else fn()


__all__ = [
    "CosineDecay",
    "CosineDecayRestarts",
    "ExponentialDecay",
    "InverseTimeDecay",
    "LearningRateSchedule",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "deserialize",
    "serialize",
]

_F = np.float32


def _step(step):
    """The step as a NumPy scalar on the host (a device step is copied once)."""
    if isinstance(step, Tensor):
        step = step.data
    if is_array(step):
        return np.asarray(to_numpy(step)).reshape(())[()]
    return np.asarray(step)[()]


def _out(value):
    return Tensor(np.asarray(value, dtype=_F))


def _check_decay_steps(value, argument="decay_steps"):
    if value <= 0:
        raise ValueError(f"Argument `{argument}` must be > 0. Received: {argument}={value}")


class LearningRateSchedule:
    """Base class: subclasses implement ``__call__(step)`` and ``get_config()``.

    Example::

        class MyLRSchedule(gpuk.optimizers.schedules.LearningRateSchedule):
            def __init__(self, initial_learning_rate):
                self.initial_learning_rate = initial_learning_rate

            def __call__(self, step):
                return self.initial_learning_rate / (step + 1)
    """

    def __call__(self, step):
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `__call__(self, step)`."
        )

    def get_config(self):
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `get_config()` in "
            "order to be serializable."
        )

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class ExponentialDecay(LearningRateSchedule):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)`` (integer division of the
    exponent when ``staircase``).

    Args:
        initial_learning_rate: float, the rate at step 0.
        decay_steps: int > 0.
        decay_rate: float.
        staircase: decay at discrete intervals.
        name: kept in the config.
    """

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        decay_rate,
        staircase=False,
        name="ExponentialDecay",
    ):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name
        _check_decay_steps(decay_steps)

    def __call__(self, step):
        return _out(self._rate(_F(_step(step))))

    def _rate(self, step):  # float32 step, host scalar or device array
        p = step / _F(self.decay_steps)
        if self.staircase:
            p = np.floor(p)
        return _F(self.initial_learning_rate) * np.power(_F(self.decay_rate), p)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while ``step <= boundaries[0]``, ``values[1]`` while ``step <=
    boundaries[1]``, ..., ``values[-1]`` after the last boundary.

    Args:
        boundaries: increasing step numbers.
        values: one more rate than ``boundaries``.
        name: kept in the config.
    """

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. Received: "
                f"boundaries={boundaries} of length {len(boundaries)}, and values={values} of "
                f"length {len(values)}."
            )
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step):
        step = _step(step)
        for boundary, value in zip(self.boundaries, self.values):
            # Keras casts the boundaries to the step's type (ints truncate).
            if step <= np.asarray(boundary).astype(np.asarray(step).dtype):
                return _out(value)
        return _out(self.values[-1])

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """``(initial - end) * (1 - min(step, decay_steps) / decay_steps) ** power + end``; with
    ``cycle`` the horizon grows to the next multiple of ``decay_steps``.
    """

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        end_learning_rate=0.0001,
        power=1.0,
        cycle=False,
        name="PolynomialDecay",
    ):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name
        _check_decay_steps(decay_steps)

    def __call__(self, step):
        initial, end = _F(self.initial_learning_rate), _F(self.end_learning_rate)
        step = _F(_step(step))
        decay_steps = _F(self.decay_steps)
        if not self.cycle:
            return _out(self._rate(step))
        multiplier = _F(1.0) if step == 0 else np.ceil(step / decay_steps)
        p = step / (decay_steps * multiplier)
        return _out((initial - end) * np.power(_F(1) - p, _F(self.power)) + end)

    def _rate(self, step):  # without cycle: float32 step, host scalar or device array
        initial, end = _F(self.initial_learning_rate), _F(self.end_learning_rate)
        p = np.minimum(step, _F(self.decay_steps)) / _F(self.decay_steps)
        return (initial - end) * np.power(_F(1) - p, _F(self.power)) + end

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
            "cycle": self.cycle,
            "name": self.name,
        }


class InverseTimeDecay(LearningRateSchedule):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)`` (floor of
    ``step / decay_steps`` when ``staircase``)."""

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        decay_rate,
        staircase=False,
        name="InverseTimeDecay",
    ):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name
        _check_decay_steps(decay_steps)

    def __call__(self, step):
        return _out(self._rate(_F(_step(step))))

    def _rate(self, step):  # float32 step, host scalar or device array
        p = step / _F(self.decay_steps)
        if self.staircase:
            p = np.floor(p)
        return _F(self.initial_learning_rate) / (_F(1) + _F(self.decay_rate) * p)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class CosineDecay(LearningRateSchedule):
    """Optional linear warmup, then cosine decay to ``alpha`` times the peak rate.

    Without warmup (``warmup_target=None``): ``initial * ((1 - alpha) * 0.5 * (1 + cos(pi *
    min(step, decay_steps) / decay_steps)) + alpha)``. With ``warmup_target``: a linear ramp from
    ``initial_learning_rate`` to ``warmup_target`` over ``warmup_steps``, then the cosine decay
    from ``warmup_target`` over ``decay_steps``.
    """

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        alpha=0.0,
        name="CosineDecay",
        warmup_target=None,
        warmup_steps=0,
    ):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_steps = warmup_steps
        self.warmup_target = warmup_target
        _check_decay_steps(decay_steps)

    def _decay(self, step, decay_steps, decay_from):
        completed = step / decay_steps
        cosine = _F(0.5) * (_F(1) + np.cos(_F(math.pi) * completed))
        decayed = _F(1 - self.alpha) * cosine + _F(self.alpha)
        return decay_from * decayed

    def __call__(self, step):
        initial = _F(self.initial_learning_rate)
        decay_steps = _F(self.decay_steps)
        step = _F(_step(step))
        if self.warmup_target is None:
            return _out(self._rate(step))
        target, warmup_steps = _F(self.warmup_target), _F(self.warmup_steps)
        step = np.minimum(step, decay_steps + warmup_steps)
        if step < warmup_steps:
            return _out((target - initial) * (step / warmup_steps) + initial)
        return _out(self._decay(step - warmup_steps, decay_steps, target))

    def _rate(self, step):  # without warmup: float32 step, host scalar or device array
        decay_steps = _F(self.decay_steps)
        return self._decay(
            np.minimum(step, decay_steps), decay_steps, _F(self.initial_learning_rate)
        )

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "name": self.name,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR): periods grow by ``t_mul``, peaks by ``m_mul``."""

    def __init__(
        self,
        initial_learning_rate,
        first_decay_steps,
        t_mul=2.0,
        m_mul=1.0,
        alpha=0.0,
        name="SGDRDecay",
    ):
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self._t_mul = t_mul
        self._m_mul = m_mul
        self.alpha = alpha
        self.name = name
        _check_decay_steps(first_decay_steps, "first_decay_steps")

    def __call__(self, step):
        initial = _F(self.initial_learning_rate)
        alpha, t_mul, m_mul = _F(self.alpha), _F(self._t_mul), _F(self._m_mul)
        completed = _F(_step(step)) / _F(self.first_decay_steps)
        if t_mul == 1:
            i_restart = np.floor(completed)
            completed = completed - i_restart
        else:
            i_restart = np.floor(np.log(_F(1) - completed * (_F(1) - t_mul)) / np.log(t_mul))
            sum_r = (_F(1) - np.power(t_mul, i_restart)) / (_F(1) - t_mul)
            completed = (completed - sum_r) / np.power(t_mul, i_restart)
        m_fac = np.power(m_mul, i_restart)
        cosine = _F(0.5) * m_fac * (_F(1) + np.cos(_F(math.pi) * completed))
        return _out(initial * ((_F(1) - alpha) * cosine + alpha))

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "first_decay_steps": self.first_decay_steps,
            "t_mul": self._t_mul,
            "m_mul": self._m_mul,
            "alpha": self.alpha,
            "name": self.name,
        }


_BUILTINS = {
    cls.__name__: cls
    for cls in (
        CosineDecay,
        CosineDecayRestarts,
        ExponentialDecay,
        InverseTimeDecay,
        PiecewiseConstantDecay,
        PolynomialDecay,
    )
}


def device_rate(schedule):
    """``rate(step)`` computing ``schedule``'s rate from a 0-d int64 device step with the
    float32 operations of ``schedule(step)``, for a training step captured as a CUDA graph; None
    for schedules that branch on the host (warmup, cycle, piecewise, restarts, custom)."""
    kind = type(schedule)
    if (
        kind in (ExponentialDecay, InverseTimeDecay)
        or (kind is PolynomialDecay and not schedule.cycle)
        or (kind is CosineDecay and schedule.warmup_target is None)
    ):
        return lambda step: schedule._rate(step.astype(_F))
    return None


def serialize(learning_rate_schedule):
    """Keras 3's form: ``{"module", "class_name", "config", "registered_name"}``."""
    cls = type(learning_rate_schedule)
    builtin = _BUILTINS.get(cls.__name__) is cls
    return {
        "module": "keras.optimizers.schedules" if builtin else cls.__module__,
        "class_name": cls.__name__,
        "config": learning_rate_schedule.get_config(),
        "registered_name": None if builtin else get_registered_name(cls),
    }


def deserialize(config, custom_objects=None):
    """A schedule from a config dict (Keras 3 or legacy ``{"class_name", "config"}`` form)."""
    return deserialize_keras_object(config, _BUILTINS, custom_objects, "decay")
