"""Metric classes and accuracy functions against values Keras 3 computed: the result before
any update, after each of several updates (with per-sample, ``(batch, 1)``, per-element and
per-time-step sample weights, masks carried by ``y_pred``), after ``reset_state``, the config
with every argument, and default configs (issue 18). Cases:
tools/make_keras_fixtures_losses_metrics.py."""

import json
import re
import warnings

import numpy as np
import pytest

from gpuk import metrics
from gpuk.autograd import Tensor
from tests.losses._keras_cases import DATA, INPUTS, assert_close, is_error, kwargs_of

CASES = {
    f"{i:02d}-{c['cls']}-{json.dumps(c['kwargs'], sort_keys=True)}-{'m' if c['masked'] else ''}": c
    for i, c in enumerate(DATA["metric_cases"])
}
ARRAYS = dict(INPUTS, int_p_flat=INPUTS["int_p"][:, 0].copy())


def _args(update, masked):
    args = [ARRAYS[k] for k in update[:-1]]
    if masked:
        mask = INPUTS["mask1"] if args[-1].ndim <= 2 else INPUTS["sw3"] > 0.5
        args[-1] = Tensor(args[-1])
        args[-1]._keras_mask = mask
    weight = None if update[-1] is None else ARRAYS[update[-1]]
    return args, weight


def _check(call, expected, what):
    if is_error(expected):
        with pytest.raises((ValueError, TypeError, AttributeError)):
            call()
        return
    assert_close(call(), expected, what, rtol=5e-5, atol=5e-6)


@pytest.mark.parametrize("key", sorted(CASES))
def test_metric_matches_keras(key):
    case = CASES[key]
    cls = getattr(metrics, case["cls"])
    metric = cls(**kwargs_of(case["kwargs"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if not is_error(case["fresh"]):
            _check(metric.result, case["fresh"], f"{key}: before any update")
        for i, (update, expected) in enumerate(zip(case["updates"], case["results"])):
            args, weight = _args(update, case["masked"])

            def call(args=args, weight=weight):
                metric.update_state(*args, sample_weight=weight)
                return metric.result()

            _check(call, expected, f"{key}: after update {i}")
            if is_error(expected):
                break
        metric.reset_state()
        if not is_error(case["after_reset"]):
            _check(metric.result, case["after_reset"], f"{key}: after reset_state")
    config = metric.get_config()
    for k, v in case["config"].items():
        assert k in config, (k, config)
        if k == "name":  # Keras numbers repeated automatic names: auc, auc_1, ...
            assert config[k] == re.sub(r"_\d+$", "", v)
        elif isinstance(v, float) and isinstance(config[k], float):
            assert config[k] == pytest.approx(v), k
        elif k != "thresholds" or v is not None:
            assert json.loads(json.dumps(config[k])) == v, (k, config[k], v)
    again = cls.from_config(config)
    assert again.get_config() == config


METRIC_CONFIGS = {
    k.split(".")[1]: v for k, v in DATA["default_configs"].items() if k.startswith("metrics.")
}
# gpuk keeps this constructor argument in the config (Keras 3 drops it).
EXTRA_KEYS = {"CosineSimilarity": {"axis": -1}}


@pytest.mark.parametrize("name", sorted(METRIC_CONFIGS))
def test_default_metric_config_is_keras(name):
    cls = getattr(metrics, name)
    config = cls().get_config()
    expected = {**METRIC_CONFIGS[name], **EXTRA_KEYS.get(name, {})}
    expected["name"] = re.sub(r"_\d+$", "", expected["name"])
    assert json.loads(json.dumps(config)) == expected
    assert cls.from_config(config).get_config() == config
    assert metrics.get(name).get_config() == config


@pytest.mark.parametrize(
    "case",
    DATA["metric_function_cases"],
    ids=lambda c: f"{c['fn']}-{c['y_true']}-{c['y_pred']}-{c['kwargs']}",
)
def test_metric_function_matches_keras(case):
    fn = getattr(metrics, case["fn"])
    result = fn(INPUTS[case["y_true"]], INPUTS[case["y_pred"]], **case["kwargs"])
    assert np.asarray(result.numpy()).shape == np.asarray(case["expected"]).shape
    assert_close(result, case["expected"], case["fn"])
