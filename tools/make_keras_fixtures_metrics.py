"""Values Keras 3 computes for the metrics gpuk added (confusion counts, sensitivity/specificity
family, F-scores, R2, correlations, IoU family, focal crossentropies).

Run with ``KERAS_BACKEND=jax /work/kvenv/bin/python tools/make_keras_fixtures_metrics.py``.
Writes tests/fixtures/keras/metrics/{inputs.npz,expected.json}; tests/test_metrics_keras3.py
replays every case (two update_state calls, then result(), and get_config()).
"""

import json
import os
import warnings

import keras
import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "keras", "metrics")


def inputs():
    rng = np.random.default_rng(7)
    n = 20
    labels = rng.integers(0, 3, n)
    return {
        "bin_true": (rng.random((n, 3)) > 0.5).astype("float32"),
        "bin_pred": rng.random((n, 3)).astype("float32"),
        "weights": rng.random(n).astype("float32"),
        "int_weights": rng.integers(0, 3, n).astype("float32"),
        "reg_true": rng.normal(size=(n, 3)).astype("float32"),
        "reg_pred": rng.normal(size=(n, 3)).astype("float32"),
        "corr_true": rng.normal(size=(n, 4)).astype("float32"),
        "corr_pred": rng.normal(size=(n, 4)).astype("float32"),
        "labels": labels.astype("int32"),
        "label_pred": rng.integers(0, 3, n).astype("int32"),
        "onehot": np.eye(3, dtype="float32")[labels],
        "scores": rng.random((n, 3)).astype("float32"),
        "flat_true": (rng.random(n) > 0.5).astype("float32"),
        "flat_pred": rng.random(n).astype("float32"),
    }


# name: (class, kwargs, y_true key, y_pred key, sample weight key or None)
CASES = {
    "tp": ("TruePositives", {}, "bin_true", "bin_pred", None),
    "tp_thresholds_w": (
        "TruePositives",
        {"thresholds": [0.2, 0.5, 0.8]},
        "bin_true",
        "bin_pred",
        "weights",
    ),
    "fp": ("FalsePositives", {}, "bin_true", "bin_pred", "weights"),
    "tn": ("TrueNegatives", {"thresholds": [0.3, 0.6]}, "bin_true", "bin_pred", None),
    "fn": ("FalseNegatives", {}, "bin_true", "bin_pred", "weights"),
    "p_at_r": ("PrecisionAtRecall", {"recall": 0.5}, "bin_true", "bin_pred", None),
    "p_at_r_class_w": (
        "PrecisionAtRecall",
        {"recall": 0.7, "num_thresholds": 50, "class_id": 1},
        "bin_true",
        "bin_pred",
        "weights",
    ),
    "r_at_p": ("RecallAtPrecision", {"precision": 0.6}, "bin_true", "bin_pred", None),
    "r_at_p_w": (
        "RecallAtPrecision",
        {"precision": 0.5, "num_thresholds": 30},
        "bin_true",
        "bin_pred",
        "weights",
    ),
    "sens_at_spec": (
        "SensitivityAtSpecificity",
        {"specificity": 0.5},
        "bin_true",
        "bin_pred",
        None,
    ),
    "sens_at_spec_w": (
        "SensitivityAtSpecificity",
        {"specificity": 0.8, "num_thresholds": 1},
        "bin_true",
        "bin_pred",
        "weights",
    ),
    "spec_at_sens": (
        "SpecificityAtSensitivity",
        {"sensitivity": 0.5},
        "bin_true",
        "bin_pred",
        None,
    ),
    "spec_at_sens_class": (
        "SpecificityAtSensitivity",
        {"sensitivity": 0.4, "class_id": 2},
        "bin_true",
        "bin_pred",
        "weights",
    ),
    "f1": ("F1Score", {}, "bin_true", "bin_pred", None),
    "f1_micro_t": ("F1Score", {"average": "micro", "threshold": 0.5}, "bin_true", "bin_pred", None),
    "f1_macro_w": (
        "F1Score",
        {"average": "macro", "threshold": 0.4},
        "bin_true",
        "bin_pred",
        "weights",
    ),
    "f1_weighted": ("F1Score", {"average": "weighted"}, "onehot", "scores", None),
    "fbeta": (
        "FBetaScore",
        {"beta": 2.0, "average": "macro", "threshold": 0.4},
        "bin_true",
        "bin_pred",
        None,
    ),
    "fbeta_none_w": ("FBetaScore", {"beta": 0.5}, "onehot", "scores", "weights"),
    "r2": ("R2Score", {}, "reg_true", "reg_pred", None),
    "r2_variance_w": (
        "R2Score",
        {"class_aggregation": "variance_weighted_average"},
        "reg_true",
        "reg_pred",
        "weights",
    ),
    "r2_raw": ("R2Score", {"class_aggregation": None}, "reg_true", "reg_pred", None),
    "r2_adjusted": ("R2Score", {"num_regressors": 2}, "reg_true", "reg_pred", None),
    "pearson": ("PearsonCorrelation", {}, "corr_true", "corr_pred", None),
    "pearson_w": ("PearsonCorrelation", {}, "corr_true", "corr_pred", "weights"),
    "concordance": ("ConcordanceCorrelation", {}, "corr_true", "corr_pred", None),
    "iou": ("IoU", {"num_classes": 3, "target_class_ids": [0, 2]}, "labels", "label_pred", None),
    "iou_int_w_ignore": (
        "IoU",
        {"num_classes": 3, "target_class_ids": [1, 2], "ignore_class": 0},
        "labels",
        "label_pred",
        "int_weights",
    ),
    "iou_float": (
        "IoU",
        {"num_classes": 3, "target_class_ids": [0, 1], "dtype": "float32"},
        "labels",
        "label_pred",
        "weights",
    ),
    "mean_iou": ("MeanIoU", {"num_classes": 3}, "labels", "label_pred", None),
    "mean_iou_dense_pred": (
        "MeanIoU",
        {"num_classes": 3, "sparse_y_pred": False},
        "labels",
        "scores",
        None,
    ),
    "binary_iou": ("BinaryIoU", {"threshold": 0.3}, "flat_true", "flat_pred", None),
    "binary_iou_0": (
        "BinaryIoU",
        {"target_class_ids": [0], "dtype": "float32"},
        "flat_true",
        "flat_pred",
        "weights",
    ),
    "onehot_iou": (
        "OneHotIoU",
        {"num_classes": 3, "target_class_ids": [0, 2]},
        "onehot",
        "scores",
        None,
    ),
    "onehot_mean_iou": ("OneHotMeanIoU", {"num_classes": 3}, "onehot", "scores", "int_weights"),
    "rmse": ("RootMeanSquaredError", {}, "reg_true", "reg_pred", "weights"),
    "hinge": ("Hinge", {}, "bin_true", "bin_pred", None),
    "squared_hinge": ("SquaredHinge", {}, "bin_true", "bin_pred", "weights"),
    "categorical_hinge": ("CategoricalHinge", {}, "onehot", "scores", None),
    "logcosh": ("LogCoshError", {}, "reg_true", "reg_pred", None),
    "msle": ("MeanSquaredLogarithmicError", {}, "bin_true", "bin_pred", None),
    "mape": ("MeanAbsolutePercentageError", {}, "reg_true", "reg_pred", None),
}

