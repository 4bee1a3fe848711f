"""Errors and options of the saving entry points (gpuk/saving/saving_api.py) that mutation
testing showed untested; each error names the file (or the function) and what was expected."""

import io
import json
import os
import zipfile

import h5py
import numpy as np
import pytest

import gpuk
import gpuk.saving  # noqa: F401
from gpuk import layers, models
from gpuk.saving import saving_api


def _model(seed=0):
    inputs = layers.Input((3,))
    model = models.Model(inputs, layers.Dense(2, name="d")(inputs))
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(size=w.shape).astype("float32") for w in model.get_weights()])
    return model


def test_load_model_refuses_directories_and_weights_only_files(tmp_path):
    with pytest.raises(ValueError, match=r"is a directory \(a TensorFlow SavedModel\?\)"):
        gpuk.models.load_model(str(tmp_path))
    with pytest.raises(FileNotFoundError, match="nothing.keras"):
        gpuk.models.load_model(str(tmp_path / "nothing.keras"))
    path = str(tmp_path / "w.h5")
    _model().save_weights(path)
    with pytest.raises(ValueError, match=r"w.h5: this file holds only weights"):
        gpuk.models.load_model(path)
    path = str(tmp_path / "w3.weights.h5")
    _model().save_weights(path)
    with pytest.raises(ValueError, match=r"w3.weights.h5: this file holds only weights"):
        gpuk.models.load_model(path)
    with h5py.File(tmp_path / "empty.h5", "w") as f:
        f.create_group("something")
    with pytest.raises(ValueError, match=r"empty.h5: no model found in the HDF5 file"):
        gpuk.models.load_model(str(tmp_path / "empty.h5"))
    (tmp_path / "junk.h5").write_bytes(b"\x00" * 64)
    with pytest.raises(ValueError, match=r"junk.h5.*neither an HDF5 model file nor a .keras"):
        gpuk.models.load_model(str(tmp_path / "junk.h5"))


def test_load_model_from_a_file_object(tmp_path):
    model = _model()
    path = str(tmp_path / "m.h5")
    model.save(path)
    with open(path, "rb") as f:
        loaded = gpuk.models.load_model(io.BytesIO(f.read()))
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_missing_listed_optimizer_weight_is_an_error(tmp_path):
    model = _model()
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.ones((4, 3)), np.ones((4, 2)), verbose=0)
    path = str(tmp_path / "m.h5")
    model.save(path)
    with h5py.File(path, "r+") as f:
        group = f["gpuk_optimizer_weights"]
        name = [n for n in group.attrs["weight_names"]][2]
        name = name.decode() if isinstance(name, bytes) else name
        del group[name]
    with pytest.raises(ValueError, match=f"m.h5: optimizer weight '{name}' is listed but missing"):
        gpuk.models.load_model(path)


def _rewrite_archive(src, dst, drop=(), add=None):
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(dst, "w") as b:
        for item in a.infolist():
            if item.filename not in drop:
                b.writestr(item, a.read(item.filename))
        for name, data in (add or {}).items():
            b.writestr(name, data)


def test_keras_archive_member_errors(tmp_path):
    src = str(tmp_path / "m.keras")
    _model().save(src)
    cases = [
        ("noweights.keras", ("model.weights.h5",), None, "the archive has no model.weights.h5"),
        (
            "npz.keras",
            ("model.weights.h5",),
            {"model.weights.npz": b"x"},
            ".npz weights inside .keras archives are not supported",
        ),
        ("noconfig.keras", ("config.json",), None, "the archive has no config.json"),
        (
            "meta.keras",
            ("metadata.json",),
            {"metadata.json": json.dumps([1])},
            "member 'metadata.json': expected a JSON object, got list",
        ),
        (
            "version.keras",
            ("metadata.json",),
            {"metadata.json": json.dumps({"keras_version": [3]})},
            "keras_version must be a string, got \\[3\\]",
        ),
    ]
    for name, drop, add, message in cases:
        dst = str(tmp_path / name)
        _rewrite_archive(src, dst, drop, add)
        with pytest.raises(ValueError, match=f"{name}: .*{message}"):
            gpuk.models.load_model(dst)
    # metadata.json is optional; a numeric keras_version is read as text
    for name, add in [
        ("nometa.keras", None),
        ("num.keras", {"metadata.json": '{"keras_version": 3}'}),
    ]:
        dst = str(tmp_path / name)
        _rewrite_archive(src, dst, ("metadata.json",), add)
        loaded = gpuk.models.load_model(dst)
        np.testing.assert_array_equal(loaded.get_weights()[0], _model().get_weights()[0])
    dst = str(tmp_path / "noweights.keras")
    with pytest.raises(ValueError, match="noweights.keras: the archive has no model.weights.h5"):
        _model().load_weights(dst)


