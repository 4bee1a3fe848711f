"""Models: ``Model`` (functional or subclassed) and ``Sequential``."""

from gpuk.models.functional import Functional, Model
from gpuk.models.sequential import Sequential

__all__ = ["Functional", "Model", "Sequential"]
