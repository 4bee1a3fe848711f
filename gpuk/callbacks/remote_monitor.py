"""RemoteMonitor: POST each epoch's logs to a server (standard library only)."""

import json
import urllib.error
import urllib.parse
import urllib.request
import warnings

import numpy as np

from gpuk._array import is_array, to_numpy
from gpuk.autograd import Tensor
from gpuk.callbacks.base import Callback


def _python_value(value):
    if isinstance(value, Tensor):
        value = value.data
    if is_array(value):
        value = np.asarray(to_numpy(value))
    if isinstance(value, (np.ndarray, np.generic)):
        return value.item() if value.size == 1 else value.tolist()
    return value


class RemoteMonitor(Callback):
    """Send ``{"epoch": epoch, **logs}`` to ``root + path`` with an HTTP POST after each epoch.

    As Keras: by default a form-encoded body whose ``field`` holds the JSON text; with
    ``send_as_json`` the JSON itself (``Content-Type: application/json``). An unreachable
    server gives a warning, not an error. Uses ``urllib`` (Keras uses ``requests``).

    Args:
        root: ``"http://localhost:9000"``.
        path: ``"/publish/epoch/end/"``.
        field: ``"data"``, the form field of the JSON text.
        headers: optional dict of extra HTTP headers.
        send_as_json: post ``application/json`` instead of a form.
        timeout: seconds to wait for the server (gpuk's addition; 10).
    """

    def __init__(
        self,
        root="http://localhost:9000",
        path="/publish/epoch/end/",
        field="data",
        headers=None,
        send_as_json=False,
        timeout=10,
    ):
        super().__init__()
        self.root = root
        self.path = path
        self.field = field
        self.headers = headers
        self.send_as_json = send_as_json
        self.timeout = timeout

    def on_epoch_end(self, epoch, logs=None):
        send = {"epoch": epoch}
        for key, value in (logs or {}).items():
            send[key] = _python_value(value)
        headers = dict(self.headers or {})
        if self.send_as_json:
            body = json.dumps(send).encode("utf-8")
            headers.setdefault("Content-Type", "application/json")
        else:
            # urllib labels a POST body without a Content-Type as form data
            body = urllib.parse.urlencode({self.field: json.dumps(send)}).encode("utf-8")
        request = urllib.request.Request(
            self.root + self.path, data=body, headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
        except (urllib.error.URLError, OSError, ValueError):
            warnings.warn(f"Could not reach RemoteMonitor root server at {self.root}", stacklevel=2)
