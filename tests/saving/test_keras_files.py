"""Files written by real Keras 3, tf-keras 2 and (hand-built) Keras 2.1 load in gpuk
(docs/file-formats.md section 10; fixtures in tests/fixtures/keras, see its README)."""

import json
import os
import re
import shutil
import warnings

import h5py
import numpy as np
import pytest

import gpuk
from gpuk.models import load_model, model_from_json
from gpuk.saving.h5_format import read_str_list
from tests.saving.rnnoise_objects import CUSTOM, WeightClip, build_rnnoise

FIX = os.path.join(os.path.dirname(__file__), "..", "fixtures", "keras")
RNNOISE_ORDER = [
    "input_dense",
    "vad_gru",
    "noise_gru",
    "denoise_gru",
    "denoise_output",
    "vad_output",
]


def fixture(name):
    return os.path.join(FIX, name)


def reference(name):
    return np.load(fixture(name + ".npz"))


def inputs(npz, prefix="x"):
    xs = [npz[k] for k in sorted(npz) if k.startswith(prefix) and k[len(prefix) :].isdigit()]
    return xs if len(xs) > 1 else xs[0]


def targets(npz, prefix="y"):
    return [npz[k] for k in sorted(npz) if k.startswith(prefix) and k[len(prefix) :].isdigit()]


def assert_predicts(model, ref, atol=1e-5):
    preds = model.predict(inputs(ref), verbose=0)
    preds = preds if isinstance(preds, list) else [preds]
    expected = [ref[k] for k in sorted(ref) if k.startswith("pred_")]
    assert len(preds) == len(expected)
    for p, e in zip(preds, expected):
        np.testing.assert_allclose(np.asarray(p), e, atol=atol, rtol=0)


