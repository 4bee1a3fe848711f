"""Every recurrent layer runs a whole sequence in a number of launches independent of its length.

Under the CPU CUDA emulator (which the recurrent dispatch treats as a device), a GRU, LSTM and
SimpleRNN layer with ``fused=True`` -- in training with input and recurrent dropout, and
without -- make the same number of kernel launches, and record the same number of autograd
operations, at T=10 and T=50, forward and backward. The composed step-by-step path (what
recurrent dropout used to force) grows with T, and would fail this.
"""

import collections

import numpy as np
import pytest

import gpuk
from gpuk import _array, layers
from gpuk.autograd import function as autograd_function
from gpuk.ops import recurrent
from gpuk.ops.fused import launch
from tests import cuda_emulator

pytestmark = pytest.mark.skipif(
    cuda_emulator.unavailable_reason() is not None,
    reason=str(cuda_emulator.unavailable_reason()),
)


@pytest.fixture(autouse=True)
def _numpy_arrays():
    """The emulator runs kernels over NumPy arrays: keep new arrays on the CPU even where
    GPUK_DEVICE=gpu (or 'auto' on a GPU machine)."""
    try:
        previous = _array.device()
    except RuntimeError:  # GPUK_DEVICE=gpu on a machine without one
        previous = "cpu"
    _array.set_device("cpu")
    yield
    _array.set_device(previous)


def _counts(layer_class, steps, dropout, monkeypatch):
    """(forward launches, backward launches, autograd operations) of one training step."""
    gpuk.utils.set_random_seed(1)
    layer = layer_class(
        6,
        dropout=dropout,
        recurrent_dropout=dropout,
        return_sequences=True,
        fused=True,
    )
    rng = np.random.default_rng(0)
    x = gpuk.Variable(rng.normal(size=(2, steps, 3)).astype(np.float32))
    layer.build((2, steps, 3))
    operations = collections.Counter()
    apply = autograd_function.Function.apply.__func__

    def counting_apply(cls, *args, **kwargs):
        operations[cls.__name__] += 1
        return apply(cls, *args, **kwargs)

    provider = cuda_emulator.Provider()
    with monkeypatch.context() as patch, launch.use_kernel_provider(provider):
        patch.setattr(autograd_function.Function, "apply", classmethod(counting_apply))
        with gpuk.GradientTape() as tape:
            y = layer(x, training=True)
            loss = gpuk.ops.sum(y * y)
        forward = collections.Counter(name.split("<")[0] for name, *_ in provider.launches(""))
        grads = tape.gradient(loss, [x] + list(layer.trainable_weights))
    assert all(g is not None for g in grads)
    total = collections.Counter(name.split("<")[0] for name, *_ in provider.launches(""))
    return forward, total - forward, operations


@pytest.mark.parametrize("dropout", [0.0, 0.3], ids=["plain", "dropout"])
@pytest.mark.parametrize("layer_class", [layers.GRU, layers.LSTM, layers.SimpleRNN])
def test_launches_do_not_grow_with_the_sequence(layer_class, dropout, monkeypatch):
    short = _counts(layer_class, 10, dropout, monkeypatch)
    long = _counts(layer_class, 50, dropout, monkeypatch)
    forward, backward, operations = short
    assert sum(forward.values()) == 1 and sum(backward.values()) == 1, (forward, backward)
    assert long == short
    assert sum(operations.values()) < 20, operations


def _train_step(layer, x, seed):
    gpuk.utils.set_random_seed(seed)
    variable = gpuk.Variable(x)
    with gpuk.GradientTape() as tape:
        y = layer(variable, training=True)
        loss = gpuk.ops.sum(y * y)
    grads = tape.gradient(loss, [variable] + list(layer.trainable_weights))
    return [y.numpy()] + [g.numpy() for g in grads]


@pytest.mark.parametrize("layer_class", [layers.GRU, layers.LSTM, layers.SimpleRNN])
def test_layer_dropout_in_the_kernel_matches_the_composed_path(layer_class):
    """The same dropout draws give the same training step fused (emulated) and generic."""
    x = np.random.default_rng(3).normal(size=(3, 7, 4)).astype(np.float64)
    options = dict(dropout=0.25, recurrent_dropout=0.4, return_sequences=True, dtype="float64")
    fused = layer_class(5, fused=True, go_backwards=True, **options)
    generic = layer_class(5, fused=False, go_backwards=True, **options)
    fused.build(x.shape)
    generic.build(x.shape)
    generic.set_weights(fused.get_weights())
    with launch.use_kernel_provider(cuda_emulator.Provider()):
        actual = _train_step(fused, x, seed=5)
    expected = _train_step(generic, x, seed=5)
    for a, e in zip(actual, expected):
        np.testing.assert_allclose(a, e, rtol=1e-10, atol=1e-12)


CELLS = {
    "gru": (3, lambda a, k, **o: recurrent.gru(a, k[0], k[1], None, None, **o)),
    "lstm": (4, lambda a, k, **o: recurrent.lstm(a, k[0], k[1], None, None, None, **o)),
    "simple_rnn": (1, lambda a, k, **o: recurrent.simple_rnn(a, k[0], k[1], None, None, **o)),
}


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_auto_dispatch_takes_the_kernel_or_says_why_not(cell):
    gates, op = CELLS[cell]
    rng = np.random.default_rng(0)

    def weights(dtype):
        return [rng.normal(size=(3, gates * 4)).astype(dtype)] + [
            rng.normal(size=(4, gates * 4)).astype(dtype)
        ]

    x = rng.normal(size=(2, 5, 3)).astype(np.float32)
    provider = cuda_emulator.Provider()
    with launch.use_kernel_provider(provider):
        op(x, weights(np.float32), fused="auto")
        assert len(provider.launches(f"{cell}_sequence_forward")) == 1
        with pytest.raises(ValueError, match=f"{cell}: fused=True .*float16"):
            op(x.astype(np.float16), weights(np.float16), fused=True)
    with pytest.raises(ValueError, match="not CuPy"):
        op(x, weights(np.float32), fused=True)
