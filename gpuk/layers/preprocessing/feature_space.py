"""``keras.utils.FeatureSpace``: one object that preprocesses and encodes structured data.

A ``FeatureSpace`` maps a dict of columns (numbers and strings) to one float vector per sample
(``output_mode="concat"``) or to a dict of encoded features (``"dict"``), through the
preprocessing layers (``Normalization``, ``Discretization``, ``StringLookup``,
``IntegerLookup``, ``Hashing``, ``HashedCrossing``, ``CategoryEncoding``). Behaviour, configs
and the ``.keras`` layout follow Keras 3.15 (see ``docs/utils.md``).
"""

import numpy as np

from gpuk.autograd import Tensor
from gpuk.layers.base import Layer, unique_name
from gpuk.layers.input_layer import Input
from gpuk.layers.merging import Concatenate
from gpuk.layers.preprocessing.base import PreprocessingLayer, host, is_string_array, to_device
from gpuk.layers.preprocessing.categorical import CategoryEncoding, HashedCrossing, Hashing
from gpuk.layers.preprocessing.lookup import IntegerLookup, StringLookup
from gpuk.layers.preprocessing.numeric import Discretization, Normalization
from gpuk.layers.preprocessing.text import TextVectorization
from gpuk.layers.serialization import _LAYER_CLASSES, deserialize, register_layer_class, serialize

_MODULE = "keras.src.layers.preprocessing.feature_space"
_FEATURE_TYPES = (
    *("float", "float_rescaled", "float_normalized", "float_discretized"),
    *("integer_categorical", "string_categorical", "integer_hashed", "string_hashed"),
)


class TFDIdentity(Layer):
    """The preprocessor of ``FeatureSpace.float`` features: returns its input unchanged."""

    def call(self, x):
        return x

    def compute_output_shape(self, input_shape):
        return input_shape


class _Rescaling(Layer):
    """``x * scale + offset``; used by ``float_rescaled`` while ``gpuk.layers`` has no
    ``Rescaling`` (serialized under Keras's name ``Rescaling``)."""

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale
        self.offset = offset

    def call(self, x):
        return x * self.scale + self.offset

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}


def _column(array):
    return array.reshape(-1, 1) if array.ndim <= 1 else array


def _by_32(rows):
    return [rows[i : i + 32] for i in range(0, len(rows), 32)]


def _rescaling(**kwargs):
    cls = _LAYER_CLASSES.get("Rescaling", _Rescaling)
    return cls(**kwargs)


def _serialize_preprocessor(layer):
    config = serialize(layer)
    if isinstance(layer, TFDIdentity):
        config.update(module=_MODULE, registered_name="TFDIdentity")
    elif isinstance(layer, _Rescaling):
        config.update(class_name="Rescaling", module="keras.layers", registered_name=None)
    config["build_config"] = layer.get_build_config() or {"input_shape": [None, 1]}
    return config


def _check_mode(value, allowed):
    if value not in allowed:
        choices = "{" + ", ".join(repr(a) for a in sorted(allowed)) + "}"
        raise ValueError(
            f"Invalid value for argument `output_mode`. Expected one of {choices}. "
            f"Received: output_mode={value!r}"
        )