def test_version_string():
    assert saving_api._version_string("3.1", "p") == "3.1"
    assert saving_api._version_string(3, "p") == "3"
    assert saving_api._version_string(2.5, "p") == "2.5"
    for bad in (True, None, [3]):
        with pytest.raises(ValueError, match="p: member 'metadata.json': keras_version must be"):
            saving_api._version_string(bad, "p")


def test_build_config_must_be_a_dict():
    with pytest.raises(ValueError, match="build_config must be a dict, got list"):
        saving_api._build_from_config(_model(), {"build_config": [1]})
    seq = models.Sequential([layers.Dense(2)])
    saving_api._build_from_config(seq, {"build_config": {"input_shape": [None, 4]}})
    assert seq.built and seq.layers[0].kernel.shape == (4, 2)
    saving_api._build_from_config(seq, {"build_config": None})


def test_unexpected_keyword_arguments_are_named(tmp_path):
    model = _model()
    path = str(tmp_path / "m.keras")
    with pytest.raises(
        TypeError, match=r"save_model\(\) got unexpected keyword arguments \['bad'\]"
    ):
        model.save(path, bad=1)
    with pytest.raises(TypeError, match=r"save_weights\(\) got unexpected .*\['zz'\]"):
        model.save_weights(str(tmp_path / "w.weights.h5"), zz=2)
    model.save_weights(str(tmp_path / "w.weights.h5"), options=None)
    with pytest.raises(TypeError, match=r"load_weights\(\) got unexpected .*\['qq'\]"):
        model.load_weights(str(tmp_path / "w.weights.h5"), qq=3)
    model.load_weights(str(tmp_path / "w.weights.h5"), options=None)
    # tf.keras's options are accepted and ignored
    model.save(path, signatures=None, options=None, save_format="keras")
    assert zipfile.is_zipfile(path)


def test_save_formats(tmp_path):
    model = _model()
    with pytest.raises(ValueError, match=r"m.tf: the TensorFlow SavedModel format is not"):
        model.save(str(tmp_path / "m.tf"), save_format="tf")
    with pytest.raises(ValueError, match="TensorFlow SavedModel"):
        model.save(str(tmp_path / "m2"), save_format="tensorflow")
    model.save(str(tmp_path / "legacy.bin"))  # another suffix: legacy HDF5, as tf.keras
    assert h5py.is_hdf5(str(tmp_path / "legacy.bin"))
    model.save(str(tmp_path / "as_h5.keras"), save_format="h5")
    assert h5py.is_hdf5(str(tmp_path / "as_h5.keras"))
    model.save_weights(str(tmp_path / "w.bin"), save_format="h5")
    with h5py.File(tmp_path / "w.bin", "r") as f:
        assert "layer_names" in f.attrs
    with pytest.raises(ValueError, match=r"must end in `.weights.h5`.*Received: filepath=.*w.txt"):
        model.save_weights(str(tmp_path / "w.txt"))


def test_subclassed_models_are_refused_in_h5(tmp_path):
    class Net(models.Model):
        def __init__(self):
            super().__init__()
            self.d = layers.Dense(2)

        def call(self, x):
            return self.d(x)

    net = Net()
    net(np.ones((1, 3), "float32"))
    with pytest.raises(NotImplementedError, match="m.h5: saving the model to HDF5.*Net"):
        net.save(str(tmp_path / "m.h5"))


def test_load_weights_errors(tmp_path):
    model = _model()
    with pytest.raises(FileNotFoundError, match=r"none.h5.*cannot load the weights"):
        model.load_weights(str(tmp_path / "none.h5"))
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f.create_group("x")
    with pytest.raises(ValueError, match=r"other.h5: no Keras weights found in the HDF5 file"):
        model.load_weights(str(tmp_path / "other.h5"))
    path = str(tmp_path / "w.weights.h5")
    model.save_weights(path)
    with pytest.raises(ValueError, match=r"w.weights.h5: by_name=True works only with the legacy"):
        model.load_weights(path, by_name=True)
    (tmp_path / "bad.keras").write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    with pytest.raises(ValueError, match="bad.keras"):
        model.load_weights(str(tmp_path / "bad.keras"))


def test_full_model_h5_and_keras_archive_give_their_weights(tmp_path):
    src = _model(seed=1)
    for name in ("m.h5", "m.keras"):
        path = str(tmp_path / name)
        src.save(path)
        dst = _model(seed=2)
        dst.load_weights(path)
        for a, b in zip(src.get_weights(), dst.get_weights()):
            np.testing.assert_array_equal(a, b)


