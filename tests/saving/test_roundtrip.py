"""gpuk -> file -> gpuk round trips, resumed training, and safety / bad-input errors."""

import json
import os
import warnings
import zipfile

import h5py
import numpy as np
import pytest

from gpuk import layers, models
from gpuk.models import clone_model, load_model, model_from_json
from gpuk.saving.h5_format import decode, read_str_list
from tests.saving.rnnoise_objects import CUSTOM, build_rnnoise, msse, my_crossentropy, mycost


def build_multi():
    from gpuk import constraints, initializers, optimizers, regularizers

    a = layers.Input((8,), name="in_a")
    b = layers.Input((6,), name="in_b")
    ha = layers.Dense(
        16,
        name="dense_a",
        kernel_initializer=initializers.Orthogonal(seed=1),
        kernel_regularizer=regularizers.L1L2(l1=0.01, l2=0.001),
        kernel_constraint=constraints.MaxNorm(3.0),
    )(a)
    hb = layers.Dense(16, name="dense_b", bias_constraint=constraints.NonNeg())(b)
    h = layers.Activation("relu", name="relu")(layers.Add(name="add")([ha, hb]))
    cls = layers.Dense(3, activation="softmax", name="cls")(h)
    reg = layers.Dense(2, name="reg")(h)
    model = models.Model([a, b], [cls, reg], name="multi")
    model.compile(
        optimizer=optimizers.Adam(learning_rate=0.003),
        loss={"cls": "categorical_crossentropy", "reg": "mse"},
        loss_weights={"cls": 1.0, "reg": 0.5},
        metrics={"cls": ["accuracy"], "reg": ["mae"]},
    )
    return model


def multi_data(n=16, seed=0):
    rng = np.random.default_rng(seed)
    x = [rng.normal(size=(n, 8)).astype("float32"), rng.normal(size=(n, 6)).astype("float32")]
    y = [
        np.eye(3, dtype="float32")[rng.integers(0, 3, n)],
        rng.normal(size=(n, 2)).astype("float32"),
    ]
    return x, y


def predictions(model, x):
    out = model.predict(x, verbose=0)
    return [np.asarray(o) for o in (out if isinstance(out, list) else [out])]


def assert_same_predictions(a, b, x):
    for pa, pb in zip(predictions(a, x), predictions(b, x)):
        np.testing.assert_allclose(pa, pb, atol=1e-6, rtol=0)


@pytest.mark.parametrize("suffix", [".h5", ".keras", ".hdf5"])
def test_full_model_round_trip(tmp_path, suffix):
    model = build_multi()
    x, y = multi_data()
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False)
    path = tmp_path / f"m{suffix}"
    model.save(path)
    loaded = load_model(path)
    assert [la.name for la in loaded.layers] == [la.name for la in model.layers]
    assert_same_predictions(model, loaded, x)
    assert type(loaded.optimizer).__name__ == "Adam"
    np.testing.assert_allclose(float(loaded.optimizer.learning_rate.numpy()), 0.003, rtol=1e-6)
    for v1, v2 in zip(model.optimizer.variables, loaded.optimizer.variables):
        np.testing.assert_array_equal(v1.numpy(), v2.numpy())
    assert loaded.loss_weights == {"cls": 1.0, "reg": 0.5}


@pytest.mark.parametrize("suffix", [".h5", ".keras"])
def test_resumed_training_equals_uninterrupted(tmp_path, suffix):
    """Saved after one epoch and trained one more after loading == two epochs straight."""
    x, y = multi_data(seed=3)
    straight = build_multi()
    resumed = build_multi()
    resumed.set_weights(straight.get_weights())
    straight.fit(x, y, batch_size=4, epochs=2, verbose=0, shuffle=False)
    resumed.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False)
    path = tmp_path / f"epoch1{suffix}"
    resumed.save(path)
    reloaded = load_model(path)
    reloaded.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False)
    for w1, w2 in zip(straight.get_weights(), reloaded.get_weights()):
        np.testing.assert_allclose(w1, w2, atol=1e-6, rtol=0)


