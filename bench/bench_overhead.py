"""Issue 14's three workloads, gpuk (NumPy backend) and PyTorch alternating in one process.

    python bench/bench_overhead.py                # times, ratios, ops per step
    python bench/bench_overhead.py --rounds 9     # more alternations (median reported)
    python bench/bench_overhead.py --memory       # also peak RSS, each framework alone
    python bench/bench_overhead.py --profile mlp_train   # cProfile one case (gpuk)

Workloads (Keras model / PyTorch twin, same shapes and math):
  mlp:      16-64-64-10 (relu, relu, softmax), batch 128, Adam, sparse categorical CE.
  gru:      GRU(128) over 100 steps of 32 features, Dense(10) softmax, batch 64, Adam.
  denoiser: rnnoise-style two outputs (Dense 24 tanh; GRUs 24/48/96 relu/relu/tanh;
            concatenations; 42 features), 200 steps, batch 32, mse*10 + bce*0.5, Adam.
            PyTorch has no relu GRU in nn.GRU, so its twin is a per-step loop of the same math
            (as bench/bench_cpu.py does); ``denoiser_tanh`` uses tanh GRUs and torch.nn.GRU.

Rounds alternate gpuk and PyTorch case by case, so both see the same machine load; each round
times ``--repeat`` calls and keeps their median, the table reports the median over rounds.
"Host us/step" for the MLP is the step time minus a NumPy-only run of the same math
(forward, backward, Adam) on the same arrays. "Ops/step" counts autograd Function
applications (gpuk's array operations with a gradient rule) in one call.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch_twins  # noqa: E402 - the PyTorch models, next to this file

CASES = (
    "mlp_train",
    "mlp_predict",
    "gru_train",
    "gru_predict",
    "denoiser_train",
    "denoiser_predict",
    "denoiser_tanh_train",
    "denoiser_tanh_predict",
)


def _median_time(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def data(seed=0):
    rng = np.random.default_rng(seed)
    f32 = np.float32
    out = {
        "mlp": (rng.standard_normal((128, 16)).astype(f32), np.arange(128) % 10),
        "gru": (rng.standard_normal((64, 100, 32)).astype(f32), np.arange(64) % 10),
        "denoiser": (
            rng.uniform(size=(32, 200, 42)).astype(f32),
            rng.uniform(size=(32, 200, 22)).astype(f32),
            (rng.uniform(size=(32, 200, 1)) > 0.5).astype(f32),
        ),
    }
    return out


# ----------------------------------------------------------------------------------- gpuk
def gpuk_models(keras):
    layers = keras.layers
    models = {}
    inp = keras.Input((16,))
    h = layers.Dense(64, activation="relu")(inp)
    h = layers.Dense(64, activation="relu")(h)
    mlp = keras.Model(inp, layers.Dense(10, activation="softmax")(h))
    mlp.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    models["mlp"] = mlp
    inp = keras.Input((100, 32))
    gru = keras.Model(inp, layers.Dense(10, activation="softmax")(layers.GRU(128)(inp)))
    gru.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    models["gru"] = gru
    for name, relu in (("denoiser", True), ("denoiser_tanh", False)):
        act = "relu" if relu else "tanh"
        inputs = keras.Input(shape=(None, 42))
        dense = layers.Dense(24, activation="tanh")(inputs)
        vad_gru = layers.GRU(24, activation=act, return_sequences=True)(dense)
        vad = layers.Dense(1, activation="sigmoid", name="vad_output")(vad_gru)
        noise_in = layers.concatenate([dense, vad_gru, inputs])
        noise_gru = layers.GRU(48, activation=act, return_sequences=True)(noise_in)
        denoise_in = layers.concatenate([vad_gru, noise_gru, inputs])
        denoise_gru = layers.GRU(96, activation="tanh", return_sequences=True)(denoise_in)
        denoise = layers.Dense(22, activation="sigmoid", name="denoise_output")(denoise_gru)
        model = keras.Model(inputs, [denoise, vad])
        model.compile(optimizer="adam", loss=["mse", "binary_crossentropy"], loss_weights=[10, 0.5])
        models[name] = model
    return models


def gpuk_cases(keras):
    d = data()
    m = gpuk_models(keras)
    xd, yd, yv = d["denoiser"]
    return {
        "mlp_train": lambda: m["mlp"].train_on_batch(*d["mlp"]),
        "mlp_predict": lambda: m["mlp"].predict_on_batch(d["mlp"][0]),
        "gru_train": lambda: m["gru"].train_on_batch(*d["gru"]),
        "gru_predict": lambda: m["gru"].predict_on_batch(d["gru"][0]),
        "denoiser_train": lambda: m["denoiser"].train_on_batch(xd, [yd, yv]),
        "denoiser_predict": lambda: m["denoiser"].predict_on_batch(xd),
        "denoiser_tanh_train": lambda: m["denoiser_tanh"].train_on_batch(xd, [yd, yv]),
        "denoiser_tanh_predict": lambda: m["denoiser_tanh"].predict_on_batch(xd),
    }


def count_ops(fn):
    """Autograd Function applications during one call of ``fn``."""
    from gpuk.autograd import function

    original = function.Function.__dict__["apply"]
    counter = [0]

    def counting(cls, *inputs, **params):
        counter[0] += 1
        return original.__func__(cls, *inputs, **params)

    function.Function.apply = classmethod(counting)
    try:
        fn()
    finally:
        function.Function.apply = original
    return counter[0]


def numpy_mlp_step():
    """The MLP's math alone in NumPy (forward, backward, Adam): the floor of a train step."""
    rng = np.random.default_rng(1)
    x, y = data()["mlp"]
    shapes = [(16, 64), (64,), (64, 64), (64,), (64, 10), (10,)]
    params = [rng.standard_normal(s).astype(np.float32) * 0.1 for s in shapes]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    onehot = np.eye(10, dtype=np.float32)[y]

    def step():
        w1, b1, w2, b2, w3, b3 = params
        h1 = np.maximum(x @ w1 + b1, 0)
        h2 = np.maximum(h1 @ w2 + b2, 0)
        z = h2 @ w3 + b3
        e = np.exp(z - z.max(1, keepdims=True))
        p = e / e.sum(1, keepdims=True)
        g = (p - onehot) / len(x)
        g2 = (g @ w3.T) * (h2 > 0)
        g1 = (g2 @ w2.T) * (h1 > 0)
        grads = [x.T @ g1, g1.sum(0), h1.T @ g2, g2.sum(0), h2.T @ g, g.sum(0)]
        for p_, g_, m_, v_ in zip(params, grads, m, v):
            m_ *= 0.9
            m_ += 0.1 * g_
            v_ *= 0.999
            v_ += 0.001 * g_ * g_
            p_ -= 1e-3 * m_ / (np.sqrt(v_) + 1e-7)

    return step


