"""Builders of hostile model files for the attack and fuzz tests (issue 13).

Every builder starts from a small model gpuk saved itself (``in`` -> Dense ``hidden`` 6 ->
Dense ``out`` 3) and changes one thing. ``SECRET`` is what a host file holds: no weight of a
loaded model may ever contain it.
"""

import json
import zipfile

import h5py
import numpy as np

from gpuk import layers, models

SECRET = np.arange(1000, 1000 + 4 * 6, dtype="float32").reshape(4, 6)  # (in, hidden) kernel
KERNEL_SHAPE = (4, 6)


def build_model():
    inputs = layers.Input((4,), name="in")
    hidden = layers.Dense(6, activation="relu", name="hidden")(inputs)
    outputs = layers.Dense(3, name="out")(hidden)
    model = models.Model(inputs, outputs, name="small")
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.ones((4, 4), "float32"), np.ones((4, 3), "float32"), epochs=1, verbose=0)
    return model


def save_all(model, folder):
    """The four formats of ``model`` in ``folder``: ``{kind: path}``."""
    paths = {
        "keras": folder / "model.keras",
        "h5": folder / "model.h5",
        "weights_h5": folder / "model.weights.h5",
        "legacy_weights": folder / "legacy_weights.h5",
        "json": folder / "model.json",
    }
    model.save(paths["keras"])
    model.save(paths["h5"])
    model.save_weights(paths["weights_h5"])
    model.save_weights(paths["legacy_weights"])
    paths["json"].write_text(model.to_json())
    return paths


def secret_files(folder):
    """A raw host file holding ``SECRET``'s bytes, and an HDF5 file holding it at ``/data``."""
    raw = folder / "host_secret.bin"
    raw.write_bytes(SECRET.tobytes())
    other = folder / "host_secret.h5"
    with h5py.File(other, "w") as f:
        f.create_dataset("data", data=SECRET)
    return raw, other


# ----------------------------------------------------------------------------- HDF5 editing


def kernel_path(kind):
    """Where the first Dense kernel lives in each HDF5 layout."""
    return {
        "h5": "model_weights/hidden/hidden/kernel:0",
        "legacy_weights": "hidden/hidden/kernel:0",
        "weights_h5": "layers/dense/vars/0",
        "keras": "layers/dense/vars/0",
    }[kind]


def replace_object(f, path, make):
    """Delete ``path`` in the open file and let ``make(group, name)`` recreate it."""
    group_path, name = path.rsplit("/", 1)
    group = f[group_path]
    del group[name]
    make(group, name)


def external_storage(raw):
    def make(group, name):
        group.create_dataset(
            name, shape=KERNEL_SHAPE, dtype="float32", external=[(str(raw), 0, SECRET.nbytes)]
        )

    return make


def external_link(other):
    def make(group, name):
        group[name] = h5py.ExternalLink(str(other), "/data")

    return make


def virtual_dataset(other):
    def make(group, name):
        layout = h5py.VirtualLayout(shape=KERNEL_SHAPE, dtype="float32")
        layout[:] = h5py.VirtualSource(str(other), "data", shape=KERNEL_SHAPE)
        group.create_virtual_dataset(name, layout)

    return make


def soft_link_out():
    """A soft link to a dataset outside the expected group (planted at ``/planted``)."""

    def make(group, name):
        f = group.file
        if "planted" not in f:
            f.create_dataset("planted", data=SECRET)
        group[name] = h5py.SoftLink("/planted")

    return make


def region_reference():
    def make(group, name):
        f = group.file
        if "planted" not in f:
            f.create_dataset("planted", data=SECRET)
        ref = f["planted"].regionref[0:2, 0:3]
        group.create_dataset(name, shape=KERNEL_SHAPE, dtype=h5py.regionref_dtype)
        group[name][0, 0] = ref

    return make


def object_reference():
    def make(group, name):
        f = group.file
        if "planted" not in f:
            f.create_dataset("planted", data=SECRET)
        data = np.empty(KERNEL_SHAPE, dtype=h5py.ref_dtype)
        data[...] = f["planted"].ref
        group.create_dataset(name, data=data)

    return make


def huge_declared():
    """Declared 4.25 GB, stored nothing (chunked, never written): the file stays tiny."""

    def make(group, name):
        group.create_dataset(name, shape=(2**16, 2**14), dtype="float32", chunks=(64, 64))

    return make


def edit_h5(path, kind, make, out):
    """Copy of the HDF5 file ``path`` (or the weights inside a .keras) with the kernel remade."""
    if kind == "keras":
        with zipfile.ZipFile(path) as archive:
            members = {n: archive.read(n) for n in archive.namelist()}
        inner = out.with_name(out.name + ".inner.h5")
        inner.write_bytes(members["model.weights.h5"])
        with h5py.File(inner, "r+") as f:
            replace_object(f, kernel_path(kind), make)
        members["model.weights.h5"] = inner.read_bytes()
        inner.unlink()
        write_zip(out, members)
        return out
    out.write_bytes(path.read_bytes())
    with h5py.File(out, "r+") as f:
        replace_object(f, kernel_path(kind), make)
    return out


def write_zip(path, members, compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def zip_members(path):
    with zipfile.ZipFile(path) as archive:
        return {n: archive.read(n) for n in archive.namelist()}


def keras_config(path):
    return json.loads(zip_members(path)["config.json"])


def with_config(path, config, out):
    """The .keras archive ``path`` with ``config.json`` replaced."""
    members = zip_members(path)
    members["config.json"] = json.dumps(config)
    return write_zip(out, members)


def bomb_member(path, member, size, out):
    """``member`` replaced by ``size`` zero bytes (a few hundred KB once deflated)."""
    members = zip_members(path)
    members[member] = b"\0" * size if member != "config.json" else b" " * (size - 2) + b"{}"
    return write_zip(out, members)


def lambda_gadget(function_config):
    """A Sequential JSON with a Lambda whose function entry is ``function_config``."""
    return json.dumps(
        {
            "class_name": "Sequential",
            "config": {
                "name": "gadget",
                "layers": [
                    {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 4]}},
                    {
                        "class_name": "Lambda",
                        "config": {"name": "lam", "function": function_config},
                    },
                ],
            },
        }
    )


def no_weight_holds_secret(model):
    """True when no weight of ``model`` contains the host file's values."""
    secret = set(SECRET.ravel().tolist())
    for weight in model.get_weights():
        values = set(np.asarray(weight, dtype="float64").ravel().tolist())
        if values & secret and len(values & secret) > 2:
            return False
    return True
