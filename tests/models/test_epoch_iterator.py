"""The one data path: EpochIterator, the data adapters and single_batch, against Keras 3.

Keras's own behaviour (which batches the steps see, steps_per_epoch shorter or longer than
the data, the "ran out of data" warning, class_weight, the errors for generators) comes from
tests/fixtures/keras/data_path/batches.json (tools/make_keras_fixtures_data_path.py).
"""

import json
import pathlib
import re
import warnings

import numpy as np
import pytest

import gpuk as keras
from gpuk.autograd import Tensor
from gpuk.callbacks import base as callbacks_base
from gpuk.models import data_adapters
from gpuk.models import epoch_iterator as epoch_iterator_module
from gpuk.models.epoch_iterator import EpochIterator, single_batch

# The batches are compared as host arrays, and "no copy" means the caller's own array: on the
# CPU. The device side of the data path has its own tests (tests/models/test_gpu_budgets.py).
pytestmark = pytest.mark.usefixtures("on_cpu")

FIXTURE = pathlib.Path(__file__).resolve().parents[1] / "fixtures/keras/data_path/batches.json"
KERAS = json.loads(FIXTURE.read_text())


class Recorder(keras.Model):
    """The fixture's model: Dense(1) recording the first feature of each batch it sees."""

    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(1, kernel_initializer="ones")
        self.seen = []

    def call(self, x, training=False):
        values = [int(round(float(v))) for v in keras.ops.convert_to_numpy(x)[:, 0]]
        if len(values) > 1:
            self.seen.append(values if training else ["t"] + values)
        return self.dense(x)


X = np.arange(10, dtype="float32").reshape(10, 1)
Y = (X % 3).astype("float32")


def generator(batches):
    for i in range(batches):
        yield X[2 * i : 2 * i + 2], Y[2 * i : 2 * i + 2]


class Batches(keras.utils.PyDataset):
    def __init__(self):
        super().__init__()
        self.epochs_ended = 0

    def __len__(self):
        return 3

    def __getitem__(self, i):
        return X[3 * i : 3 * i + 3], Y[3 * i : 3 * i + 3]

    def on_epoch_end(self):
        self.epochs_ended += 1


SCENARIOS = {
    "arrays": lambda m: m.fit(X, Y, batch_size=4, epochs=2, shuffle=False, verbose=0),
    "arrays_steps_short": lambda m: m.fit(
        X, Y, batch_size=4, steps_per_epoch=2, epochs=3, shuffle=False, verbose=0
    ),
    "arrays_steps_long": lambda m: m.fit(
        X, Y, batch_size=4, steps_per_epoch=5, epochs=2, shuffle=False, verbose=0
    ),
    "arrays_steps_no_batch_size": lambda m: m.fit(
        X, Y, steps_per_epoch=5, epochs=1, shuffle=False, verbose=0
    ),
    "generator_steps": lambda m: m.fit(
        generator(5), steps_per_epoch=2, epochs=3, shuffle=False, verbose=0
    ),
    "pydataset_steps_short": lambda m: m.fit(
        Batches(), steps_per_epoch=2, epochs=3, shuffle=False, verbose=0
    ),
    "pydataset_steps_long": lambda m: m.fit(
        Batches(), steps_per_epoch=5, epochs=1, shuffle=False, verbose=0
    ),
    "validation_split": lambda m: m.fit(
        X, Y, batch_size=3, validation_split=0.3, epochs=1, shuffle=False, verbose=0
    ),
    "evaluate_steps": lambda m: m.evaluate(X, Y, batch_size=4, steps=2, verbose=0),
    "evaluate_steps_long": lambda m: m.evaluate(X, Y, batch_size=4, steps=5, verbose=0),
    "class_weight_arrays": lambda m: m.fit(
        X, Y, batch_size=4, class_weight={0: 2.0, 2: 0.25}, shuffle=False, verbose=0
    ),
    "class_weight_pydataset": lambda m: m.fit(
        Batches(), class_weight={0: 2.0, 2: 0.25}, shuffle=False, verbose=0
    ),
    "class_weight_on_batch": lambda m: m.train_on_batch(X, Y, class_weight={0: 2.0, 2: 0.25}),
}


