"""Host cost of the data path and the loops, without the math (docs/data-path.md).

    python bench/bench_data_path.py

The steps are replaced by functions that return at once, so what is timed is what
``fit``/``evaluate``/``predict`` do around them per batch (the EpochIterator, the adapter's
slicing and packing, the callback dispatch), amortised with the per-call setup over 100
batches, and the adaptation of one batch by ``*_on_batch`` (``single_batch``). CPU time
(``time.process_time``), best of 15 repeats, so that a busy machine disturbs less.
"""

import os
import sys
import time
import timeit

import numpy as np

os.environ.setdefault("GPUK_DEVICE", "cpu")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import gpuk as keras  # noqa: E402
from gpuk.models.epoch_iterator import single_batch  # noqa: E402


def _best(fn, number, per=1):
    times = timeit.repeat(fn, number=number, repeat=15, timer=time.process_time)
    return min(times) / number / per * 1e6


def main():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((16,)), keras.layers.Dense(10)])
    model.compile("sgd", "mse")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3200, 16)).astype("float32")
    y = rng.standard_normal((3200, 10)).astype("float32")
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    logs = model.get_metrics_result()
    model.train_step = lambda data: logs
    model.test_step = lambda data: logs
    model.predict_step = lambda data: data
    rows = {
        "fit, per batch": _best(
            lambda: model.fit(x, y, batch_size=32, verbose=0, shuffle=False), 3, 100
        ),
        "fit shuffled, per batch": _best(lambda: model.fit(x, y, batch_size=32, verbose=0), 3, 100),
        "evaluate, per batch": _best(
            lambda: model.evaluate(x, y, batch_size=32, verbose=0), 3, 100
        ),
        "predict, per batch": _best(lambda: model.predict(x, batch_size=32, verbose=0), 3, 100),
        "single_batch(x, y)": _best(lambda: single_batch(x[:128], y[:128]), 2000),
        "single_batch(x)": _best(lambda: single_batch(x[:128]), 2000),
    }
    for name, micros in rows.items():
        print(f"{name:28s} {micros:8.2f} us")


if __name__ == "__main__":
    main()
