"""CPU benchmarks: gpuk (NumPy backend) side by side with PyTorch and Keras 3, as ratios.

Each framework runs in its own subprocess (so its peak memory is its own); the parent prints
one table. Frameworks that are not installed are reported as missing, not faked.

    python bench/bench_cpu.py                 # all cases, all frameworks found
    python bench/bench_cpu.py --steps 200     # time steps of the denoiser sequences
    python bench/bench_cpu.py --quick         # tiny sizes, to check that it runs

Cases:
  denoiser: the rnnoise-style two-output model (Dense 24 tanh, GRUs 24/48/96 with
            relu/relu/tanh, concatenations, 42 features, batch 32): one training step.
            PyTorch has no relu GRU in nn.GRU, so its twin is a per-step loop of the same
            math; a tanh variant also runs with torch.nn.GRU (its fast path).
  mlp:      a 64-64-10 classifier training step (batch 32), the digits example's model.
  adam:     one Adam update of 87k float32 parameters.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch_twins  # noqa: E402 - the PyTorch models, next to this file

FRAMEWORKS = ("gpuk", "torch", "keras")


def _timeit(fn, repeat, warmup=1):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2]


def _data(steps, batch=32, seed=0):
    import numpy as np

    rng = np.random.default_rng(seed)
    x = rng.uniform(size=(batch, steps, 42)).astype("float32")
    y_denoise = rng.uniform(size=(batch, steps, 22)).astype("float32")
    y_vad = (rng.uniform(size=(batch, steps, 1)) > 0.5).astype("float32")
    return x, y_denoise, y_vad


def _keras_like_denoiser(keras, relu=True):
    layers = keras.layers
    act = "relu" if relu else "tanh"
    inputs = keras.Input(shape=(None, 42))
    dense = layers.Dense(24, activation="tanh")(inputs)
    vad_gru = layers.GRU(24, activation=act if relu else "tanh", return_sequences=True)(dense)
    vad = layers.Dense(1, activation="sigmoid", name="vad_output")(vad_gru)
    noise_in = layers.concatenate([dense, vad_gru, inputs])
    noise_gru = layers.GRU(48, activation=act, return_sequences=True)(noise_in)
    denoise_in = layers.concatenate([vad_gru, noise_gru, inputs])
    denoise_gru = layers.GRU(96, activation="tanh", return_sequences=True)(denoise_in)
    denoise = layers.Dense(22, activation="sigmoid", name="denoise_output")(denoise_gru)
    model = keras.Model(inputs, [denoise, vad])
    model.compile(optimizer="adam", loss=["mse", "binary_crossentropy"], loss_weights=[10, 0.5])
    return model


def run_gpuk_or_keras(name, args):
    import numpy as np

    if name == "keras":
        os.environ.setdefault("KERAS_BACKEND", "jax")
        import keras
    else:
        import gpuk as keras
    results = {}
    x, yd, yv = _data(args.steps)
    for label, relu in (("denoiser_relu", True), ("denoiser_tanh", False)):
        model = _keras_like_denoiser(keras, relu)
        results[label] = _timeit(lambda m=model: m.train_on_batch(x, [yd, yv]), args.repeat)
    mlp_in = keras.Input(shape=(64,))
    hidden = keras.layers.Dense(64, activation="relu")(mlp_in)
    mlp = keras.Model(mlp_in, keras.layers.Dense(10, activation="softmax")(hidden))
    mlp.compile("adam", "sparse_categorical_crossentropy")
    xm = np.random.default_rng(0).uniform(size=(32, 64)).astype("float32")
    ym = np.arange(32) % 10
    results["mlp"] = _timeit(lambda: mlp.train_on_batch(xm, ym), args.repeat * 10)
    params = [keras.Variable(np.zeros((87_000,), "float32"))]
    grads = [np.ones((87_000,), "float32")]
    optimizer = keras.optimizers.Adam()
    optimizer.apply_gradients(zip(grads, params))
    results["adam_87k"] = _timeit(
        lambda: optimizer.apply_gradients(zip(grads, params)), args.repeat * 10
    )
    return results


def run_torch(args):
    import numpy as np
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    results = {}
    x, yd, yv = (torch.from_numpy(a) for a in _data(args.steps))

    StepGRU = torch_twins.step_gru_class()
    CudnnStyleGRU = torch_twins.nn_gru_class()
    denoiser = torch_twins.denoiser

    def step_fn(model):
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)

        def step():
            optimizer.zero_grad()
            denoise, vad = model(x)
            loss = 10 * torch.mean(
                (denoise - yd) ** 2
            ) + 0.5 * torch.nn.functional.binary_cross_entropy(vad, yv)
            loss.backward()
            optimizer.step()

        return step

    results["denoiser_relu"] = _timeit(step_fn(denoiser(StepGRU, True)), args.repeat)
    results["denoiser_tanh"] = _timeit(step_fn(denoiser(StepGRU, False)), args.repeat)
    results["denoiser_tanh_nn.GRU"] = _timeit(step_fn(denoiser(CudnnStyleGRU, False)), args.repeat)
    mlp = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))
    optimizer = torch.optim.Adam(mlp.parameters(), eps=1e-7)
    xm = torch.from_numpy(np.random.default_rng(0).uniform(size=(32, 64)).astype("float32"))
    ym = torch.arange(32) % 10

    def mlp_step():
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(mlp(xm), ym).backward()
        optimizer.step()

    results["mlp"] = _timeit(mlp_step, args.repeat * 10)
    param = torch.nn.Parameter(torch.zeros(87_000))
    param.grad = torch.ones(87_000)
    adam = torch.optim.Adam([param], eps=1e-7)
    results["adam_87k"] = _timeit(adam.step, args.repeat * 10)
    return results


def child(name, args):
    runner = run_torch if name == "torch" else (lambda a: run_gpuk_or_keras(name, a))
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
    parser.add_argument("--steps", type=int, default=100, help="time steps per sequence")
    parser.add_argument("--repeat", type=int, default=5, help="timed repetitions (median)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks that it runs")
    parser.add_argument("--frameworks", default=",".join(FRAMEWORKS))
    parser.add_argument("--child", choices=FRAMEWORKS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.steps, args.repeat = 4, 1
    if args.child:
        child(args.child, args)
        return 0
    table = {}
    for name in args.frameworks.split(","):
        command = [
            sys.executable,
            __file__,
            "--child",
            name,
            "--steps",
            str(args.steps),
            "--repeat",
            str(args.repeat),
        ]
        done = subprocess.run(
            command, capture_output=True, text=True, env=dict(os.environ, GPUK_DEVICE="cpu")
        )
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        table[name] = json.loads(lines[-1]) if lines else {"missing": done.stderr.strip()[-300:]}
    print_table(table, args)
    return 0


def print_table(table, args):
    cases = [
        "denoiser_relu",
        "denoiser_tanh",
        "denoiser_tanh_nn.GRU",
        "mlp",
        "adam_87k",
        "peak_rss_mb",
    ]
    print(f"\nCPU benchmark: batch 32, {args.steps} time steps, median of {args.repeat}")
    header = ["gpuk", "torch", "keras"]
    print(
        f"{'case':24s} " + " ".join(f"{h:>12s}" for h in header) + f" {'torch/gpuk':>11s}"
        f" {'keras/gpuk':>11s}"
    )
    gpuk = table.get("gpuk", {})
    for case in cases:
        cells, ratios = [], []
        for name in FRAMEWORKS:
            value = table.get(name, {}).get(case)
            unit = "MB" if case == "peak_rss_mb" else "ms"
            scale = 1 if case == "peak_rss_mb" else 1e3
            cells.append(f"{value * scale:9.2f} {unit}" if value is not None else f"{'-':>12s}")
        for name in ("torch", "keras"):
            value, base = table.get(name, {}).get(case), gpuk.get(case, gpuk.get("denoiser_tanh"))
            ok = value is not None and base
            ratios.append(f"{value / base:10.2f}x" if ok else f"{'-':>11s}")
        print(f"{case:24s} " + " ".join(cells) + " " + " ".join(ratios))
    for name, results in table.items():
        if "missing" in results:
            print(f"{name}: not run ({results['missing']})")
    print(
        "ratios > 1 mean gpuk is faster (or smaller); denoiser_tanh_nn.GRU is compared with "
        "gpuk's tanh denoiser"
    )


if __name__ == "__main__":
    sys.exit(main())