def quiet_load(path, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_model(path, **kwargs)


FULL_MODELS = [
    ("tfk_rnnoise_ra0.h5", "tfk_rnnoise_ra0"),  # case 1
    ("tfk_rnnoise_ra1.h5", "tfk_rnnoise_ra1"),  # case 1, bias (2, 3u)
    ("k3_rnnoise_ra1.h5", "k3_rnnoise_ra1"),  # case 2
    ("k21_rnnoise.h5", "tfk_rnnoise_ra0"),  # case 3
    ("k21_rnnoise_noreset.h5", "tfk_rnnoise_ra0"),  # case 4
    ("k3_rnnoise_ra1.keras", "k3_rnnoise_ra1"),  # case 15
    ("tfk_multi.h5", "tfk_multi"),
    ("k3_multi.h5", "k3_multi"),
    ("k3_multi.keras", "k3_multi"),
]


@pytest.mark.parametrize("filename,ref", FULL_MODELS)
def test_load_model_predicts_like_keras(filename, ref):
    model = quiet_load(fixture(filename), custom_objects=CUSTOM)
    assert_predicts(model, reference(ref))
    assert model.optimizer is not None  # compile state restored


@pytest.mark.parametrize("filename,ref", FULL_MODELS)
def test_compile_restores_evaluation(filename, ref):
    """Case 13: losses, loss weights and metrics restored; evaluate() equals Keras's."""
    model = quiet_load(fixture(filename), custom_objects=CUSTOM)
    npz = reference(ref)
    results = model.evaluate(inputs(npz), targets(npz), batch_size=4, verbose=0, return_dict=True)
    keras_results = dict(zip(npz["eval_names"].tolist(), npz["eval"].tolist()))
    assert "loss" in results
    np.testing.assert_allclose(results["loss"], keras_results["loss"], rtol=1e-5, atol=1e-6)
    for name, value in results.items():
        if name in keras_results:
            np.testing.assert_allclose(value, keras_results[name], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("filename", ["tfk_multi.h5", "k3_multi.h5", "k3_multi.keras"])
def test_optimizer_state_restored(filename):
    model = quiet_load(fixture(filename))
    flavor = filename.split("_")[0]
    with open(fixture(f"{flavor}_multi_optimizer.json")) as f:
        saved = json.load(f)
    optimizer = model.optimizer
    assert type(optimizer).__name__ == "Adam"
    np.testing.assert_allclose(float(optimizer.learning_rate.numpy()), saved["learning_rate"])
    assert int(np.asarray(optimizer.iterations.numpy())) == saved["iterations"]
    slots = optimizer.variables[2:]
    assert len(slots) == 16 and any(np.abs(s.numpy()).max() > 0 for s in slots)


def test_keras21_file_compiles_with_lr():
    """Case 3: fixed-length byte attributes, class Model, Adam lr/decay."""
    with h5py.File(fixture("k21_rnnoise.h5")) as f:
        assert isinstance(f.attrs["keras_version"], np.bytes_)
    model = quiet_load(fixture("k21_rnnoise.h5"), custom_objects=CUSTOM)
    assert type(model.optimizer).__name__ == "Adam"
    np.testing.assert_allclose(float(model.optimizer.learning_rate.numpy()), 0.001, rtol=1e-6)
    assert [la.name for la in model.layers][3] == "concatenate_1"


def test_pre_reset_after_file_infers_false():
    """Case 4: no reset_after key -> inferred from the (72,) bias."""
    model = quiet_load(fixture("k21_rnnoise_noreset.h5"), custom_objects=CUSTOM)
    gru = model.get_layer("vad_gru")
    assert gru.cell.reset_after is False
    assert gru.get_weights()[2].shape == (72,)


@pytest.mark.parametrize("filename", ["k3_rnnoise_ra1.h5", "k3_rnnoise_ra1.keras"])
@pytest.mark.parametrize("key", ["WeightClip", "rnnoise>WeightClip"])
def test_custom_object_by_class_or_registered_name(filename, key):
    """Case 2: Keras 3 writes registered_name rnnoise>WeightClip; either key works."""
    objects = dict(CUSTOM)
    del objects["WeightClip"]
    objects[key] = WeightClip
    model = quiet_load(fixture(filename), custom_objects=objects)
    constraint = model.get_layer("input_dense").kernel_constraint
    assert isinstance(constraint, WeightClip) and constraint.c == pytest.approx(0.499)


def test_dump_rnn_style_consumption():
    """Case 5: rnnoise's dump_rnn.py: constraints replaced by foo(c, name) -> None."""

    def foo(c, name):
        return None

    objects = {"msse": foo, "mean_squared_sqrt_error": foo, "my_crossentropy": foo}
    objects.update({"mycost": foo, "WeightClip": foo})
    model = quiet_load(fixture("tfk_rnnoise_ra0.h5"), custom_objects=objects)
    weighted = [layer for layer in model.layers if layer.get_weights()]
    assert [layer.name for layer in weighted] == RNNOISE_ORDER
    shapes = [[w.shape for w in layer.get_weights()] for layer in weighted]
    assert shapes[0] == [(42, 24), (24,)]
    assert shapes[1] == [(24, 72), (24, 72), (72,)]
    assert shapes[2] == [(90, 144), (48, 144), (144,)]
    assert shapes[3] == [(114, 288), (96, 288), (288,)]
    assert shapes[4] == [(96, 22), (22,)]
    assert shapes[5] == [(24, 1), (1,)]
    assert model.get_layer("input_dense").kernel_constraint is None
    names = [re.search(r"function (.*) at", str(la.activation)).group(1) for la in weighted]
    assert names == ["tanh", "tanh", "relu", "tanh", "sigmoid", "sigmoid"]


def test_layer_order_matches_keras():
    """Case 11: Keras's model.layers order, vad_output last, for every flavour."""
    for filename in ("tfk_rnnoise_ra0.h5", "k3_rnnoise_ra1.h5", "k3_rnnoise_ra1.keras"):
        model = quiet_load(fixture(filename), compile=False, custom_objects=CUSTOM)
        with h5py.File(fixture(filename.replace(".keras", ".h5"))) as f:
            names = read_str_list(f["model_weights"].attrs, "layer_names")
        assert [la.name for la in model.layers] == names
    built = build_rnnoise()
    got = [la.name for la in built.layers]
    assert got[-1] == "vad_output" and got[1:3] == ["input_dense", "vad_gru"]


@pytest.mark.parametrize("reset_after", [False, True])
def test_load_weights_legacy_and_full_files(reset_after):
    """Case 6: tf-keras save_weights file and a full-model file into a gpuk-built model."""
    model = build_rnnoise(reset_after)
    ref = reference(f"tfk_rnnoise_ra{int(reset_after)}")
    if not reset_after:
        model.load_weights(fixture("tfk_rnnoise_ra0_w.h5"))
        assert_predicts(model, ref)
    model = build_rnnoise(reset_after)
    model.load_weights(fixture(f"tfk_rnnoise_ra{int(reset_after)}.h5"))
    assert_predicts(model, ref)


def test_load_weights_by_name_other_creation_order():
    from gpuk import layers, models

    b = layers.Input((6,), name="in_b")
    a = layers.Input((8,), name="in_a")
    hb = layers.Dense(16, name="dense_b")(b)
    ha = layers.Dense(16, name="dense_a")(a)
    h = layers.Dropout(0.25, name="dropout")(layers.Activation("relu")(layers.add([ha, hb])))
    reg = layers.Dense(2, name="reg")(h)
    cls = layers.Dense(3, activation="softmax", name="cls")(h)
    model = models.Model([a, b], [cls, reg])
    model.load_weights(fixture("tfk_multi_w.h5"), by_name=True)
    assert_predicts(model, reference("tfk_multi"))


@pytest.mark.parametrize("reset_after", [False, True])
def test_load_w3_weights(reset_after):
    """Case 7: Keras 3 .weights.h5 (class-name paths layers/gru_1/cell/vars/0)."""
    model = build_rnnoise(reset_after)
    if reset_after:
        model.load_weights(fixture("k3_rnnoise_ra1.keras"))
    else:
        model.load_weights(fixture("k3_rnnoise_ra0.weights.h5"))
    assert_predicts(model, reference(f"k3_rnnoise_ra{int(reset_after)}"), atol=1e-6)


def test_tf_keras_w3_weights():
    model = quiet_load(fixture("tfk_multi.h5"), compile=False)
    for variable in model.weights:
        variable.assign(np.zeros(variable.shape, dtype=variable.dtype))
    model.load_weights(fixture("tfk_multi.weights.h5"))
    assert_predicts(model, reference("tfk_multi"))


def _structure(model):
    return [
        (type(la).__name__, la.name, [w.shape for w in la.get_weights()]) for la in model.layers
    ]


def test_model_from_json_every_flavour():
    """Case 10: Keras 3 to_json, tf-keras to_json, .keras config.json, .h5 model_config."""
    import zipfile

    texts = []
    for name in ("k3_rnnoise_ra1.json", "tfk_rnnoise_ra1.json"):
        with open(fixture(name)) as f:
            texts.append(f.read())
    with zipfile.ZipFile(fixture("k3_rnnoise_ra1.keras")) as z:
        texts.append(z.read("config.json").decode())
    with h5py.File(fixture("tfk_rnnoise_ra1.h5")) as f:
        texts.append(f.attrs["model_config"])
    structures = []
    for text in texts:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = model_from_json(text, custom_objects=CUSTOM)
        structures.append(_structure(model))
    assert all(s == structures[0] for s in structures)
    assert structures[0][-1][1] == "vad_output"


def test_reordered_layer_names_still_load(tmp_path):
    """Case 11: a file whose layer_names are not in Keras's order loads by name."""
    path = tmp_path / "reordered.h5"
    shutil.copy(fixture("tfk_rnnoise_ra0.h5"), path)
    with h5py.File(path, "r+") as f:
        names = read_str_list(f["model_weights"].attrs, "layer_names")
        f["model_weights"].attrs["layer_names"] = np.array([n.encode() for n in names[::-1]])
    assert_predicts(quiet_load(path, custom_objects=CUSTOM), reference("tfk_rnnoise_ra0"))


def test_encoding_variants(tmp_path):
    """Case 12: str/bytes/fixed attributes, empty float64 weight_names, chunked layer_names."""
    path = tmp_path / "encodings.h5"
    shutil.copy(fixture("tfk_multi_w.h5"), path)
    with h5py.File(path, "r+") as f:
        names = [n.decode() if isinstance(n, bytes) else n for n in f.attrs["layer_names"]]
        del f.attrs["layer_names"]
        f.attrs["layer_names0"] = np.array([n.encode() for n in names[:3]], dtype="S16")
        f.attrs["layer_names1"] = np.array(names[3:], dtype=h5py.string_dtype())
        f.attrs["keras_version"] = "2.21.0"
        f["dense_a"].attrs["weight_names"] = np.array(
            list(f["dense_a"].attrs["weight_names"]), dtype=h5py.string_dtype()
        )
        assert f["dropout"].attrs["weight_names"].dtype == np.float64
    model = quiet_load(fixture("tfk_multi.h5"), compile=False)
    for variable in model.weights:
        variable.assign(np.zeros(variable.shape, dtype=variable.dtype))
    model.load_weights(path)
    assert_predicts(model, reference("tfk_multi"))


def _numpy_gru(x, kernel, recurrent, bias, hard):
    units = recurrent.shape[0]
    h = np.zeros((x.shape[0], units))
    outputs = []
    for t in range(x.shape[1]):
        xz = x[:, t] @ kernel + bias
        hz = h @ recurrent[:, : 2 * units]
        z = hard(xz[:, :units] + hz[:, :units])
        r = hard(xz[:, units : 2 * units] + hz[:, units:])
        candidate = np.tanh(xz[:, 2 * units :] + (r * h) @ recurrent[:, 2 * units :])
        h = z * h + (1 - z) * candidate
        outputs.append(h)
    return np.stack(outputs, axis=1)


@pytest.mark.parametrize("version", ["2.1.6", "3.5.0"])
def test_hard_sigmoid_semantics_follow_keras_version(tmp_path, version):
    """Case 14: hard_sigmoid is 0.2x+0.5 in Keras 2 files and x/6+0.5 in Keras 3 files."""
    from gpuk import layers, models

    inp = layers.Input((None, 3), name="x")
    out = layers.GRU(4, reset_after=False, return_sequences=True, name="gru")(inp)
    model = models.Model(inp, out)
    path = tmp_path / "hs.h5"
    model.save(path)
    with h5py.File(path, "r+") as f:
        config = json.loads(f.attrs["model_config"])
        config["config"]["layers"][1]["config"]["recurrent_activation"] = "hard_sigmoid"
        f.attrs["model_config"] = json.dumps(config).encode()
        f.attrs["keras_version"] = version.encode()
    loaded = load_model(path)
    x = np.random.default_rng(0).normal(size=(2, 5, 3)).astype("float32") * 3
    kernel, recurrent, bias = [w.astype(np.float64) for w in loaded.get_weights()]
    if version.startswith("2"):
        hard = lambda v: np.clip(0.2 * v + 0.5, 0, 1)  # noqa: E731
    else:
        hard = lambda v: np.clip(v / 6 + 0.5, 0, 1)  # noqa: E731
    expected = _numpy_gru(x.astype(np.float64), kernel, recurrent, bias, hard)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), expected, atol=1e-5)


def test_gpuk_module_exports():
    assert gpuk.models.load_model is gpuk.saving.load_model
    assert callable(gpuk.models.Model.save) and callable(gpuk.models.Model.to_json)
