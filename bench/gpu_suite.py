"""One prepared GPU run: the GPU tests, the kernel benchmarks and the PyTorch baselines.

Usage on a GPU machine (under 8 minutes on an H200 with a warm kernel cache)::

    python bench/gpu_suite.py            # everything, one table printed last
    python bench/gpu_suite.py --skip-tests --quick
    python bench/gpu_suite.py --dry-run  # on a CPU: list what would run (tested in CI)

Rows (targets from issue 7; a benchmark that cannot run prints its reason in the table):

* GPU tests: ``pytest tests/kernels`` and then the whole suite with ``GPUK_DEVICE=gpu``.
* GRU kernel per-time-step latency, forward and backward, hidden 24/48/96/128, batch 32, 2000
  steps (targets: <= 0.5 us forward, <= 1.0 us backward at hidden <= 96).
* Denoiser training step (rnnoise-style: Dense 24 tanh, GRUs 24/48/96 relu/relu/tanh,
  reset_after=False, two outputs, 42 features, batch 32, 2000 steps) through gpuk's Keras API
  (``train_on_batch``), against the same math as a PyTorch per-step loop, and a tanh /
  reset_after=True variant against PyTorch ``nn.GRU`` (cuDNN). Targets: <= 15 ms, >= 50x the
  per-step loop, >= cuDNN.
* Adam (fused, multi-tensor) at 87k and 16M float32 parameters vs copy bandwidth
  (targets: >= 80% at 16M, <= 5 us at 87k).
* Softmax-cross-entropy 16384 x 32768 float32 vs copy bandwidth (target >= 60%).

The denoiser part uses gpuk.layers / Model.train_on_batch as written by other areas; it is
only exercised on a GPU machine.
"""

import argparse
import functools
import os
import pathlib
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ROWS = []
#: Seconds for the whole GPU test run: a fresh machine compiles every kernel with NVRTC first
#: (gpuk's 3 files and a few hundred CuPy elementwise kernels, ~0.2-1 s each).
TEST_TIMEOUT = 1200


def row(name, value, unit, target="", ratio="", note=""):
    ROWS.append((name, value, unit, target, ratio, note))


