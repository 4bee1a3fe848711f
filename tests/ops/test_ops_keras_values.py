"""gpuk.ops against values Keras 3.15 computed (``tools/make_keras_fixtures_ops.py``).

Every case of ``keras_op_cases.CASES`` runs gpuk's op on the inputs stored in the fixture
and compares every output with Keras's, values and dtype.
"""

import pathlib

import numpy as np
import pytest

from gpuk import ops
from gpuk._array import to_numpy
from gpuk.autograd import Tensor
from tests.ops.keras_op_cases import CASES, In

FIXTURE = pathlib.Path(__file__).resolve().parents[1] / "fixtures/keras/ops/ops_values.npz"
_DATA = dict(np.load(FIXTURE))

#: Looser tolerances where Keras (XLA) and NumPy take different numerical routes.
TOLERANCE = {
    "erfinv": 2e-5,
    "i0": 1e-4,
    "sinc": 1e-5,
    "lstsq": 1e-4,
    "pinv": 1e-4,
    "inv": 1e-4,
    "solve": 1e-4,
    "solve_triangular": 1e-4,
    "solve_triangular_up": 1e-4,
    "cholesky_inverse": 1e-4,
    "det": 1e-4,
    "slogdet": 1e-4,
    "lu_factor": 1e-4,
    "istft": 1e-4,
    "istft_len": 1e-4,
    "istft_none": 1e-4,
    "stft": 1e-4,
    "stft_hamming": 1e-4,
    "stft_none": 1e-4,
    "fft": 1e-4,
    "fft2": 1e-4,
    "ifft2": 1e-4,
    "rfft": 1e-4,
    "rfft_len": 1e-4,
    "irfft": 1e-4,
    "irfft_len": 1e-4,
    "corrcoef": 1e-4,
    "norm_nuc": 1e-4,
    "norm_mat2": 1e-4,
    "svd_s": 1e-4,
    "psnr": 1e-4,
    "logspace": 1e-4,
    "geomspace": 1e-4,
    "polar": 1e-5,
}

#: Cases where gpuk's dtype differs from Keras-on-JAX, and why.
DTYPE_DIFFERENCES = {
    # JAX (x64 disabled) keeps float32 where NumPy promotes a Python float to float64.
}


def _inputs(case_id, value, path, xp):
    if isinstance(value, In):
        return xp.asarray(_DATA[f"{case_id}|in|{path}"])
    if isinstance(value, (list, tuple)):
        items = [_inputs(case_id, v, f"{path}.{i}", xp) for i, v in enumerate(value)]
        return type(value)(items)
    if isinstance(value, dict):
        return {k: _inputs(case_id, v, f"{path}.{k}", xp) for k, v in value.items()}
    return value


def _flatten(out):
    if isinstance(out, (list, tuple)):
        return [leaf for item in out for leaf in _flatten(item)]
    return [out]


def _numpy(value):
    if isinstance(value, Tensor):
        return value.numpy()
    return np.asarray(to_numpy(value))


_RUNNABLE = [c for c in CASES if f"{c[0]}|out|0" in _DATA]


def test_fixture_covers_the_table():
    assert len(_RUNNABLE) == len(CASES)


@pytest.mark.parametrize("case", _RUNNABLE, ids=[c[0] for c in _RUNNABLE])
def test_matches_keras(case, xp):
    case_id, name, args, kwargs = case
    call_args = _inputs(case_id, list(args), "args", xp)
    call_kwargs = _inputs(case_id, dict(kwargs), "kwargs", xp)
    fn = ops
    for part in name.split("."):
        fn = getattr(fn, part)
    got = _flatten(fn(*call_args, **call_kwargs))
    expected = [_DATA[k] for k in sorted(
        (k for k in _DATA if k.startswith(f"{case_id}|out|")), key=lambda k: int(k.split("|")[2])
    )]  # fmt: skip
    assert len(got) == len(expected), f"{len(got)} outputs, Keras gives {len(expected)}"
    tol = TOLERANCE.get(case_id, 1e-5)
    for k, (g, e) in enumerate(zip(got, expected)):
        g = _numpy(g)
        assert g.shape == e.shape, f"output {k}: shape {g.shape}, Keras {e.shape}"
        if e.dtype.kind in "fc":
            np.testing.assert_allclose(g, e, rtol=tol, atol=tol, err_msg=f"output {k}")
        else:
            np.testing.assert_array_equal(g, e, err_msg=f"output {k}")
        want = DTYPE_DIFFERENCES.get(case_id, e.dtype.name)
        assert g.dtype.name == want, f"output {k}: dtype {g.dtype.name}, Keras {e.dtype.name}"
