"""Keras 3's ``image_dataset_from_directory``, ``text_dataset_from_directory`` and
``audio_dataset_from_directory``, returning ``FileDataset`` objects that ``fit``, ``evaluate``
and ``predict`` take directly.

File order, labels, class names, shuffling and the validation split follow Keras for a given
``seed`` (see ``dataset_utils.index_directory``). Batches are read when needed, in background
threads ahead of the training step; a file that cannot be decoded raises an error naming it.
"""

import wave

import numpy as np

from gpuk.utils import image_utils
from gpuk.utils.dataset_utils import directory_dataset

IMAGE_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
TEXT_FORMATS = (".txt",)
AUDIO_FORMATS = (".wav",)
_CHANNELS = {"rgb": 3, "rgba": 4, "grayscale": 1}


def image_dataset_from_directory(
    directory,
    labels="inferred",
    label_mode="int",
    class_names=None,
    color_mode="rgb",
    batch_size=32,
    image_size=(256, 256),
    shuffle=True,
    seed=None,
    validation_split=None,
    subset=None,
    interpolation="bilinear",
    follow_links=False,
    crop_to_aspect_ratio=False,
    pad_to_aspect_ratio=False,
    data_format=None,
    format="tf",
    verbose=True,
):
    """Images in class sub-folders as batches ``(images, labels)``, as Keras's function.

    Images are ``float32`` arrays of shape ``(batch, height, width, channels)`` with values in
    0-255 (``channels_first`` puts channels second); labels follow ``label_mode``: ``"int"``
    (int32), ``"categorical"`` (one-hot float32), ``"binary"`` (float32, shape ``(batch, 1)``)
    or None (images only). ``image_size=None`` keeps the files' sizes, which must then agree
    within a batch (or use ``batch_size=None``). ``subset="both"`` returns
    ``[training, validation]``. The data set has ``class_names`` and ``file_paths``.
    """
    if color_mode not in _CHANNELS:
        raise ValueError(
            '`color_mode` must be one of {"rgb", "rgba", "grayscale"}. '
            f"Received: color_mode={color_mode}"
        )
    if isinstance(image_size, int):
        image_size = (image_size, image_size)
    elif image_size is not None and (
        not isinstance(image_size, (list, tuple)) or len(image_size) != 2
    ):
        raise ValueError(
            "Invalid `image_size` value. Expected a tuple of 2 integers. "
            f"Received: image_size={image_size}"
        )
    interpolation = interpolation.lower()
    if interpolation not in image_utils.DATASET_INTERPOLATIONS:
        raise ValueError(
            f"Argument `interpolation` should be one of {image_utils.DATASET_INTERPOLATIONS}. "
            f"Received: interpolation={interpolation}"
        )
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError(
            "Only one of `crop_to_aspect_ratio` and `pad_to_aspect_ratio` can be True."
        )
    if format not in ("tf", "grain"):
        raise ValueError(f'`format` should be either "tf" or "grain". Received: format={format}')
    data_format = image_utils._data_format(data_format)

    def load(path):
        array = image_utils.decode_image(path, color_mode)
        if image_size is not None:
            array = image_utils.fit_image(
                array, image_size, interpolation, crop_to_aspect_ratio, pad_to_aspect_ratio
            ).astype("float32")
        return array.transpose(2, 0, 1) if data_format == "channels_first" else array

    def collate(images):
        shapes = {image.shape for image in images}
        if len(shapes) > 1:
            raise ValueError(
                f"Images of different sizes {sorted(shapes)} cannot form one batch: pass "
                "`image_size=(height, width)` to resize them, or `batch_size=None`"
            )
        return np.stack(images)

    return directory_dataset(
        directory,
        IMAGE_FORMATS,
        "image",
        load,
        collate,
        labels,
        label_mode,
        class_names,
        batch_size,
        shuffle,
        seed,
        validation_split,
        subset,
        follow_links,
        verbose,
    )


def text_dataset_from_directory(
    directory,
    labels="inferred",
    label_mode="int",
    class_names=None,
    batch_size=32,
    max_length=None,
    shuffle=True,
    seed=None,
    validation_split=None,
    subset=None,
    follow_links=False,
    format="tf",
    verbose=True,
):
    """``.txt`` files in class sub-folders as batches ``(texts, labels)``, as Keras's function.

    Texts are NumPy arrays of Python strings (UTF-8 decoded, cut to ``max_length`` bytes as
    Keras cuts them; a character split by the cut is dropped),
    ready for ``TextVectorization``; labels as in :func:`image_dataset_from_directory`.
    """
    if format not in ("tf", "grain"):
        raise ValueError(f'`format` should be either "tf" or "grain". Received: format={format}')

    def load(path):
        with open(path, "rb") as file:
            data = file.read()
        if max_length is not None:  # Keras cuts bytes, not characters
            data = data[:max_length]
        try:
            return data.decode("utf-8", errors="strict" if max_length is None else "ignore")
        except UnicodeDecodeError as error:
            raise ValueError(f"The text file {path} is not valid UTF-8: {error}") from error

    def collate(texts):
        batch = np.empty(len(texts), dtype=object)
        batch[:] = texts
        return batch

    return directory_dataset(
        directory,
        TEXT_FORMATS,
        "text",
        load,
        collate,
        labels,
        label_mode,
        class_names,
        batch_size,
        shuffle,
        seed,
        validation_split,
        subset,
        follow_links,
        verbose,
    )


