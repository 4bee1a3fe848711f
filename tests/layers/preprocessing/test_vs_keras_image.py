"""Image layers against Keras 3.15 (JAX backend): deterministic layers, and random layers with
a pinned factor or a fixed transformation. Fixtures: tools/make_keras_fixtures_preprocessing.py.
"""

import os

import numpy as np
import pytest

from gpuk import layers as L

HERE = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "keras", "preprocessing")
DATA = np.load(os.path.join(HERE, "image.npz"))
IMG, SMALL = DATA["img"], DATA["small"]

_MASKS = np.zeros((2, 9, 11, 3), bool)
_MASKS[0, 2:5, 3:8] = True
_START = np.repeat(np.array([[[0.0, 0.0], [10.0, 0.0], [0.0, 8.0], [10.0, 8.0]]]), 2, axis=0)
_END = _START + np.array([[[1.0, 0.5], [-1.0, 1.0], [0.5, -1.0], [-0.5, -0.5]]])

CASES = {
    "resizing_up": (lambda: L.Resizing(13, 17), SMALL, None),
    "resizing_down": (lambda: L.Resizing(4, 5), IMG, None),
    "resizing_nearest": (lambda: L.Resizing(7, 8, interpolation="nearest"), IMG, None),
    "resizing_crop": (lambda: L.Resizing(6, 6, crop_to_aspect_ratio=True), IMG, None),
    "resizing_pad": (lambda: L.Resizing(6, 6, pad_to_aspect_ratio=True), IMG, None),
    "center_crop": (lambda: L.CenterCrop(5, 7), IMG, None),
    "center_crop_up": (lambda: L.CenterCrop(8, 8), SMALL, None),
    "flip_h": (
        lambda: L.RandomFlip("horizontal"),
        IMG,
        {"flips": np.array([True, False]).reshape(2, 1, 1, 1)},
    ),
    "flip_hv": (
        lambda: L.RandomFlip(),
        IMG,
        {"flips": np.array([False, True]).reshape(2, 1, 1, 1)},
    ),
    "contrast": (
        lambda: L.RandomContrast((0.5, 0.5)),
        IMG,
        {"contrast_factor": np.array([0.5, 1.7]).reshape(2, 1, 1, 1)},
    ),
    "brightness": (lambda: L.RandomBrightness((0.2, 0.2)), IMG, None),
    "grayscale": (lambda: L.RandomGrayscale(1.0), IMG, np.array([True, False]).reshape(2, 1, 1, 1)),
    "invert": (lambda: L.RandomInvert(), IMG, {"apply_inversion": np.array([True, False])}),
    "solarization": (
        lambda: L.Solarization(),
        IMG,
        {
            "additions": np.full((2, 1, 1, 1), 20.0, "float32"),
            "thresholds": np.full((2, 1, 1, 1), 128.0, "float32"),
        },
    ),
    "posterization": (
        lambda: L.RandomPosterization(3),
        IMG,
        {"shift_factor": np.array([5, 2], "uint8")},
    ),
    "auto_contrast": (lambda: L.AutoContrast(), IMG, None),
    "color_degeneration": (
        lambda: L.RandomColorDegeneration(0.5),
        IMG,
        {"factor": np.array([0.25, 0.75], "float32").reshape(2, 1, 1, 1)},
    ),
    "saturation": (
        lambda: L.RandomSaturation(0.5),
        IMG / 255.0,
        {"factor": np.array([0.3, 2.0], "float32")},
    ),
    "hue": (lambda: L.RandomHue(0.5), IMG, {"factor": np.array([0.2, -0.1], "float32")}),
    "sharpness": (
        lambda: L.RandomSharpness(0.5),
        IMG,
        {"factor": np.array([0.1, 0.9], "float32")},
    ),
    "shear": (
        lambda: L.RandomShear(0.2, 0.1),
        IMG,
        {"shear_factor": np.array([[0.2, 0.0], [-0.1, 0.1]], "float32")},
    ),
    "equalization": (lambda: L.Equalization(), IMG, None),
    "clahe": (
        lambda: L.ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(3, 4)),
        IMG,
        None,
    ),
    "clahe_unit": (
        lambda: L.ContrastLimitedAdaptiveHistogramEqualization(
            value_range=(0, 1), clip_limit=2.0, tile_grid_size=(2, 2)
        ),
        IMG / 255.0,
        None,
    ),
    "equalization_range": (lambda: L.Equalization(value_range=(0, 1), bins=64), IMG / 255.0, None),
    "gaussian_blur": (
        lambda: L.RandomGaussianBlur(kernel_size=(3, 5)),
        IMG,
        {"should_apply_blur": np.array([True, False]), "blur_factor": np.array([0.8, 1.3])},
    ),
    "mix_up": (
        lambda: L.MixUp(),
        IMG,
        {"mix_weight": np.array([0.3, 0.9]), "permutation_order": np.array([1, 0])},
    ),
    "erasing": (
        lambda: L.RandomErasing(),
        IMG,
        {
            "apply_erasing": np.array([True, True]),
            "batch_masks": _MASKS,
            "fill_value": np.full(IMG.shape, 9.0, "float32"),
        },
    ),
    "perspective": (
        lambda: L.RandomPerspective(),
        IMG,
        {"apply_perspective": np.array([True, True]), "start_points": _START, "end_points": _END},
    ),
}
for _mode in ("reflect", "wrap", "constant", "nearest"):
    CASES[f"rotation_{_mode}"] = (
        lambda m=_mode: L.RandomRotation((0.1, 0.1), fill_mode=m, fill_value=7.0),
        IMG,
        None,
    )
    CASES[f"zoom_{_mode}"] = (
        lambda m=_mode: L.RandomZoom((0.3, 0.3), (-0.2, -0.2), fill_mode=m),
        IMG,
        None,
    )
    CASES[f"translation_{_mode}"] = (
        lambda m=_mode: L.RandomTranslation((0.2, 0.2), (-0.3, -0.3), fill_mode=m),
        IMG,
        None,
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_image_layer_matches_keras(name, xp):
    make, x, transformation = CASES[name]
    layer = make()
    x = xp.asarray(x.astype("float32"))
    if transformation is None:
        out = layer(x).data
    else:
        out = layer.transform_images(x, transformation, training=True)
    got = np.asarray(out.get() if hasattr(out, "get") else out)
    np.testing.assert_allclose(got, DATA[name], rtol=1e-4, atol=2e-3)


def test_random_layers_are_identity_outside_training():
    for layer in (L.RandomFlip(), L.RandomRotation(0.3), L.RandomZoom(0.3), L.RandomContrast(0.5)):
        out = layer(IMG, training=False).numpy()
        np.testing.assert_array_equal(out, IMG)


def test_keras_saved_image_and_audio_models_load_and_predict(tmp_path):
    import gpuk

    io = np.load(os.path.join(HERE, "layers_models_io.npz"))
    model = gpuk.saving.load_model(os.path.join(HERE, "image_layers.keras"))
    np.testing.assert_allclose(model.predict(io["images"], verbose=0), io["image_y"], rtol=1e-4)
    np.testing.assert_allclose(
        model(io["images"], training=False).numpy(), io["image_y"], rtol=1e-4
    )
    audio = gpuk.saving.load_model(os.path.join(HERE, "audio_layers.keras"))
    np.testing.assert_allclose(audio.predict(io["signal"], verbose=0), io["audio_y"], rtol=1e-4)
    path = str(tmp_path / "again.keras")
    model.save(path)
    again = gpuk.saving.load_model(path)
    np.testing.assert_allclose(again.predict(io["images"], verbose=0), io["image_y"], rtol=1e-4)


@pytest.mark.parametrize("mode", ["constant", "reflect", "wrap", "nearest"])
def test_one_call_per_image_equals_one_call_per_channel(mode):
    from gpuk.layers.preprocessing.image_base import sample

    ys, xs = np.meshgrid(np.arange(9.0), np.arange(11.0), indexing="ij")
    coords = [(ys * 0.9 + xs * 0.2 - 1.5, xs * 1.1 - ys * 0.3 + 0.7)] * 2
    a = sample(IMG, coords, "bilinear", mode, 5.0, per_channel=True)
    b = sample(IMG, coords, "bilinear", mode, 5.0, per_channel=False)
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-3)


