"""Model configs: the lenient reader (docs/file-formats.md section 3.7) and the conservative writer
(section 8) that both Keras 3 and tf.keras 2 load.
"""

import copy
import inspect
import json
import re
import warnings

import numpy as np

from gpuk import _config
from gpuk.layers import serialization as layer_serialization
from gpuk.layers.base import Layer
from gpuk.saving import file_safety
from gpuk.utils.dtypes import policy_dtype_name
from gpuk.utils.serialization import custom_object_scope

_RNN_CLASSES = ("GRU", "LSTM", "SimpleRNN", "GRUCell", "LSTMCell", "SimpleRNNCell")
_LEGACY_WRITE_VERSION = "2.15.0"


def keras_major(version):
    """The major version of a ``keras_version`` string (``"2.2.4-tf"`` -> 2; missing -> 1)."""
    match = re.match(r"\s*(\d+)", version or "")
    return int(match.group(1)) if match else 1


def json_default(value):
    """``json.dumps`` fallback for NumPy scalars and arrays in configs."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (tuple, set)):
        return list(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def dumps(obj, **kwargs):
    return json.dumps(obj, default=json_default, **kwargs)


def parse_json(text, filename):
    """JSON text (or UTF-8 bytes) parsed under the load limits; ValueError naming ``filename``."""
    return file_safety.parse_json(text, filename)


# ----------------------------------------------------------------------------- reading


def unwrap_envelope(config, filename):
    """``(class_name, inner_config)`` from any of the three envelopes of section 3.1."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            f"{filename}: not a Keras model config (expected a dict with 'class_name' and "
            f"'config'); got {str(config)[:100]!r}"
        )
    return config["class_name"], config.get("config", {})


def _fix_layer_config(class_name, config, major, weight_shapes):
    config = dict(config)
    if "dtype" in config:
        config["dtype"] = policy_dtype_name(config["dtype"], "float32")
    for key in ("activation", "recurrent_activation"):
        if config.get(key) == "hard_sigmoid" and major < 3:
            config[key] = "hard_sigmoid_legacy"
    if class_name in ("GRU", "GRUCell", "CuDNNGRU") and "reset_after" not in config:
        shapes = weight_shapes or []
        bias = [s for s in shapes if len(s) in (1, 2)]
        # (2, 3u) -> True; (3u,) -> False; no weights (JSON only): the file predates the
        # argument, whose default was then False.
        config["reset_after"] = bool(bias) and len(bias[-1]) == 2
    if class_name == "Concatenate" and isinstance(config.get("axis"), list):
        config["axis"] = config["axis"][0]
    if class_name in _RNN_CLASSES and config.get("implementation") == 0:
        config["implementation"] = 1
    for key in ("layer", "backward_layer"):
        inner = config.get(key)
        if isinstance(inner, dict) and "class_name" in inner:
            config[key] = dict(inner)
            config[key]["config"] = _fix_layer_config(
                inner["class_name"], inner.get("config", {}), major, None
            )
    return config


def _layer_entries(class_name, config):
    if class_name == "Sequential":
        return config if isinstance(config, list) else config.get("layers", [])
    if isinstance(config, dict):
        return config.get("layers", [])
    return []


_BAD_KEY_PATTERNS = (
    re.compile(r"Unrecognized keyword arguments passed to \w+: (\{.*\})"),
    re.compile(r"Unrecognized keyword arguments: \[(.*)\]"),
    re.compile(r"unexpected keyword argument '(\w+)'"),
    re.compile(r"unexpected keyword arguments \[(.*)\]"),
    re.compile(r"rgument\(s\) not recognized: (\{.*\})"),
)


def _bad_keys(message):
    for pattern in _BAD_KEY_PATTERNS:
        match = pattern.search(message)
        if match:
            return re.findall(r"'(\w+)'", match.group(0)) or [match.group(1)]
    return []


def _remove_key(config, key):
    if key in config:
        config.pop(key)
        return True
    for inner_key in ("layer", "backward_layer"):
        inner = config.get(inner_key)
        if isinstance(inner, dict) and isinstance(inner.get("config"), dict):
            if _remove_key(inner["config"], key):
                return True
    return False


def clean_layer_entry(entry, filename, custom_objects):
    """Drop config keys the layer class rejects (``time_major``, ``ragged`` ...), warning once.

    The layer is built once on the side to find them; the real build happens in the model's
    ``from_config``.
    """
    config = entry.get("config", {})
    for _ in range(20):
        try:
            with warnings.catch_warnings():
                # the model's real build repeats this construction and warns then, once
                warnings.simplefilter("ignore")
                layer_serialization.deserialize(entry, custom_objects=custom_objects)
            return entry
        except TypeError as error:
            keys = [k for k in _bad_keys(str(error)) if k in _flat_keys(config)]
            if not keys:
                raise
            for key in keys:
                _remove_key(config, key)
            warnings.warn(
                f"{filename}: layer {config.get('name', entry.get('class_name'))!r} "
                f"({entry.get('class_name')}): ignored unsupported config keys {keys}",
                stacklevel=file_safety.user_stacklevel(),
            )
    return entry


