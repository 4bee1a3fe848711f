"""Loss classes and functions against values Keras 3 computed for every reduction, sample
weight shape (none, per sample, ``(batch, 1)``, per element, scalar), masks carried by
``y_pred``, constructor arguments and default configs (issue 18: the holes mutation testing
showed). Cases: tools/make_keras_fixtures_losses_metrics.py."""

import json

import numpy as np
import pytest

from gpuk import losses
from gpuk.autograd import Tensor
from tests.losses._keras_cases import DATA, INPUTS, assert_close, group, is_error, kwargs_of

LOSS_GROUPS = group(DATA["loss_cases"], "cls", "kwargs", "y_true", "y_pred")


def _with_mask(y_pred, mask):
    tensor = Tensor(y_pred)
    tensor._keras_mask = np.asarray(mask)
    return tensor


@pytest.mark.parametrize("key", sorted(LOSS_GROUPS))
def test_loss_class_matches_keras(key):
    for case in LOSS_GROUPS[key]:
        loss = getattr(losses, case["cls"])(
            reduction=case["reduction"], **kwargs_of(case["kwargs"])
        )
        y_true, y_pred = INPUTS[case["y_true"]], INPUTS[case["y_pred"]]
        if case.get("mask") is not None:
            y_pred = _with_mask(y_pred, case["mask"])
        sw = case["sample_weight"]
        sw = None if sw is None else (np.asarray(sw, "float32") if isinstance(sw, list) else sw)
        what = json.dumps({k: case[k] for k in ("cls", "kwargs", "reduction")}) + f" sw={sw}"
        if is_error(case["expected"]):
            with pytest.raises((ValueError, TypeError)):
                loss(y_true, y_pred, sample_weight=sw)
            continue
        result = loss(y_true, y_pred, sample_weight=sw)
        assert result.dtype == np.float32, what
        assert_close(result, case["expected"], what, rtol=5e-5, atol=5e-6)


@pytest.mark.parametrize("key", sorted(LOSS_GROUPS))
def test_loss_config_round_trip_keeps_arguments_and_values(key):
    case = LOSS_GROUPS[key][0]
    kwargs = kwargs_of(case["kwargs"])
    cls = getattr(losses, case["cls"])
    loss = cls(reduction="sum", name="custom_name", **kwargs)
    config = loss.get_config()
    assert config["reduction"] == "sum" and config["name"] == "custom_name"
    for k, v in kwargs.items():
        assert config[k] == v, (k, config)
    again = cls.from_config(config)
    assert again.get_config() == config
    y_true, y_pred = INPUTS[case["y_true"]], INPUTS[case["y_pred"]]
    assert_close(again(y_true, y_pred), loss(y_true, y_pred).numpy(), key)
    # Through the registry too, as saving does.
    rebuilt = losses.deserialize(losses.serialize(loss))
    assert type(rebuilt) is cls and rebuilt.get_config() == config


@pytest.mark.parametrize(
    "case", DATA["loss_function_cases"], ids=lambda c: f"{c['fn']}-{c['y_true']}-{c['kwargs']}"
)
def test_loss_function_matches_keras(case):
    fn = getattr(losses, case["fn"])
    y_true, y_pred = INPUTS[case["y_true"]], INPUTS[case["y_pred"]]
    if is_error(case["expected"]):
        with pytest.raises(ValueError, match="incompatible shapes"):
            fn(y_true, y_pred, **kwargs_of(case["kwargs"]))
        return
    assert_close(fn(y_true, y_pred, **kwargs_of(case["kwargs"])), case["expected"], case["fn"])


def test_reduce_weighted_values_matches_keras():
    values = {"per_sample": INPUTS["reg_t1"] ** 2, "per_element": INPUTS["reg_t"] ** 2}
    for case in DATA["reduce_cases"]:
        sw = None if case["sample_weight"] is None else INPUTS[case["sample_weight"]]
        mask = None if case["mask"] is None else INPUTS[case["mask"]]
        what = json.dumps(case)
        got = losses.reduce_weighted_values(
            values[case["values"]], sample_weight=sw, mask=mask, reduction=case["reduction"]
        )
        assert_close(got, case["expected"], what)


LOSS_CONFIGS = {
    k.split(".")[1]: v for k, v in DATA["default_configs"].items() if k.startswith("losses.")
}
# gpuk keeps these constructor arguments in the config (Keras 3 drops them).
EXTRA_KEYS = {"CosineSimilarity": {"axis": -1}, "Huber": {"delta": 1.0}}


@pytest.mark.parametrize("name", sorted(LOSS_CONFIGS))
def test_default_loss_config_is_keras(name):
    cls = getattr(losses, name)
    config = cls().get_config()
    assert config == {**LOSS_CONFIGS[name], **EXTRA_KEYS.get(name, {})}
    assert cls.from_config(LOSS_CONFIGS[name]).get_config() == config
    # get() with the class name gives a default instance, with the class itself too.
    assert losses.get(name).get_config() == config
    assert losses.get(cls).get_config() == config
