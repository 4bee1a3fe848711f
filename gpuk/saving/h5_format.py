"""HDF5 layouts: the legacy Keras layout (Keras 2, tf.keras, Keras 3 ``.h5``) and Keras 3's
``.weights.h5`` (docs/file-formats.md sections 1, 2 and 7).

Readers accept every string encoding h5py produces (``str``, ``bytes``, ``numpy.bytes_``,
vlen or fixed-length arrays, an empty float64 array for an empty list) and the chunked
``name0, name1, ...`` attributes. Weights always pass through NumPy, so a file written from
GPU arrays loads on a CPU-only machine and the other way round.
"""

import mmap
import os
import stat
import tempfile
import threading
import warnings

import numpy as np

from gpuk._array import to_numpy
from gpuk.autograd import Tensor
from gpuk.layers.base import Layer
from gpuk.saving import file_safety
from gpuk.saving.file_safety import (
    StoredArray,
    check_dataset,
    h5_get,
    h5_group,
    reading,
    user_stacklevel,
)
from gpuk.utils.naming import to_snake_case

# HDF5's object header limit: longer list attributes are split into name0, name1, ...
_HDF5_ATTR_LIMIT = 64512
# A longer chunked list attribute is refused (read_str_list); gpuk and Keras write far fewer.
_MAX_CHUNKS = 100_000
_UMASK_LOCK = threading.Lock()


# ----------------------------------------------------------------------------- h5py access


def h5py_module():
    try:
        import h5py
    except ImportError as error:  # pragma: no cover - h5py is a dependency
        raise ImportError("Saving and loading HDF5 files needs h5py (pip install h5py)") from error
    return h5py


def decode(value):
    """An attribute value as ``str`` (UTF-8 bytes, ``numpy.bytes_``, numbers and 0-d arrays
    accepted); ValueError for anything else."""
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value.item()
    if isinstance(value, (bytes, np.bytes_)):
        return bytes(value).decode("utf8")
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"expected a string, got {type(value).__name__} {str(value)[:60]!r}")


def read_str_list(attrs, name, filename="HDF5 file"):
    """A list attribute as a list of ``str``; chunked ``name0, name1, ...`` are concatenated.

    Sizes and types are checked from the attribute's metadata before it is read.
    """
    where = "attribute"
    if name in attrs:
        raw = [file_safety.read_attr(attrs, name, filename, where)]
    else:
        raw = []
        while f"{name}{len(raw)}" in attrs:
            raw.append(file_safety.read_attr(attrs, f"{name}{len(raw)}", filename, where))
            if len(raw) > _MAX_CHUNKS:
                raise ValueError(f"{filename}: attribute {name!r} is split in too many chunks")
        if not raw:
            return None
    out = []
    with reading(filename, f"attribute {name!r}", "a list of strings"):
        for chunk in raw:
            values = np.atleast_1d(np.asarray(chunk))
            if values.dtype.kind == "f" and values.size == 0:
                continue
            if values.ndim != 1:
                raise ValueError(f"a {values.ndim}-d array")
            out.extend(decode(v) for v in values.tolist())
    return out


def read_str_attr(attrs, name, filename, default=None):
    """A string attribute (``model_config``, ``keras_version`` ...), checked before reading."""
    value = file_safety.read_attr(attrs, name, filename)
    if value is None:
        return default
    with reading(filename, f"attribute {name!r}", "a string"):
        return decode(value)


def has_list_attr(attrs, name):
    """Whether a (possibly chunked) list attribute exists."""
    return name in attrs or f"{name}0" in attrs


def write_str_list(group, name, values):
    """Write a list of strings as Keras does (bytes array, empty float64 array when empty)."""
    data = [v.encode("utf8") for v in values]
    too_long = [v for v in values if len(v.encode("utf8")) > _HDF5_ATTR_LIMIT]
    if too_long:
        # as Keras: no chunking can store one name over HDF5's attribute limit
        raise RuntimeError(
            f"The following attributes cannot be saved to HDF5 file because they are larger "
            f"than {_HDF5_ATTR_LIMIT} bytes: {[v[:100] + '...' for v in too_long]}"
        )
    if not data:
        group.attrs[name] = np.array([])
        return
    array = np.asarray(data)
    if array.nbytes <= _HDF5_ATTR_LIMIT:
        group.attrs[name] = array
        return
    n_chunks = 1
    while True:
        chunks = np.array_split(array, n_chunks)
        if all(c.nbytes <= _HDF5_ATTR_LIMIT for c in chunks):
            break
        n_chunks += 1
    for i, chunk in enumerate(chunks):
        group.attrs[f"{name}{i}"] = chunk