def _flat_keys(config):
    keys = set(config)
    for inner_key in ("layer", "backward_layer"):
        inner = config.get(inner_key)
        if isinstance(inner, dict) and isinstance(inner.get("config"), dict):
            keys |= _flat_keys(inner["config"])
    return keys


def prepare_model_config(model_config, filename, keras_version=None, weight_shapes=None):
    """A normalised copy of a model config, ready for ``from_config``.

    Args:
        model_config: the envelope dict (``{"class_name", "config", ...}``).
        filename: for error messages.
        keras_version: the file's ``keras_version`` (decides ``hard_sigmoid``'s formula).
        weight_shapes: ``{layer_name: [shape, ...]}`` from the file, to infer a GRU's missing
            ``reset_after`` from its bias.
    """
    file_safety.check_depth(model_config, filename, "the model config")
    class_name, config = unwrap_envelope(model_config, filename)
    file_safety.check_model_config(class_name, config, filename)
    config = copy.deepcopy(config)
    major = keras_major(keras_version)
    for entry in _layer_entries(class_name, config):
        if not isinstance(entry, dict) or "class_name" not in entry:
            raise ValueError(f"{filename}: malformed layer entry {str(entry)[:100]!r}")
        inner = entry.get("config", {})
        name = entry.get("name") or inner.get("name")
        shapes = (weight_shapes or {}).get(name)
        entry["config"] = _fix_layer_config(entry["class_name"], inner, major, shapes)
        if entry["class_name"] in ("Functional", "Model", "Sequential"):
            nested = prepare_model_config(entry, filename, keras_version, weight_shapes)
            entry["config"] = nested[1]
    return class_name, config


def _registered(name):
    """A class of the layer registry by name: ``gpuk.saving`` sits below ``gpuk.models``
    (ARCHITECTURE.md), and the model classes register there when ``gpuk.models`` is imported."""
    cls = layer_serialization.registered_layer_class(name)
    if cls is None:  # pragma: no cover - gpuk/__init__.py imports gpuk.models
        raise RuntimeError(f"{name} is not registered; import gpuk (or gpuk.models) first")
    return cls


def _model_classes():
    """``(Model, Functional, Sequential)``, found through the registry."""
    functional = _registered("Functional")
    model = next(c for c in functional.__mro__ if c.__name__ == "Model")
    return model, functional, _registered("Sequential")


def _model_class(class_name, filename):
    if class_name in ("Functional", "Model", "Sequential"):
        return _registered(class_name)
    if class_name == "FeatureSpace":  # Keras saves keras.utils.FeatureSpace as a model
        return _registered("FeatureSpace")
    return None


class _UnsafeLambda:
    """Looked up as ``Lambda`` when ``safe_mode=False``: loads marshalled lambda code."""

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from gpuk.layers import Lambda

        return Lambda.from_config(config, custom_objects=custom_objects, safe_mode=False)


def model_from_prepared(class_name, config, filename, custom_objects=None, safe_mode=True):
    """Build the model of a prepared config (custom objects visible to nested lookups)."""
    objects = dict(custom_objects or {})
    if not safe_mode and "Lambda" not in objects:
        objects["Lambda"] = _UnsafeLambda
    with custom_object_scope(objects):
        cls = _model_class(class_name, filename)
        if cls is None:
            from gpuk.utils.serialization import lookup_custom_object

            cls = lookup_custom_object([class_name], objects)
            if cls is None:
                raise ValueError(
                    f"{filename}: unknown model class {class_name!r}; pass it in custom_objects="
                )
        outer = _config.current_budget()
        for i, entry in enumerate(_layer_entries(class_name, config)):
            label = entry.get("name") or entry.get("config", {}).get("name") or f"#{i}"
            where = f"layer {label!r} ({entry.get('class_name')})"
            # The side build must not count against the model's budget: a fresh one.
            side_budget = _config.loading_budget(filename, outer.max_elements if outer else None)
            with file_safety.reading(filename, where, "a valid layer config"), side_budget:
                clean_layer_entry(entry, filename, objects)
        with file_safety.reading(filename, f"model {class_name}", "a buildable model graph"):
            if _accepts_custom_objects(cls.from_config):
                model = cls.from_config(config, custom_objects=objects)
            else:
                model = cls.from_config(config)
        _check_symbolic_shapes(model, filename)
        return model


