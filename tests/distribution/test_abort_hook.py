"""An unhandled exception on one process aborts the job only after its traceback is out."""

import io
import sys

from gpuk.distribution import comm


class _Recorder:
    def __init__(self, stderr):
        self.stderr = stderr
        self.seen_at_abort = None

    def abort(self, code=1):
        self.seen_at_abort = (code, self.stderr.getvalue())


def test_the_traceback_is_written_in_one_piece_before_the_abort(monkeypatch):
    stderr = io.StringIO()
    writes = []
    original_write = stderr.write
    monkeypatch.setattr(stderr, "write", lambda text: writes.append(text) or original_write(text))
    monkeypatch.setattr(sys, "stderr", stderr)
    monkeypatch.setattr(sys, "excepthook", sys.__excepthook__)
    slept = []
    monkeypatch.setattr(comm.time, "sleep", slept.append)
    recorder = _Recorder(stderr)
    comm.install_abort_on_exception(recorder)
    try:
        raise RuntimeError("failure on process 1")
    except RuntimeError:
        sys.excepthook(*sys.exc_info())
    code, printed = recorder.seen_at_abort
    assert code == 1
    assert len(writes) == 1 and writes[0].startswith("Traceback (most recent call last):")
    assert printed.rstrip().endswith("RuntimeError: failure on process 1")
    assert slept == [comm.ABORT_GRACE]


def test_another_hook_still_prints(monkeypatch):
    printed = []
    monkeypatch.setattr(sys, "excepthook", lambda *info: printed.append(info[1]))
    monkeypatch.setattr(comm.time, "sleep", lambda seconds: None)
    recorder = _Recorder(io.StringIO())
    comm.install_abort_on_exception(recorder)
    error = ValueError("x")
    sys.excepthook(ValueError, error, None)
    assert printed == [error] and recorder.seen_at_abort[0] == 1