FUNCTIONS = {
    "binary_focal_crossentropy": ({}, "bin_true", "bin_pred"),
    "binary_focal_crossentropy_balanced": (
        {"apply_class_balancing": True, "alpha": 0.3, "gamma": 1.5, "label_smoothing": 0.1},
        "bin_true",
        "bin_pred",
    ),
    "categorical_focal_crossentropy": ({}, "onehot", "scores"),
    "categorical_focal_crossentropy_logits": (
        {"from_logits": True, "label_smoothing": 0.2, "gamma": 3.0},
        "onehot",
        "scores",
    ),
    "huber": ({}, "reg_true", "reg_pred"),
    "pearson_correlation": ({}, "corr_true", "corr_pred"),
    "concordance_correlation": ({}, "corr_true", "corr_pred"),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    data = inputs()
    np.savez(os.path.join(OUT, "inputs.npz"), **data)
    expected = {"metrics": {}, "functions": {}}
    for name, (cls, kwargs, true_key, pred_key, weight_key) in CASES.items():
        metric = getattr(keras.metrics, cls)(**kwargs)
        y_true, y_pred = data[true_key], data[pred_key]
        weights = None if weight_key is None else data[weight_key]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for part in (slice(0, 12), slice(12, None)):
                metric.update_state(
                    y_true[part], y_pred[part], None if weights is None else weights[part]
                )
            result = np.asarray(metric.result(), dtype="float64")
        expected["metrics"][name] = {
            "class": cls,
            "kwargs": kwargs,
            "inputs": [true_key, pred_key, weight_key],
            "result": result.tolist(),
            "config": metric.get_config(),
        }
    for name, (kwargs, true_key, pred_key) in FUNCTIONS.items():
        fn_name = name.replace("_balanced", "").replace("_logits", "")
        fn = getattr(keras.metrics, fn_name)
        value = np.asarray(fn(data[true_key], data[pred_key], **kwargs), dtype="float64")
        expected["functions"][name] = {
            "function": fn_name,
            "kwargs": kwargs,
            "inputs": [true_key, pred_key],
            "result": value.tolist(),
        }
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
