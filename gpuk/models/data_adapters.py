"""Data adapters: one per kind of data ``fit``/``evaluate``/``predict`` accept (Keras 3's
``trainers/data_adapters``). :class:`gpuk.models.epoch_iterator.EpochIterator` chooses one and
counts the steps; the adapters only turn data into packed batches.

A batch is packed as Keras 3 packs it (``gpuk.utils.pack_x_y_sample_weight``): ``x`` alone,
``(x, y)`` or ``(x, y, sample_weight)``, each keeping the structure the user gave (one array,
a list, a tuple or a dict), with every array leaf a ``gpuk.Tensor`` on the current device.

- :class:`ArrayDataAdapter`: arrays (and lists/dicts of them). They are checked, converted
  (floats to ``floatx``) and moved to the device once, when the adapter is made; a batch is a
  slice (or a gather through the epoch's permutation) of the device arrays, so a training step
  copies no data between host and device. Every decision about the structure (how to pack,
  which leaves stay on the host) is made once too.
- :class:`GeneratorDataAdapter`: Python generators and iterators (one pass, continued across
  epochs) and re-iterable data sets (``__iter__`` without ``__next__``, a new pass per epoch,
  as a ``tf.data.Dataset``). Each item is converted when it arrives.
- :class:`PyDatasetAdapter`: ``gpuk.utils.PyDataset``/``Sequence`` (indexable, ``len`` batches).

:func:`convert_batch` converts one item the same way for the last two and for ``*_on_batch``.
"""

import inspect
import math

import numpy as np

from gpuk._array import asarray, default_module, generator, is_array, to_numpy
from gpuk._config import floatx
from gpuk._tree import flatten, pack_like
from gpuk.autograd import Tensor
from gpuk.utils.data import PyDataset, iterate_batches
from gpuk.utils.packing import pack_x_y_sample_weight, unpack_x_y_sample_weight

#: Keras 3's warning when a data source ends before the steps asked for.
RAN_OUT_WARNING = (
    "Your input ran out of data; interrupting training. Make sure that your dataset or "
    "generator can generate at least `steps_per_epoch * epochs` batches. You may need to use "
    "the `.repeat()` function when building your dataset."
)


# ------------------------------------------------------------------ leaves and structures
def _is_number_list(data):
    return (
        isinstance(data, (list, tuple))
        and len(data) > 0
        and all(isinstance(v, (int, float, np.number)) for v in flatten(list(data)))
        and not any(isinstance(v, dict) for v in data)
        and isinstance(data[0], (int, float, np.number, list))
    )


def standardize(structure):
    """Plain nested lists of numbers become one array; other structures are kept."""
    if structure is None or is_array(structure):
        return structure
    if _is_number_list(structure):
        return np.asarray(structure)
    if isinstance(structure, dict):
        return {k: standardize(v) for k, v in structure.items()}
    if isinstance(structure, (list, tuple)):
        return type(structure)(standardize(v) for v in structure)
    return structure


def to_device(value, xp=None):
    """Float data in floatx on the current device; other numeric dtypes kept, strings on host.

    An array already of module ``xp`` with the right dtype is returned as it is (no copy)."""
    if value is None:
        return None
    if isinstance(value, Tensor):
        return value.data
    xp = xp or default_module()
    array = value if is_array(value) else np.asarray(value)
    kind = array.dtype.kind
    if kind in "US" or array.dtype == object and _holds_strings(array):
        return array  # strings stay on the host: preprocessing layers turn them into numbers
    if kind in "f" or array.dtype == object:
        dtype = floatx()
        if type(array) is xp.ndarray and array.dtype == dtype:
            return array
        return asarray(array, dtype=dtype, xp=xp)
    if type(array) is xp.ndarray:
        return array
    return asarray(array, xp=xp)


def _wraps(array):
    """Whether a batch leaf becomes a Tensor (numbers) or stays as it is (None, strings)."""
    return array is not None and is_array(array) and array.dtype.kind not in "USO"


