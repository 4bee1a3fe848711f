"""What fit prints: Keras 3's progress bar (verbose=1), one line per epoch (verbose=2), nothing
(verbose=0); the live bar is redrawn only on a terminal, printed once per epoch otherwise."""

import io
import re
import sys

import pytest

from gpuk.utils import Progbar

TIME = r"\d+s \d+(us|ms|s)/step"
NUMBER = r"-?\d+\.\d{4}(e[-+]\d\d)?"
BAR_LINE = re.compile(
    rf"^2/2 ━{{20}} {TIME} - loss: {NUMBER} - mae: {NUMBER}"
    rf"( - val_loss: {NUMBER} - val_mae: {NUMBER})?$"
)
EPOCH_LINE = re.compile(
    rf"^2/2 - \d+s - \d+(us|ms|s)/step - loss: {NUMBER} - mae: {NUMBER}"
    rf"( - val_loss: {NUMBER} - val_mae: {NUMBER})?$"
)


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def _fit(make_model, data, **kwargs):
    x, y = data
    return make_model().fit(x, y, batch_size=5, **kwargs)


@pytest.mark.parametrize("verbose", [1, "auto"])
def test_verbose_1_not_a_terminal_prints_one_bar_per_epoch(make_model, data, capsys, verbose):
    x, y = data
    history = _fit(make_model, data, epochs=2, verbose=verbose, validation_data=(x, y))
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    for line in (lines[1], lines[3]):
        assert BAR_LINE.match(line), line
        assert "\x1b[" not in line and "\r" not in line
    assert f"loss: {history.history['loss'][1]:.4f}" in lines[3]
    assert f"val_mae: {history.history['val_mae'][1]:.4f}" in lines[3]


def test_no_epoch_header_for_a_single_epoch(make_model, data, capsys):
    _fit(make_model, data, epochs=1, verbose=1)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and BAR_LINE.match(lines[0])


def test_verbose_2_prints_one_line_per_epoch(make_model, data, capsys):
    x, y = data
    _fit(make_model, data, epochs=3, verbose=2, validation_data=(x, y))
    lines = capsys.readouterr().out.splitlines()
    assert [line for line in lines if line.startswith("Epoch")] == [
        "Epoch 1/3",
        "Epoch 2/3",
        "Epoch 3/3",
    ]
    body = [line for line in lines if not line.startswith("Epoch")]
    assert len(body) == 3
    assert all(EPOCH_LINE.match(line) for line in body), body


def test_verbose_0_is_silent(make_model, data, capsys):
    x, y = data
    _fit(make_model, data, epochs=2, verbose=0, validation_data=(x, y))
    assert capsys.readouterr().out == ""


def test_many_batches_do_not_flood_a_log_file(make_model, data, capsys):
    x, y = data
    make_model().fit(x, y, batch_size=1, epochs=2, verbose=1)  # 10 steps per epoch
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4
    assert lines[1].startswith("10/10 ━━━━")


def test_terminal_gets_a_live_bar_redrawn_in_place(make_model, data, monkeypatch):
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    _fit(make_model, data, epochs=1, verbose=1)
    out = terminal.getvalue()
    assert out.startswith("\r")
    assert out.endswith("\n") and out.count("\n") == 1
    plain = re.sub(r"\x1b\[\d+m", "", out)
    last = plain.split("\r")[-1].rstrip()
    assert BAR_LINE.match(last), last
    assert "\x1b[1m2/2\x1b[0m \x1b[32m" + "━" * 20 in out  # Keras's colours


def test_progbar_live_line_shows_eta_before_the_end(monkeypatch):
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    bar = Progbar(target=4, interval=0)
    bar.update(1, [("loss", 0.5)])
    first = re.sub(r"\x1b\[\d+m", "", terminal.getvalue()).strip("\r")
    assert re.match(r"^1/4 ━{5}━{15} \d+s \d+(us|ms|s)/step - loss: 0\.5000$", first)


def test_progbar_verbose_2_matches_keras(capsys):
    # Reference lines printed by keras.utils.Progbar (Keras 3.15), times masked.
    bar = Progbar(3, verbose=2)
    bar.update(1, [("a", 1.0), ("b", 5.0)])
    bar.update(3, [("a", 4.0), ("b", 0.0001)])
    bar = Progbar(3, verbose=2, stateful_metrics=["a"])
    bar.update(1, [("a", 1.0)])
    bar.update(2, [("a", 4.0)])
    bar.update(3, [("a", 7.0)], finalize=True)
    bar = Progbar(4, verbose=2)
    bar.add(1, [("a", 2.0)])
    bar.add(1, [("a", 4.0)])
    bar.add(2, [("a", -6.0)])
    masked = [
        re.sub(r"\d+(us|ms|s)/step", "T/step", re.sub(r" - \d+s - ", " - Ns - ", line))
        for line in capsys.readouterr().out.splitlines()
    ]
    assert masked == [
        "3/3 - Ns - T/step - a: 4.0000 - b: 1.0000e-04",
        "3/3 - Ns - T/step - a: 7.0000",
        "4/4 - Ns - T/step - a: -6.0000e+00",
    ]


def test_progbar_averages_stateless_values_between_updates(monkeypatch):
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    bar = Progbar(target=10, interval=0)
    bar.update(1, [("a", 1.0)])
    bar.update(3, [("a", 4.0)])  # weighs 2 steps: (1 + 4 * 2) / 3
    assert terminal.getvalue().rstrip().endswith("a: 3.0000")


def test_progbar_rejects_both_metric_lists():
    with pytest.raises(ValueError, match="only one"):
        Progbar(3, stateful_metrics=["a"], stateless_metrics=["b"])


def test_unknown_target_counts_steps(capsys):
    bar = Progbar(None, verbose=1)
    bar.update(3, [("loss", 1.0)], finalize=True)
    assert re.match(
        r"^      3/Unknown \d+s \d+(us|ms|s)/step - loss: 1\.0000$",
        capsys.readouterr().out.rstrip("\n"),
    )


def test_evaluate_and_predict_progress_like_keras(make_model, data, capsys):
    x, y = data
    model = make_model()
    model.evaluate(x, y, verbose=2)
    model.predict(x, verbose=2)
    out = capsys.readouterr().out.splitlines()
    assert re.match(rf"^1/1 - \d+s - \d+(us|ms|s)/step - loss: {NUMBER} - mae: {NUMBER}$", out[0])
    assert re.match(r"^1/1 - \d+s - \d+(us|ms|s)/step$", out[1])
