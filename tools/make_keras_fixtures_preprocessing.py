"""Fixtures for gpuk's preprocessing layers, computed by Keras 3.15 itself.

Keras's lookup, hashing and text layers need TensorFlow, so this script runs twice:

    KERAS_BACKEND=tensorflow <venv with keras 3.15.1 + tensorflow-cpu>/bin/python \
        tools/make_keras_fixtures_preprocessing.py text
    KERAS_BACKEND=jax /work/kvenv/bin/python tools/make_keras_fixtures_preprocessing.py image

Writes ``tests/fixtures/keras/preprocessing/{text,image}.npz`` (inputs/outputs by case name),
``names.json`` (Keras's preprocessing layer names) and a ``.keras`` file of adapted layers.
"""

import json
import os
import sys

import keras
import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "keras", "preprocessing")


def text_cases():
    L = keras.layers
    cases = {}
    words = np.array([["cat", "dog", "cat"], ["fish", "cat", "bird"], ["dog", "eel", "cat"]])

    def add(name, layer, x, adapt=None):
        if adapt is not None:
            layer.adapt(adapt)
        out = np.asarray(layer(x))
        if out.dtype == object:
            out = np.vectorize(lambda v: v.decode() if isinstance(v, bytes) else str(v))(out)
        cases[name] = (x, out, layer)

    add("string_int", L.StringLookup(), words[:2], adapt=words)
    add(
        "string_int_mask_oov2",
        L.StringLookup(mask_token="", num_oov_indices=2),
        np.array([["", "cat", "zebra", "yak"]]),
        adapt=words,
    )
    add("string_multi_hot", L.StringLookup(output_mode="multi_hot"), words, adapt=words)
    add("string_count", L.StringLookup(output_mode="count"), words, adapt=words)
    add("string_one_hot", L.StringLookup(output_mode="one_hot"), words[:, :1], adapt=words)
    add("string_tf_idf", L.StringLookup(output_mode="tf_idf"), words, adapt=words)
    add("string_max_tokens", L.StringLookup(max_tokens=3), words, adapt=words)
    add(
        "string_vocab_invert",
        L.StringLookup(vocabulary=["a", "b", "c"], invert=True),
        np.array([[1, 2, 3, 0]]),
    )
    ints = np.array([[12, 36, 1138, 42], [42, 1000, 36, 7]])
    add("integer_int", L.IntegerLookup(), ints, adapt=ints)
    add(
        "integer_vocab_oov3",
        L.IntegerLookup(vocabulary=[12, 36, 1138, 42], num_oov_indices=3),
        ints,
    )
    add(
        "integer_multi_hot_mask",
        L.IntegerLookup(mask_token=0, output_mode="multi_hot"),
        np.array([[0, 12, 36]]),
        adapt=ints,
    )
    add("category_multi_hot", L.CategoryEncoding(num_tokens=5), np.array([[0, 1], [3, 3]]))
    add(
        "category_one_hot",
        L.CategoryEncoding(num_tokens=5, output_mode="one_hot"),
        np.array([1, 4, 0]),
    )
    add(
        "category_count",
        L.CategoryEncoding(num_tokens=5, output_mode="count"),
        np.array([[0, 1, 1], [3, 3, 4]]),
    )
    strs = np.array([["a"], ["bcd"], ["hello world"], ["x" * 40], ["y" * 100]])
    add("hashing_str", L.Hashing(num_bins=13), strs)
    add("hashing_salt", L.Hashing(num_bins=13, salt=[7, 99]), strs)
    add("hashing_mask_int", L.Hashing(num_bins=6, mask_value=0), np.array([[0, 5, 17, -4]]))
    add(
        "hashing_multi_hot",
        L.Hashing(num_bins=6, output_mode="multi_hot"),
        np.array([["a", "b"], ["c", "a"]]),
    )
    cross = L.HashedCrossing(num_bins=11)
    cases["hashed_crossing"] = (
        (np.array(["A", "B", "C"]), np.array([101, 7, 3])),
        np.asarray(cross((np.array(["A", "B", "C"]), np.array([101, 7, 3])))),
        cross,
    )
    x = np.array([[0.1, 5.0, -2.0], [0.7, 3.0, 1.5], [0.2, 9.0, 0.0], [0.4, 1.0, 2.0]], "float32")
    add("normalization", L.Normalization(), x, adapt=x)
    add("normalization_axis_none_invert", L.Normalization(axis=None, invert=True), x, adapt=x)
    add("normalization_given", L.Normalization(mean=[1.0, 2.0, 3.0], variance=[4.0, 1.0, 0.25]), x)
    rng = np.random.default_rng(0)
    data = rng.normal(size=(500, 1)).astype("float32")
    add("discretization_adapt", L.Discretization(num_bins=4), data[:10], adapt=data)
    add(
        "discretization_bins_one_hot",
        L.Discretization(bin_boundaries=[0.0, 1.0], output_mode="one_hot"),
        np.array([-1.0, 0.5, 2.0]),
    )
    texts = np.array(["The cat sat on the mat.", "the DOG ate the cat's hat!", "Hello, world"])
    add("text_int", L.TextVectorization(output_sequence_length=7), texts, adapt=texts)
    add("text_int_ragged_pad", L.TextVectorization(), texts, adapt=texts)
    add(
        "text_bigram_multi_hot",
        L.TextVectorization(ngrams=2, output_mode="multi_hot", max_tokens=12),
        texts,
        adapt=texts,
    )
    add("text_tf_idf", L.TextVectorization(output_mode="tf_idf"), texts, adapt=texts)
    add(
        "text_count_char",
        L.TextVectorization(split="character", output_mode="count", standardize="lower"),
        texts,
        adapt=texts,
    )
    add(
        "text_vocab",
        L.TextVectorization(vocabulary=["the", "cat"], output_sequence_length=4),
        texts,
    )
    arrays, meta = {}, {}
    for name, (x, out, layer) in cases.items():
        if isinstance(x, tuple):
            for i, xi in enumerate(x):
                arrays[f"{name}__x{i}"] = xi
        else:
            arrays[f"{name}__x"] = x
        arrays[f"{name}__y"] = out
        meta[name] = {"vocabulary": _vocab(layer), "config": _config(layer)}
    np.savez(os.path.join(OUT, "text.npz"), **arrays)
    with open(os.path.join(OUT, "text_meta.json"), "w") as f:
        json.dump(meta, f, indent=1, sort_keys=True, default=str)
    _adapted_model()


