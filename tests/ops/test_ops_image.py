"""keras.ops.image behaviour the Keras value table cannot pin: the random elastic warp, and
argument errors."""

import numpy as np
import pytest

from gpuk import ops


def test_elastic_transform_is_seeded_and_shape_preserving(xp):
    images = xp.asarray(np.random.default_rng(0).uniform(size=(2, 8, 9, 3)).astype("float32"))
    a = ops.image.elastic_transform(images, seed=3)
    assert a.shape == (2, 8, 9, 3) and a.dtype == "float32"
    np.testing.assert_array_equal(a.numpy(), ops.image.elastic_transform(images, seed=3).numpy())
    assert not np.array_equal(a.numpy(), ops.image.elastic_transform(images, seed=4).numpy())
    still = ops.image.elastic_transform(images, alpha=0.0, seed=3)
    np.testing.assert_allclose(still.numpy(), images.get() if hasattr(images, "get") else images)
    cf = ops.image.elastic_transform(np.ones((3, 8, 9)), data_format="channels_first", seed=1)
    assert cf.shape == (3, 8, 9)


def test_image_argument_errors():
    x = np.zeros((1, 4, 4, 3), "float32")
    with pytest.raises(ValueError, match="interpolation"):
        ops.image.resize(x, (2, 2), interpolation="cubic")
    with pytest.raises(ValueError, match="two of"):
        ops.image.pad_images(x, 1, 1, 1, 1, target_height=6, target_width=6)
    with pytest.raises(ValueError, match="rank"):
        ops.image.rgb_to_grayscale(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="data_format"):
        ops.image.resize(x, (2, 2), data_format="nhwc")
    with pytest.raises(ValueError, match="order"):
        ops.image.map_coordinates(np.zeros((3, 3)), np.zeros((2, 4)), 3)
    with pytest.raises(ValueError, match="fill_mode"):
        ops.image.map_coordinates(np.zeros((3, 3)), np.zeros((2, 4)), 1, fill_mode="edge")
    with pytest.raises(ValueError, match="transform"):
        ops.image.affine_transform(x, np.zeros(6))
