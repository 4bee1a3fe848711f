"""Edges of the HDF5 layouts (gpuk/saving/h5_format.py) that mutation testing showed untested:
attribute decoding, chunked lists, file-like sources, the CuDNNGRU conversion tf.keras does,
optimizer layouts (files tf-keras 2.21 and Keras 3.15 wrote, tests/fixtures/keras/saving_h5,
made by tools/make_keras_fixtures_saving_h5.py) and the ``.weights.h5`` walk."""

import io
import os

import h5py
import numpy as np
import pytest

from gpuk import layers, models
from gpuk.saving import h5_format
from tests.saving.named_mlp import fixture
from tests.saving.named_mlp import named_mlp as _mlp

# ----------------------------------------------------------------------------- attributes


@pytest.mark.parametrize(
    "value,expected",
    [
        (b"dense", "dense"),
        (np.bytes_(b"gru"), "gru"),
        ("x\u00e9", "x\u00e9"),
        (np.array(b"zero_d"), "zero_d"),
        (np.array("s"), "s"),
        (3, "3"),
        (2.5, "2.5"),
        (np.int32(7), "7"),
        (np.float64(1.5), "1.5"),
        ("caf\u00e9".encode(), "caf\u00e9"),
    ],
)
def test_decode_accepts_what_h5py_returns(value, expected):
    assert h5_format.decode(value) == expected


@pytest.mark.parametrize("value", [True, np.bool_(False), [1, 2], None, np.zeros(2)])
def test_decode_refuses_other_values(value):
    with pytest.raises(ValueError, match=f"expected a string, got {type(value).__name__}"):
        h5_format.decode(value)


def test_read_str_list_forms(tmp_path):
    with h5py.File(tmp_path / "a.h5", "w") as f:
        f.attrs["plain"] = np.array([b"a", b"b"])
        f.attrs["one"] = b"solo"
        f.attrs["empty"] = np.array([])
        f.attrs["chunk0"] = np.array([b"x", b"y"])
        f.attrs["chunk1"] = np.array([])
        f.attrs["chunk2"] = np.array([b"z"])
        f.attrs["matrix"] = np.array([[b"a", b"b"], [b"c", b"d"]])
        f.attrs["gap0"] = np.array([b"p"])
        f.attrs["gap2"] = np.array([b"q"])
    with h5py.File(tmp_path / "a.h5", "r") as f:
        assert h5_format.read_str_list(f.attrs, "plain") == ["a", "b"]
        assert h5_format.read_str_list(f.attrs, "one") == ["solo"]
        assert h5_format.read_str_list(f.attrs, "empty") == []
        assert h5_format.read_str_list(f.attrs, "chunk") == ["x", "y", "z"]
        assert h5_format.read_str_list(f.attrs, "gap") == ["p"]  # chunks stop at the first gap
        assert h5_format.read_str_list(f.attrs, "absent") is None
        with pytest.raises(ValueError, match="2-d array"):
            h5_format.read_str_list(f.attrs, "matrix", "m.h5")
        assert h5_format.has_list_attr(f.attrs, "plain")
        assert h5_format.has_list_attr(f.attrs, "chunk")
        assert not h5_format.has_list_attr(f.attrs, "absent")
        assert h5_format.read_str_attr(f.attrs, "one", "m.h5") == "solo"
        assert h5_format.read_str_attr(f.attrs, "absent", "m.h5", "dflt") == "dflt"
        assert h5_format.read_str_attr(f.attrs, "absent", "m.h5") is None


def test_write_str_list_like_keras(tmp_path):
    with h5py.File(tmp_path / "a.h5", "w") as f:
        h5_format.write_str_list(f, "empty", [])
        h5_format.write_str_list(f, "names", ["dense", "gru"])
        # just over the 64512-byte limit: two chunks, as Keras's np.array_split loop gives
        h5_format.write_str_list(f, "big", ["n" * 1000] * 65)
        # exactly at the limit: one attribute
        h5_format.write_str_list(f, "edge", ["m" * 1008] * 64)
    with h5py.File(tmp_path / "a.h5", "r") as f:
        assert f.attrs["empty"].dtype == np.float64 and f.attrs["empty"].shape == (0,)
        assert f.attrs["names"].tolist() == [b"dense", b"gru"]
        assert "big" not in f.attrs and "big2" not in f.attrs
        assert len(f.attrs["big0"]) == 33 and len(f.attrs["big1"]) == 32
        assert h5_format.read_str_list(f.attrs, "big") == ["n" * 1000] * 65
        assert "edge" in f.attrs and "edge0" not in f.attrs


# ----------------------------------------------------------------------------- opening files


