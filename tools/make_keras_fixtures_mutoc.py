"""Keras 3 reference values for the optimizer/schedule/callback mutation-testing tests (issue 18).

Run with ``KERAS_BACKEND=jax /work/kvenv/bin/python tools/make_keras_fixtures_mutoc.py``;
writes ``tests/fixtures/keras/mutoc/values.json``:

- ``schedules``: every built-in schedule, several argument combinations, its value at a range of
  steps, its ``get_config()`` and ``serialize()`` output;
- ``reduce_lr`` / ``lr_scheduler``: the learning rate and the epoch logs when the callbacks are
  driven by scripted monitor values (no training: the values are exact);
- ``csv_logger``: the text of the files CSVLogger writes for scripted logs;
- ``backup``: the ``training_metadata.json`` BackupAndRestore writes after each hook;
- ``optimizers``: short trajectories of the base-class options (clipping, weight decay with
  exclusions, EMA with overwrite, accumulation, loss scale, callable learning rates).
"""

import json
import os
import tempfile

import keras
import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "keras", "mutoc")

STEPS = [0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 13, 15, 20, 25, 31, 40, 63, 100]

SCHEDULES = [
    ("ExponentialDecay", dict(initial_learning_rate=0.1, decay_steps=4, decay_rate=0.5)),
    (
        "ExponentialDecay",
        dict(initial_learning_rate=0.3, decay_steps=3, decay_rate=0.7, staircase=True),
    ),
    ("PiecewiseConstantDecay", dict(boundaries=[2, 5, 10], values=[1.0, 0.5, 0.25, 0.125])),
    ("PiecewiseConstantDecay", dict(boundaries=[2.5, 6.5], values=[0.3, 0.2, 0.1])),
    ("PolynomialDecay", dict(initial_learning_rate=0.2, decay_steps=10)),
    (
        "PolynomialDecay",
        dict(initial_learning_rate=0.2, decay_steps=6, end_learning_rate=0.01, power=2.0),
    ),
    (
        "PolynomialDecay",
        dict(
            initial_learning_rate=0.5,
            decay_steps=4,
            end_learning_rate=0.05,
            power=0.5,
            cycle=True,
        ),
    ),
    ("InverseTimeDecay", dict(initial_learning_rate=0.1, decay_steps=3, decay_rate=0.5)),
    (
        "InverseTimeDecay",
        dict(initial_learning_rate=0.2, decay_steps=4, decay_rate=2.0, staircase=True),
    ),
    ("CosineDecay", dict(initial_learning_rate=0.1, decay_steps=20)),
    ("CosineDecay", dict(initial_learning_rate=0.2, decay_steps=12, alpha=0.25)),
    (
        "CosineDecay",
        dict(
            initial_learning_rate=0.01,
            decay_steps=16,
            alpha=0.1,
            warmup_target=0.3,
            warmup_steps=6,
        ),
    ),
    ("CosineDecayRestarts", dict(initial_learning_rate=0.1, first_decay_steps=5)),
    (
        "CosineDecayRestarts",
        dict(initial_learning_rate=0.2, first_decay_steps=4, t_mul=1.0, m_mul=0.5, alpha=0.1),
    ),
    (
        "CosineDecayRestarts",
        dict(initial_learning_rate=0.2, first_decay_steps=3, t_mul=1.5, m_mul=0.8, alpha=0.05),
    ),
]


def schedules():
    out = []
    for class_name, kwargs in SCHEDULES:
        schedule = getattr(keras.optimizers.schedules, class_name)(**kwargs)
        values = [float(np.asarray(schedule(np.int64(s)))) for s in STEPS]
        out.append(
            {
                "class_name": class_name,
                "kwargs": kwargs,
                "values": values,
                "config": schedule.get_config(),
                "serialized": keras.optimizers.schedules.serialize(schedule),
            }
        )
    return out


def small_model(learning_rate=1.0):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate), loss="mse")
    return model


REDUCE_LR = [
    (
        dict(factor=0.5, patience=2),
        [("val_loss", v) for v in [1.0, 0.9, 0.9, 0.95, 0.8, 0.8, 0.8, 0.8, 0.7]],
    ),
    (
        dict(monitor="val_acc", mode="max", factor=0.2, patience=1, min_delta=0.05),
        [("val_acc", v) for v in [0.5, 0.52, 0.6, 0.62, 0.7, 0.7, 0.9, 0.91, 0.92]],
    ),
    (
        dict(monitor="acc", mode="max", factor=0.5, patience=1, cooldown=2, min_lr=0.2),
        [("acc", v) for v in [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]],
    ),
    (
        dict(monitor="loss", factor=0.1, patience=3, min_delta=0.5),
        [("loss", v) for v in [5.0, 4.8, 4.6, 4.4, 3.0, 2.9, 2.8, 2.7, 2.6]],
    ),
    (
        dict(factor=0.5, patience=1, cooldown=1),
        [("val_loss", v) for v in [1.0, 1.0, 1.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 0.1]],
    ),
    (
        dict(monitor="val_loss", mode="max", factor=0.5, patience=2, min_lr=0.3),
        [("val_loss", v) for v in [3.0, 2.0, 1.0, 0.5, 0.4, 0.3, 0.2, 0.1]],
    ),
]