def _vocab(layer):
    if hasattr(layer, "get_vocabulary"):
        return [v if isinstance(v, str) else int(v) for v in layer.get_vocabulary()]
    if hasattr(layer, "bin_boundaries"):
        return [float(b) for b in layer.bin_boundaries]
    return None


def _config(layer):
    config = layer.get_config()
    return {
        k: v for k, v in config.items() if k in ("output_mode", "max_tokens", "vocabulary_size")
    }


def _adapted_model():
    """A model of adapted layers saved by Keras (loaded by gpuk's tests)."""
    L = keras.layers
    words = np.array([["cat"], ["dog"], ["cat"], ["eel"]])
    s_in = keras.Input((1,), dtype="string", name="animal")
    lookup = L.StringLookup(output_mode="multi_hot", name="lookup")
    lookup.adapt(words)
    t_in = keras.Input((), dtype="string", name="text")
    text = L.TextVectorization(output_mode="tf_idf", name="text_vec")
    text.adapt(np.array(["a b c", "b c", "c d"]))
    n_in = keras.Input((2,), name="num")
    norm = L.Normalization(name="norm")
    norm.adapt(np.array([[1.0, 2.0], [3.0, 6.0]], "float32"))
    merged = L.Concatenate()([lookup(s_in), text(t_in), norm(n_in)])
    out = L.Dense(1, kernel_initializer="ones", name="out")(merged)
    model = keras.Model([s_in, t_in, n_in], out)
    model.save(os.path.join(OUT, "adapted_layers.keras"))
    x = [
        np.array([["cat"], ["zebra"]]),
        np.array(["a c", "d d"]),
        np.array([[2.0, 4.0], [0.0, 1.0]], "float32"),
    ]
    np.savez(
        os.path.join(OUT, "adapted_layers_io.npz"),
        x0=x[0],
        x1=x[1],
        x2=x[2],
        y=np.asarray(
            model(
                [
                    keras.ops.convert_to_tensor(a)
                    if a.dtype.kind == "f"
                    else __import__("tensorflow").constant(a)
                    for a in x
                ]
            )
        ),
    )


