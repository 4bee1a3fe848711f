"""Keras 3 reference values for the tests that close the holes mutation testing showed (issue 18).

Run with ``KERAS_BACKEND=jax /work/kvenv/bin/python tools/make_keras_fixtures_mutation.py``;
writes ``tests/fixtures/keras/mutation/values.json``.
"""

import json
import os
import tempfile

import keras
import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "keras", "mutation")


def f(x):
    return np.asarray(x, dtype="float64").tolist()


def losses():
    out = {}
    probs = np.array([[0.1, 0.7, 0.2], [0.5, 0.25, 0.25], [0.05, 0.05, 0.9], [0.3, 0.3, 0.4]])
    logits = np.array([[1.0, -2.0, 0.5], [0.2, 0.1, 3.0], [-1.0, 2.0, 0.0], [0.0, 0.0, 0.0]])
    labels = np.array([[1], [0], [2], [1]], dtype="int32")
    out["sce_n1_probs"] = f(keras.losses.sparse_categorical_crossentropy(labels, probs))
    out["sce_n1_logits"] = f(
        keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
    )
    out["sce_n1_mean"] = float(keras.losses.SparseCategoricalCrossentropy()(labels, probs))
    out["sce_ignore1"] = f(
        keras.losses.sparse_categorical_crossentropy(labels, probs, ignore_class=1)
    )
    out["sce_ignore1_mean"] = float(
        keras.losses.SparseCategoricalCrossentropy(ignore_class=1)(labels, probs)
    )
    try:
        keras.losses.sparse_categorical_crossentropy(np.array([1, 0, 2]), probs)
        out["sce_shape_raises"] = False
    except ValueError:
        out["sce_shape_raises"] = True
    yt = np.array([0.5, -1.0, 2.0, 0.0])
    yp = np.array([[0.25], [1.0], [1.5], [-0.5]])
    for name in ("mean_absolute_error", "log_cosh", "mean_squared_error"):
        fn = getattr(keras.losses, name)
        out[f"{name}_rank_true1"] = f(fn(yt, yp))  # y_true (N,), y_pred (N, 1)
        out[f"{name}_rank_pred1"] = f(fn(yp, yt))  # y_true (N, 1), y_pred (N,)
    for cls in ("MeanAbsoluteError", "LogCosh"):
        out[f"{cls}_rank"] = float(getattr(keras.losses, cls)()(yt, yp))
    try:
        keras.losses.binary_crossentropy(np.ones((4, 1)), np.full((4, 3), 0.5))
        out["bce_shape_raises"] = False
    except ValueError:
        out["bce_shape_raises"] = True
    return out


def metrics():
    out = {}
    y_true = np.array([1, 1, 0, 0, 1, 0], dtype="float32")
    y_pred = np.array([np.nan, 0.9, np.nan, 0.2, 0.6, 0.7], dtype="float32")
    for name in (
        "TruePositives",
        "FalsePositives",
        "TrueNegatives",
        "FalseNegatives",
        "Precision",
        "Recall",
    ):
        m = getattr(keras.metrics, name)()
        m.update_state(y_true, y_pred)
        out[f"nan_{name}"] = float(m.result())
    for n in (3, 5, 7, 200):
        out[f"auc_thresholds_{n}"] = f(keras.metrics.AUC(num_thresholds=n).thresholds)
    yt = np.array([[1, 0, 1], [0, 1, 1], [1, 1, 0], [0, 0, 1], [1, 0, 0]], dtype="float32")
    yp = np.array(
        [[0.8, 0.3, 0.6], [0.1, 0.7, 0.9], [0.6, 0.4, 0.2], [0.3, 0.2, 0.7], [0.9, 0.6, 0.4]],
        dtype="float32",
    )
    for curve in ("ROC", "PR"):
        for lw in (None, [0.2, 0.5, 1.0]):
            m = keras.metrics.AUC(
                num_thresholds=11, multi_label=True, curve=curve, label_weights=lw
            )
            m.update_state(yt, yp)
            out[f"auc_multi_{curve}_{'w' if lw else 'nw'}"] = float(m.result())
    # Predictions exactly on the thresholds (and at 0 and 1): Keras's evenly-spaced bucketing.
    grid = np.array([i / 8 for i in range(9)] * 2, dtype="float32")
    labels = (np.arange(18) % 3 == 0).astype("float32")
    m = keras.metrics.TruePositives(thresholds=[i / 4 for i in range(5)])
    m.update_state(labels, grid)
    out["tp_on_grid_even"] = f(m.result())
    m = keras.metrics.FalsePositives(thresholds=[0.0, 0.3, 0.5, 1.0])
    m.update_state(labels, grid)
    out["fp_on_grid_uneven"] = f(m.result())
    fine = np.array([i / 199 for i in range(200)], dtype="float32")
    m = keras.metrics.AUC(num_thresholds=200)
    m.update_state((np.arange(200) % 2).astype("float32"), fine)
    out["auc_on_grid"] = float(m.result())
    m = keras.metrics.AUC(num_thresholds=200)
    m.update_state((np.arange(200) % 2).astype("float32"), fine)
    out["auc_on_grid"] = float(m.result())
    out["auc_tp_on_grid"] = f(m.true_positives)
    out["cases"] = [[name, kwargs, float(result)] for name, kwargs, result in metric_cases()]
    return out


