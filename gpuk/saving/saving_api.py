"""``load_model``, ``save_model``, weights files, JSON and ``clone_model``.

Formats (docs/file-formats.md): ``.h5``/``.hdf5`` full models in the legacy layout (written in the
"conservative tf.keras" form that Keras 3 and tf.keras 2 both load), the Keras 3 ``.keras`` zip
archive, ``.weights.h5`` (Keras 3) and legacy ``.h5`` weights, and JSON configs. Reading is
lenient about every Keras generation's spelling; nothing in a file is executed (no pickle, no
eval; Lambda bytecode only with ``safe_mode=False``). Every write goes to a temporary file in the
same folder and is renamed over the target, so a failed save leaves the old file intact.
"""

import datetime
import io
import json
import os
import tempfile
import zipfile

import numpy as np

from gpuk import _config
from gpuk._version import __version__ as _gpuk_version
from gpuk.saving import compile_utils, config_utils, file_safety, h5_format
from gpuk.saving.file_safety import h5_get, h5_group, reading

_GPUK_OPTIMIZER_GROUP = "gpuk_optimizer_weights"
# Weight elements a model may have beyond what its file stores (variables Keras does not save).
_BUDGET_SLACK = 2**20
_KERAS3_VERSION = "3.15.1"  # stamped into .keras archives (their config is Keras 3-shaped)


def _ensure_built(model):
    # A Sequential with a known input shape creates its weights when its graph is first
    # needed; asking for the inputs builds it (an unbuildable one keeps no weights).
    try:
        model.inputs  # noqa: B018
    except (ValueError, AttributeError):
        pass


def _name(filepath):
    return os.fspath(filepath) if not hasattr(filepath, "read") else repr(filepath)


# ----------------------------------------------------------------------------- loading


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):  # noqa: A002
    """Load a model saved by gpuk, Keras 3, tf.keras 2 or Keras 2 (``.h5``, ``.keras``).

    Args:
        filepath: path of an ``.h5``/``.hdf5`` file or a ``.keras`` archive.
        custom_objects: ``{name: class or function}`` for user layers, losses, metrics,
            constraints ... (found by class name or Keras 3's ``package>Name``). A plain
            function given for a class-like entry is called with the saved config, as tf.keras
            does (rnnoise's ``{"WeightClip": foo}`` turns the constraints into ``foo(**config)``).
        compile: restore the optimizer (with its state), losses, metrics and loss weights when
            the file has them. A compile state that cannot be restored gives a warning and an
            uncompiled model.
        safe_mode: refuse to load Lambda layers stored as bytecode (unless
            ``gpuk.config.enable_unsafe_deserialization()`` was called).

    Returns:
        The model, with the saved weights.

    Raises:
        ValueError: for unreadable files, unknown objects and mismatched weights (the message
            names the file and the layer or object).
    """
    safe_mode = safe_mode and not _config.unsafe_deserialization_enabled()
    name = _name(filepath)
    if not hasattr(filepath, "read"):
        path = os.fspath(filepath)
        if not os.path.exists(path):
            raise FileNotFoundError(f"No such file or directory: {path!r}")
        if os.path.isdir(path):
            raise ValueError(
                f"{path!r} is a directory (a TensorFlow SavedModel?); gpuk loads .h5 and .keras "
                "files"
            )
        if zipfile.is_zipfile(path):
            with reading(path, "the .keras archive", "a Keras model archive"):
                return _load_keras_archive(path, custom_objects, compile, safe_mode)
    h5py = h5_format.h5py_module()
    if not hasattr(filepath, "read") and not h5py.is_hdf5(os.fspath(filepath)):
        raise ValueError(
            f"{name!r} is neither an HDF5 model file nor a .keras archive (truncated, corrupt "
            "or another format)"
        )
    with h5_format.open_for_reading(filepath) as f:
        with reading(name, "the HDF5 model file", "a Keras model file"):
            return _load_h5_model(f, name, custom_objects, compile, safe_mode)