def _recorder():
    keras.utils.set_random_seed(0)
    model = Recorder()
    model.compile(keras.optimizers.SGD(0.0), "mse")
    return model


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_batches_steps_warnings_and_losses_match_keras(name):
    want = KERAS["scenarios"][name]
    model = _recorder()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = SCENARIOS[name](model)
    assert model.seen == want["seen"]
    ran_out = sum("ran out of data" in str(w.message) for w in caught)
    assert ran_out == want["ran_out_warnings"]
    if "history" in want:
        assert sorted(result.history) == sorted(want["history"])
        for key, values in want["history"].items():
            np.testing.assert_allclose(result.history[key], values, rtol=1e-5, err_msg=key)
    else:
        assert float(np.asarray(result).reshape(-1)[0]) == pytest.approx(want["result"], 1e-5)


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("generator_y", dict(y=Y)),
        ("generator_sample_weight", dict(sample_weight=Y[:, 0])),
        ("generator_class_weight", dict(class_weight={0: 1.0})),
    ],
)
def test_arguments_a_generator_does_not_take_raise_keras_errors(name, kwargs):
    model = _recorder()
    with pytest.raises(ValueError, match=re.escape(KERAS["errors"][name])):
        model.fit(generator(2), epochs=1, verbose=0, **kwargs)


def test_validation_split_with_a_generator_is_keras_error():
    model = _recorder()
    with pytest.raises(ValueError, match="`validation_split` is only supported for tensors"):
        model.fit(generator(2), validation_split=0.2, verbose=0)
    assert KERAS["errors"]["generator_validation_split"].startswith("Argument `validation_split`")


def test_pydataset_refuses_y_and_sample_weight():
    model = _recorder()
    with pytest.raises(ValueError, match="as a PyDataset, `y` should not be passed"):
        model.fit(Batches(), Y, verbose=0)
    with pytest.raises(ValueError, match="`sample_weights` should not be passed"):
        model.fit(Batches(), sample_weight=Y[:, 0], verbose=0)


def test_shuffle_is_ignored_for_a_generator_with_keras_warning():
    model = _recorder()
    with pytest.warns(UserWarning, match="`shuffle=True` was passed, but will be ignored"):
        model.fit(generator(2), epochs=1, verbose=0)


# ------------------------------------------------------------------ each input kind
def _epoch(iterator):
    return list(iterator.epoch())


def _first_feature(batch):
    x = data_adapters.unpack_x_y_sample_weight(batch)[0]
    leaf = x if isinstance(x, Tensor) else data_adapters.leaves(x)[0]
    return [int(v) for v in keras.ops.convert_to_numpy(leaf)[:, 0]]


def test_arrays_partial_last_batch_and_packing():
    iterator = EpochIterator(X, Y, batch_size=4)
    assert iterator.num_batches == 3
    batches = _epoch(iterator)
    assert [len(b[0].data) for b in batches] == [4, 4, 2]
    assert all(isinstance(b, tuple) and len(b) == 2 for b in batches)
    assert all(isinstance(leaf, Tensor) for b in batches for leaf in b)
    np.testing.assert_array_equal(batches[2][1].data, Y[8:])
    # x alone is packed as x; a list of inputs as a 1-tuple; sample weights as a third entry
    (alone,) = _epoch(EpochIterator(X, batch_size=10))
    assert isinstance(alone, Tensor)
    (listed,) = _epoch(EpochIterator([X, X], batch_size=10))
    assert isinstance(listed, tuple) and len(listed) == 1 and len(listed[0]) == 2
    (weighted,) = _epoch(EpochIterator(X, Y, sample_weight=Y[:, 0], batch_size=10))
    assert len(weighted) == 3


def test_dict_and_nested_structures_keep_their_keys_and_order():
    x = {"b": X, "a": X * 2}
    y = [Y, {"z": Y + 1}]
    (batch,) = _epoch(EpochIterator(x, y, batch_size=16))
    bx, by = batch
    assert list(bx) == ["b", "a"]
    np.testing.assert_array_equal(bx["a"].data, X * 2)
    np.testing.assert_array_equal(by[1]["z"].data, Y + 1)


def test_number_lists_become_arrays_and_floats_become_floatx():
    (batch,) = _epoch(EpochIterator([[1.0, 2.0], [3.0, 4.0]], [0, 1]))
    assert batch[0].dtype == "float32" and batch[1].dtype.kind == "i"
    (batch,) = _epoch(EpochIterator(X.astype("float64"), batch_size=10))
    assert batch.dtype == "float32"


