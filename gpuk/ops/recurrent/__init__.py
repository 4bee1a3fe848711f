"""Recurrent sequence ops: ``gru``, ``lstm`` and ``simple_rnn`` over whole sequences.

Three implementations of each (docs/architecture.md, "Three implementations of each hot op"):

1. **Composed** (``*_composed``): a step-by-step loop of primitive ``gpuk.ops``; autograd gives
   its gradient. It is the test oracle and the path taken for activation *callables*.
2. **Whole-sequence Function** (``GRUSequence``, ``LSTMSequence``, ``SimpleRNNSequence``): one
   autograd node per call with a hand-written backward through time. The input projection of all
   time steps is one matrix product ``(T*B, D) @ kernel``; only the recurrent product loops over
   time. Backward runs the loop in reverse collecting per-step gate gradients, then computes the
   kernel, recurrent-kernel and input gradients as single big matrix products after the loop.
   Written once over ``xp`` (NumPy or CuPy), float32 and float64.
3. **Fused CUDA kernel** from ``gpuk.ops.fused.<cell>`` (``gru``, ``lstm``, ``simple_rnn``),
   used with ``fused="auto"`` when :func:`gpuk.ops.fused.registry.select` accepts the call's
   ``RecurrentConfig`` (the fields this op receives: ``xp``, ``dtype``, sizes, activations,
   ``reset_after``, ``go_backwards`` and the ``has_*`` flags); ``fused=True`` raises
   ``FusedUnsupported`` with the reason when it declines. The fused op (``<cell>_fused``) has
   the same signature and semantics as the public function here, and trusts the shapes this
   op checked. With a mask the fused ops output zeros before the first unmasked step, like the
   generic ones, also with an explicit initial state. Dropout masks
   (``input_dropout_mask(s)``, ``recurrent_dropout_mask(s)``, Keras's per-gate masks in
   training) run inside the fused kernels, or on the composed path when no kernel applies.

Activations are the names of :class:`Activation` (one enumeration shared with the layers and the
kernels, whose value is the kernel code) -- ``"tanh"``, ``"sigmoid"``, ``"relu"``,
``"linear"``, ``"hard_sigmoid"`` (Keras 3: ``clip(x / 6 + 0.5, 0, 1)``) and
``"hard_sigmoid_legacy"`` (Keras 1/2 and tf.keras: ``clip(0.2 * x + 0.5, 0, 1)``) -- or any
callable on Tensors, which selects the composed path.

Semantics match Keras 3 exactly:

* ``mask`` is boolean ``(batch, time)``. At a masked step the state (``h``, and ``c`` for the
  LSTM) is carried forward unchanged, and the sequence output repeats the output of the last
  *unmasked* step (zeros before the first one, even with a non-zero initial state); Keras 3's
  ``zero_output_for_mask=False`` default. ``last_state`` is the carried state.
* ``go_backwards=True`` processes time reversed (the mask too) and returns the sequence outputs
  in processing order, i.e. reversed relative to the input, as Keras does.
* GRU gate order z, r, h; ``reset_after=True``: bias ``(2, 3u)`` = [input bias; recurrent bias],
  ``hh = act(x_h + r * (h @ U_h + b_rh))``; ``reset_after=False``: bias ``(3u,)``,
  ``hh = act(x_h + (r * h) @ U_h)``; ``h = z * h_prev + (1 - z) * hh``.
* LSTM gate order i, f, c, o, bias ``(4u,)``; ``c = f * c_prev + i * act(x_c)``,
  ``h = o * act(c)``.
"""

# One module per cell holds its whole-sequence Function, its composed oracle and its public op.
# The ops ``gru``, ``lstm``, ``simple_rnn`` shadow the submodules of the same names as attributes
# of this package: ``from gpuk.ops.recurrent import gru`` gives the op.
from gpuk.ops._recurrent_activation import Activation
from gpuk.ops.recurrent._common import ACTIVATIONS
from gpuk.ops.recurrent.gru import (
    GRUSequence,
    gru,
    gru_composed,
)
from gpuk.ops.recurrent.lstm import (
    LSTMSequence,
    lstm,
    lstm_composed,
)
from gpuk.ops.recurrent.simple_rnn import (
    SimpleRNNSequence,
    simple_rnn,
    simple_rnn_composed,
)

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "GRUSequence",
    "LSTMSequence",
    "SimpleRNNSequence",
    "gru",
    "gru_composed",
    "lstm",
    "lstm_composed",
    "simple_rnn",
    "simple_rnn_composed",
]
