"""Keras 3 reference values for the loss and metric edge cases mutation testing showed
(issue 18): reductions, sample-weight shapes, masks, constructor arguments, default configs,
results before any update and after ``reset_state``, accuracy shape rules.

Run with ``KERAS_BACKEND=jax /work/kvenv/bin/python tools/make_keras_fixtures_losses_metrics.py``;
writes ``tests/fixtures/keras/losses_metrics/cases.json`` (inputs and cases in one file).
tests/losses/test_losses_vs_keras_edges.py and tests/metrics/test_metrics_vs_keras_edges.py
replay every case on gpuk.
"""

import json
import os
import warnings

import keras
import numpy as np
from keras.src.losses.loss import reduce_weighted_values

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "keras", "losses_metrics")


def make_inputs():
    rng = np.random.default_rng(18)
    n, c = 5, 3
    d = {}
    d["reg_t"] = np.round(rng.normal(size=(n, c)), 3).astype("float32")
    d["reg_p"] = np.round(rng.normal(size=(n, c)), 3).astype("float32")
    d["reg_t1"] = np.round(rng.normal(size=(n,)), 3).astype("float32")
    d["reg_p_n1"] = np.round(rng.normal(size=(n, 1)), 3).astype("float32")
    d["reg3_t"] = np.round(rng.normal(size=(2, 4, c)), 3).astype("float32")
    d["reg3_p"] = np.round(rng.normal(size=(2, 4, c)), 3).astype("float32")
    d["pos_t"] = np.round(rng.uniform(0.1, 2.0, size=(n, c)), 3).astype("float32")
    d["pos_p"] = np.round(rng.uniform(0.1, 2.0, size=(n, c)), 3).astype("float32")
    d["bin_t"] = rng.integers(0, 2, size=(n, c)).astype("float32")
    d["prob"] = np.round(rng.uniform(0.05, 0.95, size=(n, c)), 3).astype("float32")
    d["logit"] = np.round(rng.normal(size=(n, c)) * 2, 3).astype("float32")
    d["bin_t_n1"] = np.array([[1], [0], [1], [1], [0]], "float32")
    d["prob_n1"] = np.array([[0.7], [0.6], [0.2], [0.5], [0.1]], "float32")
    d["bin_t1"] = d["bin_t_n1"][:, 0].copy()
    d["prob1"] = d["prob_n1"][:, 0].copy()
    labels = np.array([0, 2, 1, 2, 1])
    d["sparse"] = labels.astype("int32")
    d["sparse_n1"] = labels[:, None].astype("int32")
    d["sparse_f"] = labels.astype("float32")
    d["onehot"] = np.eye(c, dtype="float32")[labels]
    d["onehot_n1"] = d["onehot"][:, None, :].copy()
    p = np.exp(d["logit"])
    d["softmax"] = np.round(p / p.sum(-1, keepdims=True), 4).astype("float32")
    # Ties and a NaN for the top-k rules.
    d["ties"] = np.array(
        [[0.2, 0.2, 0.6], [0.5, 0.5, 0.0], [0.1, 0.3, 0.3], [0.4, 0.4, 0.2], [0.3, 0.3, 0.4]],
        "float32",
    )
    d["sparse3"] = rng.integers(0, c, size=(2, 4)).astype("int32")
    d["onehot3"] = np.eye(c, dtype="float32")[d["sparse3"]]
    d["softmax3"] = np.round(rng.dirichlet(np.ones(c), size=(2, 4)), 4).astype("float32")
    d["pm1"] = np.where(rng.random((n, c)) > 0.5, 1.0, -1.0).astype("float32")
    d["sw"] = np.array([0.5, 1.0, 2.0, 0.0, 1.5], "float32")
    d["sw_n1"] = d["sw"][:, None].copy()
    d["sw_full"] = np.round(rng.uniform(0, 2, size=(n, c)), 2).astype("float32")
    d["sw_zero"] = np.zeros(n, "float32")
    d["sw_tiny"] = np.full(n, 1e-9, "float32")  # counts far below epsilon
    d["sw3"] = np.array([[1.0, 0.5, 0.0, 2.0], [0.25, 1.0, 1.0, 3.0]], "float32")
    d["mask"] = np.array([[1, 1, 0], [1, 0, 0], [1, 1, 1], [0, 0, 0], [1, 0, 1]], dtype=bool)
    d["mask1"] = np.array([True, False, True, True, False])
    emb = rng.normal(size=(6, 4))
    d["emb"] = np.round(emb / np.linalg.norm(emb, axis=1, keepdims=True), 4).astype("float32")
    d["emb_labels"] = np.array([0, 1, 0, 2, 1, 0], "int32")
    d["seg_t"] = (rng.random((2, 4, 4)) > 0.5).astype("float32")
    d["seg_p"] = np.round(rng.random((2, 4, 4)), 3).astype("float32")
    d["ctc_t"] = np.array([[1, 2, 0], [2, 2, 1]], "int32")
    d["ctc_p"] = np.round(rng.normal(size=(2, 6, 4)), 3).astype("float32")
    # Predictions on and outside the thresholds (Keras clips only on its evenly-spaced path).
    d["edge_t"] = np.array([1, 0, 1, 0, 1, 0, 1, 0], "float32")
    d["edge_p"] = np.array([0.0, 0.0, 0.5, 1.0, 1.5, -0.5, 1.0, 0.25], "float32")
    d["edge_t2"] = np.array([[1, 0], [0, 1], [1, 1], [0, 0]], "float32")
    d["edge_p2"] = np.array([[0.0, 1.0], [1.0, 0.5], [0.5, 0.0], [1.2, -0.1]], "float32")
    d["edge_w"] = np.array([1.0, 2.0, 0.5, 1.0, 3.0, 1.0, 0.25, 2.0], "float32")
    d["int_t"] = rng.integers(0, 3, size=(n, c)).astype("int32")
    d["int_p"] = rng.integers(0, 3, size=(n, c)).astype("int32")
    return d


