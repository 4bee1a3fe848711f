"""The ``training`` flag of the enclosing layer call, kept per thread while layers call layers."""

import contextlib
import threading

_context = threading.local()


def _call_stack():
    if not hasattr(_context, "stack"):
        _context.stack = []
    return _context.stack


def current_training():
    """The ``training`` value of the enclosing layer call, or None outside any call."""
    for training in reversed(_call_stack()):
        if training is not None:
            return training
    return None


def call_stack_depth():
    """How many layer calls enclose the current point (0: outside any layer call)."""
    return len(_call_stack())


@contextlib.contextmanager
def _calling(training):
    stack = _call_stack()
    stack.append(training)
    try:
        yield len(stack) == 1
    finally:
        stack.pop()