def test_to_json_flavours_and_model_from_config():
    model = _model()
    hybrid = json.loads(model.to_json())
    assert hybrid["module"] == "keras.src.models.functional" and "keras_version" not in hybrid
    assert hybrid["registered_name"] == "Functional"
    legacy = json.loads(model.to_json(flavor="tf_keras"))
    assert legacy["keras_version"] == "2.15.0" and legacy["backend"] == "tensorflow"
    assert set(legacy) == {"class_name", "config", "keras_version", "backend"}
    assert json.loads(model.to_json(flavor="legacy")) == legacy
    assert model.to_json(indent=2).startswith('{\n  "')
    with pytest.raises(ValueError, match="flavor must be 'hybrid' or 'tf_keras', received 'x'"):
        model.to_json(flavor="x")
    rebuilt = gpuk.models.model_from_config(legacy)
    assert [la.name for la in rebuilt.layers] == [la.name for la in model.layers]
    seq = models.Sequential([layers.Input((3,)), layers.Dense(2, name="sd")])
    assert json.loads(seq.to_json())["module"] == "keras.src.models.sequential"
    again = gpuk.models.model_from_json(json.dumps({**hybrid, "keras_version": 3}))
    assert again.get_layer("d").units == 2


def test_clone_model_refuses_unsupported_options():
    model = _model()
    for kwargs in ({"input_tensors": [1]}, {"clone_function": lambda la: la}, {"call_function": 1}):
        with pytest.raises(ValueError, match="clone_model: input_tensors, clone_function"):
            gpuk.models.clone_model(model, **kwargs)
    clone = gpuk.models.clone_model(model)
    assert type(clone) is type(model) and clone is not model


def test_asset_only_savers_and_loaders_are_visited(tmp_path):
    class Saver(layers.Layer):
        def call(self, x):
            return x

        def save_assets(self, folder):
            with open(os.path.join(folder, "vocab.txt"), "w") as f:
                f.write("a\nb")

    inputs = layers.Input((3,))
    model = models.Model(inputs, Saver(name="saver")(inputs))
    path = str(tmp_path / "m.keras")
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        assert [n for n in archive.namelist() if n.startswith("assets/")] == [
            "assets/layers/saver/vocab.txt"
        ]


def test_module_level_functions_default_like_keras(tmp_path):
    model = _model(seed=3)
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.ones((4, 3)), np.ones((4, 2)), verbose=0)
    for name in ("m.keras", "m.h5"):
        path = str(tmp_path / name)
        gpuk.saving.save_model(model, path)
        gpuk.saving.save_model(model, path)  # overwrite=True by default
        loaded = gpuk.saving.load_model(path)  # compile=True by default
        assert int(np.asarray(loaded.optimizer.iterations)) == 1  # include_optimizer=True
        assert gpuk.saving.load_model(path, compile=False).optimizer is None
    path = str(tmp_path / "w.h5")
    gpuk.saving.save_weights(model, path)
    gpuk.saving.save_weights(model, path)
    inputs = layers.Input((3,))
    other = models.Model(inputs, layers.Dense(5, name="d")(inputs))
    with pytest.raises(ValueError, match="shape mismatch"):  # skip_mismatch=False by default
        gpuk.saving.load_weights(other, path)
    renamed = _model(seed=4)
    renamed.get_layer("d").name = "zz"  # by_name=False by default: paired by position
    gpuk.saving.load_weights(renamed, path)
    np.testing.assert_array_equal(renamed.get_weights()[0], model.get_weights()[0])


def test_files_carry_keras_stamps(tmp_path):
    model = _model()
    path = str(tmp_path / "m.h5")
    model.save(path)
    with h5py.File(path, "r") as f:
        assert f.attrs["keras_version"] in (b"2.15.0", "2.15.0")
        assert f.attrs["backend"] in (b"tensorflow", "tensorflow")
        gpuk_version = f.attrs["gpuk_version"]
        gpuk_version = gpuk_version.decode() if isinstance(gpuk_version, bytes) else gpuk_version
        assert gpuk_version == gpuk.__version__
        assert json.loads(f.attrs["model_config"])["class_name"] == "Functional"
        assert "training_config" not in f.attrs  # not compiled
    path = str(tmp_path / "m.keras")
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        metadata = json.loads(archive.read("metadata.json"))
        config = json.loads(archive.read("config.json"))
    assert metadata["keras_version"] == "3.15.1" and metadata["gpuk_version"] == gpuk.__version__
    assert len(metadata["date_saved"]) == len("2026-11-28@11:44:02")
    assert config["build_config"] == {"input_shape": None}  # as Keras writes for functional
    assert "compile_config" not in config
    seq = models.Sequential([layers.Dense(2, name="sd")])
    seq.build((None, 4))
    seq.save(str(tmp_path / "s.keras"))
    with zipfile.ZipFile(str(tmp_path / "s.keras")) as archive:
        assert json.loads(archive.read("config.json"))["build_config"]["input_shape"] == [None, 4]
    assert gpuk.models.load_model(str(tmp_path / "s.keras")).get_layer("sd").kernel.shape == (4, 2)


