"""Warping image layers: RandomShear, RandomPerspective, RandomElasticTransform.

Resampling goes through :func:`gpuk.layers.preprocessing.image_base.affine_transform` (and
``map_coordinates`` for the elastic field) on the images' device.
"""

import numpy as np

from gpuk._array import get_array_module, ndimage
from gpuk.layers.preprocessing.image_base import affine_transform, to_channels_last
from gpuk.layers.preprocessing.image_geometry import _AffineLayer, _check_modes
from gpuk.layers.preprocessing.image_mix import _ChannelsLast, _range

__all__ = ["RandomElasticTransform", "RandomPerspective", "RandomShear"]


class RandomShear(_AffineLayer):
    """Shear by random factors: output ``(x, y)`` samples ``(x + s_x y, s_y x + y)``.

    Args:
        x_factor, y_factor: ``f`` in ``[0, 1]`` (shear in ``[-f, f]``) or a range; the sign is
            drawn at random as in Keras.
        interpolation, fill_mode, fill_value, data_format, seed: as :class:`RandomRotation`.
    """

    _USE_BASE_FACTOR = False

    def __init__(
        self,
        x_factor=0.0,
        y_factor=0.0,
        interpolation="bilinear",
        fill_mode="reflect",
        fill_value=0.0,
        data_format=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self._factor_args = (x_factor, y_factor)
        self.x_factor = _shear_range(x_factor)
        self.y_factor = _shear_range(y_factor)
        _check_modes(self, fill_mode, interpolation)
        self.fill_mode = fill_mode
        self.interpolation = interpolation
        self.fill_value = fill_value

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        n = data.shape[0]
        invert = np.where(self.rng.uniform(0, 1, (n, 1)) > 0.5, -1.0, 1.0)
        shear_y = self.rng.uniform(self.y_factor[0], self.y_factor[1], (n, 1))
        shear_x = self.rng.uniform(self.x_factor[0], self.x_factor[1], (n, 1))
        factor = np.concatenate([shear_x, shear_y], axis=1) * invert
        return {"shear_factor": factor.astype(self.compute_dtype)}

    def transform_images(self, images, transformation, training=True):
        if not training or transformation is None:
            return images
        shear = np.asarray(transformation["shear_factor"], np.float64)
        ones, zeros = np.ones(len(shear)), np.zeros(len(shear))
        # [[1, s_x, 0], [s_y, 1, 0]]: Keras shears about the origin, not the centre.
        matrix = np.stack([ones, shear[:, 0], zeros, shear[:, 1], ones, zeros, zeros, zeros], 1)
        return self._apply(images, matrix)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                # The arguments as given: Keras cannot re-read its own (-f, f) ranges.
                "x_factor": _config_factor(self._factor_args[0]),
                "y_factor": _config_factor(self._factor_args[1]),
                "fill_mode": self.fill_mode,
                "interpolation": self.interpolation,
                "seed": self.seed,
                "fill_value": self.fill_value,
                "data_format": self.data_format,
            }
        )
        return config


def _shear_range(factor):
    message = (
        "The `x_factor`/`y_factor` arguments should be a number (or a list of two numbers) in "
        f"the range [0, 1]. Received: {factor}"
    )
    if isinstance(factor, (tuple, list)):
        # Negative bounds are accepted (Keras writes (-f, f) into configs it then rejects).
        if len(factor) != 2 or any(abs(f) > 1.0 for f in factor):
            raise ValueError(message)
        return tuple(sorted(float(f) for f in factor))
    if not isinstance(factor, (int, float)) or factor > 1.0 or factor < 0.0:
        raise ValueError(message)
    return (-abs(float(factor)), abs(float(factor)))


def _config_factor(factor):
    if isinstance(factor, (tuple, list)):
        low, high = sorted(float(f) for f in factor)
        return abs(high) if low == -high else [low, high]
    return factor


def homography(start, end):
    """The 8 projective coefficients mapping each output point ``end`` to input ``start``."""
    rows, rhs = [], []
    for (xs, ys), (xe, ye) in zip(start, end):
        rows.append([xe, ye, 1, 0, 0, 0, -xs * xe, -xs * ye])
        rows.append([0, 0, 0, xe, ye, 1, -ys * xe, -ys * ye])
        rhs.extend([xs, ys])
    return np.linalg.solve(np.asarray(rows, np.float64), np.asarray(rhs, np.float64))


