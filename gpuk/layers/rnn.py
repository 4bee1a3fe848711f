"""Keras 3's generic ``RNN(cell)`` layer and ``StackedRNNCells``.

A cell is any object with ``state_size`` (an int or a list of ints, or for stacks a list of
those) and ``call(inputs, states)`` returning ``(output, new_states)``; ``output_size`` and
``get_initial_state(batch_size)`` are optional, as in Keras. gpuk's own cells
(``SimpleRNNCell``, ``GRUCell``, ``LSTMCell``) alone in an ``RNN`` run the same whole-sequence
op as ``SimpleRNN``/``GRU``/``LSTM`` (fused kernel on the GPU, dropout and masks included);
every other cell runs in a composed loop over the time steps, differentiated by the tape.
Masked steps keep the previous states and repeat the previous output (zeros with
``zero_output_for_mask``), as Keras's ``backend.rnn`` does.
"""

import numpy as np

from gpuk import ops
from gpuk._array import asarray, get_array_module
from gpuk.autograd import Tensor, as_array
from gpuk.layers.base import Layer, _policy_of
from gpuk.layers.recurrent import _RNN, _Cell
from gpuk.layers.serialization import register_layer_class


def _zeros(batch_size, size):
    """A ``(batch_size, size)`` zero state of ``floatx()`` on the current device."""
    from gpuk import _config

    return Tensor(asarray(np.zeros((int(batch_size), int(size)), dtype=_config.floatx())))


def _nested(value):
    return isinstance(value, (list, tuple))


def _map(fn, *structures):
    first = structures[0]
    if _nested(first):
        return [_map(fn, *items) for items in zip(*structures)]
    return fn(*structures)


def _flatten(value):
    if _nested(value):
        return [leaf for item in value for leaf in _flatten(item)]
    return [value]


def _call_cell(cell, inputs, states, training):
    if isinstance(cell, Layer):
        kwargs = {"training": training} if cell._call_has_training else {}
        return cell(inputs, states, **kwargs)
    return cell.call(inputs, states)


def _output_size(cell):
    size = getattr(cell, "output_size", None)
    if size is not None:
        return size
    state = cell.state_size
    return state[0] if _nested(state) else state


class StackedRNNCells(Layer):
    """Cells run one after the other at each time step (the output of one is the next's
    input); ``state_size`` is the list of the cells' state sizes.

    Args:
        cells: a list of RNN cells.
        **kwargs: base layer arguments.
    """

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        for cell in cells:
            if "call" not in dir(cell) or "state_size" not in dir(cell):
                raise ValueError(
                    "All cells must have a `call` method and a `state_size` attribute. "
                    f"Received cells={cells}"
                )
        self.cells = list(cells)

    @property
    def state_size(self):
        return [cell.state_size for cell in self.cells]

    @property
    def output_size(self):
        return _output_size(self.cells[-1])

    def get_initial_state(self, batch_size=None):
        """Each cell's ``get_initial_state``, or zeros of its state sizes."""
        states = []
        for cell in self.cells:
            fn = getattr(cell, "get_initial_state", None)
            if fn is not None:
                states.append(fn(batch_size=batch_size))
            elif _nested(cell.state_size):
                states.append([_zeros(batch_size, d) for d in cell.state_size])
            else:
                states.append(_zeros(batch_size, cell.state_size))
        return states

    def build(self, input_shape):
        batch = input_shape[0]
        for cell in self.cells:
            if isinstance(cell, Layer) and not cell.built:
                cell._maybe_build(tuple(input_shape))
            input_shape = (batch, _output_size(cell))
        self.built = True

    def call(self, inputs, states, training=None):
        new_states = []
        for cell, cell_states in zip(self.cells, states):
            was_list = _nested(cell_states)
            cell_states = list(cell_states) if was_list else [cell_states]
            inputs, cell_states = _call_cell(cell, inputs, cell_states, training)
            if not _nested(cell_states):
                cell_states = [cell_states]
            if len(cell_states) == 1 and not was_list:
                cell_states = cell_states[0]
            new_states.append(cell_states)
        if len(new_states) == 1:
            new_states = new_states[0]
        return inputs, new_states

    def get_config(self):
        from gpuk.layers.serialization import serialize

        config = super().get_config()
        config["cells"] = [serialize(cell) for cell in self.cells]
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from gpuk.layers.serialization import deserialize

        config = dict(config)
        cells = [deserialize(c, custom_objects=custom_objects) for c in config.pop("cells")]
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = _policy_of(config["dtype"])
        return cls(cells, **config)


