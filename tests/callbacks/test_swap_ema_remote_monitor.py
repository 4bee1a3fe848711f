"""SwapEMAWeights against Keras 3 runs (tools/make_keras_fixtures_callbacks_more.py) and
RemoteMonitor against a local HTTP server on 127.0.0.1."""

import http.server
import json
import os
import threading
import urllib.parse

import numpy as np
import pytest

import gpuk
from gpuk import callbacks, optimizers

REFERENCE = np.load(
    os.path.join(
        os.path.dirname(__file__), "..", "fixtures", "keras", "callbacks_more", "swap_ema.npz"
    )
)
META = json.loads(str(REFERENCE["meta"]))


def _model(optimizer):
    model = gpuk.Sequential([gpuk.Input((3,)), gpuk.layers.Dense(2)])
    model.set_weights([REFERENCE["kernel"], REFERENCE["bias"]])
    model.compile(optimizer=optimizer, loss="mse")
    return model


@pytest.mark.parametrize("name,swap_on_epoch", [("swap", False), ("swap_on_epoch", True)])
def test_fit_with_swap_ema_weights_matches_keras(name, swap_on_epoch):
    model = _model(optimizers.SGD(0.1, use_ema=True, ema_momentum=0.5))
    history = model.fit(
        REFERENCE["x"],
        REFERENCE["y"],
        batch_size=4,
        epochs=3,
        shuffle=False,
        validation_data=(REFERENCE["xv"], REFERENCE["yv"]),
        verbose=0,
        callbacks=[callbacks.SwapEMAWeights(swap_on_epoch=swap_on_epoch)],
    )
    for key, values in META[name].items():
        np.testing.assert_allclose(history.history[key], values, rtol=1e-5, err_msg=key)
    for i, w in enumerate(model.get_weights()):
        np.testing.assert_allclose(w, REFERENCE[f"{name}/final/{i}"], rtol=1e-5, atol=1e-6)
    loss = model.evaluate(
        REFERENCE["xv"], REFERENCE["yv"], verbose=0, callbacks=[callbacks.SwapEMAWeights()]
    )
    np.testing.assert_allclose(loss, REFERENCE[f"{name}/evaluate"], rtol=1e-5)


def test_swap_ema_weights_needs_use_ema():
    model = _model(optimizers.SGD(0.1))
    with pytest.raises(ValueError, match="use_ema=True"):
        model.fit(
            REFERENCE["x"],
            REFERENCE["y"],
            epochs=1,
            verbose=0,
            validation_data=(REFERENCE["xv"], REFERENCE["yv"]),
            callbacks=[callbacks.SwapEMAWeights()],
        )


def test_swap_ema_weights_swaps_and_restores_around_evaluate():
    model = _model(optimizers.SGD(0.1, use_ema=True, ema_momentum=0.5))
    model.fit(REFERENCE["x"], REFERENCE["y"], epochs=1, verbose=0)
    # fit ended with the averages in the model (finalize_variable_values); train once more
    # by hand so weights and averages differ.
    model.train_on_batch(REFERENCE["x"], REFERENCE["y"])
    before = [w.copy() for w in model.get_weights()]
    average = [a.numpy().copy() for a in model.optimizer._model_variables_moving_average]
    seen = []
    probe = callbacks.LambdaCallback(
        on_test_batch_end=lambda batch, logs: seen.append(model.get_weights()[0].copy())
    )
    model.evaluate(REFERENCE["xv"], REFERENCE["yv"], verbose=0,
                   callbacks=[callbacks.SwapEMAWeights(), probe])  # fmt: skip
    np.testing.assert_allclose(seen[0], average[0])
    for w, b in zip(model.get_weights(), before):
        np.testing.assert_allclose(w, b)


class _Recorder(http.server.BaseHTTPRequestHandler):
    received = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.path, dict(self.headers), body))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    _Recorder.received = []
    httpd = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", _Recorder.received
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def test_remote_monitor_posts_form_and_json(server):
    root, received = server
    model = _model("sgd")
    monitor = callbacks.RemoteMonitor(root=root, headers={"X-Run": "17"})
    model.fit(REFERENCE["x"], REFERENCE["y"], epochs=2, verbose=0, callbacks=[monitor])
    assert len(received) == 2
    path, headers, body = received[1]
    assert path == "/publish/epoch/end/"
    assert headers["X-Run"] == "17"
    form = urllib.parse.parse_qs(body.decode())
    payload = json.loads(form["data"][0])
    assert payload["epoch"] == 1 and isinstance(payload["loss"], float)

    received.clear()
    monitor = callbacks.RemoteMonitor(root=root, path="/p", send_as_json=True, field="ignored")
    model.fit(REFERENCE["x"], REFERENCE["y"], epochs=1, verbose=0, callbacks=[monitor])
    path, headers, body = received[0]
    assert path == "/p" and headers["Content-Type"] == "application/json"
    assert set(json.loads(body)) == {"epoch", "loss"}


def test_remote_monitor_warns_when_unreachable():
    with http.server.HTTPServer(("127.0.0.1", 0), _Recorder) as closed:
        port = closed.server_address[1]
    monitor = callbacks.RemoteMonitor(root=f"http://127.0.0.1:{port}", timeout=2)
    with pytest.warns(UserWarning, match="Could not reach RemoteMonitor"):
        monitor.on_epoch_end(0, {"loss": np.float32(1.0)})