def _check_symbolic_shapes(model, filename, depth=0):
    """Refuse a graph that could never run: negative sizes (``RepeatVector(-1)``) or call
    arguments the layer does not take (a damaged ``inbound_nodes`` entry)."""
    for layer in getattr(model, "layers", []):
        for node in getattr(layer, "_inbound_nodes", []):
            _check_call_kwargs(layer, getattr(node, "call_kwargs", {}), filename)
            for tensor in getattr(node, "output_tensors", []):
                shape = getattr(tensor, "shape", None) or ()
                if any(isinstance(d, int) and d < 0 for d in shape):
                    raise ValueError(
                        f"{filename}: layer {layer.name!r} ({type(layer).__name__}) outputs "
                        f"shape {tuple(shape)}: negative sizes; check its config"
                    )
        if depth < 50 and getattr(layer, "layers", None):
            _check_symbolic_shapes(layer, filename, depth + 1)


def _check_call_kwargs(layer, kwargs, filename):
    if not kwargs:
        return
    try:
        params = inspect.signature(layer.call).parameters
    except (TypeError, ValueError):
        return
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    unknown = sorted(set(kwargs) - set(params))
    if unknown:
        raise ValueError(
            f"{filename}: layer {layer.name!r} ({type(layer).__name__}) is called with "
            f"arguments {unknown} that its call() does not take"
        )


def _accepts_custom_objects(method):
    params = inspect.signature(method).parameters
    return "custom_objects" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


# ----------------------------------------------------------------------------- writing

_DROP_IF_DEFAULT = {
    "quantization_config": None,
    "lora_rank": None,
    "lora_alpha": None,
    "seed": None,
    "zero_output_for_mask": False,
}


def _conservative_layer(entry):
    entry = {
        k: v for k, v in entry.items() if k not in ("module", "registered_name", "build_config")
    }
    class_name = entry.get("class_name")
    config = dict(entry.get("config", {}))
    if "dtype" in config:
        config["dtype"] = policy_dtype_name(config["dtype"], "float32")
    config.pop("fused", None)  # gpuk-only
    for key, default in _DROP_IF_DEFAULT.items():
        if key in config and config[key] == default:
            config.pop(key)
    if class_name == "InputLayer":
        shape = config.get("batch_input_shape", config.get("batch_shape"))
        config = {
            "batch_input_shape": list(shape) if shape is not None else None,
            "dtype": config.get("dtype", "float32"),
            "sparse": bool(config.get("sparse", False)),
            "name": config.get("name"),
        }
    if class_name in ("GRU", "LSTM"):
        config.setdefault("implementation", 2)
    if class_name == "GRU":
        config.setdefault("reset_after", True)
    for key in ("layer", "backward_layer"):
        inner = config.get(key)
        if isinstance(inner, dict) and "class_name" in inner:
            fixed = _conservative_layer(inner)
            fixed.pop("inbound_nodes", None)
            fixed.pop("name", None)
            if inner.get("module"):
                # Keras 3's Wrapper.from_config (SpectralNormalization, TimeDistributed) needs
                # the module of a built-in inner layer; tf.keras ignores the extra keys.
                fixed["module"] = inner["module"]
                fixed["registered_name"] = inner.get("registered_name")
            config[key] = fixed
    entry["config"] = config
    if class_name in ("Functional", "Model", "Sequential"):
        entry["config"] = conservative_model_config(class_name, config)
    return entry


def _split_registered_names(value):
    # gpuk writes a registered class as class_name "pkg>Name"; Keras wants class_name "Name"
    # with registered_name "pkg>Name" (tf.keras looks up class_name, Keras 3 registered_name).
    if isinstance(value, dict):
        out = {k: _split_registered_names(v) for k, v in value.items()}
        name = out.get("class_name")
        if isinstance(name, str) and ">" in name and "config" in out:
            out["class_name"] = name.split(">")[-1]
            out.setdefault("registered_name", name)
            out.setdefault("module", None)
        return out
    if isinstance(value, list):
        return [_split_registered_names(v) for v in value]
    return value


def conservative_model_config(class_name, config):
    """Legacy-form layer entries that Keras 3 and tf.keras both load (section 8)."""
    config = _split_registered_names(copy.deepcopy(config))
    if isinstance(config, dict) and "layers" in config:
        config["layers"] = [_conservative_layer(e) for e in config["layers"]]
    return config


# keras.layers functions: Keras 3 turns a legacy-form string config value with one of these
# names into the function (Attention's score_mode "dot"), unless the entry names its module.
_LAYER_FUNCTION_NAMES = {
    "add", "average", "concatenate", "dot", "maximum", "minimum", "multiply", "subtract",
}  # fmt: skip


