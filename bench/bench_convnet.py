"""CPU benchmark of small convnets: gpuk (NumPy backend) against PyTorch and Keras 3 (JAX), as
ratios. Each framework runs in its own subprocess; Keras runs under ``--keras-python`` (its
own virtual environment, ``/work/kvenv/bin/python`` when present). Not run by the tests.

    python bench/bench_convnet.py            # all cases, all frameworks found
    python bench/bench_convnet.py --quick    # tiny sizes, to check that it runs

Cases (median wall time of one call):
  mnist_train:    keras-io's mnist_convnet (Conv2D 32 -> MaxPool -> Conv2D 64 -> MaxPool ->
                  Flatten -> Dropout -> Dense 10), one Adam training step, batch 128, 28x28x1.
  mnist_predict:  the same model, forward pass on 128 images.
  conv1d_train:   three Conv1D(64, 3, "same") + ReLU, GlobalAveragePooling1D, Dense 2 (the
                  keras-io FordA classifier without its BatchNormalization), batch 32 x 500.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

FRAMEWORKS = ("gpuk", "torch", "keras")
CASES = ("mnist_train", "mnist_predict", "conv1d_train")


def _timeit(fn, repeat, warmup=2):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2]


def _data(args):
    import numpy as np

    rng = np.random.default_rng(0)
    n, steps = (16, 40) if args.quick else (128, 500)
    xm = rng.uniform(size=(n, 28, 28, 1)).astype("float32")
    ym = np.eye(10, dtype="float32")[rng.integers(0, 10, n)]
    xt = rng.normal(size=(32, steps, 1)).astype("float32")
    yt = rng.integers(0, 2, 32)
    return xm, ym, xt, yt


def run_keras_api(name, args):
    if name == "keras":
        os.environ.setdefault("KERAS_BACKEND", "jax")
        import keras
    else:
        import gpuk as keras
    layers = keras.layers
    xm, ym, xt, yt = _data(args)
    mnist = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ]
    )
    mnist.compile(loss="categorical_crossentropy", optimizer="adam")
    results = {"mnist_train": _timeit(lambda: mnist.train_on_batch(xm, ym), args.repeat)}
    results["mnist_predict"] = _timeit(lambda: mnist.predict_on_batch(xm), args.repeat)
    inputs = keras.Input(shape=xt.shape[1:])
    x = inputs
    for _ in range(3):
        x = layers.Activation("relu")(layers.Conv1D(64, 3, padding="same")(x))
    outputs = layers.Dense(2, activation="softmax")(layers.GlobalAveragePooling1D()(x))
    conv1d = keras.Model(inputs, outputs)
    conv1d.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    results["conv1d_train"] = _timeit(lambda: conv1d.train_on_batch(xt, yt), args.repeat)
    return results


def run_torch(args):
    import torch
    from torch import nn

    torch.set_num_threads(os.cpu_count() or 1)
    xm, ym, xt, yt = (torch.from_numpy(a) for a in _data(args))
    xm = xm.permute(0, 3, 1, 2).contiguous()
    xt = xt.permute(0, 2, 1).contiguous()
    mnist = nn.Sequential(
        nn.Conv2d(1, 32, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Dropout(0.5),
        nn.Linear(1600, 10),
    )
    conv1d = nn.Sequential(
        nn.Conv1d(1, 64, 3, padding=1),
        nn.ReLU(),
        nn.Conv1d(64, 64, 3, padding=1),
        nn.ReLU(),
        nn.Conv1d(64, 64, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool1d(1),
        nn.Flatten(),
        nn.Linear(64, 2),
    )

    def stepper(model, x, loss_fn):
        optimizer = torch.optim.Adam(model.parameters(), eps=1e-7)

        def step():
            optimizer.zero_grad()
            loss_fn(model(x)).backward()
            optimizer.step()

        return step

    labels = ym.argmax(1)
    results = {
        "mnist_train": _timeit(
            stepper(mnist, xm, lambda out: nn.functional.cross_entropy(out, labels)), args.repeat
        )
    }

    def predict():
        with torch.no_grad():
            mnist.eval()
            torch.softmax(mnist(xm), -1)
            mnist.train()

    results["mnist_predict"] = _timeit(predict, args.repeat)
    results["conv1d_train"] = _timeit(
        stepper(conv1d, xt, lambda out: nn.functional.cross_entropy(out, yt)), args.repeat
    )
    return results


def child(name, args):
    runner = run_torch if name == "torch" else (lambda a: run_keras_api(name, a))
    try:
        results = runner(args)
    except ImportError as error:
        results = {"missing": str(error)}
    results["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(results))


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=7, help="timed repetitions (median)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks that it runs")
    parser.add_argument("--frameworks", default=",".join(FRAMEWORKS))
    default_keras = "/work/kvenv/bin/python"
    parser.add_argument(
        "--keras-python",
        default=default_keras if os.path.exists(default_keras) else sys.executable,
        help="the Python that has Keras 3 and JAX",
    )
    parser.add_argument("--child", choices=FRAMEWORKS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.repeat = 1
    if args.child:
        child(args.child, args)
        return 0
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    table = {}
    for name in args.frameworks.split(","):
        python = args.keras_python if name == "keras" else sys.executable
        command = [python, __file__, "--child", name, "--repeat", str(args.repeat)]
        command += ["--quick"] if args.quick else []
        env = dict(os.environ, GPUK_DEVICE="cpu", KERAS_BACKEND="jax")
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        done = subprocess.run(command, capture_output=True, text=True, env=env)
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        table[name] = json.loads(lines[-1]) if lines else {"missing": done.stderr.strip()[-300:]}
    print_table(table, args)
    return 0


def print_table(table, args):
    print(f"\nCPU convnet benchmark, median of {args.repeat} ({os.cpu_count()} CPUs)")
    print(
        f"{'case':16s} "
        + " ".join(f"{h:>12s}" for h in FRAMEWORKS)
        + f" {'torch/gpuk':>11s} {'keras/gpuk':>11s}"
    )
    gpuk = table.get("gpuk", {})
    for case in (*CASES, "peak_rss_mb"):
        unit, scale = ("MB", 1) if case == "peak_rss_mb" else ("ms", 1e3)
        cells = []
        for name in FRAMEWORKS:
            value = table.get(name, {}).get(case)
            cells.append(f"{value * scale:9.1f} {unit}" if value is not None else f"{'-':>12s}")
        ratios = []
        for name in ("torch", "keras"):
            value, base = table.get(name, {}).get(case), gpuk.get(case)
            ratios.append(f"{value / base:10.2f}x" if value is not None and base else f"{'-':>11s}")
        print(f"{case:16s} " + " ".join(cells) + " " + " ".join(ratios))
    for name, results in table.items():
        if "missing" in results:
            print(f"{name}: not run ({results['missing']})")
    print("ratios > 1 mean gpuk is faster (or smaller)")


if __name__ == "__main__":
    sys.exit(main())
