"""Legacy ``.h5`` weights paired by position, the layer-count check, and optimizer counters."""

import numpy as np
import pytest

import gpuk
from gpuk import layers, models
from tests.saving.named_mlp import named_mlp


def _mlp(names, units=(4, 3, 2), seed=0):
    return named_mlp(names, units, inputs=5, seed=seed)


def test_legacy_weights_load_by_position_when_names_differ(tmp_path):
    src = _mlp(["a1", "a2", "a3"], seed=1)
    path = str(tmp_path / "w.h5")
    src.save_weights(path)
    dst = _mlp(["other_x", "other_y", "other_z"], seed=2)
    dst.load_weights(path)
    for a, b in zip(src.get_weights(), dst.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("names", [["p", "q"], ["p", "q", "r", "s"]])
def test_legacy_weights_layer_count_mismatch_raises(tmp_path, names):
    src = _mlp(["a1", "a2", "a3"], seed=1)
    path = str(tmp_path / "w.h5")
    src.save_weights(path)
    dst = _mlp(names, units=(4, 3, 2, 2), seed=2)
    before = dst.get_weights()
    with pytest.raises(ValueError, match="(?i)layer count"):
        dst.load_weights(path)
    for a, b in zip(before, dst.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_legacy_weights_by_name_loads_only_matching_layers(tmp_path):
    src = _mlp(["a1", "a2", "a3"], seed=1)
    path = str(tmp_path / "w.h5")
    src.save_weights(path)
    dst = _mlp(["a1", "zz", "a3"], seed=2)
    kept = dst.get_layer("zz").get_weights()
    dst.load_weights(path, by_name=True)
    np.testing.assert_array_equal(dst.get_layer("a1").get_weights()[0], src.get_weights()[0])
    np.testing.assert_array_equal(dst.get_layer("a3").get_weights()[1], src.get_weights()[5])
    np.testing.assert_array_equal(dst.get_layer("zz").get_weights()[0], kept[0])


@pytest.mark.parametrize("ext", [".h5", ".keras"])
@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_trained_sgd_reloads_with_its_iterations(tmp_path, ext, momentum):
    model = _mlp(["d1", "d2"], units=(3, 1))
    model.compile(optimizer=gpuk.optimizers.SGD(0.01, momentum=momentum), loss="mse")
    x = np.random.default_rng(0).normal(size=(12, 5)).astype("float32")
    model.fit(x, x[:, :1], batch_size=4, epochs=1, verbose=0)
    assert int(np.asarray(model.optimizer.iterations)) == 3
    path = str(tmp_path / f"m{ext}")
    model.save(path)
    loaded = gpuk.models.load_model(path)
    assert int(np.asarray(loaded.optimizer.iterations)) == 3
    for a, b in zip(model.optimizer.variables[2:], loaded.optimizer.variables[2:]):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b))


def test_long_layer_name_lists_are_chunked_like_keras(tmp_path):
    # HDF5 attributes are limited to 64 KiB: Keras splits `layer_names` into layer_names0, 1...
    import h5py

    names = [f"{i:03d}_" + "n" * 300 for i in range(225)]
    inputs = layers.Input((1,))
    x = inputs
    for name in names:
        x = layers.Dense(1, name=name)(x)
    src = models.Model(inputs, x)
    src.set_weights([np.full(w.shape, i, "float32") for i, w in enumerate(src.get_weights())])
    path = str(tmp_path / "w.h5")
    src.save_weights(path)
    with h5py.File(path, "r") as f:
        attrs = f.attrs if "layer_names0" in f.attrs else f["model_weights"].attrs
        assert "layer_names" not in attrs and "layer_names1" in attrs
    dst = models.Model.from_config(src.get_config())
    dst.load_weights(path)
    for a, b in zip(src.get_weights(), dst.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_missing_listed_layer_group_is_an_error(tmp_path):
    import h5py

    src = _mlp(["a1", "a2", "a3"], seed=1)
    path = str(tmp_path / "w.h5")
    src.save_weights(path)
    with h5py.File(path, "r+") as f:
        del f["a2"]
    with pytest.raises(ValueError, match="a2"):
        _mlp(["a1", "a2", "a3"]).load_weights(path)


@pytest.mark.parametrize("kind", ["shape", "weights"])
def test_legacy_weights_mismatch_raises_or_is_skipped(tmp_path, kind):
    src = _mlp(["a1", "a2", "a3"], seed=1)
    path = str(tmp_path / "w.h5")
    src.save_weights(path)
    inputs = layers.Input((5,))
    x = layers.Dense(4, name="b1")(inputs)
    if kind == "shape":  # the error names what differs
        x = layers.Dense(7, name="b2")(x)  # the file's second layer has 3 units
    else:
        x = layers.Dense(3, name="b2", use_bias=False)(x)  # one weight, the file has two
    x = layers.Dense(2, name="b3")(x)
    dst = models.Model(inputs, x)
    with pytest.raises(ValueError, match=kind):
        dst.load_weights(path)
    kept = [np.copy(w) for w in dst.get_layer("b2").get_weights()]
    with pytest.warns(UserWarning, match="(?i)skipping"):
        dst.load_weights(path, skip_mismatch=True)
    for a, b in zip(kept, dst.get_layer("b2").get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(src.get_layer("a1").get_weights(), dst.get_layer("b1").get_weights()):
        np.testing.assert_array_equal(a, b)


def test_untrained_adam_model_reloads_without_warnings(tmp_path):
    import warnings

    model = _mlp(["d1", "d2"], units=(3, 1))
    model.compile(optimizer=gpuk.optimizers.Adam(0.01), loss="mse")
    path = str(tmp_path / "m.h5")
    model.save(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = gpuk.models.load_model(path)
    assert int(np.asarray(loaded.optimizer.iterations)) == 0
    x = np.ones((4, 5), "float32")
    loaded.fit(x, x[:, :1], verbose=0)
    assert int(np.asarray(loaded.optimizer.iterations)) == 1