# ---------------------------------------------------------------------------------- torch
def torch_cases():
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    d = {k: tuple(torch.from_numpy(np.asarray(a)) for a in v) for k, v in data().items()}

    StepGRU = torch_twins.step_gru_class()
    NNGRU = torch_twins.nn_gru_class()
    denoiser = torch_twins.denoiser

    class GRUClassifier(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = torch.nn.GRU(32, 128, batch_first=True)
            self.out = torch.nn.Linear(128, 10)

        def forward(self, x):
            return torch.softmax(self.out(self.gru(x)[0][:, -1]), -1)

    mlp = torch.nn.Sequential(
        torch.nn.Linear(16, 64),
        torch.nn.ReLU(),
        torch.nn.Linear(64, 64),
        torch.nn.ReLU(),
        torch.nn.Linear(64, 10),
        torch.nn.Softmax(-1),
    )

    def classifier_step(model, x, y):
        opt = torch.optim.Adam(model.parameters(), eps=1e-7)

        def step():
            opt.zero_grad()
            p = model(x)
            loss = torch.nn.functional.nll_loss(torch.log(p.clamp(1e-7, 1 - 1e-7)), y)
            loss.backward()
            opt.step()
            return loss.item()

        return step

    def denoiser_step(model, x, yd, yv):
        opt = torch.optim.Adam(model.parameters(), eps=1e-7)

        def step():
            opt.zero_grad()
            den, vad = model(x)
            loss = 10 * torch.mean(
                (den - yd) ** 2
            ) + 0.5 * torch.nn.functional.binary_cross_entropy(vad, yv)
            loss.backward()
            opt.step()
            return loss.item()

        return step

    def predict(model, x):
        def run():
            with torch.no_grad():
                out = model(x)
            return [o.numpy() for o in out] if isinstance(out, tuple) else out.numpy()

        return run

    gru = GRUClassifier()
    den = denoiser(StepGRU, True)
    den_tanh = denoiser(NNGRU, False)
    return {
        "mlp_train": classifier_step(mlp, *d["mlp"]),
        "mlp_predict": predict(mlp, d["mlp"][0]),
        "gru_train": classifier_step(gru, *d["gru"]),
        "gru_predict": predict(gru, d["gru"][0]),
        "denoiser_train": denoiser_step(den, *d["denoiser"]),
        "denoiser_predict": predict(den, d["denoiser"][0]),
        "denoiser_tanh_train": denoiser_step(den_tanh, *d["denoiser"]),
        "denoiser_tanh_predict": predict(den_tanh, d["denoiser"][0]),
    }


def _repeat_for(case):
    return 30 if case.startswith("mlp") else 3


def run_alternating(cases, rounds, settle=0.2):
    """Time each case, gpuk and PyTorch alternating; ``settle`` seconds of sleep before each
    framework's turn let the other's idle worker threads stop spinning (OpenBLAS's spin for
    ~100 ms after a multi-threaded product, OpenMP's for a while after a parallel region),
    so neither is timed on a core the other still holds."""
    import gpuk

    frameworks = {"gpuk": gpuk_cases(gpuk), "torch": torch_cases()}
    times = {name: {c: [] for c in cases} for name in frameworks}
    for fns in frameworks.values():  # warm up (builds, first-call allocations)
        for c in cases:
            fns[c]()
            fns[c]()
    for _ in range(rounds):
        for c in cases:
            for name, fns in frameworks.items():
                time.sleep(settle)
                times[name][c].append(_median_time(fns[c], _repeat_for(c)))
    ops = {c: count_ops(frameworks["gpuk"][c]) for c in cases}
    floor = _median_time(numpy_mlp_step(), 200) if "mlp_train" in cases else None
    return times, ops, floor


def high_water_mb():
    """This process's peak RSS in MB: ``VmHWM`` of /proc/self/status, which belongs to the
    address space (``ru_maxrss`` survives fork and exec, so a child started by a large
    parent reports at least the parent's peak)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    import resource  # noqa: PLC0415 - not Linux: the best there is

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_memory(framework, cases):
    """Peak RSS (MB) of a fresh process running each case a few times."""
    here = os.path.dirname(os.path.abspath(__file__))
    code = (
        f"import sys, json; sys.path.insert(0, {here!r}); import bench_overhead as b\n"
        "import gpuk\n"
        f"fns = b.gpuk_cases(gpuk) if {framework!r} == 'gpuk' else b.torch_cases()\n"
        f"for c in {list(cases)!r}:\n    [fns[c]() for _ in range(3)]\n"
        "print(json.dumps(b.high_water_mb()))\n"
    )
    if framework == "torch":
        code = code.replace("import gpuk\n", "import torch\n")
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=dict(os.environ, GPUK_DEVICE="cpu"),
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    try:
        return float(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return float("nan")


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--settle",
        type=float,
        default=0.2,
        help="seconds of sleep before each framework's turn (0: back to back)",
    )
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--memory", action="store_true")
    parser.add_argument("--json", help="write the raw numbers here")
    parser.add_argument("--profile", help="cProfile one gpuk case and print the top entries")
    args = parser.parse_args()
    os.environ.setdefault("GPUK_DEVICE", "cpu")
    if args.profile:
        import cProfile
        import pstats

        import gpuk

        fn = gpuk_cases(gpuk)[args.profile]
        fn()
        fn()
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(_repeat_for(args.profile) * 3):
            fn()
        profile.disable()
        pstats.Stats(profile).sort_stats("tottime").print_stats(40)
        return 0
    cases = args.cases.split(",")
    times, ops, floor = run_alternating(cases, args.rounds, args.settle)
    print(f"load average at start/end: {os.getloadavg()[0]:.1f}")
    print(f"{'case':24s} {'gpuk ms':>9s} {'torch ms':>9s} {'gpuk/torch':>10s} {'ops/step':>9s}")
    result = {"cases": {}, "load": os.getloadavg()[0]}
    for c in cases:
        g, t = statistics.median(times["gpuk"][c]), statistics.median(times["torch"][c])
        result["cases"][c] = {"gpuk_ms": g * 1e3, "torch_ms": t * 1e3, "ops": ops[c]}
        print(f"{c:24s} {g * 1e3:9.3f} {t * 1e3:9.3f} {g / t:9.2f}x {ops[c]:9d}")
    if floor is not None:
        host = statistics.median(times["gpuk"]["mlp_train"]) - floor
        result["mlp_numpy_floor_us"] = floor * 1e6
        result["mlp_host_us_per_step"] = host * 1e6
        print(
            f"MLP train: NumPy-only math {floor * 1e6:.0f} us; "
            f"gpuk host overhead {host * 1e6:.0f} us/step"
        )
    if args.memory:
        for fw in ("gpuk", "torch"):
            result[f"{fw}_peak_rss_mb"] = peak_memory(fw, cases)
        print(
            f"peak RSS: gpuk {result['gpuk_peak_rss_mb']:.0f} MB, "
            f"torch {result['torch_peak_rss_mb']:.0f} MB"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