def _load_h5_model(f, name, custom_objects, compile, safe_mode):  # noqa: A002
    text = h5_format.read_str_attr(f.attrs, "model_config", name)
    if text is None:
        if h5_format.has_list_attr(f.attrs, "layer_names") or h5_format.is_w3(f):
            raise ValueError(
                f"{name}: this file holds only weights (no model config); build the model and "
                "call model.load_weights() instead"
            )
        raise ValueError(f"{name}: no model found in the HDF5 file (no 'model_config' attribute)")
    keras_version = h5_format.read_str_attr(f.attrs, "keras_version", name, "1")
    model_config = file_safety.parse_json(text, name, "attribute 'model_config'")
    weights_group = h5_group(f, "model_weights", name, root="/") or f
    saved = h5_format.read_legacy_weights(weights_group, name)
    shapes = {layer_name: [a.shape for a in arrays] for layer_name, _, arrays in saved}
    budget = sum(file_safety.credible_elements(a) for _, _, arrays in saved for a in arrays)
    with reading(name, "attribute 'model_config'", "a Keras model config"):
        class_name, config = config_utils.prepare_model_config(
            model_config, name, keras_version, shapes
        )
        with _config.loading_budget(name, budget + _BUDGET_SLACK):
            model = config_utils.model_from_prepared(
                class_name, config, name, custom_objects, safe_mode
            )
    h5_format.load_legacy_weights(model, weights_group, name, saved=saved)
    text = h5_format.read_str_attr(f.attrs, "training_config", name) if compile else None
    if text is not None:
        training_config = file_safety.parse_json(text, name, "attribute 'training_config'")
        if compile_utils.restore_compile(model, training_config, custom_objects, name):
            group = h5_group(f, _GPUK_OPTIMIZER_GROUP, name, root="/")
            if group is None:
                group = h5_group(f, "optimizer_weights", name, root="/")
            if group is not None:
                names = h5_format.read_str_list(group.attrs, "weight_names", name) or []
                arrays = []
                for weight_name in names:
                    obj = h5_get(group, weight_name, name)
                    if obj is None:
                        raise ValueError(
                            f"{name}: optimizer weight {weight_name!r} is listed but missing"
                        )
                    arrays.append(file_safety.check_dataset(obj, name))
                h5_format.restore_optimizer(model, arrays, name)
    return model


def _read_archive_json(archive, member, cap, path):
    data = file_safety.read_member(archive, member, cap, path, f"a {member} file")
    return file_safety.parse_json(data, path, f"member {member!r}")


def _load_keras_archive(path, custom_objects, compile, safe_mode):  # noqa: A002
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as error:
        raise ValueError(f"{path}: corrupt .keras archive ({error})") from error
    with archive:
        members = set(archive.namelist())
        if "config.json" not in members:
            raise ValueError(f"{path}: the archive has no config.json; not a .keras file")
        config = _read_archive_json(archive, "config.json", _limit("max_config_bytes"), path)
        metadata = {}
        if "metadata.json" in members:
            metadata = _read_archive_json(
                archive, "metadata.json", _limit("max_metadata_bytes"), path
            )
        if not isinstance(metadata, dict):
            raise ValueError(
                f"{path}: member 'metadata.json': expected a JSON object, got "
                f"{type(metadata).__name__}"
            )
        if "model.weights.h5" not in members:
            if "model.weights.npz" in members:
                raise ValueError(f"{path}: .npz weights inside .keras archives are not supported")
            raise ValueError(f"{path}: the archive has no model.weights.h5")
        weights_info = archive.getinfo("model.weights.h5")
        keras_version = _version_string(metadata.get("keras_version", "3"), path)
        with reading(path, "member 'config.json'", "a Keras model config"):
            class_name, inner = config_utils.prepare_model_config(config, path, keras_version)
            with _config.loading_budget(path, weights_info.file_size + _BUDGET_SLACK):
                model = config_utils.model_from_prepared(
                    class_name, inner, path, custom_objects, safe_mode
                )
                _build_from_config(model, config)
        if compile and isinstance(config, dict) and config.get("compile_config"):
            compile_utils.restore_compile(model, config["compile_config"], custom_objects, path)
        weights = file_safety.read_member(
            archive, "model.weights.h5", _weights_cap(model), path, "the weights of this model"
        )
    # the optimizer's state is restored when compile() was restored (else there is none)
    _read_w3_bytes(weights, model, path, load_optimizer=True)
    _load_assets(model, path)
    if hasattr(model, "_finish_loading"):  # FeatureSpace: adapted state now complete
        model._finish_loading()
    return model


def _load_assets(model, path):
    """Give layers with ``load_assets`` (vocabularies) their ``assets/<layer path>/`` files."""
    with zipfile.ZipFile(path) as archive:
        members = [m for m in archive.namelist() if m.startswith("assets/")]
        if not members:
            return

        def visit(layer_path, layer):
            prefix = f"assets/{layer_path}/"
            mine = [m for m in members if m.startswith(prefix) and not m.endswith("/")]
            if not mine or not hasattr(layer, "load_assets"):
                return
            with tempfile.TemporaryDirectory() as folder:
                for member in mine:
                    name = member[len(prefix) :]
                    if "/" in name or name in ("", ".", ".."):
                        continue  # only the layer's own flat files; never paths out of folder
                    data = file_safety.read_member(
                        archive,
                        member,
                        file_safety.limit("max_config_bytes"),
                        path,
                        "a layer asset",
                    )
                    with open(os.path.join(folder, name), "wb") as f:
                        f.write(data)
                layer.load_assets(folder)

        h5_format.walk_assets(model, visit)


