"""Where a step's time goes: cProfile self-time of each workload, grouped by kind.

    python bench/profile_breakdown.py [--cases mlp_train,gru_predict] [--markdown]

Groups (by the file of the function that spent the time itself):
  math:       NumPy's C functions (ufuncs, matmul, reductions, copies) and BLAS
  op python:  gpuk/ops Python around the math (forward/backward bodies, shape checks)
  autodiff:   gpuk/autograd (Function.apply, Tensor, tape, the backward walk)
  layers:     layer call machinery (gpuk/layers, functional graph execution, activations)
  loss/metrics, optimizer, loop/data (training loop, batching, logs), other
"""

import argparse
import cProfile
import os
import pstats
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("GPUK_DEVICE", "cpu")

import bench_overhead  # noqa: E402

GROUPS = (
    ("optimizer", ("gpuk/optimizers/",)),
    ("loss/metrics", ("gpuk/losses/", "gpuk/metrics/", "training_losses.py")),
    ("autodiff", ("gpuk/autograd/",)),
    ("op python", ("gpuk/ops/", "gpuk/_array/")),
    ("layers", ("gpuk/layers/", "functional.py", "sequential.py", "gpuk/activations.py")),
    ("loop/data", ("gpuk/models/", "gpuk/callbacks/", "gpuk/utils/")),
)


def classify(filename, name):
    if filename == "~" or "numpy" in filename:
        return "math"
    for group, needles in GROUPS:
        if any(n in filename for n in needles):
            return group
    return "other"


def breakdown(fn, repeat):
    fn()
    fn()
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(repeat):
        fn()
    profile.disable()
    totals = {}
    for (filename, _, name), row in pstats.Stats(profile).stats.items():
        group = classify(filename, name)
        totals[group] = totals.get(group, 0.0) + row[2]  # self time
    return totals


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--cases",
        default="mlp_train,mlp_predict,gru_train,gru_predict,denoiser_train,denoiser_predict",
    )
    args = parser.parse_args()
    import gpuk

    cases = bench_overhead.gpuk_cases(gpuk)
    names = ["math", "op python", "autodiff", "layers", "loss/metrics", "optimizer", "loop/data"]
    print("| case | " + " | ".join(names) + " | other |")
    print("|---" * (len(names) + 2) + "|")
    for case in args.cases.split(","):
        totals = breakdown(cases[case], 50 if case.startswith("mlp") else 2)
        whole = sum(totals.values())
        cells = [f"{100 * totals.get(n, 0) / whole:.0f}%" for n in names + ["other"]]
        print(f"| {case} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    sys.exit(main())
