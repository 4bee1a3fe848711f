"""Normalization, attention, activation and noise layers against values Keras 3 computed.

Fixtures: ``tests/fixtures/keras/norm_attention/layers.{json,npz}`` written by
``tools/make_keras_fixtures_norm_attention.py``. Each case rebuilds the layer from the config
Keras serialized, checks the weight names/shapes/order, loads Keras's weights, and compares
outputs, gradients (inputs and trainable weights) and updated non-trainable weights.
"""

import json
import os

import numpy as np
import pytest

import gpuk
from gpuk import layers

FIX = os.path.join(os.path.dirname(__file__), "..", "fixtures", "keras", "norm_attention")
with open(os.path.join(FIX, "layers.json")) as _f:
    META = json.load(_f)
DATA = np.load(os.path.join(FIX, "layers.npz"))


def _get(name, key):
    return DATA[f"{name}/{key}"]


def _inputs(name, meta, xp):
    """Positional args (Variables, so the tape sees them), kwargs, and the watched list."""
    watched, args, i = [], [], 0

    def var(a):
        v = gpuk.Variable(xp.asarray(a))
        watched.append(v)
        return v

    for spec in meta["args"]:
        if spec is None:
            args.append(var(_get(name, f"arg{i}")))
            i += 1
        else:
            args.append([var(_get(name, f"arg{i + j}")) for j in range(spec)])
            i += spec
    n_args = len(watched)
    kwargs, kw_watched = {}, {}
    for key, kind in meta["kwargs"].items():
        if kind == "array":
            value = _get(name, f"kw_{key}")
            if value.dtype == np.float32:
                kwargs[key] = kw_watched[key] = gpuk.Variable(xp.asarray(value))
            else:
                kwargs[key] = xp.asarray(value)
        elif kind == "arrays":
            count = meta["kwarg_lists"][key]
            kwargs[key] = [xp.asarray(_get(name, f"kw_{key}{j}")) for j in range(count)]
        else:
            kwargs[key] = kind
    return args, kwargs, watched[:n_args], kw_watched


@pytest.mark.parametrize("name", sorted(META))
def test_layer_matches_keras(name, xp):
    meta = META[name]
    layer = layers.deserialize(meta["config"])
    args, kwargs, watched, kw_watched = _inputs(name, meta, xp)
    layer(*args, **{k: v for k, v in kwargs.items() if k != "training"})  # builds
    names = [p.split("/")[-1] for p in meta["weight_paths"]]
    assert [w.path.split("/")[-1] for w in layer.weights] == names
    weights = [_get(name, f"weight{i}") for i in range(len(names))]
    assert [tuple(w.shape) for w in layer.weights] == [w.shape for w in weights]
    layer.set_weights(weights)
    assert [w.path.split("/")[-1] for w in layer.trainable_weights] == [
        p.split("/")[-1] for p in meta["trainable_paths"]
    ]
    sources = watched + list(kw_watched.values()) + list(layer.trainable_weights)
    with gpuk.GradientTape() as tape:
        outputs = layer(*args, **kwargs)
        outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
        assert len(outputs) == meta["n_outputs"]
        loss = sum(
            gpuk.ops.sum(o * xp.asarray(_get(name, f"cot{i}"))) for i, o in enumerate(outputs)
        )
    for i, out in enumerate(outputs):
        np.testing.assert_allclose(
            out.numpy(), _get(name, f"out{i}"), rtol=1e-4, atol=1e-5, err_msg=f"output {i}"
        )
    grads = tape.gradient(loss, sources)
    expected = [_get(name, f"grad_arg{i}") for i in range(len(watched))]
    expected += [_get(name, f"grad_kw_{k}") for k in kw_watched]
    expected += [_get(name, f"grad_trainable{i}") for i in range(len(layer.trainable_weights))]
    for i, (g, e) in enumerate(zip(grads, expected)):
        got = np.zeros_like(e) if g is None else gpuk.Tensor(g).numpy()
        np.testing.assert_allclose(got, e, rtol=1e-4, atol=2e-5, err_msg=f"gradient {i}")
    for i, variable in enumerate(layer.non_trainable_weights):
        np.testing.assert_allclose(
            variable.numpy(), _get(name, f"new_non_trainable{i}"), rtol=1e-5, atol=1e-6
        )
    if meta["losses"] is not None:
        np.testing.assert_allclose(
            [float(v.numpy()) for v in layer.losses], meta["losses"], rtol=1e-5
        )


@pytest.mark.parametrize("name", sorted(META))
def test_config_round_trip(name):
    meta = META[name]
    layer = layers.deserialize(meta["config"])
    config = layer.get_config()
    keras_config = meta["config"]["config"]
    missing = set(keras_config) - set(config) - {"dtype"}
    assert not missing, f"config keys Keras has and gpuk lacks: {missing}"
    for key, value in keras_config.items():
        if key in ("dtype", "layer") or isinstance(value, dict):
            continue
        got = config[key]
        got = list(got) if isinstance(got, tuple) else got
        assert json.loads(json.dumps(got)) == value, (
            f"config[{key!r}]: gpuk {got!r}, Keras {value!r}"
        )
    again = type(layer).from_config(config)
    assert again.get_config() == config
