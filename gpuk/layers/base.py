"""The Layer base class (``KerasTensor``/``Node`` live in ``keras_tensor.py``, ``InputSpec`` in
``input_spec.py``; both are importable from here too).

Two ways to call a layer (docs/architecture.md, "Two graphs"):

* on symbolic ``KerasTensor`` inputs (from ``gpuk.Input``) the layer builds its weights, records
  a :class:`Node` and infers the output shape with :meth:`Layer.compute_output_shape`; nothing is
  computed, so shape errors surface while the model is defined;
* on real values (Tensors, NumPy/CuPy arrays) it runs eagerly and returns Tensors.

Automatic names (``dense``, ``dense_1``, ...) come from ``gpuk.utils.naming`` (clear_session).

Masks travel on eager Tensors as the attribute ``_keras_mask`` (a boolean ``(batch, time)`` array
or Tensor), as in Keras; a layer whose ``call`` accepts ``mask`` receives it automatically.
"""

import contextlib
import inspect

import numpy as np

from gpuk import _config, constraints, dtype_policies, initializers, ops, regularizers
from gpuk._array import asarray, is_array, to_numpy
from gpuk._tree import (
    flatten,
    flatten_shapes,
    is_shape,
    map_shapes,
    map_structure,
    normalize_shape,
    pack_like,
)
from gpuk.autograd import Tensor, Variable, autocast_dtype, autocast_scope, no_grad
from gpuk.layers.call_context import _call_stack, current_training
from gpuk.layers.input_spec import InputSpec
from gpuk.layers.keras_tensor import KerasTensor, LayerNodes, Node
from gpuk.layers.layer_state import LayerState
from gpuk.layers.layer_tracking import LayerTracking, attribute_set, structure_changed
from gpuk.metrics.base import Metric
from gpuk.utils.dtypes import standardize_layer_dtype as standardize_dtype
from gpuk.utils.naming import clear_session, to_snake_case, unique_name
from gpuk.utils.symbolic import is_keras_tensor

__all__ = [
    "InputSpec",
    "KerasTensor",
    "Layer",
    "Node",
    "clear_session",
    "is_keras_tensor",
    "to_snake_case",
    "unique_name",
]


def _plain_kwargs(kwargs):
    """True when no keyword argument can hold a symbolic tensor (flags, None, Tensors)."""
    for value in kwargs.values():
        if value is not None and type(value) is not bool and not isinstance(value, Tensor):
            return False
    return True


def _policy_of(dtype):
    """The ``DTypePolicy`` of a layer's ``dtype=`` (None: the global policy); None for dtypes
    no policy describes (strings, ...)."""
    try:
        return dtype_policies.get(dtype)
    except (TypeError, ValueError):
        return None


def _is_float_dtype(dtype):
    return dtype != "string" and np.dtype(dtype).kind == "f"


# ----------------------------------------------------------------------------- Layer

_IGNORED_WEIGHT_KWARGS = "use_resource synchronization aggregation autocast overwrite_with_gradient"