def metric_cases():
    """(class name, kwargs, result) for confusion metrics over a fixed batch (two updates)."""
    rng = np.random.RandomState(3)
    yt = (rng.rand(12, 3) > 0.5).astype("float32")
    yp = rng.rand(12, 3).astype("float32")
    sw = rng.rand(12).astype("float32")
    cases = [
        ("AUC", {}),
        ("AUC", {"num_thresholds": 7, "summation_method": "minoring"}),
        ("AUC", {"num_thresholds": 7, "summation_method": "majoring"}),
        ("AUC", {"num_thresholds": 9, "curve": "PR"}),
        ("AUC", {"num_thresholds": 9, "curve": "PR", "summation_method": "minoring"}),
        ("AUC", {"from_logits": True}),
        ("AUC", {"thresholds": [0.3, 0.5, 0.8]}),
        ("AUC", {"multi_label": True, "num_labels": 3}),
        ("Precision", {"thresholds": 0.3}),
        ("Precision", {"top_k": 1}),
        ("Precision", {"class_id": 2}),
        ("Precision", {"top_k": 2, "class_id": 1}),
        ("Recall", {"thresholds": 0.7}),
        ("Recall", {"top_k": 2}),
        ("Recall", {"class_id": 0, "thresholds": 0.4}),
        ("TruePositives", {"thresholds": 0.25}),
        ("FalseNegatives", {"thresholds": 0.75}),
        ("SensitivityAtSpecificity", {"specificity": 0.6}),
        ("SensitivityAtSpecificity", {"specificity": 0.5, "num_thresholds": 11, "class_id": 1}),
        ("SpecificityAtSensitivity", {"sensitivity": 0.7}),
        ("SpecificityAtSensitivity", {"sensitivity": 0.4, "num_thresholds": 11}),
        ("PrecisionAtRecall", {"recall": 0.5}),
        ("PrecisionAtRecall", {"recall": 0.8, "num_thresholds": 11}),
        ("RecallAtPrecision", {"precision": 0.6}),
        ("RecallAtPrecision", {"precision": 0.9, "num_thresholds": 11}),
    ]
    for name, kwargs in cases:
        for weighted in (False, True):
            m = getattr(keras.metrics, name)(**kwargs)
            w = sw if weighted else None
            m.update_state(yt[:6], yp[:6], sample_weight=None if w is None else w[:6])
            m.update_state(yt[6:], yp[6:], sample_weight=None if w is None else w[6:])
            yield name, dict(kwargs, _weighted=weighted), m.result()


def optimizers():
    out = {}
    v = keras.Variable(np.array([1.0, -2.0, 3.0], dtype="float32"))
    opt = keras.optimizers.SGD(learning_rate=0.1, gradient_accumulation_steps=3)
    traj = []
    for i in range(7):
        g = np.array([0.5 * (i + 1), -1.0, 0.25 * i], dtype="float32")
        opt.apply_gradients([(g, v)])
        traj.append(f(v.numpy()))
    out["sgd_accum3"] = traj
    out["sgd_accum3_iterations"] = int(np.asarray(opt.iterations))
    opt = keras.optimizers.Adam(learning_rate=0.01)
    w = keras.Variable(np.zeros(3, dtype="float32"))
    opt.build([w])
    before = len(opt.variables)
    opt.learning_rate = 0.5
    out["adam_vars_before_after"] = [before, len(opt.variables)]
    return out


def callbacks():
    out = {}
    x = np.random.RandomState(0).rand(8, 3).astype("float32")
    y = x.sum(1, keepdims=True)
    with tempfile.TemporaryDirectory() as d:
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        model.compile("sgd", "mse")
        cb = keras.callbacks.ModelCheckpoint(
            os.path.join(d, "w.{epoch:02d}.weights.h5"), save_weights_only=True, save_freq=2
        )
        model.fit(x, y, batch_size=8, epochs=5, verbose=0, callbacks=[cb])
        out["ckpt_int_freq_one_batch"] = sorted(os.listdir(d))
    seqs = {
        "a": [1.0, 0.9, 0.95, 0.96, 0.97, 0.98, 0.99],
        "b": [2.0, 1.5, 1.2, 1.1, 1.05, 1.0, 0.99, 0.98],
        "c": [0.5, 0.6, 0.4, 0.45, 0.46, 0.47, 0.48],
    }
    for patience in (0, 1, 3, 4):
        for baseline in (None, 1.0, 0.45):
            for key, seq in seqs.items():
                model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
                es = keras.callbacks.EarlyStopping(patience=patience, baseline=baseline)
                model.stop_training = False
                es.set_model(model)
                es.on_train_begin()
                stopped_at = None
                for epoch, val in enumerate(seq):
                    es.on_epoch_end(epoch, {"val_loss": val})
                    if model.stop_training:
                        stopped_at = epoch
                        break
                out[f"es_{key}_p{patience}_b{baseline}"] = [stopped_at, es.wait]
    for start in (0, 2):
        for baseline in (None, 0.45):
            for key, seq in seqs.items():
                model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
                model.stop_training = False
                es = keras.callbacks.EarlyStopping(
                    patience=2,
                    baseline=baseline,
                    restore_best_weights=True,
                    start_from_epoch=start,
                )
                es.set_model(model)
                es.on_train_begin()
                for epoch, val in enumerate(seq):
                    model.set_weights([np.full((1, 1), epoch, "float32"), np.zeros(1, "float32")])
                    es.on_epoch_end(epoch, {"val_loss": val})
                    if model.stop_training:
                        break
                es.on_train_end()
                out[f"es_restore_{key}_s{start}_b{baseline}"] = [
                    float(model.get_weights()[0][0, 0]),
                    es.best_epoch,
                    es.stopped_epoch,
                    es.wait,
                ]
    return out


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    data = {
        "losses": losses(),
        "metrics": metrics(),
        "optimizers": optimizers(),
        "callbacks": callbacks(),
    }
    with open(os.path.join(OUT, "values.json"), "w") as fh:
        json.dump(data, fh, indent=1, sort_keys=True)
    print("wrote", os.path.join(OUT, "values.json"))
