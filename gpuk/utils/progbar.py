"""Keras's text progress bar (``keras.utils.Progbar``), as Keras 3 prints it.

``verbose=1`` shows ``2/2 ━━━━━━━━━━━━━━━━━━━━ 0s 5ms/step - loss: 0.3093`` and redraws it in
place; ``verbose=2`` prints ``2/2 - 0s - 5ms/step - loss: 0.3093`` once, when finalized.

On a terminal (or in a notebook) the live bar is redrawn at most every ``interval`` seconds
with ``\\r``. When standard output is not a terminal (a log file, a pipe, CI), redrawing would
write one line per refresh, so the bar is printed once, when it is finalized, without the ANSI
colours.
"""

import math
import sys
import time

from gpuk.utils.logging import is_interactive_logging_enabled, print_msg

_BOLD = "\x1b[1m"
_GREEN = "\x1b[32m"
_WHITE = "\x1b[37m"
_RESET = "\x1b[0m"


def _is_dynamic(stream):
    """True when ``\\r`` redraws work: a terminal or a Jupyter kernel."""
    try:
        if stream.isatty():
            return True
    except (AttributeError, ValueError):
        pass
    return "ipykernel" in sys.modules


class Progbar:
    """Displays a progress bar.

    If neither ``stateful_metrics`` nor ``stateless_metrics`` is given, every value is
    averaged over the steps it was reported for (Keras's default).

    Args:
        target: total number of steps, or None when unknown.
        width: bar width in characters.
        verbose: 0 silent, 1 live bar, 2 one line when finalized.
        interval: minimum seconds between two redraws of the live bar.
        stateful_metrics: names shown as given (not averaged); all others are averaged.
        stateless_metrics: names that are averaged; all others are shown as given. Give at
            most one of the two.
        unit_name: the unit of the time per unit (``"step"``).
    """

    def __init__(
        self,
        target,
        width=20,
        verbose=1,
        interval=0.05,
        stateful_metrics=None,
        stateless_metrics=None,
        unit_name="step",
    ):
        if stateful_metrics is not None and stateless_metrics is not None:
            raise ValueError(
                "Progbar: give only one of `stateful_metrics` and `stateless_metrics`. "
                f"Received: stateful_metrics={stateful_metrics}, "
                f"stateless_metrics={stateless_metrics}"
            )
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        if stateless_metrics is not None:
            self.stateful_metrics = None
            self.stateless_metrics = set(stateless_metrics)
        else:
            self.stateful_metrics = set(stateful_metrics or ())
            self.stateless_metrics = None
        self._dynamic_display = is_interactive_logging_enabled() and _is_dynamic(sys.stdout)
        self._values = {}  # name -> [weighted sum, weight]
        self._values_order = []
        self._seen_so_far = 0
        self._start = time.time()
        self._last_update = 0.0
        self._time_after_first_step = None
        self._prev_total_width = 0

    def _averaged(self, name):
        if self.stateful_metrics is not None:
            return name not in self.stateful_metrics
        return name in self.stateless_metrics

    def update(self, current, values=None, finalize=None):
        """Move to step ``current``.

        Args:
            current: index of the current step (1-based count of steps done).
            values: list of ``(name, value_for_last_step)`` pairs.
            finalize: whether this is the last update; by default ``current >= target``.
        """
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        for name, value in values or []:
            if name not in self._values_order:
                self._values_order.append(name)
            if self._averaged(name) and not finalize:
                # Weight by the steps since the last update, so sparse updates still
                # average over every step.
                steps = max(current - self._seen_so_far, 1)
                total = self._values.get(name, [0.0, 0])
                self._values[name] = [total[0] + value * steps, total[1] + steps]
            else:
                self._values[name] = [value, 1]
        now = time.time()
        time_per_unit = self._estimate_step_duration(current, now)
        self._seen_so_far = current

        if self.verbose == 1:
            if not finalize and (
                not self._dynamic_display or now - self._last_update < self.interval
            ):
                return
            self._print_bar(current, now, time_per_unit, finalize)
        elif self.verbose == 2 and finalize:
            self._print_line(current, now, time_per_unit)
        self._last_update = now

    def add(self, n, values=None):
        """Advance by ``n`` steps."""
        self.update(self._seen_so_far + n, values)

    # ----------------------------------------------------------------- output
    def _print_bar(self, current, now, time_per_unit, finalize):
        colour = self._dynamic_display

        def style(code, text):
            return f"{code}{text}{_RESET}" if colour else text

        if self.target is not None and self.target > 0:
            digits = int(math.log10(self.target)) + 1
            count = f"{current:{digits}d}/{self.target}"
            done = int(self.width * min(current / self.target, 1.0))
            bar = style(_BOLD, count) + " "
            if done > 0:
                bar += style(_GREEN, "━" * done)
            bar += style(_WHITE, "━" * (self.width - done))
            plain = f"{count} " + "━" * self.width
        else:
            bar = plain = f"{current:7d}/Unknown"
        if self.target is not None and self.target > 0 and not finalize:
            when = _format_eta(time_per_unit * (self.target - current))
        else:
            when = f"{now - self._start:.0f}s"
        info = " " + style(_BOLD, when) + _format_time(time_per_unit, self.unit_name)
        plain_info = " " + when + _format_time(time_per_unit, self.unit_name)
        metrics = self._format_values(signed=True)
        width = len(plain) + len(plain_info) + len(metrics)
        message = bar + info + metrics
        if colour:
            message = "\r" + message + " " * max(0, self._prev_total_width - width)
            if finalize:
                message += "\n"
        else:
            message += "\n"
        print_msg(message, line_break=False)
        self._prev_total_width = width

    def _print_line(self, current, now, time_per_unit):
        if self.target is None or self.target <= 0:
            return
        digits = int(math.log10(self.target)) + 1
        line = f"{current:{digits}d}/{self.target} - {now - self._start:.0f}s"
        line += " -" + _format_time(time_per_unit, self.unit_name)
        line += self._format_values(signed=False)
        print_msg(line)

    def _format_values(self, signed):
        text = ""
        for name in self._values_order:
            total, count = self._values[name]
            try:
                average = float(total) / max(1, count)
            except (TypeError, ValueError):
                text += f" - {name}: {total}"
                continue
            # Keras 3 compares |x| on the live bar but x itself on the verbose=2 line.
            big = abs(average) > 1e-3 if signed else average > 1e-3
            text += f" - {name}: {average:.4f}" if big else f" - {name}: {average:.4e}"
        return text

    def _estimate_step_duration(self, current, now):
        """Seconds per step, leaving out the first step (compilation, warm-up) when possible."""
        if not current:
            return 0.0
        if self._time_after_first_step is not None and current > 1:
            per_unit = (now - self._time_after_first_step) / (current - 1)
        else:
            per_unit = (now - self._start) / current
        if current == 1:
            self._time_after_first_step = now
        return per_unit


def _format_eta(seconds):
    if seconds > 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds > 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{int(seconds)}s"


def _format_time(seconds, unit):
    if seconds >= 1 or seconds == 0:
        return f" {seconds:.0f}s/{unit}"
    if seconds >= 1e-3:
        return f" {seconds * 1e3:.0f}ms/{unit}"
    return f" {seconds * 1e6:.0f}us/{unit}"