class Layer(LayerNodes, LayerState, LayerTracking):
    """Base class of all layers, Keras's way: ``__init__`` -> ``build`` -> ``call``.

    Subclass it and write ``build(input_shape)`` (create weights with :meth:`add_weight`) and
    ``call(inputs)``; call ``super().__init__(**kwargs)`` first::

        class Scale(gpuk.layers.Layer):
            def build(self, input_shape):
                self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones")

            def call(self, inputs):
                return inputs * self.w

    Args:
        trainable: whether the layer's weights are updated by training.
        name: unique name; by default the snake-case class name made unique (``dense_1``).
        dtype: variable and compute dtype (``floatx()`` by default); a Keras ``DTypePolicy``
            config is accepted.
        **kwargs: ``input_shape``, ``input_dim``, ``batch_input_shape``, ``batch_size`` (used
            by Sequential for its first layer), ``activity_regularizer``, ``autocast`` and
            ``weights`` are accepted; anything else is a TypeError.
    """

    _default_supports_masking = False

    def __init__(self, trainable=True, name=None, dtype=None, **kwargs):
        object.__setattr__(self, "_layers", [])
        self._trainable_variables = []
        self._non_trainable_variables = []
        self._losses = []
        self._metrics = []
        self._inbound_nodes = []
        self._outbound_nodes = []
        self._trainable = bool(trainable)
        self.built = False
        self.input_spec = None
        self.dtype = standardize_dtype(dtype)
        self._dtype_policy = _policy_of(dtype)
        self.name = name if name else unique_name(to_snake_case(type(self).__name__))
        if self._dtype_policy is not None:
            self._dtype_policy.check_supported(f"Layer {self.name!r}")
        if not isinstance(self.name, str):
            raise TypeError(f"Layer name must be a string, received {self.name!r}")
        activity_regularizer = kwargs.pop("activity_regularizer", None)
        self.activity_regularizer = (
            None if activity_regularizer is None else regularizers.get(activity_regularizer)
        )
        self.supports_masking = getattr(self, "supports_masking", self._default_supports_masking)
        kwargs.pop("autocast", None)
        self._initial_weights = kwargs.pop("weights", None)
        batch_size = kwargs.pop("batch_size", None)
        input_dim = kwargs.pop("input_dim", None)
        input_shape = kwargs.pop("input_shape", None)
        batch_input_shape = kwargs.pop("batch_input_shape", None) or kwargs.pop("batch_shape", None)
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        if input_shape is not None and batch_input_shape is None:
            batch_input_shape = (batch_size, *tuple(input_shape))
        self._batch_input_shape = (
            normalize_shape(batch_input_shape) if batch_input_shape is not None else None
        )
        if kwargs:
            raise TypeError(
                f"Unrecognized keyword arguments passed to {type(self).__name__}: {kwargs}"
            )
        self._call_signature = inspect.signature(self.call)
        params = self._call_signature.parameters
        self._call_has_training = "training" in params
        self._call_has_mask = "mask" in params
        self._call_varkw = any(p.kind is p.VAR_KEYWORD for p in params.values())

    # ------------------------------------------------------------------ attribute tracking

    def __setattr__(self, name, value):
        attribute_set()
        if not name.startswith("_"):
            self._track_attribute(value)
        if name == "dtype" or name == "_dtype_policy":
            self.__dict__.pop("_compute_dtype", None)  # the cache of compute_dtype
        elif name == "_layers":
            structure_changed()
        object.__setattr__(self, name, value)

    def _track_attribute(self, value):
        if "_layers" not in self.__dict__:
            return
        if isinstance(value, Layer):
            if value is not self and not any(value is layer for layer in self._layers):
                self._layers.append(value)
                structure_changed()
        elif isinstance(value, Metric):
            metrics = self.__dict__.setdefault("_metrics", [])
            if not any(value is m for m in metrics):
                metrics.append(value)
                structure_changed()
        elif isinstance(value, Variable):
            known = self._trainable_variables + self._non_trainable_variables
            if not any(value is v for v in known):
                target = (
                    self._trainable_variables if value.trainable else self._non_trainable_variables
                )
                target.append(value)
                structure_changed()
        elif isinstance(value, (list, tuple)):
            for item in value:
                if isinstance(item, (Layer, Variable, Metric)):
                    self._track_attribute(item)

    # ------------------------------------------------------------------ properties

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        value = bool(value)
        self._trainable = value
        for variable in self._trainable_variables:
            variable.trainable = value
        for layer in self._layers:
            layer.trainable = value

    @property
    def dtype_policy(self):
        """The layer's ``DTypePolicy`` (Keras 3): from ``dtype=``, else the global policy."""
        policy = getattr(self, "_dtype_policy", None)
        if policy is None or policy.variable_dtype != self.dtype:
            return dtype_policies.DTypePolicy(self.dtype)
        return policy

    @dtype_policy.setter
    def dtype_policy(self, value):
        policy = dtype_policies.get(value)
        policy.check_supported(f"Layer {self.name!r}")
        self._dtype_policy = policy
        self.dtype = policy.variable_dtype

    @property
    def compute_dtype(self):
        """The dtype the layer computes in (float16 under ``"mixed_float16"``)."""
        compute = self.__dict__.get("_compute_dtype")
        if compute is None:  # read per call: cached until dtype or _dtype_policy is set
            compute = self.__dict__["_compute_dtype"] = self.dtype_policy.compute_dtype
        return compute

    @property
    def variable_dtype(self):
        """The dtype of the layer's variables (float32 under the mixed policies)."""
        return self.dtype

    def add_loss(self, loss):
        """Add a loss term (a scalar Tensor, or a zero-argument callable returning one)."""
        if callable(loss) and not isinstance(loss, Tensor):
            loss = loss()
        if is_keras_tensor(loss):
            raise ValueError(
                f"Layer {self.name!r}: add_loss received a symbolic KerasTensor; add losses "
                "inside call(), where values exist."
            )
        self._losses.append(loss)
        Layer._loss_version += 1

    _loss_version = 0  # add_loss calls anywhere (functional_inference clears on a change)

    # ------------------------------------------------------------------ weights

    def add_weight(
        self,
        name=None,
        shape=None,
        dtype=None,
        initializer=None,
        regularizer=None,
        trainable=True,
        constraint=None,
        **kwargs,
    ):
        """Create a weight Variable owned by this layer (path ``layername/name``).

        Args:
            name: short name, e.g. ``"kernel"``.
            shape: tuple of ints (``()`` for a scalar).
            dtype: defaults to the layer's dtype.
            initializer: name, config or callable ``(shape, dtype) -> array``; ``glorot_uniform``
                for float weights by default, ``zeros`` otherwise.
            regularizer: adds ``regularizer(weight)`` to :attr:`losses`.
            trainable: whether training updates it.
            constraint: callable applied to the value after each optimizer update.
            **kwargs: ``use_resource``, ``synchronization``, ``aggregation``, ``autocast``
                (tf.keras spellings, ignored).

        Returns:
            The new ``gpuk.Variable``.
        """
        for ignored in _IGNORED_WEIGHT_KWARGS.split():
            kwargs.pop(ignored, None)
        if kwargs:
            raise TypeError(f"add_weight() got unexpected keyword arguments {sorted(kwargs)}")
        shape = () if shape is None else normalize_shape(shape)
        if any(s is None or s < 0 for s in shape):
            raise ValueError(
                f"Layer {self.name!r}: cannot create weight {name!r} with unknown or negative "
                f"dimensions, shape {shape}"
            )
        dtype = standardize_dtype(dtype or self.dtype)
        _config.check_new_array(self.name, name, shape)
        if initializer is None:
            initializer = "glorot_uniform" if _is_float_dtype(dtype) else "zeros"
        init = initializers.get(initializer)
        value = init(shape, dtype=dtype)
        value = value.data if isinstance(value, Tensor) else value
        variable = Variable(
            asarray(value, dtype=dtype),
            dtype=dtype,
            trainable=trainable,
            name=name,
            constraint=constraints.get(constraint),
        )
        variable.path = f"{self.name}/{variable.name}"
        variable.regularizer = regularizers.get(regularizer)
        if trainable and self._trainable:
            self._trainable_variables.append(variable)
        elif trainable:
            # A frozen layer keeps the weight in its trainable list for when it is unfrozen.
            variable.trainable = False
            self._trainable_variables.append(variable)
        else:
            self._non_trainable_variables.append(variable)
        structure_changed()
        return variable

    add_variable = add_weight

    def get_weights(self):
        """The weights as NumPy arrays, in :attr:`weights` order."""
        return [np.array(to_numpy(v.data)) for v in self.weights]

    def set_weights(self, weights):
        """Set the weights from NumPy arrays given in :attr:`weights` order.

        Raises:
            ValueError: naming the layer when the count or a shape does not match.
        """
        params = self.weights
        weights = list(weights)
        if len(params) != len(weights):
            raise ValueError(
                f"Layer {self.name!r} expected {len(params)} weights, but received "
                f"{len(weights)} weights (shapes expected: {[p.shape for p in params]})."
            )
        for variable, value in zip(params, weights):
            value = np.asarray(to_numpy(value.data if isinstance(value, Tensor) else value))
            if tuple(value.shape) != variable.shape:
                raise ValueError(
                    f"Layer {self.name!r} weight shape mismatch for {variable.path!r}: expected "
                    f"{variable.shape}, received {tuple(value.shape)}."
                )
        for variable, value in zip(params, weights):
            if isinstance(value, Tensor):
                value = value.data
            # A CuPy array goes as it is: np.asarray would refuse it.
            variable.assign(value if is_array(value) else np.asarray(value))

    def count_params(self):
        """The number of scalars in all weights (the layer must be built)."""
        if not self.built and not self.weights:
            raise ValueError(
                f"You tried to call count_params on layer {self.name!r}, but the layer isn't "
                "built. You can build it manually via: layer.build(input_shape)."
            )
        return int(sum(int(np.prod(v.shape)) for v in self.weights))

    # ------------------------------------------------------------------ build and call

    def build(self, input_shape):
        """Create the weights for inputs of ``input_shape``; the base version creates none."""
        self.built = True

    def _maybe_build(self, input_shape):
        if self.built:
            return
        self._check_input_spec(input_shape)
        self.build(input_shape)
        self.built = True
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def _check_input_spec(self, input_shape):
        specs = self.input_spec
        if specs is None:
            return
        if not isinstance(specs, (list, tuple)):
            specs = [specs]
        shapes = [input_shape] if is_shape(input_shape) else list(flatten_shapes(input_shape))
        for spec, shape in zip(specs, shapes):
            if spec is not None:
                spec.check(self, shape)

    def call(self, inputs, *args, **kwargs):
        """The computation on real values; the base layer returns its inputs unchanged."""
        return inputs

    def __call__(self, *args, **kwargs):
        if not args:
            if "inputs" in kwargs:
                args = (kwargs.pop("inputs"),)
            else:
                raise ValueError(f"Layer {self.name!r} was called without inputs.")
        if len(args) == 1 and isinstance(args[0], Tensor) and _plain_kwargs(kwargs):
            return self._eager_call(args, kwargs)  # the common eager call: nothing symbolic
        leaves = flatten([list(args), kwargs])
        if any(is_keras_tensor(leaf) for leaf in leaves):
            return self._symbolic_call(args, kwargs)
        return self._eager_call(args, kwargs)

    # symbolic -----------------------------------------------------------

    def _symbolic_call(self, args, kwargs):
        first = args[0]
        for leaf in flatten(first):
            if not is_keras_tensor(leaf):
                raise TypeError(
                    f"Layer {self.name!r} received a mix of symbolic and real inputs "
                    f"({type(leaf).__name__}); call it on KerasTensors only, or on values only."
                )
        input_shape = map_structure(lambda t: t.shape, first)
        self._check_input_spec(input_shape)
        self._maybe_build(input_shape)
        outputs = self.compute_output_spec(*args, **kwargs)
        node_index = len(self._inbound_nodes)
        flat = flatten(outputs)
        for index, tensor in enumerate(flat):
            tensor._keras_history = (self, node_index, index)
        node = Node(self, args, kwargs, outputs)
        self._inbound_nodes.append(node)
        for parent in {
            id(t._keras_history[0]): t._keras_history[0] for t in node.input_tensors
        }.values():
            parent._outbound_nodes.append(node)
        return outputs

    def compute_output_spec(self, *args, **kwargs):
        """Symbolic outputs (KerasTensors with shape and dtype) for symbolic inputs.

        The default uses :meth:`compute_output_shape` on the first argument's shapes.
        """
        first = args[0]
        input_shape = map_structure(lambda t: t.shape, first)
        input_dtypes = [t.dtype for t in flatten(first)]
        self._last_dummy_dtypes = None
        # Other symbolic arguments (``call(targets, logits)``) take part in the trial call.
        self._dummy_extra = (args[1:], kwargs)
        try:
            output_shape = self.compute_output_shape(input_shape)
        finally:
            self._dummy_extra = None
        dtypes = self._last_dummy_dtypes
        counter = iter(range(1_000_000))

        def make(shape):
            i = next(counter)
            if dtypes is not None and i < len(dtypes):
                dtype = dtypes[i]
            else:
                dtype = self._output_dtype(input_dtypes)
            return KerasTensor(shape, dtype=dtype, name=self.name if i == 0 else f"{self.name}_{i}")

        return map_shapes(make, output_shape)

    def _output_dtype(self, input_dtypes):
        """Output dtype for inputs of ``input_dtypes``: the layer's compute dtype by default."""
        return self.compute_dtype

    def compute_output_shape(self, input_shape):
        """Output shape(s) for ``input_shape`` (``None`` for unknown sizes).

        The default runs :meth:`call` on small zero batches (unknown sizes set to 2, then 3) and
        marks as unknown the output sizes that change; layers override it with a formula.
        """
        shapes_a = self._dummy_output_shapes(input_shape, 2)
        shapes_b = self._dummy_output_shapes(input_shape, 3)

        def merge(a, b):
            return tuple(x if x == y else None for x, y in zip(a, b))

        merged = [merge(a, b) for a, b in zip(shapes_a[0], shapes_b[0])]
        self._last_dummy_dtypes = shapes_a[1]
        if shapes_a[2]:
            return merged[0]
        return merged

    def _dummy_output_shapes(self, input_shape, fill):
        def dummy(shape):
            concrete = tuple(fill if s is None else s for s in shape)
            _config.check_new_array(self.name, "trial input", concrete)
            # On the device of the weights, so that the trial call does not mix modules.
            return Tensor(asarray(np.zeros(concrete, dtype=self.compute_dtype)))

        inputs = map_shapes(dummy, input_shape)
        extra_args, kwargs = getattr(self, "_dummy_extra", None) or ((), {})

        def resolve(value):
            return dummy(value.shape) if is_keras_tensor(value) else value

        extra_args = map_structure(resolve, list(extra_args))
        kwargs = map_structure(resolve, dict(kwargs))
        if self._call_has_training:
            kwargs["training"] = False
        # The trial call must leave no trace: losses it adds and metric updates are undone.
        metric_state = [(v, v.data.copy()) for v in self.metrics_variables]
        try:
            with no_grad():
                outputs = self.call(inputs, *extra_args, **kwargs)
        except Exception as error:
            raise ValueError(
                f"Layer {self.name!r} ({type(self).__name__}) could not infer its output shape "
                f"for input shape {input_shape}: {error}. Implement compute_output_shape()."
            ) from error
        finally:
            for variable, value in metric_state:
                variable.assign(value)
            self._clear_losses()
        flat = flatten(outputs)
        single = not isinstance(outputs, (list, tuple, dict))
        shapes = [tuple(getattr(o, "shape", np.shape(o))) for o in flat]
        dtypes = [np.dtype(getattr(o, "dtype", self.compute_dtype)).name for o in flat]
        return shapes, dtypes, single

    # eager --------------------------------------------------------------

    # Keras 3: layers cast floating inputs to their compute dtype; Functional models do not
    # (each of their layers casts for itself).
    _convert_input_args = True

    def _convert_input(self, value):
        cast = self._convert_input_args
        if isinstance(value, Tensor):
            if cast and value.dtype.kind == "f" and value.dtype != self.compute_dtype:
                return ops.cast(value, self.compute_dtype)
            return value
        if is_array(value) or isinstance(value, (np.generic, float, int)):
            array = asarray(value)
            if cast and array.dtype.kind == "f" and array.dtype.name != self.compute_dtype:
                array = array.astype(self.compute_dtype)
            return Tensor(array)
        return value

    def _eager_call(self, args, kwargs):
        first = args[0]
        if (
            isinstance(first, (list, tuple))
            and first
            and all(isinstance(v, (int, float)) for v in flatten(first))
        ):
            first = np.asarray(first)
        single = isinstance(first, Tensor)
        first = self._convert_input(first) if single else map_structure(self._convert_input, first)
        args = (first, *args[1:])
        if not self.built:
            input_shape = map_structure(
                lambda t: tuple(t.shape) if hasattr(t, "shape") else t, first
            )
            self._check_input_spec(input_shape)
            self._maybe_build(input_shape)
        training = kwargs.pop("training", None)
        stack = _call_stack()
        if training is None:
            training = current_training()
        mask = kwargs.pop("mask", None)
        if mask is None:
            if single:
                mask = getattr(first, "_keras_mask", None)
            else:
                masks = [getattr(t, "_keras_mask", None) for t in flatten(first)]
                if any(m is not None for m in masks):
                    mask = pack_like(first, masks)
        call_kwargs = dict(kwargs)
        if self._call_has_training or self._call_varkw and training is not None:
            if self._call_has_training or training is not None:
                call_kwargs["training"] = training
        if self._call_has_mask:
            call_kwargs["mask"] = mask
        autocast = None
        if autocast_dtype() is not None or self.compute_dtype != self.variable_dtype:
            autocast = self._autocast()
        stack.append(training)  # the enclosing call's flag, for layers this call calls
        try:
            if len(stack) == 1:
                self._clear_losses()
            if autocast is None:
                outputs = self.call(*args, **call_kwargs)
            else:
                with autocast:
                    outputs = self.call(*args, **call_kwargs)
        finally:
            stack.pop()
        if not isinstance(outputs, Tensor):
            outputs = map_structure(_wrap_output, outputs)
        if self.activity_regularizer is not None:
            for output in flatten(outputs):
                if isinstance(output, Tensor):
                    batch = output.shape[0] if output.ndim else 1
                    self.add_loss(self.activity_regularizer(output) / batch)
        output_mask = self.compute_mask(first, mask)
        if output_mask is not None or self.supports_masking or _overrides(self, "compute_mask"):
            flat_out = flatten(outputs)
            flat_masks = flatten(output_mask) if isinstance(output_mask, (list, tuple)) else None
            for i, output in enumerate(flat_out):
                if isinstance(output, Tensor):
                    value = flat_masks[i] if flat_masks is not None else output_mask
                    try:
                        output._keras_mask = value
                    except AttributeError:
                        pass
        return outputs

    def _inference_fn(self):
        """An ``array -> array`` inference function, or None (``layers/raw_inference.py``)."""
        return None

    def _autocast(self):
        """Keras 3's autocast rule: read float variables as the compute dtype when it differs
        from the variable dtype, or when an enclosing layer set another one."""
        current, compute = autocast_dtype(), self.compute_dtype
        if current is None and compute == self.variable_dtype:
            return contextlib.nullcontext()
        if np.dtype(compute).kind != "f":
            return autocast_scope(None)
        if current is not None and current == np.dtype(compute):
            return contextlib.nullcontext()
        return autocast_scope(compute)

    def compute_mask(self, inputs, mask=None):
        """The output mask: the input mask passed through if ``supports_masking``, else None."""
        if not self.supports_masking:
            return None
        return mask

    # ------------------------------------------------------------------ config

    def get_config(self):
        """Keras's base keys ``name``, ``trainable``, ``dtype`` (plus the input shape if given)."""
        policy = self.dtype_policy
        dtype = (
            dtype_policies.serialize(policy)
            if policy.compute_dtype != policy.variable_dtype
            else self.dtype
        )
        config = {"name": self.name, "trainable": self.trainable, "dtype": dtype}
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = list(self._batch_input_shape)
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config):
        """Create a layer from :meth:`get_config`'s output (Keras 2 and Keras 3 spellings)."""
        config = dict(config)
        if isinstance(config.get("dtype"), dict):
            policy = _policy_of(config["dtype"])
            config["dtype"] = policy if policy is not None else standardize_dtype(config["dtype"])
        return cls(**config)

    def get_build_config(self):
        if self._inbound_nodes:
            return {"input_shape": self._inbound_nodes[0].input_shapes}
        return None

    def build_from_config(self, config):
        if config and config.get("input_shape") is not None and not self.built:
            shape = config["input_shape"]
            self._maybe_build(shape if is_shape(shape) else [tuple(s) for s in shape])

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _overrides(layer, method):
    return getattr(type(layer), method) is not getattr(Layer, method)


def _wrap_output(value):
    if isinstance(value, Tensor) or value is None:
        return value
    if is_array(value):
        return Tensor(value)
    return value
