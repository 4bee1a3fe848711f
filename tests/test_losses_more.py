"""Issue 17's losses against values Keras 3 computed (tools/make_keras_fixtures_losses_more.py)."""

import json
import os

import numpy as np
import pytest

import gpuk
from gpuk import losses
from tests.gradcheck import assert_gradients_match

REFERENCE = np.load(
    os.path.join(os.path.dirname(__file__), "fixtures", "keras", "losses_more", "reference.npz")
)
META = json.loads(str(REFERENCE["meta"]))
CASES = META["cases"]
HAS_CTC = hasattr(gpuk.ops, "ctc_loss")


def _params():
    for name in sorted(CASES):
        marks = []
        if CASES[name][0] == "CTC" and not HAS_CTC:
            marks = [pytest.mark.skip(reason="gpuk.ops.ctc_loss is not in this tree")]
        yield pytest.param(name, marks=marks)


def _values(value):
    return np.asarray(value.numpy() if hasattr(value, "numpy") else value)


@pytest.mark.parametrize("name", list(_params()))
def test_values_match_keras(name, xp):
    class_name, kwargs, yt, yp, wk = CASES[name]
    cls = getattr(losses, class_name)
    y_true, y_pred = xp.asarray(REFERENCE[yt]), xp.asarray(REFERENCE[yp])
    tol = dict(rtol=2e-5, atol=2e-6)
    got = {
        "default": cls(**kwargs)(y_true, y_pred),
        "none": cls(reduction=None, **kwargs)(y_true, y_pred),
        "sum": cls(reduction="sum", **kwargs)(y_true, y_pred),
    }
    if wk is not None:
        weights = xp.asarray(REFERENCE[wk])
        got["weighted"] = cls(**kwargs)(y_true, y_pred, sample_weight=weights)
        got["mean_with_sample_weight"] = cls(reduction="mean_with_sample_weight", **kwargs)(
            y_true, y_pred, sample_weight=weights
        )
    for key, value in got.items():
        expected = REFERENCE[f"{name}/{key}"]
        np.testing.assert_allclose(_values(value), expected, err_msg=f"{name} {key}", **tol)
        assert _values(value).shape == expected.shape
    if f"{name}/function" in REFERENCE.files:
        fn = getattr(losses, cls(**kwargs).name)
        fn_kwargs = dict(kwargs)
        if class_name == "CategoricalGeneralizedCrossEntropy":
            fn_kwargs.setdefault("q", 0.5)
        np.testing.assert_allclose(
            _values(fn(y_true, y_pred, **fn_kwargs)), REFERENCE[f"{name}/function"], **tol
        )


@pytest.mark.parametrize("name", list(_params()))
def test_config_matches_keras_and_round_trips(name):
    class_name, kwargs, *_ = CASES[name]
    loss = getattr(losses, class_name)(**kwargs)
    config = json.loads(json.dumps(loss.get_config()))
    assert config == META["configs"][name]
    clone = losses.deserialize(losses.serialize(loss))
    assert type(clone) is type(loss) and clone.get_config() == loss.get_config()
    assert type(losses.get(class_name)) is type(loss)


LOSS_FNS = {
    "bfce": lambda t, p: losses.binary_focal_crossentropy(t, p, apply_class_balancing=True),
    "bfce_logits": lambda t, p: losses.binary_focal_crossentropy(t, p, from_logits=True),
    "cfce_logits": lambda t, p: losses.categorical_focal_crossentropy(t, p, from_logits=True),
    "gce": lambda t, p: losses.categorical_generalized_cross_entropy(t, p, q=0.7),
    "dice": lambda t, p: losses.dice(t, p, axis=(1, 2, 3)),
    "tversky": lambda t, p: losses.tversky(t, p, alpha=0.3, beta=0.7),
    "circle": lambda t, p: losses.circle(t, p, gamma=2.0),
}
GRAD_INPUTS = {
    "bfce": ("binary", "probs"),
    "bfce_logits": ("binary", "logits"),
    "cfce_logits": ("onehot", "logits"),
    "gce": ("labels", "softmax"),
    "dice": ("seg_true", "seg_pred"),
    "tversky": ("seg_true", "seg_pred"),
    "circle": ("circle_labels", "emb"),
}


@pytest.mark.parametrize("name", sorted(LOSS_FNS))
def test_gradients_match_numerical(name, xp):
    yt, yp = GRAD_INPUTS[name]
    y_true = REFERENCE[yt]
    fn = LOSS_FNS[name]
    assert_gradients_match(
        lambda p: fn(xp.asarray(y_true), p),
        [REFERENCE[yp].astype(np.float64)],
        xp,
        rtol=1e-5,
        atol=1e-7,
    )


def test_circle_masks_samples_without_positive_pairs():
    emb = REFERENCE["emb"]
    labels = REFERENCE["circle_labels"]
    per_sample = losses.circle(labels, emb)
    # Labels 2 and 3 occur once: no positive pair, loss 0, masked out of the mean.
    assert per_sample.numpy()[[3, 5]].tolist() == [0.0, 0.0]
    assert per_sample._keras_mask.tolist() == [True, True, True, False, True, False]


def test_errors():
    with pytest.raises(ValueError, match="q must be in the interval"):
        losses.CategoricalGeneralizedCrossEntropy(q=1.5)
    with pytest.raises(ValueError, match="batch_size, max_length"):
        losses.ctc(np.zeros((2, 3, 1)), np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="num_classes"):
        losses.ctc(np.zeros((2, 3)), np.zeros((2, 3)))
    with pytest.raises(TypeError, match="Dice"):
        losses.Dice(alpha=0.3)


@pytest.mark.skipif(not HAS_CTC, reason="gpuk.ops.ctc_loss is not in this tree")
def test_ctc_trains_in_a_model():
    model = gpuk.Sequential([gpuk.Input((7, 3)), gpuk.layers.Dense(4)])
    model.compile(optimizer="adam", loss=losses.CTC())
    x = np.random.default_rng(0).normal(size=(3, 7, 3)).astype("float32")
    first = model.evaluate(x, REFERENCE["ctc_true"], verbose=0)
    model.fit(x, REFERENCE["ctc_true"], epochs=20, verbose=0)
    assert model.evaluate(x, REFERENCE["ctc_true"], verbose=0) < first
