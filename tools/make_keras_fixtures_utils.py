"""Record what Keras 3's keras.utils computes on small folder trees and arrays, for
tests/utils/test_keras_utils_vs_keras.py. Keras is not a dependency of gpuk; run by hand:

    /work/tfvenv/bin/python tools/make_keras_fixtures_utils.py

(Keras 3.15.1 on tensorflow-cpu 2.21.0: the directory data sets need tf.data.) The trees come
from tests/utils/folder_trees.py, which the tests use too. Writes
tests/fixtures/keras/utils/utils.npz and utils_names.txt (keras.utils's public callables).
"""

import os
import pathlib
import sys
import tempfile

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "utils"))
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
from folder_trees import make_image_tree, make_text_tree, make_wav_tree  # noqa: E402

OUT = ROOT / "tests" / "fixtures" / "keras" / "utils"


def collect(dataset):
    xs, ys = [], []
    for item in dataset:
        if isinstance(item, tuple):
            xs.append(np.asarray(item[0]))
            ys.append(np.asarray(item[1]))
        else:
            xs.append(np.asarray(item))
    return xs, ys


def relative(paths, root):
    return np.array([os.path.relpath(p, root) for p in paths])


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    record = {}
    with tempfile.TemporaryDirectory() as tmp:
        images = make_image_tree(os.path.join(tmp, "images"))
        cases = {
            "img_int": dict(image_size=(8, 10), batch_size=4),
            "img_cat_nearest": dict(
                image_size=(7, 5), batch_size=3, label_mode="categorical", interpolation="nearest"
            ),
            "img_gray_crop": dict(
                image_size=(6, 6), batch_size=4, color_mode="grayscale", crop_to_aspect_ratio=True
            ),
            "img_rgba_pad_binary": dict(
                image_size=(5, 9),
                batch_size=5,
                color_mode="rgba",
                pad_to_aspect_ratio=True,
                label_mode="binary",
            ),
            "img_first": dict(image_size=(4, 4), batch_size=9, data_format="channels_first"),
        }
        for name, kwargs in cases.items():
            ds = keras.utils.image_dataset_from_directory(images, shuffle=False, **kwargs)
            xs, ys = collect(ds)
            record[f"{name}_x"] = np.concatenate(xs)
            record[f"{name}_y"] = np.concatenate(ys)
            record[f"{name}_paths"] = relative(ds.file_paths, images)
            record[f"{name}_classes"] = np.array(ds.class_names)
        train, val = keras.utils.image_dataset_from_directory(
            images, image_size=(4, 4), seed=1337, validation_split=0.34, subset="both"
        )
        record["split_train_paths"] = relative(train.file_paths, images)
        record["split_val_paths"] = relative(val.file_paths, images)
        ds = keras.utils.image_dataset_from_directory(
            images, labels=[0, 1, 2, 0, 1, 2, 0, 1, 2], image_size=(4, 4), shuffle=False
        )
        record["manual_classes"] = np.array(ds.class_names)
        record["manual_paths"] = relative(ds.file_paths, images)

        img = keras.utils.load_img(
            os.path.join(images, "cat", "cat_00.png"),
            target_size=(7, 9),
            interpolation="bilinear",
            keep_aspect_ratio=True,
        )
        record["load_img_keep"] = keras.utils.img_to_array(img)
        img = keras.utils.load_img(
            os.path.join(images, "dog", "dog_01.png"), color_mode="grayscale", target_size=(5, 5)
        )
        record["load_img_gray"] = keras.utils.img_to_array(img)
        record["array_to_img"] = np.asarray(
            keras.utils.array_to_img(np.linspace(-1, 3, 2 * 3 * 3).reshape(2, 3, 3))
        )

        texts = make_text_tree(os.path.join(tmp, "texts"))
        ds = keras.utils.text_dataset_from_directory(
            texts, shuffle=False, batch_size=4, max_length=12
        )
        xs, ys = collect(ds)
        # Keras cuts `max_length` bytes (tf.strings.substr); a split character is dropped here.
        record["text_x"] = np.array([t.decode("utf-8", "ignore") for t in np.concatenate(xs)])
        record["text_y"] = np.concatenate(ys)

        wavs = make_wav_tree(os.path.join(tmp, "wavs"))
        for name, kwargs in {
            "audio_padded": dict(batch_size=3),
            "audio_fixed": dict(batch_size=4, output_sequence_length=60),
        }.items():
            ds = keras.utils.audio_dataset_from_directory(wavs, shuffle=False, **kwargs)
            xs, ys = collect(ds)
            for i, x in enumerate(xs):
                record[f"{name}_x{i}"] = x
            record[f"{name}_y"] = np.concatenate(ys)
            record[f"{name}_batches"] = np.array(len(xs))

    data = np.arange(100 * 3, dtype="float32").reshape(100, 3)
    targets = np.arange(100) * 10
    for name, kwargs in {
        "ts_basic": dict(sequence_length=5, batch_size=16),
        "ts_rate_stride": dict(sequence_length=4, sampling_rate=3, sequence_stride=7, batch_size=5),
        "ts_window": dict(sequence_length=6, start_index=10, end_index=70, batch_size=8),
    }.items():
        xs, ys = collect(keras.utils.timeseries_dataset_from_array(data, targets, **kwargs))
        record[f"{name}_x"] = np.concatenate(xs)
        record[f"{name}_y"] = np.concatenate(ys)

    left, right = keras.utils.split_dataset(
        (np.arange(20), np.arange(20) * 2), left_size=0.7, shuffle=True, seed=5
    )
    record["split_left"] = np.array([np.asarray(a[0]) for a in left])
    record["split_right"] = np.array([np.asarray(a[0]) for a in right])

    np.savez(OUT / "utils.npz", **record)
    names = sorted(
        n for n in dir(keras.utils) if not n.startswith("_") and callable(getattr(keras.utils, n))
    )
    (OUT / "utils_names.txt").write_text("\n".join(names) + "\n")
    print(f"wrote {len(record)} arrays and {len(names)} names to {OUT}")


if __name__ == "__main__":
    main()