def reduce_lr():
    out = []
    for kwargs, script in REDUCE_LR:
        model = small_model(1.0)
        cb = keras.callbacks.ReduceLROnPlateau(**kwargs)
        cb.set_model(model)
        cb.on_train_begin()
        rates, logged = [], []
        for epoch, (key, value) in enumerate(script):
            logs = {key: value}
            cb.on_epoch_end(epoch, logs)
            logged.append(float(logs["learning_rate"]))
            rates.append(float(np.asarray(model.optimizer.learning_rate)))
        out.append({"kwargs": kwargs, "script": script, "rates": rates, "logged": logged})
    return out


def lr_scheduler():
    out = {}

    def two(epoch, lr):
        return lr * 0.5 if epoch >= 2 else lr

    def one(epoch):
        return 0.1 / (epoch + 1)

    for name, fn in (("two", two), ("one", one)):
        model = small_model(0.8)
        cb = keras.callbacks.LearningRateScheduler(fn)
        cb.set_model(model)
        rates, logged = [], []
        for epoch in range(5):
            cb.on_epoch_begin(epoch)
            rates.append(float(np.asarray(model.optimizer.learning_rate)))
            logs = {"loss": 1.0}
            cb.on_epoch_end(epoch, logs)
            logged.append(logs)
        out[name] = {"rates": rates, "logs": logged}
    return out


def csv_logger():
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "log.csv")
        model = small_model()
        # No val_ keys in the first epoch: val_ columns are added; a missing key becomes NA.
        cb = keras.callbacks.CSVLogger(path)
        cb.set_model(model)
        cb.on_train_begin()
        cb.on_epoch_end(0, {"loss": 0.5, "acc": 0.25})
        cb.on_epoch_end(1, {"loss": 0.25, "acc": 0.5, "val_loss": 0.75})
        cb.on_epoch_end(2, {"loss": 0.125})
        cb.on_train_end()
        out["plain"] = open(path).read()
        # Validation keys present from the start, a custom separator, a list and a string value.
        path2 = os.path.join(tmp, "log2.csv")
        cb = keras.callbacks.CSVLogger(path2, separator=";")
        cb.set_model(model)
        cb.on_train_begin()
        cb.on_epoch_end(0, {"loss": 1.5, "val_loss": 2.5, "lst": [1, 2, 3], "txt": "a b"})
        cb.on_epoch_end(1, {"loss": 1.25, "val_loss": 2.25, "lst": [4], "txt": "c"})
        cb.on_train_end()
        out["separator"] = open(path2).read()
        # append=True: a second run adds rows without a second header.
        cb = keras.callbacks.CSVLogger(path2, separator=";", append=True)
        cb.set_model(model)
        cb.on_train_begin()
        cb.on_epoch_end(0, {"loss": 1.0, "val_loss": 2.0, "lst": [5, 6], "txt": "d"})
        cb.on_train_end()
        out["appended"] = open(path2).read()
        # append=True to a file that does not exist yet: the header is written.
        path3 = os.path.join(tmp, "log3.csv")
        cb = keras.callbacks.CSVLogger(path3, append=True)
        cb.set_model(model)
        cb.on_train_begin()
        cb.on_epoch_end(0, {"loss": 3.0, "val_loss": 4.0})
        cb.on_train_end()
        out["append_new"] = open(path3).read()
        # Empty logs: only the epoch column.
        path4 = os.path.join(tmp, "log4.csv")
        cb = keras.callbacks.CSVLogger(path4)
        cb.set_model(model)
        cb.on_train_begin()
        cb.on_epoch_end(0, {})
        cb.on_epoch_end(1, {})
        cb.on_train_end()
        out["empty"] = open(path4).read()
    return out


BACKUP_SCRIPT = [
    ("batch", 0),
    ("batch", 1),
    ("batch", 2),
    ("batch", 3),
    ("epoch", 0),
    ("batch", 0),
    ("batch", 1),
    ("batch", 2),
    ("batch", 3),
    ("epoch", 1),
    ("batch", 0),
    ("batch", 1),
    ("batch", 2),
    ("batch", 3),
    ("batch", 4),
    ("batch", 5),
    ("batch", 6),
    ("epoch", 2),
]


def backup():
    out = {}
    for save_freq in ("epoch", 3, 1, 5):
        with tempfile.TemporaryDirectory() as tmp:
            folder = os.path.join(tmp, "backup")
            model = small_model()
            cb = keras.callbacks.BackupAndRestore(
                folder, save_freq=save_freq, delete_checkpoint=False
            )
            cb.set_model(model)
            cb.on_train_begin()
            meta_path = os.path.join(folder, "training_metadata.json")
            seen = []
            for kind, n in BACKUP_SCRIPT:
                if kind == "batch":
                    cb.on_train_batch_begin(n)
                    cb.on_train_batch_end(n)
                else:
                    cb.on_epoch_end(n)
                # The file is removed after each look, so its presence means "written now".
                if os.path.exists(meta_path):
                    seen.append(json.load(open(meta_path)))
                    os.remove(meta_path)
                else:
                    seen.append(None)
            out[str(save_freq)] = seen
    return out