def _wrap(array):
    return Tensor(array) if _wraps(array) else array


def leaves(structure):
    """The array leaves of a data structure (``None`` for no structure)."""
    return [] if structure is None else flatten(structure)


def _holds_strings(array):
    return array.size > 0 and isinstance(array.reshape(-1)[0], (str, bytes))


def num_samples(arrays, what="inputs"):
    sizes = {int(a.shape[0]) for a in arrays if a is not None and hasattr(a, "shape")}
    if len(sizes) > 1:
        raise ValueError(
            f"All {what} must have the same number of samples; got sizes {sorted(sizes)}"
        )
    return sizes.pop() if sizes else 0


def batch_size_of(x):
    """Samples in a batch: the first dimension of the first array in ``x``."""
    shape = getattr(x, "shape", None)
    if shape is not None and not isinstance(x, (list, tuple, dict)):
        return int(shape[0]) if len(shape) else 1
    for leaf in leaves(x):
        shape = getattr(leaf, "shape", None)
        if shape is not None and len(shape):
            return int(shape[0])
    return 1


def is_generator_like(data):
    """True for the data :class:`GeneratorDataAdapter`/:class:`PyDatasetAdapter` take."""
    if data is None or is_array(data) or isinstance(data, (list, tuple, dict, str, bytes)):
        return False
    return (
        inspect.isgenerator(data)
        or isinstance(data, PyDataset)
        or hasattr(data, "__next__")
        or (
            hasattr(data, "__getitem__")
            and hasattr(data, "__len__")
            and hasattr(data, "on_epoch_end")
        )
        or (
            # a re-iterable data set (tf.data.Dataset-like); array-likes are arrays
            hasattr(data, "__iter__")
            and not hasattr(data, "__array__")
            and not hasattr(data, "shape")
        )
    )


def _cut(structure, start, stop):
    if structure is None:
        return None
    return pack_like(structure, [None if a is None else a[start:stop] for a in flatten(structure)])


def split_validation(x, y, sample_weight, validation_split):
    """Keras's rule: the last ``validation_split`` fraction, taken before any shuffling."""
    if not 0.0 < validation_split < 1.0:
        raise ValueError(f"validation_split must be in (0, 1), got {validation_split}")
    n = num_samples(leaves(x) + leaves(y) + leaves(sample_weight), "inputs and targets")
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at in (0, n):
        raise ValueError(
            f"validation_split={validation_split} leaves no samples for training or validation "
            f"out of {n}"
        )
    return (
        (_cut(x, 0, split_at), _cut(y, 0, split_at), _cut(sample_weight, 0, split_at)),
        (_cut(x, split_at, n), _cut(y, split_at, n), _cut(sample_weight, split_at, n)),
    )


def class_weights_to_sample_weights(y, class_weight):
    """Per-sample weights from a ``{class: weight}`` dict and the targets (sparse or one-hot);
    classes the dict does not name weigh 1 (Keras's ``class_weight_to_sample_weights``)."""
    targets = leaves(y)
    if len(targets) != 1:
        raise ValueError(
            "class_weight is only supported for models with one output; the targets have "
            f"{len(targets)} arrays"
        )
    labels = np.asarray(to_numpy(targets[0].data if isinstance(targets[0], Tensor) else targets[0]))
    if labels.ndim > 1 and labels.shape[-1] > 1:
        labels = labels.argmax(axis=-1)
    labels = np.round(labels.reshape(labels.shape[0], -1)[:, 0]).astype(int)
    if labels.size == 0:
        return np.ones((0,), dtype=np.float64)
    table = np.ones(max(max(class_weight) + 1, labels.max() + 1), dtype=np.float64)
    for cls, weight in class_weight.items():
        table[int(cls)] = weight
    return table[labels]


