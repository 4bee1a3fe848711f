"""Values Keras 3 computes for the losses added for issue 17 (focal, generalized CE, Dice,
Tversky, Circle, CTC): per-sample, reduced, weighted, and their configs.

Run by hand:
    KERAS_BACKEND=jax /work/kvenv/bin/python tools/make_keras_fixtures_losses_more.py
"""

import json
import os

import keras
import numpy as np

OUT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "keras", "losses_more"
)


def inputs():
    rng = np.random.default_rng(3)
    probs = rng.uniform(0.02, 0.98, size=(4, 5)).astype("float32")
    softmax = rng.dirichlet(np.ones(5), size=4).astype("float32")
    logits = rng.normal(size=(4, 5)).astype("float32") * 2
    binary = (rng.uniform(size=(4, 5)) > 0.5).astype("float32")
    onehot = np.eye(5, dtype="float32")[rng.integers(0, 5, size=4)]
    labels = rng.integers(0, 5, size=4).astype("int32")
    emb = rng.normal(size=(6, 3)).astype("float32")
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    circle_labels = np.array([0, 1, 0, 2, 1, 3], dtype="int32")
    seg_true = (rng.uniform(size=(2, 4, 4, 1)) > 0.5).astype("float32")
    seg_pred = rng.uniform(size=(2, 4, 4, 1)).astype("float32")
    ctc_true = np.array([[1, 2, 2, 0], [3, 1, 0, 0], [2, 0, 0, 0]], dtype="int32")
    ctc_pred = rng.normal(size=(3, 7, 4)).astype("float32")
    weights = rng.uniform(0.1, 2.0, size=4).astype("float32")
    return {
        "probs": probs,
        "softmax": softmax,
        "logits": logits,
        "binary": binary,
        "onehot": onehot,
        "labels": labels,
        "emb": emb,
        "circle_labels": circle_labels,
        "seg_true": seg_true,
        "seg_pred": seg_pred,
        "ctc_true": ctc_true,
        "ctc_pred": ctc_pred,
        "weights": weights,
        "weights6": np.linspace(0.5, 1.5, 6).astype("float32"),
        "weights3": np.array([1.0, 0.5, 2.0], dtype="float32"),
    }


# name: (class, kwargs, y_true key, y_pred key, weights key)
CASES = {
    "bfce": ("BinaryFocalCrossentropy", {}, "binary", "probs", "weights"),
    "bfce_balanced": (
        "BinaryFocalCrossentropy",
        {"apply_class_balancing": True, "alpha": 0.4, "gamma": 1.5},
        "binary",
        "probs",
        "weights",
    ),
    "bfce_logits_smooth": (
        "BinaryFocalCrossentropy",
        {"from_logits": True, "label_smoothing": 0.1},
        "binary",
        "logits",
        "weights",
    ),
    "cfce": ("CategoricalFocalCrossentropy", {}, "onehot", "softmax", "weights"),
    "cfce_logits_smooth": (
        "CategoricalFocalCrossentropy",
        {"from_logits": True, "label_smoothing": 0.2, "alpha": 0.5, "gamma": 3.0},
        "onehot",
        "logits",
        "weights",
    ),
    "gce": ("CategoricalGeneralizedCrossEntropy", {}, "labels", "softmax", "weights"),
    "gce_q": ("CategoricalGeneralizedCrossEntropy", {"q": 0.8}, "labels", "softmax", "weights"),
    "dice": ("Dice", {}, "seg_true", "seg_pred", None),
    "dice_axis": ("Dice", {"axis": [1, 2, 3]}, "seg_true", "seg_pred", None),
    "tversky": ("Tversky", {}, "seg_true", "seg_pred", None),
    "tversky_axis": (
        "Tversky",
        {"alpha": 0.3, "beta": 0.7, "axis": [1, 2]},
        "seg_true",
        "seg_pred",
        None,
    ),
    "circle": ("Circle", {}, "circle_labels", "emb", "weights6"),
    "circle_options": (
        "Circle",
        {"gamma": 10.0, "margin": 0.25, "remove_diagonal": False},
        "circle_labels",
        "emb",
        "weights6",
    ),
    "ctc": ("CTC", {}, "ctc_true", "ctc_pred", "weights3"),
}


def main():
    data = inputs()
    out = dict(data)
    configs = {}
    for name, (class_name, kwargs, yt, yp, wk) in CASES.items():
        cls = getattr(keras.losses, class_name)
        out[f"{name}/default"] = np.asarray(cls(**kwargs)(data[yt], data[yp]))
        out[f"{name}/none"] = np.asarray(cls(reduction=None, **kwargs)(data[yt], data[yp]))
        out[f"{name}/sum"] = np.asarray(cls(reduction="sum", **kwargs)(data[yt], data[yp]))
        if wk is not None:
            out[f"{name}/weighted"] = np.asarray(
                cls(**kwargs)(data[yt], data[yp], sample_weight=data[wk])
            )
            out[f"{name}/mean_with_sample_weight"] = np.asarray(
                cls(reduction="mean_with_sample_weight", **kwargs)(
                    data[yt], data[yp], sample_weight=data[wk]
                )
            )
        configs[name] = cls(**kwargs).get_config()
        fn = getattr(keras.losses, keras.losses.serialize(cls(**kwargs))["config"]["name"], None)
        if fn is not None and class_name not in ("CTC",):
            fn_kwargs = dict(kwargs)
            if class_name == "CategoricalGeneralizedCrossEntropy":
                fn_kwargs.setdefault("q", 0.5)
            out[f"{name}/function"] = np.asarray(fn(data[yt], data[yp], **fn_kwargs))
    out["meta"] = np.array(json.dumps({"cases": CASES, "configs": configs}))
    os.makedirs(OUT, exist_ok=True)
    np.savez_compressed(os.path.join(OUT, "reference.npz"), **out)
    print({k: v for k, v in out.items() if k.endswith("/default")})


if __name__ == "__main__":
    main()
