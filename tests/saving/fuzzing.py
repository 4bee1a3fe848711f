"""A seeded fuzzer over gpuk's file formats, and the worker that loads the damaged files.

``damage(kind, source, out, rng)`` writes one damaged copy of a saved file: byte flips,
truncations, zeroed ranges, wrong JSON types, missing keys, and HDF5 edits (deleted links or
attributes, datasets of another shape or type, attributes of the wrong type).

``python -m tests.saving.fuzzing LIST.json`` loads every ``[kind, path]`` in the list and prints
one JSON line per file: ``ok`` (loaded and predicts), ``clear`` (ValueError/OSError naming the
file), or ``unclear``/``broken`` (anything else). The tests run it in a subprocess with a
timeout, so a hang is caught too.
"""

import copy
import json
import sys
import warnings
import zipfile

import numpy as np

WRONG_VALUES = [None, 0, -1, 1.5, 10**12, "", "x", [], {}, True, [1, 2], {"a": 1}, [[[[[]]]]]]


# ----------------------------------------------------------------------------- JSON damage


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _paths(item, (*prefix, i))


def damage_json_value(config, rng):
    """A copy of ``config`` with one node deleted or given a value of a wrong type."""
    config = copy.deepcopy(config)
    paths = [p for p in _paths(config) if p]
    if not paths:
        return WRONG_VALUES[rng.integers(len(WRONG_VALUES))]
    path = paths[rng.integers(len(paths))]
    parent = config
    for key in path[:-1]:
        parent = parent[key]
    if rng.random() < 0.4:
        del parent[path[-1]]
    else:
        parent[path[-1]] = copy.deepcopy(WRONG_VALUES[rng.integers(len(WRONG_VALUES))])
    return config


def damage_json_text(text, rng):
    if rng.random() < 0.7:
        try:
            return json.dumps(damage_json_value(json.loads(text), rng))
        except ValueError:
            pass
    return damage_bytes(text.encode("utf8"), rng).decode("utf8", "replace")


# ----------------------------------------------------------------------------- byte damage


def damage_bytes(data, rng):
    data = bytearray(data)
    if not data:
        return bytes(data)
    choice = rng.integers(4)
    if choice == 0:  # flip bits
        for _ in range(int(rng.integers(1, 9))):
            i = int(rng.integers(len(data)))
            data[i] ^= 1 << int(rng.integers(8))
    elif choice == 1:  # truncate
        data = data[: int(rng.integers(len(data)))]
    elif choice == 2:  # zero a range
        start = int(rng.integers(len(data)))
        end = start + int(rng.integers(1, 256))
        data[start:end] = bytes(len(data[start:end]))
    else:  # random bytes over a range
        start = int(rng.integers(len(data)))
        length = min(int(rng.integers(1, 64)), len(data) - start)
        data[start : start + length] = rng.integers(0, 256, length, dtype=np.uint8).tobytes()
    return bytes(data)


# ----------------------------------------------------------------------------- HDF5 damage


def damage_h5_file(path, rng):
    """Edit the HDF5 file at ``path`` in place: one structural or attribute change."""
    import h5py

    with h5py.File(path, "r+") as f:
        names = []
        f.visit(names.append)
        objects = ["/"] + names
        target = objects[int(rng.integers(len(objects)))]
        obj = f[target]
        choice = int(rng.integers(5))
        if choice == 0 and target != "/":
            del f[target]
        elif choice == 1 and isinstance(obj, h5py.Dataset):
            parent, name = obj.parent, target.rsplit("/", 1)[-1]
            del parent[name]
            kind = int(rng.integers(4))
            if kind == 0:
                parent.create_dataset(name, data=np.zeros((3, 5), "float32"))
            elif kind == 1:
                parent.create_dataset(name, data=np.array([b"abc", b"de"]))
            elif kind == 2:
                parent.create_dataset(name, data=np.float64(7.0))
            else:
                parent.create_dataset(name, data=np.zeros((2,), "complex64"))
        elif list(obj.attrs):
            attrs = list(obj.attrs)
            key = attrs[int(rng.integers(len(attrs)))]
            value = obj.attrs[key]
            if key in ("model_config", "training_config") and rng.random() < 0.7:
                text = value.decode("utf8") if isinstance(value, bytes) else str(value)
                # vlen string attributes cannot hold NUL characters
                obj.attrs[key] = damage_json_text(text, rng).replace("\0", " ").encode("utf8")
            elif rng.random() < 0.3:
                del obj.attrs[key]
            else:
                wrong = [
                    np.int64(3),
                    np.array([1.5, 2.5]),
                    b"\xff\xfe\xfa",
                    np.array([b"nope", b"\xff"]),
                    "",
                    np.zeros((2, 2)),
                ]
                obj.attrs[key] = wrong[int(rng.integers(len(wrong)))]
        else:
            obj.attrs["stray"] = np.arange(3)


