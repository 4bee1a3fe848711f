"""The one protocol for fused kernels (docs/kernels.md, "The fused-op protocol").

Every fused op is a row of ``gpuk.ops.fused.registry.FUSED_OPS``: ``supports(config)`` returns
None or a reason naming the failing field, and ``select`` is the one function that says which
code runs. These tests need no kernel: a dummy provider stands in for "the arrays reach a GPU".
"""

import ast
import dataclasses
import logging
import pathlib
import re

import numpy as np
import pytest

from gpuk import activations, info
from gpuk.layers import recurrent as recurrent_layers
from gpuk.ops import recurrent
from gpuk.ops.fused import FUSED_OPS, FusedUnsupported, launch, registry, select
from gpuk.ops.fused._recurrent import RecurrentConfig
from gpuk.ops.fused.adam import AdamConfig
from gpuk.ops.fused.softmax_xent import SoftmaxCrossEntropyConfig
from gpuk.ops.recurrent import Activation

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "gpuk"


def _recurrent(cell, **fields):
    base = dict(cell=cell, xp=np, dtype=np.dtype("float32"), batch_size=4, timesteps=5)
    base.update(input_dim=3, units=8, activation="tanh")
    if cell != "simple_rnn":
        base["recurrent_activation"] = "sigmoid"
    base.update(fields)
    return RecurrentConfig(**base)


#: A supported config per op, and changes of one field that each make it decline.
CASES = {
    "gru": (
        _recurrent("gru", reset_after=True),
        {
            "dtype": np.dtype("float16"),
            "activation": "selu",
            "recurrent_activation": np.tanh,
            "units": 0,
        },
    ),
    "lstm": (
        _recurrent("lstm"),
        {
            "dtype": np.dtype("int32"),
            "activation": "softmax",
            "recurrent_activation": None,
            "units": 10**6,
        },
    ),
    "simple_rnn": (
        _recurrent("simple_rnn"),
        {"dtype": np.dtype("float16"), "activation": "gelu", "units": 10**6},
    ),
    "softmax_cross_entropy": (
        SoftmaxCrossEntropyConfig(xp=np, dtype=np.dtype("float64"), ndim=2, classes=10),
        {
            "dtype": np.dtype("float16"),
            "ndim": 0,
            "axis": 0,
            "classes": 0,
            "target_requires_grad": True,
        },
    ),
    "adam": (
        AdamConfig(xp=np, dtypes=("float32",), contiguous=True),
        {"dtypes": ("float32", "float64"), "contiguous": False},
    ),
}


@pytest.fixture
def reachable():
    """NumPy arrays count as reaching the kernels (what the CPU emulator tests install)."""
    with launch.use_kernel_provider(lambda *args: None):
        yield


def test_the_table_lists_every_fused_op():
    assert set(FUSED_OPS) == set(CASES)
    modules = {
        path.stem
        for path in (PACKAGE / "ops" / "fused").glob("*.py")
        if "\ndef supports(config)" in path.read_text()
    }
    listed = {entry.supports.__module__.rsplit(".", 1)[1] for entry in FUSED_OPS.values()}
    assert listed == modules
    kernels = {path.name for path in (ROOT / "kernels").glob("*.cu")}
    assert {entry.kernel_file for entry in FUSED_OPS.values()} <= kernels


@pytest.mark.parametrize("op", sorted(CASES))
def test_supports_accepts_a_supported_config(op, reachable):
    config, _ = CASES[op]
    assert isinstance(config, FUSED_OPS[op].config)
    assert FUSED_OPS[op].supports(config) is None
    implementation, reason = select(op, config)
    assert implementation is FUSED_OPS[op].implementation and reason is None


@pytest.mark.parametrize(
    "op,field", [(op, field) for op in sorted(CASES) for field in CASES[op][1]]
)
def test_supports_names_the_failing_field(op, field, reachable):
    config, changes = CASES[op]
    reason = FUSED_OPS[op].supports(dataclasses.replace(config, **{field: changes[field]}))
    assert isinstance(reason, str) and reason.startswith(f"{field}: "), reason


@pytest.mark.parametrize("op", sorted(CASES))
def test_select_on_numpy_declines_with_the_reason(op):
    config, _ = CASES[op]
    implementation, reason = select(op, config)
    assert implementation is None
    assert reason.startswith("xp: ") and "GPU" in reason
    with pytest.raises(FusedUnsupported, match=rf"{op}: fused=True was requested, but xp: "):
        select(op, config, fused=True)
    assert select(op, config, fused=False) == (None, "fused: False")
    with pytest.raises(ValueError, match="fused must be 'auto', True or False"):
        select(op, config, fused="yes")


def test_fused_unsupported_is_both_error_types():
    """Callers caught ValueError (recurrent ops) or RuntimeError (Adam, no GPU) before."""
    assert issubclass(FusedUnsupported, ValueError) and issubclass(FusedUnsupported, RuntimeError)


def test_declines_are_logged(caplog):
    config, _ = CASES["gru"]
    with caplog.at_level(logging.DEBUG, logger="gpuk.ops.fused"):
        select("gru", config)
    assert "fused gru declined: xp: " in caplog.text


def test_info_reports_every_fused_op():
    lines = dict(registry.describe(np))
    assert set(lines) == set(FUSED_OPS)
    assert all("declines: xp: " in line for line in lines.values())
    labels = [label for label, _ in info.report()]
    assert all(f"fused {op}" in labels for op in FUSED_OPS)


# ----------------------------------------------------------------------------- activations


def test_one_activation_enumeration_for_layer_op_and_kernel():
    source = (ROOT / "kernels" / "common.cuh").read_text()
    body = re.search(r"enum GpukActivation \{(.*?)\};", source, re.S).group(1)
    codes = {name: int(value) for name, value in re.findall(r"GPUK_(\w+) = (\d+)", body)}
    assert codes == {member.name: member.value for member in Activation}
    assert set(recurrent.ACTIVATIONS) == {member.op_name for member in Activation}
    # the layers map exactly Keras's functions of these names onto them
    assert recurrent_layers._OP_NAMES == {
        getattr(activations, member.op_name): member.op_name for member in Activation
    }
    assert Activation.named("hard_sigmoid_legacy") is Activation.HARD_SIGMOID_LEGACY
    assert Activation.named("Tanh") is None and Activation.named(np.tanh) is None


# ----------------------------------------------------------------------------- structure


def _python_files():
    return sorted(PACKAGE.rglob("*.py"))


def test_fused_modules_are_plain_top_level_imports():
    """No optional-import guards and no probing: every import of ``gpuk.ops.fused`` is a
    module-level statement outside ``try``, and nothing imports it through ``importlib``."""
    problems = []
    for path in _python_files():
        tree = ast.parse(path.read_text())
        top_level = {id(node) for node in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "gpuk.ops.fused"
            ):
                if id(node) not in top_level:
                    problems.append(f"{path.relative_to(ROOT)}:{node.lineno}")
        text = path.read_text()
        if re.search(r"import_module\([^)]*fused|signature\([^)]*supports", text):
            problems.append(f"{path.relative_to(ROOT)}: probes a fused module")
    assert problems == []


def test_dispatch_uses_neither_importlib_nor_inspect():
    dispatchers = list((PACKAGE / "ops").rglob("*.py")) + [
        PACKAGE / "losses" / "functions.py",
        PACKAGE / "optimizers" / "adam.py",
        PACKAGE / "layers" / "recurrent.py",
    ]
    for path in dispatchers:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                assert name.split(".")[0] not in ("importlib", "inspect"), (
                    f"{path.relative_to(ROOT)}:{node.lineno} imports {name}"
                )
