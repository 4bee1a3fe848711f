"""Reading model files someone else wrote (docs/file-safety.md).

* HDF5: objects are reached one link at a time; hard links are followed, soft links only when
  their target lies inside the expected group, external links never. A dataset is read only if
  it is a plain contiguous, chunked or compact in-file dataset of numbers (no external storage,
  no virtual dataset, no references) whose shape was checked from its metadata first.
* Zip (``.keras``): each member is read through a size cap derived from what it should hold,
  and member names are only looked up, never used as paths.
* Configs: JSON nesting depth and the structure that the model builders rely on are checked
  before anything is built.
* Errors: :func:`reading` turns any failure into a ``ValueError`` naming the file, the member or
  object path and what was expected, chained to the original exception.
"""

import contextlib
import json
import os
import posixpath
import sys

import numpy as np

from gpuk import _config

# Exceptions that describe the file system (missing file, permissions): kept as they are.
_IO_ERRORS = (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)
_MAX_SOFT_LINK_HOPS = 8
_MAX_LIST_ATTR_ITEMS = 1_000_000
# deflate, shuffle, fletcher32, szip, nbit, scaleoffset (HDF5) and lzf (h5py): no plugins.
_BUILT_IN_FILTERS = (1, 2, 3, 4, 5, 6, 32000)


