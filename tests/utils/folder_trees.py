"""Small deterministic folder trees of images, texts and WAV files, as the keras-io examples
read them. The Keras fixture tool (tools/make_keras_fixtures_utils.py) builds the same trees,
so the expected values it records apply to the trees the tests build."""

import os
import wave

import numpy as np

IMAGE_SIZES = [(12, 16), (20, 14), (9, 9), (16, 12), (10, 21), (15, 15), (8, 11)]


def make_image_tree(root, seed=0):
    """``root/{cat,dog}/...png|jpg`` (plus one nested folder and a file to be ignored)."""
    from PIL import Image

    rng = np.random.RandomState(seed)
    for label, count in (("cat", 5), ("dog", 4)):
        for index in range(count):
            height, width = IMAGE_SIZES[(index + len(label)) % len(IMAGE_SIZES)]
            pixels = rng.randint(0, 256, size=(height, width, 3)).astype("uint8")
            folder = (
                os.path.join(root, label, "nested") if index == 3 else os.path.join(root, label)
            )
            os.makedirs(folder, exist_ok=True)
            Image.fromarray(pixels, "RGB").save(os.path.join(folder, f"{label}_{index:02d}.png"))
    with open(os.path.join(root, "cat", "notes.txt"), "w") as file:
        file.write("not an image")
    os.makedirs(os.path.join(root, ".hidden"), exist_ok=True)
    return root


def make_text_tree(root, seed=0):
    """``root/{neg,pos}/*.txt`` with short UTF-8 reviews."""
    rng = np.random.RandomState(seed)
    words = ["good", "bad", "film", "plot", "très", "bien", "awful", "great", "ok"]
    for label, count in (("neg", 4), ("pos", 5)):
        os.makedirs(os.path.join(root, label), exist_ok=True)
        for index in range(count):
            text = " ".join(rng.choice(words, size=3 + index))
            with open(os.path.join(root, label, f"{index:03d}.txt"), "w", encoding="utf-8") as f:
                f.write(text)
    return root


def make_wav_tree(root, seed=0, rate=8000):
    """``root/{no,yes}/*.wav``: 16-bit mono PCM clips of 40-90 samples."""
    rng = np.random.RandomState(seed)
    for label, count in (("no", 3), ("yes", 4)):
        os.makedirs(os.path.join(root, label), exist_ok=True)
        for index in range(count):
            samples = rng.randint(-32768, 32767, size=40 + 10 * index).astype("<i2")
            with wave.open(os.path.join(root, label, f"clip{index}.wav"), "wb") as writer:
                writer.setnchannels(1)
                writer.setsampwidth(2)
                writer.setframerate(rate)
                writer.writeframes(samples.tobytes())
    return root
