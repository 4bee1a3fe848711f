"""The Function contract: an op with a forward on arrays and a hand-written backward.

Mixed precision: inside :func:`autocast_scope` (entered by ``Layer.__call__`` for a layer whose
compute dtype differs from its variable dtype) every floating Variable an op receives is read
as the scope's dtype through a differentiable cast, as Keras's ``AutocastScope`` does; the
variable itself keeps its dtype.
"""

import contextlib
import threading

import numpy as np

from gpuk._array import asarray, get_array_module, is_array
from gpuk.autograd import recording
from gpuk.autograd.tensor import Tensor, as_array
from gpuk.autograd.variable import Variable

_AUTOCAST = threading.local()


def autocast_dtype():
    """The dtype floating Variables are read as in the current scope (None: as they are)."""
    return getattr(_AUTOCAST, "dtype", None)


@contextlib.contextmanager
def autocast_scope(dtype):
    """Read floating Variables as ``dtype`` inside the block (None: switch autocasting off)."""
    previous = autocast_dtype()
    _AUTOCAST.dtype = None if dtype is None else np.dtype(dtype)
    try:
        yield
    finally:
        _AUTOCAST.dtype = previous


_NUMBERS = (bool, int, float)
_NDARRAY = np.ndarray


class Node:
    """One recorded application of a Function: what backward needs to walk the graph."""

    __slots__ = ("function", "inputs", "output_meta")

    def __init__(self, function, inputs, outputs):
        self.function = function
        self.inputs = inputs
        self.output_meta = [(o.data.shape, o.data.dtype) for o in outputs]


class Function:
    """Base class of differentiable operations.

    Subclasses implement ``forward(*arrays) -> tuple of arrays`` and
    ``backward(*output_grads) -> tuple`` with one entry per input (``None`` where no
    gradient flows). Keyword arguments given to :meth:`apply` arrive in ``__init__`` and are
    kept as attributes; keep on ``self`` only what backward needs, and never mutate inputs.
    ``self.needs_input_grad`` tells backward which input gradients are wanted.
    """

    def __init__(self, **params):
        self.__dict__.update(params)
        self.needs_input_grad = ()

    def forward(self, *arrays):
        raise NotImplementedError

    def backward(self, *grads):
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs, **params):
        """Run the op on Tensors (or arrays and numbers) and record it when a tape is active.

        Returns one Tensor, or a tuple of Tensors when ``forward`` returns several arrays.
        """
        # Hot path (every op): plain loops, no generator or any(); nothing recorded outside
        # a tape, so predict and training=False calls only run forward.
        like = None
        convert = False
        for i in inputs:
            if isinstance(i, Tensor):
                if like is None:
                    like = i.data
            else:
                convert = True
        if convert:
            # Python numbers follow the first array even when no input is a Tensor (a raw
            # device array), so that on the GPU they stay kernel arguments, not uploads.
            number_like = like if like is not None else next(filter(is_array, inputs), None)
            tensors = [
                i
                if isinstance(i, Tensor)
                else Tensor(as_array(i, number_like if isinstance(i, _NUMBERS) else like))
                for i in inputs
            ]
        else:
            tensors = inputs
        cast_to = getattr(_AUTOCAST, "dtype", None)
        if cast_to is not None and cls is not _AutocastRead:
            tensors = [_autocast(t, cast_to) for t in tensors]
        function = cls(**params)
        record = False
        state = recording._local
        if state.tapes and not state.paused:
            needs = [t.requires_grad for t in tensors]
            if True in needs:
                record = True
                function.needs_input_grad = tuple(needs)
        arrays = [t.data for t in tensors]
        for a in arrays:
            if type(a) is not _NDARRAY:
                arrays = _same_device(arrays)
                break
        outputs = function.forward(*arrays)
        if not isinstance(outputs, tuple):
            result = Tensor(outputs)
            if record:
                node = Node(function, tensors, (result,))
                result.requires_grad = True
                result.node = node
            return result
        results = [Tensor(o) for o in outputs]
        if record:
            node = Node(function, tensors, results)
            for index, result in enumerate(results):
                result.requires_grad = True
                result.node = node
                result.index = index
        return tuple(results)


def _same_device(arrays):
    """Move host inputs to the GPU when they meet GPU ones (CuPy refuses mixed operands).

    Host tensors are legitimate: ``K.shape``, the optimizer's counter and learning rate, and
    anything a user builds from NumPy. On the CPU this is one cheap module check per input.
    """
    for a in arrays:
        if type(a) is not np.ndarray:
            break
    else:
        return arrays
    xp = get_array_module(*arrays)
    if xp is np:
        return arrays
    # NumPy scalars (Python numbers met by device arrays) stay kernel arguments
    return [
        a if isinstance(a, np.generic) or get_array_module(a) is xp else asarray(a, xp=xp)
        for a in arrays
    ]


class _AutocastRead(Function):
    """A Variable read in the autocast dtype; the gradient goes back in the variable's."""

    def forward(self, x):
        return x.astype(self.dtype)

    def backward(self, g):
        return (g.astype(self.source),)


def _autocast(tensor, dtype):
    if isinstance(tensor, Variable) and tensor.dtype.kind == "f" and tensor.dtype != dtype:
        return _AutocastRead.apply(tensor, dtype=dtype, source=tensor.dtype)
    return tensor