def test_open_for_reading_a_file_object_keeps_its_position(tmp_path):
    path = str(tmp_path / "w.h5")
    _mlp().save_weights(path)
    with open(path, "rb") as f:
        buffer = io.BytesIO(f.read())
    buffer.seek(5)
    with h5_format.open_for_reading(buffer) as f:
        assert "layer_names" in f.attrs
    dst = _mlp(seed=3)
    buffer.seek(0)
    dst.load_weights(buffer)
    for a, b in zip(_mlp().get_weights(), dst.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_open_for_reading_reports_position_untouched(tmp_path):
    path = str(tmp_path / "w.h5")
    _mlp().save_weights(path)
    with open(path, "rb") as f:
        data = f.read()
    buffer = io.BytesIO(data)
    buffer.seek(0)
    h5_format._check_heaps(buffer, "buf")
    assert buffer.tell() == 0


def test_open_for_reading_missing_and_foreign_files(tmp_path):
    missing = str(tmp_path / "nope.h5")
    with pytest.raises(FileNotFoundError, match="nope.h5.*weights"):
        h5_format.open_for_reading(missing, "weights")
    other = tmp_path / "text.h5"
    other.write_text("not hdf5 at all")
    with pytest.raises(ValueError, match="text.h5.*not a readable HDF5 file"):
        h5_format.open_for_reading(str(other))
    empty = tmp_path / "empty.h5"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match="empty.h5.*not a readable HDF5 file"):
        h5_format.open_for_reading(str(empty))


def test_atomic_write_refuses_existing_file_without_overwrite(tmp_path):
    path = tmp_path / "sub" / "dir" / "out.bin"
    h5_format.atomic_write(str(path), False, lambda tmp: open(tmp, "wb").write(b"one"))
    assert path.read_bytes() == b"one"
    with pytest.raises(ValueError, match="out.bin.*already exists"):
        h5_format.atomic_write(str(path), False, lambda tmp: open(tmp, "wb").write(b"two"))
    assert path.read_bytes() == b"one"
    h5_format.atomic_write(str(path), True, lambda tmp: open(tmp, "wb").write(b"two"))
    assert path.read_bytes() == b"two"
    assert sorted(os.listdir(path.parent)) == ["out.bin"]  # no temporary left behind


# ----------------------------------------------------------------------------- legacy layers


def test_missing_layer_names_and_weights_are_named(tmp_path):
    path = str(tmp_path / "w.h5")
    _mlp().save_weights(path)
    with h5py.File(path, "r+") as f:
        del f["d2/d2/bias:0"]
    with pytest.raises(ValueError, match=r"weight 'd2/bias:0' of layer 'd2' is missing"):
        _mlp().load_weights(path)
    with h5py.File(tmp_path / "bare.h5", "w") as f:
        f.create_group("d1")
    with h5py.File(tmp_path / "bare.h5", "r") as f:
        with pytest.raises(ValueError, match="bare.h5: no 'layer_names' attribute"):
            h5_format.read_legacy_weights(f, "bare.h5")


def test_legacy_weight_names_are_unique_and_prefixed():
    class V:
        def __init__(self, path, shape=(1,)):
            self.path = path
            self.shape = shape

    class L:
        name = "lay"

        def __init__(self, variables):
            self.trainable_weights = variables
            self.non_trainable_weights = []

    layer = L([V("kernel"), V("lay/kernel"), V("lay/kernel"), V(None), V("x/y")])
    assert h5_format.legacy_weight_names(layer) == [
        "lay/kernel:0",
        "lay/kernel_1:0",
        "lay/kernel_2:0",
        "lay/param_3:0",
        "x/y:0",
    ]


def test_write_legacy_weights_layout(tmp_path):
    model = _mlp()
    path = str(tmp_path / "w.h5")
    model.save_weights(path)
    with h5py.File(path, "r") as f:
        assert h5_format.decode(f.attrs["backend"]) == "tensorflow"
        assert h5_format.decode(f.attrs["keras_version"]) == "2.15.0"
        first = model.layers[0].name
        assert h5_format.read_str_list(f.attrs, "layer_names") == [first, "d1", "d2"]
        assert h5_format.read_str_list(f["d1"].attrs, "weight_names") == [
            "d1/kernel:0",
            "d1/bias:0",
        ]
        assert h5_format.read_str_list(f[first].attrs, "weight_names") == []
        np.testing.assert_array_equal(f["d1"]["d1/kernel:0"][()], model.get_weights()[0])