LABELS = np.array([[1, 0], [2, 3]], "int32")


@pytest.mark.parametrize("fmt", ["xyxy", "rel_xyxy", "center_xywh", "yxyx"])
def test_bounding_boxes_flip_and_resize_match_keras(fmt):
    boxes = DATA[f"boxes_in_{fmt}"]
    flip = L.RandomFlip("horizontal_and_vertical", bounding_box_format=fmt)
    out = flip.transform_bounding_boxes(
        {"boxes": boxes, "labels": LABELS},
        {"flips": np.array([True, False]).reshape(2, 1, 1, 1), "input_shape": (2, 9, 11, 3)},
    )
    np.testing.assert_allclose(out["boxes"], DATA[f"boxes_flip_{fmt}"], rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(out["labels"], DATA[f"labels_flip_{fmt}"])
    out = L.RandomTranslation(0.2, 0.2, bounding_box_format=fmt).transform_bounding_boxes(
        {"boxes": boxes, "labels": LABELS},
        {"translations": np.array([[2.5, -1.0], [-3.0, 4.0]]), "input_shape": (2, 9, 11, 3)},
    )
    np.testing.assert_allclose(out["boxes"], DATA[f"boxes_translate_{fmt}"], rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(out["labels"], DATA[f"labels_translate_{fmt}"])
    out = L.RandomRotation(0.2, bounding_box_format=fmt).transform_bounding_boxes(
        {"boxes": boxes, "labels": LABELS},
        {"angle": np.array([30.0, -50.0]), "image_height": 9, "image_width": 11},
    )
    np.testing.assert_allclose(out["boxes"], DATA[f"boxes_rotate_{fmt}"], rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(out["labels"], DATA[f"labels_rotate_{fmt}"])
    out = L.RandomZoom(0.3, bounding_box_format=fmt).transform_bounding_boxes(
        {"boxes": boxes, "labels": LABELS},
        {
            "width_zoom": np.array([[0.8], [1.3]]),
            "height_zoom": np.array([[0.7], [1.2]]),
            "input_shape": (2, 9, 11, 3),
        },
    )
    np.testing.assert_allclose(out["boxes"], DATA[f"boxes_zoom_{fmt}"], rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(out["labels"], DATA[f"labels_zoom_{fmt}"])
    for size in (5, 12):
        res = L.CenterCrop(size, 6, bounding_box_format=fmt)(
            {"images": IMG, "bounding_boxes": {"boxes": boxes, "labels": LABELS}}
        )
        np.testing.assert_allclose(
            res["bounding_boxes"]["boxes"].numpy(),
            DATA[f"boxes_center_crop_{size}_{fmt}"],
            rtol=1e-5,
            atol=1e-5,
        )
        np.testing.assert_array_equal(
            res["bounding_boxes"]["labels"].numpy(), DATA[f"labels_center_crop_{size}_{fmt}"]
        )
    for mode in ("stretch", "crop", "pad"):
        layer = L.Resizing(
            6,
            5,
            crop_to_aspect_ratio=mode == "crop",
            pad_to_aspect_ratio=mode == "pad",
            bounding_box_format=fmt,
        )
        res = layer({"images": IMG, "bounding_boxes": {"boxes": boxes, "labels": LABELS}})
        np.testing.assert_allclose(
            res["bounding_boxes"]["boxes"].numpy(),
            DATA[f"boxes_resize_{mode}_{fmt}"],
            rtol=1e-5,
            atol=1e-5,
        )
        np.testing.assert_array_equal(
            res["bounding_boxes"]["labels"].numpy(), DATA[f"labels_resize_{mode}_{fmt}"]
        )


def test_bounding_boxes_need_a_format():
    with pytest.raises(ValueError, match="bounding_box_format"):
        L.RandomFlip()({"images": IMG, "bounding_boxes": {"boxes": np.zeros((2, 1, 4))}})


def test_host_ndimage_fallback_gives_scipy_values():
    from gpuk._array.arrays import _HostNdimage

    fallback = _HostNdimage(np)
    ys, xs = np.meshgrid(np.arange(9.0), np.arange(11.0), indexing="ij")
    coords = np.stack([ys * 0.9 + 0.3, xs * 1.1 - 0.4])
    import scipy.ndimage

    np.testing.assert_array_equal(
        fallback.map_coordinates(IMG[0, ..., 0], coords, order=1, mode="reflect"),
        scipy.ndimage.map_coordinates(IMG[0, ..., 0], coords, order=1, mode="reflect"),
    )
