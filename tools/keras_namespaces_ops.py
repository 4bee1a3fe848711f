"""Write the public names of Keras 3's ``keras.ops`` (and its submodules) and ``keras.random``.

Run with the reference Keras (never a gpuk dependency)::

    KERAS_BACKEND=jax /work/kvenv/bin/python tools/keras_namespaces_ops.py

One name a line, sorted, into ``tests/fixtures/keras/namespaces/<namespace>.txt``;
``tests/ops/test_ops_namespace.py`` compares gpuk's namespaces with them.
"""

import pathlib

import keras

OUT = pathlib.Path(__file__).resolve().parents[1] / "tests/fixtures/keras/namespaces"
NAMESPACES = {
    "ops": keras.ops,
    "ops.nn": keras.ops.nn,
    "ops.numpy": keras.ops.numpy,
    "ops.linalg": keras.ops.linalg,
    "ops.image": keras.ops.image,
    "random": keras.random,
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