def image_cases():
    """Deterministic image layers, and random ones with a fixed transformation."""
    L = keras.layers
    rng = np.random.default_rng(0)
    img = (rng.random((2, 9, 11, 3)) * 255).astype("float32")
    small = (rng.random((1, 5, 6, 3)) * 255).astype("float32")
    arrays = {"img": img, "small": small}

    def run(name, layer, x, transformation=None):
        if transformation is None:
            out = layer(x)
        else:
            out = layer.transform_images(
                keras.ops.convert_to_tensor(x), transformation, training=True
            )
        arrays[name] = np.asarray(out)

    run("resizing_up", L.Resizing(13, 17), small)
    run("resizing_down", L.Resizing(4, 5), img)
    run("resizing_nearest", L.Resizing(7, 8, interpolation="nearest"), img)
    run("resizing_crop", L.Resizing(6, 6, crop_to_aspect_ratio=True), img)
    run("resizing_pad", L.Resizing(6, 6, pad_to_aspect_ratio=True), img)
    run("center_crop", L.CenterCrop(5, 7), img)
    run("center_crop_up", L.CenterCrop(8, 8), small)
    run(
        "flip_h",
        L.RandomFlip("horizontal"),
        img,
        {"flips": np.array([True, False]).reshape(2, 1, 1, 1)},
    )
    run("flip_hv", L.RandomFlip(), img, {"flips": np.array([False, True]).reshape(2, 1, 1, 1)})
    for mode in ("reflect", "wrap", "constant", "nearest"):
        run(f"rotation_{mode}", L.RandomRotation((0.1, 0.1), fill_mode=mode, fill_value=7.0), img)
        run(f"zoom_{mode}", L.RandomZoom((0.3, 0.3), (-0.2, -0.2), fill_mode=mode), img)
        run(
            f"translation_{mode}",
            L.RandomTranslation((0.2, 0.2), (-0.3, -0.3), fill_mode=mode),
            img,
        )
    run(
        "contrast",
        L.RandomContrast((0.5, 0.5)),
        img,
        {"contrast_factor": np.array([0.5, 1.7]).reshape(2, 1, 1, 1)},
    )
    run("brightness", L.RandomBrightness((0.2, 0.2)), img)
    run("grayscale", L.RandomGrayscale(1.0), img, np.array([True, False]).reshape(2, 1, 1, 1))
    run("invert", L.RandomInvert(), img, {"apply_inversion": np.array([True, False])})
    run(
        "solarization",
        L.Solarization(),
        img,
        {
            "additions": np.full((2, 1, 1, 1), 20.0, "float32"),
            "thresholds": np.full((2, 1, 1, 1), 128.0, "float32"),
        },
    )
    run("posterization", L.RandomPosterization(3), img, {"shift_factor": np.array([5, 2], "uint8")})
    run("auto_contrast", L.AutoContrast(), img)
    run(
        "color_degeneration",
        L.RandomColorDegeneration(0.5),
        img,
        {"factor": np.array([0.25, 0.75], "float32").reshape(2, 1, 1, 1)},
    )
    run(
        "saturation",
        L.RandomSaturation(0.5),
        img / 255.0,
        {"factor": np.array([0.3, 2.0], "float32")},
    )
    run("hue", L.RandomHue(0.5), img, {"factor": np.array([0.2, -0.1], "float32")})
    run("sharpness", L.RandomSharpness(0.5), img, {"factor": np.array([0.1, 0.9], "float32")})
    run(
        "shear",
        L.RandomShear(0.2, 0.1),
        img,
        {"shear_factor": np.array([[0.2, 0.0], [-0.1, 0.1]], "float32")},
    )
    run("clahe", L.ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(3, 4)), img)
    run(
        "clahe_unit",
        L.ContrastLimitedAdaptiveHistogramEqualization(
            value_range=(0, 1), clip_limit=2.0, tile_grid_size=(2, 2)
        ),
        img / 255.0,
    )
    run("equalization", L.Equalization(), img)
    run("equalization_range", L.Equalization(value_range=(0, 1), bins=64), img / 255.0)
    run(
        "gaussian_blur",
        L.RandomGaussianBlur(kernel_size=(3, 5)),
        img,
        {
            "should_apply_blur": np.array([True, False]),
            "blur_factor": np.array([0.8, 1.3], "float32"),
        },
    )
    run(
        "mix_up",
        L.MixUp(),
        img,
        {"mix_weight": np.array([0.3, 0.9], "float32"), "permutation_order": np.array([1, 0])},
    )
    masks = np.zeros((2, 9, 11, 3), bool)
    masks[0, 2:5, 3:8] = True
    run(
        "erasing",
        L.RandomErasing(),
        img,
        {
            "apply_erasing": np.array([True, True]),
            "batch_masks": masks,
            "fill_value": np.full(img.shape, 9.0, "float32"),
        },
    )
    start = np.repeat(
        np.array([[[0.0, 0.0], [10.0, 0.0], [0.0, 8.0], [10.0, 8.0]]], "float32"), 2, axis=0
    )
    end = start + np.array([[[1.0, 0.5], [-1.0, 1.0], [0.5, -1.0], [-0.5, -0.5]]], "float32")
    run(
        "perspective",
        L.RandomPerspective(),
        img,
        {"apply_perspective": np.array([True, True]), "start_points": start, "end_points": end},
    )
    boxes = {
        "boxes": np.array(
            [
                [[1.0, 2.0, 6.0, 7.0], [0.0, 0.0, 0.0, 0.0]],
                [[3.0, 1.0, 10.0, 8.5], [-2.0, 4.0, 2.0, 6.0]],
            ],
            "float32",
        ),
        "labels": np.array([[1, 0], [2, 3]], "int32"),
    }
    for fmt in ("xyxy", "rel_xyxy", "center_xywh", "yxyx"):
        src = keras.utils.bounding_boxes.convert_format(
            dict(boxes), "xyxy", fmt, height=9, width=11
        )
        arrays[f"boxes_in_{fmt}"] = np.asarray(src["boxes"])
        flip = L.RandomFlip("horizontal_and_vertical", bounding_box_format=fmt)
        out = flip.transform_bounding_boxes(
            {
                "boxes": keras.ops.convert_to_tensor(src["boxes"]),
                "labels": keras.ops.convert_to_tensor(boxes["labels"]),
            },
            {"flips": np.array([True, False]).reshape(2, 1, 1, 1), "input_shape": (2, 9, 11, 3)},
        )
        arrays[f"boxes_flip_{fmt}"] = np.asarray(out["boxes"])
        arrays[f"labels_flip_{fmt}"] = np.asarray(out["labels"])

        def kb(src=src):
            return {
                "boxes": keras.ops.convert_to_tensor(src["boxes"]),
                "labels": keras.ops.convert_to_tensor(boxes["labels"]),
            }

        out = L.RandomTranslation(0.2, 0.2, bounding_box_format=fmt).transform_bounding_boxes(
            kb(),
            {
                "translations": np.array([[2.5, -1.0], [-3.0, 4.0]], "float32"),
                "input_shape": (2, 9, 11, 3),
            },
        )
        arrays[f"boxes_translate_{fmt}"] = np.asarray(out["boxes"])
        arrays[f"labels_translate_{fmt}"] = np.asarray(out["labels"])
        out = L.RandomRotation(0.2, bounding_box_format=fmt).transform_bounding_boxes(
            kb(),
            {
                "angle": np.array([30.0, -50.0], "float32"),
                "image_height": 9,
                "image_width": 11,
                "batch_size": 2,
            },
        )
        arrays[f"boxes_rotate_{fmt}"] = np.asarray(out["boxes"])
        arrays[f"labels_rotate_{fmt}"] = np.asarray(out["labels"])
        out = L.RandomZoom(0.3, bounding_box_format=fmt).transform_bounding_boxes(
            kb(),
            {
                "width_zoom": np.array([[0.8], [1.3]], "float32"),
                "height_zoom": np.array([[0.7], [1.2]], "float32"),
                "input_shape": (2, 9, 11, 3),
            },
        )
        arrays[f"boxes_zoom_{fmt}"] = np.asarray(out["boxes"])
        arrays[f"labels_zoom_{fmt}"] = np.asarray(out["labels"])
        for size in (5, 12):
            crop = L.CenterCrop(size, 6, bounding_box_format=fmt)
            res = crop(
                {
                    "images": img,
                    "bounding_boxes": {"boxes": src["boxes"], "labels": boxes["labels"]},
                }
            )
            arrays[f"boxes_center_crop_{size}_{fmt}"] = np.asarray(res["bounding_boxes"]["boxes"])
            arrays[f"labels_center_crop_{size}_{fmt}"] = np.asarray(res["bounding_boxes"]["labels"])
        for mode in ("stretch", "crop", "pad"):
            layer = L.Resizing(
                6,
                5,
                crop_to_aspect_ratio=mode == "crop",
                pad_to_aspect_ratio=mode == "pad",
                bounding_box_format=fmt,
            )
            res = layer(
                {
                    "images": img,
                    "bounding_boxes": {"boxes": src["boxes"], "labels": boxes["labels"]},
                }
            )
            arrays[f"boxes_resize_{mode}_{fmt}"] = np.asarray(res["bounding_boxes"]["boxes"])
            arrays[f"labels_resize_{mode}_{fmt}"] = np.asarray(res["bounding_boxes"]["labels"])
    np.savez(os.path.join(OUT, "image.npz"), **arrays)
    audio_cases()
    image_model()


