"""Directory and array data sets: clear errors for bad folders, files and arguments; batches
loaded ahead in background threads with a bounded queue."""

import os
import threading
import wave

import numpy as np
import pytest

import gpuk
from gpuk import utils
from gpuk.utils.data import PyDataset, iterate_batches
from tests.utils.folder_trees import make_image_tree, make_wav_tree

pytest.importorskip("PIL", reason="Pillow comes with the 'test' extra")


def test_empty_and_missing_folders(tmp_path):
    (tmp_path / "a").mkdir()
    with pytest.raises(ValueError, match="No images found in directory"):
        utils.image_dataset_from_directory(str(tmp_path), verbose=False)
    with pytest.raises(ValueError, match="does not exist"):
        utils.text_dataset_from_directory(str(tmp_path / "nope"))


def test_validation_split_needs_subset_and_seed(tmp_path):
    root = make_image_tree(str(tmp_path / "i"))
    with pytest.raises(ValueError, match="`validation_split` must be set, and inversely"):
        utils.image_dataset_from_directory(root, validation_split=0.2)
    with pytest.raises(ValueError, match="you must provide a `seed`"):
        utils.image_dataset_from_directory(root, validation_split=0.2, subset="training")
    with pytest.raises(ValueError, match="between 0 and 1"):
        utils.image_dataset_from_directory(root, validation_split=1.5, subset="training", seed=1)
    with pytest.raises(ValueError, match='"training", "validation" or "both"'):
        utils.image_dataset_from_directory(root, validation_split=0.2, subset="test", seed=1)


def test_bad_arguments_name_themselves(tmp_path):
    root = make_image_tree(str(tmp_path / "i"))
    with pytest.raises(ValueError, match="color_mode"):
        utils.image_dataset_from_directory(root, color_mode="cmyk")
    with pytest.raises(ValueError, match="label_mode"):
        utils.image_dataset_from_directory(root, label_mode="sparse")
    with pytest.raises(ValueError, match="exactly 2 class_names"):
        utils.image_dataset_from_directory(root, label_mode="binary", class_names=["cat"])
    with pytest.raises(ValueError, match="did not match the names of the subdirectories"):
        utils.image_dataset_from_directory(root, class_names=["cow"])
    with pytest.raises(ValueError, match="lengths of `labels`"):
        utils.image_dataset_from_directory(root, labels=[0, 1])
    with pytest.raises(ValueError, match="interpolation"):
        utils.image_dataset_from_directory(root, interpolation="cubic!")
    with pytest.raises(ValueError, match="image_size"):
        utils.image_dataset_from_directory(root, image_size=(1, 2, 3))
    with pytest.raises(ValueError, match="Only one of"):
        utils.image_dataset_from_directory(
            root, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True
        )


def test_class_names_choose_and_order_classes(tmp_path):
    root = make_image_tree(str(tmp_path / "i"))
    ds = utils.image_dataset_from_directory(
        root, class_names=["dog", "cat"], image_size=(4, 4), shuffle=False, batch_size=None
    )
    assert ds.class_names == ["dog", "cat"]
    labels = [ds[i][1] for i in range(len(ds))]
    assert labels == [0] * 4 + [1] * 5
    assert ds[0][0].shape == (4, 4, 3)


def test_mixed_image_sizes_without_image_size_say_what_to_do(tmp_path):
    root = make_image_tree(str(tmp_path / "i"))
    ds = utils.image_dataset_from_directory(root, image_size=None, shuffle=False, batch_size=4)
    with pytest.raises(ValueError, match="pass `image_size=\\(height, width\\)`"):
        ds[0]
    single = utils.image_dataset_from_directory(root, image_size=None, batch_size=None)
    assert single[0][0].ndim == 3


def test_a_corrupt_image_stops_the_epoch_with_its_name(tmp_path):
    root = make_image_tree(str(tmp_path / "i"))
    bad = os.path.join(root, "dog", "broken.png")
    with open(bad, "wb") as file:
        file.write(b"\x89PNG\r\n\x1a\n not really")
    ds = utils.image_dataset_from_directory(root, image_size=(4, 4), batch_size=2, seed=0)
    model = gpuk.Sequential([gpuk.Input((4, 4, 3)), gpuk.layers.Flatten(), gpuk.layers.Dense(2)])
    model.compile("sgd", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="broken.png"):
        model.fit(ds, epochs=1, verbose=0)