class RNN(_RNN):
    """Keras 3's base recurrent layer: runs ``cell`` over the time axis.

    Args:
        cell: an RNN cell (or a list of cells, stacked with :class:`StackedRNNCells`).
        return_sequences: return every step's output (else the last).
        return_state: also return the final states (nested as the cell's ``state_size``).
        go_backwards: process the sequence backwards (and return it reversed).
        stateful: carry the final states of a batch into the next call.
        unroll: accepted (gpuk always runs an eager loop).
        zero_output_for_mask: masked steps output zeros instead of the previous output.
        **kwargs: base layer arguments.

    Call arguments: ``sequences`` ``(batch, time, features)``, ``initial_state``, ``mask``,
    ``training``.
    """

    def __init__(
        self,
        cell,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        zero_output_for_mask=False,
        **kwargs,
    ):
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        if "call" not in dir(cell):
            raise ValueError(f"Argument `cell` should have a `call` method. Received: cell={cell}")
        if "state_size" not in dir(cell):
            raise ValueError(
                "The RNN cell should have a `state_size` attribute (single integer or list of "
                f"integers, one integer per RNN state). Received: cell={cell}"
            )
        state_size = cell.state_size
        if not isinstance(state_size, (list, tuple, int, np.integer)):
            raise ValueError(
                "state_size must be an integer, or a list/tuple of integers (one for each "
                f"state tensor). Received: state_size={state_size!r}"
            )
        fused = kwargs.pop("fused", "auto")
        activity_regularizer = kwargs.pop("activity_regularizer", None)
        Layer.__init__(self, activity_regularizer=activity_regularizer, **kwargs)
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.fused = fused
        self.states = None
        self.input_spec = None

    @property
    def state_size(self):
        size = self.cell.state_size
        return list(size) if _nested(size) else [int(size)]

    def _n_states(self):
        return len(self.state_size)

    def _builtin(self):
        return isinstance(self.cell, _Cell)

    def build(self, input_shape):
        if isinstance(input_shape, list) and input_shape and _nested(input_shape[0]):
            input_shape = input_shape[0]
        input_shape = tuple(input_shape)
        self._check_shape(input_shape)
        if isinstance(self.cell, Layer) and not self.cell.built:
            self.cell._maybe_build((input_shape[0], input_shape[-1]))
        cells = self.cell.cells if isinstance(self.cell, StackedRNNCells) else [self.cell]
        prefix = f"{self.name}/{self.cell.name}" if isinstance(self.cell, Layer) else self.name
        for cell in cells:
            if not isinstance(cell, Layer):
                continue
            cell_prefix = prefix if cell is self.cell else f"{prefix}/{cell.name}"
            for variable in cell.weights:
                variable.path = f"{cell_prefix}/{variable.name}"
        self.built = True

    def compute_output_shape(self, input_shape):
        if isinstance(input_shape, list) and input_shape and _nested(input_shape[0]):
            input_shape = input_shape[0]
        batch, length = input_shape[0], input_shape[1]
        size = _output_size(self.cell)
        output = (batch, length, size) if self.return_sequences else (batch, size)
        if not self.return_state:
            return output
        states = [
            [(batch, s) for s in size] if _nested(size) else (batch, size)
            for size in self.state_size
        ]
        return [output, *states]

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * len(_flatten(self.state_size))
        return output_mask

    def get_initial_state(self, batch_size):
        """The cell's ``get_initial_state(batch_size)``, or zeros of ``state_size``."""
        fn = getattr(self.cell, "get_initial_state", None)
        if fn is not None:
            state = fn(batch_size=batch_size)
            return list(state) if _nested(state) else [state]
        return [_zeros(batch_size, d) for d in self.state_size]

    def reset_states(self, states=None):
        """Zero (or set) the states a ``stateful`` layer carries."""
        if states is None:
            self.states = None
        else:
            states = states if _nested(states) else [states]
            self.states = _map(lambda s: Tensor(as_array(s)), list(states))

    reset_state = reset_states

    def call(self, sequences, initial_state=None, mask=None, training=None):
        if self._builtin():
            return super().call(
                sequences, mask=mask, training=training, initial_state=initial_state
            )
        if isinstance(sequences, (list, tuple)):
            sequences, *given = sequences
            initial_state = initial_state if initial_state is not None else (given or None)
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        batch = sequences.shape[0]
        if initial_state is not None:
            states = list(initial_state) if _nested(initial_state) else [initial_state]
            states = _map(lambda s: s if isinstance(s, Tensor) else Tensor(as_array(s)), states)
        elif self.stateful and self.states is not None:
            states = self.states
        else:
            states = self.get_initial_state(batch)
        states = _map(lambda s: ops.cast(s, self.cell_compute_dtype()), states)
        if self.single_state_cell():
            states = [states[0]]
        mask = None if mask is None else (mask.data if isinstance(mask, Tensor) else mask)
        last, outputs, states = self._loop(sequences, states, mask, training)
        if self.stateful:
            self.states = _map(lambda s: Tensor(s.data), states)
        output = ops.stack(outputs, axis=1) if self.return_sequences else last
        if self.return_state:
            return [output, *states]
        return output

    def cell_compute_dtype(self):
        return getattr(self.cell, "compute_dtype", self.compute_dtype)

    def single_state_cell(self):
        return not _nested(self.cell.state_size)

    def _loop(self, sequences, states, mask, training):
        steps = sequences.shape[1]
        order = range(steps - 1, -1, -1) if self.go_backwards else range(steps)
        xp = get_array_module(sequences.data)
        keep_all = None if mask is None else asarray(mask, xp=xp).astype(bool)
        outputs, previous = [], None
        for t in order:
            x_t = ops.getitem(sequences, (slice(None), t))
            output, new_states = _call_cell(self.cell, x_t, states, training)
            if not _nested(new_states):
                new_states = [new_states]
            new_states = list(new_states)
            if keep_all is not None:
                keep = Tensor(keep_all[:, t : t + 1])
                if previous is None:
                    previous = ops.zeros_like(output)
                carried = ops.where(keep, output, previous)
                new_states = _map(
                    lambda n, o, keep=keep: ops.where(keep, n, o) if isinstance(n, Tensor) else n,
                    new_states,
                    list(states),
                )
                emitted = ops.where(keep, output, 0.0) if self.zero_output_for_mask else carried
                previous = carried
                output = carried
            else:
                emitted = output
            outputs.append(emitted)
            states = new_states
        return output, outputs, states

    def get_config(self):
        from gpuk.layers.serialization import serialize

        config = Layer.get_config(self)
        config.update(
            {
                "return_sequences": self.return_sequences,
                "return_state": self.return_state,
                "go_backwards": self.go_backwards,
                "stateful": self.stateful,
                "unroll": self.unroll,
                "zero_output_for_mask": self.zero_output_for_mask,
                "cell": serialize(self.cell),
            }
        )
        if self.activity_regularizer is None:
            config.pop("activity_regularizer", None)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from gpuk.layers.serialization import deserialize

        config = dict(config)
        cell = config.pop("cell")
        if isinstance(cell, dict):
            cell = deserialize(cell, custom_objects=custom_objects)
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = _policy_of(config["dtype"])
        return cls(cell, **config)


register_layer_class(RNN)
register_layer_class(StackedRNNCells)