class Cross:
    """A crossing of features (``FeatureSpace.cross``), hashed into ``crossing_dim`` bins."""

    def __init__(self, feature_names, crossing_dim, output_mode="one_hot"):
        _check_mode(output_mode, {"int", "one_hot"})
        self.feature_names = tuple(feature_names)
        self.crossing_dim = crossing_dim
        self.output_mode = output_mode

    @property
    def name(self):
        return "_X_".join(self.feature_names)

    def get_config(self):
        return {
            "feature_names": self.feature_names,
            "crossing_dim": self.crossing_dim,
            "output_mode": self.output_mode,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class Feature:
    """One feature of a ``FeatureSpace``: input dtype, preprocessor layer and output mode."""

    def __init__(self, dtype, preprocessor, output_mode):
        _check_mode(output_mode, {"int", "one_hot", "float"})
        self.dtype = dtype
        if isinstance(preprocessor, dict):
            build_config = preprocessor.get("build_config")
            preprocessor = deserialize(preprocessor, custom_objects={"TFDIdentity": TFDIdentity})
            if build_config:
                preprocessor._feature_space_build_config = build_config
        self.preprocessor = preprocessor
        self.output_mode = output_mode

    def get_config(self):
        return {
            "dtype": self.dtype,
            "preprocessor": _serialize_preprocessor(self.preprocessor),
            "output_mode": self.output_mode,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _serialize_object(obj):
    return {
        "module": _MODULE,
        "class_name": type(obj).__name__,
        "config": obj.get_config(),
        "registered_name": type(obj).__name__,
    }


def _deserialize_object(value, cls):
    if isinstance(value, cls):
        return value
    if isinstance(value, dict) and value.get("class_name") == cls.__name__:
        return cls.from_config(value["config"])
    raise ValueError(f"FeatureSpace: cannot read a {cls.__name__} from {str(value)[:120]!r}")


class FeatureSpace(Layer):
    """One-stop preprocessing and encoding of structured (tabular) data, as Keras 3's.

    Args:
        features: dict mapping feature names to a type name (``"float"``,
            ``"float_rescaled"``, ``"float_normalized"``, ``"float_discretized"``,
            ``"integer_categorical"``, ``"string_categorical"``, ``"integer_hashed"``,
            ``"string_hashed"``) or a ``Feature`` from the factory methods
            (``FeatureSpace.integer_categorical(num_oov_indices=0)`` ...).
        output_mode: ``"concat"`` (one float vector per sample) or ``"dict"``.
        crosses: feature-name tuples or ``FeatureSpace.cross(...)`` objects to hash together.
        crossing_dim: default number of bins of a crossing.
        hashing_dim: number of bins of ``"integer_hashed"``/``"string_hashed"`` features.
        num_discretization_bins: bins of ``"float_discretized"`` features.
        name: the layer name.

    Call :meth:`adapt` on a dict of arrays (or batches of dicts), then call the space on a
    dict of arrays (a batch or one sample). :meth:`get_inputs` and
    :meth:`get_encoded_features` give symbolic tensors to build a model around the encoding.
    """

    # ------------------------------------------------------------------ feature factories

    @classmethod
    def cross(cls, feature_names, crossing_dim, output_mode="one_hot"):
        """A crossing of ``feature_names`` hashed into ``crossing_dim`` bins."""
        return Cross(feature_names, crossing_dim, output_mode=output_mode)

    @classmethod
    def feature(cls, dtype, preprocessor, output_mode):
        """A feature with a custom ``preprocessor`` layer."""
        return Feature(dtype, preprocessor, output_mode)

    @classmethod
    def float(cls, name=None):
        """Plain float values, passed through."""
        name = name or unique_name("float")
        layer = TFDIdentity(dtype="float32", name=f"{name}_preprocessor")
        return Feature("float32", layer, "float")

    @classmethod
    def float_rescaled(cls, scale=1.0, offset=0.0, name=None):
        """Float values rescaled as ``x * scale + offset``."""
        name = name or unique_name("float_rescaled")
        layer = _rescaling(scale=scale, offset=offset, name=f"{name}_preprocessor")
        return Feature("float32", layer, "float")

    @classmethod
    def float_normalized(cls, name=None):
        """Float values standardized with an adapted ``Normalization``."""
        name = name or unique_name("float_normalized")
        layer = Normalization(axis=-1, name=f"{name}_preprocessor")
        return Feature("float32", layer, "float")

    @classmethod
    def float_discretized(cls, num_bins, bin_boundaries=None, output_mode="one_hot", name=None):
        """Float values bucketized by a ``Discretization`` (one-hot encoded by default)."""
        name = name or unique_name("float_discretized")
        layer = Discretization(
            num_bins=num_bins, bin_boundaries=bin_boundaries, name=f"{name}_preprocessor"
        )
        return Feature("float32", layer, output_mode)

    @classmethod
    def integer_categorical(
        cls, max_tokens=None, num_oov_indices=1, output_mode="one_hot", name=None
    ):
        """Integer categories indexed by an ``IntegerLookup`` (one-hot by default)."""
        name = name or unique_name("integer_categorical")
        layer = IntegerLookup(
            name=f"{name}_preprocessor", max_tokens=max_tokens, num_oov_indices=num_oov_indices
        )
        return Feature("int32", layer, output_mode)

    @classmethod
    def string_categorical(
        cls, max_tokens=None, num_oov_indices=1, output_mode="one_hot", name=None
    ):
        """String categories indexed by a ``StringLookup`` (one-hot by default)."""
        name = name or unique_name("string_categorical")
        layer = StringLookup(
            name=f"{name}_preprocessor", max_tokens=max_tokens, num_oov_indices=num_oov_indices
        )
        return Feature("string", layer, output_mode)

    @classmethod
    def string_hashed(cls, num_bins, output_mode="one_hot", name=None):
        """Strings hashed into ``num_bins`` bins."""
        name = name or unique_name("string_hashed")
        return Feature(
            "string", Hashing(name=f"{name}_preprocessor", num_bins=num_bins), output_mode
        )

    @classmethod
    def integer_hashed(cls, num_bins, output_mode="one_hot", name=None):
        """Integers hashed into ``num_bins`` bins."""
        name = name or unique_name("integer_hashed")
        return Feature(
            "int32", Hashing(name=f"{name}_preprocessor", num_bins=num_bins), output_mode
        )

    # ------------------------------------------------------------------ construction

    def __init__(
        self,
        features,
        output_mode="concat",
        crosses=None,
        crossing_dim=32,
        hashing_dim=32,
        num_discretization_bins=32,
        name=None,
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        if not features:
            raise ValueError("The `features` argument cannot be None or empty.")
        if not isinstance(features, dict):
            raise ValueError(
                "FeatureSpace: `features` must be a dict mapping feature names to feature "
                f"types; received {type(features).__name__}"
            )
        self.crossing_dim = crossing_dim
        self.hashing_dim = hashing_dim
        self.num_discretization_bins = num_discretization_bins
        self.features = {key: self._standardize_feature(key, v) for key, v in features.items()}
        self.crosses = []
        for cross in crosses or []:
            if isinstance(cross, dict):
                cross = _deserialize_object(cross, Cross)
            if not isinstance(cross, Cross):
                if not crossing_dim:
                    raise ValueError(
                        "When specifying `crosses`, the argument `crossing_dim` "
                        "(dimensionality of the crossing space) should be specified as well."
                    )
                unknown = [key for key in cross if key not in self.features]
                if unknown:
                    raise ValueError(
                        "All features referenced in the `crosses` argument should be present "
                        f"in the `features` dict. Received unknown features: {unknown} in "
                        f"{tuple(cross)}"
                    )
                cross = Cross(cross, crossing_dim=crossing_dim)
            self.crosses.append(cross)
        self.crosses_by_name = {cross.name: cross for cross in self.crosses}
        _check_mode(output_mode, {"dict", "concat"})
        self.output_mode = output_mode
        self.inputs = {
            key: Input(shape=(1,), dtype=feature.dtype, name=key)
            for key, feature in self.features.items()
        }
        self.preprocessors = {key: f.preprocessor for key, f in self.features.items()}
        self.crossers = {c.name: HashedCrossing(c.crossing_dim, name=c.name) for c in self.crosses}
        self.one_hot_encoders = {}
        self.encoded_features = None
        self._concat = None
        self._is_adapted = False
        self._sublayers_built = False
        self._names = None

    def _standardize_feature(self, name, feature):
        if isinstance(feature, Feature):
            return feature
        if isinstance(feature, dict):
            return _deserialize_object(feature, Feature)
        if feature == "float_discretized":
            return self.float_discretized(num_bins=self.num_discretization_bins, name=name)
        if feature in ("integer_hashed", "string_hashed"):
            return getattr(self, feature)(self.hashing_dim, name=name)
        if isinstance(feature, str) and feature in _FEATURE_TYPES:
            return getattr(self, feature)(name=name)
        raise ValueError(
            f"Invalid feature type: {feature!r} (feature {name!r}); expected a Feature or one "
            f"of {list(_FEATURE_TYPES)}"
        )

    # ------------------------------------------------------------------ adapt

    def _adaptable(self):
        names = []
        for key, layer in self.preprocessors.items():
            if isinstance(layer, Normalization) and getattr(layer, "input_mean", None) is not None:
                continue
            if isinstance(layer, Discretization) and layer.get_config().get("num_bins") is None:
                continue  # given bin boundaries: nothing to learn
            if isinstance(layer, TextVectorization) and layer.get_config().get("vocabulary"):
                continue
            if isinstance(layer, PreprocessingLayer):
                cls = type(layer)
                if cls.update_state is not PreprocessingLayer.update_state or (
                    cls.adapt is not PreprocessingLayer.adapt
                ):
                    names.append(key)  # (Hashing has no state to learn)
            elif hasattr(layer, "adapt"):
                names.append(key)
        return names

    def adapt(self, dataset):
        """Learn the preprocessors' state (vocabularies, means, bins) from ``dataset``.

        Args:
            dataset: a dict of arrays or lists (one entry per sample), or an iterable (a
                ``PyDataset``, a generator, a list) of batches that are such dicts.
        """
        columns = self._columns(dataset)
        for key in self._adaptable():
            if key not in columns:
                raise ValueError(
                    f"FeatureSpace.adapt(): the data has no feature {key!r} (it has "
                    f"{sorted(columns)})"
                )
            self.preprocessors[key].adapt(iter(columns[key]))  # (a list is one array)
        self._is_adapted = True
        self.get_encoded_features()
        self.built = True
        self._sublayers_built = True

    def _columns(self, dataset):
        if isinstance(dataset, dict):
            # Keras slices a dict into samples and batches them by 32 before adapting.
            return {key: _by_32(_column(host(v))) for key, v in dataset.items()}
        if isinstance(dataset, (str, bytes, np.ndarray, Tensor)) or not hasattr(
            dataset, "__iter__"
        ):
            raise ValueError(
                "`adapt()` can only be called on a dict of arrays/lists or an iterable of "
                f"batches that are such dicts. Received instead: {type(dataset).__name__}"
            )
        columns = {}
        samples = {}
        for batch in dataset:
            if isinstance(batch, tuple):
                raise ValueError(
                    "FeatureSpace.adapt() needs batches that are dicts of features; the data "
                    "yields tuples (feature dicts with labels?). Pass the features only, e.g. "
                    "the dict of arrays, or a dataset mapped with `lambda x, y: x`."
                )
            if not isinstance(batch, dict):
                raise ValueError(
                    "FeatureSpace.adapt() needs batches that are dicts of features; received "
                    f"a batch of type {type(batch).__name__}"
                )
            for key, value in batch.items():
                value = host(value)
                if value.ndim == 0:  # unbatched samples: collected into batches of 32
                    samples.setdefault(key, []).append(value)
                else:
                    columns.setdefault(key, []).append(_column(value))
        for key, values in samples.items():
            columns[key] = _by_32(np.stack(values)[:, None])
        return columns

    # ------------------------------------------------------------------ encoding

    def get_inputs(self):
        """The dict of symbolic inputs (``keras.Input(shape=(1,))`` per feature)."""
        self._check_if_built()
        return self.inputs

    def get_encoded_features(self):
        """The symbolic encoded features (concatenated, or a dict in ``"dict"`` mode)."""
        self._check_if_adapted()
        if self.encoded_features is None:
            preprocessed = self._preprocess(self.inputs)
            self.encoded_features = self._merge(preprocessed, self._cross(preprocessed))
        return self.encoded_features

    def _preprocess(self, data):
        return {key: self.preprocessors[key](data[key]) for key in self.features}

    def _cross(self, preprocessed):
        return {
            c.name: self.crossers[c.name]([preprocessed[key] for key in c.feature_names])
            for c in self.crosses
        }

    def _merge(self, preprocessed, crossed):
        if self._names is None:
            self._names = sorted(preprocessed) + sorted(crossed)
        values = {**preprocessed, **crossed}
        if not self._sublayers_built:
            self._make_encoders(values)
        out = {}
        for key in self._names:
            encoder = self.one_hot_encoders.get(key)
            out[key] = encoder(values[key]) if encoder is not None else values[key]
        if self.output_mode == "dict":
            return out
        return self._concat([out[key] for key in self._names])

    def _make_encoders(self, values):
        for key in self._names:
            spec = self.features.get(key) or self.crosses_by_name[key]
            dtype = str(values[key].dtype)
            if spec.output_mode == "one_hot":
                if not dtype.startswith("int"):
                    raise ValueError(
                        f"Feature '{key}' has `output_mode='one_hot'`. Thus its preprocessor "
                        f"should return an integer dtype. Instead it returns a {dtype} dtype."
                    )
                layer = self.preprocessors.get(key) or self.crossers.get(key)
                self.one_hot_encoders[key] = CategoryEncoding(
                    num_tokens=self._cardinality(key, layer), output_mode="multi_hot"
                )
            elif self.output_mode == "concat" and (dtype.startswith("int") or dtype == "string"):
                raise ValueError(
                    f"Cannot concatenate features because feature '{key}' has not been "
                    f"encoded (it has dtype {dtype}). Consider using `output_mode='dict'`."
                )
        if self.output_mode == "concat":
            self._concat = Concatenate(axis=-1, name=unique_name("concat"))

    @staticmethod
    def _cardinality(key, layer):
        if isinstance(layer, (IntegerLookup, StringLookup)):
            return layer.vocabulary_size()
        if isinstance(layer, CategoryEncoding):
            return layer.num_tokens
        if isinstance(layer, Discretization) and layer.num_bins is None:
            return len(layer.get_config()["bin_boundaries"]) + 1  # (Keras 3.15 fails here)
        if isinstance(layer, (Discretization, Hashing, HashedCrossing)):
            return layer.num_bins
        raise ValueError(
            f"Feature '{key}' has `output_mode='one_hot'`. However it isn't a standard feature "
            "and the dimensionality of its output space is not known, thus it cannot be "
            "one-hot encoded. Try using `output_mode='int'`."
        )

    def _check_if_adapted(self):
        if not self._is_adapted:
            if self._adaptable():
                raise ValueError(
                    "You need to call `.adapt(dataset)` on the FeatureSpace before you can "
                    "start using it."
                )
            self._is_adapted = True

    def _check_if_built(self):
        if not self._sublayers_built:
            self._check_if_adapted()
            self.get_encoded_features()
            self._sublayers_built = True

    def __call__(self, data):
        """Encode ``data``: a dict of arrays (a batch, or scalars for one sample)."""
        self._check_if_built()
        if not isinstance(data, dict):
            raise ValueError(
                f"A FeatureSpace can only be called with a dict. Received: data of type "
                f"{type(data).__name__}"
            )
        missing = [key for key in self.features if key not in data]
        unknown = [key for key in data if key not in self.features]
        if missing or unknown:
            raise ValueError(
                f"FeatureSpace {self.name!r}: the data's keys do not match the features; "
                f"missing {missing}, unknown {unknown}"
            )
        columns = {}
        single = False
        for key, value in data.items():
            if isinstance(value, Tensor) and not is_string_array(value.data):
                array = value
                ndim = len(value.shape)
            else:
                array = host(value)
                if array.dtype.kind == "U":
                    array = array.astype(object)
                ndim = array.ndim
            if ndim == 0:
                single = True
                array = array.reshape(1, 1)
            elif ndim == 1:
                array = array.reshape(-1, 1)
            if self.features[key].dtype == "float32" and not isinstance(array, Tensor):
                array = to_device(array.astype("float32"))  # numbers on the current device
            columns[key] = array
        preprocessed = self._preprocess(columns)
        merged = self._merge(preprocessed, self._cross(preprocessed))
        if single:
            if self.output_mode == "concat":
                return merged.reshape(merged.shape[1:])
            return {
                key: (v.reshape(v.shape[1:]) if len(v.shape) == 2 and v.shape[0] == 1 else v)
                for key, v in merged.items()
            }
        return merged

    # ------------------------------------------------------------------ config and saving

    def get_config(self):
        return {
            "features": {key: _serialize_object(f) for key, f in self.features.items()},
            "output_mode": self.output_mode,
            "crosses": [_serialize_object(c) for c in self.crosses],
            "crossing_dim": self.crossing_dim,
            "hashing_dim": self.hashing_dim,
            "num_discretization_bins": self.num_discretization_bins,
        }

    def get_build_config(self):
        return {
            key: f.preprocessor.get_build_config() or {"input_shape": [None, 1]}
            for key, f in self.features.items()
        }

    def build_from_config(self, config):
        """Build the preprocessors as saved, so that their state can be loaded."""
        for key, feature in self.features.items():
            layer = feature.preprocessor
            build = (config or {}).get(key) or getattr(layer, "_feature_space_build_config", None)
            if build and build.get("input_shape") is not None and not layer.built:
                layer.build_from_config(build)
        self._is_adapted = True

    def _keras_envelope(self):
        return {
            "module": "keras.utils",
            "class_name": "FeatureSpace",
            "config": self.get_config(),
            "registered_name": None,
            "build_config": self.get_build_config(),
        }

    def _saveable_children(self):
        # Keras's .keras layout: preprocessors/<layer>, crossers/..., one_hot_encoders/...,
        # concat (dicts saved as lists, in insertion order).
        children = [
            ("crossers", list(self.crossers.values())),
            ("one_hot_encoders", list(self.one_hot_encoders.values())),
            ("preprocessors", list(self.preprocessors.values())),
        ]
        if self._concat is not None:
            children.append(("concat", self._concat))
        return [(attr, value) for attr, value in children if value]

    def load_own_variables(self, store):
        """Called first when a ``.keras`` file loads: build the preprocessors to receive state."""
        self.build_from_config(None)

    def save_own_variables(self, store):
        """None of its own: the preprocessors are saved below it."""

    def _finish_loading(self):
        self._is_adapted = True
        self._check_if_built()
        self.built = True

    def save(self, filepath):
        """Save the FeatureSpace to a ``.keras`` file (reload with ``keras.models.load_model``)."""
        saver = getattr(type(self), "_archive_saver", None)
        if saver is None:
            raise RuntimeError("FeatureSpace.save needs gpuk.saving (import gpuk)")
        saver(self, filepath)


for _cls in (FeatureSpace, TFDIdentity):
    register_layer_class(_cls)
if "Rescaling" not in _LAYER_CLASSES:
    register_layer_class(_Rescaling, "Rescaling")