def test_include_optimizer_false_and_unbuilt_optimizers(tmp_path):
    model = _model()
    model.compile(optimizer="adam", loss="mse")
    path = str(tmp_path / "fresh.h5")
    model.save(path)
    with h5py.File(path, "r") as f:
        assert "training_config" in f.attrs
        assert "gpuk_optimizer_weights" not in f  # an unbuilt optimizer has no state to keep
    model.fit(np.ones((4, 3)), np.ones((4, 2)), verbose=0)
    for name in ("no_opt.h5", "no_opt.keras"):
        path = str(tmp_path / name)
        model.save(path, include_optimizer=False)
        loaded = gpuk.models.load_model(path)
        assert loaded.optimizer is None
    with zipfile.ZipFile(str(tmp_path / "no_opt.keras")) as archive:
        assert "compile_config" not in json.loads(archive.read("config.json"))
        weights = archive.read("model.weights.h5")
    with h5py.File(io.BytesIO(weights), "r") as f:
        assert "optimizer" not in f


def test_uncompiled_archives_load_without_warnings(tmp_path):
    import warnings

    path = str(tmp_path / "m.keras")
    _model().save(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert gpuk.models.load_model(path).optimizer is None


def test_hard_sigmoid_json_flavours_keep_their_formula():
    inputs = layers.Input((1,))
    model = models.Model(
        inputs, layers.Dense(1, activation="hard_sigmoid", kernel_initializer="ones")(inputs)
    )
    x = np.array([[1.0]], "float32")
    keras3 = gpuk.models.model_from_json(model.to_json())  # Keras 3 JSON: x/6 + 0.5
    np.testing.assert_allclose(keras3.predict(x, verbose=0), [[1 / 6 + 0.5]], rtol=1e-6)
    tf_keras = gpuk.models.model_from_json(model.to_json(flavor="tf_keras"))  # 0.2x + 0.5
    np.testing.assert_allclose(tf_keras.predict(x, verbose=0), [[0.7]], rtol=1e-6)


def test_unbuilt_sequential_is_built_before_saving(tmp_path):
    seq = models.Sequential([layers.Input((3,)), layers.Dense(2, name="sd")])
    path = str(tmp_path / "w.h5")
    seq.save_weights(path)
    with h5py.File(path, "r") as f:
        assert "sd" in f and len(f["sd"].attrs["weight_names"]) == 2


def test_assets_are_loaded_back_from_the_layer_folder_only(tmp_path):
    class Vocab(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.loaded = None

        def call(self, x):
            return x

        def save_assets(self, folder):
            with open(os.path.join(folder, "vocab.txt"), "w") as f:
                f.write("a\nb")

        def load_assets(self, folder):
            self.loaded = sorted(os.listdir(folder))
            with open(os.path.join(folder, "vocab.txt")) as f:
                self.text = f.read()

    inputs = layers.Input((3,))
    model = models.Model(inputs, Vocab(name="voc")(inputs))
    path = str(tmp_path / "m.keras")
    model.save(path)
    extra = {
        "assets/layers/vocab/sub/x.txt": b"nested",
        "assets/layers/vocab/": b"",
        "assets/layers/other/y.txt": b"other layer",
    }
    _rewrite_archive(path, str(tmp_path / "m2.keras"), (), extra)
    loaded = gpuk.models.load_model(str(tmp_path / "m2.keras"), custom_objects={"Vocab": Vocab})
    layer = loaded.get_layer("voc")
    assert layer.loaded == ["vocab.txt"] and layer.text == "a\nb"


def test_enable_unsafe_deserialization_lifts_safe_mode(tmp_path, monkeypatch):
    from gpuk import _config

    inputs = layers.Input((3,))
    model = models.Model(inputs, layers.Lambda(lambda t: t * 3, name="triple")(inputs))
    path = str(tmp_path / "lambda.h5")
    model.save(path)
    with pytest.raises(ValueError, match="safe_mode"):
        gpuk.models.load_model(path)
    monkeypatch.setitem(_config._state, "unsafe_deserialization", False)
    gpuk.config.enable_unsafe_deserialization()
    loaded = gpuk.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(np.ones((1, 3), "float32"), verbose=0), 3.0)


def test_weights_cap_counts_every_vars_group():
    from gpuk.saving import file_safety

    model = _model()
    # one vars group per layer plus the model's own (Keras 3's layout)
    expected = file_safety.weights_member_cap(3 * 2 + 2, 2, len(model.layers) + 1)
    assert saving_api._weights_cap(model) == expected