def damage(kind, source, out, rng):
    """Write a damaged copy of ``source`` (a file of ``kind``) to ``out``."""
    data = source.read_bytes()
    if kind == "json":
        out.write_text(damage_json_text(data.decode("utf8"), rng))
        return out
    if kind == "keras":
        if rng.random() < 0.3:
            out.write_bytes(damage_bytes(data, rng))
            return out
        with zipfile.ZipFile(source) as archive:
            members = {n: archive.read(n) for n in archive.namelist()}
        member = ["config.json", "metadata.json", "model.weights.h5"][int(rng.integers(3))]
        if member.endswith(".json"):
            members[member] = damage_json_text(members[member].decode("utf8"), rng).encode()
        elif rng.random() < 0.5:
            members[member] = damage_bytes(members[member], rng)
        else:
            inner = out.with_name(out.name + ".inner")
            inner.write_bytes(members[member])
            damage_h5_file(inner, rng)
            members[member] = inner.read_bytes()
            inner.unlink()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, value in members.items():
                archive.writestr(name, value)
        return out
    if rng.random() < 0.5:
        out.write_bytes(damage_bytes(data, rng))
    else:
        out.write_bytes(data)
        damage_h5_file(out, rng)
    return out


# ----------------------------------------------------------------------------- worker


def _dummy_inputs(model):
    arrays = []
    for tensor in model.inputs:
        shape = [2 if s is None else s for s in tensor.shape]
        arrays.append(np.zeros(shape, dtype=tensor.dtype))
    return arrays[0] if len(arrays) == 1 else arrays


def load_one(kind, path):
    """``(outcome, detail)`` for one file."""
    from gpuk.models import load_model, model_from_json
    from tests.saving.hostile_files import build_model
    from tests.saving.rnnoise_objects import CUSTOM

    label = "model_from_json" if kind == "json" else str(path)
    try:
        if kind == "json":
            with open(path, encoding="utf8", errors="replace") as f:
                model = model_from_json(f.read(), custom_objects=CUSTOM)
        elif kind in ("keras", "h5"):
            model = load_model(path, custom_objects=CUSTOM)
        else:
            model = build_model()
            model.load_weights(path)
    except (ValueError, OSError) as error:
        if label in str(error):
            return "clear", f"{type(error).__name__}: {str(error)[:300]}"
        return "unclear", f"{type(error).__name__} without the file name: {str(error)[:300]}"
    except BaseException as error:  # noqa: BLE001 - this is what the fuzzer looks for
        return "unclear", f"{type(error).__name__}: {str(error)[:300]}"
    try:
        model.predict(_dummy_inputs(model), verbose=0)
    except BaseException as error:  # noqa: BLE001
        return "broken", f"loaded but predict failed: {type(error).__name__}: {str(error)[:300]}"
    return "ok", ""


def main(argv):
    warnings.simplefilter("ignore")
    with open(argv[0]) as f:
        files = json.load(f)
    for kind, path in files:
        print(json.dumps({"path": path, "start": True}), flush=True)
        outcome, detail = load_one(kind, path)
        print(json.dumps({"path": path, "outcome": outcome, "detail": detail}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
