"""Activation functions by name and as functions, with Keras's names, arguments and formulas.

Every activation is a plain module-level function (``gpuk.activations.relu.__name__ ==
"relu"``), takes a Tensor, Variable, array or number and returns a gpuk Tensor built from
differentiable ``gpuk.ops``, so gradients flow through it.

``hard_sigmoid`` follows Keras 3: ``clip(x / 6 + 0.5, 0, 1)``. Keras 1/2 and tf.keras computed
``clip(0.2 * x + 0.5, 0, 1)``; that formula is :func:`hard_sigmoid_legacy`, which a loader
obtains with ``get("hard_sigmoid", keras_version="2.2.4")`` (any major version below 3) or
``get("hard_sigmoid_legacy")``. :func:`serialize` writes it as ``"hard_sigmoid"`` (the only name
Keras knows), so a writer that stamps ``keras_version`` 3 on a file must be aware that such a
file read back as Keras 3 uses the new formula.
"""

from gpuk import ops
from gpuk.autograd import as_tensor
from gpuk.utils.serialization import (
    deserialize_keras_object,
    lookup_custom_object,
    serialize_keras_object,
)

__all__ = [
    "celu",
    "deserialize",
    "elu",
    "exponential",
    "gelu",
    "get",
    "glu",
    "hard_shrink",
    "hard_sigmoid",
    "hard_sigmoid_legacy",
    "hard_silu",
    "hard_swish",
    "hard_tanh",
    "leaky_relu",
    "linear",
    "log_sigmoid",
    "log_softmax",
    "mish",
    "relu",
    "relu6",
    "selu",
    "serialize",
    "sigmoid",
    "silu",
    "soft_shrink",
    "softmax",
    "softplus",
    "softsign",
    "sparse_plus",
    "sparse_sigmoid",
    "sparsemax",
    "squareplus",
    "swish",
    "tanh",
    "tanh_shrink",
    "threshold",
]


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """Rectified linear unit, with Keras's optional leak, cap and threshold.

    ``max(x, 0)`` by default; with arguments: ``x`` for ``threshold <= x < max_value``,
    ``max_value`` above it, ``negative_slope * (x - threshold)`` below the threshold.

    Args:
        x: input tensor.
        negative_slope: slope for values below the threshold.
        max_value: saturation value (None: no cap).
        threshold: values below it are damped or set to zero.
    """
    return ops.relu(x, negative_slope=negative_slope, max_value=max_value, threshold=threshold)


def leaky_relu(x, negative_slope=0.2):
    """``x`` for positive values, ``negative_slope * x`` otherwise (Keras default 0.2)."""
    return ops.leaky_relu(x, negative_slope=negative_slope)


def relu6(x):
    """``min(max(x, 0), 6)``."""
    return ops.relu6(x)


def elu(x, alpha=1.0):
    """Exponential linear unit: ``x`` if ``x > 0`` else ``alpha * (exp(x) - 1)``."""
    return ops.elu(x, alpha=alpha)


def selu(x):
    """Scaled ELU with Keras's constants (alpha 1.67326324, scale 1.05070098)."""
    return ops.selu(x)


def gelu(x, approximate=False):
    """Gaussian error linear unit; ``approximate=True`` uses the tanh formula."""
    return ops.gelu(x, approximate=approximate)


def sigmoid(x):
    """``1 / (1 + exp(-x))``."""
    return ops.sigmoid(x)


def hard_sigmoid(x):
    """Keras 3's piecewise-linear sigmoid: ``clip(x / 6 + 0.5, 0, 1)``."""
    return ops.hard_sigmoid(x)


def hard_sigmoid_legacy(x):
    """Keras 1/2 and tf.keras's hard sigmoid: ``clip(0.2 * x + 0.5, 0, 1)``.

    Used for models written by Keras < 3 that name ``"hard_sigmoid"`` (the default recurrent
    activation of Keras 2.0-2.2 GRU/LSTM); see the module docstring.
    """
    return ops.hard_sigmoid(x, slope=0.2, offset=0.5)


def tanh(x):
    """Hyperbolic tangent."""
    return ops.tanh(x)


def softmax(x, axis=-1):
    """``exp(x) / sum(exp(x), axis)``, computed stably.

    Args:
        x: input tensor.
        axis: the axis (int or tuple) the normalization runs over.
    """
    return ops.softmax(x, axis=axis)


