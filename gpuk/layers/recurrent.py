"""Recurrent layers with Keras 3's arguments, weights and numerics: SimpleRNN, GRU, LSTM.

Each layer owns a cell (``layer.cell``: ``SimpleRNNCell``, ``GRUCell``, ``LSTMCell``, named
``simple_rnn_cell``/``gru_cell``/``lstm_cell`` as in Keras) that holds the weights ``kernel``,
``recurrent_kernel`` and ``bias``; their paths are ``<layer>/<cell>/<weight>``, e.g.
``gru/gru_cell/kernel`` (Keras 3 ``.weights.h5`` stores them under
``layers/gru/cell/vars/0..2``). The whole sequence runs as one op from ``gpuk.ops.recurrent``
(fused CUDA kernel on the GPU when supported, else the whole-sequence Function with a
hand-written backward through time); activation callables that are not Keras built-ins take
the composed step-by-step path. ``recurrent_dropout`` in training runs its per-gate masks inside
the fused kernel on the GPU, and on the composed path elsewhere.

Masks (from ``Masking`` or ``Embedding(mask_zero=True)``) follow Keras 3: masked steps carry
the state forward and repeat the previous output (zeros with ``zero_output_for_mask=True``).
``go_backwards=True`` returns sequences in reversed time order, as Keras does.
"""

import numpy as np

from gpuk import activations, constraints, initializers, ops, regularizers
from gpuk._array import asarray, generator, get_array_module, to_numpy
from gpuk.autograd import Tensor, as_array
from gpuk.layers.base import InputSpec, Layer
from gpuk.layers.serialization import register_layer_class
from gpuk.ops import recurrent as recurrent_ops
from gpuk.ops.recurrent import Activation

__all__ = ["GRU", "GRUCell", "LSTM", "LSTMCell", "SimpleRNN", "SimpleRNNCell"]

# Keras's built-in activation functions that are members of the one enumeration of
# hand-differentiated activations (``gpuk.activations.tanh`` -> ``"tanh"``, ...).
_OP_NAMES = {getattr(activations, member.op_name): member.op_name for member in Activation}

# Keys older Keras versions wrote that gpuk accepts and ignores.
_LEGACY_KEYS = ("time_major", "implementation", "cell", "use_cudnn")


def _op_activation(function):
    return _OP_NAMES.get(function, function)


def _check_rate(layer, name, value):
    if not 0 <= float(value) <= 1:
        raise ValueError(f"{layer}: {name} must be a float in [0, 1], received {name}={value!r}")
    return float(value)


# ----------------------------------------------------------------------------- cells


