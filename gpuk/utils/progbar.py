"""Keras's text progress bar."""

import sys
import time


class Progbar:
    """Displays ``current/target`` with a bar, the elapsed or remaining time and values.

    Args:
        target: total number of steps, or None when unknown.
        width: bar width in characters.
        verbose: 1 for a live bar, 2 for a single line when finalized, 0 for nothing.
        interval: minimum seconds between live refreshes.
        stateful_metrics: names whose values are shown as given rather than averaged.
        unit_name: the unit shown in the time per unit (``"step"``).
    """

    def __init__(
        self, target, width=20, verbose=1, interval=0.05, stateful_metrics=None, unit_name="step"
    ):
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.stateful_metrics = set(stateful_metrics or ())
        self.unit_name = unit_name
        self._dynamic = bool(getattr(sys.stdout, "isatty", lambda: False)())
        self._values = {}
        self._start = time.time()
        self._last_update = 0.0
        self._previous_width = 0
        self._seen = 0

    def update(self, current, values=None, finalize=None):
        """Move to step ``current``; ``values`` is a list of ``(name, value)`` pairs."""
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        for name, value in values or []:
            self._values[name] = value  # logs from fit are already running averages
        self._seen = current
        now = time.time()
        if self.verbose == 0:
            return
        if self.verbose == 2 and not finalize:
            return
        if self.verbose == 1 and not finalize:
            if not self._dynamic or now - self._last_update < self.interval:
                return
        self._last_update = now
        line = self._format(current, now, finalize)
        if self.verbose == 1 and self._dynamic:
            padding = " " * max(0, self._previous_width - len(line))
            sys.stdout.write("\r" + line + padding)
            self._previous_width = len(line)
            if finalize:
                sys.stdout.write("\n")
        else:
            sys.stdout.write(line + "\n")
        sys.stdout.flush()

    def add(self, n, values=None):
        """Advance by ``n`` steps."""
        self.update(self._seen + n, values)

    def _format(self, current, now, finalize):
        elapsed = now - self._start
        per_unit = elapsed / max(current, 1)
        if self.target is not None:
            digits = len(str(self.target))
            count = f"{current:{digits}d}/{self.target}"
        else:
            count = f"{current}/Unknown"
        parts = [count]
        if self.verbose == 1:
            if self.target:
                done = int(self.width * min(current, self.target) / self.target)
                parts.append("━" * done + "─" * (self.width - done))
            if finalize or self.target is None:
                parts.append(_format_seconds(elapsed))
            else:
                parts.append(f"ETA {_format_seconds(per_unit * (self.target - current))}")
            parts.append(_format_per_unit(per_unit, self.unit_name))
            text = " ".join(parts)
        else:
            text = " - ".join(
                [count, _format_seconds(elapsed), _format_per_unit(per_unit, self.unit_name)]
            )
        for name, value in self._values.items():
            text += f" - {name}: {_format_value(value)}"
        return text


def _format_seconds(seconds):
    if seconds >= 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds >= 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{int(seconds)}s"


def _format_per_unit(seconds, unit):
    if seconds >= 1:
        return f"{seconds:.0f}s/{unit}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit}"
    return f"{seconds * 1e6:.0f}us/{unit}"


def _format_value(value):
    try:
        value = float(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{value:.4f}" if abs(value) >= 1e-3 or value == 0 else f"{value:.4e}"