def test_string_inputs_stay_on_the_host():
    text = np.array([f"w{i}" for i in range(10)])
    batches = _epoch(EpochIterator(text, Y, batch_size=4, shuffle=True))
    assert all(isinstance(b[0], np.ndarray) and b[0].dtype.kind == "U" for b in batches)
    assert sorted(s for b in batches for s in b[0]) == sorted(text)


def test_generator_is_one_pass_continued_across_epochs():
    iterator = EpochIterator(generator(5), steps_per_epoch=2)
    assert iterator.num_batches == 2
    assert [_first_feature(b) for b in _epoch(iterator)] == [[0, 1], [2, 3]]
    assert [_first_feature(b) for b in _epoch(iterator)] == [[4, 5], [6, 7]]
    assert not iterator.exhausted
    with pytest.warns(UserWarning, match="Your input ran out of data"):
        assert [_first_feature(b) for b in _epoch(iterator)] == [[8, 9]]
    assert iterator.exhausted


def test_generator_without_steps_has_unknown_length():
    iterator = EpochIterator(generator(3))
    assert iterator.num_batches is None
    assert len(_epoch(iterator)) == 3 and iterator.exhausted


def test_fit_stops_when_a_generator_runs_out():
    model = _recorder()
    with pytest.warns(UserWarning, match="Your input ran out of data"):
        history = model.fit(generator(3), epochs=3, verbose=0, shuffle=False)
    assert len(history.history["loss"]) == 1 and len(model.seen) == 3


def test_pydataset_calls_on_epoch_end_and_restarts_each_pass():
    data = Batches()
    iterator = EpochIterator(data)
    assert iterator.num_batches == 3
    first = [_first_feature(b) for b in _epoch(iterator)]
    second = [_first_feature(b) for b in _epoch(iterator)]
    assert first == second == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    assert data.epochs_ended == 2


def test_reiterable_data_set_gets_a_new_pass_each_epoch():
    class Reiterable:
        """tf.data.Dataset-like: iterable again and again, with a length."""

        def __iter__(self):
            return generator(2)

        def __len__(self):
            return 2

    iterator = EpochIterator(Reiterable())
    assert iterator.num_batches == 2
    assert [_first_feature(b) for b in _epoch(iterator)] == [[0, 1], [2, 3]]
    assert [_first_feature(b) for b in _epoch(iterator)] == [[0, 1], [2, 3]]
    assert not iterator.exhausted


def test_max_steps_per_epoch_caps_every_iterator_with_keras_warning():
    keras.config.set_max_steps_per_epoch(2)
    try:
        with pytest.warns(UserWarning, match="Limiting steps_per_epoch to 2"):
            iterator = EpochIterator(X, Y, batch_size=2)
        assert len(_epoch(iterator)) == 2
    finally:
        keras.config.set_max_steps_per_epoch(None)


# -------------------------------------------------------------------------- shuffling
def _order(seed, shuffle, epochs=2):
    keras.utils.set_random_seed(seed)
    iterator = EpochIterator(X, Y, batch_size=4, shuffle=shuffle)
    return [[_first_feature(b) for b in _epoch(iterator)] for _ in range(epochs)]


def test_shuffle_is_reproducible_with_a_seed_and_a_new_permutation_each_epoch():
    first, again, other = _order(1, True), _order(1, True), _order(2, True)
    assert first == again
    assert first != other
    assert first[0] != first[1]
    for epoch in first:
        assert sorted(v for batch in epoch for v in batch) == list(range(10))
        assert [len(b) for b in epoch] == [4, 4, 2]


def test_shuffle_batch_permutes_within_each_batch_as_keras():
    for epoch in _order(3, "batch", epochs=3):
        assert [sorted(b) for b in epoch] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert any(b != sorted(b) for e in _order(3, "batch", epochs=3) for b in e)


# ----------------------------------------------------------------------- class_weight
def test_class_weight_becomes_sample_weight_for_sparse_and_one_hot_targets():
    sparse = np.array([0, 1, 2, 1])
    (batch,) = _epoch(EpochIterator(X[:4], sparse, class_weight={1: 3.0}))
    np.testing.assert_allclose(batch[2].data, [1.0, 3.0, 1.0, 3.0])
    one_hot = np.eye(3, dtype="float32")[sparse]
    (batch,) = _epoch(EpochIterator(X[:4], one_hot, class_weight={2: 0.5}))
    np.testing.assert_allclose(batch[2].data, [1.0, 1.0, 0.5, 1.0])
    with pytest.raises(ValueError, match="cannot be specified at the same time"):
        EpochIterator(X[:4], sparse, sample_weight=np.ones(4), class_weight={1: 3.0})