def fmt(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def print_table():
    header = ("benchmark", "value", "unit", "target", "ratio", "note")
    table = [header] + [tuple(fmt(c) for c in r) for r in ROWS]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    print("\n" + "=" * 30 + " gpuk GPU suite " + "=" * 30)
    for index, r in enumerate(table):
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        if index == 0:
            print("  ".join("-" * w for w in widths))


def test_commands(timeout):
    """(label, pytest arguments, seconds) of the test runs. Neither stops at the first failure
    (the table must show every failure), and the limits allow for NVRTC compiling every gpuk
    kernel and CuPy's own elementwise kernels on a fresh machine (empty kernel cache)."""
    return (
        (
            "GPU tests: tests/kernels",
            ["tests/kernels", "-q", "-p", "no:cacheprovider"],
            timeout // 2,
        ),
        ("GPU tests: whole suite", ["tests", "-q", "-p", "no:cacheprovider"], timeout),
    )


def run_tests(timeout):
    env = dict(os.environ, GPUK_DEVICE="gpu")
    for label, args, limit in test_commands(timeout):
        start = time.perf_counter()
        try:
            result = subprocess.run(
                [sys.executable, "-m", "pytest", "-q", *args],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=limit,
            )
            summary = (result.stdout.strip().splitlines() or ["(no output)"])[-1]
            status = "pass" if result.returncode == 0 else f"FAIL rc={result.returncode}"
            if result.returncode:
                print(result.stdout[-4000:], result.stderr[-2000:])
        except subprocess.TimeoutExpired:
            summary, status = f"timed out after {limit} s", "TIMEOUT"
        row(label, round(time.perf_counter() - start, 1), "s", "pass", status, summary[:60])


class Timer:
    """CUDA-event timing: median milliseconds of `repeat` calls after `warmup` calls."""

    def __init__(self, cp):
        self.cp = cp

    def __call__(self, fn, repeat=10, warmup=2):
        cp = self.cp
        for _ in range(warmup):
            fn()
        times = []
        for _ in range(repeat):
            start, stop = cp.cuda.Event(), cp.cuda.Event()
            start.record()
            fn()
            stop.record()
            stop.synchronize()
            times.append(cp.cuda.get_elapsed_time(start, stop))
        times.sort()
        return times[len(times) // 2]


def copy_bandwidth(cp, timer, nbytes):
    """Device-to-device copy bandwidth in GB/s (read + write bytes per second)."""
    a = cp.ones(nbytes // 4, cp.float32)
    b = cp.empty_like(a)
    ms = timer(lambda: cp.copyto(b, a), repeat=20)
    return 2 * nbytes / (ms * 1e-3) / 1e9


def bench_gru_kernel(cp, timer, quick):
    import numpy as np

    from gpuk.ops.fused import gru as fused_gru
    from gpuk.ops.recurrent import Activation

    batch, steps = 32, 500 if quick else 2000
    for units in (24, 48, 96, 128):
        rng = np.random.default_rng(units)
        x = cp.asarray(rng.normal(size=(batch, steps, 42)).astype(np.float32))
        k = cp.asarray((rng.normal(size=(42, 3 * units)) * 0.1).astype(np.float32))
        rk = cp.asarray((rng.normal(size=(units, 3 * units)) * 0.1).astype(np.float32))
        b = cp.zeros((2, 3 * units), np.float32)
        h0 = cp.zeros((batch, units), np.float32)
        fn = fused_gru.GRUFused(
            act=int(Activation.RELU),
            ract=int(Activation.SIGMOID),
            reset_after=True,
            go_backwards=False,
            has_mask=False,
            bias_shape=(2, 3 * units),
        )
        fn.needs_input_grad = (False, False, True, True, True)
        forward_ms = timer(functools.partial(fn.forward, x, k, rk, b, h0), repeat=5)
        gseq = cp.ones((batch, steps, units), np.float32)
        fn.forward(x, k, rk, b, h0)
        backward_ms = timer(functools.partial(fn.backward, gseq, None), repeat=5)
        for label, ms, target in (("forward", forward_ms, 0.5), ("backward", backward_ms, 1.0)):
            per_step = ms * 1e3 / steps
            row(
                f"GRU kernel {label} U={units} (incl. matmuls)",
                per_step,
                "us/step",
                f"<= {target}" if units <= 96 else "",
                f"{target / per_step:.2f}x" if units <= 96 else "",
            )


def bench_adam(cp, timer, bandwidth):
    import numpy as np

    from gpuk.ops.fused import adam
    from gpuk.optimizers.adam import adam_alpha

    for total, shapes in (
        (
            87_000,
            [
                (42, 24),
                (24,),
                (66, 72),
                (24, 72),
                (2, 72),
                (90, 144),
                (48, 144),
                (2, 144),
                (186, 288),
                (96, 288),
                (2, 288),
                (96, 22),
                (22,),
                (24, 1),
                (1,),
            ],
        ),
        (16_000_000, [(4000, 4000)]),
    ):
        params = [cp.zeros(s, np.float32) for s in shapes]
        n = sum(int(np.prod(s)) for s in shapes)
        grads = [cp.ones(s, np.float32) for s in shapes]
        ms_ = [cp.zeros(s, np.float32) for s in shapes]
        vs = [cp.zeros(s, np.float32) for s in shapes]
        alpha = adam_alpha(1e-3, 0.9, 0.999, 1, np.dtype(np.float32))
        options = dict(alpha=alpha, beta_1=0.9, beta_2=0.999, epsilon=np.float32(1e-7))
        step = functools.partial(adam.adam_multi_tensor, params, grads, ms_, vs, None)
        ms = timer(functools.partial(step, amsgrad=False, **options), repeat=20)
        achieved = 7 * n * 4 / (ms * 1e-3) / 1e9
        if total > 1e6:
            row(
                f"Adam {n / 1e6:.1f}M params",
                achieved,
                "GB/s",
                ">= 80% copy",
                f"{achieved / bandwidth:.0%}",
                f"{ms * 1e3:.0f} us",
            )
        else:
            row(f"Adam {n / 1e3:.0f}k params", ms * 1e3, "us", "<= 5", f"{5 / (ms * 1e3):.2f}x")


def bench_xent(cp, timer, bandwidth, quick):
    import numpy as np

    from gpuk.ops.fused import softmax_xent

    rows, classes = (4096 if quick else 16384), 32768
    logits = cp.random.standard_normal((rows, classes), dtype=np.float32)
    labels = cp.random.randint(0, classes, rows)
    fn = softmax_xent.SoftmaxCrossEntropy(from_logits=True, sparse=True, epsilon=1e-7)
    forward_ms = timer(lambda: fn.forward(labels, logits))
    gloss = cp.ones((rows,), np.float32)
    backward_ms = timer(lambda: fn.backward(gloss))
    nbytes = rows * classes * 4
    for label, ms, moved in (
        ("forward", forward_ms, nbytes),
        ("backward", backward_ms, 2 * nbytes),
    ):
        achieved = moved / (ms * 1e-3) / 1e9
        row(
            f"softmax-CE {label} {rows}x{classes}",
            achieved,
            "GB/s",
            ">= 60% copy",
            f"{achieved / bandwidth:.0%}",
            f"{ms:.3f} ms",
        )


def denoiser_gpuk(activations, reset_after):
    """The rnnoise-style two-output model through gpuk's Keras API."""
    import gpuk

    inputs = gpuk.Input(shape=(None, 42))
    tmp = gpuk.layers.Dense(24, activation="tanh")(inputs)
    vad = gpuk.layers.GRU(
        24, activation=activations[0], reset_after=reset_after, return_sequences=True
    )(tmp)
    vad_out = gpuk.layers.Dense(1, activation="sigmoid", name="vad")(vad)
    noise_in = gpuk.layers.Concatenate()([tmp, vad, inputs])
    noise = gpuk.layers.GRU(
        48, activation=activations[1], reset_after=reset_after, return_sequences=True
    )(noise_in)
    den_in = gpuk.layers.Concatenate()([vad, noise, inputs])
    den = gpuk.layers.GRU(
        96, activation=activations[2], reset_after=reset_after, return_sequences=True
    )(den_in)
    den_out = gpuk.layers.Dense(22, activation="sigmoid", name="denoise")(den)
    model = gpuk.Model(inputs, [den_out, vad_out])
    model.compile(optimizer="adam", loss=["mse", "binary_crossentropy"])
    return model


def bench_denoiser(cp, timer, quick):
    import numpy as np

    batch, steps = 32, 500 if quick else 2000
    rng = np.random.default_rng(0)
    x = rng.random((batch, steps, 42)).astype(np.float32)
    y1 = rng.random((batch, steps, 22)).astype(np.float32)
    y2 = (rng.random((batch, steps, 1)) > 0.5).astype(np.float32)
    results = {}
    for label, acts, reset_after in (
        ("relu/relu/tanh reset_after=False", ("relu", "relu", "tanh"), False),
        ("tanh reset_after=True", ("tanh", "tanh", "tanh"), True),
    ):
        try:
            model = denoiser_gpuk(acts, reset_after)
            ms = timer(lambda model=model: model.train_on_batch(x, [y1, y2]), repeat=5)
            results[label] = ms
            row(f"denoiser step gpuk {label}", ms, "ms", "<= 15" if not reset_after else "")
        except Exception as error:  # the layers/training areas may not be complete yet
            row(
                f"denoiser step gpuk {label}",
                "n/a",
                "",
                "",
                "",
                f"{type(error).__name__}: {error}"[:70],
            )
    torch_results = bench_torch(batch, steps, x, y1, y2, quick)
    loop = torch_results.get("loop")
    cudnn = torch_results.get("cudnn")
    main = results.get("relu/relu/tanh reset_after=False")
    tanh = results.get("tanh reset_after=True")
    if loop is not None:
        row(
            "denoiser step PyTorch per-step loop",
            loop,
            "ms",
            "",
            f"{loop / main:.1f}x" if main else "",
            "ratio = torch / gpuk (target >= 50x)",
        )
    if cudnn is not None:
        row(
            "denoiser step PyTorch nn.GRU cuDNN (tanh)",
            cudnn,
            "ms",
            "",
            f"{cudnn / tanh:.2f}x" if tanh else "",
            "ratio = cuDNN / gpuk (target >= 1x)",
        )


def bench_torch(batch, steps, x, y1, y2, quick):
    try:
        import torch
    except ImportError as error:
        row("PyTorch baselines", "n/a", "", "", "", f"PyTorch missing: {error}")
        return {}
    if not torch.cuda.is_available():
        row("PyTorch baselines", "n/a", "", "", "", "torch.cuda is not available")
        return {}
    dev = torch.device("cuda")
    tx, t1, t2 = (torch.tensor(a, device=dev) for a in (x, y1, y2))

    class KerasGRULoop(torch.nn.Module):
        """Keras reset_after=False GRU math, one step at a time (what frameworks fall back to)."""

        def __init__(self, features, units, act):
            super().__init__()
            self.k = torch.nn.Parameter(torch.randn(features, 3 * units) * 0.1)
            self.rk = torch.nn.Parameter(torch.randn(units, 3 * units) * 0.1)
            self.b = torch.nn.Parameter(torch.zeros(3 * units))
            self.units, self.act = units, getattr(torch, act)

        def forward(self, inputs):
            u = self.units
            proj = inputs @ self.k + self.b
            h = inputs.new_zeros(inputs.shape[0], u)
            outs = []
            for t in range(inputs.shape[1]):
                p = proj[:, t]
                zr = torch.sigmoid(p[:, : 2 * u] + h @ self.rk[:, : 2 * u])
                z, r = zr[:, :u], zr[:, u:]
                hh = self.act(p[:, 2 * u :] + (r * h) @ self.rk[:, 2 * u :])
                h = z * h + (1 - z) * hh
                outs.append(h)
            return torch.stack(outs, 1)

    class Denoiser(torch.nn.Module):
        def __init__(self, cudnn):
            super().__init__()
            self.dense = torch.nn.Linear(42, 24)
            if cudnn:
                self.g1 = torch.nn.GRU(24, 24, batch_first=True)
                self.g2 = torch.nn.GRU(90, 48, batch_first=True)
                self.g3 = torch.nn.GRU(114, 96, batch_first=True)
            else:
                self.g1 = KerasGRULoop(24, 24, "relu")
                self.g2 = KerasGRULoop(90, 48, "relu")
                self.g3 = KerasGRULoop(114, 96, "tanh")
            self.cudnn = cudnn
            self.vad = torch.nn.Linear(24, 1)
            self.den = torch.nn.Linear(96, 22)

        def forward(self, inputs):
            def run(gru, a):
                return gru(a)[0] if self.cudnn else gru(a)

            tmp = torch.tanh(self.dense(inputs))
            v = run(self.g1, tmp)
            n = run(self.g2, torch.cat([tmp, v, inputs], -1))
            d = run(self.g3, torch.cat([v, n, inputs], -1))
            return torch.sigmoid(self.den(d)), torch.sigmoid(self.vad(v))

    results = {}
    for label, cudnn in (("loop", False), ("cudnn", True)):
        model = Denoiser(cudnn).to(dev)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)

        def step(model=model, opt=opt):
            opt.zero_grad(set_to_none=True)
            out1, out2 = model(tx)
            loss = torch.mean((out1 - t1) ** 2) + torch.nn.functional.binary_cross_entropy(out2, t2)
            loss.backward()
            opt.step()

        for _ in range(2):
            step()
        torch.cuda.synchronize()
        repeat = 2 if (not cudnn) else 10
        start = time.perf_counter()
        for _ in range(repeat):
            step()
        torch.cuda.synchronize()
        results[label] = (time.perf_counter() - start) * 1e3 / repeat
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="list the steps; run nothing")
    parser.add_argument("--skip-tests", action="store_true", help="skip the pytest runs")
    parser.add_argument("--quick", action="store_true", help="shorter sequences and sizes")
    parser.add_argument(
        "--test-timeout",
        type=int,
        default=TEST_TIMEOUT,
        help="seconds for the whole suite (half of it for tests/kernels)",
    )
    args = parser.parse_args(argv)
    steps = ["tests", "gru-kernel", "denoiser+torch", "adam", "softmax-ce"]
    if args.skip_tests:
        steps.remove("tests")
    if args.dry_run:
        print("gpu_suite would run:", ", ".join(steps))
        return 0
    from gpuk import _array

    reason = _array.gpu_unavailable_reason()
    if reason is not None:
        print(f"gpu_suite needs a CUDA GPU: {reason}")
        return 2
    if "tests" in steps:
        run_tests(args.test_timeout)
    _array.set_device("gpu")
    cp = _array.cupy_module()
    timer = Timer(cp)
    bandwidth = copy_bandwidth(cp, timer, 1 << 30)
    row("copy bandwidth (1 GiB)", bandwidth, "GB/s")
    for name, fn in (
        ("GRU kernel", lambda: bench_gru_kernel(cp, timer, args.quick)),
        ("denoiser", lambda: bench_denoiser(cp, timer, args.quick)),
        ("Adam", lambda: bench_adam(cp, timer, bandwidth)),
        ("softmax-CE", lambda: bench_xent(cp, timer, bandwidth, args.quick)),
    ):
        try:
            fn()
        except Exception as error:
            row(name, "error", "", "", "", f"{type(error).__name__}: {error}"[:80])
    print_table()
    return 0


if __name__ == "__main__":
    sys.exit(main())
