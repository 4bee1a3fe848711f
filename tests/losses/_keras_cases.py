"""Shared loader for tests/fixtures/keras/losses_metrics/cases.json (made by
tools/make_keras_fixtures_losses_metrics.py with Keras 3.15, JAX backend)."""

import json
import os

import numpy as np

PATH = os.path.join(
    os.path.dirname(__file__), "..", "fixtures", "keras", "losses_metrics", "cases.json"
)
with open(PATH) as _f:
    DATA = json.load(_f)
INPUTS = {k: np.asarray(v["value"], dtype=v["dtype"]) for k, v in DATA["inputs"].items()}


def kwargs_of(kwargs):
    """JSON kwargs back to Python: ``axis`` lists were tuples."""
    return {k: (tuple(v) if k == "axis" and isinstance(v, list) else v) for k, v in kwargs.items()}


def is_error(expected):
    return isinstance(expected, dict) and "error" in expected


def group(cases, *keys):
    """Cases grouped by the JSON of ``keys`` (one test per group keeps the run fast)."""
    out = {}
    for case in cases:
        out.setdefault(json.dumps([case[k] for k in keys], sort_keys=True), []).append(case)
    return out


def assert_close(actual, expected, what, rtol=2e-5, atol=2e-6):
    actual = np.asarray(getattr(actual, "numpy", lambda: actual)(), dtype=np.float64)
    np.testing.assert_allclose(
        actual, np.asarray(expected, dtype=np.float64), rtol, atol, err_msg=what
    )