def test_cudnngru_weights_load_into_gru_as_tf_keras_converts_them():
    """tf-keras's CuDNNGRU weights (flat (6u,) bias, cuDNN kernel order) loaded into a
    GRU(reset_after=True): the weights and the prediction equal tf-keras's own conversion."""
    ref = np.load(fixture("saving_h5", "tfk_cudnngru.npz"))
    inputs = layers.Input((5, 3))
    model = models.Model(inputs, layers.GRU(4, reset_after=True, name="gru")(inputs))
    model.load_weights(fixture("saving_h5", "tfk_cudnngru_w.h5"))
    kernel, recurrent, bias = model.get_weights()
    np.testing.assert_array_equal(kernel, ref["kernel"])
    np.testing.assert_array_equal(recurrent, ref["recurrent_kernel"])
    np.testing.assert_array_equal(bias, ref["bias"])
    np.testing.assert_allclose(model.predict(ref["x"], verbose=0), ref["pred"], atol=1e-5)


def test_cudnngru_flat_bias_does_not_fit_reset_after_false():
    inputs = layers.Input((5, 3))
    gru = layers.GRU(4, reset_after=False, name="gru")
    model = models.Model(inputs, gru(inputs))
    with pytest.raises(ValueError, match=r"'gru'.*\(12,\).*\(24,\)"):
        model.load_weights(fixture("saving_h5", "tfk_cudnngru_w.h5"))


def test_same_shape_weights_are_not_converted(tmp_path):
    inputs = layers.Input((5, 3))
    src = models.Model(inputs, layers.GRU(4, reset_after=True, name="g")(inputs))
    rng = np.random.default_rng(0)
    src.set_weights([rng.normal(size=w.shape).astype("float32") for w in src.get_weights()])
    path = str(tmp_path / "g.h5")
    src.save_weights(path)
    dst = models.Model.from_config(src.get_config())
    dst.load_weights(path)
    for a, b in zip(src.get_weights(), dst.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_mismatch_messages_name_file_layer_and_shapes(tmp_path):
    path = str(tmp_path / "w.h5")
    _mlp(("a", "b")).save_weights(path)
    inputs = layers.Input((4,))
    x = layers.Dense(3, name="a")(inputs)
    x = layers.Dense(5, name="b")(x)
    dst = models.Model(inputs, x)
    with pytest.raises(
        ValueError,
        match=r"w.h5: shape mismatch for weight 'b/kernel' of layer 'b': the model has "
        r"\(3, 5\), the saved layer 'b' has \(3, 2\) \(at /b/b/kernel:0\)",
    ):
        dst.load_weights(path)
    inputs = layers.Input((4,))
    x = layers.Dense(3, name="a")(inputs)
    x = layers.Dense(2, name="b", use_bias=False)(x)
    dst = models.Model(inputs, x)
    with pytest.raises(
        ValueError,
        match=r"w.h5: layer 'b' \(Dense\) expects 1 weights \[\(3, 2\)\], but the saved layer "
        r"'b' has 2 weights",
    ):
        dst.load_weights(path)


def test_by_name_with_skip_mismatch_keeps_the_mismatched_layer(tmp_path):
    src = _mlp(("a", "b"), seed=1)
    path = str(tmp_path / "w.h5")
    src.save_weights(path)
    inputs = layers.Input((4,))
    x = layers.Dense(3, name="a")(inputs)
    x = layers.Dense(6, name="b")(x)
    dst = models.Model(inputs, x)
    kept = [np.copy(w) for w in dst.get_layer("b").get_weights()]
    with pytest.warns(UserWarning, match="Skipping.*'b'"):
        dst.load_weights(path, by_name=True, skip_mismatch=True)
    np.testing.assert_array_equal(dst.get_layer("a").get_weights()[0], src.get_weights()[0])
    for a, b in zip(kept, dst.get_layer("b").get_weights()):
        np.testing.assert_array_equal(a, b)


def test_names_in_another_order_pair_by_name(tmp_path):
    # Same names, other layer order: paired by name, not by position.
    inputs = layers.Input((4,))
    a = layers.Dense(4, name="a")(inputs)
    b = layers.Dense(4, name="b")(a)
    src = models.Model(inputs, b)
    rng = np.random.default_rng(5)
    src.set_weights([rng.normal(size=w.shape).astype("float32") for w in src.get_weights()])
    path = str(tmp_path / "w.h5")
    src.save_weights(path)
    inputs = layers.Input((4,))
    b2 = layers.Dense(4, name="b")(inputs)
    a2 = layers.Dense(4, name="a")(b2)
    dst = models.Model(inputs, a2)
    dst.load_weights(path)
    for name in ("a", "b"):
        for x, y in zip(src.get_layer(name).get_weights(), dst.get_layer(name).get_weights()):
            np.testing.assert_array_equal(x, y)


def test_a_single_layer_loads_its_own_weights(tmp_path):
    layer = layers.Dense(2, name="solo")
    layer.build((None, 3))
    h5_format.assign_layer_weights(layer, [np.ones((3, 2)), np.full((2,), 2.0)], "f", "solo")
    np.testing.assert_array_equal(layer.get_weights()[1], [2.0, 2.0])
    assert layer.get_weights()[0].dtype == np.float32