# --------------------------------------------------------------------- single batches
def test_single_batch_does_not_copy_arrays_of_the_model_dtype():
    batch = single_batch(X)
    assert isinstance(batch, Tensor) and batch.data is X
    x, y = single_batch(X, Y)
    assert x.data is X and y.data is Y
    converted = single_batch(X.astype("float64"))
    assert converted.dtype == "float32"
    with pytest.raises(ValueError, match="same number of samples"):
        single_batch(X, Y[:3])
    with pytest.raises(ValueError, match="cannot be specified at the same time"):
        single_batch(X, Y, sample_weight=Y[:, 0], class_weight={0: 1.0})


# ------------------------------------------------------- nothing per batch that can be hoisted
def test_fit_adapts_the_data_once_per_call_not_per_batch(monkeypatch):
    """The adapter is made (and arrays converted to device arrays) once per fit call (plus
    once for the validation data); which callbacks implement the batch hooks is decided once
    per loop; neither happens per batch."""
    counts = {"adapters": 0, "to_device": 0, "implements": 0, "batches": 0}

    def spy(name, real):
        def counted(*args, **kwargs):
            counts[name] += 1
            return real(*args, **kwargs)

        return counted

    monkeypatch.setattr(
        epoch_iterator_module,
        "get_data_adapter",
        spy("adapters", epoch_iterator_module.get_data_adapter),
    )
    monkeypatch.setattr(data_adapters, "to_device", spy("to_device", data_adapters.to_device))
    monkeypatch.setattr(
        callbacks_base, "_implements", spy("implements", callbacks_base._implements)
    )

    class CountBatches(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            counts["batches"] += 1

    model = _recorder()
    x = np.repeat(X, 10, axis=0)
    y = np.repeat(Y, 10, axis=0)
    model.fit(
        x,
        y,
        batch_size=4,
        epochs=3,
        verbose=0,
        callbacks=[CountBatches()],
        validation_data=(X, Y),
    )
    assert counts["batches"] == 3 * 25
    assert counts["adapters"] == 2  # training and validation data, once each
    assert counts["to_device"] == 4  # x and y of each, once
    # one look per hook and callback at each loop's start (fit, and each validation run)
    assert counts["implements"] < 2 * 5 * 4


def test_data_that_is_not_array_like_is_keras_error():
    with pytest.raises(ValueError, match="Unrecognized data type: x="):
        EpochIterator("not data")
    with pytest.raises(ValueError, match="Unrecognized data type: y="):
        EpochIterator(X, [Y, object()])


def test_tensor_inputs_are_used_without_conversion():
    x = keras.ops.convert_to_tensor(X)
    (batch,) = _epoch(EpochIterator(x, Y, batch_size=10))
    assert batch[0].data is x.data or np.shares_memory(batch[0].data, x.data)


def test_validation_data_from_a_pydataset_and_batch_size_ignored_for_generators():
    model = _recorder()
    history = model.fit(
        generator(2), batch_size=7, validation_data=Batches(), epochs=1, verbose=0, shuffle=False
    )
    assert sorted(history.history) == ["loss", "val_loss"]
    assert model.seen == [[0, 1], [2, 3], ["t", 0, 1, 2], ["t", 3, 4, 5], ["t", 6, 7, 8]]


def test_shuffle_permutes_the_batch_order_of_a_user_pydataset_each_pass():
    def orders(seed, shuffle, data=None):
        keras.utils.set_random_seed(seed)
        iterator = EpochIterator(data or Batches(), shuffle=shuffle)
        return [[_first_feature(b)[0] for b in _epoch(iterator)] for _ in range(4)]

    shuffled = orders(0, True)
    assert shuffled == orders(0, True)
    assert all(sorted(epoch) == [0, 3, 6] for epoch in shuffled)
    assert any(epoch != [0, 3, 6] for epoch in shuffled)
    assert orders(0, False) == [[0, 3, 6]] * 4
    # gpuk's own data sets stand for tf.data.Dataset, which fit does not shuffle
    windows = keras.utils.timeseries_dataset_from_array(X, None, sequence_length=1, batch_size=3)
    keras.utils.set_random_seed(0)
    iterator = EpochIterator(windows, shuffle=True)
    firsts = [int(keras.ops.convert_to_numpy(b)[0, 0, 0]) for b in _epoch(iterator)]
    assert firsts == [0, 3, 6, 9]
