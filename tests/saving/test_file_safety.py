"""Hostile model files are refused with a clear error, and saved files get ordinary permissions
(issue 13, docs/file-safety.md). The files are built here from a small model gpuk saved."""

import copy
import json
import os
import stat
import warnings
import zipfile

import h5py
import numpy as np
import pytest

import gpuk
from gpuk.models import load_model, model_from_json
from gpuk.saving import file_safety
from tests.saving import hostile_files as H


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("saved")
    return H.save_all(H.build_model(), folder)


@pytest.fixture(scope="module")
def secrets(tmp_path_factory):
    return H.secret_files(tmp_path_factory.mktemp("host"))


@pytest.fixture
def limits():
    yield gpuk.saving.load_limits()
    gpuk.saving.set_load_limits(**{k: None for k in gpuk.saving.load_limits()})


def load_any(kind, path):
    """Load ``path`` as its kind does: load_model, load_weights or model_from_json."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind in ("keras", "h5"):
            return load_model(path)
        if kind == "json":
            return model_from_json(open(path).read())
        model = H.build_model()
        model.load_weights(path)
        return model


def refused(kind, path, *fragments):
    """Loading ``path`` raises a ValueError naming the file and every fragment."""
    with pytest.raises(ValueError) as info:
        load_any(kind, path)
    message = str(info.value)
    assert str(path) in message or kind == "json"
    for fragment in fragments:
        assert fragment in message, message
    return message


HDF5_KINDS = ["keras", "h5", "weights_h5", "legacy_weights"]


# ----------------------------------------------------------------------------- HDF5 attacks


@pytest.mark.parametrize("kind", HDF5_KINDS)
@pytest.mark.parametrize(
    "attack,fragment",
    [
        ("external_storage", "external file"),
        ("external_link", "external link"),
        ("virtual_dataset", "virtual dataset"),
        ("soft_link_out", "soft link"),
        ("region_reference", "expected numbers"),
        ("object_reference", "expected numbers"),
        ("huge_declared", "(65536, 16384)"),
    ],
)
def test_hdf5_attacks_are_refused(kind, attack, fragment, saved, secrets, tmp_path):
    raw, other = secrets
    makers = {
        "external_storage": H.external_storage(raw),
        "external_link": H.external_link(other),
        "virtual_dataset": H.virtual_dataset(other),
        "soft_link_out": H.soft_link_out(),
        "region_reference": H.region_reference(),
        "object_reference": H.object_reference(),
        "huge_declared": H.huge_declared(),
    }
    path = H.edit_h5(saved[kind], kind, makers[attack], tmp_path / f"x_{saved[kind].name}")
    refused(kind, path, fragment, H.kernel_path(kind).split("/")[-1])


def test_the_unedited_files_load(saved):
    for kind in [*HDF5_KINDS, "json"]:
        model = load_any(kind, saved[kind])
        assert model.predict(np.ones((2, 4), "float32"), verbose=0).shape == (2, 3)


def test_external_link_on_a_layer_group_is_not_followed(saved, secrets, tmp_path):
    _, other = secrets
    path = tmp_path / "m.h5"
    path.write_bytes(saved["h5"].read_bytes())
    with h5py.File(path, "r+") as f:
        del f["model_weights/hidden"]
        f["model_weights/hidden"] = h5py.ExternalLink(str(other), "/")
    refused("h5", path, "/model_weights/hidden", "external link")


def test_soft_link_inside_the_layer_group_is_followed(saved, tmp_path):
    path = tmp_path / "w.h5"
    path.write_bytes(saved["legacy_weights"].read_bytes())
    with h5py.File(path, "r+") as f:
        kernel = f["hidden/hidden/kernel:0"][()]
        del f["hidden/hidden/kernel:0"]
        f["hidden/copy"] = kernel
        f["hidden/hidden/kernel:0"] = h5py.SoftLink("/hidden/copy")
    model = load_any("legacy_weights", path)
    np.testing.assert_array_equal(model.get_layer("hidden").kernel.numpy(), kernel)


def test_soft_link_loops_and_dot_paths_are_refused(saved, tmp_path):
    path = tmp_path / "w.h5"
    path.write_bytes(saved["legacy_weights"].read_bytes())
    with h5py.File(path, "r+") as f:
        del f["hidden/hidden/kernel:0"]
        f["hidden/hidden/kernel:0"] = h5py.SoftLink("/hidden/hidden/kernel:0")
    refused("legacy_weights", path, "soft link")
    with h5py.File(path, "r+") as f:
        f["hidden"].attrs["weight_names"] = [b"../out/out/kernel:0", b"hidden/bias:0"]
    refused("legacy_weights", path, "'..'")


def test_plugin_filters_are_refused(saved, tmp_path):
    path = tmp_path / "w.h5"
    path.write_bytes(saved["legacy_weights"].read_bytes())
    with h5py.File(path, "r+") as f:
        kernel = f["hidden/hidden/kernel:0"][()]
        del f["hidden/hidden/kernel:0"]
        # 307 is bzip2's registered id: HDF5 would look for a plugin library to read it.
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_chunk(kernel.shape)
        dcpl.set_filter(307, h5py.h5z.FLAG_OPTIONAL)
        space = h5py.h5s.create_simple(kernel.shape)
        h5py.h5d.create(f["hidden/hidden"].id, b"kernel:0", h5py.h5t.IEEE_F32LE, space, dcpl=dcpl)
    refused("legacy_weights", path, "filter 307", "plugin")


def test_reference_attributes_are_refused(saved, tmp_path):
    path = tmp_path / "w.h5"
    path.write_bytes(saved["legacy_weights"].read_bytes())
    with h5py.File(path, "r+") as f:
        f["hidden"].attrs["weight_names"] = np.array([f["out"].ref], dtype=h5py.ref_dtype)
    refused("legacy_weights", path, "weight_names", "references")


def test_declared_weights_beyond_the_stored_bytes_are_refused_before_building(saved, tmp_path):
    # The config asks for a (65536, 16384) kernel (4.3 GB) and the file declares one, but
    # stores no byte of it: the model is refused before the kernel is allocated.
    path = tmp_path / "m.h5"
    path.write_bytes(saved["h5"].read_bytes())
    with h5py.File(path, "r+") as f:
        config = json.loads(f.attrs["model_config"])
        config["config"]["layers"][0]["config"]["batch_input_shape"] = [None, 2**16]
        config["config"]["layers"][1]["config"]["units"] = 2**14
        f.attrs["model_config"] = json.dumps(config).encode()
        H.replace_object(f, H.kernel_path("h5"), H.huge_declared())
    refused("h5", path, "layer 'hidden'", "more than the file can hold")


def test_compressed_weights_count_up_to_the_compression_limit(saved, tmp_path, limits):
    # 32 MB of zeros gzip to ~32 KB: more than max_compression_ratio (100) allows.
    path = tmp_path / "m.h5"
    path.write_bytes(saved["h5"].read_bytes())
    shape = (2**11, 2**12)
    with h5py.File(path, "r+") as f:
        config = json.loads(f.attrs["model_config"])
        config["config"]["layers"][0]["config"]["batch_input_shape"] = [None, shape[0]]
        config["config"]["layers"][1]["config"]["units"] = shape[1]
        config["config"]["layers"][2]["config"]["units"] = 1
        f.attrs["model_config"] = json.dumps(config).encode()
        group = f["model_weights/hidden/hidden"]
        for name, value in (("kernel:0", np.zeros(shape, "float32")), ("bias:0", None)):
            del group[name]
            value = np.zeros(shape[1], "float32") if value is None else value
            group.create_dataset(name, data=value, compression="gzip", chunks=True)
        group = f["model_weights/out/out"]
        for name, value in (("kernel:0", np.zeros((shape[1], 1))), ("bias:0", np.zeros(1))):
            del group[name]
            group.create_dataset(name, data=value.astype("float32"))
    refused("h5", path, "layer 'hidden'", "more than the file can hold")
    gpuk.saving.set_load_limits(max_compression_ratio=10**6)
    model = load_any("h5", path)
    assert model.get_layer("hidden").kernel.shape == shape


def test_trial_inputs_are_limited_while_loading():
    config = {
        "class_name": "Sequential",
        "config": {
            "name": "s",
            "layers": [
                {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 2**26]}},
                {"class_name": "Lambda", "config": {"name": "lam", "function": "relu"}},
            ],
        },
    }
    with pytest.raises(ValueError, match="layer 'lam' asks for trial input"):
        model_from_json(json.dumps(config))


def test_legacy_h5_reads_each_array_once(saved, monkeypatch):
    reads = []
    original = file_safety.StoredArray.read

    def counting(self):
        reads.append(self.dataset.name)
        return original(self)

    monkeypatch.setattr(file_safety.StoredArray, "read", counting)
    load_any("h5", saved["h5"])
    weights = [r for r in reads if r.startswith("/model_weights")]
    assert len(weights) == 4 and len(set(weights)) == 4


# ----------------------------------------------------------------------------- zip members


@pytest.mark.parametrize(
    "member,size", [("model.weights.h5", 64 * 2**20), ("config.json", 40 * 2**20)]
)
def test_zip_bombs_are_refused_from_the_declared_size(member, size, saved, tmp_path):
    path = H.bomb_member(saved["keras"], member, size, tmp_path / "bomb.keras")
    assert os.path.getsize(path) < size // 100
    refused("keras", path, member, "declares")
    if member == "model.weights.h5":
        refused("legacy_weights", path, member, "declares")


def test_a_lying_declared_size_is_caught_by_the_stream(saved, tmp_path):
    # Central directory and local header claim 100 bytes; the stream holds 8 MB of zeros.
    path = H.bomb_member(saved["keras"], "model.weights.h5", 8 * 2**20, tmp_path / "lie.keras")
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("model.weights.h5")
    real = info.file_size.to_bytes(4, "little")
    for header in (b"PK\x03\x04", b"PK\x01\x02"):
        start = 0
        while (start := data.find(header, start)) >= 0:
            offset = start + (22 if header == b"PK\x03\x04" else 24)
            if data[offset : offset + 4] == real:
                data[offset : offset + 4] = (100).to_bytes(4, "little")
            start += 4
    path.write_bytes(bytes(data))
    refused("keras", path, "model.weights.h5")


def test_config_cap_is_configurable(saved, tmp_path, limits):
    gpuk.saving.set_load_limits(max_config_bytes=100)
    refused("keras", saved["keras"], "config.json", "declares")
    gpuk.saving.set_load_limits(max_config_bytes=None)
    assert load_any("keras", saved["keras"]) is not None


def test_member_names_are_never_paths(saved, tmp_path):
    members = H.zip_members(saved["keras"])
    members["../../escaped.txt"] = b"x"
    members["/abs/escaped.txt"] = b"x"
    path = H.write_zip(tmp_path / "names.keras", members)
    load_any("keras", path)
    assert not (tmp_path.parent / "escaped.txt").exists()
    assert not os.path.exists("/abs/escaped.txt")


def test_metadata_of_the_wrong_type(saved, tmp_path):
    members = H.zip_members(saved["keras"])
    members["metadata.json"] = b"[1, 2]"
    refused("keras", H.write_zip(tmp_path / "a.keras", members), "metadata.json")
    members["metadata.json"] = json.dumps({"keras_version": {"x": 1}}).encode()
    refused("keras", H.write_zip(tmp_path / "b.keras", members), "keras_version")
    members["metadata.json"] = json.dumps({"keras_version": 3}).encode()
    assert load_any("keras", H.write_zip(tmp_path / "c.keras", members)) is not None


# ----------------------------------------------------------------------------- config sizes


def dense_units(config, units):
    config = copy.deepcopy(config)
    config["config"]["layers"][1]["config"]["units"] = units
    return config


def test_huge_dense_is_refused_at_build_time(saved, tmp_path):
    config = H.keras_config(saved["keras"])
    path = H.with_config(saved["keras"], dense_units(config, 10**12), tmp_path / "d.keras")
    refused("keras", path, "layer 'hidden'", "(4, 1000000000000)", "max_variable_elements")
    with pytest.raises(ValueError, match="layer 'hidden'.*load limit"):
        model_from_json(json.dumps(dense_units(config, 10**12)))


def test_huge_embedding_is_refused_at_build_time():
    config = {
        "class_name": "Sequential",
        "config": {
            "name": "s",
            "layers": [
                {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 3]}},
                {
                    "class_name": "Embedding",
                    "config": {"name": "emb", "input_dim": 10**12, "output_dim": 8},
                },
            ],
        },
    }
    with pytest.raises(ValueError, match="layer 'emb'.*embeddings.*8000000000000 elements"):
        model_from_json(json.dumps(config))


def test_a_config_larger_than_its_weights_member_is_refused(saved, tmp_path):
    config = dense_units(H.keras_config(saved["keras"]), 2**26)
    path = H.with_config(saved["keras"], config, tmp_path / "d.keras")
    refused("keras", path, "layer 'hidden'", "more than the file can hold")


def test_variable_limit_is_configurable_and_only_applies_to_files(limits):
    gpuk.saving.set_load_limits(max_variable_elements=10)
    text = H.build_model().to_json()  # models built in code are not limited
    with pytest.raises(ValueError, match="layer 'hidden'.*24 elements"):
        model_from_json(text)
    with pytest.raises(ValueError, match="Unknown load limits"):
        gpuk.saving.set_load_limits(max_weights=1)
    with pytest.raises(ValueError, match="positive int"):
        gpuk.saving.set_load_limits(max_variable_elements=-1)


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"class_name": "Sequential", "config": {"layers": [' * 2000 + "{}" + "]}}" * 2000,
    ],
)
def test_deep_nesting_is_a_clear_error(text):
    with pytest.raises(ValueError, match="nested (more than 100 levels|too deeply)"):
        model_from_json(text)


def test_nested_models_within_the_depth_limit_load():
    inner = {
        "class_name": "Sequential",
        "config": {
            "name": "s0",
            "layers": [
                {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 3]}},
                {"class_name": "Dense", "config": {"name": "d", "units": 2}},
            ],
        },
    }
    for i in range(10):
        inner = {"class_name": "Sequential", "config": {"name": f"s{i + 1}", "layers": [inner]}}
    model = model_from_json(json.dumps(inner))
    assert model.predict(np.ones((1, 3), "float32"), verbose=0).shape == (1, 2)


# ----------------------------------------------------------------------------- one error type


def functional_config(saved):
    return json.loads(saved["json"].read_text())


@pytest.mark.parametrize(
    "edit,fragment",
    [
        (lambda c: c["config"].pop("layers"), "'layers'"),
        (lambda c: c["config"]["layers"][1].update(class_name=5), "class_name"),
        (lambda c: c["config"]["layers"][1].update(name={"a": 1}), "name"),
        (lambda c: c["config"]["layers"][1]["config"].update(name=["x"]), "name"),
        (lambda c: c["config"].update(output_layers=["out"]), "output_layers"),
        (lambda c: c["config"].update(output_layers="out"), "output_layers"),
        (lambda c: c["config"]["layers"][1].update(inbound_nodes=[[["in", "0", 0, {}]]]), "[1]"),
        (lambda c: c["config"]["layers"][0]["config"].update(batch_input_shape=[-1, 4]), "-1"),
        (lambda c: c["config"]["layers"][1]["config"].update(units="many"), "hidden"),
        (lambda c: c["config"]["layers"][1]["config"].update(activation=7), "hidden"),
        (lambda c: c.update(class_name=None), "class_name"),
        (lambda c: c["config"]["layers"][1]["inbound_nodes"][0][0].__setitem__(3, {"a": 1}), "'a'"),
    ],
)
def test_malformed_configs_raise_value_error_naming_the_place(edit, fragment, saved):
    config = functional_config(saved)
    edit(config)
    with pytest.raises(ValueError, match="model_from_json") as info:
        model_from_json(json.dumps(config))
    assert fragment in str(info.value)


def test_a_graph_with_negative_sizes_is_refused():
    text = H.lambda_gadget("relu").replace(
        '{"class_name": "Lambda", "config": {"name": "lam", "function": "relu"}}',
        '{"class_name": "RepeatVector", "config": {"name": "rep", "n": -1}}',
    )
    with pytest.raises(ValueError, match="layer 'rep'.*negative sizes"):
        model_from_json(text)


def test_non_utf8_and_non_json_text(saved):
    with pytest.raises(ValueError, match="UTF-8"):
        model_from_json(b"\xff\xfe{}")
    with pytest.raises(ValueError, match="not valid JSON"):
        model_from_json("{")
    with pytest.raises(ValueError, match="expected JSON text"):
        model_from_json(12)


def test_errors_are_chained_to_the_original(saved, tmp_path):
    config = functional_config(saved)
    config["config"]["layers"][1]["config"]["activation"] = 7
    with pytest.raises(ValueError) as info:
        model_from_json(json.dumps(config))
    assert info.value.__cause__ is not None


def test_hdf5_attribute_of_the_wrong_type(saved, tmp_path):
    path = tmp_path / "m.h5"
    path.write_bytes(saved["h5"].read_bytes())
    with h5py.File(path, "r+") as f:
        f["model_weights"].attrs["layer_names"] = np.array([b"\xff\xfe", b"out"])
    refused("h5", path, "layer_names")
    with h5py.File(path, "r+") as f:
        f["model_weights"].attrs["layer_names"] = np.zeros((2, 2))
    refused("h5", path, "layer_names")


def test_missing_files_stay_os_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "nothing.keras")
    with pytest.raises(FileNotFoundError):
        H.build_model().load_weights(tmp_path / "nothing.weights.h5")


# ----------------------------------------------------------------------------- code in files


@pytest.mark.parametrize(
    "function",
    [
        "__import__",
        "eval",
        "system",
        "__builtins__",
        "np",
        {"class_name": "__lambda__", "config": {"code": "YWJj"}},
        ["os", "system"],
        5,
    ],
)
def test_lambda_gadgets_are_refused(function):
    with pytest.raises(ValueError, match="model_from_json: layer 'lam'"):
        model_from_json(H.lambda_gadget(function))


def test_lambda_without_function_is_a_clear_error():
    text = H.lambda_gadget("relu").replace('"function": "relu"', '"other": 1')
    with pytest.raises(ValueError, match="no 'function'"):
        model_from_json(text)


def test_module_and_registered_name_gadgets_resolve_nothing(saved):
    config = functional_config(saved)
    layer = config["config"]["layers"][1]
    layer.update(module="os", class_name="system", registered_name="builtins>eval")
    with pytest.raises(ValueError, match="Unknown layer"):
        model_from_json(json.dumps(config))


# ----------------------------------------------------------------------------- permissions


@pytest.fixture
def umask():
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_saved_files_get_ordinary_permissions(tmp_path, umask):
    model = H.build_model()
    paths = H.save_all(model, tmp_path)
    for kind in ("keras", "h5", "weights_h5", "legacy_weights"):
        assert mode(paths[kind]) == 0o644, kind
    checkpoint = gpuk.callbacks.ModelCheckpoint(str(tmp_path / "ckpt" / "m.keras"))
    backup = gpuk.callbacks.BackupAndRestore(str(tmp_path / "backup"), delete_checkpoint=False)
    model.fit(
        np.ones((4, 4), "float32"),
        np.ones((4, 3), "float32"),
        epochs=1,
        verbose=0,
        callbacks=[checkpoint, backup],
    )
    assert mode(tmp_path / "ckpt" / "m.keras") == 0o644
    files = [p for p in (tmp_path / "backup").rglob("*") if p.is_file()]
    assert files
    for path in files:
        assert mode(path) == 0o644, path
    os.umask(0o027)
    model.save(tmp_path / "group.keras")
    assert mode(tmp_path / "group.keras") == 0o640


def test_overwriting_keeps_the_existing_mode(tmp_path, umask):
    model = H.build_model()
    path = tmp_path / "m.weights.h5"
    model.save_weights(path)
    os.chmod(path, 0o600)
    model.save_weights(path)
    assert mode(path) == 0o600
    checkpoint = tmp_path / "ckpt.keras"
    callback = gpuk.callbacks.ModelCheckpoint(str(checkpoint))
    x, y = np.ones((4, 4), "float32"), np.ones((4, 3), "float32")
    model.fit(x, y, epochs=1, verbose=0, callbacks=[callback])
    os.chmod(checkpoint, 0o640)
    model.fit(x, y, epochs=1, verbose=0, callbacks=[callback])
    assert mode(checkpoint) == 0o640