def _keep_strings_in_keras3(entry):
    config = entry.get("config") if isinstance(entry, dict) else None
    if not isinstance(config, dict) or "module" in entry:
        return
    if any(
        k != "name" and isinstance(v, str) and v in _LAYER_FUNCTION_NAMES for k, v in config.items()
    ):
        entry["module"] = "keras.layers"
        entry["registered_name"] = None


def model_envelope(model, flavor="legacy"):
    """The model's config in an envelope.

    ``flavor``: ``"legacy"`` (``{"class_name", "config"}``, for ``.h5`` ``model_config`` and
    ``to_json(flavor="tf_keras")``), or ``"hybrid"`` (Keras 3's top-level keys around legacy
    layer entries; loads in Keras 3 and tf.keras 2).
    """
    _, Functional, Sequential = _model_classes()  # noqa: N806 - the classes, by name
    if type(model) not in (Functional, Sequential) and not isinstance(model, Sequential):
        return _subclass_envelope(model, flavor)
    class_name = "Sequential" if type(model).__name__ == "Sequential" else "Functional"
    config = conservative_model_config(class_name, model.get_config())
    for entry in config.get("layers", []) if isinstance(config, dict) else []:
        _keep_strings_in_keras3(entry)
    if flavor == "legacy":
        return {"class_name": class_name, "config": config}
    module = "keras.src.models." + ("sequential" if class_name == "Sequential" else "functional")
    return {
        "module": module,
        "class_name": class_name,
        "config": config,
        "registered_name": class_name,
    }


def _subclass_envelope(model, flavor):
    """A ``Model`` subclass: its class (found again through ``register_keras_serializable``
    or ``custom_objects``) and its ``get_config()``; a functional subclass that keeps the
    base ``get_config`` stores its graph."""
    Model, Functional, _ = _model_classes()  # noqa: N806 - the classes, by name
    cls = type(model)
    registered = cls.__dict__.get("_registered_name") or cls.__name__
    custom_config = cls.get_config not in (
        Layer.get_config,
        Model.get_config,
        Functional.get_config,
    )
    if custom_config:
        config = _split_registered_names(copy.deepcopy(model.get_config()))
    elif isinstance(model, Functional) and _functional_like_constructor(cls):
        config = conservative_model_config("Functional", model.get_config())
    else:
        config = Model.get_config(model)
        required = [
            p.name
            for p in list(inspect.signature(cls.__init__).parameters.values())[1:]
            if p.default is p.empty
            and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
            and p.name not in config
        ]
        if required:
            raise NotImplementedError(
                f"Model {model.name!r} ({cls.__name__}) cannot be saved with its config: its "
                f"__init__ needs {required}, which are not plain values Keras's auto-config "
                "can store, and it has no get_config() returning them. Implement get_config() "
                "(and from_config() if needed), or use save_weights()."
            )
    if flavor == "legacy":
        return {"class_name": registered, "config": config}
    return {
        "module": cls.__module__,
        "class_name": cls.__name__,
        "config": config,
        "registered_name": registered,
    }


def _functional_like_constructor(cls):
    """Whether ``cls(inputs=..., outputs=..., name=...)`` rebuilds the model (Keras's test,
    widened to constructors that pass ``*args, **kwargs`` on); otherwise a functional
    subclass is saved by its constructor arguments, as Keras 3 does."""
    Functional = _registered("Functional")  # noqa: N806 - the class, by name
    spec = inspect.getfullargspec(cls.__init__)
    if spec.args[1:] == inspect.getfullargspec(Functional.__init__).args[1:]:
        return True
    if spec.varargs and spec.varkw:
        return True
    return {"inputs", "outputs"} <= set(spec.args[1:] + spec.kwonlyargs)


def warn_hard_sigmoid(model, filename):
    """Warn when a layer uses Keras 3's hard_sigmoid: a 2.x-stamped file means 0.2x + 0.5."""
    from gpuk import activations

    for layer in getattr(model, "layers", []):
        for holder in (layer, getattr(layer, "cell", None)):
            for key in ("activation", "recurrent_activation"):
                if holder is not None and getattr(holder, key, None) is activations.hard_sigmoid:
                    warnings.warn(
                        f"{filename}: layer {layer.name!r} uses hard_sigmoid (Keras 3: x/6 + 0.5); "
                        "the .h5 file is stamped Keras 2, whose readers (and gpuk) compute "
                        "0.2x + 0.5. Use the .keras format to keep Keras 3's formula.",
                        stacklevel=file_safety.user_stacklevel(),
                    )
                    return


LEGACY_WRITE_VERSION = _LEGACY_WRITE_VERSION
