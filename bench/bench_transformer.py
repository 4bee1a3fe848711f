"""CPU benchmark of a transformer block (keras-io text_classification_with_transformer's
TransformerBlock: MultiHeadAttention, two LayerNormalizations, a two-layer feed-forward net,
dropout) on gpuk (NumPy backend), PyTorch and Keras 3 (JAX), as ratios.

Each framework runs in its own subprocess. Keras runs under ``--keras-python`` (by default
``/work/kvenv/bin/python`` when present, with ``KERAS_BACKEND=jax``). Not a test.

    python bench/bench_transformer.py            # batch 32, 200 tokens, embed 32, 2 heads
    python bench/bench_transformer.py --quick    # tiny sizes, to check that it runs

Timed: ``train`` = one training step (forward, backward, Adam) of block + mean pooling +
Dense(2) softmax head with sparse categorical cross-entropy; ``infer`` = a forward pass.
PyTorch's twin computes the same math with explicit projections (Keras's key_dim per head),
not ``nn.MultiheadAttention``, so the FLOPs match.
"""

import argparse
import json
import os
import subprocess
import sys
import time

FRAMEWORKS = ("gpuk", "torch", "keras")


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
    x = rng.normal(size=(args.batch, args.seq, args.embed)).astype("float32")
    y = rng.integers(0, 2, size=(args.batch,))
    return x, y


def run_keras_like(name, args):
    if name == "keras":
        os.environ.setdefault("KERAS_BACKEND", "jax")
        import keras
        from keras import layers
    else:
        import gpuk as keras
        from gpuk import layers

    class TransformerBlock(layers.Layer):
        def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1):
            super().__init__()
            self.att = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
            self.ffn = keras.Sequential(
                [layers.Dense(ff_dim, activation="relu"), layers.Dense(embed_dim)]
            )
            self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
            self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)
            self.dropout1 = layers.Dropout(rate)
            self.dropout2 = layers.Dropout(rate)

        def call(self, inputs, training=None):
            attn_output = self.att(inputs, inputs)
            attn_output = self.dropout1(attn_output, training=training)
            out1 = self.layernorm1(inputs + attn_output)
            ffn_output = self.ffn(out1)
            ffn_output = self.dropout2(ffn_output, training=training)
            return self.layernorm2(out1 + ffn_output)

    x, y = _data(args)
    inputs = keras.Input((args.seq, args.embed))
    h = TransformerBlock(args.embed, args.heads, args.ff)(inputs)
    h = (
        layers.GlobalAveragePooling1D()(h)
        if hasattr(layers, "GlobalAveragePooling1D")
        else (layers.Lambda(lambda t: keras.ops.mean(t, axis=1))(h))
    )
    outputs = layers.Dense(2, activation="softmax")(h)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return {
        "train": _timeit(lambda: model.train_on_batch(x, y), args.repeat),
        "infer": _timeit(lambda: model.predict_on_batch(x), args.repeat),
    }


def run_torch(args):
    import torch
    from torch import nn

    torch.manual_seed(0)
    e, n, f = args.embed, args.heads, args.ff

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.q, self.k, self.v = (nn.Linear(e, n * e) for _ in range(3))
            self.o = nn.Linear(n * e, e)
            self.ffn = nn.Sequential(nn.Linear(e, f), nn.ReLU(), nn.Linear(f, e))
            self.ln1, self.ln2 = nn.LayerNorm(e, eps=1e-6), nn.LayerNorm(e, eps=1e-6)
            self.drop1, self.drop2 = nn.Dropout(0.1), nn.Dropout(0.1)
            self.head = nn.Linear(e, 2)

        def forward(self, x):
            b, t, _ = x.shape
            q = self.q(x).view(b, t, n, e).transpose(1, 2)
            k = self.k(x).view(b, t, n, e).transpose(1, 2)
            v = self.v(x).view(b, t, n, e).transpose(1, 2)
            p = torch.softmax(q @ k.transpose(-1, -2) / e**0.5, dim=-1)
            a = self.o((p @ v).transpose(1, 2).reshape(b, t, n * e))
            out1 = self.ln1(x + self.drop1(a))
            out = self.ln2(out1 + self.drop2(self.ffn(out1)))
            return self.head(out.mean(1))

    x, y = _data(args)
    x, y = torch.from_numpy(x), torch.from_numpy(y)
    model = Block()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def train():
        model.train()
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    def infer():
        model.eval()
        with torch.no_grad():
            torch.softmax(model(x), -1)

    return {"train": _timeit(train, args.repeat), "infer": _timeit(infer, args.repeat)}


def child(name, args):
    try:
        results = run_torch(args) if name == "torch" else run_keras_like(name, args)
    except ImportError as error:
        results = {"missing": str(error)}
    print(json.dumps(results))


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--seq", type=int, default=200)
    parser.add_argument("--embed", type=int, default=32)
    parser.add_argument("--heads", type=int, default=2)
    parser.add_argument("--ff", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=7, help="timed repetitions (median)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks that it runs")
    parser.add_argument("--frameworks", default=",".join(FRAMEWORKS))
    parser.add_argument(
        "--keras-python",
        default="/work/kvenv/bin/python" if os.path.exists("/work/kvenv/bin/python") else None,
        help="interpreter with Keras 3 + JAX (default: this one)",
    )
    parser.add_argument("--child", choices=FRAMEWORKS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.batch, args.seq, args.repeat = 4, 8, 1
    if args.child:
        child(args.child, args)
        return 0
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    table = {}
    for name in args.frameworks.split(","):
        python = args.keras_python if name == "keras" and args.keras_python else sys.executable
        command = [python, __file__, "--child", name]
        for key in ("batch", "seq", "embed", "heads", "ff", "repeat"):
            command += [f"--{key}", str(getattr(args, key))]
        env = dict(os.environ, GPUK_DEVICE="cpu", KERAS_BACKEND="jax")
        env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
        done = subprocess.run(command, capture_output=True, text=True, env=env)
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        table[name] = json.loads(lines[-1]) if lines else {"missing": done.stderr.strip()[-300:]}
    print(
        f"\nTransformer block on the CPU: batch {args.batch}, {args.seq} tokens, embed "
        f"{args.embed}, {args.heads} heads, ff {args.ff}; median of {args.repeat}"
    )
    print(f"{'case':8s} {'gpuk':>10s} {'torch':>10s} {'keras':>10s} {'gpuk/torch':>11s} "
          f"{'gpuk/keras':>11s}")  # fmt: skip
    for case in ("train", "infer"):
        values = [table.get(n, {}).get(case) for n in FRAMEWORKS]
        cells = [f"{v * 1e3:9.2f}ms" if v else f"{'-':>10s}" for v in values]
        g = values[0]
        ratios = [f"{g / v:11.2f}" if g and v else f"{'-':>11s}" for v in values[1:]]
        print(f"{case:8s} " + " ".join(cells) + " " + " ".join(ratios))
    for name in FRAMEWORKS:
        if "missing" in table.get(name, {}):
            print(f"{name}: not run ({table[name]['missing']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
