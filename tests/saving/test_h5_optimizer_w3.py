"""Optimizer state in the HDF5 layouts and the ``.weights.h5`` walk (gpuk/saving/h5_format.py):
layouts tf-keras 2.21 and Keras 3.15 wrote (tests/fixtures/keras/saving_h5, made by
tools/make_keras_fixtures_saving_h5.py), wrapped optimizers, own-state layers, and the edges
mutation testing showed untested (issue 18)."""

import io
import os
import warnings

import h5py
import numpy as np
import pytest

import gpuk
from gpuk import layers, models
from gpuk.saving import h5_format
from tests.saving.named_mlp import fixture
from tests.saving.named_mlp import named_mlp as _mlp

# ----------------------------------------------------------------------------- optimizer


def test_optimizer_weight_names_are_unique():
    class V:
        def __init__(self, path):
            self.path = path

    class Opt:
        name = "opt"
        variables = [V("opt/it"), V("opt/m"), V("opt/m"), V("opt/m"), V(None)]

    assert h5_format.optimizer_weight_names(Opt()) == [
        "opt/it",
        "opt/m",
        "opt/m_1",
        "opt/m_2",
        "opt/param_4",
    ]


def _quiet_load(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gpuk.models.load_model(path)


def test_tf_keras_new_optimizer_slots_are_restored_in_order():
    """tfk_multi.h5: tf-keras 2.21's ``[iteration, (m, v) per variable]``, no learning rate."""
    model = _quiet_load(fixture("tfk_multi.h5"))
    with h5py.File(fixture("tfk_multi.h5"), "r") as f:
        group = f["optimizer_weights"]
        saved = [group[n][()] for n in h5_format.read_str_list(group.attrs, "weight_names")]
    variables = model.optimizer.variables
    assert int(np.asarray(variables[0])) == int(saved[0]) == 2
    np.testing.assert_allclose(float(np.asarray(variables[1])), 0.003, rtol=1e-6)
    assert len(variables) == len(saved) + 1
    for variable, value in zip(variables[2:], saved[1:]):
        np.testing.assert_array_equal(np.asarray(variable), value)


def test_keras3_optimizer_slots_are_restored_in_order():
    model = _quiet_load(fixture("k3_multi.h5"))
    with h5py.File(fixture("k3_multi.h5"), "r") as f:
        group = f["optimizer_weights"]
        saved = [group[n][()] for n in h5_format.read_str_list(group.attrs, "weight_names")]
    variables = model.optimizer.variables
    assert len(variables) == len(saved)
    for variable, value in zip(variables, saved):
        np.testing.assert_array_equal(np.asarray(variable), value)


def test_keras3_sgd_counter_only_state_is_restored():
    """Keras 3 plain SGD has only ``[iteration, learning_rate]`` (scalars): the step count
    (3, after three batches in Keras) comes back."""
    model = _quiet_load(fixture("saving_h5", "k3_sgd.h5"))
    assert type(model.optimizer).__name__ == "SGD"
    assert int(np.asarray(model.optimizer.iterations)) == 3
    np.testing.assert_allclose(float(np.asarray(model.optimizer.learning_rate)), 0.05, rtol=1e-6)


def test_tf_keras_sgd_state_layout_that_does_not_match_warns():
    """tf-keras's SGD keeps momentum slots even with momentum=0; gpuk's has none, so the
    state does not line up: a warning naming the file and the optimizer, a fresh optimizer."""
    with pytest.warns(UserWarning, match=r"tfk_sgd.h5.*5 variables.*'SGD'.*freshly initialized"):
        model = gpuk.models.load_model(fixture("saving_h5", "tfk_sgd.h5"))
    assert int(np.asarray(model.optimizer.iterations)) == 0


class _Holder:
    def __init__(self, optimizer, trainable_variables=()):
        self.optimizer = optimizer
        self.trainable_variables = list(trainable_variables)


def test_restore_optimizer_without_optimizer_or_arrays():
    assert h5_format.restore_optimizer(_Holder(None), [np.zeros(())], "f") is False
    optimizer = gpuk.optimizers.Adam()
    assert h5_format.restore_optimizer(_Holder(optimizer), [], "f") is False


def test_restore_optimizer_counter_only():
    optimizer = gpuk.optimizers.SGD()
    holder = _Holder(optimizer)
    assert h5_format.restore_optimizer(holder, [np.array(7, "int64")], "f") is True
    assert int(np.asarray(optimizer.iterations)) == 7
    # three scalars are not the counter-only layout
    model = _mlp()
    model.compile(optimizer=gpuk.optimizers.SGD(), loss="mse")
    arrays = [np.array(4), np.array(0.1), np.array(0.2)]
    with pytest.warns(UserWarning, match="3 variables"):
        assert h5_format.restore_optimizer(model, arrays, "f") is False


def test_restore_optimizer_build_failure_warns():
    class Broken:
        name = "broken"
        variables = []

        def build(self, variables):
            raise RuntimeError("cannot build")

    with pytest.warns(UserWarning, match=r"f.h5: could not build the optimizer \(cannot build\)"):
        assert h5_format.restore_optimizer(_Holder(Broken()), [np.zeros((2, 2))], "f.h5") is False


def test_restore_optimizer_both_layouts():
    model = _mlp()
    model.compile(optimizer=gpuk.optimizers.Adam(0.01), loss="mse")
    model.optimizer.build(model.trainable_variables)
    shapes = [tuple(v.shape) for v in model.optimizer.variables]
    rng = np.random.default_rng(0)
    full = [np.asarray(rng.normal(size=s), "float32") for s in shapes]
    full[0] = np.array(5, "int64")
    assert h5_format.restore_optimizer(model, full, "f") is True
    for variable, value in zip(model.optimizer.variables, full):
        np.testing.assert_allclose(np.asarray(variable), value, rtol=1e-6)
    no_lr = [np.array(9, "int64")] + [v * 2 for v in full[2:]]
    assert h5_format.restore_optimizer(model, no_lr, "f") is True
    assert int(np.asarray(model.optimizer.variables[0])) == 9
    np.testing.assert_allclose(np.asarray(model.optimizer.variables[1]), full[1], rtol=1e-6)
    for variable, value in zip(model.optimizer.variables[2:], no_lr[1:]):
        np.testing.assert_allclose(np.asarray(variable), value, rtol=1e-6)
    with pytest.warns(UserWarning, match=r"f: .*\(2 variables\).*'adam(_\d+)?'.*\(10 variables\)"):
        assert h5_format.restore_optimizer(model, full[:1] + full[3:4], "f") is False


# ----------------------------------------------------------------------------- .weights.h5


def test_w3_keys_for_repeated_classes_and_nested_layers(tmp_path):
    inputs = layers.Input((4,))
    x = layers.Dense(3, name="first")(inputs)
    x = layers.Dense(3, name="second")(x)
    x = layers.Dense(2, name="third")(x)
    model = models.Model(inputs, x)
    path = str(tmp_path / "m.weights.h5")
    model.save_weights(path)
    with h5py.File(path, "r") as f:
        assert sorted(f["layers"].keys()) == ["dense", "dense_1", "dense_2", "input_layer"]
        np.testing.assert_array_equal(
            f["layers/dense_1/vars/0"][()], model.get_layer("second").get_weights()[0]
        )
        assert f["layers/dense_2/vars"].attrs["name"] == "third"
        assert h5_format.is_w3(f)
    with h5py.File(tmp_path / "legacy.h5", "w") as f:
        f.attrs["layer_names"] = np.array([b"x"])
        f.create_group("layers")
        assert not h5_format.is_w3(f)
    with h5py.File(tmp_path / "none.h5", "w") as f:
        f.create_group("other")
        assert not h5_format.is_w3(f)


def test_w3_mismatches_raise_or_skip(tmp_path):
    src = _mlp(("a", "b"), seed=2)
    path = str(tmp_path / "m.weights.h5")
    src.save_weights(path)
    inputs = layers.Input((4,))
    x = layers.Dense(3, name="a")(inputs)
    x = layers.Dense(7, name="b")(x)
    dst = models.Model(inputs, x)
    with pytest.raises(
        ValueError,
        match=r"m.weights.h5: shape mismatch for 'b/kernel' of 'b' at 'layers/dense_1/vars': "
        r"the model has \(3, 7\), the file has \(3, 2\) \(at /layers/dense_1/vars/0\)",
    ):
        dst.load_weights(path)
    kept = [np.copy(w) for w in dst.get_layer("b").get_weights()]
    with pytest.warns(UserWarning, match="Skipping.*shape mismatch"):
        dst.load_weights(path, skip_mismatch=True)
    for a, b in zip(kept, dst.get_layer("b").get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(dst.get_layer("a").get_weights()[0], src.get_weights()[0])

    inputs = layers.Input((4,))
    x = layers.Dense(3, name="a")(inputs)
    x = layers.Dense(2, name="b", use_bias=False)(x)
    dst = models.Model(inputs, x)
    with pytest.raises(
        ValueError, match=r"Dense 'b' expects 1 variables at 'layers/dense_1/vars', the file has 2"
    ):
        dst.load_weights(path)
    with pytest.warns(UserWarning, match="Skipping: .*Dense 'b' expects 1 variables"):
        dst.load_weights(path, skip_mismatch=True)
    np.testing.assert_array_equal(dst.get_layer("a").get_weights()[1], src.get_weights()[1])


def test_w3_missing_group_for_a_weightless_layer_is_fine(tmp_path):
    inputs = layers.Input((4,))
    x = layers.Dense(3, name="a")(inputs)
    x = layers.Activation("relu", name="act")(x)
    src = models.Model(inputs, x)
    path = str(tmp_path / "m.weights.h5")
    src.save_weights(path)
    with h5py.File(path, "r+") as f:
        del f["layers/activation"]
    dst = models.Model.from_config(src.get_config())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dst.load_weights(path)
    np.testing.assert_array_equal(dst.get_weights()[0], src.get_weights()[0])
    with h5py.File(path, "r+") as f:
        del f["layers/dense"]
    with pytest.raises(ValueError, match="Dense 'a' expects 2 variables at 'layers/dense/vars'"):
        dst.load_weights(path)


def test_w3_numbered_keys_sort_numerically_and_refuse_names(tmp_path):
    with h5py.File(tmp_path / "k.h5", "w") as f:
        g = f.create_group("vars")
        for k in ["10", "2", "0", "1"]:
            g.create_dataset(k, data=np.zeros(1))
        bad = f.create_group("bad")
        bad.create_dataset("0", data=np.zeros(1))
        bad.create_dataset("kernel", data=np.zeros(1))
        named = f.create_group("named")
        named.create_dataset("idf_weights", data=np.zeros(1))
        named.create_dataset("b", data=np.zeros(1))
        odd = f.create_group("odd")
        odd.create_dataset("a.b", data=np.zeros(1))
    with h5py.File(tmp_path / "k.h5", "r") as f:
        assert h5_format._numbered_keys(f["vars"], "k.h5") == ["0", "1", "2", "10"]
        with pytest.raises(ValueError, match=r"k.h5: /bad holds \['kernel'\]; expected variables"):
            h5_format._numbered_keys(f["bad"], "k.h5")
        assert h5_format._store_keys(f["named"], "k.h5") == ["b", "idf_weights"]
        with pytest.raises(ValueError, match=r"k.h5: /odd holds \['a.b'\]; expected variable"):
            h5_format._store_keys(f["odd"], "k.h5")


def test_w3_optimizer_state_round_trips_through_keras_archive(tmp_path):
    model = _mlp()
    model.compile(optimizer=gpuk.optimizers.Adam(0.01), loss="mse")
    x = np.random.default_rng(0).normal(size=(8, 4)).astype("float32")
    model.fit(x, x[:, :2], batch_size=4, epochs=1, verbose=0)
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = gpuk.models.load_model(path)
    assert int(np.asarray(loaded.optimizer.iterations)) == 2
    for a, b in zip(model.optimizer.variables, loaded.optimizer.variables):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    weights_path = str(tmp_path / "m.weights.h5")
    model.save_weights(weights_path)
    with h5py.File(weights_path, "r") as f:
        assert f["optimizer/vars"].attrs["name"] == model.optimizer.name
        assert sorted(f["optimizer/vars"].keys(), key=int) == [
            str(i) for i in range(len(model.optimizer.variables))
        ]
    # load_weights does not touch the optimizer (Keras 3 neither)
    fresh = _mlp(seed=4)
    fresh.compile(optimizer=gpuk.optimizers.Adam(0.01), loss="mse")
    fresh.load_weights(weights_path)
    assert int(np.asarray(fresh.optimizer.iterations)) == 0
    np.testing.assert_array_equal(fresh.get_weights()[0], model.get_weights()[0])


def test_full_model_file_with_a_wrong_weight_shape_raises(tmp_path):
    path = str(tmp_path / "m.h5")
    _mlp().save(path)
    with h5py.File(path, "r+") as f:
        group = f["model_weights/d2/d2"]
        del group["kernel:0"]
        group.create_dataset("kernel:0", data=np.zeros((3, 5), "float32"))
    with pytest.raises(ValueError, match=r"m.h5: shape mismatch for weight 'd2/kernel'"):
        gpuk.models.load_model(path)


def test_full_model_file_pairs_renamed_weight_groups_by_position(tmp_path):
    # Keras's load_model assigns the model_weights group by position, whatever its names.
    src = _mlp(seed=6)
    path = str(tmp_path / "m.h5")
    src.save(path)
    with h5py.File(path, "r+") as f:
        weights = f["model_weights"]
        names = h5_format.read_str_list(weights.attrs, "layer_names")
        for old in ("d1", "d2"):
            weights.move(old, "renamed_" + old)
        del weights.attrs["layer_names"]
        h5_format.write_str_list(
            weights, "layer_names", [n if n not in ("d1", "d2") else "renamed_" + n for n in names]
        )
    loaded = gpuk.models.load_model(path)
    for a, b in zip(src.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)


def _keys(path):
    out = {}

    def visit(name, obj):
        out[name] = getattr(obj, "shape", None)

    with h5py.File(path, "r") as f:
        f.visititems(visit)
    return out


def _two_layer_model():
    inputs = layers.Input((3,))
    x = layers.Dense(4, name="a")(inputs)
    model = models.Model(inputs, layers.Dense(2, name="b")(x))
    rng = np.random.default_rng(7)
    model.set_weights([rng.normal(size=w.shape).astype("float32") for w in model.get_weights()])
    return model


def _train_like_the_fixture(model, optimizer):
    model.compile(optimizer=optimizer, loss="mse")
    rng = np.random.default_rng(8)
    x = rng.normal(size=(8, 3)).astype("float32")
    y = rng.normal(size=(8, 2)).astype("float32")
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False)


@pytest.mark.parametrize("kind", ["multi_optimizer", "loss_scale"])
def test_wrapped_optimizer_state_is_written_like_keras(tmp_path, kind):
    """Keras 3 stores a MultiOptimizer's sub-optimizers under optimizer/optimizers/<key> and a
    LossScaleOptimizer's inner one under optimizer/inner_optimizer, each with a ``name``."""
    opts = gpuk.optimizers
    if kind == "multi_optimizer":
        mapping = opts.OptimizerMap(default_optimizer=opts.Adam(0.01))
        mapping["b/.*"] = opts.SGD(0.1, momentum=0.9)
        optimizer = opts.MultiOptimizer(mapping)
    else:
        optimizer = gpuk.mixed_precision.LossScaleOptimizer(opts.Adam(0.01))
    model = _two_layer_model()
    _train_like_the_fixture(model, optimizer)
    path = str(tmp_path / "m.weights.h5")
    model.save_weights(path)
    keras_path = fixture("saving_h5", f"k3_{kind}.weights.h5")
    assert _keys(path) == _keys(keras_path)
    with h5py.File(path, "r") as mine, h5py.File(keras_path, "r") as theirs:
        for name, shape in _keys(keras_path).items():
            if shape is None:
                continue
            np.testing.assert_allclose(mine[name][()], theirs[name][()], rtol=1e-5, atol=1e-6)
        if kind == "loss_scale":
            expected = {"optimizer/inner_optimizer": optimizer.inner_optimizer.name}
        else:
            expected = {
                f"optimizer/optimizers/{type(sub).__name__.lower()}": sub.name
                for sub in optimizer._inner_optimizers
            }
        for group, name in expected.items():
            assert h5_format.decode(mine[group + "/vars"].attrs["name"]) == name
        assert h5_format.decode(mine["optimizer/vars"].attrs["name"]) == optimizer.name


def test_load_weights_restores_a_built_optimizer_as_keras(tmp_path):
    # Keras 3: load_weights(.weights.h5 / .keras) sets the optimizer's variables when the
    # optimizer is built; an unbuilt one is left fresh.
    src = _two_layer_model()
    _train_like_the_fixture(src, gpuk.optimizers.Adam(0.01))
    for name in ("m.weights.h5", "m.keras"):
        path = str(tmp_path / name)
        src.save(path) if name.endswith(".keras") else src.save_weights(path)
        built = _two_layer_model()
        built.compile(optimizer=gpuk.optimizers.Adam(0.01), loss="mse")
        built.fit(np.ones((4, 3)), np.ones((4, 2)), verbose=0)
        built.load_weights(path)
        assert int(np.asarray(built.optimizer.iterations)) == 2
        for a, b in zip(src.optimizer.variables, built.optimizer.variables):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
        unbuilt = _two_layer_model()
        unbuilt.compile(optimizer=gpuk.optimizers.Adam(0.01), loss="mse")
        unbuilt.load_weights(path)
        assert int(np.asarray(unbuilt.optimizer.iterations)) == 0
        np.testing.assert_array_equal(unbuilt.get_weights()[0], src.get_weights()[0])


# ----------------------------------------------------------------------------- more edges


def test_warnings_point_at_the_callers_line(tmp_path):
    from gpuk.saving import file_safety
    from tests.saving.rnnoise_objects import WeightClip as Clip

    assert file_safety.user_stacklevel() == 1  # called from outside gpuk: this frame
    src = _mlp(("a", "b"), seed=1)
    legacy, w3 = str(tmp_path / "w.h5"), str(tmp_path / "w.weights.h5")
    src.save_weights(legacy)
    src.save_weights(w3)
    inputs = layers.Input((4,))
    x = layers.Dense(3, name="a")(inputs)
    dst = models.Model(inputs, layers.Dense(6, name="b")(x))
    for path in (legacy, w3):
        with pytest.warns(UserWarning, match="Skipping") as caught:
            dst.load_weights(path, skip_mismatch=True)
        assert {w.filename for w in caught} == {__file__}
    with pytest.warns(UserWarning, match="freshly initialized") as caught:
        gpuk.models.load_model(fixture("saving_h5", "tfk_sgd.h5"))
    assert caught[0].filename == __file__
    with pytest.warns(UserWarning, match="could not restore the compile state") as caught:
        # the custom losses are not given
        gpuk.models.load_model(fixture("k3_rnnoise_ra1.h5"), custom_objects={"WeightClip": Clip})
    mine = [w for w in caught if "compile state" in str(w.message)]
    assert len(mine) == 1 and mine[0].filename == __file__


def test_keras_archive_with_a_wrong_weight_shape_raises(tmp_path):
    import zipfile

    path = str(tmp_path / "m.keras")
    _mlp().save(path)
    with zipfile.ZipFile(path) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    buffer = io.BytesIO(members["model.weights.h5"])
    with h5py.File(buffer, "r+") as f:
        del f["layers/dense_1/vars/0"]
        f["layers/dense_1/vars"].create_dataset("0", data=np.zeros((3, 7), "float32"))
    members["model.weights.h5"] = buffer.getvalue()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(ValueError, match=r"m.keras.*shape mismatch for 'd2/kernel'"):
        gpuk.models.load_model(path)


def test_long_lists_of_bad_names_show_five(tmp_path):
    with h5py.File(tmp_path / "k.h5", "w") as f:
        g = f.create_group("g")
        for k in ["a", "b", "c", "d", "e", "f", "h"]:
            g.create_dataset(k, data=np.zeros(1))
        u = f.create_group("u")
        u.create_dataset("caf\u00e9", data=np.zeros(1))
        for k in ["x.1", "x.2", "x.3", "x.4", "x.5", "x.6"]:
            u.create_dataset(k, data=np.zeros(1))
    with h5py.File(tmp_path / "k.h5", "r") as f:
        with pytest.raises(ValueError, match=r"\['a', 'b', 'c', 'd', 'e'\]; expected variables"):
            h5_format._numbered_keys(f["g"], "k.h5")
        with pytest.raises(ValueError, match=r"holds \['caf\u00e9', 'x.1', 'x.2', 'x.3', 'x.4'\];"):
            h5_format._store_keys(f["u"], "k.h5")


def test_assign_layer_weights_raises_by_default():
    layer = layers.Dense(2, name="solo")
    layer.build((None, 3))
    with pytest.raises(ValueError, match="'solo'"):
        h5_format.assign_layer_weights(layer, [np.ones((3, 2))], "f", "solo")
    with pytest.raises(ValueError, match="'solo'"):
        h5_format.assign_layer_weights(layer, [np.ones((3, 3)), np.ones(2)], "f", "solo")


def test_decode_truncates_long_values_in_its_message():
    value = list(range(100))
    expected = str(value)[:60]
    with pytest.raises(ValueError) as info:
        h5_format.decode(value)
    assert str(info.value) == f"expected a string, got list {expected!r}"


def test_numeric_list_attributes_read_as_text(tmp_path):
    with h5py.File(tmp_path / "n.h5", "w") as f:
        f.attrs["nums"] = np.array([1.5, 2.0])
        f.attrs["one"] = np.array([7.0])
    with h5py.File(tmp_path / "n.h5", "r") as f:
        assert h5_format.read_str_list(f.attrs, "nums") == ["1.5", "2.0"]
        assert h5_format.read_str_list(f.attrs, "one") == ["7.0"]


def test_layer_weight_variables_are_unique_and_ordered():
    class L:
        def __init__(self, trainable, non_trainable):
            self.trainable_weights = trainable
            self.non_trainable_weights = non_trainable

    a, b, c = object(), object(), object()
    assert h5_format.layer_weight_variables(L([a, b], [a, c])) == [a, b, c]
    assert h5_format.layer_weight_variables(L([b], [c, c])) == [b, c]


def test_ordinary_mode_follows_the_umask_and_restores_it(tmp_path):
    old = os.umask(0o002)
    try:
        assert h5_format._ordinary_mode(str(tmp_path / "new")) == 0o664
        assert os.umask(0o002) == 0o002  # left as it was
        existing = tmp_path / "old"
        existing.write_bytes(b"")
        os.chmod(existing, 0o640)
        assert h5_format._ordinary_mode(str(existing)) == 0o640
    finally:
        os.umask(old)


def test_atomic_write_failure_cleans_up_and_keeps_the_old_file(tmp_path):
    path = tmp_path / "out.bin"
    path.write_bytes(b"old")

    def broken(tmp):
        with open(tmp, "wb") as f:
            f.write(b"partial")
        raise RuntimeError("disk full")

    fds = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None
    with pytest.raises(RuntimeError, match="disk full"):
        h5_format.atomic_write(str(path), True, broken)
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["out.bin"]
    for _ in range(3):
        h5_format.atomic_write(str(path), True, lambda tmp: None)
    if fds is not None:
        assert len(os.listdir("/proc/self/fd")) == fds  # no descriptor left open


def test_layers_held_in_lists_are_saved_like_keras(tmp_path):
    class Block(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.parts = [layers.Dense(3), layers.Dense(3)]
            self.sizes = [3, 3]
            self.empty = []

        def call(self, x):
            for part in self.parts:
                x = part(x)
            return x

    inputs = layers.Input((3,))
    model = models.Model(inputs, Block(name="blk")(inputs))
    path = str(tmp_path / "m.weights.h5")
    model.save_weights(path)
    keys = _keys(path)
    assert "layers/block/parts/dense/vars/0" in keys
    assert "layers/block/parts/dense_1/vars/1" in keys
    assert not any("sizes" in k or "empty" in k for k in keys)
    other = models.Model(inputs, Block(name="blk2")(inputs))
    other.load_weights(path)
    for a, b in zip(model.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_str_list_chunking_at_the_hdf5_limit(tmp_path):
    with h5py.File(tmp_path / "a.h5", "w") as f:
        h5_format.write_str_list(f, "over", ["x"] * 64513)  # one byte over: two chunks
        h5_format.write_str_list(f, "at", ["x"] * 64512)
        with pytest.raises(RuntimeError, match="larger than 64512 bytes"):
            h5_format.write_str_list(f, "huge", ["ok", "y" * 64513])
        h5_format.write_str_list(f, "big_one", ["z" * 64512])
    with h5py.File(tmp_path / "a.h5", "r") as f:
        assert "over" not in f.attrs and len(f.attrs["over0"]) == 32257
        assert len(h5_format.read_str_list(f.attrs, "over")) == 64513
        assert len(f.attrs["at"]) == 64512
        assert "huge" not in f.attrs and "huge0" not in f.attrs
        assert h5_format.read_str_list(f.attrs, "big_one") == ["z" * 64512]


def test_too_many_chunks_are_refused(tmp_path, monkeypatch):
    assert h5_format._MAX_CHUNKS == 100_000
    monkeypatch.setattr(h5_format, "_MAX_CHUNKS", 3)
    with h5py.File(tmp_path / "c.h5", "w") as f:
        for i in range(4):
            f.attrs[f"names{i}"] = np.array([b"x"])
        for i in range(3):
            f.attrs[f"ok{i}"] = np.array([b"y"])
    with h5py.File(tmp_path / "c.h5", "r") as f:
        assert h5_format.read_str_list(f.attrs, "ok") == ["y"] * 3
        with pytest.raises(ValueError, match="c.h5: attribute 'names' is split in too many chunks"):
            h5_format.read_str_list(f.attrs, "names", "c.h5")


def test_w3_data_for_a_weightless_layer_is_a_mismatch(tmp_path):
    inputs = layers.Input((4,))
    model = models.Model(inputs, layers.Activation("relu", name="act")(inputs))
    path = str(tmp_path / "m.weights.h5")
    model.save_weights(path)
    with h5py.File(path, "r+") as f:
        f["layers/activation/vars"].create_dataset("0", data=np.zeros(3))
    with pytest.raises(ValueError, match="Activation 'act' expects 0 variables.*the file has 1"):
        model.load_weights(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing to skip: no warning
        model.load_weights(path, skip_mismatch=True)


def test_layers_with_their_own_state_round_trip(tmp_path):
    vectorize = layers.TextVectorization(output_mode="tf_idf", name="tv")
    vectorize.adapt(np.array(["a b b", "c a", "b d d d"]))
    inputs = layers.Input((), dtype="string")
    model = models.Model(inputs, vectorize(inputs))
    x = np.array(["a d", "b c b"])
    expected = np.asarray(model.predict(x, verbose=0))
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = gpuk.models.load_model(path)
    np.testing.assert_allclose(np.asarray(loaded.predict(x, verbose=0)), expected, rtol=1e-6)
    weights = str(tmp_path / "m.weights.h5")
    model.save_weights(weights)
    keys = _keys(weights)
    own = [k for k in keys if k.startswith("layers/text_vectorization/") and keys[k] is not None]
    assert own, sorted(keys)


def test_functional_subclasses_save_their_layers_like_functional(tmp_path):
    class Sub(models.Model):
        def __init__(self, **kwargs):
            inputs = layers.Input((3,))
            super().__init__(inputs, layers.Dense(2, name="inner")(inputs), **kwargs)

    model = Sub()
    path = str(tmp_path / "m.weights.h5")
    model.save_weights(path)
    keys = _keys(path)
    assert "layers/dense/vars/0" in keys and "layers/dense/vars/1" in keys
    np.testing.assert_array_equal(
        h5py.File(path, "r")["layers/dense/vars/0"][()], model.get_layer("inner").get_weights()[0]
    )
