"""Core layers: Dense, Activation, Dropout, Flatten, Reshape, Permute, RepeatVector, Lambda,
Masking, Embedding."""

import base64
import inspect
import marshal
import types

import numpy as np

from gpuk import activations, constraints, initializers, ops, regularizers
from gpuk.autograd import Tensor, as_array
from gpuk.layers import raw_inference as raw
from gpuk.layers.base import InputSpec, Layer, normalize_shape
from gpuk.ops._util import xp_of
from gpuk.ops.linalg import affine, affine_activation, affine_value, matmul_value

_LINEAR = getattr(activations, "linear", None)


def _check_built_dim(layer, input_shape, axis=-1):
    size = input_shape[axis]
    if size is None:
        raise ValueError(
            f"Layer {layer.name!r} ({type(layer).__name__}) needs the last dimension of its "
            f"input to be known, received input shape {tuple(input_shape)}."
        )
    return size


def _affine_applies(inputs, kernel, bias):
    """The fused Dense op covers float inputs of at least 2 dims and the kernel's dtype."""
    data = inputs.data if isinstance(inputs, Tensor) else None
    return (
        data is not None
        and data.ndim >= 2
        and data.dtype == kernel.dtype
        and bias.dtype == kernel.dtype
        and kernel.ndim == 2
    )


class Dense(Layer):
    """Densely connected layer: ``activation(inputs @ kernel + bias)`` over the last axis.

    Works on inputs of any rank >= 2 (the kernel is applied to the last axis).

    Args:
        units: output size.
        activation: name or function (``None`` means linear).
        use_bias: whether to add a bias.
        kernel_initializer, bias_initializer: ``glorot_uniform`` and ``zeros`` by default.
        kernel_regularizer, bias_regularizer, activity_regularizer: optional regularizers.
        kernel_constraint, bias_constraint: optional constraints applied after updates.

    Weights: ``kernel`` of shape ``(input_dim, units)`` and ``bias`` of shape ``(units,)``.
    """

    supports_masking = True

    def __init__(
        self,
        units,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        lora_rank=None,
        **kwargs,
    ):
        kwargs.pop("quantization_config", None)
        kwargs.pop("lora_alpha", None)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError(
                f"Dense {self.name!r}: units must be a positive integer, received units={units!r}"
            )
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=2)

    def build(self, input_shape):
        input_dim = _check_built_dim(self, input_shape)
        self.kernel = self.add_weight(
            name="kernel",
            shape=(input_dim, self.units),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(self.units,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        self.input_spec = InputSpec(min_ndim=2, axes={-1: input_dim})
        self.built = True

    def call(self, inputs):
        if self.use_bias and _affine_applies(inputs, self.kernel, self.bias):
            activation = self.activation
            fused = (
                "relu"
                if activation is activations.relu
                else "softmax"
                if activation is activations.softmax
                else None
            )
            if fused is not None:  # one op instead of matmul + add + activation
                return affine_activation(inputs, self.kernel, self.bias, fused)
            x = affine(inputs, self.kernel, self.bias)  # one op instead of matmul + add
        else:
            x = ops.matmul(inputs, self.kernel)
            if self.use_bias:
                x = ops.add(x, self.bias)
        if self.activation is not None and self.activation is not _LINEAR:
            x = self.activation(x)
        return x

    def _inference_fn(self):
        if type(self).call is Dense.call and raw.raw_call_ready(self):
            return self._infer
        return None

    def _infer(self, x):
        """The inference call on an array (``_inference_fn``): the fused product, then the
        activation in place in the product's memory."""
        if x.dtype != self.dtype:
            x = raw.raw_input(self, x)
        kernel = self.kernel.data
        if x.ndim < 2 or x.dtype != kernel.dtype or kernel.ndim != 2:
            return raw.call_on_array(self, x)  # whatever call does (promotion, errors)
        if self.use_bias:
            bias = self.bias.data
            if bias.dtype != kernel.dtype:
                return raw.call_on_array(self, x)
            y = affine_value(x, kernel, bias)
        elif x.shape[-1] == kernel.shape[0]:
            y = matmul_value(x, kernel)
        else:
            return raw.call_on_array(self, x)  # matmul's shape error
        return raw.apply_activation(self.activation, y, owned=True)

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape)[:-1], self.units)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint),
            }
        )
        return config