def image_model():
    """A Keras model of image and audio layers, saved for gpuk to load (inference outputs)."""
    L = keras.layers
    rng = np.random.default_rng(3)
    inputs = keras.Input((12, 14, 3))
    x = L.RandomFlip("horizontal", seed=1)(inputs)
    x = L.RandomRotation(0.1, fill_mode="nearest", seed=2)(x)
    x = L.RandomZoom((-0.2, 0.1), seed=3)(x)
    x = L.RandomTranslation(0.1, 0.2, seed=4)(x)
    x = L.RandomContrast(0.3, seed=5)(x)
    x = L.RandomBrightness(0.1, seed=6)(x)
    x = L.Resizing(10, 10)(x)
    x = L.CenterCrop(8, 8)(x)
    x = L.AutoContrast()(x)
    x = L.Pipeline([L.RandomGrayscale(0.5), L.RandomHue(0.2)])(x)
    x = L.Flatten()(x)
    outputs = L.Dense(2, kernel_initializer="ones")(x)
    model = keras.Model(inputs, outputs)
    model.save(os.path.join(OUT, "image_layers.keras"))
    images = (rng.random((2, 12, 14, 3)) * 255).astype("float32")
    audio_in = keras.Input((200, 1))
    spec = L.STFTSpectrogram(frame_length=32, frame_step=8, mode="magnitude")(audio_in)
    audio_model = keras.Model(audio_in, L.Dense(1, kernel_initializer="ones")(spec))
    audio_model.save(os.path.join(OUT, "audio_layers.keras"))
    signal = rng.normal(size=(2, 200, 1)).astype("float32")
    np.savez(
        os.path.join(OUT, "layers_models_io.npz"),
        images=images,
        image_y=np.asarray(model.predict(images, verbose=0)),
        signal=signal,
        audio_y=np.asarray(audio_model.predict(signal, verbose=0)),
    )