def log_softmax(x, axis=-1):
    """``x - logsumexp(x, axis)``, computed stably."""
    return ops.log_softmax(x, axis=axis)


def softplus(x):
    """``log(exp(x) + 1)``, computed stably."""
    return ops.softplus(x)


def softsign(x):
    """``x / (abs(x) + 1)``."""
    return ops.softsign(x)


def silu(x):
    """Sigmoid linear unit, also called swish: ``x * sigmoid(x)``."""
    return ops.silu(x)


# Keras 3 exports swish as silu itself (``swish.__name__ == "silu"``); "swish" stays a name.
swish = silu


def exponential(x):
    """``exp(x)``."""
    return ops.exponential(x)


def linear(x):
    """Identity activation; returns its input as a Tensor."""
    return ops.linear(x)


def mish(x):
    """``x * tanh(softplus(x))``."""
    return ops.mish(x)


# The remaining Keras 3 activations are composed from primitive differentiable ops.


def celu(x, alpha=1.0):
    """Continuously differentiable ELU: ``relu(x) + min(alpha * (exp(x / alpha) - 1), 0)``."""
    expm1 = ops.subtract(ops.exp(ops.divide(x, alpha)), 1.0)
    return ops.add(ops.relu(x), ops.minimum(ops.multiply(expm1, alpha), 0.0))