def audio_dataset_from_directory(
    directory,
    labels="inferred",
    label_mode="int",
    class_names=None,
    batch_size=32,
    sampling_rate=None,
    output_sequence_length=None,
    ragged=False,
    shuffle=True,
    seed=None,
    validation_split=None,
    subset=None,
    follow_links=False,
    verbose=True,
):
    """``.wav`` files in class sub-folders as batches ``(audio, labels)``, as Keras's function.

    Audio is ``float32`` in [-1, 1], shape ``(batch, samples, channels)``: cut or zero-padded to
    ``output_sequence_length`` samples, else zero-padded to the longest file of the batch.
    ``sampling_rate`` resamples every file to that rate (SciPy's polyphase filter).
    ``ragged=True`` has no ragged tensors to give in gpuk and is refused.
    """
    if ragged and output_sequence_length is not None:
        raise ValueError("Cannot set both `ragged` and `output_sequence_length`")
    if ragged:
        raise ValueError(
            "`ragged=True` is not supported: gpuk has no ragged tensors; leave it False to get "
            "batches zero-padded to their longest file, or set `output_sequence_length`"
        )
    if sampling_rate is not None:
        if not isinstance(sampling_rate, int):
            raise ValueError(
                "`sampling_rate` should have an integer value. "
                f"Received: sampling_rate={sampling_rate}"
            )
        if sampling_rate <= 0:
            raise ValueError(
                f"`sampling_rate` should be higher than 0. Received: sampling_rate={sampling_rate}"
            )

    def load(path):
        audio, rate = read_wav(path)
        if sampling_rate is not None and rate != sampling_rate:
            audio = _resample(audio, rate, sampling_rate)
        if output_sequence_length is not None:
            audio = _fit_length(audio, output_sequence_length)
        return audio

    def collate(clips):
        longest = max(clip.shape[0] for clip in clips)
        channels = {clip.shape[1] for clip in clips}
        if len(channels) > 1:
            raise ValueError(
                f"Audio files with different channel counts {sorted(channels)} in one batch"
            )
        return np.stack([_fit_length(clip, longest) for clip in clips])

    return directory_dataset(
        directory,
        AUDIO_FORMATS,
        "audio",
        load,
        collate,
        labels,
        label_mode,
        class_names,
        batch_size,
        shuffle,
        seed,
        validation_split,
        subset,
        follow_links,
        verbose,
    )


def read_wav(path):
    """A PCM WAV file as ``(float32 array (samples, channels) in [-1, 1], sample rate)``, as
    ``tf.audio.decode_wav`` gives it (16-bit PCM divided by 32768)."""
    try:
        with wave.open(str(path), "rb") as reader:
            width = reader.getsampwidth()
            channels = reader.getnchannels()
            rate = reader.getframerate()
            frames = reader.readframes(reader.getnframes())
    except (wave.Error, EOFError, OSError) as error:
        raise ValueError(f"Could not read the WAV file {path}: {error}") from error
    if width == 2:
        samples = np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0
    elif width == 1:
        samples = (np.frombuffer(frames, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width == 4:
        samples = np.frombuffer(frames, dtype="<i4").astype(np.float32) / 2147483648.0
    else:
        raise ValueError(f"The WAV file {path} has {8 * width}-bit samples; expected 8, 16 or 32")
    if samples.size % channels:
        raise ValueError(f"The WAV file {path} is truncated mid-frame")
    return samples.reshape(-1, channels), rate


def _fit_length(audio, length):
    if audio.shape[0] >= length:
        return audio[:length]
    return np.pad(audio, ((0, length - audio.shape[0]), (0, 0)))


def _resample(audio, rate_in, rate_out):
    try:
        from scipy.signal import resample_poly
    except ImportError as error:
        raise ImportError(
            "Resampling audio (`sampling_rate`) needs SciPy: pip install 'gpuk[data]'"
        ) from error
    divisor = np.gcd(int(rate_in), int(rate_out))
    up, down = int(rate_out) // divisor, int(rate_in) // divisor
    return resample_poly(audio, up, down, axis=0).astype(np.float32)
