"""Run by tests/distribution/test_data_parallel.py, alone or under ``mpiexec -n 2``.

Usage: dist_script.py SCENARIO[,SCENARIO...] OUT_DIR; a scenario may end in ``:float32``.
Writes ``OUT_DIR/<scenario>_<rank>_<process count>.npz``."""

import os
import sys

import numpy as np

import gpuk as keras

out_dir = sys.argv[2]
keras.distribution.set_distribution(keras.distribution.DataParallel())
rank = keras.distribution.process_id()
seen = []


def mlp():
    inputs = keras.Input((5,))
    h = keras.layers.Dense(8, activation="tanh")(inputs)
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(h))


class Probe(keras.layers.Layer):
    """Records the batch sizes this process computes on."""

    def call(self, x):
        seen.append(int(x.shape[0]))
        return x


def run(scenario, dtype):
    keras.config.set_floatx(dtype)
    keras.utils.set_random_seed(1)
    rng = np.random.default_rng(0)
    seen.clear()
    result = {}
    if scenario in ("fit", "fit_uneven"):
        x = rng.normal(size=(37, 5)).astype(dtype)
        y = rng.integers(0, 3, size=37)
        sw = rng.uniform(0.5, 2.0, size=37).astype(dtype)
        model = mlp()
        model.compile(
            keras.optimizers.Adam(0.01),
            "sparse_categorical_crossentropy",
            metrics=["accuracy"],
            weighted_metrics=["accuracy"],
        )
        batch = 8 if scenario == "fit" else 29  # uneven: 15/14, then 1/0 (an empty shard)
        history = model.fit(
            x[:30],
            y[:30],
            sample_weight=sw[:30] if scenario == "fit" else None,
            class_weight=None if scenario == "fit" else {0: 1.0, 1: 2.0, 2: 0.5},
            batch_size=batch,
            epochs=3,
            validation_data=(x[30:], y[30:]),
            verbose=0,
        )
        for key, values in history.history.items():
            result["h_" + key] = np.asarray(values)
        result["eval"] = np.asarray(model.evaluate(x, y, batch_size=7, verbose=0))
        result["pred"] = model.predict(x, batch_size=9, verbose=0)
    elif scenario == "gru":
        x = rng.normal(size=(21, 6, 3)).astype(dtype)
        y = rng.normal(size=(21, 1)).astype(dtype)
        inputs = keras.Input((6, 3))
        h = keras.layers.GRU(4)(Probe()(inputs))
        model = keras.Model(inputs, keras.layers.Dense(1)(h))
        model.compile("rmsprop", "mse", metrics=["mae"])
        history = model.fit(x, y, batch_size=8, epochs=2, shuffle=True, verbose=0)
        for key, values in history.history.items():
            result["h_" + key] = np.asarray(values)
        result["seen"] = np.asarray(seen)
    elif scenario == "gen":
        # A PyDataset every process reads in full (batches of 7, the last of 4), plus
        # validation_split on arrays.
        x = rng.normal(size=(25, 5)).astype(dtype)
        y = rng.integers(0, 3, size=25)

        class Batches(keras.utils.PyDataset):
            def __len__(self):
                return 4

            def __getitem__(self, i):
                return x[7 * i : 7 * i + 7], y[7 * i : 7 * i + 7]

        model = mlp()
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        history = model.fit(Batches(), epochs=2, verbose=0)
        history2 = model.fit(x, y, batch_size=5, validation_split=0.2, epochs=2, verbose=0)
        for key, values in {**history.history, **history2.history}.items():
            result["h_" + key] = np.asarray(values)
        result["eval"] = np.asarray(model.evaluate(Batches(), verbose=0))
    elif scenario == "tape":
        x = rng.normal(size=(26, 5)).astype(dtype)
        y = rng.integers(0, 3, size=26)
        model = mlp()
        optimizer = keras.optimizers.SGD(0.1, momentum=0.9)
        loss_fn = keras.losses.SparseCategoricalCrossentropy()
        dist = keras.distribution.distribution()
        batches = [(x[i : i + 7], y[i : i + 7]) for i in range(0, 26, 7)]
        for _ in range(2):
            for bx, by in dist.distribute_dataset(batches):
                with keras.GradientTape() as tape:
                    loss = loss_fn(by, model(bx, training=True))
                grads = tape.gradient(loss, model.trainable_weights)
                optimizer.apply_gradients(zip(grads, model.trainable_weights))
    elif scenario == "fail":
        x = rng.normal(size=(64, 5)).astype(dtype)
        y = rng.integers(0, 3, size=64)
        model = mlp()
        model.compile("sgd", "sparse_categorical_crossentropy")

        class Fail(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                if rank == 1 and batch == 3:
                    raise RuntimeError("failure on process 1")

        model.fit(x, y, batch_size=4, epochs=1000, callbacks=[Fail()], verbose=0)
    elif scenario == "mismatch":
        inputs = keras.Input((5,))
        outputs = keras.layers.Dense(3 + rank)(inputs)  # process 1 built a different model
        model = keras.Model(inputs, outputs)
        model.compile("sgd", "mse")
        model.fit(np.ones((4, 5)), np.ones((4, 3 + rank)), verbose=0)
    elif scenario == "files":
        x = rng.normal(size=(20, 5)).astype(dtype)
        y = rng.integers(0, 3, size=20)
        model = mlp()
        model.compile("sgd", "sparse_categorical_crossentropy")
        callbacks = [
            keras.callbacks.ModelCheckpoint(
                os.path.join(out_dir, f"ckpt_{rank}.weights.h5"), save_weights_only=True
            ),
            keras.callbacks.CSVLogger(os.path.join(out_dir, f"log_{rank}.csv")),
            keras.callbacks.BackupAndRestore(os.path.join(out_dir, f"backup_{rank}")),
        ]
        model.fit(x, y, batch_size=4, epochs=2, callbacks=callbacks, verbose=1)
    elif scenario.startswith("backup_"):
        # crash: process 0 dies at the start of epoch 2; resume: a new job restores the backup
        # process 0 wrote (every process must resume at epoch 2); straight: no interruption.
        x = rng.normal(size=(24, 5)).astype(dtype)
        y = rng.integers(0, 3, size=24)
        model = mlp()
        model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy")

        class Crash(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                if scenario == "backup_crash" and epoch == 2 and rank == 0:
                    raise RuntimeError("crash at epoch 2")

        callbacks = [Crash()]
        if scenario != "backup_straight":
            callbacks.append(keras.callbacks.BackupAndRestore(os.path.join(out_dir, "backup")))
        history = model.fit(
            x, y, batch_size=6, epochs=4, shuffle=False, callbacks=callbacks, verbose=0
        )
        result["epochs"] = np.asarray(history.epoch)
        result["h_loss"] = np.asarray(history.history["loss"])
    for i, w in enumerate(model.get_weights()):
        result[f"w{i}"] = w
    return result


for item in sys.argv[1].split(","):
    name, _, dtype = item.partition(":")
    result = run(name, dtype or "float64")
    count = keras.distribution.process_count()
    np.savez(os.path.join(out_dir, f"{name}{dtype}_{rank}_{count}.npz"), **result)