class RandomPerspective(_ChannelsLast):
    """Move the corners by up to ``scale / 2`` of the size and warp (probability ``factor``)."""

    _USE_BASE_FACTOR = False

    def __init__(
        self,
        factor=1.0,
        scale=1.0,
        interpolation="bilinear",
        fill_value=0.0,
        seed=None,
        data_format=None,
        **kwargs,
    ):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self.factor = _range(factor, (0, 1), "factor")
        self.scale = scale
        self.interpolation = interpolation
        self.fill_value = fill_value

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        x = to_channels_last(data, self.data_format)
        n, h, w = x.shape[:3]
        probability = self.rng.uniform(self.factor[0], self.factor[1], n)
        apply = self.rng.uniform(0, 1, n) < probability
        offsets = self.rng.uniform(-0.5 * self.scale, 0.5 * self.scale, (n, 4, 2))
        start = np.repeat(
            np.array([[[0.0, 0.0], [w - 1, 0.0], [0.0, h - 1], [w - 1, h - 1]]]), n, axis=0
        )
        return {
            "apply_perspective": apply,
            "start_points": start,
            "end_points": start + start * offsets,
        }

    def _apply(self, x, t):
        xp = get_array_module(x)
        start, end = np.asarray(t["start_points"]), np.asarray(t["end_points"])
        matrices = np.stack([homography(s, e) for s, e in zip(start, end)])
        warped = affine_transform(x, matrices, self.interpolation, "constant", self.fill_value)
        apply = xp.asarray(np.asarray(t["apply_perspective"]).reshape(-1, 1, 1, 1))
        return xp.where(apply, warped, x)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "factor": self.factor,
                "scale": self.scale,
                "interpolation": self.interpolation,
                "fill_value": self.fill_value,
                "seed": self.seed,
            }
        )
        return config


class RandomElasticTransform(_ChannelsLast):
    """Displace pixels by a smoothed random field (``scale`` of the size), probability ``factor``.

    The field is Gaussian noise blurred with sigma ``max(H, W) / 20`` (gpuk's choice; Keras's
    random draws differ in detail), then the image is resampled with ``fill_mode``.
    """

    _USE_BASE_FACTOR = False

    def __init__(
        self,
        factor=1.0,
        scale=1.0,
        interpolation="bilinear",
        fill_mode="reflect",
        fill_value=0.0,
        value_range=(0, 255),
        seed=None,
        data_format=None,
        **kwargs,
    ):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self.factor = _range(factor, (0, 1), "factor")
        self.scale = _range(scale, (0, 1), "scale")
        self.interpolation = interpolation
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.value_range = value_range

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        x = to_channels_last(data, self.data_format)
        n, h, w = x.shape[:3]
        probability = self.rng.uniform(self.factor[0], self.factor[1], n)
        apply = self.rng.uniform(0, 1, n) < probability
        scale = self.rng.uniform(self.scale[0], self.scale[1], n)
        noise = self.rng.normal(size=(n, 2, h, w))
        import scipy.ndimage

        sigma = max(h, w) / 20.0
        field = scipy.ndimage.gaussian_filter(noise, (0, 0, sigma, sigma), mode="reflect")
        field /= np.abs(field).max(axis=(1, 2, 3), keepdims=True) + 1e-12
        field *= (scale * max(h, w) / 10.0)[:, None, None, None]
        return {"apply": apply, "displacement": field}

    def _apply(self, x, t):
        xp = get_array_module(x)
        nd = ndimage(xp)
        from gpuk.layers.preprocessing.image_base import _SCIPY_MODES

        n, h, w, c = x.shape
        ys, xs = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
        out = xp.empty_like(x)
        for i in range(n):
            d = t["displacement"][i]
            coords = xp.asarray(np.stack([ys + d[0], xs + d[1]]))
            for ch in range(c):
                out[i, :, :, ch] = nd.map_coordinates(
                    x[i, :, :, ch],
                    coords,
                    order=1 if self.interpolation == "bilinear" else 0,
                    mode=_SCIPY_MODES[self.fill_mode],
                    cval=float(self.fill_value),
                )
        apply = xp.asarray(np.asarray(t["apply"]).reshape(-1, 1, 1, 1))
        out = xp.clip(out, self.value_range[0], self.value_range[1])
        return xp.where(apply, out, x)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "factor": self.factor,
                "scale": self.scale,
                "interpolation": self.interpolation,
                "fill_mode": self.fill_mode,
                "fill_value": self.fill_value,
                "value_range": self.value_range,
                "seed": self.seed,
            }
        )
        return config
