"""Enforce the import levels of ARCHITECTURE.md on every gpuk module.

Each ``gpuk/**/*.py`` is parsed with ``ast``; every import (module level, inside functions,
and ``importlib.import_module("gpuk....")`` calls) must target the same unit or a unit at a
lower level. Peers at one level may not import each other, except losses and metrics. Only
``gpuk/_array`` may import CuPy.
"""

import ast
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "gpuk"
TOP = 10**6  # the "top" row: may import anything
ALLOWED_PEERS = {frozenset({"losses", "metrics"})}


def _levels():
    """Unit name -> level, read from the table in ARCHITECTURE.md."""
    levels = {}
    text = (ROOT / "ARCHITECTURE.md").read_text()
    for line in text.splitlines():
        match = re.match(r"\|\s*(\d+|top)\s*\|(.*)\|\s*$", line)
        if not match:
            continue
        level = TOP if match.group(1) == "top" else int(match.group(1))
        for name in re.findall(r"`([^`]+)`", match.group(2)):
            unit = name.replace("/", ".").removesuffix(".py").removesuffix(".__init__")
            if unit.startswith("gpuk."):
                levels[unit.split(".")[1]] = level
            elif unit == "gpuk":
                levels["__init__"] = level
    return levels


LEVELS = _levels()


def _unit_of_file(path):
    rel = path.relative_to(PACKAGE).with_suffix("")
    return rel.parts[0]


def _module_name(path):
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _import_module_target(node):
    """The module named by an ``importlib.import_module("gpuk....")`` call, else None."""
    if (
        isinstance(node, ast.Call)
        and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ):
        return node.args[0].value
    return None


def _imports(path, source=None):
    """Yield (line, absolute module name) for every import in the file."""
    source = path.read_text() if source is None else source
    tree = ast.parse(source, filename=str(path))
    package = _module_name(path)
    if path.name != "__init__.py":
        package = package.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module == "gpuk":  # from gpuk import ops -> gpuk.ops
                for alias in node.names:
                    yield node.lineno, f"gpuk.{alias.name}"
            else:
                yield node.lineno, module
        elif _import_module_target(node):
            yield node.lineno, _import_module_target(node)


def _target_unit(module):
    parts = module.split(".")
    if parts[0] != "gpuk":
        return None
    return parts[1] if len(parts) > 1 else "__init__"


FILES = sorted(PACKAGE.rglob("*.py"))


def test_every_unit_is_in_the_table():
    units = {_unit_of_file(p) for p in FILES}
    missing = sorted(u for u in units if u not in LEVELS)
    assert not missing, (
        f"gpuk units {missing} are not in the level table of ARCHITECTURE.md; add them there "
        "(this test reads the table)"
    )


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_respect_levels(path):
    unit = _unit_of_file(path)
    level = LEVELS.get(unit)
    if level is None:
        pytest.fail(f"{unit} is not in ARCHITECTURE.md's level table")
    problems = []
    for line, module in _imports(path):
        target = _target_unit(module)
        if target is None or target == unit:
            continue
        target_level = LEVELS.get(target)
        if target_level is None:
            problems.append(f"line {line}: imports {module}, whose unit is not in the table")
        elif target_level > level:
            problems.append(
                f"line {line}: imports {module} (level {target_level}) from level {level}"
            )
        elif target_level == level and frozenset({unit, target}) not in ALLOWED_PEERS:
            problems.append(f"line {line}: imports its peer {module} (both level {level})")
    assert not problems, f"{path.relative_to(ROOT)}:\n" + "\n".join(problems)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_only_array_layer_imports_cupy(path):
    if _unit_of_file(path) == "_array":
        return
    bad = [
        f"line {line}: {module}"
        for line, module in _imports(path)
        if module.split(".")[0] in ("cupy", "cupyx")
    ]
    assert not bad, f"{path.relative_to(ROOT)} imports CuPy outside gpuk/_array: {bad}"


def test_table_has_the_documented_levels():
    assert LEVELS["_config"] == 0 and LEVELS["_array"] == 1
    assert LEVELS["autograd"] == LEVELS["utils"] == 2
    assert LEVELS["ops"] == 3 and LEVELS["backend"] == 4
    assert LEVELS["__init__"] == TOP
    # Saving below models, as in Keras 3 (issue 16): Model's saving methods call gpuk.saving.
    assert LEVELS["layers"] < LEVELS["saving"] < LEVELS["models"]


def test_checker_sees_function_level_relative_and_importlib_imports():
    source = (
        "def f():\n"
        "    from gpuk.layers import Dense\n"
        "    import cupy\n"
        "from ..models import Model\n"
        "from . import math\n"
        "import importlib\n"
        "importlib.import_module('gpuk.saving')\n"
    )
    found = {m for _, m in _imports(PACKAGE / "ops" / "fake.py", source)}
    assert found == {"gpuk.layers", "cupy", "gpuk.models", "gpuk.ops", "importlib", "gpuk.saving"}


# ----------------------------------------------------------------------------- import circles

MODULES = {_module_name(p): p for p in FILES}


def _module_edges(path, source=None):
    """The gpuk modules ``path`` imports (module level, in functions, and ``import_module``).

    ``from gpuk.a import b`` targets ``gpuk.a.b`` when that is a module, else ``gpuk.a``.
    There is no exemption: a submodule that needs its package's registry at call time imports
    the registry's own module (``metrics/serialization.py``, ``optimizers/serialization.py``,
    ``layers/serialization.py``), which its package fills on import.
    """
    source = path.read_text() if source is None else source
    tree = ast.parse(source, filename=str(path))
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    edges = set()

    def add(module):
        while module and module not in MODULES:
            module = module.rpartition(".")[0]
        if not module or module == name:
            return
        edges.add(module)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                full = f"{module}.{alias.name}"
                add(full if full in MODULES else module)
        elif _import_module_target(node):
            add(_import_module_target(node))
    return edges


def _cycles(graph):
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_circle_among_gpuk_modules():
    graph = {name: _module_edges(path) for name, path in MODULES.items()}
    circles = _cycles(graph)
    described = [
        " <-> ".join(c) + ": " + "; ".join(f"{m} -> {sorted(graph[m] & set(c))}" for m in c)
        for c in circles
    ]
    assert not circles, "import circles among gpuk modules:\n" + "\n".join(described)


def test_circle_finder_sees_function_level_circles():
    a = "def f():\n    from gpuk.models.summary import print_summary\n"
    b = "from gpuk.models import functional\n"
    edges_a = _module_edges(PACKAGE / "models" / "functional.py", a)
    edges_b = _module_edges(PACKAGE / "models" / "summary.py", b)
    assert edges_a == {"gpuk.models.summary"} and edges_b == {"gpuk.models.functional"}
    graph = {"gpuk.models.functional": edges_a, "gpuk.models.summary": edges_b}
    assert _cycles(graph) == [["gpuk.models.functional", "gpuk.models.summary"]]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_circle_finder_counts_a_call_time_import_of_the_own_package():
    # The exemption this test suite used to make (issue 16 removed the last such imports).
    source = "def from_config(config):\n    from gpuk.metrics import get\n"
    assert _module_edges(PACKAGE / "metrics" / "base.py", source) == {"gpuk.metrics"}