def _write_assets(model, archive):
    def visit(layer_path, layer):
        if not hasattr(layer, "save_assets"):
            return
        with tempfile.TemporaryDirectory() as folder:
            layer.save_assets(folder)
            for name in sorted(os.listdir(folder)):
                with open(os.path.join(folder, name), "rb") as f:
                    archive.writestr(f"assets/{layer_path}/{name}", f.read())

    h5_format.walk_assets(model, visit)


def _read_w3_bytes(data, model, path, **kwargs):
    h5py = h5_format.h5py_module()
    with reading(path, "member 'model.weights.h5'", "an HDF5 weights file"):
        file_safety.check_global_heaps(data, f"{path}: member 'model.weights.h5'")
        handle = h5py.File(io.BytesIO(data), "r")
    with handle as f, reading(path, "member 'model.weights.h5'", "Keras 3 weights"):
        h5_format.read_w3(f, model, f"{path}: member 'model.weights.h5'", **kwargs)


def _weights_cap(model):
    variables = list(getattr(model, "weights", []))
    n_elements = sum(int(np.prod(v.shape, dtype=np.int64)) for v in variables)
    n_objects = len(getattr(model, "layers", [])) + 1
    return file_safety.weights_member_cap(n_elements, len(variables), n_objects)


def _version_string(value, path):
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise ValueError(
        f"{path}: member 'metadata.json': keras_version must be a string, got {value!r}"
    )


def _limit(name):
    return _config.load_limits()[name]


def _build_from_config(model, config):
    build_config = config.get("build_config") or {}
    if not isinstance(build_config, dict):
        raise ValueError(f"build_config must be a dict, got {type(build_config).__name__}")
    shape = build_config.get("input_shape")
    if shape is not None and not model.built:
        model.build(shape)


# ----------------------------------------------------------------------------- saving


def save_model(model, filepath, overwrite=True, include_optimizer=True, **kwargs):
    """Save ``model`` to ``filepath``: ``.keras`` (Keras 3 archive) or ``.h5``/``.hdf5``.

    Args:
        model: a functional or Sequential model.
        filepath: target path; the suffix chooses the format (another suffix: legacy HDF5,
            like tf.keras's ``save_format="h5"``).
        overwrite: replace an existing file (``False`` raises if it exists).
        include_optimizer: store the compile state and the optimizer's variables.
        **kwargs: ``save_format`` (``"h5"``/``"keras"``) is accepted; others raise TypeError.
    """
    _ensure_built(model)
    save_format = kwargs.pop("save_format", None)
    kwargs.pop("signatures", None)
    kwargs.pop("options", None)
    if kwargs:
        raise TypeError(f"save_model() got unexpected keyword arguments {sorted(kwargs)}")
    path = os.fspath(filepath)
    if save_format is None:
        save_format = "keras" if path.endswith(".keras") else "h5"
    if save_format in ("tf", "tensorflow"):
        raise ValueError(
            f"{path}: the TensorFlow SavedModel format is not supported; use .keras or .h5"
        )
    if save_format == "keras":
        h5_format.atomic_write(
            path, overwrite, lambda tmp: _write_keras_archive(model, tmp, include_optimizer)
        )
    else:
        if not hasattr(model, "_input_structure") and type(model).__name__ != "Sequential":
            raise NotImplementedError(
                f"{path}: saving the model to HDF5 format requires the model to be a "
                "Functional model or a Sequential model. It does not work for subclassed "
                f"models such as {type(model).__name__}, because such models are defined via "
                "the body of a Python method, which isn't safely serializable. Use the .keras "
                "format or save_weights() instead."
            )
        config_utils.warn_hard_sigmoid(model, path)
        h5_format.atomic_write(
            path, overwrite, lambda tmp: _write_h5_model(model, tmp, include_optimizer)
        )


