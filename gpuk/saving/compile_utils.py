"""Training configs: restoring ``compile`` from Keras 2 / tf.keras / Keras 3 files, and writing
one both Keras generations accept (docs/file-formats.md section 5).
"""

import types
import warnings

from gpuk.saving.file_safety import user_stacklevel
from gpuk.utils.serialization import lookup_custom_object

_LOSS_FULL_NAMES = {
    "mse": "mean_squared_error",
    "MSE": "mean_squared_error",
    "mae": "mean_absolute_error",
    "MAE": "mean_absolute_error",
    "mape": "mean_absolute_percentage_error",
    "MAPE": "mean_absolute_percentage_error",
    "msle": "mean_squared_logarithmic_error",
    "MSLE": "mean_squared_logarithmic_error",
    "bce": "binary_crossentropy",
    "cce": "categorical_crossentropy",
    "kld": "kl_divergence",
    "kullback_leibler_divergence": "kl_divergence",
}
_OPTIMIZER_DROP = ("is_legacy_optimizer", "jit_compile")


# ----------------------------------------------------------------------------- reading


def _resolve_name(name, custom_objects):
    found = lookup_custom_object([name], custom_objects)
    return found if found is not None else name


def _resolve_function_entry(value, custom_objects, kind="loss"):
    """A loss/metric entry: name, Keras 3 function dict, legacy ``{class_name, config}``."""
    if value is None:
        return None
    if isinstance(value, str):
        return _resolve_name(value, custom_objects)
    if isinstance(value, dict) and "class_name" in value:
        class_name = value["class_name"]
        config = value.get("config")
        if class_name == "function" or value.get("registered_name") == "function":
            return _resolve_name(config, custom_objects)
        found = lookup_custom_object([value.get("registered_name"), class_name], custom_objects)
        if found is not None:
            from gpuk.utils.serialization import instantiate

            return instantiate(found, config if isinstance(config, dict) else {})
        return _builtin_object(value, kind)
    return value


def _builtin_object(value, kind):
    """A built-in loss (``kind="loss"``) or metric object from its Keras 3 or tf.keras config
    (tf.keras's wrappers add ``fn`` and ``reduction="auto"``, which mean the defaults); the
    entry unchanged when gpuk has no such class."""
    from gpuk import losses, metrics

    config = dict(value.get("config") or {})
    config.pop("fn", None)
    if config.get("reduction") == "auto":
        config.pop("reduction")
    getter = losses.get if kind == "loss" else metrics.get
    try:
        return getter({"class_name": value["class_name"], "config": config})
    except (ValueError, TypeError):
        return value


def _map_structure(fn, value):
    if isinstance(value, list):
        return [_map_structure(fn, v) for v in value]
    if isinstance(value, dict) and "class_name" not in value:
        return {k: _map_structure(fn, v) for k, v in value.items()}
    return fn(value)


def _metric_entry(value, custom_objects, output_names):
    # tf.keras names wrapper metrics "<output>_<metric>"; the user's spelling is the suffix.
    if isinstance(value, dict) and value.get("class_name") == "MeanMetricWrapper":
        config = value.get("config") or {}
        name = config.get("name") or ""
        fn = config.get("fn")
        fn = fn.get("config") if isinstance(fn, dict) else fn
        for output in sorted(output_names, key=len, reverse=True):
            if name.startswith(output + "_"):
                name = name[len(output) + 1 :]
                break
        if fn not in custom_objects_keys(custom_objects) and (
            name in ("accuracy", "acc", "crossentropy", "ce") or _same_builtin(name, fn)
        ):
            return name
        return _resolve_name(fn, custom_objects)
    return _resolve_function_entry(value, custom_objects, "metric")


def _same_builtin(name, fn):
    """Whether the metric's name (``"mae"``, the user's spelling) is a built-in alias of its
    function (``"mean_absolute_error"``): tf.keras reloads the metric under that name."""
    from gpuk import metrics

    try:
        a, b = metrics.get(name), metrics.get(fn)
    except (ValueError, TypeError):
        return False
    # functions are shared; built-in names give a new metric object each time
    return a is b or type(a) is type(b) is not types.FunctionType


def custom_objects_keys(custom_objects):
    return set(custom_objects or {})


def optimizer_from_config(config, custom_objects):
    from gpuk import optimizers

    if isinstance(config, str):
        return optimizers.get(config)
    config = dict(config)
    inner = dict(config.get("config") or {})
    for key in _OPTIMIZER_DROP:
        inner.pop(key, None)
    if "lr" in inner:
        inner.setdefault("learning_rate", inner.pop("lr"))
    if not inner.get("decay"):
        inner.pop("decay", None)
    config["config"] = inner
    return optimizers.deserialize(config, custom_objects=custom_objects)