def audio_cases():
    L = keras.layers
    rng = np.random.default_rng(1)
    signal = rng.normal(size=(2, 1000)).astype("float32")
    stereo = rng.normal(size=(2, 300, 2)).astype("float32")
    arrays = {"signal": signal, "stereo": stereo}
    arrays["mel_default"] = np.asarray(
        L.MelSpectrogram(fft_length=256, sequence_stride=64, num_mel_bins=20)(signal)
    )
    arrays["mel_no_db"] = np.asarray(
        L.MelSpectrogram(
            fft_length=128,
            sequence_stride=50,
            sequence_length=100,
            num_mel_bins=16,
            power_to_db=False,
            window="hamming",
            mag_exp=1.0,
            sampling_rate=8000,
            max_freq=3000,
        )(signal)
    )
    for mode in ("log", "magnitude", "psd", "real", "imag", "angle", "stft"):
        arrays[f"stft_{mode}"] = np.asarray(
            L.STFTSpectrogram(mode=mode, frame_length=40, frame_step=16, fft_length=64)(stereo)
        )
    arrays["stft_same_expand"] = np.asarray(
        L.STFTSpectrogram(
            frame_length=32,
            padding="same",
            expand_dims=True,
            window="hamming",
            periodic=True,
            scaling="spectrum",
        )(stereo)
    )
    np.savez(os.path.join(OUT, "audio.npz"), **arrays)