class Activation(Layer):
    """Apply an activation function: ``Activation("relu")``."""

    supports_masking = True

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, inputs):
        return self.activation(inputs)

    def _inference_fn(self):
        if type(self).call is Activation.call and raw.raw_call_ready(self):
            return self._infer
        return None

    def _infer(self, x):
        x = raw.raw_input(self, x)
        return raw.apply_activation(self.activation, x, owned=False)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["activation"] = activations.serialize(self.activation)
        return config


class Dropout(Layer):
    """Zero a fraction ``rate`` of the inputs during training, scaling the rest by 1/(1-rate).

    Args:
        rate: fraction to drop, in [0, 1).
        noise_shape: shape of the keep/drop pattern (``None`` entries take the input's size),
            e.g. ``(batch, 1, features)`` to drop the same features at every time step.
        seed: accepted; draws come from gpuk's seeded generator.
    """

    supports_masking = True

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate <= 1:
            raise ValueError(
                f"Dropout {self.name!r}: rate must be a float in [0, 1], received rate={rate!r}"
            )
        self.rate = rate
        self.noise_shape = noise_shape
        self.seed = seed

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        noise_shape = None
        if self.noise_shape is not None:
            noise_shape = tuple(
                inputs.shape[i] if s is None else s for i, s in enumerate(self.noise_shape)
            )
        return ops.dropout(inputs, self.rate, noise_shape=noise_shape, seed=self.seed)

    def _inference_fn(self):
        # Inference (the only way functional models run raw functions) passes the input on.
        if type(self).call is Dropout.call and raw.raw_call_ready(self):
            return self._infer
        return None

    def _infer(self, x):
        return raw.raw_input(self, x)

    def _output_dtype(self, input_dtypes):
        return input_dtypes[0]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "noise_shape": self.noise_shape, "seed": self.seed})
        return config


class _Reshaping(Layer):
    """Layers that only move data keep the input dtype."""

    def _output_dtype(self, input_dtypes):
        return input_dtypes[0]

    def _convert_input(self, value):
        if isinstance(value, Tensor):
            return value
        return (
            super()._convert_input(value)
            if not hasattr(value, "dtype")
            else Tensor(as_array(value))
        )


class Flatten(_Reshaping):
    """Flatten all axes but the batch axis: ``(batch, a, b) -> (batch, a*b)``."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format or "channels_last"

    def call(self, inputs):
        x = inputs
        if self.data_format == "channels_first" and x.ndim > 2:
            x = ops.transpose(x, (0, *range(2, x.ndim), 1))
        return ops.reshape(x, (x.shape[0], int(np.prod(x.shape[1:])) if x.ndim > 1 else 1))

    def compute_output_shape(self, input_shape):
        rest = tuple(input_shape)[1:]
        size = None if any(s is None for s in rest) else int(np.prod(rest)) if rest else 1
        return (input_shape[0], size)

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


class Reshape(_Reshaping):
    """Reshape to ``target_shape`` (without the batch axis; one entry may be -1)."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(int(s) for s in target_shape)
        if sum(1 for s in self.target_shape if s == -1) > 1:
            raise ValueError(
                f"Reshape {self.name!r}: at most one -1 in target_shape, received "
                f"{self.target_shape}"
            )

    def _resolve(self, input_shape):
        rest = tuple(input_shape)[1:]
        if any(s is None for s in rest):
            return tuple(None if s == -1 else s for s in self.target_shape)
        total = int(np.prod(rest))
        known = int(np.prod([s for s in self.target_shape if s != -1]))
        if -1 in self.target_shape:
            if known == 0 or total % known:
                self._fail(input_shape)
            return tuple(total // known if s == -1 else s for s in self.target_shape)
        if known != total:
            self._fail(input_shape)
        return self.target_shape

    def _fail(self, input_shape):
        raise ValueError(
            f"Reshape {self.name!r}: the total size of the input shape {tuple(input_shape)} "
            f"(without the batch axis) does not match target_shape {self.target_shape}."
        )

    def call(self, inputs):
        return ops.reshape(inputs, (inputs.shape[0], *self._resolve(inputs.shape)))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self._resolve(input_shape))

    def get_config(self):
        config = super().get_config()
        config["target_shape"] = list(self.target_shape)
        return config