class _Cell(Layer):
    """Shared cell arguments; a cell computes one time step and owns the weights."""

    _gates = 1

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        **kwargs,
    ):
        for key in _LEGACY_KEYS:
            kwargs.pop(key, None)
        super().__init__(**kwargs)
        if not isinstance(units, (int, np.integer)) or isinstance(units, bool) or units <= 0:
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: units must be a positive integer, "
                f"received units={units!r}"
            )
        self.units = int(units)
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = min(1.0, max(0.0, _check_rate(self.name, "dropout", dropout)))
        self.recurrent_dropout = min(
            1.0, max(0.0, _check_rate(self.name, "recurrent_dropout", recurrent_dropout))
        )
        self.seed = seed

    @property
    def state_size(self):
        return self.units

    @property
    def output_size(self):
        return self.units

    def _bias_shape(self):
        return (self._gates * self.units,)

    def _bias_initializer(self):
        return self.bias_initializer

    def build(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(
                f"{type(self).__name__} {self.name!r} needs the feature dimension of its input "
                f"to be known, received input shape {tuple(input_shape)}"
            )
        width = self._gates * self.units
        self.kernel = self.add_weight(
            name="kernel",
            shape=(input_dim, width),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.recurrent_kernel = self.add_weight(
            name="recurrent_kernel",
            shape=(self.units, width),
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=self._bias_shape(),
                initializer=self._bias_initializer(),
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        self.built = True

    def _sequence(self, inputs, states, mask, go_backwards, fused, dropout_masks=None):
        raise NotImplementedError

    def call(self, inputs, states, training=None):
        """One time step: ``inputs (batch, features)``, ``states`` a list of ``(batch, units)``.

        Returns ``(output, new_states)`` as Keras cells do.
        """
        if isinstance(states, Tensor) or not isinstance(states, (list, tuple)):
            states = [states]
        step = ops.reshape(inputs, (inputs.shape[0], 1, inputs.shape[-1]))
        outputs = self._sequence(step, list(states), None, False, False)
        output = ops.reshape(outputs[0], (inputs.shape[0], self.units))
        return output, list(outputs[1:])

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "activation": activations.serialize(self.activation),
                "recurrent_activation": activations.serialize(self.recurrent_activation),
                "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint),
                "dropout": self.dropout,
                "recurrent_dropout": self.recurrent_dropout,
                "seed": self.seed,
            }
        )
        return config


class SimpleRNNCell(_Cell):
    """Cell of :class:`SimpleRNN`: ``h = activation(x @ kernel + bias + h_prev @ U)``."""

    _gates = 1

    def __init__(self, units, activation="tanh", **kwargs):
        kwargs.pop("recurrent_activation", None)
        super().__init__(units, activation=activation, **kwargs)

    def _sequence(self, inputs, states, mask, go_backwards, fused, dropout_masks=None):
        activation = _op_activation(self.activation)
        x_masks, h_masks = dropout_masks or (None, None)
        return recurrent_ops.simple_rnn(
            inputs,
            self.kernel,
            self.recurrent_kernel,
            self.bias,
            states[0],
            mask,
            activation=activation,
            go_backwards=go_backwards,
            fused=fused,
            input_dropout_mask=None if x_masks is None else x_masks[0],
            recurrent_dropout_mask=None if h_masks is None else h_masks[0],
        )

    def get_config(self):
        config = super().get_config()
        del config["recurrent_activation"]
        return config


class GRUCell(_Cell):
    """Cell of :class:`GRU` (gate order z, r, h; ``reset_after`` chooses the bias layout)."""

    _gates = 3

    def __init__(self, units, reset_after=True, **kwargs):
        super().__init__(units, **kwargs)
        self.reset_after = bool(reset_after)

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def _sequence(self, inputs, states, mask, go_backwards, fused, dropout_masks=None):
        kwargs = dict(
            activation=_op_activation(self.activation),
            recurrent_activation=_op_activation(self.recurrent_activation),
            reset_after=self.reset_after,
            go_backwards=go_backwards,
        )
        args = (inputs, self.kernel, self.recurrent_kernel, self.bias, states[0], mask)
        x_masks, h_masks = dropout_masks or (None, None)
        return recurrent_ops.gru(
            *args,
            fused=fused,
            input_dropout_masks=x_masks,
            recurrent_dropout_masks=h_masks,
            **kwargs,
        )

    def get_config(self):
        config = super().get_config()
        config["reset_after"] = self.reset_after
        return config


class LSTMCell(_Cell):
    """Cell of :class:`LSTM` (gate order i, f, c, o; two states h and c)."""

    _gates = 4

    def __init__(self, units, unit_forget_bias=True, **kwargs):
        super().__init__(units, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)

    @property
    def state_size(self):
        return [self.units, self.units]

    def _bias_initializer(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        base, units = self.bias_initializer, self.units

        def init(shape, dtype=None):
            value = base((units,), dtype=dtype)
            value = to_numpy(value.data if isinstance(value, Tensor) else value)
            ones = np.ones((units,), dtype=value.dtype)
            rest = base((2 * units,), dtype=dtype)
            rest = to_numpy(rest.data if isinstance(rest, Tensor) else rest)
            return np.concatenate([value, ones, rest])

        return init

    def _sequence(self, inputs, states, mask, go_backwards, fused, dropout_masks=None):
        kwargs = dict(
            activation=_op_activation(self.activation),
            recurrent_activation=_op_activation(self.recurrent_activation),
            go_backwards=go_backwards,
        )
        h0, c0 = (states + [None, None])[:2]
        args = (inputs, self.kernel, self.recurrent_kernel, self.bias, h0, c0, mask)
        x_masks, h_masks = dropout_masks or (None, None)
        return recurrent_ops.lstm(
            *args,
            fused=fused,
            input_dropout_masks=x_masks,
            recurrent_dropout_masks=h_masks,
            **kwargs,
        )

    def get_config(self):
        config = super().get_config()
        config["unit_forget_bias"] = self.unit_forget_bias
        return config


# ----------------------------------------------------------------------------- layers


class _RNN(Layer):
    """Sequence layer over one of the cells above (Keras's ``RNN`` arguments)."""

    _cell_class = None
    _cell_name = None
    supports_masking = True

    def __init__(
        self,
        units,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        zero_output_for_mask=False,
        fused="auto",
        activity_regularizer=None,
        **kwargs,
    ):
        for key in _LEGACY_KEYS:
            kwargs.pop(key, None)
        base_keys = ("name", "trainable", "dtype", "input_shape", "input_dim", "batch_size")
        base_keys += ("batch_input_shape", "batch_shape", "weights", "autocast")
        base = {k: kwargs.pop(k) for k in base_keys if k in kwargs}
        super().__init__(activity_regularizer=activity_regularizer, **base)
        self.cell = self._cell_class(units, name=self._cell_name, dtype=self.dtype, **kwargs)
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        if fused not in ("auto", True, False):
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: fused must be 'auto', True or False, "
                f"received {fused!r}"
            )
        self.fused = fused
        self.states = None
        self.input_spec = InputSpec(ndim=3)

    def __getattr__(self, name):
        # Keras exposes the cell's arguments on the layer (layer.units, layer.activation ...).
        if name.startswith("_") or name == "cell" or "cell" not in self.__dict__:
            raise AttributeError(name)
        return getattr(self.__dict__["cell"], name)

    @property
    def state_size(self):
        return self.cell.state_size

    def _n_states(self):
        size = self.cell.state_size
        return len(size) if isinstance(size, list) else 1

    def _check_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(
                f"Input 0 of layer {self.name!r} ({type(self).__name__}) is incompatible with "
                f"the layer: expected ndim=3 (batch, time, features), found ndim="
                f"{len(input_shape)}. Full shape received: {tuple(input_shape)}"
            )

    def build(self, input_shape):
        if isinstance(input_shape, list) and input_shape and not _is_shape(input_shape):
            input_shape = input_shape[0]
        input_shape = tuple(input_shape)
        self._check_shape(input_shape)
        self.cell._maybe_build((input_shape[0], input_shape[-1]))
        for variable in self.cell.weights:
            variable.path = f"{self.name}/{self.cell.name}/{variable.name}"
        self.input_spec = InputSpec(ndim=3, axes={-1: input_shape[-1]})
        self.built = True

    def compute_output_shape(self, input_shape):
        if isinstance(input_shape, list) and input_shape and not _is_shape(input_shape):
            input_shape = input_shape[0]
        input_shape = tuple(input_shape)
        self._check_shape(input_shape)
        units = self.cell.units
        if self.return_sequences:
            output = (input_shape[0], input_shape[1], units)
        else:
            output = (input_shape[0], units)
        if self.return_state:
            return [output] + [(input_shape[0], units)] * self._n_states()
        return output

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * self._n_states()
        return output_mask

    def reset_states(self, states=None):
        """Forget the state kept by a ``stateful`` layer (or set it to ``states``)."""
        if states is None:
            self.states = None
        else:
            states = states if isinstance(states, (list, tuple)) else [states]
            self.states = [Tensor(as_array(s)) for s in states]

    reset_state = reset_states

    def _dropout_masks(self, inputs, training):
        """Keras's dropout masks for this call, or None when no dropout applies."""
        cell = self.cell
        if not training or (cell.dropout == 0 and cell.recurrent_dropout == 0):
            return None, None
        data = inputs.data
        xp = get_array_module(data)
        rng = generator(xp)
        batch, _, features = data.shape
        # Keras uses one input mask when recurrent_dropout is 0 (its fused implementation 2)
        # and one mask per gate otherwise (implementation 1).
        count = cell._gates if cell.recurrent_dropout > 0 else 1

        def draw(rate, size):
            if rate == 0 or rate >= 1:
                return None
            keep = 1.0 - rate
            masks = []
            for _ in range(count):
                sample = rng.random((batch, size)) if xp is np else rng.random_sample((batch, size))
                masks.append(((sample < keep) / keep).astype(data.dtype))
            return masks

        return draw(cell.dropout, features), draw(cell.recurrent_dropout, cell.units)

    def call(self, inputs, mask=None, training=None, initial_state=None):
        if isinstance(inputs, (list, tuple)):
            inputs, *given = inputs
            initial_state = initial_state if initial_state is not None else (given or None)
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        batch = inputs.shape[0]
        if initial_state is not None:
            states = (
                list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
            )
            if len(states) != self._n_states():
                raise ValueError(
                    f"Layer {self.name!r} expects {self._n_states()} initial state(s), "
                    f"received {len(states)}"
                )
        elif self.stateful and self.states is not None:
            states = self.states
            if states[0].shape[0] != batch:
                raise ValueError(
                    f"Stateful layer {self.name!r} keeps states for batch size "
                    f"{states[0].shape[0]}, received a batch of {batch}; call reset_states() "
                    "or use a fixed batch size"
                )
        else:
            states = [None] * self._n_states()
        if mask is not None:
            mask = mask.data if isinstance(mask, Tensor) else mask
        x_masks, h_masks = self._dropout_masks(inputs, training)
        dropout_masks = None
        if h_masks is not None:
            dropout_masks = (x_masks, h_masks)
        elif x_masks is not None:
            inputs = ops.multiply(inputs, x_masks[0][:, None, :])
        results = self.cell._sequence(
            inputs, states, mask, self.go_backwards, self.fused, dropout_masks
        )
        sequence, new_states = results[0], list(results[1:])
        if self.stateful:
            self.states = [Tensor(s.data) for s in new_states]
        if self.return_sequences:
            output = sequence
            if self.zero_output_for_mask and mask is not None:
                keep = asarray(mask, xp=get_array_module(sequence.data))
                if self.go_backwards:
                    keep = keep[:, ::-1]
                output = ops.where(keep[:, :, None], sequence, 0.0)
        else:
            output = ops.getitem(sequence, (slice(None), -1))
            if self.zero_output_for_mask and mask is not None:
                keep = asarray(mask, xp=get_array_module(sequence.data))
                keep = keep[:, :1] if self.go_backwards else keep[:, -1:]
                output = ops.where(keep.any(axis=1, keepdims=True), output, 0.0)
        if self.return_state:
            return [output, *new_states]
        return output

    def get_config(self):
        # The dtype as the base layer writes it (a DTypePolicy under mixed precision).
        dtype = Layer.get_config(self)["dtype"]
        config = {"name": self.name, "trainable": self.trainable, "dtype": dtype}
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = list(self._batch_input_shape)
        config.update(
            {
                "return_sequences": self.return_sequences,
                "return_state": self.return_state,
                "go_backwards": self.go_backwards,
                "stateful": self.stateful,
                "unroll": self.unroll,
                "zero_output_for_mask": self.zero_output_for_mask,
            }
        )
        cell_config = self.cell.get_config()
        for key in ("name", "trainable", "dtype"):
            cell_config.pop(key, None)
        config.update(cell_config)
        config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        if self.fused != "auto":
            config["fused"] = self.fused
        return config


def _is_shape(value):
    return all(v is None or isinstance(v, (int, np.integer)) for v in value)


class SimpleRNN(_RNN):
    """Fully connected RNN whose output is fed back: ``h = activation(x W + h U + b)``.

    Args:
        units: size of the state and output.
        activation: ``"tanh"`` by default; any name or callable.
        use_bias, kernel/recurrent/bias initializers, regularizers and constraints: as Keras
            (``glorot_uniform``, ``orthogonal``, ``zeros``).
        dropout, recurrent_dropout: fractions dropped from the inputs / the state in training.
        seed: accepted for Keras compatibility (draws come from gpuk's seeded generator).
        return_sequences, return_state, go_backwards, stateful, unroll: Keras's RNN arguments
            (``unroll`` is accepted and has no effect).
        zero_output_for_mask: output zeros at masked steps instead of repeating the last output.
        fused: ``"auto"``, True or False: whether to use the CUDA kernel (gpuk only).
    """

    _cell_class = SimpleRNNCell
    _cell_name = "simple_rnn_cell"

    def __init__(self, units, activation="tanh", **kwargs):
        super().__init__(units, activation=activation, **kwargs)


class GRU(_RNN):
    """Gated Recurrent Unit (Keras 3 / tf.keras 2 formulation; gate order z, r, h).

    Weights: ``kernel (input_dim, 3u)``, ``recurrent_kernel (u, 3u)``, ``bias (2, 3u)`` with
    ``reset_after=True`` (input bias; recurrent bias) or ``(3u,)`` with ``reset_after=False``.

    Args:
        units: size of the state and output.
        activation: ``"tanh"``; recurrent_activation: ``"sigmoid"``; any name or callable.
        reset_after: apply the reset gate after the recurrent product (True, the default since
            tf.keras 2) or before it (Keras 2 and rnnoise models).
        Other arguments: as :class:`SimpleRNN`.
    """

    _cell_class = GRUCell
    _cell_name = "gru_cell"

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", **kwargs):
        super().__init__(
            units, activation=activation, recurrent_activation=recurrent_activation, **kwargs
        )


class LSTM(_RNN):
    """Long Short-Term Memory layer (gate order i, f, c, o; states ``[h, c]``).

    Weights: ``kernel (input_dim, 4u)``, ``recurrent_kernel (u, 4u)``, ``bias (4u,)``;
    ``unit_forget_bias=True`` initializes the forget-gate bias to ones.

    Args:
        units, activation, recurrent_activation, ...: as :class:`GRU`.
        unit_forget_bias: add 1 to the forget gate bias at initialization.
    """

    _cell_class = LSTMCell
    _cell_name = "lstm_cell"

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", **kwargs):
        super().__init__(
            units, activation=activation, recurrent_activation=recurrent_activation, **kwargs
        )


for _cls in (SimpleRNNCell, GRUCell, LSTMCell, SimpleRNN, GRU, LSTM):
    register_layer_class(_cls)
del _cls