def test_a_corrupt_wav_names_the_file(tmp_path):
    root = make_wav_tree(str(tmp_path / "w"))
    with open(os.path.join(root, "yes", "bad.wav"), "wb") as file:
        file.write(b"RIFF\x00\x00")
    ds = utils.audio_dataset_from_directory(root, batch_size=None, shuffle=False)
    with pytest.raises(ValueError, match="bad.wav"):
        [ds[i] for i in range(len(ds))]
    with pytest.raises(ValueError, match="ragged"):
        utils.audio_dataset_from_directory(root, ragged=True)
    with pytest.raises(ValueError, match="sampling_rate"):
        utils.audio_dataset_from_directory(root, sampling_rate=0)


def test_audio_resampling_changes_the_length(tmp_path):
    root = make_wav_tree(str(tmp_path / "w"), rate=8000)
    ds = utils.audio_dataset_from_directory(
        root, sampling_rate=4000, batch_size=None, shuffle=False
    )
    with wave.open(os.path.join(root, "no", "clip0.wav")) as reader:
        frames = reader.getnframes()
    assert ds[0][0].shape == (frames // 2, 1)


def test_text_dataset_without_labels_yields_texts_only(tmp_path):
    root = tmp_path / "t"
    (root / "a").mkdir(parents=True)
    (root / "a" / "1.txt").write_text("one")
    (root / "b.txt").write_text("two")
    ds = utils.text_dataset_from_directory(str(root), labels=None, shuffle=False)
    assert list(ds[0]) == ["two", "one"], "files of the top folder come first, as in Keras"
    assert ds.class_names is None


def test_timeseries_argument_errors():
    data = np.zeros((10, 2))
    for kwargs, message in [
        (dict(start_index=-1), "start_index"),
        (dict(start_index=3, end_index=2), "end_index"),
        (dict(sampling_rate=0), "sampling_rate"),
        (dict(sequence_stride=20), "sequence_stride"),
    ]:
        with pytest.raises(ValueError, match=message):
            utils.timeseries_dataset_from_array(data, None, 3, **kwargs)


def test_split_dataset_argument_errors():
    with pytest.raises(ValueError, match="At least one of"):
        utils.split_dataset(np.arange(10))
    with pytest.raises(ValueError, match="greater than 1"):
        utils.split_dataset(np.arange(10), left_size=0.6, right_size=0.6)
    with pytest.raises(TypeError, match="left_size"):
        utils.split_dataset(np.arange(10), left_size="half")
    with pytest.raises(TypeError, match="list/tuple/dict of arrays"):
        utils.split_dataset(object(), left_size=2)
    left, right = utils.split_dataset({"a": np.arange(10)}, right_size=3)
    assert list(left["a"]) == list(range(7)) and list(right["a"]) == [7, 8, 9]


class _Recording(PyDataset):
    def __init__(self, size, **kwargs):
        super().__init__(**kwargs)
        self.size = size
        self.loaded = []
        self.threads = set()

    def __len__(self):
        return self.size

    def __getitem__(self, index):
        self.threads.add(threading.get_ident())
        self.loaded.append(index)
        return np.full((2, 1), index, "float32"), np.zeros((2, 1), "float32")


def test_batches_load_ahead_in_threads_with_a_bounded_queue():
    dataset = _Recording(30, workers=2, max_queue_size=3)
    batches = iterate_batches(dataset)
    first = next(batches)
    assert first[0][0, 0] == 0
    assert len(dataset.loaded) <= 4, "no more than max_queue_size + 1 batches are read ahead"
    rest = list(batches)
    assert [int(b[0][0, 0]) for b in rest] == list(range(1, 30)), "order is kept"
    assert threading.get_ident() not in dataset.threads


def test_single_worker_loads_in_the_calling_thread():
    dataset = _Recording(3)
    assert [int(b[0][0, 0]) for b in dataset] == [0, 1, 2]
    assert dataset.threads == {threading.get_ident()}
