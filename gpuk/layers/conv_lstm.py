"""Convolutional LSTMs: ``ConvLSTM1D/2D/3D`` (Keras 3's arguments, configs and weights
``<layer>/conv_lstm_cell/{kernel, recurrent_kernel, bias}``, gate order i, f, c, o).

The input convolution of every time step runs as one batched convolution before the time loop;
the loop then does one recurrent convolution (``"same"`` padding, stride 1) per step.
"""

import numpy as np

from gpuk import activations, constraints, initializers, ops, regularizers
from gpuk._array import asarray, generator, get_array_module
from gpuk.autograd import Tensor, as_array
from gpuk.layers.base import InputSpec, Layer
from gpuk.layers.convolutional import (
    _is_int,
    add_bias,
    join_channels,
    layer_data_format,
    layer_padding,
    positive_tuple,
)
from gpuk.ops import _windows as W


class ConvLSTMCell(Layer):
    """The weights and one step of a ConvLSTM (used through :class:`ConvLSTM2D` and friends)."""

    def __init__(
        self,
        rank,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        unit_forget_bias=True,
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
        super().__init__(**kwargs)
        self.rank = rank
        if not _is_int(filters) or filters <= 0:
            raise ValueError(
                f"ConvLSTM{rank}D: invalid value for argument `filters`. Expected a strictly "
                f"positive integer. Received filters={filters!r}."
            )
        self.filters = int(filters)
        self.kernel_size = positive_tuple(self, kernel_size, rank, "kernel_size")
        self.strides = positive_tuple(self, strides, rank, "strides")
        self.dilation_rate = positive_tuple(self, dilation_rate, rank, "dilation_rate")
        self.padding = layer_padding(self, padding)
        self.data_format = layer_data_format(self, data_format)
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.unit_forget_bias = unit_forget_bias
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = min(1.0, max(0.0, float(dropout)))
        self.recurrent_dropout = min(1.0, max(0.0, float(recurrent_dropout)))
        self.seed = seed

    def build(self, input_shape):
        channels = input_shape[1] if self.data_format == "channels_first" else input_shape[-1]
        f = self.filters
        self.kernel = self.add_weight(
            name="kernel",
            shape=(*self.kernel_size, channels, 4 * f),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.recurrent_kernel = self.add_weight(
            name="recurrent_kernel",
            shape=(*self.kernel_size, f, 4 * f),
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
        )
        self.bias = None
        if self.use_bias:
            init = self.bias_initializer
            if self.unit_forget_bias:
                base = self.bias_initializer

                def init(shape, dtype=None):
                    parts = [base((f,), dtype), np.ones((f,)), base((2 * f,), dtype)]
                    return np.concatenate([np.asarray(p) for p in parts]).astype(dtype)

            self.bias = self.add_weight(
                name="bias",
                shape=(4 * f,),
                initializer=init,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        self.built = True

    def _axis(self):
        return 1 if self.data_format == "channels_first" else -1

    def input_conv(self, x, kernel, bias):
        y = ops.conv(
            x,
            kernel,
            strides=self.strides,
            padding=self.padding,
            data_format=self.data_format,
            dilation_rate=self.dilation_rate,
        )
        return y if bias is None else add_bias(y, bias, self.data_format, self.rank)

    def recurrent_conv(self, h, kernel):
        return ops.conv(h, kernel, strides=1, padding="same", data_format=self.data_format)

    def gates(self, z, c_prev):
        """New ``(h, c)`` from the gate pre-activations ``z`` (4 * filters channels)."""
        i, f, g, o = ops.split(z, 4, axis=self._axis() % z.ndim)
        i = self.recurrent_activation(i)
        f = self.recurrent_activation(f)
        c = ops.add(ops.multiply(f, c_prev), ops.multiply(i, self.activation(g)))
        o = self.recurrent_activation(o)
        return ops.multiply(o, self.activation(c)), c

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "kernel_size": self.kernel_size,
                "strides": self.strides,
                "padding": self.padding,
                "data_format": self.data_format,
                "dilation_rate": self.dilation_rate,
                "activation": activations.serialize(self.activation),
                "recurrent_activation": activations.serialize(self.recurrent_activation),
                "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "unit_forget_bias": self.unit_forget_bias,
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


_RNN_KEYS = ("return_sequences", "return_state", "go_backwards", "stateful")


class ConvLSTM(Layer):
    """Shared machinery of ``ConvLSTM1D/2D/3D``; subclasses set ``rank``."""

    rank = 2
    supports_masking = True

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        zero_output_for_mask=False,
        activity_regularizer=None,
        **kwargs,
    ):
        for key in ("time_major", "implementation", "cell"):  # tf.keras 2 config keys
            kwargs.pop(key, None)
        base_keys = ("name", "trainable", "dtype", "input_shape", "batch_size")
        base_keys += ("batch_input_shape", "batch_shape", "weights", "autocast")
        base = {k: kwargs.pop(k) for k in base_keys if k in kwargs}
        super().__init__(activity_regularizer=activity_regularizer, **base)
        self.cell = ConvLSTMCell(
            self.rank,
            filters,
            kernel_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            name="conv_lstm_cell",
            dtype=self.dtype,
            **kwargs,
        )
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.states = None
        self.input_spec = InputSpec(ndim=self.rank + 3)

    def __getattr__(self, name):
        if name.startswith("_") or name == "cell" or "cell" not in self.__dict__:
            raise AttributeError(name)
        return getattr(self.__dict__["cell"], name)

    def _check(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != self.rank + 3:
            raise ValueError(
                f"Input 0 of layer {self.name!r} ({type(self).__name__}) is incompatible with "
                f"the layer: expected ndim={self.rank + 3} (batch, time, spatial..., channels), "
                f"found ndim={len(input_shape)}. Full shape received: {input_shape}"
            )
        step = (input_shape[0], *input_shape[2:])
        cell = self.cell
        spatial = step[2:] if cell.data_format == "channels_first" else step[1:-1]
        channels = step[1] if cell.data_format == "channels_first" else step[-1]
        if None in spatial or channels is None:
            raise ValueError(
                f"Layer {self.name!r} ({type(self).__name__}) needs static spatial and channel "
                f"sizes, received input shape {input_shape}."
            )
        out = []
        for n, k, s, d in zip(spatial, cell.kernel_size, cell.strides, cell.dilation_rate):
            length = W.output_length(n, k, s, d, cell.padding)
            if length <= 0:
                raise ValueError(
                    f"Layer {self.name!r} ({type(self).__name__}): the kernel "
                    f"{cell.kernel_size} is larger than the input's spatial size {spatial} "
                    f"with padding={cell.padding!r} (input shape {input_shape})."
                )
            out.append(length)
        return step, join_channels(input_shape[0], out, cell.filters, cell.data_format)

    def build(self, input_shape):
        step, _ = self._check(input_shape)
        self.cell._maybe_build(step)
        for variable in self.cell.weights:
            variable.path = f"{self.name}/{self.cell.name}/{variable.name}"
        self.input_spec = InputSpec(ndim=self.rank + 3, shape=(None, *tuple(input_shape)[1:]))
        self.built = True

    def compute_output_shape(self, input_shape):
        _, state = self._check(input_shape)
        output = (state[0], input_shape[1], *state[1:]) if self.return_sequences else state
        return [output, state, state] if self.return_state else output

    def reset_states(self, states=None):
        """Forget the state kept by a ``stateful`` layer (or set it to ``[h, c]``)."""
        self.states = None if states is None else [Tensor(as_array(s)) for s in states]

    reset_state = reset_states

    def _masks(self, like, rate, training):
        if not training or not 0 < rate < 1:
            return None
        xp = get_array_module(like.data)
        rng = generator(xp)
        keep = 1.0 - rate
        shape = like.shape
        draw = (lambda: rng.random(shape)) if xp is np else (lambda: rng.random_sample(shape))
        return [Tensor(((draw() < keep) / keep).astype(like.dtype)) for _ in range(4)]

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        return [output_mask, None, None] if self.return_state else output_mask

    def call(self, inputs, mask=None, training=None, initial_state=None):
        cell = self.cell
        batch, steps = inputs.shape[0], inputs.shape[1]
        step_shape = inputs.shape[2:]
        flat = ops.reshape(inputs, (batch * steps, *step_shape))
        x_masks = self._masks(ops.getitem(inputs, (slice(None), 0)), cell.dropout, training)
        if x_masks is None:
            xs = cell.input_conv(flat, cell.kernel, cell.bias)
        else:
            kernels = ops.split(cell.kernel, 4, axis=-1)
            biases = ops.split(cell.bias, 4) if cell.use_bias else [None] * 4
            parts = []
            for drop, kernel, bias in zip(x_masks, kernels, biases):
                masked = ops.multiply(inputs, ops.expand_dims(drop, 1))
                parts.append(cell.input_conv(ops.reshape(masked, flat.shape), kernel, bias))
            xs = ops.concatenate(parts, axis=cell._axis() % flat.ndim)
        xs = ops.reshape(xs, (batch, steps, *xs.shape[1:]))
        _, state_shape = self._check(inputs.shape)
        if initial_state is not None:
            h, c = initial_state
        elif self.stateful and self.states is not None:
            h, c = self.states
        else:
            zeros = Tensor(get_array_module(inputs.data).zeros(state_shape, inputs.dtype))
            h, c = zeros, zeros
        h_masks = self._masks(h, cell.recurrent_dropout, training)
        order = range(steps - 1, -1, -1) if self.go_backwards else range(steps)
        keep = None
        if mask is not None:
            # A masked step keeps the previous state (and output), as Keras's RNN.
            mask = mask.data if isinstance(mask, Tensor) else mask
            xp = get_array_module(inputs.data)
            keep = asarray(mask, xp=xp).astype(bool).reshape(batch, steps, *(1,) * (h.ndim - 1))
        outputs = []
        for t in order:
            if h_masks is None:
                rec = cell.recurrent_conv(h, cell.recurrent_kernel)
            else:
                kernels = ops.split(cell.recurrent_kernel, 4, axis=-1)
                rec = ops.concatenate(
                    [cell.recurrent_conv(ops.multiply(h, m), k) for m, k in zip(h_masks, kernels)],
                    axis=cell._axis() % h.ndim,
                )
            z = ops.add(ops.getitem(xs, (slice(None), t)), rec)
            h_new, c_new = cell.gates(z, c)
            if keep is None:
                h, c = h_new, c_new
            else:
                h, c = ops.where(keep[:, t], h_new, h), ops.where(keep[:, t], c_new, c)
            if self.return_sequences:
                outputs.append(h)
        if self.stateful:
            self.states = [Tensor(h.data), Tensor(c.data)]
        output = ops.stack(outputs, axis=1) if self.return_sequences else h
        return [output, h, c] if self.return_state else output

    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = list(self._batch_input_shape)
        config.update({key: getattr(self, key) for key in _RNN_KEYS})
        config["unroll"] = self.unroll
        config["zero_output_for_mask"] = self.zero_output_for_mask
        cell_config = self.cell.get_config()
        for key in ("name", "trainable", "dtype"):
            cell_config.pop(key, None)
        config.update(cell_config)
        config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return config


class ConvLSTM1D(ConvLSTM):
    """1-D convolutional LSTM over ``(batch, time, steps, channels)`` (see
    :class:`ConvLSTM2D`)."""

    rank = 1


class ConvLSTM2D(ConvLSTM):
    """Convolutional LSTM over ``(batch, time, rows, cols, channels)``: an LSTM whose input
    and recurrent transformations are convolutions.

    Args:
        filters, kernel_size, strides, padding (``"valid"``/``"same"``), data_format,
        dilation_rate: of the input convolution (the recurrent one is ``"same"``, stride 1).
        activation (``tanh``), recurrent_activation (``sigmoid``), use_bias, initializers
        (``glorot_uniform``, ``orthogonal``, ``zeros``), unit_forget_bias, regularizers,
        constraints, dropout, recurrent_dropout, seed: as :class:`gpuk.layers.LSTM`.
        return_sequences, return_state, go_backwards, stateful: Keras's RNN arguments.

    Weights: ``kernel`` ``(*kernel_size, channels, 4 * filters)``, ``recurrent_kernel``
    ``(*kernel_size, filters, 4 * filters)``, ``bias`` ``(4 * filters,)``.
    """

    rank = 2


class ConvLSTM3D(ConvLSTM):
    """3-D convolutional LSTM over ``(batch, time, d1, d2, d3, channels)`` (see
    :class:`ConvLSTM2D`)."""

    rank = 3