def _write_h5_model(model, tmp, include_optimizer):
    h5py = h5_format.h5py_module()
    version = config_utils.LEGACY_WRITE_VERSION
    envelope = config_utils.model_envelope(model, "legacy")
    with h5py.File(tmp, "w") as f:
        f.attrs["keras_version"] = version.encode("utf8")
        f.attrs["backend"] = b"tensorflow"
        f.attrs["gpuk_version"] = _gpuk_version.encode("utf8")
        f.attrs["model_config"] = config_utils.dumps(envelope).encode("utf8")
        h5_format.write_legacy_weights(f.create_group("model_weights"), model, version)
        if not include_optimizer:
            return
        training_config = compile_utils.training_config(model)
        if training_config is None:
            return
        f.attrs["training_config"] = config_utils.dumps(training_config).encode("utf8")
        optimizer = model.optimizer
        if optimizer.built:
            # Not "optimizer_weights": Keras 3 raises (instead of warning) when that group does
            # not match its unbuilt optimizer; Keras ignores this group, gpuk reads both.
            group = f.create_group(_GPUK_OPTIMIZER_GROUP)
            names = h5_format.optimizer_weight_names(optimizer)
            h5_format.write_str_list(group, "weight_names", names)
            for weight_name, variable in zip(names, optimizer.variables):
                group.create_dataset(weight_name, data=h5_format.to_host(variable))


def _write_keras_archive(model, tmp, include_optimizer):
    h5py = h5_format.h5py_module()
    if hasattr(model, "_keras_envelope"):  # a layer saved on its own (FeatureSpace)
        envelope = model._keras_envelope()
    else:
        envelope = config_utils.model_envelope(model, "hybrid")
        # Keras writes the build shape of Sequential and subclassed models (it builds them
        # from it before loading weights); a functional graph rebuilds from its config.
        functional = hasattr(model, "_input_structure") and type(model).__name__ != "Sequential"
        build_config = None if functional else model.get_build_config()
        envelope["build_config"] = build_config or {"input_shape": None}
    if include_optimizer:
        compile_config = compile_utils.keras3_compile_config(model)
        if compile_config is not None:
            envelope["compile_config"] = compile_config
    metadata = {
        "keras_version": _KERAS3_VERSION,
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
        "gpuk_version": _gpuk_version,
    }
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        h5_format.write_w3(f, model, include_optimizer=include_optimizer)
    with zipfile.ZipFile(tmp, "w") as archive:
        archive.writestr("metadata.json", json.dumps(metadata))
        archive.writestr("config.json", config_utils.dumps(envelope))
        archive.writestr("model.weights.h5", buffer.getvalue())
        _write_assets(model, archive)


# ----------------------------------------------------------------------------- weights


def save_weights(model, filepath, overwrite=True, **kwargs):
    """Save the weights: ``*.weights.h5`` -> Keras 3 layout, ``*.h5``/``*.hdf5`` -> legacy.

    Args:
        model: the model (or a layer).
        filepath: target path.
        overwrite: replace an existing file (``False`` raises if it exists).
    """
    _ensure_built(model)
    save_format = kwargs.pop("save_format", None)
    kwargs.pop("options", None)
    if kwargs:
        raise TypeError(f"save_weights() got unexpected keyword arguments {sorted(kwargs)}")
    path = os.fspath(filepath)
    h5py = h5_format.h5py_module()
    if path.endswith(".weights.h5"):

        def write(tmp):
            with h5py.File(tmp, "w") as f:
                h5_format.write_w3(f, model, include_optimizer=True)

    elif path.endswith((".h5", ".hdf5", ".keras.h5")) or save_format == "h5":

        def write(tmp):
            with h5py.File(tmp, "w") as f:
                h5_format.write_legacy_weights(f, model, config_utils.LEGACY_WRITE_VERSION)

    else:
        raise ValueError(
            f"The filename must end in `.weights.h5` (Keras 3 layout) or `.h5` (legacy layout). "
            f"Received: filepath={path}"
        )
    h5_format.atomic_write(path, overwrite, write)


def load_weights(model, filepath, by_name=False, skip_mismatch=False, **kwargs):
    """Load weights from a weights file, a full-model ``.h5`` or a ``.keras`` archive.

    Args:
        model: the model (already built, with the same architecture).
        filepath: ``.weights.h5`` (Keras 3 layout; matched by object path), legacy ``.h5``
            (matched by layer name when the names agree, else by position, as Keras), a full
            ``.h5`` model file or a ``.keras`` archive.
        by_name: legacy layout only: assign to the layers with the same names, skip the rest.
        skip_mismatch: warn and skip layers whose weight count or shapes differ.
    """
    _ensure_built(model)
    kwargs.pop("options", None)
    if kwargs:
        raise TypeError(f"load_weights() got unexpected keyword arguments {sorted(kwargs)}")
    name = _name(filepath)
    if not hasattr(filepath, "read"):
        path = os.fspath(filepath)
        if not os.path.exists(path):
            raise FileNotFoundError(f"No such file: {path!r} (cannot load the weights)")
        if zipfile.is_zipfile(path):
            with reading(path, "the .keras archive", "a Keras model archive"):
                try:
                    archive = zipfile.ZipFile(path)
                except zipfile.BadZipFile as error:
                    raise ValueError(f"{path}: corrupt .keras archive ({error})") from error
                with archive:
                    if "model.weights.h5" not in archive.namelist():
                        raise ValueError(f"{path}: the archive has no model.weights.h5")
                    data = file_safety.read_member(
                        archive,
                        "model.weights.h5",
                        _weights_cap(model),
                        path,
                        "the weights of this model",
                    )
                _read_w3_bytes(
                    data,
                    model,
                    path,
                    skip_mismatch=skip_mismatch,
                    load_optimizer=_optimizer_built(model),
                )
            return
    with h5_format.open_for_reading(filepath, "weights") as f:
        with reading(name, "the HDF5 weights file", "Keras weights"):
            _load_h5_weights(f, model, name, by_name, skip_mismatch)


