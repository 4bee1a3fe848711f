"""Keras 3's dtype policies: which dtype a layer computes in and which its variables use.

``DTypePolicy("mixed_float16")`` computes in float16 with float32 variables;
``"mixed_bfloat16"`` likewise with bfloat16; a plain float name (``"float32"``) uses that dtype
for both. The global policy (``set_global_policy``) is the default of every layer created
afterwards. ``gpuk.mixed_precision`` is the public face (Keras's ``keras.mixed_precision``).

bfloat16 has no NumPy dtype (Keras relies on the ``ml_dtypes`` package for it) and no CuPy
array type, so a layer that would compute in bfloat16 raises an error naming the policy and
the device unless ``ml_dtypes`` is importable and the arrays live on the CPU.
"""

import numpy as np

from gpuk import _config

_GLOBAL = {"policy": None}


def _bfloat16_available():
    try:
        import ml_dtypes  # noqa: F401
    except ImportError:
        return False
    return True


class DTypePolicy:
    """A dtype policy: ``name``, ``compute_dtype`` and ``variable_dtype``.

    Args:
        name: ``"mixed_float16"``, ``"mixed_bfloat16"`` or a float dtype name such as
            ``"float32"``; None means ``floatx()``.

    Raises:
        TypeError: for a non-string name. ValueError: for a name that is no policy.
    """

    def __init__(self, name=None):
        if name is None:
            name = _config.floatx()
        if not isinstance(name, str):
            raise TypeError(
                "'name' must be a string, such as 'mixed_float16'. "
                f"Received: name={name} (of type {type(name)})"
            )
        self._name = name
        self._compute_dtype, self._variable_dtype = self._parse_name(name)

    @staticmethod
    def _parse_name(name):
        if name == "mixed_float16":
            return "float16", "float32"
        if name == "mixed_bfloat16":
            return "bfloat16", "float32"
        if name == "bfloat16":
            return "bfloat16", "bfloat16"
        try:
            dtype = np.dtype(name).name
        except TypeError:
            dtype = None
        if dtype is None or np.dtype(dtype).kind not in "fiub":
            raise ValueError(
                f"Cannot convert '{name}' to a mixed precision DTypePolicy. Valid policies "
                "include 'mixed_float16', 'mixed_bfloat16', and the name of any float dtype "
                "such as 'float32'."
            )
        return dtype, dtype

    @property
    def name(self):
        """The policy's name, e.g. ``"mixed_float16"``."""
        return self._name

    @property
    def compute_dtype(self):
        """The dtype layers compute in (inputs are cast to it, variables read as it)."""
        return self._compute_dtype

    @property
    def variable_dtype(self):
        """The dtype of the layers' variables."""
        return self._variable_dtype

    @property
    def quantization_mode(self):
        """None: gpuk has no quantized policies."""
        return None

    def check_supported(self, what="layer"):
        """Raise a clear error when the compute dtype has no array type here (bfloat16)."""
        if "bfloat16" in (self._compute_dtype, self._variable_dtype):
            from gpuk._array import device

            if device() == "gpu" or not _bfloat16_available():
                where = (
                    "the GPU (CuPy has no bfloat16 arrays)"
                    if device() == "gpu"
                    else (
                        "the CPU (NumPy has no bfloat16 type and the ml_dtypes package is not "
                        "installed)"
                    )
                )
                raise ValueError(
                    f"{what}: dtype policy {self._name!r} computes in bfloat16, which gpuk "
                    f"cannot run on {where}. Use 'mixed_float16' or 'float32'."
                )

    def convert_input(self, x, autocast, dtype):
        """Keras's hook; gpuk casts layer inputs in ``Layer.__call__``."""
        return x

    def get_config(self):
        return {"name": self._name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __eq__(self, other):
        return type(other) is type(self) and other._name == self._name

    def __hash__(self):
        return hash((type(self).__name__, self._name))

    def __repr__(self):
        return f'<DTypePolicy "{self._name}">'


FloatDTypePolicy = DTypePolicy


def get(identifier):
    """A ``DTypePolicy`` from a policy, a name, a NumPy dtype or a serialized config."""
    if identifier is None:
        return global_policy()
    if isinstance(identifier, DTypePolicy):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, np.dtype) or (
        isinstance(identifier, type) and issubclass(identifier, np.generic)
    ):
        return DTypePolicy(np.dtype(identifier).name)
    if isinstance(identifier, str):
        return DTypePolicy(identifier)
    name = getattr(identifier, "name", None)
    if isinstance(name, str):
        return DTypePolicy(name)
    raise ValueError(f"Cannot interpret `dtype` argument. Received: {identifier!r}")


def serialize(policy):
    """Keras 3's form ``{"module": "keras", "class_name": "DTypePolicy", "config": {...}}``."""
    return {
        "module": "keras",
        "class_name": "DTypePolicy",
        "config": policy.get_config(),
        "registered_name": None,
    }


def deserialize(config, custom_objects=None):
    """A ``DTypePolicy`` from :func:`serialize`'s output (or a plain ``{"name": ...}``)."""
    if isinstance(config, str):
        return DTypePolicy(config)
    inner = config.get("config", config)
    if isinstance(inner, str):
        return DTypePolicy(inner)
    class_name = config.get("class_name", "DTypePolicy")
    if class_name not in ("DTypePolicy", "FloatDTypePolicy", "Policy"):
        raise ValueError(
            f"dtype policy {class_name!r} is not supported by gpuk (quantized policies are "
            "not implemented); expected DTypePolicy"
        )
    return DTypePolicy(inner.get("name"))


def set_global_policy(policy):
    """Set the policy of layers created from now on: a ``DTypePolicy`` or its name
    (``"mixed_float16"``, ``"mixed_bfloat16"``, ``"float32"``, ...); None resets to
    ``floatx()``.

    Raises:
        ValueError: for a non-float policy (Keras's rule).
    """
    if policy is not None:
        policy = get(policy)
        if "float" not in policy.variable_dtype:
            raise ValueError(
                "set_global_policy() can only be used to set the global policy to floating-"
                f"point policies, such as 'float32' and 'mixed_float16', but got: {policy.name}"
            )
    _GLOBAL["policy"] = policy


def global_policy():
    """The global ``DTypePolicy`` (``DTypePolicy(floatx())`` unless one was set)."""
    policy = _GLOBAL["policy"]
    return policy if policy is not None else DTypePolicy(_config.floatx())


__all__ = [
    "DTypePolicy",
    "FloatDTypePolicy",
    "deserialize",
    "get",
    "global_policy",
    "serialize",
    "set_global_policy",
]