def glu(x, axis=-1):
    """Gated linear unit: split ``x`` in halves ``a, b`` along ``axis``, return ``a * sigmoid(b)``.

    Raises:
        ValueError: if the size of ``axis`` is odd.
    """
    x = as_tensor(x)
    shape = x.shape
    axis = axis % max(len(shape), 1)
    size = shape[axis]
    if size % 2:
        raise ValueError(
            f"glu: axis {axis} must have an even size to split in halves; received shape {shape}"
        )
    head = (slice(None),) * axis
    a = ops.getitem(x, head + (slice(0, size // 2),))
    b = ops.getitem(x, head + (slice(size // 2, size),))
    return ops.multiply(a, ops.sigmoid(b))


def hard_silu(x):
    """Hard SiLU (hard swish): ``x * hard_sigmoid(x)`` with Keras 3's hard sigmoid."""
    return ops.multiply(x, ops.hard_sigmoid(x))


hard_swish = hard_silu


def hard_tanh(x):
    """``clip(x, -1, 1)``."""
    return ops.clip(x, -1.0, 1.0)


def hard_shrink(x, threshold=0.5):
    """``x`` where ``|x| > threshold``, else 0."""
    return ops.where(ops.greater(ops.abs(x), threshold), x, 0.0)


def soft_shrink(x, threshold=0.5):
    """``x - threshold`` above it, ``x + threshold`` below ``-threshold``, else 0."""
    inner = ops.where(ops.less(x, -threshold), ops.add(x, threshold), 0.0)
    return ops.where(ops.greater(x, threshold), ops.subtract(x, threshold), inner)


def sparse_plus(x):
    """0 for ``x <= -1``, ``x`` for ``x >= 1``, ``(x + 1)**2 / 4`` in between."""
    middle = ops.multiply(ops.square(ops.add(x, 1.0)), 0.25)
    upper = ops.where(ops.greater_equal(x, 1.0), x, middle)
    return ops.where(ops.less_equal(x, -1.0), 0.0, upper)


def sparse_sigmoid(x):
    """0 for ``x <= -1``, 1 for ``x >= 1``, ``(x + 1) / 2`` in between."""
    return ops.clip(ops.multiply(ops.add(x, 1.0), 0.5), 0.0, 1.0)


def squareplus(x, b=4):
    """``(x + sqrt(x**2 + b)) / 2``."""
    return ops.multiply(ops.add(x, ops.sqrt(ops.add(ops.square(x), b))), 0.5)


def tanh_shrink(x):
    """``x - tanh(x)``."""
    return ops.subtract(x, ops.tanh(x))


def threshold(x, threshold, default_value):
    """``x`` where ``x > threshold``, else ``default_value``."""
    return ops.where(ops.greater(x, threshold), x, default_value)


def log_sigmoid(x):
    """``log(sigmoid(x)) = -softplus(-x)``, computed stably."""
    return ops.negative(ops.softplus(ops.negative(x)))


def sparsemax(x, axis=-1):
    """Sparsemax: the Euclidean projection of ``x`` onto the probability simplex along ``axis``
    (like softmax, but exact zeros for low scores)."""
    return ops.sparsemax(x, axis=axis)


_BUILTINS = {
    fn.__name__: fn
    for fn in (
        celu,
        elu,
        exponential,
        gelu,
        glu,
        hard_shrink,
        hard_sigmoid,
        hard_silu,
        hard_tanh,
        leaky_relu,
        linear,
        log_sigmoid,
        log_softmax,
        mish,
        relu,
        relu6,
        selu,
        sigmoid,
        silu,
        soft_shrink,
        softmax,
        softplus,
        softsign,
        sparse_plus,
        sparse_sigmoid,
        sparsemax,
        squareplus,
        tanh,
        tanh_shrink,
        threshold,
    )
}
_BUILTINS["swish"] = silu
_BUILTINS["hard_swish"] = hard_silu
# Internal name only: Keras has no such activation; see the module docstring.
_LOADER_ONLY = {"hard_sigmoid_legacy": hard_sigmoid_legacy}


def _major(keras_version):
    if keras_version is None:
        return None
    try:
        return int(str(keras_version).split(".")[0])
    except ValueError:
        return None


def serialize(activation):
    """The name Keras writes for ``activation`` (a string for functions).

    Built-in and plain user functions serialize to their ``__name__`` (registered ones to
    ``package>name``); callable objects with ``get_config`` to a ``class_name``/``config`` dict.
    :func:`hard_sigmoid_legacy` serializes to ``"hard_sigmoid"``.
    """
    if activation is hard_sigmoid_legacy:
        return "hard_sigmoid"
    return serialize_keras_object(activation)


def deserialize(config, custom_objects=None, keras_version=None):
    """The activation function named by ``config`` (a name or a config dict).

    Args:
        config: ``"relu"``, a legacy ``{"class_name", "config"}`` dict, a Keras 3
            ``{"module", "class_name", "config", "registered_name"}`` dict (custom functions
            appear as ``class_name: "function"`` with the name as ``config``).
        custom_objects: user functions or classes by name.
        keras_version: the version string of the file being read; below 3 maps
            ``"hard_sigmoid"`` to :func:`hard_sigmoid_legacy`.

    Raises:
        ValueError: for unknown names (the message lists the known ones).
    """
    if isinstance(config, dict) and "class_name" in config:
        class_name = config.get("class_name")
        if class_name == "function" or config.get("registered_name") == "function":
            return deserialize(config.get("config"), custom_objects, keras_version)
        # A built-in function named in dict form: return it rather than call it with config.
        user = lookup_custom_object([config.get("registered_name"), class_name], custom_objects)
        if user is None and (class_name in _BUILTINS or class_name in _LOADER_ONLY):
            return deserialize(class_name, custom_objects, keras_version)
    if isinstance(config, str):
        if config == "hard_sigmoid" and (_major(keras_version) or 3) < 3:
            return hard_sigmoid_legacy
        if config in _LOADER_ONLY:
            return _LOADER_ONLY[config]
    return deserialize_keras_object(config, _BUILTINS, custom_objects, "activation")


def get(identifier, keras_version=None):
    """Resolve an activation identifier to a callable.

    Args:
        identifier: None (gives :func:`linear`, as Keras), a name such as ``"relu"``, a config
            dict (legacy or Keras 3 form), or a callable (returned unchanged).
        keras_version: version of the Keras that wrote a file; below 3, ``"hard_sigmoid"``
            resolves to the Keras 2 formula :func:`hard_sigmoid_legacy`.

    Raises:
        ValueError: for unknown names, listing the known ones.
        TypeError: for identifiers of another type.
    """
    if identifier is None:
        return linear
    if callable(identifier) and not isinstance(identifier, (str, dict)):
        return identifier
    if isinstance(identifier, (str, dict)):
        obj = deserialize(identifier, keras_version=keras_version)
        if callable(obj):
            return obj
    raise TypeError(
        f"Could not interpret activation function identifier: {identifier!r} "
        "(expected a name, a config dict or a callable)"
    )
