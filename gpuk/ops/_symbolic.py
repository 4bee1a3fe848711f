"""Let the public ``gpuk.ops`` functions accept symbolic tensors, as ``keras.ops`` does.

Building a functional model, Keras 3 lets scripts call ``keras.ops.*`` on the symbolic
tensors that ``Input`` and layers return; each call becomes a node of the graph. ``gpuk.ops``
sits below the layers, so the layers package installs the handler (``set_handler``) that
turns such a call into a layer; until then, and whenever no argument is symbolic, a wrapped
op calls straight through.
"""

import functools
import types

_state = {"cls": None, "handler": None}


def set_handler(symbolic_class, handler):
    """Route calls with a ``symbolic_class`` argument to ``handler(op_name, args, kwargs)``."""
    _state["cls"], _state["handler"] = symbolic_class, handler


def _has_symbolic(values, cls):
    for value in values:
        if isinstance(value, cls):
            return True
        if type(value) in (list, tuple):
            for item in value:
                if isinstance(item, cls):
                    return True
    return False


def wrap(fn, op_name):
    """``fn`` made symbolic-aware under its public name ``op_name`` (e.g. ``'image.resize'``)."""

    @functools.wraps(fn)
    def op(*args, **kwargs):
        cls = _state["cls"]
        if cls is not None and (
            _has_symbolic(args, cls) or (kwargs and _has_symbolic(kwargs.values(), cls))
        ):
            return _state["handler"](op_name, args, kwargs)
        return fn(*args, **kwargs)

    op.op_name = op_name
    op.eager = fn
    return op


#: Ops that answer from a symbolic tensor's static facts, or take functions, not tensors.
STATIC = frozenset(
    ("shape", "ndim", "dtype", "is_tensor", "convert_to_numpy", "custom_gradient", "vectorize")
)


def wrap_public(namespace, prefix=""):
    """Wrap, in place, every public function of a namespace dict defined in ``gpuk.ops``."""
    for name, value in list(namespace.items()):
        if (
            not name.startswith("_")
            and name not in STATIC
            and isinstance(value, types.FunctionType)
            and value.__module__.startswith("gpuk.ops")
            and not hasattr(value, "eager")
        ):
            namespace[name] = wrap(value, prefix + name)
    return namespace