def _optimizer_built(model):
    # Keras 3's load_weights restores the optimizer's state too, once it is built.
    optimizer = getattr(model, "optimizer", None)
    return optimizer is not None and optimizer.built


def _load_h5_weights(f, model, name, by_name, skip_mismatch):
    if h5_format.has_list_attr(f.attrs, "layer_names"):
        h5_format.load_legacy_weights(model, f, name, by_name, skip_mismatch)
        return
    group = h5_group(f, "model_weights", name, root="/")
    if group is not None:
        h5_format.load_legacy_weights(model, group, name, by_name, skip_mismatch)
    elif h5_format.is_w3(f):
        if by_name:
            raise ValueError(
                f"{name}: by_name=True works only with the legacy .h5 layout; this is a "
                "Keras 3 .weights.h5 file"
            )
        h5_format.read_w3(
            f, model, name, skip_mismatch=skip_mismatch, load_optimizer=_optimizer_built(model)
        )
    else:
        raise ValueError(f"{name}: no Keras weights found in the HDF5 file")


# ----------------------------------------------------------------------------- JSON


def to_json(model, **kwargs):
    """The model config as JSON.

    Args:
        model: a functional or Sequential model.
        **kwargs: ``flavor`` (``"hybrid"`` default: loads in Keras 3 and tf.keras 2;
            ``"tf_keras"``: the plain legacy envelope with ``keras_version``/``backend``);
            other keyword arguments go to ``json.dumps`` (``indent=2`` ...).
    """
    _ensure_built(model)
    flavor = kwargs.pop("flavor", "hybrid")
    if flavor not in ("hybrid", "tf_keras", "legacy"):
        raise ValueError(f"to_json: flavor must be 'hybrid' or 'tf_keras', received {flavor!r}")
    if flavor == "hybrid":
        envelope = config_utils.model_envelope(model, "hybrid")
    else:
        envelope = config_utils.model_envelope(model, "legacy")
        envelope["keras_version"] = config_utils.LEGACY_WRITE_VERSION
        envelope["backend"] = "tensorflow"
    return config_utils.dumps(envelope, **kwargs)


def model_from_json(json_string, custom_objects=None):
    """Rebuild a model (fresh weights) from ``to_json`` text of gpuk, Keras 3 or tf.keras.

    Also accepts a ``.keras`` archive's ``config.json`` and an ``.h5`` file's
    ``model_config``.
    """
    where = "model_from_json"
    config = file_safety.parse_json(json_string, where, "the JSON text")
    with reading(where, "the JSON config", "a Keras model config"):
        version = config.get("keras_version") if isinstance(config, dict) else None
        if version is None and isinstance(config, dict) and "module" in config:
            version = "3"
        if version is not None:
            version = _version_string(version, where)
        class_name, inner = config_utils.prepare_model_config(config, where, version)
        with _config.loading_budget(where):
            return config_utils.model_from_prepared(class_name, inner, where, custom_objects)


def model_from_config(config, custom_objects=None):
    """Rebuild a model from a ``{"class_name", "config"}`` dict."""
    return model_from_json(config_utils.dumps(config), custom_objects)


def clone_model(model, input_tensors=None, clone_function=None, **kwargs):
    """A new model with the same architecture and freshly initialized weights (as Keras).

    ``clone_function`` (called with each layer, returning a new layer) and ``input_tensors``
    are not supported by this config-based clone and raise ValueError when given.
    """
    if input_tensors is not None or clone_function is not None or kwargs:
        raise ValueError(
            "clone_model: input_tensors, clone_function and other options are not supported; "
            "gpuk clones through the model config"
        )
    cls = type(model)
    config = model.get_config()
    return cls.from_config(config)