class _Masked(np.ndarray):
    """A NumPy array carrying ``_keras_mask`` (what Keras's Loss and metrics look for)."""


def masked(x, mask):
    out = np.asarray(x).view(_Masked)
    out._keras_mask = mask
    return out


def jsonable(x):
    if x is None or isinstance(x, (bool, int, str)):
        return x
    if isinstance(x, float):
        return x
    if isinstance(x, dict):
        return {k: jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    arr = np.asarray(x)
    if arr.dtype.kind == "b":
        return arr.tolist()
    return np.asarray(arr, dtype="float64").tolist()


def run(fn):
    """``fn()``'s value, or ``{'error': class name}`` when Keras raises."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return jsonable(fn())
    except Exception as e:  # noqa: BLE001 - recorded for the replay
        return {"error": type(e).__name__}


REDUCTIONS = ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None]

# (class, kwargs, y_true key, y_pred key)
LOSS_CLASSES = [
    ("MeanSquaredError", {}, "reg_t", "reg_p"),
    ("MeanAbsoluteError", {}, "reg_t", "reg_p"),
    ("MeanAbsolutePercentageError", {}, "reg_t", "reg_p"),
    ("MeanSquaredLogarithmicError", {}, "pos_t", "pos_p"),
    ("CosineSimilarity", {}, "reg_t", "reg_p"),
    ("CosineSimilarity", {"axis": 0}, "reg_t", "reg_p"),
    ("Hinge", {}, "bin_t", "logit"),
    ("Hinge", {}, "pm1", "logit"),
    ("SquaredHinge", {}, "bin_t", "logit"),
    ("SquaredHinge", {}, "pm1", "logit"),
    ("CategoricalHinge", {}, "onehot", "logit"),
    ("LogCosh", {}, "reg_t", "reg_p"),
    ("Huber", {}, "reg_t", "reg_p"),
    ("Huber", {"delta": 0.4}, "reg_t", "reg_p"),
    ("Poisson", {}, "pos_t", "pos_p"),
    ("KLDivergence", {}, "softmax", "prob"),
    ("BinaryCrossentropy", {}, "bin_t", "prob"),
    ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.2}, "bin_t", "logit"),
    ("BinaryCrossentropy", {"axis": 0}, "bin_t", "prob"),
    ("CategoricalCrossentropy", {}, "onehot", "softmax"),
    ("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.3}, "onehot", "logit"),
    ("CategoricalCrossentropy", {"axis": 0}, "onehot", "softmax"),
    ("SparseCategoricalCrossentropy", {}, "sparse", "softmax"),
    ("SparseCategoricalCrossentropy", {}, "sparse_n1", "softmax"),
    ("SparseCategoricalCrossentropy", {"from_logits": True, "ignore_class": 1}, "sparse", "logit"),
    ("SparseCategoricalCrossentropy", {"ignore_class": 2}, "sparse_n1", "softmax"),
    ("BinaryFocalCrossentropy", {}, "bin_t", "prob"),
    (
        "BinaryFocalCrossentropy",
        {"apply_class_balancing": True, "alpha": 0.4, "gamma": 1.5, "label_smoothing": 0.1},
        "bin_t",
        "prob",
    ),
    ("BinaryFocalCrossentropy", {"from_logits": True, "axis": 0}, "bin_t", "logit"),
    ("CategoricalFocalCrossentropy", {}, "onehot", "softmax"),
    (
        "CategoricalFocalCrossentropy",
        {"alpha": 0.5, "gamma": 1.0, "label_smoothing": 0.2, "from_logits": True},
        "onehot",
        "logit",
    ),
    ("CategoricalGeneralizedCrossEntropy", {}, "sparse", "softmax"),
    ("CategoricalGeneralizedCrossEntropy", {"q": 0.3}, "sparse", "softmax"),
    ("Dice", {}, "seg_t", "seg_p"),
    ("Dice", {"axis": (1, 2)}, "seg_t", "seg_p"),
    ("Tversky", {}, "seg_t", "seg_p"),
    ("Tversky", {"alpha": 0.3, "beta": 0.7, "axis": (1, 2)}, "seg_t", "seg_p"),
    ("Circle", {}, "emb_labels", "emb"),
    ("Circle", {"gamma": 20.0, "margin": 0.25, "remove_diagonal": False}, "emb_labels", "emb"),
    ("CTC", {}, "ctc_t", "ctc_p"),
]

# Loss functions called directly: (name, kwargs, y_true key, y_pred key)
LOSS_FUNCTIONS = [
    ("mean_squared_error", {}, "reg_t1", "reg_p_n1"),
    ("mean_squared_error", {}, "reg_p_n1", "reg_t1"),
    ("mean_absolute_percentage_error", {}, "reg_t1", "reg_p_n1"),
    ("mean_squared_logarithmic_error", {}, "reg_t", "reg_p"),
    ("cosine_similarity", {}, "reg_t", "reg_p"),
    ("cosine_similarity", {"axis": 0}, "reg3_t", "reg3_p"),
    ("categorical_hinge", {}, "onehot", "logit"),
    ("huber", {}, "reg_t", "reg_p"),
    ("huber", {"delta": 2.5}, "reg_t", "reg_p"),
    ("poisson", {}, "pos_t", "pos_p"),
    ("kl_divergence", {}, "softmax", "prob"),
    ("binary_crossentropy", {}, "bin_t", "prob"),
    ("binary_crossentropy", {"label_smoothing": 0.4}, "bin_t", "prob"),
    ("binary_crossentropy", {"from_logits": True, "axis": 0}, "bin_t", "logit"),
    ("binary_focal_crossentropy", {}, "bin_t", "prob"),
    ("binary_focal_crossentropy", {"apply_class_balancing": True}, "bin_t", "prob"),
    ("binary_focal_crossentropy", {"gamma": 0.0, "alpha": 0.9}, "bin_t", "prob"),
    (
        "binary_focal_crossentropy",
        {"apply_class_balancing": True, "alpha": 0.7, "from_logits": True, "label_smoothing": 0.3},
        "bin_t",
        "logit",
    ),
    ("binary_focal_crossentropy", {"axis": 0}, "bin_t", "prob"),
    ("categorical_focal_crossentropy", {}, "onehot", "softmax"),
    ("categorical_focal_crossentropy", {}, "onehot", "prob"),
    ("categorical_focal_crossentropy", {"gamma": 0.5, "alpha": 1.0}, "onehot", "softmax"),
    (
        "categorical_focal_crossentropy",
        {"from_logits": True, "label_smoothing": 0.1, "axis": 0},
        "onehot",
        "logit",
    ),
    ("categorical_crossentropy", {}, "onehot", "prob"),
    ("categorical_crossentropy", {"label_smoothing": 0.2, "axis": 0}, "onehot", "softmax"),
    ("categorical_crossentropy", {"from_logits": True}, "onehot3", "softmax3"),
    ("sparse_categorical_crossentropy", {}, "sparse_f", "softmax"),
    ("sparse_categorical_crossentropy", {"from_logits": True}, "sparse3", "softmax3"),
    ("sparse_categorical_crossentropy", {"ignore_class": 0}, "sparse_n1", "softmax"),
    ("categorical_generalized_cross_entropy", {"q": 0.7}, "sparse", "softmax"),
    ("dice", {}, "seg_t", "seg_p"),
    ("dice", {"axis": 1}, "seg_t", "seg_p"),
    ("tversky", {}, "seg_t", "seg_p"),
    ("tversky", {"alpha": 0.9, "beta": 0.1, "axis": (1, 2)}, "seg_t", "seg_p"),
    ("circle", {}, "emb_labels", "emb"),
    ("circle", {"remove_diagonal": False, "gamma": 5, "margin": 0.1}, "emb_labels", "emb"),
    ("ctc", {}, "ctc_t", "ctc_p"),
]


def _kw(kwargs):
    return {k: (tuple(v) if k == "axis" and isinstance(v, list) else v) for k, v in kwargs.items()}


def loss_cases(d):
    cases = []
    for cls_name, kwargs, t, p in LOSS_CLASSES:
        cls = getattr(keras.losses, cls_name)
        for reduction in REDUCTIONS:
            for sw in (None, "sw", "sw_n1", "sw_full", 2.0):
                if sw == "sw_full" and cls_name != "MeanSquaredError":
                    continue
                if sw in ("sw_n1", 2.0) and reduction is None:
                    continue
                if kwargs.get("axis") == 0 and sw is not None:
                    continue
                if cls_name in ("Dice", "Tversky", "CTC", "Circle") and sw not in (None, "sw"):
                    continue
                if cls_name in ("Dice", "Tversky", "Circle") and sw is not None:
                    sw_value = d["sw"][:2] if cls_name != "Circle" else np.arange(6) / 3.0
                    if cls_name != "Circle" and "axis" not in kwargs:
                        continue
                else:
                    sw_value = d[sw] if isinstance(sw, str) else sw
                if cls_name == "CTC" and sw is not None:
                    sw_value = np.array([0.5, 2.0], "float32")
                loss = cls(reduction=reduction, **_kw(kwargs))
                value = run(lambda: loss(d[t], d[p], sample_weight=sw_value))  # noqa: B023
                cases.append(
                    {
                        "cls": cls_name,
                        "kwargs": kwargs,
                        "reduction": reduction,
                        "y_true": t,
                        "y_pred": p,
                        "sample_weight": jsonable(sw_value) if sw is not None else None,
                        "expected": value,
                    }
                )
    # Masks carried by y_pred (in_mask), alone and combined with ignore_class (out_mask).
    for cls_name, kwargs, t, p, mask in (
        ("MeanSquaredError", {}, "reg_t", "reg_p", "mask1"),
        ("BinaryCrossentropy", {}, "bin_t", "prob", "mask1"),
        ("SparseCategoricalCrossentropy", {"ignore_class": 1}, "sparse", "softmax", "mask1"),
        ("Huber", {}, "reg3_t", "reg3_p", "sw3"),
    ):
        for reduction in REDUCTIONS:
            for sw in (None, "sw"):
                mask_value = d[mask] > 0 if mask != "sw3" else d["sw3"] > 0.5
                sw_value = None if sw is None else d["sw"]
                if mask == "sw3" and sw is not None:
                    sw_value = d["sw"][:2, None]
                loss = getattr(keras.losses, cls_name)(reduction=reduction, **kwargs)
                y_pred = masked(d[p], mask_value)
                value = run(lambda: loss(d[t], y_pred, sample_weight=sw_value))  # noqa: B023
                cases.append(
                    {
                        "cls": cls_name,
                        "kwargs": kwargs,
                        "reduction": reduction,
                        "y_true": t,
                        "y_pred": p,
                        "mask": jsonable(mask_value),
                        "sample_weight": jsonable(sw_value),
                        "expected": value,
                    }
                )
    return cases


def loss_function_cases(d):
    cases = []
    for name, kwargs, t, p in LOSS_FUNCTIONS:
        fn = getattr(keras.losses, name)
        cases.append(
            {
                "fn": name,
                "kwargs": kwargs,
                "y_true": t,
                "y_pred": p,
                "expected": run(lambda: fn(d[t], d[p], **_kw(kwargs))),  # noqa: B023
            }
        )
    return cases


def reduce_cases(d):
    """``reduce_weighted_values`` on raw per-sample values, with masks and weights."""
    cases = []
    per_sample = d["reg_t1"] ** 2
    per_element = d["reg_t"] ** 2
    combos = [
        ("per_sample", sw, m) for sw in (None, "sw", "sw_n1", "sw_zero") for m in (None, "mask1")
    ]
    combos += [("per_element", sw, m) for sw in (None, "sw_full", "sw_n1") for m in (None, "mask")]
    for reduction in REDUCTIONS:
        for values, sw, mask in combos:
            value = run(
                lambda: reduce_weighted_values(  # noqa: B023
                    per_sample if values == "per_sample" else per_element,  # noqa: B023
                    sample_weight=None if sw is None else d[sw],  # noqa: B023
                    mask=None if mask is None else d[mask],  # noqa: B023
                    reduction=reduction,  # noqa: B023
                    dtype="float32",
                )
            )
            cases.append(
                {
                    "values": values,
                    "reduction": reduction,
                    "sample_weight": sw,
                    "mask": mask,
                    "expected": value,
                }
            )
    return cases


# (class, kwargs, updates as (y_true key, y_pred key, sample weight key or None))
_B = [("bin_t", "prob", None), ("bin_t", "prob", "sw")]
_R = [("reg_t", "reg_p", None), ("reg_t", "reg_p", "sw")]
_E = [("edge_t", "edge_p", None), ("edge_t", "edge_p", "edge_w")]
METRICS = [
    ("Mean", {}, [("reg_t", None), ("reg_p", "sw"), ("reg_t1", "sw_n1")]),
    ("RootMeanSquaredError", {}, [("reg_t", "reg_p", "sw_full"), ("reg3_t", "reg3_p", "sw3")]),
    ("MeanSquaredError", {}, [("reg_t", "reg_p", "sw_full")]),
    ("Mean", {}, [("reg3_t", "sw3"), ("reg3_p", None)]),
    ("Mean", {}, [("reg_t", "sw_full"), ("reg_t", "sw_zero")]),
    ("Sum", {}, [("reg_t", None), ("reg_p", "sw"), ("reg3_t", "sw3")]),
    ("Sum", {}, [("reg_t1", "sw"), ("reg_p", "sw_full")]),
    ("Accuracy", {}, [("int_t", "int_p", None), ("int_t", "int_p", "sw")]),
    ("BinaryAccuracy", {}, _B),
    ("BinaryAccuracy", {"threshold": 0.3}, _B + [("bin_t_n1", "prob1", "sw")]),
    ("CategoricalAccuracy", {}, [("onehot", "softmax", None), ("onehot", "ties", "sw")]),
    ("CategoricalAccuracy", {}, [("onehot3", "softmax3", "sw3")]),
    ("CategoricalAccuracy", {}, [("onehot_n1", "softmax", "sw"), ("onehot_n1", "ties", None)]),
    ("SparseCategoricalAccuracy", {}, [("sparse", "softmax", None), ("sparse_n1", "ties", "sw")]),
    ("SparseCategoricalAccuracy", {}, [("sparse3", "softmax3", "sw3")]),
    ("TopKCategoricalAccuracy", {}, [("onehot", "softmax", "sw")]),
    ("TopKCategoricalAccuracy", {"k": 1}, [("onehot", "ties", None), ("onehot", "softmax", "sw")]),
    ("SparseTopKCategoricalAccuracy", {}, [("sparse", "softmax", None)]),
    (
        "SparseTopKCategoricalAccuracy",
        {"k": 2},
        [("sparse", "ties", None), ("sparse_n1", "softmax", "sw"), ("sparse3", "softmax3", "sw3")],
    ),
    ("MeanSquaredError", {}, _R),
    ("MeanAbsoluteError", {}, _R),
    ("MeanAbsolutePercentageError", {}, _R),
    ("MeanSquaredLogarithmicError", {}, [("pos_t", "pos_p", None), ("pos_t", "pos_p", "sw")]),
    ("RootMeanSquaredError", {}, _R + [("reg_t1", "reg_p_n1", "sw")]),
    ("CosineSimilarity", {}, _R),
    ("CosineSimilarity", {"axis": 0}, [("reg_t", "reg_p", None)]),
    ("LogCoshError", {}, _R),
    ("Hinge", {}, [("bin_t", "logit", None), ("pm1", "logit", "sw")]),
    ("SquaredHinge", {}, [("bin_t", "logit", None), ("pm1", "logit", "sw")]),
    ("CategoricalHinge", {}, [("onehot", "logit", "sw")]),
    ("KLDivergence", {}, [("softmax", "prob", None), ("softmax", "prob", "sw")]),
    ("Poisson", {}, [("pos_t", "pos_p", None), ("pos_t", "pos_p", "sw")]),
    ("BinaryCrossentropy", {}, _B),
    (
        "BinaryCrossentropy",
        {"from_logits": True, "label_smoothing": 0.2},
        [("bin_t", "logit", "sw")],
    ),
    ("CategoricalCrossentropy", {}, [("onehot", "softmax", None), ("onehot", "softmax", "sw")]),
    (
        "CategoricalCrossentropy",
        {"from_logits": True, "label_smoothing": 0.1, "axis": 0},
        [("onehot", "logit", None)],
    ),
    (
        "SparseCategoricalCrossentropy",
        {},
        [("sparse", "softmax", None), ("sparse_n1", "prob", "sw")],
    ),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, [("sparse", "logit", "sw")]),
    ("SparseCategoricalCrossentropy", {"ignore_class": 1}, [("sparse", "softmax", None)]),
    ("Precision", {}, _B),
    ("Precision", {"thresholds": [0.0, 0.5, 1.0]}, _B),
    ("Precision", {"top_k": 2, "class_id": 0}, _B),
    ("Recall", {}, _B),
    ("Recall", {"thresholds": [0.1, 0.95], "top_k": 1}, _B),
    ("AUC", {}, _B),
    ("AUC", {"num_thresholds": 4, "curve": "PR", "summation_method": "minoring"}, _B),
    ("AUC", {"num_thresholds": 4, "curve": "ROC", "summation_method": "majoring"}, _B),
    ("AUC", {"multi_label": True, "label_weights": [0.5, 1.0, 0.0]}, _B),
    (
        "AUC",
        {"multi_label": True, "num_labels": 3, "from_logits": True},
        [("bin_t", "logit", "sw")],
    ),
    ("AUC", {"thresholds": [0.2, 0.4, 0.9], "curve": "PR"}, _B),
    ("TruePositives", {}, _B),
    ("TruePositives", {"thresholds": [0.0, 0.5, 1.0]}, _E),
    ("FalsePositives", {"thresholds": [0.0, 1.0]}, _E),
    ("Precision", {"thresholds": [0.0, 0.5, 1.0]}, _E),
    ("Precision", {"thresholds": [0.0, 1.0]}, _E),
    ("Recall", {"thresholds": [0.0, 0.25, 0.5, 0.75, 1.0]}, _E),
    ("Recall", {"thresholds": [1.0, 0.0]}, _E),
    ("AUC", {"num_thresholds": 3}, _E),
    ("AUC", {"num_thresholds": 5, "curve": "PR"}, _E),
    ("AUC", {"thresholds": [0.0, 0.5, 1.0]}, _E),
    ("AUC", {"num_thresholds": 3, "multi_label": True}, [("edge_t2", "edge_p2", None)]),
    ("AUC", {"label_weights": [0.5, 1.0, 0.0]}, _B),
    ("Precision", {"top_k": 3}, _B),
    ("Recall", {"top_k": 3, "thresholds": [0.3, 0.6]}, _B),
    ("SensitivityAtSpecificity", {"specificity": 0.5, "num_thresholds": 3}, _E),
    ("PrecisionAtRecall", {"recall": 0.0, "num_thresholds": 3}, _E),
    ("RecallAtPrecision", {"precision": 0.9, "num_thresholds": 3}, _E),
    ("RecallAtPrecision", {"precision": 0.5, "num_thresholds": 1}, _E),
    ("FalsePositives", {"thresholds": [0.0, 0.5, 1.0]}, _B),
    ("TrueNegatives", {"thresholds": 0.3}, _B),
    ("FalseNegatives", {}, _B),
    ("PrecisionAtRecall", {"recall": 0.5, "num_thresholds": 5}, _B),
    ("PrecisionAtRecall", {"recall": 1.0, "class_id": 2}, _B),
    ("RecallAtPrecision", {"precision": 0.8}, _B),
    ("RecallAtPrecision", {"precision": 1.0, "num_thresholds": 3}, _B),
    ("SensitivityAtSpecificity", {"specificity": 0.0}, _B),
    ("SensitivityAtSpecificity", {"specificity": 1.0, "num_thresholds": 7}, _B),
    ("SpecificityAtSensitivity", {"sensitivity": 0.5, "class_id": 1}, _B),
    ("SpecificityAtSensitivity", {"sensitivity": 1.0, "num_thresholds": 2}, _B),
    ("F1Score", {}, _B),
    ("F1Score", {"average": "micro", "threshold": 0.5}, _B),
    ("F1Score", {"average": "macro"}, [("onehot", "softmax", "sw")]),
    ("F1Score", {"average": "weighted", "threshold": 0.3}, _B),
    ("FBetaScore", {"beta": 2.0, "average": "weighted"}, _B),
    ("FBetaScore", {"beta": 0.5, "threshold": 1.0}, [("bin_t", "prob", "sw")]),
    ("F1Score", {}, [("bin_t", "prob", "sw_tiny")]),
    ("FBetaScore", {"beta": 2.0, "average": "micro"}, [("bin_t", "prob", "sw_tiny")]),
    ("R2Score", {}, _R),
    ("R2Score", {"class_aggregation": None}, _R),
    ("R2Score", {"class_aggregation": "variance_weighted_average"}, _R),
    ("R2Score", {"num_regressors": 1}, _R),
    ("R2Score", {"class_aggregation": None, "num_regressors": 4}, _R),
    ("R2Score", {}, [("reg_t1", "reg_p_n1", "sw")]),
    ("PearsonCorrelation", {}, _R),
    ("PearsonCorrelation", {"axis": 0}, [("reg_t", "reg_p", None)]),
    ("ConcordanceCorrelation", {}, _R),
    ("ConcordanceCorrelation", {"axis": 0}, [("reg_t", "reg_p", None)]),
    ("IoU", {"num_classes": 3, "target_class_ids": [0, 2]}, [("sparse", "int_p_flat", None)]),
    (
        "IoU",
        {"num_classes": 3, "target_class_ids": [1], "ignore_class": 0},
        [("sparse", "int_p_flat", "sw")],
    ),
    (
        "IoU",
        {"num_classes": 3, "target_class_ids": [0, 1, 2], "sparse_y_pred": False},
        [("sparse", "softmax", None)],
    ),
    ("BinaryIoU", {}, _B),
    ("BinaryIoU", {"target_class_ids": [1], "threshold": 0.3}, _B),
    (
        "MeanIoU",
        {"num_classes": 3},
        [("sparse", "int_p_flat", None), ("sparse", "int_p_flat", "sw")],
    ),
    (
        "MeanIoU",
        {"num_classes": 3, "sparse_y_true": False, "sparse_y_pred": False},
        [("onehot", "softmax", None)],
    ),
    ("OneHotIoU", {"num_classes": 3, "target_class_ids": [0, 2]}, [("onehot", "softmax", "sw")]),
    ("OneHotMeanIoU", {"num_classes": 3, "ignore_class": 1}, [("onehot", "softmax", None)]),
]


def update_then_result(metric, args, weight):
    metric.update_state(*args, sample_weight=weight)
    return metric.result()


def metric_cases(d):
    d = dict(d, int_p_flat=d["int_p"][:, 0].copy())
    cases = []
    for cls_name, kwargs, updates in METRICS:
        for masked_pred in (False, True):
            if masked_pred and (cls_name in ("Mean", "Sum") or len(updates[0]) != 3):
                continue
            if masked_pred and cls_name not in (
                "MeanSquaredError",
                "BinaryAccuracy",
                "SparseCategoricalCrossentropy",
                "CategoricalAccuracy",
            ):
                continue
            metric = getattr(keras.metrics, cls_name)(**_kw(kwargs))
            fresh = run(metric.result)
            results = []
            for update in updates:
                sw = update[-1]
                args = [d[k] for k in update[:-1]]
                if masked_pred:
                    mask = d["mask1"] if args[-1].ndim <= 2 else d["sw3"] > 0.5
                    args[-1] = masked(args[-1], mask)
                weight = None if sw is None else d[sw]
                results.append(run(lambda: update_then_result(metric, args, weight)))  # noqa: B023
            metric.reset_state()
            after_reset = run(metric.result)
            cases.append(
                {
                    "cls": cls_name,
                    "kwargs": kwargs,
                    "updates": [list(u) for u in updates],
                    "masked": masked_pred,
                    "fresh": fresh,
                    "results": results,
                    "after_reset": after_reset,
                    "config": run(metric.get_config),
                }
            )
    return cases


# Accuracy functions: (name, kwargs, y_true key, y_pred key)
METRIC_FUNCTIONS = [
    ("binary_accuracy", {}, "bin_t", "prob"),
    ("binary_accuracy", {"threshold": 0.65}, "bin_t", "prob"),
    ("binary_accuracy", {}, "bin_t1", "prob_n1"),
    ("binary_accuracy", {}, "bin_t_n1", "prob1"),
    ("categorical_accuracy", {}, "onehot", "softmax"),
    ("categorical_accuracy", {}, "onehot", "ties"),
    ("categorical_accuracy", {}, "onehot3", "softmax3"),
    ("categorical_accuracy", {}, "sparse_n1", "prob_n1"),
    ("categorical_accuracy", {}, "onehot_n1", "softmax"),
    ("sparse_categorical_accuracy", {}, "sparse", "softmax"),
    ("sparse_categorical_accuracy", {}, "sparse_n1", "ties"),
    ("sparse_categorical_accuracy", {}, "sparse_f", "softmax"),
    ("sparse_categorical_accuracy", {}, "sparse3", "softmax3"),
    ("top_k_categorical_accuracy", {}, "onehot", "softmax"),
    ("top_k_categorical_accuracy", {"k": 1}, "onehot", "ties"),
    ("top_k_categorical_accuracy", {"k": 2}, "onehot3", "softmax3"),
    ("sparse_top_k_categorical_accuracy", {"k": 1}, "sparse", "ties"),
    ("sparse_top_k_categorical_accuracy", {"k": 2}, "sparse_n1", "ties"),
    ("sparse_top_k_categorical_accuracy", {}, "sparse3", "softmax3"),
    ("pearson_correlation", {}, "reg_t", "reg_p"),
    ("pearson_correlation", {"axis": 0}, "reg_t", "reg_p"),
    ("concordance_correlation", {}, "reg_t", "reg_p"),
    ("concordance_correlation", {"axis": 0}, "reg_t", "reg_p"),
]


def metric_function_cases(d):
    out = []
    for name, kwargs, t, p in METRIC_FUNCTIONS:
        fn = getattr(keras.metrics, name)
        out.append(
            {
                "fn": name,
                "kwargs": kwargs,
                "y_true": t,
                "y_pred": p,
                "expected": run(lambda: fn(d[t], d[p], **kwargs)),  # noqa: B023
            }
        )
    return out


def default_configs():
    """``cls().get_config()`` of every loss and metric class constructible without arguments."""
    out = {}
    skip = {"Loss", "Metric", "LossFunctionWrapper", "MeanMetricWrapper", "Reduction"}
    for module in ("losses", "metrics"):
        namespace = getattr(keras, module)
        for name in sorted(dir(namespace)):
            obj = getattr(namespace, name)
            if not isinstance(obj, type) or name in skip:
                continue
            try:
                config = obj().get_config()
            except Exception:  # noqa: BLE001 - needs arguments
                continue
            out[f"{module}.{name}"] = jsonable(config)
    return out


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    d = make_inputs()
    data = {
        "inputs": {k: {"dtype": str(v.dtype), "value": jsonable(v)} for k, v in sorted(d.items())},
        "loss_cases": loss_cases(d),
        "loss_function_cases": loss_function_cases(d),
        "reduce_cases": reduce_cases(d),
        "metric_cases": metric_cases(d),
        "metric_function_cases": metric_function_cases(d),
        "default_configs": default_configs(),
    }
    path = os.path.join(OUT, "cases.json")
    with open(path, "w") as fh:
        json.dump(data, fh, sort_keys=True, separators=(",", ":"))
    print("wrote", path, os.path.getsize(path), "bytes")