def _packer(structures):
    """A function from a batch's flat leaves to the packed batch, decided once per adapter."""
    present = tuple(s is not None for s in structures)
    plain = all(s is None or not isinstance(s, (list, tuple, dict)) for s in structures)
    if plain and present == (True, False, False):
        return lambda flat: flat[0]
    if plain and present == (True, True, False):
        return lambda flat: (flat[0], flat[1])
    if plain and present == (True, True, True):
        return tuple
    counts = [len(leaves(s)) for s in structures]

    def pack(flat):
        parts, start = [], 0
        for structure, count in zip(structures, counts):
            part = None if structure is None else pack_like(structure, flat[start : start + count])
            parts.append(part)
            start += count
        return pack_x_y_sample_weight(*parts)

    return pack


# ------------------------------------------------------------------------------ adapters
class DataAdapter:
    """One kind of data as passes of packed batches.

    Attributes:
        num_batches: batches in one pass, or None when only the data's end tells.
        one_shot: True when a pass cannot be started again (a generator): once it ends,
            later epochs get nothing.
    """

    num_batches = None
    one_shot = False

    def get_iterator(self):
        """An iterator over the packed batches of one pass."""
        raise NotImplementedError

    def on_epoch_end(self):
        """Called by the epoch iterator after every epoch."""


def check_class_weight(y, sample_weight, class_weight):
    """Keras's checks of ``class_weight`` against the targets and ``sample_weight``."""
    if class_weight is None:
        return
    if y is None:
        raise ValueError("class_weight needs targets (y)")
    if sample_weight is not None:
        raise ValueError(
            "Arguments `sample_weight` and `class_weight` cannot be specified at the same time."
        )


class ArrayDataAdapter(DataAdapter):
    """Batches of arrays moved to the device once; a fresh order each pass when shuffling.

    Args:
        x, y, sample_weight: arrays, or lists/tuples/dicts of arrays (``y`` and
            ``sample_weight`` may be None).
        batch_size: samples per batch; None: ``ceil(samples / steps)`` when ``steps`` is
            given, else 32 (Keras's rule).
        steps: the epoch's steps, only used to choose the batch size.
        shuffle: False, True (a permutation of all samples per pass) or ``"batch"`` (each
            batch's samples permuted among themselves, Keras's rule).
        class_weight: ``{class: weight}``, turned into ``sample_weight`` here.
    """

    def __init__(
        self,
        x,
        y=None,
        sample_weight=None,
        batch_size=None,
        steps=None,
        shuffle=False,
        class_weight=None,
    ):
        x, y, sample_weight = standardize(x), standardize(y), standardize(sample_weight)
        check_class_weight(y, sample_weight, class_weight)
        if class_weight is not None:
            sample_weight = class_weights_to_sample_weights(y, class_weight)
        self.structures = (x, y, sample_weight)
        flat = leaves(x) + leaves(y) + leaves(sample_weight)
        for name, value in (("x", x), ("y", y), ("sample_weight", sample_weight)):
            if any(leaf is not None and not hasattr(leaf, "shape") for leaf in leaves(value)):
                raise ValueError(
                    f"Unrecognized data type: {name}={value!r} (of type {type(value)})"
                )
        self.size = num_samples(flat, "inputs and targets")
        if self.size == 0 and leaves(x):
            # An empty epoch would never advance ``step``: refuse instead of looping forever.
            raise ValueError("Expected input data to be non-empty; received 0 samples")
        self.xp = default_module()
        self.arrays = [to_device(a, self.xp) for a in flat]
        self.wrap = [_wraps(a) for a in self.arrays]
        # Host leaves (strings on a GPU run) are indexed with a host copy of the order.
        self.has_host_leaves = self.xp is not np and any(
            isinstance(a, np.ndarray) for a in self.arrays
        )
        self.batch_size = int(batch_size or (math.ceil(self.size / steps) if steps else 32))
        self.num_batches = max(1, math.ceil(self.size / self.batch_size))
        self.shuffle = shuffle
        self.pack = _packer(self.structures)

    def _order(self):
        """The pass's sample order on the host and on the device (None: in order)."""
        if not self.shuffle:
            return None, None
        rng = generator(np)
        if self.shuffle == "batch":
            bounds = range(0, self.size, self.batch_size)
            host = np.concatenate(
                [rng.permutation(min(self.batch_size, self.size - s)) + s for s in bounds]
            )
        else:
            host = rng.permutation(self.size)
        return host, (host if self.xp is np else self.xp.asarray(host))

    def get_iterator(self):
        host_order, order = self._order()
        arrays, wrap, size, step = self.arrays, self.wrap, self.size, self.batch_size
        for start in range(0, size, step):
            if order is None:
                index = host_index = slice(start, start + step)
            else:
                index = order[start : start + step]
                host_index = host_order[start : start + step] if self.has_host_leaves else index
            batch = [
                None
                if array is None
                else Tensor(array[index])
                if wrapped
                else array[host_index if isinstance(array, np.ndarray) else index]
                for array, wrapped in zip(arrays, wrap)
            ]
            yield self.pack(batch)