def open_for_reading(filepath, what="model"):
    """Open an HDF5 file; clear errors for missing, truncated or non-HDF5 files."""
    h5py = h5py_module()
    if hasattr(filepath, "read"):
        path = repr(filepath)
        source = filepath
    else:
        path = os.fspath(filepath)
        if not os.path.exists(path):
            raise FileNotFoundError(f"No such file: {path!r} (cannot load the {what})")
        source = path
    _check_heaps(source, path)
    try:
        return h5py.File(source, "r")
    except Exception as error:  # noqa: BLE001 - one clear error for every unreadable file
        raise ValueError(
            f"{path!r} is not a readable HDF5 file (truncated, corrupt or another format): {error}"
        ) from error


def _check_heaps(source, path):
    """Scan the file for global heaps that would hang libhdf5 (file_safety.check_global_heaps)."""
    if hasattr(source, "read"):
        position = source.tell()
        data = source.read()
        source.seek(position)
        file_safety.check_global_heaps(data, path)
        return
    with open(source, "rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            return
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            file_safety.check_global_heaps(data, path)


def atomic_write(filepath, overwrite, writer):
    """Call ``writer(tmp_path)`` then rename onto ``filepath`` (old file intact on a crash)."""
    path = os.fspath(filepath)
    if os.path.exists(path) and not overwrite:
        raise ValueError(
            f"File {path!r} already exists and overwrite=False; pass overwrite=True to replace it"
        )
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    os.close(fd)
    # mkstemp creates 0600; give the file what open() would: the old file's mode, else
    # 0666 less the umask.
    try:
        os.chmod(tmp, _ordinary_mode(path))
    except OSError:
        pass
    try:
        writer(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _ordinary_mode(path):
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        pass
    with _UMASK_LOCK:
        umask = os.umask(0o022)
        os.umask(umask)
    return 0o666 & ~umask


# ----------------------------------------------------------------------------- layer weights


def layer_weight_variables(layer):
    """A layer's variables in Keras's legacy order: trainable, then non-trainable."""
    seen, out = set(), []
    for v in list(layer.trainable_weights) + list(layer.non_trainable_weights):
        if id(v) not in seen:
            seen.add(id(v))
            out.append(v)
    return out


def to_host(variable):
    return np.asarray(to_numpy(variable.data if hasattr(variable, "data") else variable))


def read_legacy_weights(group, filename):
    """``[(layer_name, weight_names, [StoredArray])]`` of a legacy weights group, in file order.

    Only metadata is read here (each array is read once, when it is assigned); every dataset
    is checked to be a plain in-file array inside its layer's group.
    """
    names = read_str_list(group.attrs, "layer_names", filename)
    if names is None:
        raise ValueError(f"{filename}: no 'layer_names' attribute; not a Keras weights group")
    out = []
    for layer_name in names:
        g = h5_group(group, layer_name, filename)
        if g is None:
            raise ValueError(f"{filename}: layer group {layer_name!r} is listed but missing")
        weight_names = read_str_list(g.attrs, "weight_names", filename) or []
        arrays = []
        for weight_name in weight_names:
            obj = h5_get(g, weight_name, filename)
            if obj is None:
                raise ValueError(
                    f"{filename}: weight {weight_name!r} of layer {layer_name!r} is missing"
                )
            arrays.append(check_dataset(obj, filename))
        out.append((layer_name, weight_names, arrays))
    return out


def _at(array):
    """`` (at /path)`` naming a stored dataset in messages."""
    return f" (at {array.dataset.name})" if isinstance(array, StoredArray) else ""


def read_array(value):
    """A NumPy array from a :class:`StoredArray` (read now) or an array."""
    return value.read() if isinstance(value, StoredArray) else np.asarray(value)


def _convert_for_layer(variables, arrays):
    """tf.keras's CuDNNGRU -> ``GRU(reset_after=True)`` conversion (its ``convert_gru_weights``):
    the flat ``(6u,)`` bias becomes ``(2, 3u)``, each gate's input kernel is transposed and
    re-read in Fortran order, each gate's recurrent kernel transposed. Other weights are
    returned unchanged."""
    arrays = list(arrays)
    shapes = [tuple(v.shape) for v in variables]
    if (
        len(arrays) != 3
        or len(shapes) != 3
        or not getattr(variables[2], "name", "").startswith("bias")
        or len(shapes[2]) != 2
        or arrays[2].shape != (shapes[2][0] * shapes[2][1],)
        or [tuple(a.shape) for a in arrays[:2]] != shapes[:2]
    ):
        return arrays
    kernel = np.split(read_array(arrays[0]), 3, axis=-1)
    recurrent = np.split(read_array(arrays[1]), 3, axis=-1)
    return [
        np.hstack([k.T.reshape(k.shape, order="F") for k in kernel]),
        np.hstack([k.T for k in recurrent]),
        arrays[2].reshape(shapes[2]),
    ]


def assign_layer_weights(layer, arrays, filename, file_layer, skip_mismatch=False):
    """Assign ``arrays`` (legacy order) to ``layer``; ValueError naming file and layers."""
    variables = layer_weight_variables(layer)
    arrays = _convert_for_layer(variables, arrays)
    if len(variables) != len(arrays):
        message = (
            f"{filename}: layer {layer.name!r} ({type(layer).__name__}) expects "
            f"{len(variables)} weights {[tuple(v.shape) for v in variables]}, but the saved "
            f"layer {file_layer!r} has {len(arrays)} weights {[a.shape for a in arrays]}"
        )
        if skip_mismatch:
            warnings.warn(f"Skipping: {message}", stacklevel=user_stacklevel())
            return
        raise ValueError(message)
    for variable, array in zip(variables, arrays):
        if tuple(variable.shape) != tuple(array.shape):
            message = (
                f"{filename}: shape mismatch for weight {variable.path!r} of layer "
                f"{layer.name!r}: the model has {tuple(variable.shape)}, the saved layer "
                f"{file_layer!r} has {tuple(array.shape)}{_at(array)}"
            )
            if skip_mismatch:
                warnings.warn(f"Skipping: {message}", stacklevel=user_stacklevel())
                return
            raise ValueError(message)
    for variable, array in zip(variables, arrays):
        variable.assign(read_array(array).astype(variable.dtype))


def load_legacy_weights(model, group, filename, by_name=False, skip_mismatch=False, saved=None):
    """Assign a legacy weights group to ``model``.

    Without ``by_name`` the layers are paired by name when the file's weighted layers and the
    model's carry the same names (any order), else by position as Keras does. ``saved``: the
    group's :func:`read_legacy_weights` when already read.
    """
    if saved is None:
        saved = read_legacy_weights(group, filename)
    saved = [entry for entry in saved if entry[2]]
    layers = [layer for layer in _all_layers(model) if layer_weight_variables(layer)]
    if by_name:
        by = {name: arrays for name, _, arrays in saved}
        for layer in layers:
            if layer.name in by:
                assign_layer_weights(layer, by[layer.name], filename, layer.name, skip_mismatch)
        return
    model_names = [layer.name for layer in layers]
    file_names = [name for name, _, _ in saved]
    if sorted(model_names) == sorted(file_names):
        by = {name: arrays for name, _, arrays in saved}
        for layer in layers:
            assign_layer_weights(layer, by[layer.name], filename, layer.name, skip_mismatch)
        return
    if len(layers) != len(saved):
        raise ValueError(
            f"{filename}: layer count mismatch: the file has weights for {len(saved)} layers "
            f"{file_names}, the model has {len(layers)} layers with weights {model_names}"
        )
    for layer, (name, _, arrays) in zip(layers, saved):
        assign_layer_weights(layer, arrays, filename, name, skip_mismatch)


def _all_layers(model):
    return list(model.layers)


def legacy_weight_names(layer):
    """tf.keras-style names: ``dense/kernel:0``, ``gru/gru_cell/kernel:0`` (unique)."""
    names = []
    for i, variable in enumerate(layer_weight_variables(layer)):
        path = getattr(variable, "path", None) or getattr(variable, "name", None) or f"param_{i}"
        if "/" not in path:
            path = f"{layer.name}/{path}"
        name = f"{path}:0"
        base, k = name, 1
        while name in names:
            name = f"{base[:-2]}_{k}:0"
            k += 1
        names.append(name)
    return names


def write_legacy_weights(group, model, keras_version, backend="tensorflow"):
    """The legacy weights layout (``layer_names`` + per-layer ``weight_names`` + datasets)."""
    layers = _all_layers(model)
    write_str_list(group, "layer_names", [layer.name for layer in layers])
    group.attrs["backend"] = backend.encode("utf8")
    group.attrs["keras_version"] = keras_version.encode("utf8")
    for layer in layers:
        g = group.create_group(layer.name)
        names = legacy_weight_names(layer)
        write_str_list(g, "weight_names", names)
        for name, variable in zip(names, layer_weight_variables(layer)):
            g.create_dataset(name, data=to_host(variable))


# ----------------------------------------------------------------------------- optimizer


def optimizer_weight_names(optimizer):
    names = []
    for i, variable in enumerate(optimizer.variables):
        path = getattr(variable, "path", None) or f"{optimizer.name}/param_{i}"
        name, k = path, 1
        while name in names:
            name = f"{path}_{k}"
            k += 1
        names.append(name)
    return names


def restore_optimizer(model, arrays, filename):
    """Set the optimizer's slots from saved arrays when the layout is recognised, else warn.

    Accepted: Keras 3 / gpuk order ``[iteration, learning_rate, slots...]``, or tf.keras's new
    optimizers ``[iteration, slots...]`` (no learning-rate variable).
    """
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not arrays:
        return False
    if len(arrays) <= 2 and all(len(a.shape) == 0 for a in arrays):
        # An optimizer saved before its first step: only its counter (and learning rate,
        # already restored from the config).
        counter = optimizer.variables[0]
        counter.assign(read_array(arrays[0]).astype(counter.dtype))
        return True
    try:
        optimizer.build(model.trainable_variables)
    except Exception as error:  # noqa: BLE001 - report and continue with a fresh optimizer
        warnings.warn(
            f"{filename}: could not build the optimizer ({error})", stacklevel=user_stacklevel()
        )
        return False
    variables = optimizer.variables
    shapes = [tuple(v.shape) for v in variables]
    saved = [tuple(a.shape) for a in arrays]
    if saved == shapes:
        targets = variables
    elif saved == shapes[:1] + shapes[2:]:
        targets = variables[:1] + variables[2:]
    else:
        warnings.warn(
            f"{filename}: the saved optimizer state ({len(arrays)} variables) does not match "
            f"optimizer {optimizer.name!r} ({len(variables)} variables); starting with a freshly "
            "initialized optimizer",
            stacklevel=user_stacklevel(),
        )
        return False
    for variable, array in zip(targets, arrays):
        variable.assign(read_array(array).astype(variable.dtype))
    return True


# ----------------------------------------------------------------------------- Keras 3 W3


def _own_variables(obj):
    return list(getattr(obj, "_trainable_variables", [])) + list(
        getattr(obj, "_non_trainable_variables", [])
    )


def _children(obj):
    """``[(attribute, layer or list of layers)]`` as Keras 3 walks a saveable (sorted)."""
    if hasattr(obj, "_input_structure") or type(obj).__name__ in ("Sequential", "Functional"):
        return [("layers", list(obj.layers))]
    if hasattr(obj, "_w3_children"):
        # Layers whose Keras counterparts save sub-layers under other attribute names.
        return obj._w3_children()
    out = []
    for attr in sorted(vars(obj)):
        if attr.startswith("_"):
            continue
        value = vars(obj)[attr]
        if isinstance(value, Layer) and value is not obj:
            out.append((attr, value))
        elif (
            isinstance(value, (list, tuple)) and value and all(isinstance(v, Layer) for v in value)
        ):
            out.append((attr, list(value)))
    extra = getattr(obj, "_saveable_children", None)
    if extra is not None:
        # Private sub-layers Keras tracks too (TextVectorization's ``_lookup_layer``).
        out = sorted(out + list(extra()), key=lambda item: item[0])
    return out


def _walk(obj, path, visit):
    visit(path, obj)
    for attr, child in _children(obj):
        if isinstance(child, list):
            used = {}
            for item in child:
                key = to_snake_case(type(item).__name__)
                if key in used:
                    used[key] += 1
                    key = f"{key}_{used[key] - 1}"
                else:
                    used[key] = 1
                _walk(item, f"{path}/{attr}/{key}".lstrip("/"), visit)
        else:
            _walk(child, f"{path}/{attr}".lstrip("/"), visit)


def write_w3(h5file, model, include_optimizer):
    """Keras 3's ``.weights.h5`` layout (section 2.2) into an open h5py file.

    Every object's ``vars`` group is filled by its ``save_own_variables(store)`` (Keras 3's
    hook, which every layer has), so a layer that overrides it chooses its own keys.
    """

    def visit(path, obj):
        group = h5file.require_group(f"{path}/vars" if path else "vars")
        group.attrs["name"] = getattr(obj, "name", "")
        store = _WriteStore(group)
        if hasattr(obj, "save_own_variables"):
            obj.save_own_variables(store)
            return
        for i, variable in enumerate(_own_variables(obj)):
            store[str(i)] = variable

    _walk(model, "", visit)
    optimizer = getattr(model, "optimizer", None)
    if include_optimizer and optimizer is not None and optimizer.built:
        group = h5file.require_group("optimizer/vars")
        group.attrs["name"] = optimizer.name
        for i, variable in enumerate(optimizer.variables):
            group.create_dataset(str(i), data=to_host(variable))
        # Keras 3 also stores a LossScaleOptimizer's inner optimizer, and a MultiOptimizer's
        # sub-optimizers (keyed like a container's items), as children of their own.
        children = []
        inner = getattr(optimizer, "inner_optimizer", None)
        if inner is not None:
            children.append(("optimizer/inner_optimizer", inner))
        used = {}
        for sub in getattr(optimizer, "_inner_optimizers", []):
            key = to_snake_case(type(sub).__name__)
            used[key] = used.get(key, 0) + 1
            key = key if used[key] == 1 else f"{key}_{used[key] - 1}"
            children.append((f"optimizer/optimizers/{key}", sub))
        for path, child in children:
            group = h5file.require_group(f"{path}/vars")
            group.attrs["name"] = child.name
            for i, variable in enumerate(child.variables):
                group.create_dataset(str(i), data=to_host(variable))


def read_w3(h5file, model, filename, *, skip_mismatch=False, load_optimizer):
    """Assign a Keras 3 ``.weights.h5`` layout to ``model`` (by object path, as Keras 3).

    Each object receives its ``vars`` group through ``load_own_variables(store)``. For layers
    that keep Keras's default hook the count and shapes are checked here first, so errors
    name the file and the group and ``skip_mismatch`` skips the layer with a warning; a layer
    that overrides the hook gets the group's arrays as they are (with ``skip_mismatch``, an
    error it raises becomes a warning).
    """

    def visit(path, obj):
        key = f"{path}/vars" if path else "vars"
        group = h5_group(h5file, key, filename, root="/")
        label = getattr(obj, "name", path)
        loader = getattr(type(obj), "load_own_variables", None)
        if loader is not None and loader is not Layer.load_own_variables:
            store = _ReadStore(group, filename, _store_keys)
            store.stored()  # refuse unsafe datasets whatever skip_mismatch says
            try:
                obj.load_own_variables(store)
            except Exception as error:
                if not skip_mismatch:
                    raise
                warnings.warn(
                    f"Skipping: {filename}: {type(obj).__name__} {label!r} could not load "
                    f"'{key}': {error}",
                    stacklevel=4,
                )
            return
        variables = _own_variables(obj)
        store = _ReadStore(group, filename, _numbered_keys)
        if len(store) != len(variables):
            message = (
                f"{filename}: {type(obj).__name__} {label!r} expects {len(variables)} variables "
                f"at '{key}', the file has {len(store)}"
            )
            if skip_mismatch:
                if variables:
                    warnings.warn(f"Skipping: {message}", stacklevel=user_stacklevel())
                return
            raise ValueError(message)
        for variable, array in zip(variables, store.stored()):
            if tuple(variable.shape) != array.shape:
                message = (
                    f"{filename}: shape mismatch for {variable.path!r} of {label!r} at '{key}': "
                    f"the model has {tuple(variable.shape)}, the file has {array.shape}"
                    f"{_at(array)}"
                )
                if skip_mismatch:
                    warnings.warn(f"Skipping: {message}", stacklevel=user_stacklevel())
                    return
                raise ValueError(message)
        if loader is not None:
            obj.load_own_variables(store)
            return
        for variable, array in zip(variables, store.stored()):
            variable.assign(array.read().astype(variable.dtype))

    _walk(model, "", visit)
    group = h5_group(h5file, "optimizer/vars", filename, root="/") if load_optimizer else None
    if group is not None:
        keys = _numbered_keys(group, filename)
        arrays = [check_dataset(h5_get(group, k, filename), filename) for k in keys]
        restore_optimizer(model, arrays, filename)


class _WriteStore:
    """The ``store`` a ``save_own_variables`` fills: each value becomes a dataset of the
    object's ``vars`` group (variables and device arrays are copied to the host)."""

    def __init__(self, group):
        self._group = group

    def __setitem__(self, key, value):
        self._group.create_dataset(str(key), data=_host_value(value))

    def __contains__(self, key):
        return str(key) in self._group

    def __len__(self):
        return len(self._group)

    def keys(self):
        return list(self._group.keys())


def _host_value(value):
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, Tensor):
        return to_host(value)
    return np.asarray(to_numpy(value))


class _ReadStore:
    """The read-only ``store`` a ``load_own_variables`` receives: the datasets of one ``vars``
    group (none when the group is missing), each checked (file_safety) and read to a NumPy
    array when asked for."""

    def __init__(self, group, filename, list_keys):
        self._filename = filename
        self._keys = [] if group is None else list_keys(group, filename)
        self._group = group
        self._arrays = {}

    def _stored(self, key):
        if key not in self._arrays:
            self._arrays[key] = check_dataset(
                h5_get(self._group, key, self._filename), self._filename
            )
        return self._arrays[key]

    def stored(self):
        """The checked, not yet read datasets, in key order."""
        return [self._stored(k) for k in self._keys]

    def keys(self):
        return list(self._keys)

    def __iter__(self):
        return iter(self._keys)

    def __len__(self):
        return len(self._keys)

    def __contains__(self, key):
        return key in self._keys

    def __getitem__(self, key):
        if key not in self._keys:
            raise KeyError(key)
        return self._stored(key).read()

    def get(self, key, default=None):
        return self[key] if key in self._keys else default

    def items(self):
        return [(k, self[k]) for k in self._keys]

    def values(self):
        return [self[k] for k in self._keys]


def walk_assets(model, visit):
    """Call ``visit(path, layer)`` for layers with Keras's ``save_assets``/``load_assets``."""

    def check(path, obj):
        if hasattr(obj, "save_assets") or hasattr(obj, "load_assets"):
            visit(path, obj)

    _walk(model, "", check)


def _store_keys(group, filename):
    """The dataset names of a layer's own ``vars`` group (``0, 1, ...`` or names such as
    ``idf_weights`` for layers that save their own variables), plain words only."""
    keys = list(group.keys())
    bad = [k for k in keys if not (k.isascii() and k.replace("_", "").isalnum())]
    if bad:
        raise ValueError(f"{filename}: {group.name} holds {bad[:5]!r}; expected variable names")
    return sorted(keys)


def _numbered_keys(group, filename):
    """The dataset names ``0, 1, ...`` of a ``vars`` group, in numeric order."""
    keys = list(group.keys())
    bad = [k for k in keys if not (k.isascii() and k.isdigit())]
    if bad:
        raise ValueError(
            f"{filename}: {group.name} holds {bad[:5]!r}; expected variables named 0, 1, ..."
        )
    return sorted(keys, key=int)


def is_w3(h5file):
    return not has_list_attr(h5file.attrs, "layer_names") and any(
        h5file.id.links.exists(key) for key in (b"layers", b"vars")
    )