OPTIMIZER_CASES = {
    "sgd_clipnorm": ("SGD", dict(learning_rate=0.1, clipnorm=0.5)),
    "sgd_global_clipnorm": ("SGD", dict(learning_rate=0.1, global_clipnorm=0.7)),
    "sgd_clipvalue": ("SGD", dict(learning_rate=0.1, clipvalue=0.3)),
    "adam_weight_decay": ("Adam", dict(learning_rate=0.05, weight_decay=0.1)),
    "sgd_ema_overwrite": (
        "SGD",
        dict(learning_rate=0.1, use_ema=True, ema_momentum=0.8, ema_overwrite_frequency=2),
    ),
    "adam_ema": ("Adam", dict(learning_rate=0.05, use_ema=True, ema_momentum=0.6)),
    "sgd_loss_scale": ("SGD", dict(learning_rate=0.1, loss_scale_factor=4.0)),
    "adam_accumulate3": ("Adam", dict(learning_rate=0.05, gradient_accumulation_steps=3)),
    "sgd_momentum_nesterov_wd": (
        "SGD",
        dict(learning_rate=0.1, momentum=0.5, nesterov=True, weight_decay=0.2),
    ),
}
OPTIMIZER_STEPS = 6


def optimizer_grads():
    rng = np.random.RandomState(3)
    grads = []
    for step in range(OPTIMIZER_STEPS):
        g = [rng.uniform(-1, 1, (3,)).astype("float32"), rng.uniform(-2, 2, (2, 2))]
        if step == 2:
            g[0] = np.zeros(3)  # a zero gradient: clipnorm must keep it at zero
        grads.append([x.astype("float32") for x in g])
    return grads


def optimizer_start():
    return [np.array([0.5, -1.0, 2.0], "float32"), np.array([[1.0, -0.5], [0.25, 3.0]], "float32")]


def optimizers():
    out = {}
    grads = optimizer_grads()
    for name, (class_name, kwargs) in OPTIMIZER_CASES.items():
        variables = [
            keras.Variable(v, name=n) for v, n in zip(optimizer_start(), ("kernel", "bias"))
        ]
        opt = getattr(keras.optimizers, class_name)(**kwargs)
        if "weight_decay" in kwargs:
            opt.exclude_from_weight_decay(var_names=["bias"])
        trajectory = []
        for g in grads:
            opt.apply_gradients(zip(g, variables))
            trajectory.append([np.asarray(v.numpy()).tolist() for v in variables])
        finalized = None
        if kwargs.get("use_ema"):
            opt.finalize_variable_values(variables)
            finalized = [np.asarray(v.numpy()).tolist() for v in variables]
        out[name] = {
            "class_name": class_name,
            "kwargs": kwargs,
            "trajectory": trajectory,
            "finalized": finalized,
            "iterations": int(np.asarray(opt.iterations)),
            "variable_names": [v.name for v in opt.variables],
        }
    return out


LSO_GRADS = [1.0, 2.0, float("inf"), 0.5, float("nan"), 1.0, -1.0, 2.0, 0.25]


def loss_scale():
    v = keras.Variable(np.array([1.0, -1.0], "float32"))
    opt = keras.optimizers.LossScaleOptimizer(
        keras.optimizers.SGD(0.1), initial_scale=4.0, dynamic_growth_steps=2
    )
    before = float(opt.scale_loss(1.0))
    rows = []
    opt.build([v])
    for g in LSO_GRADS:
        grads = [np.array([g, 1.0], "float32") * np.float32(8.0)]
        # JAX cannot run the stateful branch of LossScaleOptimizer eagerly.
        new_vars, new_opt = opt.stateless_apply([x.value for x in opt.variables], grads, [v.value])
        v.assign(new_vars[0])
        for x, value in zip(opt.variables, new_opt):
            x.assign(value)
        rows.append(
            {
                "value": np.asarray(v.numpy()).tolist(),
                "scale": float(np.asarray(opt.dynamic_scale)),
                "counter": int(np.asarray(opt.step_counter)),
                "iterations": int(np.asarray(opt.iterations)),
                "scaled_loss": float(opt.scale_loss(1.0)),
            }
        )
    return {
        "grads": LSO_GRADS,
        "before": before,
        "rows": rows,
        "variable_names": [x.name for x in opt.variables],
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    values = {
        "schedules": schedules(),
        "steps": STEPS,
        "reduce_lr": reduce_lr(),
        "lr_scheduler": lr_scheduler(),
        "csv_logger": csv_logger(),
        "backup_script": BACKUP_SCRIPT,
        "backup": backup(),
        "optimizer_start": [v.tolist() for v in optimizer_start()],
        "optimizer_grads": [[g.tolist() for g in step] for step in optimizer_grads()],
        "optimizers": optimizers(),
        "loss_scale": loss_scale(),
    }
    with open(os.path.join(OUT, "values.json"), "w") as f:
        json.dump(values, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