def _convert(structure, xp):
    if structure is None:
        return None
    if is_array(structure):
        return _wrap(to_device(structure, xp))
    structure = standardize(structure)
    return pack_like(structure, [_wrap(to_device(a, xp)) for a in flatten(structure)])


def convert_batch(item, class_weight=None):
    """One batch (``x``, ``(x, y)`` or ``(x, y, sample_weight)``) as a packed batch of device
    Tensors: floats in ``floatx``, arrays already on the device with that dtype not copied."""
    if (
        class_weight is None
        and type(item) is tuple
        and len(item) == 2
        and is_array(item[0])
        and is_array(item[1])
    ):
        xp = default_module()  # (x, y) arrays: the common case, without the structure walks
        return (_wrap(to_device(item[0], xp)), _wrap(to_device(item[1], xp)))
    x, y, sample_weight = unpack_x_y_sample_weight(item)
    if class_weight is not None and y is not None:
        check_class_weight(y, sample_weight, class_weight)
        sample_weight = class_weights_to_sample_weights(y, class_weight)
    xp = default_module()
    return pack_x_y_sample_weight(_convert(x, xp), _convert(y, xp), _convert(sample_weight, xp))


class GeneratorDataAdapter(DataAdapter):
    """Batches from a Python generator/iterator (``one_shot``: the same pass continues
    across epochs) or from a re-iterable data set (a new pass each epoch)."""

    def __init__(self, data):
        self.data = data
        self.one_shot = inspect.isgenerator(data) or hasattr(data, "__next__")
        if not self.one_shot and hasattr(data, "__len__"):
            self.num_batches = len(data)

    def get_iterator(self):
        items = self.data if self.one_shot else iter(self.data)
        for item in items:
            yield convert_batch(item)

    def on_epoch_end(self):
        if hasattr(self.data, "on_epoch_end"):
            self.data.on_epoch_end()


class PyDatasetAdapter(DataAdapter):
    """Batches ``data[0] ... data[len(data) - 1]`` of a ``PyDataset``/``Sequence`` (loaded
    ahead by its workers, see ``gpuk.utils.data.iterate_batches``); ``class_weight`` is
    applied to each batch's targets, as Keras 3 does.

    With ``shuffle``, a user's data set is read in a new random batch order each pass, as
    Keras 3 does. gpuk's own data sets (``image_dataset_from_directory``, ... ) stand for
    Keras's ``tf.data.Dataset``s, which ``fit`` does not shuffle: they keep their order.
    """

    def __init__(self, data, class_weight=None, shuffle=False):
        self.data = data
        self.class_weight = class_weight
        self.num_batches = len(data)
        self.shuffle = bool(shuffle) and not type(data).__module__.startswith("gpuk.")

    def get_iterator(self):
        order = generator(np).permutation(self.num_batches) if self.shuffle else None
        for item in iterate_batches(self.data, order=order):
            yield convert_batch(item, self.class_weight)

    def on_epoch_end(self):
        if hasattr(self.data, "on_epoch_end"):
            self.data.on_epoch_end()