_GPUK_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def user_stacklevel():
    """The ``stacklevel`` that attributes a warning to the first caller outside gpuk (call it
    in the function that warns)."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(_GPUK_DIR):
        frame, level = frame.f_back, level + 1
    return level


def limit(name):
    """The current value of one load limit (``gpuk.saving.load_limits()``)."""
    return _config.load_limits()[name]


def _is_clear(error, filename):
    return type(error) is ValueError and str(filename) in str(error)


@contextlib.contextmanager
def reading(filename, where, expected):
    """Turn any exception raised inside into a ValueError naming the file and ``where``.

    A ValueError that already names the file passes unchanged; file-system errors
    (missing file, permissions) stay OSErrors.
    """
    try:
        yield
    except _IO_ERRORS:
        raise
    except RecursionError as error:
        raise ValueError(f"{filename}: {where}: nested too deeply to be {expected}") from error
    except Exception as error:  # noqa: BLE001 - every failure becomes one clear error type
        if _is_clear(error, filename):
            raise
        if type(error) is ValueError:
            raise ValueError(f"{filename}: {where}: {error}") from error
        raise ValueError(
            f"{filename}: {where}: expected {expected}; {type(error).__name__}: {error}"
        ) from error


# ----------------------------------------------------------------------------- JSON configs


def parse_json(text, filename, where="the model config"):
    """``json.loads`` with a depth check and clear errors (bytes must be UTF-8)."""
    with reading(filename, where, "UTF-8 JSON text"):
        if isinstance(text, (bytes, bytearray)):
            text = bytes(text).decode("utf8")
        if not isinstance(text, str):
            raise ValueError(
                f"{filename}: {where}: expected JSON text, received {type(text).__name__}"
            )
        if len(text) > limit("max_config_bytes"):
            raise ValueError(
                f"{filename}: {where}: {len(text)} characters, over the load limit "
                f"max_config_bytes={limit('max_config_bytes')}"
            )
        try:
            value = json.loads(text)
        except RecursionError as error:
            raise ValueError(
                f"{filename}: {where}: JSON nested too deeply (load limit max_config_depth="
                f"{limit('max_config_depth')})"
            ) from error
        except ValueError as error:
            raise ValueError(f"{filename}: {where} is not valid JSON ({error})") from error
        check_depth(value, filename, where)
        return value


def check_depth(value, filename, where):
    """Refuse a parsed config nested deeper than ``max_config_depth`` (iterative walk)."""
    max_depth = limit("max_config_depth")
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, (list, tuple)):
            children = item
        else:
            continue
        if depth > max_depth:
            raise ValueError(
                f"{filename}: {where}: nested more than {max_depth} levels deep "
                "(load limit max_config_depth)"
            )
        stack.extend((child, depth + 1) for child in children)


def _fail(filename, where, message):
    raise ValueError(f"{filename}: {where}: {message}")


def _check_ref_structure(value, filename, where):
    """``input_layers``/``output_layers``: ``[name, node, tensor]`` refs in lists or dicts."""
    if isinstance(value, (list, tuple)) and value and isinstance(value[0], str):
        if len(value) < 3 or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value[1:3]
        ):
            _fail(
                filename, where, f"expected [layer_name, node_index, tensor_index], got {value!r}"
            )
        return
    if isinstance(value, dict):
        for key, item in value.items():
            _check_ref_structure(item, filename, f"{where}.{key}")
        return
    if isinstance(value, (list, tuple)) and value:
        for i, item in enumerate(value):
            _check_ref_structure(item, filename, f"{where}[{i}]")
        return
    _fail(filename, where, f"expected layer references, got {str(value)[:100]!r}")


def check_model_config(class_name, config, filename, where="config"):
    """Check the structure the model builders rely on; ValueError naming the config path."""
    if not isinstance(class_name, str):
        _fail(filename, f"{where}.class_name", f"expected a string, got {class_name!r}")
    if class_name == "Sequential":
        layers = config if isinstance(config, list) else None
        if isinstance(config, dict):
            layers = config.get("layers", [])
        if not isinstance(layers, list):
            _fail(filename, f"{where}.layers", f"expected a list, got {type(layers).__name__}")
    elif class_name in ("Functional", "Model"):
        if not isinstance(config, dict):
            _fail(filename, where, f"expected a dict, got {type(config).__name__}")
        for key in ("layers", "input_layers", "output_layers"):
            if key not in config:
                _fail(filename, where, f"the functional model config has no {key!r} key")
        layers = config["layers"]
        if not isinstance(layers, list):
            _fail(filename, f"{where}.layers", f"expected a list, got {type(layers).__name__}")
        for key in ("input_layers", "output_layers"):
            _check_ref_structure(config[key], filename, f"{where}.{key}")
    else:
        return
    for i, entry in enumerate(layers):
        here = f"{where}.layers[{i}]"
        if not isinstance(entry, dict):
            _fail(filename, here, f"expected a layer dict, got {str(entry)[:100]!r}")
        if not isinstance(entry.get("class_name"), str):
            _fail(
                filename,
                f"{here}.class_name",
                f"expected a string, got {entry.get('class_name')!r}",
            )
        inner = entry.get("config", {})
        if not isinstance(inner, dict):
            _fail(filename, f"{here}.config", f"expected a dict, got {type(inner).__name__}")
        for name in (entry.get("name"), inner.get("name")):
            if name is not None and not isinstance(name, str):
                _fail(filename, f"{here}.name", f"expected a string, got {name!r}")
        _check_shapes(inner, filename, f"{here}.config")
        nodes = entry.get("inbound_nodes", [])
        if not isinstance(nodes, list):
            _fail(filename, f"{here}.inbound_nodes", f"expected a list, got {nodes!r}")
        if class_name != "Sequential":
            for j, node in enumerate(nodes):
                _check_node(node, filename, f"{here}.inbound_nodes[{j}]")


def _check_shapes(config, filename, where):
    """Declared input shapes: lists of None or non-negative ints, batch sizes of at least 1."""
    for key in ("batch_input_shape", "batch_shape", "input_shape", "shape"):
        shape = config.get(key)
        if shape is None:
            continue
        if not isinstance(shape, (list, tuple)):
            _fail(filename, f"{where}.{key}", f"expected a list of sizes, got {shape!r}")
        for i, dim in enumerate(shape):
            ok = dim is None or (isinstance(dim, int) and not isinstance(dim, bool) and dim >= 0)
            if ok and i == 0 and key.startswith("batch") and dim == 0:
                ok = False
            if not ok:
                _fail(filename, f"{where}.{key}", f"expected sizes >= 0 or null, got {shape!r}")


def _check_node(node, filename, where):
    if isinstance(node, dict):
        if not isinstance(node.get("args", []), list) or not isinstance(
            node.get("kwargs", {}), dict
        ):
            _fail(filename, where, "expected {'args': [...], 'kwargs': {...}}")
        _check_tensor_refs(node, filename, where)
        return
    if not isinstance(node, list):
        _fail(filename, where, f"expected a list of layer references, got {node!r}")
    for k, ref in enumerate(node):
        if not (
            isinstance(ref, list)
            and len(ref) >= 3
            and isinstance(ref[0], str)
            and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in ref[1:3])
        ):
            _fail(filename, f"{where}[{k}]", f"expected [layer_name, node, tensor], got {ref!r}")


def _check_tensor_refs(value, filename, where):
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict) and item.get("class_name") == "__keras_tensor__":
            history = (item.get("config") or {}).get("keras_history")
            if not (
                isinstance(history, list)
                and len(history) >= 3
                and isinstance(history[0], str)
                and all(
                    isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in history[1:3]
                )
            ):
                _fail(filename, where, f"malformed keras_history {history!r}")
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


# ----------------------------------------------------------------------------- zip members


def read_member(archive, name, cap, filename, what):
    """The bytes of zip member ``name``, refused when it holds more than ``cap`` bytes.

    The declared size is checked first, then the member is decompressed in a stream that
    stops one byte past ``cap`` (zipfile also stops at the declared size and checks the CRC).
    """
    info = archive.getinfo(name)
    if info.file_size > cap:
        raise ValueError(
            f"{filename}: member {name!r} declares {info.file_size} bytes, more than {what} can "
            f"need ({cap} bytes; see gpuk.saving.set_load_limits)"
        )
    with reading(filename, f"member {name!r}", what):
        with archive.open(info) as stream:
            data = stream.read(cap + 1)
    if len(data) > cap:
        raise ValueError(
            f"{filename}: member {name!r} inflates past {cap} bytes, more than {what} can need"
        )
    return data


def weights_member_cap(n_elements, n_variables, n_objects):
    """Bytes a ``model.weights.h5`` may take for a model of this size.

    Every value stored as float64, room for three optimizer slots per weight, and generous
    HDF5 overhead per dataset and group.
    """
    return 8 * 4 * n_elements + 64 * 1024 * (4 * n_variables + n_objects) + 16 * 2**20


# ----------------------------------------------------------------------------- HDF5


def check_global_heaps(data, filename):
    """Refuse HDF5 bytes with a global heap collection HDF5 would parse forever.

    libhdf5 loops without end on a heap object of index 0 and size 0 (a zeroed header in a
    damaged file) when it reads a variable-length string. ``data`` is ``bytes`` or an
    ``mmap``; collections are found by their signature, version 1 and a plausible size.
    """
    start = 0
    end_of_file = len(data)
    while True:
        at = data.find(b"GCOL\x01\x00\x00\x00", start)
        if at < 0 or at + 16 > end_of_file:
            return
        start = at + 4
        size = int.from_bytes(data[at + 8 : at + 16], "little")
        if not 32 <= size <= end_of_file - at:
            continue
        # The walk libhdf5 does (H5HG__cache_heap_deserialize): index 0 is free space whose
        # length counts from its own header; other objects are a header and aligned data.
        p, end = at + 16, at + size
        while p + 16 <= end:
            index = int.from_bytes(data[p : p + 2], "little")
            length = int.from_bytes(data[p + 8 : p + 16], "little")
            if index == 0 and length == 0:
                raise ValueError(
                    f"{filename}: the HDF5 global heap at byte {at} is damaged (an empty "
                    f"object header at byte {p}); refused"
                )
            p += length if index == 0 else 16 + (length + 7) // 8 * 8


def _h5py():
    import h5py

    return h5py


def _link_names(path):
    parts = [p for p in path.split("/") if p not in ("",)]
    for part in parts:
        if part in (".", ".."):
            raise ValueError(f"path component {part!r} is not allowed")
    return parts


def h5_get(group, path, filename, root=None, _hops=0):
    """The object at ``path`` below ``group``, or None when a link is missing.

    Args:
        group: an open h5py Group.
        path: a relative path (``"dense/kernel:0"``); absolute paths are refused.
        filename: for the errors.
        root: the group soft links must stay inside (default: ``group`` itself).

    Raises:
        ValueError: for external links, soft links leaving ``root``, user-defined links,
            absolute paths and ``.``/``..`` components.
    """
    h5py = _h5py()
    h5l = h5py.h5l
    root = group.name if root is None else root
    if not isinstance(path, str) or path.startswith("/"):
        raise ValueError(
            f"{filename}: {group.name}: object path {path!r} must be a relative name inside "
            "the group"
        )
    try:
        parts = _link_names(path)
    except ValueError as error:
        raise ValueError(f"{filename}: {group.name}/{path}: {error}") from None
    current = group
    for i, part in enumerate(parts):
        encoded = part.encode("utf8")
        here = posixpath.join(current.name, part)
        if not isinstance(current, h5py.Group):
            raise ValueError(f"{filename}: {current.name} is a dataset, expected a group")
        with reading(filename, here, "a readable HDF5 link"):
            if not current.id.links.exists(encoded):
                return None
            kind = current.id.links.get_info(encoded).type
            if kind == h5l.TYPE_HARD:
                current = current[part]
                continue
        if kind == h5l.TYPE_EXTERNAL:
            target_file, target = (
                v.decode("utf8", "replace") if isinstance(v, bytes) else v
                for v in current.id.links.get_val(encoded)
            )
            raise ValueError(
                f"{filename}: {here} is an external link to {target_file!r}:{target!r}; "
                "links to other files are refused"
            )
        if kind != h5l.TYPE_SOFT:
            raise ValueError(f"{filename}: {here} is a user-defined link; refused")
        target = current.id.links.get_val(encoded)
        target = target.decode("utf8") if isinstance(target, bytes) else str(target)
        absolute = posixpath.normpath(posixpath.join(current.name, target))
        inside = root == "/" or absolute == root or absolute.startswith(root.rstrip("/") + "/")
        if not inside or _hops >= _MAX_SOFT_LINK_HOPS:
            raise ValueError(
                f"{filename}: {here} is a soft link to {target!r}, outside the expected group "
                f"{root!r}; refused"
            )
        rest = "/".join(parts[i + 1 :])
        resolved = h5_get(current.file["/"], absolute.lstrip("/"), filename, "/", _hops + 1)
        if resolved is None or not rest:
            return resolved
        return h5_get(resolved, rest, filename, root, _hops + 1)
    return current


def h5_group(group, path, filename, root=None):
    """Like :func:`h5_get`, but the object must be a group (None when missing)."""
    obj = h5_get(group, path, filename, root)
    if obj is not None and not isinstance(obj, _h5py().Group):
        raise ValueError(f"{filename}: {obj.name} is a dataset, expected a group")
    return obj


class StoredArray:
    """A checked, not yet read HDF5 dataset: ``shape``/``size``/``ndim`` from metadata.

    ``read()`` returns the NumPy array (read once, reshaped if :meth:`reshape` was asked).
    """

    def __init__(self, dataset, filename, shape=None):
        self.dataset = dataset
        self.filename = filename
        self.stored_shape = tuple(dataset.shape)
        self.shape = self.stored_shape if shape is None else tuple(shape)
        self.dtype = dataset.dtype

    @property
    def size(self):
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def ndim(self):
        return len(self.shape)

    def reshape(self, shape):
        return StoredArray(self.dataset, self.filename, shape)

    def read(self):
        with reading(self.filename, self.dataset.name, "a numeric array"):
            value = np.asarray(self.dataset[()])
            if value.shape != self.stored_shape:
                raise ValueError(
                    f"{self.filename}: {self.dataset.name}: read shape {value.shape}, the "
                    f"metadata says {self.stored_shape}"
                )
        return value.reshape(self.shape)


def check_dataset(obj, filename):
    """Refuse anything but a plain in-file numeric dataset; returns a :class:`StoredArray`."""
    if obj is None:
        raise ValueError(f"{filename}: expected a dataset, found nothing")
    where = obj.name
    with reading(filename, where, "a plain numeric dataset"):
        return _check_dataset(obj, filename, where)


def _check_dataset(obj, filename, where):
    h5py = _h5py()
    if not isinstance(obj, h5py.Dataset):
        raise ValueError(f"{filename}: {where} is a {type(obj).__name__}, expected a dataset")
    if obj.is_virtual:
        raise ValueError(
            f"{filename}: {where} is a virtual dataset (its data lives in other files); refused"
        )
    plist = obj.id.get_create_plist()
    if plist.get_external_count() > 0:
        name = plist.get_external(0)[0]
        name = name.decode("utf8", "replace") if isinstance(name, bytes) else name
        raise ValueError(
            f"{filename}: {where} stores its data in the external file {name!r}; refused"
        )
    h5d = h5py.h5d
    layout = plist.get_layout()
    if layout not in (h5d.CONTIGUOUS, h5d.CHUNKED, h5d.COMPACT):
        raise ValueError(f"{filename}: {where} has an unsupported storage layout ({layout})")
    for i in range(plist.get_nfilters()):
        code = plist.get_filter(i)[0]
        if code not in _BUILT_IN_FILTERS:
            raise ValueError(
                f"{filename}: {where} uses HDF5 filter {code}, which is not built in (reading it "
                "would load a plugin library); refused"
            )
    dtype = obj.dtype
    if dtype.kind not in "biuf" or dtype.fields is not None or dtype.subdtype is not None:
        raise ValueError(
            f"{filename}: {where} holds {dtype} values (references, strings or records); "
            "expected numbers"
        )
    if obj.shape is None:
        raise ValueError(f"{filename}: {where} has no dataspace, expected an array")
    nbytes = int(np.prod(obj.shape, dtype=np.int64)) * dtype.itemsize
    if layout == h5d.CHUNKED:
        chunk = plist.get_chunk()
        chunk_bytes = int(np.prod(chunk, dtype=np.int64)) * dtype.itemsize
        if chunk_bytes > max(4 * nbytes, 2**20):
            raise ValueError(
                f"{filename}: {where}: chunks of {chunk_bytes} bytes for {nbytes} bytes of data"
            )
    return StoredArray(obj, filename)


def credible_elements(stored):
    """Elements a dataset can really hold: its storage size bounds what it declares."""
    declared = stored.size
    try:
        storage = stored.dataset.id.get_storage_size()
        filters = stored.dataset.id.get_create_plist().get_nfilters()
    except Exception:  # noqa: BLE001 - no storage information: trust nothing
        return 0
    ratio = limit("max_compression_ratio") if filters else 1
    itemsize = max(stored.dtype.itemsize, 1)
    return min(declared, storage * ratio // itemsize)


def read_attr(attrs, name, filename, where="attribute"):
    """An attribute's value after checking its size and type from metadata (None if absent).

    Args:
        attrs: an h5py ``AttributeManager`` (``obj.attrs``).
    """
    h5py = _h5py()
    try:
        owner = h5py.h5i.get_name(attrs._id).decode("utf8", "replace")
    except Exception:  # noqa: BLE001 - only for the message
        owner = "?"
    where = f"{owner} {where} {name!r}"
    with reading(filename, where, "a string or list attribute"):
        if name not in attrs:
            return None
        attr_id = attrs.get_id(name)
        shape = attr_id.shape
        dtype = attr_id.dtype
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if count > _MAX_LIST_ATTR_ITEMS:
            raise ValueError(f"{filename}: {where}: {count} items")
        try:
            storage = attr_id.get_storage_size()
        except RuntimeError:  # HDF5 reports an empty attribute's 0 bytes as an error
            storage = 0
        if storage > limit("max_config_bytes"):
            raise ValueError(
                f"{filename}: {where}: {storage} bytes, over the load limit max_config_bytes"
            )
        if h5py.check_dtype(ref=dtype) is not None or dtype.fields is not None:
            raise ValueError(f"{filename}: {where}: holds references or records")
        return attrs[name]
