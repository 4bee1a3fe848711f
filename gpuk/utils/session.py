"""``clear_session``: one place that resets global state (layer and model name counters, ...).

Modules that keep such state register a reset function with
:func:`register_clear_session_hook`; ``gpuk.utils.clear_session``,
``gpuk.backend.clear_session`` (``K.clear_session``) and ``gpuk.layers.clear_session`` all
run every registered reset.
"""

import gc

_hooks = []


def register_clear_session_hook(function):
    """Run ``function()`` on every ``clear_session`` (registered once)."""
    if function not in _hooks:
        _hooks.append(function)
    return function


def clear_session(free_memory=True):
    """Reset gpuk's global state, as Keras's ``clear_session``: the next ``Dense`` is named
    ``dense`` again. ``free_memory`` also runs Python's garbage collector."""
    for hook in list(_hooks):
        hook()
    if free_memory:
        gc.collect()
