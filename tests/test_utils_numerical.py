import numpy as np
import pytest

from gpuk import utils


def test_to_categorical_like_keras():
    np.testing.assert_array_equal(utils.to_categorical([0, 2], 3), [[1, 0, 0], [0, 0, 1]])
    assert utils.to_categorical(np.array([[1], [0]])).shape == (2, 2)
    assert utils.to_categorical([1, 2]).dtype == np.float32
    with pytest.raises(ValueError, match="num_classes=2"):
        utils.to_categorical([3], 2)


def test_normalize_gives_unit_rows_and_keeps_zero_rows():
    out = utils.normalize(np.array([[3.0, 4.0], [0.0, 0.0]]))
    np.testing.assert_allclose(out, [[0.6, 0.8], [0.0, 0.0]])


def test_pad_sequences_defaults_pad_and_cut_in_front():
    seqs = [[1, 2, 3], [4], []]
    np.testing.assert_array_equal(utils.pad_sequences(seqs), [[1, 2, 3], [0, 0, 4], [0, 0, 0]])
    np.testing.assert_array_equal(
        utils.pad_sequences(seqs, maxlen=2, padding="post", truncating="post"),
        [[1, 2], [4, 0], [0, 0]],
    )
    np.testing.assert_array_equal(utils.pad_sequences([[1, 2, 3]], maxlen=2), [[2, 3]])
    with pytest.raises(ValueError, match="padding"):
        utils.pad_sequences(seqs, padding="middle")
