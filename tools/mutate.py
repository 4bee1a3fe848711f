"""Seeded, time-bounded mutation testing for one gpuk module at a time.

Usage (from the repository root)::

    python tools/mutate.py gpuk/losses/functions.py -t tests/test_losses.py -n 40 --seed 0

The module is parsed with ``ast``; every single-edit mutant is enumerated in a fixed order
(flipped comparisons, swapped arithmetic/boolean operators, changed constants, negated
conditions, deleted statements / ``return None``), ``-n`` of them are sampled with
``random.Random(seed)``, and each one is written into a scratch copy of the tree where the
chosen tests run (``pytest -x``) under a per-mutant timeout. A mutant is *killed* when the tests
fail, *timeout* when they exceed the limit (counted as killed), *survived* when they pass.
The source tree is never modified. ``--list`` prints the mutants without running anything;
``--only K`` runs the mutant with index K (as printed) to inspect one survivor.
See docs/mutation-testing.md.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_CMP_SWAP = {
    ast.Lt: ast.GtE,
    ast.GtE: ast.Lt,
    ast.Gt: ast.LtE,
    ast.LtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}
_BIN_SWAP = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.Mod: ast.FloorDiv,
    ast.Pow: ast.Mult,
    ast.MatMult: ast.Mult,
}
_SYM = {
    ast.Lt: "<",
    ast.GtE: ">=",
    ast.Gt: ">",
    ast.LtE: "<=",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.In: "in",
    ast.NotIn: "not in",
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
    ast.MatMult: "@",
    ast.And: "and",
    ast.Or: "or",
}


def _is_docstring(node, parent, field, index):
    return (
        index == 0
        and field == "body"
        and isinstance(parent, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        and isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def _walk(tree):
    """Yield (node, parent, field, index) in a fixed depth-first order."""
    stack = [(tree, None, None, None)]
    while stack:
        node, parent, field, index = stack.pop()
        yield node, parent, field, index
        children = []
        for name, value in ast.iter_fields(node):
            if isinstance(value, list):
                children.extend(
                    (v, node, name, i) for i, v in enumerate(value) if isinstance(v, ast.AST)
                )
            elif isinstance(value, ast.AST):
                children.append((value, node, name, None))
        stack.extend(reversed(children))


def _skip_subtree_ids(tree):
    """Nodes never mutated: docstrings, annotations, ``__all__`` and import statements."""
    skip = set()
    for node, parent, field, index in _walk(tree):
        if (
            _is_docstring(node, parent, field, index)
            or field in ("annotation", "returns")
            or isinstance(node, (ast.Import, ast.ImportFrom))
            or (
                isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
            )
        ):
            skip.update(id(n) for n in ast.walk(node))
    return skip


def _candidates(node, parent, field, index):
    """The single-edit mutations of one node: list of (kind, argument, description)."""
    out = []
    if isinstance(node, ast.Compare):
        for k, op in enumerate(node.ops):
            if type(op) in _CMP_SWAP:
                new = _CMP_SWAP[type(op)]
                out.append(("cmp", k, f"{_SYM[type(op)]} -> {_SYM[new]}"))
    elif isinstance(node, ast.BinOp) and type(node.op) in _BIN_SWAP:
        new = _BIN_SWAP[type(node.op)]
        out.append(("binop", None, f"{_SYM[type(node.op)]} -> {_SYM[new]}"))
    elif isinstance(node, ast.AugAssign) and type(node.op) in _BIN_SWAP:
        new = _BIN_SWAP[type(node.op)]
        out.append(("augop", None, f"{_SYM[type(node.op)]}= -> {_SYM[new]}="))
    elif isinstance(node, ast.BoolOp):
        other = ast.Or if isinstance(node.op, ast.And) else ast.And
        out.append(("boolop", None, f"{_SYM[type(node.op)]} -> {_SYM[other]}"))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        out.append(("unnot", None, "drop `not`"))
    elif isinstance(node, ast.Constant):
        v = node.value
        if isinstance(v, bool):
            out.append(("const", not v, f"{v} -> {not v}"))
        elif isinstance(v, int):
            new = {0: 1, 1: 0}.get(v, v + 1)
            out.append(("const", new, f"{v} -> {new}"))
        elif isinstance(v, float):
            new = {0.0: 1.0, 1.0: 0.0}.get(v, v + 1.0)
            out.append(("const", new, f"{v!r} -> {new!r}"))
    if isinstance(node, (ast.If, ast.While, ast.IfExp)):
        out.append(("negate", None, "negate condition"))
    if isinstance(node, ast.stmt) and parent is not None and isinstance(index, int):
        if isinstance(node, ast.Return) and node.value is not None:
            if not (isinstance(node.value, ast.Constant) and node.value.value is None):
                out.append(("return_none", None, "return None"))
        elif isinstance(node, (ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Raise)):
            out.append(("delete", None, "delete statement"))
    return out


def enumerate_mutants(source):
    """All mutants of ``source`` as dicts (node index, kind, arg, line, description)."""
    tree = ast.parse(source)
    skip = _skip_subtree_ids(tree)
    mutants = []
    for pos, (node, parent, field, index) in enumerate(_walk(tree)):
        if id(node) in skip:
            continue
        for kind, arg, desc in _candidates(node, parent, field, index):
            mutants.append(
                {"node": pos, "kind": kind, "arg": arg, "line": node.lineno, "edit": desc}
            )
    return mutants


def apply_mutant(source, mutant):
    """Return the source text of ``mutant`` applied to ``source``."""
    tree = ast.parse(source)
    node, parent, field, index = list(_walk(tree))[mutant["node"]]
    kind, arg = mutant["kind"], mutant["arg"]
    if kind == "cmp":
        node.ops[arg] = _CMP_SWAP[type(node.ops[arg])]()
    elif kind == "binop" or kind == "augop":
        node.op = _BIN_SWAP[type(node.op)]()
    elif kind == "boolop":
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
    elif kind == "unnot":
        _replace(parent, field, index, node.operand)
    elif kind == "const":
        node.value = arg
    elif kind == "negate":
        node.test = ast.UnaryOp(op=ast.Not(), operand=node.test)
    elif kind == "return_none":
        node.value = ast.Constant(value=None)
    elif kind == "delete":
        getattr(parent, field)[index] = ast.Pass()
    ast.fix_missing_locations(tree)
    return ast.unparse(tree)


def _replace(parent, field, index, new):
    if index is None:
        setattr(parent, field, new)
    else:
        getattr(parent, field)[index] = new


def _make_scratch():
    scratch = tempfile.mkdtemp(prefix="gpuk-mutate-")
    ignore = shutil.ignore_patterns(".git", "__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache")
    for name in os.listdir(ROOT):
        src = os.path.join(ROOT, name)
        if name in (".git", "build", "dist") or name.endswith(".egg-info"):
            continue
        if os.path.isdir(src):
            shutil.copytree(src, os.path.join(scratch, name), ignore=ignore)
        else:
            shutil.copy2(src, scratch)
    return scratch


def _run_tests(scratch, tests, timeout, extra):
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", PYTHONHASHSEED="0")
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-x", "-q", "-m", "not slow"]
    cmd += list(extra) + list(tests)
    try:
        proc = subprocess.run(
            cmd, cwd=scratch, env=env, timeout=timeout, capture_output=True, text=True
        )
    except subprocess.TimeoutExpired:
        return "timeout"
    return "survived" if proc.returncode == 0 else "killed"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("module", help="path of the module to mutate, e.g. gpuk/losses/functions.py")
    p.add_argument("-t", "--tests", nargs="+", default=["tests"], help="test files/dirs to run")
    p.add_argument("-n", type=int, default=40, help="mutants to sample (0: all)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--timeout", type=float, default=None, help="seconds per mutant")
    p.add_argument("--budget", type=float, default=None, help="stop after this many seconds")
    p.add_argument("--list", action="store_true", help="print the sampled mutants and exit")
    p.add_argument("--only", type=int, nargs="+", help="run only these mutant indices")
    p.add_argument("--json", help="write the results to this file")
    p.add_argument("--pytest-args", default="", help="extra pytest arguments (one string)")
    args = p.parse_args(argv)

    rel = os.path.relpath(os.path.abspath(args.module), ROOT)
    with open(os.path.join(ROOT, rel)) as f:
        source = f.read()
    mutants = enumerate_mutants(source)
    for i, m in enumerate(mutants):
        m["index"] = i
    if args.only:
        sample = [mutants[i] for i in args.only]
    elif args.n and args.n < len(mutants):
        sample = sorted(random.Random(args.seed).sample(mutants, args.n), key=lambda m: m["index"])
    else:
        sample = mutants
    print(f"{rel}: {len(mutants)} mutants, running {len(sample)} (seed {args.seed})", flush=True)
    if args.list:
        for m in sample:
            print(f"  #{m['index']:4d} {rel}:{m['line']}: {m['edit']}")
        return 0

    extra = args.pytest_args.split()
    scratch = _make_scratch()
    target = os.path.join(scratch, rel)
    try:
        t0 = time.monotonic()
        if _run_tests(scratch, args.tests, None, extra) != "survived":
            print("the tests fail on the unmutated tree; fix that first", file=sys.stderr)
            return 2
        base = time.monotonic() - t0
        timeout = args.timeout or max(10.0, 3.0 * base + 5.0)
        print(f"baseline tests pass in {base:.1f}s; timeout {timeout:.0f}s per mutant", flush=True)
        start = time.monotonic()
        results = []
        for m in sample:
            if args.budget and time.monotonic() - start > args.budget:
                print("budget spent; stopping", flush=True)
                break
            with open(target, "w") as f:
                f.write(apply_mutant(source, m))
            status = _run_tests(scratch, args.tests, timeout, extra)
            results.append(dict(m, status=status))
            print(f"  {status:8s} #{m['index']:4d} {rel}:{m['line']}: {m['edit']}", flush=True)
        with open(target, "w") as f:
            f.write(source)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    killed = sum(r["status"] != "survived" for r in results)
    score = 100.0 * killed / len(results) if results else 0.0
    print(f"{rel}: score {score:.1f}% ({killed}/{len(results)} killed, seed {args.seed})")
    for r in results:
        if r["status"] == "survived":
            print(f"  SURVIVED #{r['index']} {rel}:{r['line']}: {r['edit']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"module": rel, "seed": args.seed, "score": score, "results": results}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