def compile_args(training_config, custom_objects, output_names):
    """``model.compile`` keyword arguments from a legacy ``training_config`` or Keras 3
    ``compile_config``."""
    args = {}
    optimizer = training_config.get("optimizer_config", training_config.get("optimizer"))
    if optimizer is not None:
        args["optimizer"] = optimizer_from_config(optimizer, custom_objects)
    args["loss"] = _map_structure(
        lambda v: _resolve_function_entry(v, custom_objects), training_config.get("loss")
    )
    for key in ("metrics", "weighted_metrics"):
        value = training_config.get(key)
        if value is not None:
            args[key] = _map_structure(
                lambda v: _metric_entry(v, custom_objects, output_names), value
            )
    if training_config.get("loss_weights") is not None:
        args["loss_weights"] = training_config["loss_weights"]
    return args


def restore_compile(model, training_config, custom_objects, filename):
    """Compile ``model`` from a saved config; warn (model left uncompiled) when impossible."""
    try:
        args = compile_args(training_config, custom_objects, list(model.output_names))
        model.compile(**args)
        return True
    except Exception as error:  # noqa: BLE001 - a loading convenience must not fail the load
        warnings.warn(
            f"{filename}: could not restore the compile state ({type(error).__name__}: {error}); "
            "the model is returned uncompiled. Pass the missing objects with custom_objects=, "
            "or load with compile=False and call compile() yourself.",
            stacklevel=user_stacklevel(),
        )
        return False


# ----------------------------------------------------------------------------- writing


def _function_name(fn):
    from gpuk.utils.serialization import get_registered_name

    return get_registered_name(fn)


def _legacy_entry(value, full_names):
    if value is None:
        return None
    if isinstance(value, str):
        return _LOSS_FULL_NAMES.get(value, value) if full_names else value
    if hasattr(value, "get_config") and not callable(getattr(value, "__name__", None)):
        if not isinstance(value, type):
            name = getattr(value, "_registered_name", None) or type(value).__name__
            return {"class_name": name, "config": value.get_config()}
    if callable(value):
        return _function_name(value)
    return value


def _keras3_entry(value):
    if value is None or isinstance(value, str):
        return value
    if callable(value) and not hasattr(value, "get_config"):
        return {
            "module": "builtins",
            "class_name": "function",
            "config": _function_name(value),
            "registered_name": "function",
        }
    from gpuk.metrics import Metric

    name = getattr(value, "_registered_name", None)
    module = "keras.metrics" if isinstance(value, Metric) else "keras.losses"
    return {
        "module": None if name else module,
        "class_name": type(value).__name__,
        "config": value.get_config(),
        "registered_name": name,
    }


def _structure(fn, value):
    if isinstance(value, (list, tuple)):
        return [_structure(fn, v) for v in value]
    if isinstance(value, dict):
        return {k: _structure(fn, v) for k, v in value.items()}
    return fn(value)


_OPTIONAL_OPTIMIZER_KEYS = {
    "weight_decay": None,
    "clipnorm": None,
    "global_clipnorm": None,
    "clipvalue": None,
    "use_ema": False,
    "ema_momentum": 0.99,
    "ema_overwrite_frequency": None,
    "loss_scale_factor": None,
    "gradient_accumulation_steps": None,
}


def conservative_optimizer_config(optimizer):
    config = dict(optimizer.get_config())
    for key, default in _OPTIONAL_OPTIMIZER_KEYS.items():
        if key in config and config[key] == default:
            config.pop(key)
    return {"class_name": type(optimizer).__name__, "config": config}


def _compile_state(model):
    getter = getattr(model, "get_compile_config", None)
    config = getter() if getter is not None else None
    return config or None


def training_config(model):
    """The legacy ``training_config`` dict (section 8), or None when not compiled."""
    state = _compile_state(model)
    if state is None:
        return None
    return {
        "loss": _structure(lambda v: _legacy_entry(v, True), state.get("loss")),
        "metrics": _structure(lambda v: _legacy_entry(v, False), state.get("metrics")),
        "weighted_metrics": _structure(
            lambda v: _legacy_entry(v, False), state.get("weighted_metrics")
        ),
        "loss_weights": state.get("loss_weights"),
        "optimizer_config": conservative_optimizer_config(model.optimizer),
    }


def keras3_compile_config(model):
    """Keras 3's ``compile_config`` (for ``.keras`` archives)."""
    from gpuk import optimizers

    state = _compile_state(model)
    if state is None:
        return None
    return {
        "optimizer": optimizers.serialize(model.optimizer),
        "loss": _structure(_keras3_entry, state.get("loss")),
        "loss_weights": state.get("loss_weights"),
        "metrics": _structure(_keras3_entry, state.get("metrics")),
        "weighted_metrics": _structure(_keras3_entry, state.get("weighted_metrics")),
        "run_eagerly": False,
        "steps_per_execution": 1,
        "jit_compile": False,
    }