class Permute(_Reshaping):
    """Permute the non-batch axes; ``dims`` counts from 1, e.g. ``Permute((2, 1))``."""

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(int(d) for d in dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(
                f"Permute {self.name!r}: dims must be a permutation of 1..{len(self.dims)}, "
                f"received dims={self.dims}"
            )
        self.input_spec = InputSpec(ndim=len(self.dims) + 1)

    def call(self, inputs):
        return ops.transpose(inputs, (0, *self.dims))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *(input_shape[d] for d in self.dims))

    def get_config(self):
        config = super().get_config()
        config["dims"] = list(self.dims)
        return config


class RepeatVector(_Reshaping):
    """Repeat a ``(batch, features)`` input ``n`` times: ``(batch, n, features)``."""

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        self.n = int(n)
        self.input_spec = InputSpec(ndim=2)

    def call(self, inputs):
        x = ops.reshape(inputs, (inputs.shape[0], 1, inputs.shape[1]))
        data = as_array(x)
        ones = xp_of(data).ones((1, self.n, 1), dtype=data.dtype)
        return ops.multiply(x, Tensor(ones))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self):
        config = super().get_config()
        config["n"] = self.n
        return config


class Masking(Layer):
    """Mask time steps whose features all equal ``mask_value`` (and zero them).

    The mask, a boolean ``(batch, time)`` Tensor, reaches the next layers as ``mask``.
    """

    supports_masking = True

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = mask_value

    def _keep(self, inputs):
        data = as_array(inputs)
        return (data != self.mask_value).any(axis=-1)

    def compute_mask(self, inputs, mask=None):
        return Tensor(self._keep(inputs))

    def call(self, inputs):
        keep = self._keep(inputs)
        data = as_array(inputs)
        return ops.multiply(inputs, Tensor(keep[..., None].astype(data.dtype)))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["mask_value"] = self.mask_value
        return config


class Embedding(Layer):
    """Map integer indices to dense vectors of size ``output_dim``.

    Args:
        input_dim: vocabulary size (largest index + 1).
        output_dim: vector size.
        embeddings_initializer: ``uniform`` (in [-0.05, 0.05]) by default.
        embeddings_regularizer, embeddings_constraint: optional.
        mask_zero: treat index 0 as padding: the output carries a ``(batch, time)`` mask.
        input_length: accepted (Keras 2 argument).

    Weight: ``embeddings`` of shape ``(input_dim, output_dim)``.
    """

    def __init__(
        self,
        input_dim,
        output_dim,
        embeddings_initializer="uniform",
        embeddings_regularizer=None,
        embeddings_constraint=None,
        mask_zero=False,
        weights=None,
        lora_rank=None,
        **kwargs,
    ):
        input_length = kwargs.pop("input_length", None)
        kwargs.pop("quantization_config", None)
        super().__init__(**kwargs)
        self.input_dim = int(input_dim)
        self.output_dim = int(output_dim)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = mask_zero
        self.supports_masking = mask_zero
        self.input_length = input_length
        self._initial_weights = weights

    def build(self, input_shape=None):
        self.embeddings = self.add_weight(
            name="embeddings",
            shape=(self.input_dim, self.output_dim),
            initializer=self.embeddings_initializer,
            regularizer=self.embeddings_regularizer,
            constraint=self.embeddings_constraint,
        )
        self.built = True

    def _convert_input(self, value):
        if isinstance(value, Tensor):
            return value
        return Tensor(as_array(value))

    def call(self, inputs):
        indices = as_array(inputs)
        if indices.dtype.kind != "i":
            indices = indices.astype("int64")
        return ops.getitem(self.embeddings, indices)

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return Tensor(as_array(inputs) != 0)

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape), self.output_dim)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "input_dim": self.input_dim,
                "output_dim": self.output_dim,
                "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
                "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "embeddings_constraint": constraints.serialize(self.embeddings_constraint),
                "mask_zero": self.mask_zero,
            }
        )
        return config


