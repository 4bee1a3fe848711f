"""Name registry shared by every serializable object, and Keras's (de)serialization rules.

Each object module (activations, initializers, losses, ...) keeps a dict of its built-in names
and resolves identifiers through :func:`deserialize_keras_object`. User classes are found
through ``custom_objects`` (explicit, scoped with :class:`custom_object_scope`, or registered
with :func:`register_keras_serializable`).
"""

import inspect
import threading
import warnings

_GLOBAL_CUSTOM_OBJECTS = {}
_scopes = threading.local()


def get_custom_objects():
    """The global dict of user objects (edit it to register objects by name)."""
    return _GLOBAL_CUSTOM_OBJECTS


class custom_object_scope:  # noqa: N801 - Keras's spelling
    """Context manager making user objects visible to deserialization by name.

    Example::

        with gpuk.utils.custom_object_scope({"WeightClip": WeightClip}):
            model = gpuk.models.load_model("model.h5")
    """

    def __init__(self, *dicts):
        self.objects = {}
        for d in dicts:
            self.objects.update(d or {})

    def __enter__(self):
        stack = getattr(_scopes, "stack", [])
        _scopes.stack = stack + [self.objects]
        return self

    def __exit__(self, *exc_info):
        _scopes.stack = _scopes.stack[:-1]
        return False


CustomObjectScope = custom_object_scope


def register_keras_serializable(package="Custom", name=None):
    """Decorator registering a class or function as ``package>name`` (and its bare name)."""

    def decorator(obj):
        registered = f"{package}>{name or obj.__name__}"
        if inspect.isclass(obj) and not hasattr(obj, "get_config"):
            raise ValueError(f"Cannot register {obj.__name__}: a class needs a get_config method")
        _GLOBAL_CUSTOM_OBJECTS[registered] = obj
        obj._registered_name = registered
        return obj

    return decorator


def get_registered_name(obj):
    """``package>name`` for registered objects, else the class or function name."""
    return getattr(obj, "_registered_name", None) or getattr(obj, "__name__", type(obj).__name__)


def get_registered_object(name, custom_objects=None, module_objects=None):
    """The object registered (or in scope) under ``name``: the active ``custom_object_scope``s
    first, then ``register_keras_serializable``'s registry, ``custom_objects``, and
    ``module_objects``, as Keras's function; None when none has it."""
    for scope in reversed(getattr(_scopes, "stack", [])):
        if name in scope:
            return scope[name]
    for objects in (_GLOBAL_CUSTOM_OBJECTS, custom_objects, module_objects):
        if objects and name in objects:
            return objects[name]
    return None


def _all_custom_objects(custom_objects):
    merged = dict(_GLOBAL_CUSTOM_OBJECTS)
    for scope in getattr(_scopes, "stack", []):
        merged.update(scope)
    merged.update(custom_objects or {})
    return merged


def lookup_custom_object(names, custom_objects=None):
    """Find the first of ``names`` among user objects, also by the bare name after ``>``."""
    objects = _all_custom_objects(custom_objects)
    for name in names:
        if not name:
            continue
        if name in objects:
            return objects[name]
        bare = name.split(">")[-1]
        if bare in objects:
            return objects[bare]
        for key, value in objects.items():
            if key.split(">")[-1] == bare:
                return value
    return None


def serialize_keras_object(obj):
    """Legacy-form config of ``obj``: a name string for functions, else class_name/config."""
    if obj is None:
        return None
    if isinstance(obj, str):
        return obj
    if hasattr(obj, "get_config"):
        name = getattr(obj, "_registered_name", None) or type(obj).__name__
        return {"class_name": name, "config": obj.get_config()}
    if callable(obj):
        return get_registered_name(obj)
    raise TypeError(
        f"Cannot serialize {obj!r}: it is neither a string, a function nor configurable"
    )


def instantiate(cls, config, what="object"):
    """Build ``cls`` from ``config``: ``from_config`` for classes, a call for functions.

    A plain function found for a config is called with the config's entries (tf.keras's rule,
    which Keras-era scripts rely on). A stray ``name`` key that ``__init__`` rejects is dropped
    with a warning.
    """
    config = dict(config or {})
    if not inspect.isclass(cls):
        return cls(**config)
    factory = cls.from_config if hasattr(cls, "from_config") else (lambda c: cls(**c))
    try:
        return factory(config)
    except TypeError as error:
        if "name" in config and "name" in str(error):
            config.pop("name")
            warnings.warn(
                f"{what} {cls.__name__}: dropped the config key 'name' that __init__ rejects",
                stacklevel=3,
            )
            return factory(config)
        raise


def deserialize_keras_object(
    identifier, module_objects, custom_objects=None, printable_module_name="object"
):
    """Resolve a string, a config dict (legacy or Keras 3 form), or pass a callable through.

    Args:
        identifier: ``"relu"``, ``{"class_name": ..., "config": ...}`` (optionally with
            ``module``/``registered_name``), a callable, or None.
        module_objects: the built-in names of the calling module, ``{name: class_or_fn}``.
        custom_objects: user objects by name, searched first.
        printable_module_name: used in error messages (``"initializer"`` ...).
    """
    if identifier is None or callable(identifier) and not isinstance(identifier, dict):
        return identifier
    if isinstance(identifier, str):
        obj = lookup_custom_object([identifier], custom_objects) or module_objects.get(identifier)
        if obj is None:
            raise ValueError(
                f"Unknown {printable_module_name}: {identifier!r}. Known: "
                f"{', '.join(sorted(module_objects))}. Pass user objects with custom_objects="
            )
        return obj() if inspect.isclass(obj) else obj
    if isinstance(identifier, dict):
        class_name = identifier.get("class_name")
        config = identifier.get("config", {})
        if class_name == "function" or identifier.get("registered_name") == "function":
            return deserialize_keras_object(
                config, module_objects, custom_objects, printable_module_name
            )
        names = [identifier.get("registered_name"), class_name]
        obj = lookup_custom_object(names, custom_objects)
        if obj is None:
            obj = module_objects.get(class_name)
        if obj is None:
            raise ValueError(
                f"Unknown {printable_module_name}: {class_name!r}. Known: "
                f"{', '.join(sorted(module_objects))}. Pass user objects with custom_objects="
            )
        return instantiate(obj, config, printable_module_name)
    raise TypeError(
        f"Could not interpret {printable_module_name} identifier: {identifier!r} "
        f"(expected a name, a config dict or a callable)"
    )


def get_object(identifier, deserialize, what):
    """The ``get`` of an object module: None stays None, names and config dicts go through
    ``deserialize``, a class is instantiated with its defaults, a callable is returned as is.

    Raises:
        TypeError: for identifiers of any other type, naming ``what`` was expected.
    """
    if identifier is None:
        return None
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if isinstance(identifier, type):
        return identifier()
    if callable(identifier):
        return identifier
    raise TypeError(
        f"Could not interpret {what} identifier: {identifier!r} "
        "(expected a name, a config dict or a callable)"
    )