_TF_ONLY = {"StringLookup", "IntegerLookup", "TextVectorization", "Hashing", "HashedCrossing"}


def layer_configs(names):
    """Keras's serialized config of each layer built with small arguments (per backend run)."""
    L = keras.layers
    special = {
        "CategoryEncoding": {"num_tokens": 4},
        "Hashing": {"num_bins": 4},
        "HashedCrossing": {"num_bins": 4},
        "Discretization": {"bin_boundaries": [0.0, 1.0]},
        "Resizing": {"height": 4, "width": 4},
        "CenterCrop": {"height": 4, "width": 4},
        "RandomCrop": {"height": 4, "width": 4, "seed": 1},
        "RandomRotation": {"factor": 0.2},
        "RandomZoom": {"height_factor": 0.2},
        "RandomTranslation": {"height_factor": 0.2, "width_factor": 0.1},
        "RandomContrast": {"factor": 0.3},
        "RandomBrightness": {"factor": 0.3},
        "RandomSaturation": {"factor": 0.3},
        "RandomHue": {"factor": 0.3},
        "RandomSharpness": {"factor": 0.3},
        "RandomColorDegeneration": {"factor": 0.3},
        "RandomPosterization": {"factor": 3},
        "MaxNumBoundingBoxes": {"max_number": 2},
        "Pipeline": {"layers": [L.RandomFlip()]},
        "StringLookup": {"vocabulary": ["a", "b"]},
        "IntegerLookup": {"vocabulary": [3, 4]},
        "TextVectorization": {"vocabulary": ["a", "b"]},
        "RandomShear": {"x_factor": 0.2},
        "Rescaling": {"scale": 0.5},
    }
    tf = keras.backend.backend() == "tensorflow"
    out = {}
    for n in names:
        if tf == (n in _TF_ONLY):
            out[n] = keras.saving.serialize_keras_object(getattr(L, n)(**special.get(n, {})))
    path = os.path.join(OUT, f"configs_{keras.backend.backend()}.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1, sort_keys=True, default=lambda o: getattr(o, "tolist", str)(o))


def names():
    found = sorted(
        n
        for n in dir(keras.layers)
        if isinstance(getattr(keras.layers, n), type)
        and "preprocessing" in getattr(keras.layers, n).__module__
    )
    with open(os.path.join(OUT, "names.json"), "w") as f:
        json.dump({"keras_version": keras.__version__, "names": found}, f, indent=1)
    layer_configs(found)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    what = sys.argv[1] if len(sys.argv) > 1 else "text"
    if what == "text":
        text_cases()
        with open(os.path.join(OUT, "names.json")) as f:
            layer_configs(json.load(f)["names"])
    else:
        names()
        image_cases()
