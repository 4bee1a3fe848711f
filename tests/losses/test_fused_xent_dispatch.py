"""When the crossentropies hand over to the fused softmax-cross-entropy kernel
(gpuk/losses/functions.py ``_fused_xent``): GPU arrays, the last axis, no gradient wanted
for the labels, and a kernel that supports the shape. The device and the kernel are replaced
by recorders here, so the rule is checked on any machine (issue 18); the kernel itself is
tested in tests/kernels."""

import dataclasses

import numpy as np
import pytest

from gpuk import losses
from gpuk.autograd import Tensor
from gpuk.ops.fused import registry, softmax_xent

# The device and the kernel are fakes fed host arrays: the real device path is the kernel tests'
pytestmark = pytest.mark.usefixtures("on_cpu")

LOGITS = np.array([[2.0, -1.0, 0.5], [0.1, 0.2, 3.0]], "float32")
ONEHOT = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], "float32")
LABELS = np.array([0, 2])


class _FakeDevice:
    """Stands for CuPy: any module that is not NumPy."""


def _kernel_ran(calls):
    return any(call[0] == "kernel" for call in calls)


@pytest.fixture
def fused(monkeypatch):
    """The call's config says "GPU"; the registry's row records what it is asked and run."""
    calls = []
    support = {"ok": True}
    real_config = softmax_xent.softmax_cross_entropy_config
    real_supports = softmax_xent.supports

    def config(*args, **kwargs):
        return dataclasses.replace(real_config(*args, **kwargs), xp=_FakeDevice)

    def supports(config):
        calls.append(("supports", config.classes, config.dtype.name, config.xp, config.axis))
        reason = real_supports(config)
        return reason if support["ok"] else "no"

    def kernel(y_true, y_pred, from_logits, sparse):
        labels = np.asarray(y_true.data)
        calls.append(("kernel", labels.tolist(), labels.dtype.kind, from_logits, sparse))
        return "fused-result"

    row = registry.FUSED_OPS["softmax_cross_entropy"]
    monkeypatch.setattr(softmax_xent, "softmax_cross_entropy_config", config)
    monkeypatch.setitem(
        registry.FUSED_OPS,
        "softmax_cross_entropy",
        dataclasses.replace(row, supports=supports, implementation=kernel),
    )
    return calls, support


def test_categorical_uses_the_kernel_on_the_last_axis(fused):
    calls, _ = fused
    got = losses.categorical_crossentropy(ONEHOT, LOGITS, from_logits=True)
    assert got == "fused-result"
    assert calls == [
        ("supports", 3, "float32", _FakeDevice, -1),
        ("kernel", ONEHOT.tolist(), "f", True, False),
    ]
    calls.clear()
    # axis=1 is the last axis of a 2-D input too; label smoothing happens before the kernel.
    assert losses.categorical_crossentropy(ONEHOT, LOGITS, axis=1, label_smoothing=0.3) == (
        "fused-result"
    )
    assert calls[-1] == ("kernel", (ONEHOT * 0.7 + 0.1).tolist(), "f", False, False)


def test_categorical_falls_back_off_the_last_axis_with_label_gradients_or_no_support(fused):
    calls, support = fused
    out = losses.categorical_crossentropy(ONEHOT, LOGITS, axis=0)
    assert isinstance(out, Tensor) and not _kernel_ran(calls)
    out = losses.categorical_crossentropy(Tensor(ONEHOT, requires_grad=True), LOGITS)
    assert isinstance(out, Tensor) and not _kernel_ran(calls)
    support["ok"] = False
    calls.clear()
    out = losses.categorical_crossentropy(ONEHOT, LOGITS)
    assert isinstance(out, Tensor) and [c[0] for c in calls] == ["supports"]


def test_sparse_uses_the_kernel_with_integer_labels(fused):
    calls, support = fused
    got = losses.sparse_categorical_crossentropy(LABELS.astype("float32"), LOGITS, True)
    assert got == "fused-result"
    assert calls[-1] == ("kernel", [0, 2], "i", True, True)
    calls.clear()
    out = losses.sparse_categorical_crossentropy(LABELS, LOGITS.T, axis=0)
    assert isinstance(out, Tensor) and not _kernel_ran(calls)
    support["ok"] = False
    out = losses.sparse_categorical_crossentropy(LABELS, LOGITS)
    assert isinstance(out, Tensor)


def test_numpy_arrays_never_use_the_kernel(monkeypatch):
    def kernel(*args, **kwargs):
        raise AssertionError("the fused kernel ran on NumPy arrays")

    row = registry.FUSED_OPS["softmax_cross_entropy"]
    monkeypatch.setitem(
        registry.FUSED_OPS,
        "softmax_cross_entropy",
        dataclasses.replace(row, implementation=kernel),
    )
    assert losses.categorical_crossentropy(ONEHOT, LOGITS).shape == (2,)
    assert losses.sparse_categorical_crossentropy(LABELS, LOGITS).shape == (2,)
