"""Where gpuk's messages go: standard output while interactive logging is on (the default), or
Python's ``logging`` (logger ``"gpuk"``) once ``disable_interactive_logging()`` is called, as
Keras's ``keras.utils.disable_interactive_logging`` does for services and batch jobs."""

import logging
import sys

_state = {"interactive": True}
_logger = logging.getLogger("gpuk")


def enable_interactive_logging():
    """Print progress bars and messages to standard output (the default)."""
    _state["interactive"] = True


def disable_interactive_logging():
    """Send progress bars and messages to the ``gpuk`` logger instead of standard output."""
    _state["interactive"] = False


def is_interactive_logging_enabled():
    """True while messages go to standard output."""
    return _state["interactive"]


def print_msg(message, line_break=True):
    """Write ``message`` to standard output, or log it at INFO level when not interactive."""
    if _state["interactive"]:
        sys.stdout.write(message + ("\n" if line_break else ""))
        sys.stdout.flush()
    else:
        _logger.info(message.strip("\r\n"))
