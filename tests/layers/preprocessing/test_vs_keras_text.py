"""Lookup, encoding, hashing, numeric and text layers against Keras 3.15's own outputs.

Fixtures: tools/make_keras_fixtures_preprocessing.py (Keras with TensorFlow, which these Keras
layers need).
"""

import json
import os

import numpy as np
import pytest

import gpuk
from gpuk import layers as L

HERE = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "keras", "preprocessing")
DATA = np.load(os.path.join(HERE, "text.npz"), allow_pickle=False)
with open(os.path.join(HERE, "text_meta.json")) as _f:
    META = json.load(_f)

WORDS = np.array([["cat", "dog", "cat"], ["fish", "cat", "bird"], ["dog", "eel", "cat"]])
INTS = np.array([[12, 36, 1138, 42], [42, 1000, 36, 7]])
X = np.array([[0.1, 5.0, -2.0], [0.7, 3.0, 1.5], [0.2, 9.0, 0.0], [0.4, 1.0, 2.0]], "float32")
TEXTS = np.array(["The cat sat on the mat.", "the DOG ate the cat's hat!", "Hello, world"])
DISC = np.random.default_rng(0).normal(size=(500, 1)).astype("float32")

CASES = {
    "string_int": (lambda: L.StringLookup(), WORDS),
    "string_int_mask_oov2": (lambda: L.StringLookup(mask_token="", num_oov_indices=2), WORDS),
    "string_multi_hot": (lambda: L.StringLookup(output_mode="multi_hot"), WORDS),
    "string_count": (lambda: L.StringLookup(output_mode="count"), WORDS),
    "string_one_hot": (lambda: L.StringLookup(output_mode="one_hot"), WORDS),
    "string_tf_idf": (lambda: L.StringLookup(output_mode="tf_idf"), WORDS),
    "string_max_tokens": (lambda: L.StringLookup(max_tokens=3), WORDS),
    "string_vocab_invert": (
        lambda: L.StringLookup(vocabulary=["a", "b", "c"], invert=True),
        None,
    ),
    "integer_int": (lambda: L.IntegerLookup(), INTS),
    "integer_vocab_oov3": (
        lambda: L.IntegerLookup(vocabulary=[12, 36, 1138, 42], num_oov_indices=3),
        None,
    ),
    "integer_multi_hot_mask": (
        lambda: L.IntegerLookup(mask_token=0, output_mode="multi_hot"),
        INTS,
    ),
    "category_multi_hot": (lambda: L.CategoryEncoding(num_tokens=5), None),
    "category_one_hot": (lambda: L.CategoryEncoding(num_tokens=5, output_mode="one_hot"), None),
    "category_count": (lambda: L.CategoryEncoding(num_tokens=5, output_mode="count"), None),
    "hashing_str": (lambda: L.Hashing(num_bins=13), None),
    "hashing_salt": (lambda: L.Hashing(num_bins=13, salt=[7, 99]), None),
    "hashing_mask_int": (lambda: L.Hashing(num_bins=6, mask_value=0), None),
    "hashing_multi_hot": (lambda: L.Hashing(num_bins=6, output_mode="multi_hot"), None),
    "normalization": (lambda: L.Normalization(), X),
    "normalization_axis_none_invert": (lambda: L.Normalization(axis=None, invert=True), X),
    "normalization_given": (
        lambda: L.Normalization(mean=[1.0, 2.0, 3.0], variance=[4.0, 1.0, 0.25]),
        None,
    ),
    "discretization_adapt": (lambda: L.Discretization(num_bins=4), DISC),
    "discretization_bins_one_hot": (
        lambda: L.Discretization(bin_boundaries=[0.0, 1.0], output_mode="one_hot"),
        None,
    ),
    "text_int": (lambda: L.TextVectorization(output_sequence_length=7), TEXTS),
    "text_int_ragged_pad": (lambda: L.TextVectorization(), TEXTS),
    "text_bigram_multi_hot": (
        lambda: L.TextVectorization(ngrams=2, output_mode="multi_hot", max_tokens=12),
        TEXTS,
    ),
    "text_tf_idf": (lambda: L.TextVectorization(output_mode="tf_idf"), TEXTS),
    "text_count_char": (
        lambda: L.TextVectorization(split="character", output_mode="count", standardize="lower"),
        TEXTS,
    ),
    "text_vocab": (
        lambda: L.TextVectorization(vocabulary=["the", "cat"], output_sequence_length=4),
        None,
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_layer_matches_keras(name):
    make, adapt_data = CASES[name]
    layer = make()
    if adapt_data is not None:
        layer.adapt(adapt_data)
    x = DATA[f"{name}__x"]
    expected = DATA[f"{name}__y"]
    out = layer(x)
    got = out if isinstance(out, np.ndarray) else out.numpy()
    if expected.dtype.kind in "OSU":
        assert [str(v) for v in got.reshape(-1)] == [
            v.decode() if isinstance(v, bytes) else str(v) for v in expected.reshape(-1)
        ]
    else:
        assert got.shape == expected.shape
        np.testing.assert_allclose(got.astype(np.float64), expected, rtol=1e-5, atol=1e-6)
    vocab = META[name]["vocabulary"]
    if vocab is not None and hasattr(layer, "get_vocabulary"):
        assert layer.get_vocabulary() == vocab
    elif vocab is not None:
        np.testing.assert_allclose(layer.bin_boundaries, vocab, rtol=1e-6)
    if "vocabulary_size" in META[name]["config"] and hasattr(layer, "vocabulary_size"):
        assert layer.get_config()["vocabulary_size"] == META[name]["config"]["vocabulary_size"]


def test_hashed_crossing_matches_keras():
    layer = L.HashedCrossing(num_bins=11)
    out = layer((DATA["hashed_crossing__x0"], DATA["hashed_crossing__x1"]))
    np.testing.assert_array_equal(out.numpy(), DATA["hashed_crossing__y"])


def test_keras_saved_adapted_layers_load_and_predict(tmp_path):
    model = gpuk.saving.load_model(os.path.join(HERE, "adapted_layers.keras"))
    io = np.load(os.path.join(HERE, "adapted_layers_io.npz"))
    x = [io["x0"], io["x1"], io["x2"]]
    np.testing.assert_allclose(model(x).numpy(), io["y"], rtol=1e-5)
    assert model.get_layer("lookup").get_vocabulary() == ["[UNK]", "cat", "eel", "dog"]
    path = str(tmp_path / "again.keras")
    model.save(path)
    again = gpuk.saving.load_model(path)
    out = again(x)
    out = out[0] if isinstance(out, list) else out
    np.testing.assert_allclose(out.numpy(), io["y"], rtol=1e-5)
    np.testing.assert_allclose(again.predict(x, verbose=0), io["y"], rtol=1e-5)
