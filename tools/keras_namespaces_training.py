"""Write the public names of Keras 3's ``keras.losses``, ``keras.optimizers``,
``keras.callbacks`` and ``keras.mixed_precision``.

Run with the reference Keras (never a gpuk dependency)::

    KERAS_BACKEND=jax /work/kvenv/bin/python tools/keras_namespaces_training.py

One name a line, sorted, into ``tests/fixtures/keras/namespaces/<namespace>.txt``;
``tests/test_training_namespaces.py`` compares gpuk's namespaces with them.
"""

import pathlib

import keras

OUT = pathlib.Path(__file__).resolve().parents[1] / "tests/fixtures/keras/namespaces"
NAMESPACES = {
    "losses": keras.losses,
    "optimizers": keras.optimizers,
    "optimizers.schedules": keras.optimizers.schedules,
    "callbacks": keras.callbacks,
    "mixed_precision": keras.mixed_precision,
}


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for name, module in NAMESPACES.items():
        names = sorted(n for n in dir(module) if not n.startswith("_"))
        header = f"# keras.{name} of Keras {keras.__version__}: {len(names)} public names\n"
        (OUT / f"{name}.txt").write_text(header + "\n".join(names) + "\n")
        print(name, len(names))


if __name__ == "__main__":
    main()
