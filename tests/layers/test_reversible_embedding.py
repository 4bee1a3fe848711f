"""``ReversibleEmbedding`` against Keras 3 (tools/make_keras_fixtures_reversible_embedding.py)."""

import json
import os

import numpy as np
import pytest

import gpuk as keras
from tests.gradcheck import assert_gradients_match

FIXTURES = os.path.join(
    os.path.dirname(__file__), "..", "fixtures", "keras", "reversible_embedding"
)
R = np.load(os.path.join(FIXTURES, "values.npz"))
META = json.loads(str(R["meta"]))


@pytest.mark.parametrize("name", sorted(META))
def test_forward_and_reverse_match_keras(name, xp):
    # the layer named as Keras's was (its automatic name depends on the layers made before)
    layer_name = META[name]["paths"][0].split("/")[0]
    layer = keras.layers.ReversibleEmbedding(7, 5, name=layer_name, **META[name]["kwargs"])
    layer.build()
    layer.set_weights([R[f"{name}/w{i}"] for i in range(len(layer.weights))])
    assert [w.path for w in layer.weights] == META[name]["paths"]
    forward = layer(xp.asarray(R["ids"]))
    np.testing.assert_allclose(forward.numpy(), R[f"{name}/forward"], rtol=1e-6)
    reverse = layer(xp.asarray(R["hidden"]), reverse=True)
    np.testing.assert_allclose(reverse.numpy(), R[f"{name}/reverse"], rtol=1e-5, atol=1e-6)
    assert getattr(reverse, "_keras_mask", None) is None
    if layer.mask_zero:
        assert np.asarray(forward._keras_mask.numpy()).tolist() == (R["ids"] != 0).tolist()
    config = layer.get_config()
    keras_config = META[name]["config"]
    for key in ("input_dim", "output_dim", "mask_zero", "tie_weights", "reverse_dtype"):
        assert config[key] == keras_config[key]
    assert config["logit_soft_cap"] == keras_config["logit_soft_cap"]


def test_keras_written_model_loads():
    model = keras.saving.load_model(os.path.join(FIXTURES, "model.keras"))
    np.testing.assert_allclose(model.predict(R["ids"], verbose=0), R["model/out"], rtol=1e-5)
    assert [w.path for w in model.get_layer("rev").weights] == [
        "rev/embeddings",
        "rev/reverse_embeddings",
    ]


def test_reverse_gradients(xp):
    layer = keras.layers.ReversibleEmbedding(6, 4, logit_soft_cap=3.0, dtype="float64")
    layer.build()
    hidden = np.random.default_rng(0).normal(size=(2, 4))
    assert_gradients_match(lambda h: layer(h, reverse=True), [hidden], xp)
    with keras.GradientTape() as tape:
        loss = keras.ops.sum(layer(xp.asarray(hidden), reverse=True))
    (grad,) = tape.gradient(loss, layer.trainable_weights)
    assert grad is not None and grad.shape == (6, 4)