class Lambda(Layer):
    """Wrap an expression as a layer: ``Lambda(lambda x: x * 2)``.

    Args:
        function: called as ``function(inputs, **arguments)`` (also with ``mask``/``training``
            when it accepts them).
        output_shape: shape without the batch axis, or a function of the input shape; inferred
            by a trial run when omitted.
        mask: a mask, or a function ``(inputs, mask) -> mask``.
        arguments: extra keyword arguments for ``function``.

    Its config holds the function: a named function is stored by name, a lambda as marshalled
    bytecode that :meth:`from_config` refuses to load unless ``safe_mode=False``.
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        self.function = function
        self.arguments = dict(arguments or {})
        self._output_shape = output_shape
        self.mask = mask
        self.supports_masking = mask is not None
        params = inspect.signature(function).parameters if callable(function) else {}
        self._fn_mask = "mask" in params
        self._fn_training = "training" in params

    def call(self, inputs, mask=None, training=None):
        kwargs = dict(self.arguments)
        if self._fn_mask:
            kwargs["mask"] = mask
        if self._fn_training:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_mask(self, inputs, mask=None):
        if callable(self.mask):
            return self.mask(inputs, mask)
        return self.mask

    def compute_output_shape(self, input_shape):
        if self._output_shape is None:
            return super().compute_output_shape(input_shape)
        if callable(self._output_shape):
            return self._output_shape(input_shape)
        shape = normalize_shape(self._output_shape)
        first = (
            input_shape[0] if not isinstance(input_shape[0], (tuple, list)) else input_shape[0][0]
        )
        return (first, *shape)

    def get_config(self):
        config = super().get_config()
        config["function"] = _serialize_function(self.function)
        output_shape = self._output_shape
        if callable(output_shape):
            output_shape = _serialize_function(output_shape)
        elif output_shape is not None:
            output_shape = list(output_shape)
        config["output_shape"] = output_shape
        config["arguments"] = self.arguments
        if self.mask is not None and not callable(self.mask):
            config["mask"] = None
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=True):
        config = dict(config)
        if "function" not in config:
            raise ValueError(f"Lambda layer {config.get('name')!r}: the config has no 'function'")
        config["function"] = _deserialize_function(config["function"], custom_objects, safe_mode)
        if isinstance(config.get("output_shape"), (dict, str)):
            config["output_shape"] = _deserialize_function(
                config["output_shape"], custom_objects, safe_mode
            )
        config.pop("function_type", None)
        config.pop("output_shape_type", None)
        config.pop("module", None)
        config.pop("output_shape_module", None)
        if isinstance(config.get("dtype"), dict):
            from gpuk.layers.base import standardize_dtype

            config["dtype"] = standardize_dtype(config["dtype"])
        return cls(**config)


def _serialize_function(fn):
    if isinstance(fn, types.FunctionType) and fn.__name__ != "<lambda>" and not fn.__closure__:
        return fn.__name__
    if isinstance(fn, types.FunctionType):
        return {
            "class_name": "__lambda__",
            "config": {
                "code": base64.b64encode(marshal.dumps(fn.__code__)).decode("ascii"),
                "defaults": list(fn.__defaults__) if fn.__defaults__ else None,
                "closure": None,
            },
        }
    # Callable objects live only in this process; keep them so a same-process copy works.
    return fn


def _deserialize_function(value, custom_objects=None, safe_mode=True):
    if callable(value):
        return value
    if isinstance(value, str):
        from gpuk.utils.serialization import lookup_custom_object

        found = lookup_custom_object([value], custom_objects)
        if found is None and not value.startswith("_"):
            # Only public callables of gpuk.ops / gpuk.activations, never dunders or modules.
            found = getattr(ops, value, None) or getattr(activations, value, None)
            if not callable(found) or isinstance(found, type) or inspect.ismodule(found):
                found = None
        if found is None:
            raise ValueError(
                f"Lambda layer: unknown function {value!r}; pass it with custom_objects="
            )
        return found
    if isinstance(value, dict) and value.get("class_name") == "__lambda__":
        if safe_mode:
            raise ValueError(
                "Requested the deserialization of a Lambda layer whose function is Python "
                "bytecode; this is refused in safe mode because loading code can run arbitrary "
                "code. If you trust the source, pass safe_mode=False to the loading function."
            )
        config = value["config"]
        code = marshal.loads(base64.b64decode(config["code"]))
        defaults = tuple(config["defaults"]) if config.get("defaults") else None
        return types.FunctionType(code, globals(), code.co_name, defaults)
    raise TypeError(f"Lambda layer: cannot interpret function config {value!r}")
