"""Keras's outputs for the ``keras.ops`` case table (``tests/ops/keras_op_cases.py``).

Run with the reference Keras (never a gpuk dependency)::

    KERAS_BACKEND=jax /work/kvenv/bin/python tools/make_keras_fixtures_ops.py

Writes ``tests/fixtures/keras/ops/ops_values.npz``: for case ``c``, its drawn inputs as
``c|in|<path>`` and Keras's outputs (flattened when a tuple or list) as ``c|out|<k>``.
Cases whose call fails in Keras are reported and left out.
"""

import importlib.util
import pathlib
import zlib

import keras
import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
OUT = ROOT / "tests/fixtures/keras/ops/ops_values.npz"


def _load_cases():
    spec = importlib.util.spec_from_file_location("cases", ROOT / "tests/ops/keras_op_cases.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _draw(spec, rng):
    shape = spec.shape
    if spec.kind == "n":
        return rng.normal(size=shape).astype("float32")
    if spec.kind == "u":
        return rng.uniform(spec.lo, spec.hi, size=shape).astype("float32")
    if spec.kind == "i":
        return rng.integers(spec.lo, spec.hi, size=shape).astype("int32")
    if spec.kind == "b":
        return rng.uniform(size=shape) < 0.5
    if spec.kind == "sort":
        return np.sort(rng.normal(size=shape)).astype("float32")
    if spec.kind in ("nan", "naninf"):
        x = rng.normal(size=shape).astype("float32")
        x[0, 0] = np.nan
        if spec.kind == "nan":
            x[1, 2] = np.nan
        else:
            x[1, 1], x[2, 2] = np.inf, -np.inf
        return x
    if spec.kind == "spd":
        n = shape[-1]
        a = rng.normal(size=shape).astype("float64")
        m = a @ np.swapaxes(a, -1, -2) + n * np.eye(n)
        return m.astype("float32")
    raise ValueError(spec.kind)


def materialise(value, rng, In, path, store):
    """Replace every ``In`` in ``value`` by a drawn array, recorded in ``store``."""
    if isinstance(value, In):
        array = _draw(value, rng)
        store[path] = array
        return array
    if isinstance(value, (list, tuple)):
        items = [materialise(v, rng, In, f"{path}.{i}", store) for i, v in enumerate(value)]
        return type(value)(items)
    if isinstance(value, dict):
        return {k: materialise(v, rng, In, f"{path}.{k}", store) for k, v in value.items()}
    return value


def flatten(out):
    if isinstance(out, (list, tuple)):
        return [leaf for item in out for leaf in flatten(item)]
    return [np.asarray(out)]


def main():
    cases = _load_cases()
    arrays, failed = {}, []
    for case_id, name, args, kwargs in cases.CASES:
        rng = np.random.default_rng(zlib.crc32(case_id.encode()))
        store = {}
        call_args = materialise(list(args), rng, cases.In, "args", store)
        call_kwargs = materialise(dict(kwargs), rng, cases.In, "kwargs", store)
        try:
            fn = keras.ops
            for part in name.split("."):
                fn = getattr(fn, part)
            out = fn(*call_args, **call_kwargs)
        except Exception as error:  # recorded: the test skips what Keras cannot do
            failed.append(f"{case_id}: {type(error).__name__}: {error}")
            continue
        for path, array in store.items():
            arrays[f"{case_id}|in|{path}"] = array
        for k, leaf in enumerate(flatten(out)):
            arrays[f"{case_id}|out|{k}"] = leaf
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, **arrays)
    print(f"{len(cases.CASES) - len(failed)} cases written to {OUT.relative_to(ROOT)}")
    for line in failed:
        print("Keras failed:", line)


if __name__ == "__main__":
    main()
