"""The one way data enters ``fit``, ``evaluate``, ``predict`` and the ``*_on_batch`` methods
(Keras 3's ``trainers/epoch_iterator.py``).

:class:`EpochIterator` checks the arguments, chooses the data adapter
(:mod:`gpuk.models.data_adapters`) and counts the steps of each epoch; :func:`single_batch`
adapts the one batch of ``train_on_batch``/``test_on_batch``/``predict_on_batch`` with the same
conversion. Everything that does not change between batches (the adapter, the structure of the
batches, the conversion of array data to device arrays) is decided when the iterator is made,
once per ``fit``/``evaluate``/``predict`` call.

Steps follow Keras 3:

- an epoch has ``steps_per_epoch`` steps when given, else one pass over the data;
- with ``steps_per_epoch``, the next epoch continues where the last one stopped, and a pass
  that ends before the epoch's steps ends the epoch with Keras's "Your input ran out of data"
  warning (arrays and data sets start a new pass in the next epoch);
- a generator (``one_shot``) that runs out sets :attr:`EpochIterator.exhausted`: ``fit``
  stops after that epoch (Keras would run the remaining epochs without batches);
- ``keras.config.set_max_steps_per_epoch`` caps the steps, with Keras's warning.
"""

import warnings

from gpuk import _config
from gpuk.models import data_adapters
from gpuk.utils.data import PyDataset


def _unsupported(argument, description, kind):
    return ValueError(
        f"When providing `x` as a {kind}, `{argument}` should not be passed. Instead, "
        f"{description} should be included as part of the {kind}."
    )


def get_data_adapter(
    x, y=None, sample_weight=None, batch_size=None, steps=None, shuffle=False, class_weight=None
):
    """The adapter for ``x``: arrays, a ``PyDataset``/``Sequence``, or a generator/iterable.

    Raises Keras's errors for arguments the kind of data does not take (``y``,
    ``sample_weight`` and ``class_weight`` with a generator; ``y`` and ``sample_weight`` with a
    ``PyDataset``), and warns, as Keras does, that ``shuffle`` does not apply to generators.
    """
    if isinstance(x, data_adapters.DataAdapter):
        return x
    if not data_adapters.is_generator_like(x):
        if x is None:
            raise ValueError("No input data given (x is None)")
        return data_adapters.ArrayDataAdapter(
            x, y, sample_weight, batch_size, steps, shuffle, class_weight
        )
    indexable = isinstance(x, PyDataset) or (
        hasattr(x, "__getitem__") and hasattr(x, "__len__") and hasattr(x, "on_epoch_end")
    )
    kind = "PyDataset" if indexable else "generator"
    if y is not None:
        raise _unsupported("y", "the targets", kind)
    if sample_weight is not None:
        raise _unsupported("sample_weights", "the sample weights", kind)
    if indexable:
        return data_adapters.PyDatasetAdapter(x, class_weight, shuffle)
    if class_weight is not None:
        raise ValueError(
            "Argument `class_weight` is not supported for Python generator inputs. "
            f"Received: class_weight={class_weight}"
        )
    adapter = data_adapters.GeneratorDataAdapter(x)
    if shuffle and adapter.one_shot:
        warnings.warn(
            "`shuffle=True` was passed, but will be ignored since the data `x` was provided "
            "as a generator. The generator is expected to yield already-shuffled data.",
            stacklevel=3,
        )
    return adapter


class EpochIterator:
    """Packed batches, epoch by epoch, from any data ``fit``/``evaluate``/``predict`` accept.

    Args:
        x, y, sample_weight, batch_size, shuffle, class_weight: as given to ``fit``.
        steps_per_epoch: steps of an epoch (None: one pass over the data).

    ``for batch in iterator.epoch()`` yields one epoch's batches; :attr:`num_batches` is the
    number of steps an epoch has (None while unknown, for a generator).
    """

    def __init__(
        self,
        x,
        y=None,
        sample_weight=None,
        batch_size=None,
        steps_per_epoch=None,
        shuffle=False,
        class_weight=None,
    ):
        cap = _config.max_steps_per_epoch()
        if cap and (not steps_per_epoch or cap < steps_per_epoch):
            warnings.warn(f"Limiting steps_per_epoch to {cap}", stacklevel=3)
            steps_per_epoch = cap
        self.steps_per_epoch = steps_per_epoch
        self.data_adapter = get_data_adapter(
            x, y, sample_weight, batch_size, steps_per_epoch, shuffle, class_weight
        )
        self.exhausted = False
        self._iterator = None
        self._seen = 0  # batches taken from the current pass

    @property
    def num_batches(self):
        """Steps per epoch: ``steps_per_epoch``, else the adapter's batches per pass."""
        return self.steps_per_epoch or self.data_adapter.num_batches

    def reset(self):
        """Start the next epoch at the beginning of a new pass (``evaluate`` does)."""
        self._iterator = None
        self._seen = 0

    def epoch(self):
        """Yield the packed batches of one epoch."""
        adapter = self.data_adapter
        per_pass = adapter.num_batches
        steps = self.num_batches
        if self._iterator is None or self.steps_per_epoch is None:
            self._iterator = adapter.get_iterator()
            self._seen = 0
        iterator = self._iterator
        taken = 0
        try:
            while steps is None or taken < steps:
                if per_pass is not None and self._seen >= per_pass:
                    if self.steps_per_epoch:
                        warnings.warn(data_adapters.RAN_OUT_WARNING, stacklevel=2)
                    break
                try:
                    batch = next(iterator)
                except StopIteration:
                    self._ran_out()
                    break
                self._seen += 1
                taken += 1
                yield batch
            if per_pass is not None and self._seen >= per_pass:
                self._iterator = None  # the pass is over: the next epoch starts a new one
        finally:
            adapter.on_epoch_end()

    def _ran_out(self):
        """The data ended before the pass's known length or the epoch's steps."""
        self._iterator = None
        self.exhausted = self.data_adapter.one_shot
        if self.steps_per_epoch:
            warnings.warn(data_adapters.RAN_OUT_WARNING, stacklevel=3)


def single_batch(x, y=None, sample_weight=None, class_weight=None):
    """The packed batch of one ``*_on_batch`` call: the conversion of a generator's item,
    after the checks array data gets (same sample counts, ``class_weight``)."""
    is_array = data_adapters.is_array
    if sample_weight is None and class_weight is None and is_array(x):
        # The common cases (one input array, one target array) skip the structure walks.
        if y is None:
            return data_adapters.convert_batch(x)
        if is_array(y) and (not x.ndim or not y.ndim or x.shape[0] == y.shape[0]):
            return data_adapters.convert_batch((x, y))
    x = data_adapters.standardize(x)
    y = data_adapters.standardize(y)
    sample_weight = data_adapters.standardize(sample_weight)
    data_adapters.check_class_weight(y, sample_weight, class_weight)
    if class_weight is not None:
        sample_weight = data_adapters.class_weights_to_sample_weights(y, class_weight)
    flat = data_adapters.leaves(x) + data_adapters.leaves(y) + data_adapters.leaves(sample_weight)
    if data_adapters.num_samples(flat, "inputs and targets") == 0 and data_adapters.leaves(x):
        raise ValueError("Expected input data to be non-empty; received 0 samples")
    return data_adapters.convert_batch(data_adapters.pack_x_y_sample_weight(x, y, sample_weight))