def test_rnnoise_round_trip_with_custom_objects(tmp_path):
    model = build_rnnoise(False)
    model.compile(
        loss=[mycost, my_crossentropy], metrics=[msse], optimizer="adam", loss_weights=[10, 0.5]
    )
    path = tmp_path / "rnnoise.h5"
    model.save(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loaded = load_model(path, custom_objects=CUSTOM)
    x = np.random.default_rng(1).uniform(-1, 1, (2, 5, 42)).astype("float32")
    assert_same_predictions(model, loaded, x)
    assert loaded.get_layer("vad_gru").cell.reset_after is False
    with h5py.File(path) as f:
        names = read_str_list(f["model_weights"].attrs, "layer_names")
        assert names[-1] == "vad_output"
        weight_names = read_str_list(f["model_weights/vad_gru"].attrs, "weight_names")
        assert weight_names == [
            "vad_gru/gru_cell/kernel:0",
            "vad_gru/gru_cell/recurrent_kernel:0",
            "vad_gru/gru_cell/bias:0",
        ]
        config = json.loads(f.attrs["model_config"])
        gru = [e for e in config["config"]["layers"] if e["name"] == "vad_gru"][0]["config"]
        assert "time_major" not in gru and gru["implementation"] == 2
        assert decode(f.attrs["keras_version"]).startswith("2.")


@pytest.mark.parametrize("suffix", [".weights.h5", "_w.h5"])
def test_weights_round_trip(tmp_path, suffix):
    model = build_multi()
    other = build_multi()
    path = tmp_path / f"w{suffix}"
    model.save_weights(path)
    other.load_weights(path)
    x, _ = multi_data()
    assert_same_predictions(model, other, x)
    with h5py.File(path) as f:
        if suffix == ".weights.h5":
            assert "layers/dense/vars/0" in f and "layers/input_layer_1/vars" in f
        else:
            assert "layer_names" in f.attrs


def test_save_weights_rejects_unknown_suffix(tmp_path):
    with pytest.raises(ValueError, match=r"\.weights\.h5"):
        build_multi().save_weights(tmp_path / "w.ckpt")


def test_json_round_trip_and_hybrid_envelope():
    model = build_multi()
    text = model.to_json()
    envelope = json.loads(text)
    assert envelope["module"] == "keras.src.models.functional"
    assert envelope["class_name"] == envelope["registered_name"] == "Functional"
    first = envelope["config"]["layers"][0]
    assert first["class_name"] == "InputLayer" and "batch_input_shape" in first["config"]
    rebuilt = model_from_json(text)
    assert [la.name for la in rebuilt.layers] == [la.name for la in model.layers]
    assert json.loads(model.to_json(flavor="tf_keras"))["class_name"] == "Functional"


def test_sequential_round_trip(tmp_path):
    model = models.Sequential(
        [layers.Input((4,)), layers.Dense(8, activation="relu"), layers.Dense(1)]
    )
    model.compile(optimizer="sgd", loss="mse")
    path = tmp_path / "seq.h5"
    model.save(path)
    loaded = load_model(path)
    assert type(loaded).__name__ == "Sequential"
    x = np.ones((2, 4), "float32")
    assert_same_predictions(model, loaded, x)
    rebuilt = model_from_json(model.to_json())
    assert [la.name for la in rebuilt.layers] == [la.name for la in model.layers]


def test_clone_model_fresh_weights_same_structure():
    model = build_multi()
    clone = clone_model(model)
    assert [la.name for la in clone.layers] == [la.name for la in model.layers]
    assert [w.shape for w in clone.get_weights()] == [w.shape for w in model.get_weights()]
    assert clone.get_layer("dense_a") is not model.get_layer("dense_a")


# ----------------------------------------------------------------------------- safety


def test_overwrite_false_refuses(tmp_path):
    path = tmp_path / "m.h5"
    model = build_multi()
    model.save(path)
    with pytest.raises(ValueError, match="overwrite"):
        model.save(path, overwrite=False)
    with pytest.raises(ValueError, match="overwrite"):
        model.save_weights(path, overwrite=False)


def test_failed_save_keeps_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "m.h5"
    model = build_multi()
    model.save(path)
    before = path.read_bytes()
    from gpuk.saving import h5_format

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(h5_format, "write_legacy_weights", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.h5"]


def test_truncated_and_non_model_files(tmp_path):
    good = tmp_path / "m.h5"
    build_multi().save(good)
    truncated = tmp_path / "truncated.h5"
    truncated.write_bytes(good.read_bytes()[:2000])
    with pytest.raises((ValueError, OSError), match="truncated"):
        load_model(truncated)
    text = tmp_path / "notes.h5"
    text.write_text("hello")
    with pytest.raises(ValueError, match="notes.h5"):
        load_model(text)
    weights_only = tmp_path / "w.weights.h5"
    build_multi().save_weights(weights_only)
    with pytest.raises(ValueError, match="only weights"):
        load_model(weights_only)
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "missing.h5")
    broken_zip = tmp_path / "b.keras"
    with zipfile.ZipFile(broken_zip, "w") as z:
        z.writestr("other.txt", "x")
    with pytest.raises(ValueError, match="config.json"):
        load_model(broken_zip)


def test_unknown_custom_object_names_file_and_object():
    path = os.path.join(os.path.dirname(__file__), "..", "fixtures", "keras", "tfk_rnnoise_ra0.h5")
    with pytest.raises(ValueError, match=r"tfk_rnnoise_ra0\.h5.*WeightClip"):
        load_model(path)


def test_missing_custom_loss_warns_and_returns_uncompiled_model():
    from tests.saving.rnnoise_objects import WeightClip

    path = os.path.join(os.path.dirname(__file__), "..", "fixtures", "keras", "tfk_rnnoise_ra0.h5")
    with pytest.warns(UserWarning, match="compile state"):
        model = load_model(path, custom_objects={"WeightClip": WeightClip})
    assert model.get_layer("vad_gru") is not None


def test_mismatched_weights_name_file_and_layer(tmp_path):
    path = tmp_path / "w.h5"
    build_multi().save_weights(path)
    a = layers.Input((8,), name="in_a")
    b = layers.Input((6,), name="in_b")
    h = layers.add([layers.Dense(16, name="dense_a")(a), layers.Dense(16, name="dense_b")(b)])
    wrong = models.Model([a, b], [layers.Dense(4, name="cls")(h), layers.Dense(2, name="reg")(h)])
    with pytest.raises(ValueError, match=r"w\.h5.*'cls'"):
        wrong.load_weights(path)
    with pytest.warns(UserWarning, match="Skipping"):
        wrong.load_weights(path, by_name=True, skip_mismatch=True)


def test_lambda_code_refused_in_safe_mode(tmp_path):
    inp = layers.Input((3,), name="x")
    out = layers.Lambda(lambda t: t * 2, name="double")(inp)
    model = models.Model(inp, out)
    path = tmp_path / "lambda.h5"
    model.save(path)
    with pytest.raises(ValueError, match="safe_mode"):
        load_model(path)
    loaded = load_model(path, safe_mode=False)
    np.testing.assert_allclose(loaded.predict(np.ones((1, 3), "float32"), verbose=0), 2.0)
