"""Eager reverse-mode automatic differentiation: Tensor, Variable, Function, GradientTape."""

from gpuk.autograd.engine import gradients
from gpuk.autograd.function import Function, Node, autocast_dtype, autocast_scope
from gpuk.autograd.recording import is_recording, no_grad
from gpuk.autograd.tape import GradientTape
from gpuk.autograd.tensor import Tensor, as_array, as_tensor
from gpuk.autograd.variable import Variable

__all__ = [
    "Function",
    "GradientTape",
    "Node",
    "Tensor",
    "Variable",
    "as_array",
    "as_tensor",
    "autocast_dtype",
    "autocast_scope",
    "gradients",
    "is_recording",
    "no_grad",
]
