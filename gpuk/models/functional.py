"""``Model``, the functional graph (``Functional``) and its config.

``Model(inputs, outputs)`` returns a :class:`Functional`; subclassing ``Model`` and writing
``call`` gives a subclassed model, as in Keras.

The graph is ordered once with Keras's algorithm (keras-formats.md section 1.4), so
``model.layers`` and saved files list layers in Keras's order. Calling the model on real
values runs the nodes eagerly, deepest first (:meth:`Functional.run_graph`).
"""

import numpy as np

from gpuk._array import asarray
from gpuk.autograd import Tensor, no_grad
from gpuk.layers import base as layer_base
from gpuk.layers.base import (
    KerasTensor,
    Layer,
    flatten,
    is_keras_tensor,
    map_structure,
    pack_like,
    unique_name,
)
from gpuk.layers.input_layer import InputLayer
from gpuk.layers.layer_tracking import structure_changed
from gpuk.layers.serialization import register_layer_class
from gpuk.models import functional_inference, subclassing
from gpuk.models.functional_config import _functional_from_config, _keras3_node, _plain_kwargs
from gpuk.models.summary import print_summary
from gpuk.models.training import Trainer
from gpuk.saving import saving_api
from gpuk.utils.serialization import get_registered_name


class Model(Trainer, Layer):
    """A layer graph with training methods.

    Two ways to make one, as in Keras::

        inputs = gpuk.Input(shape=(32,))
        outputs = gpuk.layers.Dense(1)(gpuk.layers.Dense(64, activation="relu")(inputs))
        model = gpuk.Model(inputs, outputs, name="regressor")

        class MyModel(gpuk.Model):
            def __init__(self):
                super().__init__()
                self.dense = gpuk.layers.Dense(1)

            def call(self, inputs):
                return self.dense(inputs)
    """

    def __new__(cls, *args, **kwargs):
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            return super().__new__(Functional)
        instance = super().__new__(cls)
        # Keras 3's auto-config: constructor arguments of plain types make the default
        # get_config() of a subclass, so it can be saved without writing one.
        instance.__dict__["_auto_config"] = (
            None if issubclass(cls, Functional) else subclassing.auto_config(cls, args, kwargs)
        )
        return instance

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        build = cls.__dict__.get("build")
        if build is not None and not getattr(build, "_records_shape", False):
            cls.build = subclassing.recording_build(build)

    def __init__(self, *args, **kwargs):
        if subclassing.functional_init_arguments(args, kwargs):
            # A subclass called as ``MyModel(inputs, outputs)``: a functional subclass.
            subclassing.inject_functional(type(self), Model, Functional)
            Functional.__init__(self, *args, **kwargs)
            return
        trainable = kwargs.pop("trainable", True)
        name = kwargs.pop("name", None)
        dtype = kwargs.pop("dtype", None)
        if args or kwargs:
            raise TypeError(
                f"{type(self).__name__}.__init__ got unexpected arguments {args} {sorted(kwargs)}"
            )
        Layer.__init__(self, trainable=trainable, name=name, dtype=dtype)

    def build(self, input_shape):
        """Build a subclassed model by calling it on zeros of ``input_shape`` (unknown sizes
        as 1), which creates the weights of the layers it uses."""
        if self.built or self.__dict__.get("_in_build"):
            return
        self._build_input_shape = input_shape
        if type(self).call is Model.call:
            self.built = True
            return
        from gpuk.layers.base import map_shapes

        def zeros(shape):
            return Tensor(asarray(np.zeros(tuple(1 if s is None else s for s in shape), "float32")))

        self._in_build = True
        try:
            with no_grad():
                self(map_shapes(zeros, input_shape))
        except Exception as error:
            raise ValueError(
                f"Model {self.name!r}: build({input_shape}) could not call the model on data of "
                f"that shape: {error}. Call the model on real data once instead."
            ) from error
        finally:
            self._in_build = False
        self.built = True

    def get_build_config(self):
        """``{"input_shape": ...}`` of the first call, which ``build`` replays on loading."""
        shape = self.__dict__.get("_build_input_shape")
        if shape is not None:
            return {"input_shape": subclassing.shape_list(shape)}
        return super().get_build_config()

    def _maybe_build(self, input_shape):
        if not self.built and "_build_input_shape" not in self.__dict__:
            self._build_input_shape = input_shape
        if not self.built and type(self).build is Model.build:
            self.built = True  # calling the model creates its layers' weights
            return
        if self.__dict__.get("_in_build"):
            return
        super()._maybe_build(input_shape)

    def call(self, *args, **kwargs):
        raise NotImplementedError(
            f"Model {self.name!r} ({type(self).__name__}) has no call() method: write "
            "call(self, inputs) in the subclass, or build it as Model(inputs, outputs)."
        )

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """A functional config rebuilds the graph; otherwise ``cls(**config)``."""
        if "input_layers" in config and "layers" in config:
            target = Functional if cls is Model else cls
            return _functional_from_config(target, config, custom_objects)
        return cls(**config)

    def get_config(self):
        """A subclass's config: ``name``, ``trainable`` and the constructor arguments it was
        called with when they are plain values (Keras 3's auto-config); keys the constructor
        does not accept are left out. Override it when the arguments are objects."""
        import inspect

        config = {"name": self.name, "trainable": self.trainable}
        auto = self.__dict__.get("_auto_config")
        if auto is not None:
            config.update(auto)
        spec = inspect.getfullargspec(type(self).__init__)
        if spec.varkw is None:
            accepted = set(spec.args[1:]) | set(spec.kwonlyargs)
            config = {k: v for k, v in config.items() if k in accepted}
        return config

    # Subclassed models have no symbolic inputs; the training loop sees one input and output.
    @property
    def inputs(self):
        return []

    @property
    def outputs(self):
        return []

    @property
    def input_names(self):
        return ["input_1"]

    @property
    def output_names(self):
        return ["output_1"]

    def get_layer(self, name=None, index=None):
        """A layer by ``name`` or by ``index`` into :attr:`layers`."""
        layers = self.layers
        if index is not None and name is not None:
            raise ValueError(
                f"Provide only a layer name or a layer index, received index={index}, "
                f"name={name!r}."
            )
        if index is not None:
            if not -len(layers) <= index < len(layers):
                raise ValueError(
                    f"Was asked to retrieve layer at index {index} but model {self.name!r} "
                    f"only has {len(layers)} layers."
                )
            return layers[index]
        if name is not None:
            for layer in layers:
                if layer.name == name:
                    return layer
            raise ValueError(
                f"No such layer: {name}. Existing layers are: {[la.name for la in layers]}."
            )
        raise ValueError("Provide either a layer name or layer index at `get_layer`.")

    def summary(
        self,
        line_length=None,
        positions=None,
        print_fn=None,
        expand_nested=False,
        show_trainable=False,
        layer_range=None,
    ):
        """Print the layer table: name (type), output shape, parameter count (and inputs)."""
        print_summary(self, line_length, positions, print_fn, show_trainable)

    # ------------------------------------------------------------------ saving (gpuk.saving)

    def save(self, filepath, overwrite=True, include_optimizer=True, **kwargs):
        """Save the model: ``.keras`` (Keras 3 archive) or ``.h5``/``.hdf5`` (legacy HDF5).

        An alias for :func:`gpuk.saving.save_model`, as in Keras.
        """
        saving_api.save_model(
            self, filepath, overwrite=overwrite, include_optimizer=include_optimizer, **kwargs
        )

    def save_weights(self, filepath, overwrite=True, **kwargs):
        """Save the weights (``.weights.h5``: Keras 3 layout; ``.h5``: legacy layout); see
        :func:`gpuk.saving.save_weights`."""
        saving_api.save_weights(self, filepath, overwrite=overwrite, **kwargs)

    def load_weights(self, filepath, by_name=False, skip_mismatch=False, **kwargs):
        """Load weights saved by gpuk or Keras; see :func:`gpuk.saving.load_weights`."""
        saving_api.load_weights(
            self, filepath, by_name=by_name, skip_mismatch=skip_mismatch, **kwargs
        )

    def to_json(self, **kwargs):
        """The model's config as JSON (loads in Keras 3 and tf.keras 2); see
        :func:`gpuk.saving.to_json`."""
        return saving_api.to_json(self, **kwargs)


class Functional(Model):
    """A model defined by calling layers on ``Input`` tensors (``gpuk.Model(inputs, outputs)``).

    Args:
        inputs: a KerasTensor, a list of them or a dict name -> KerasTensor.
        outputs: the same forms.
        name: model name (``functional``, ``functional_1``, ... by default).
        trainable: whether the model's weights are trainable.
    """

    _convert_input_args = False  # Keras 3: the graph's layers cast their own inputs

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        kwargs.pop("dtype", None)
        if kwargs:
            raise TypeError(f"Model got unexpected keyword arguments {sorted(kwargs)}")
        Layer.__init__(self, trainable=trainable, name=name or unique_name("functional"))
        self._init_graph(inputs, outputs)

    # ------------------------------------------------------------------ graph

    def _init_graph(self, inputs, outputs):
        if isinstance(inputs, tuple):
            inputs = list(inputs)
        if isinstance(outputs, tuple):
            outputs = list(outputs)
        if isinstance(outputs, list) and len(outputs) == 1:
            outputs = outputs[0]  # Keras 3 returns one tensor for a one-element output list
        for what, structure in (("inputs", inputs), ("outputs", outputs)):
            for tensor in flatten(structure):
                if not is_keras_tensor(tensor):
                    raise ValueError(
                        f"Model {self.name!r}: all {what} must be symbolic tensors (from "
                        f"gpuk.Input or a layer called on one); received {tensor!r} of type "
                        f"{type(tensor).__name__}."
                    )
        self._input_structure = inputs
        self._output_structure = outputs
        self._inputs = flatten(inputs)
        self._outputs = flatten(outputs)
        object.__setattr__(self, "_plan", None)
        object.__setattr__(self, "_raw_plan", None)
        object.__setattr__(self, "_raw_steps", None)
        ordered = _map_graph(self, self._inputs, self._outputs)
        self._network_nodes, self._nodes_by_depth, ordered_layers = ordered
        object.__setattr__(self, "_layers", ordered_layers)
        structure_changed()
        self.built = True
        self._input_layers = [t._keras_history[0] for t in self._inputs]
        self._output_layers = [t._keras_history[0] for t in self._outputs]

    @property
    def layers(self):
        """The layers in Keras's order (InputLayers included)."""
        return list(self._layers)

    @property
    def inputs(self):
        return list(self._inputs)

    @property
    def outputs(self):
        return list(self._outputs)

    @property
    def input(self):
        return self._input_structure

    @property
    def output(self):
        return self._output_structure

    @property
    def input_names(self):
        return [t._keras_history[0].name for t in self._inputs]

    @property
    def output_names(self):
        return [t._keras_history[0].name for t in self._outputs]

    @property
    def input_shape(self):
        shapes = map_structure(lambda t: t.shape, self._input_structure)
        return shapes[0] if isinstance(shapes, list) and len(shapes) == 1 else shapes

    @property
    def output_shape(self):
        shapes = map_structure(lambda t: t.shape, self._output_structure)
        return shapes[0] if isinstance(shapes, list) and len(shapes) == 1 else shapes

    # ------------------------------------------------------------------ running

    def _standardize_inputs(self, inputs):
        """Real input values as a flat list in :attr:`inputs` order."""
        if not isinstance(inputs, (dict, list, tuple)) and len(self._inputs) == 1:
            return [inputs]  # the common single-input call: no name lists built
        names = self.input_names
        if isinstance(inputs, dict):
            missing = [n for n in names if n not in inputs]
            if isinstance(self._input_structure, dict):
                keys = sorted(self._input_structure)
                missing = [k for k in keys if k not in inputs]
                if not missing:
                    return [inputs[k] for k in keys]
            if missing:
                raise ValueError(
                    f"Model {self.name!r}: missing data for inputs {missing}; the inputs are "
                    f"{names}, received keys {sorted(inputs)}."
                )
            return [inputs[n] for n in names]
        flat = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        if len(self._inputs) == 1 and len(flat) != 1:
            flat = [inputs]
        if len(flat) != len(self._inputs):
            raise ValueError(
                f"Model {self.name!r} expects {len(self._inputs)} input(s) {names}, but it "
                f"received {len(flat)} input tensors."
            )
        return flat

    def _check_value_shape(self, tensor, value):
        expected = tensor.shape
        shape = tuple(value.shape) if hasattr(value, "shape") else np.shape(value)
        if len(shape) != len(expected) or any(
            e is not None and s != e for e, s in zip(expected[1:], shape[1:])
        ):
            raise ValueError(
                f"Input {tensor._keras_history[0].name!r} of model {self.name!r} is incompatible: "
                f"expected shape {expected}, found shape {tuple(shape)}."
            )

    def __getstate__(self):
        # The plans hold ids of this model's KerasTensors: a copy (deepcopy, pickle) rebuilds.
        state = dict(self.__dict__)
        state["_plan"] = state["_raw_plan"] = state["_raw_steps"] = None
        return state

    def __call__(self, *args, **kwargs):
        if len(args) == 1 and (not kwargs or len(kwargs) == 1 and "training" in kwargs):
            outputs = functional_inference.run(self, args[0], kwargs.get("training"), Functional)
            if outputs is not None:
                return outputs
        return super().__call__(*args, **kwargs)

    def run_graph(self, inputs, training=None, mask=None):
        """Run the graph eagerly on real values; returns the outputs in their structure.

        Args:
            inputs: one value, a list in :attr:`inputs` order, or a dict keyed by input name.
            training: passed to the layers that take it (Dropout, recurrent layers ...).
            mask: optional masks for the inputs (same structure).
        """
        flat = self._standardize_inputs(inputs)
        values = {}
        for tensor, value in zip(self._inputs, flat):
            if not hasattr(value, "shape"):
                value = np.asarray(value)
            value = subclassing.adjust_rank(tensor, value, self.name)
            self._check_value_shape(tensor, value)
            layer = tensor._keras_history[0]
            if not isinstance(value, Tensor):
                value = (
                    layer._convert_input(value)
                    if not isinstance(layer, InputLayer)
                    else (_to_tensor(value, tensor.dtype))
                )
            values[id(tensor)] = value
        if mask is not None:
            masks = flatten(mask) if isinstance(mask, (list, tuple, dict)) else [mask]
            for tensor, m in zip(self._inputs, masks):
                if m is not None:
                    values[id(tensor)]._keras_mask = m
        kwargs = {} if training is None else {"training": training}
        outputs = self._execute(values, lambda layer, a, k: layer(*a, **k), kwargs)
        return pack_like(self._output_structure, outputs)

    def _execution_plan(self):
        """The graph's nodes in execution order, resolved once: ``(layer, args, kwargs,
        output ids)`` where ``args``/``kwargs`` hold ids of the KerasTensors they read
        (:class:`_Ref`). Running the model then walks this list; no per-call graph traversal."""
        plan = self.__dict__.get("_plan")
        if plan is not None:
            return plan
        input_ids = {id(t) for t in self._inputs}
        available = set(input_ids)
        plan = []
        for depth in sorted(self._nodes_by_depth, reverse=True):
            for node in self._nodes_by_depth[depth]:
                if node.is_input or all(id(t) in input_ids for t in node.output_tensors):
                    continue
                if any(id(t) not in available for t in node.input_tensors):
                    continue

                def ref(item):
                    return _Ref(id(item)) if is_keras_tensor(item) else item

                args = map_structure(ref, list(node.call_args))
                kwargs = map_structure(ref, dict(node.call_kwargs))
                simple_args = all(type(a) is _Ref for a in args)
                simple_kwargs = not any(type(v) is _Ref for v in flatten(kwargs))
                outputs = [id(t) for t in node.output_tensors]
                plan.append((node.layer, args, simple_args, kwargs, simple_kwargs, outputs))
                available.update(outputs)
        object.__setattr__(self, "_plan", plan)
        return plan

    def _execute(self, values, operation, extra_kwargs):
        for layer, args, simple_args, kwargs, simple_kwargs, outputs in self._execution_plan():
            if simple_args:
                call_args = [values[a.id] for a in args]
            else:
                call_args = map_structure(lambda r: values[r.id] if type(r) is _Ref else r, args)
            if simple_kwargs:
                call_kwargs = dict(kwargs)
            else:
                call_kwargs = map_structure(
                    lambda r: values[r.id] if type(r) is _Ref else r, kwargs
                )
            for key, value in extra_kwargs.items():
                if key == "training":
                    # As Keras: the model's training flag beats one recorded on the node
                    # (Keras records the call default, e.g. training=True for augmentation).
                    call_kwargs[key] = value
                else:
                    call_kwargs.setdefault(key, value)
            results = operation(layer, call_args, call_kwargs)
            if len(outputs) == 1 and not isinstance(results, (list, tuple, dict)):
                values[outputs[0]] = results
            else:
                for tensor_id, result in zip(outputs, flatten(results)):
                    values[tensor_id] = result
        return [values[id(t)] for t in self._outputs]

    def call(self, inputs, training=None, mask=None):
        return self.run_graph(inputs, training=training, mask=mask)

    def compute_output_spec(self, *args, **kwargs):
        inputs = args[0]
        flat = self._standardize_inputs(inputs)
        values = {}
        for tensor, value in zip(self._inputs, flat):
            if len(value.shape) != len(tensor.shape):
                raise ValueError(
                    f"Model {self.name!r}: input {tensor._keras_history[0].name!r} expects rank "
                    f"{len(tensor.shape)} (shape {tensor.shape}), received shape {value.shape}."
                )
            values[id(tensor)] = value

        def spec(layer, a, k):
            k = {key: v for key, v in k.items() if key not in ("training", "mask")}
            if not layer.built:
                layer._maybe_build(map_structure(lambda t: t.shape, a[0]))
            return layer.compute_output_spec(*a, **k)

        outputs = self._execute(values, spec, {})
        outputs = [KerasTensor(o.shape, o.dtype) for o in outputs]
        return pack_like(self._output_structure, outputs)

    def compute_output_shape(self, input_shape):
        tensors = layer_base.map_shapes(lambda s: KerasTensor(s, self.dtype), input_shape)
        return map_structure(lambda t: t.shape, self.compute_output_spec(tensors))

    def build(self, input_shape):
        self.built = True

    # ------------------------------------------------------------------ config

    def get_config(self):
        """The functional config (Keras's legacy form: list inbound nodes, layer triples)."""
        node_index_map = {}
        for layer in self._layers:
            kept = [n for n in layer._inbound_nodes if id(n) in self._network_nodes]
            for new_index, node in enumerate(kept):
                node_index_map[id(node)] = new_index
        layer_configs = []
        for layer in self._layers:
            inbound = []
            for node in layer._inbound_nodes:
                if id(node) not in self._network_nodes or node.is_input:
                    continue
                if len(node.call_args) > 1 or any(
                    is_keras_tensor(t) for t in flatten(node.call_kwargs)
                ):
                    # Several tensor arguments (MultiHeadAttention(query, value)): Keras 3's
                    # node form, which both Keras 3 and gpuk rebuild as the same call.
                    inbound.append(_keras3_node(node, node_index_map))
                    continue
                kwargs = _plain_kwargs(node.call_kwargs)
                entries = []
                for tensor in node.input_tensors:
                    producer, node_index, tensor_index = tensor._keras_history
                    producer_node = producer._inbound_nodes[node_index]
                    entries.append(
                        [producer.name, node_index_map[id(producer_node)], tensor_index, kwargs]
                    )
                inbound.append(entries)
            layer_configs.append(
                {
                    "class_name": get_registered_name(type(layer)),
                    "config": layer.get_config(),
                    "name": layer.name,
                    "inbound_nodes": inbound,
                }
            )

        def ref(tensor):
            producer, node_index, tensor_index = tensor._keras_history
            node = producer._inbound_nodes[node_index]
            return [producer.name, node_index_map[id(node)], tensor_index]

        return {
            "name": self.name,
            "trainable": self.trainable,
            "layers": layer_configs,
            "input_layers": [ref(t) for t in self._inputs],
            "output_layers": [ref(t) for t in self._outputs],
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuild a functional model from :meth:`get_config` output (Keras 2 or 3 form); a
        functional subclass saved by its constructor arguments is called with them."""
        if "layers" not in config and cls is not Functional:
            return cls(**config)
        return _functional_from_config(cls, config, custom_objects)


class _Ref:
    """A graph edge in an execution plan: the id of the KerasTensor whose value goes here."""

    __slots__ = ("id",)

    def __init__(self, tensor_id):
        self.id = tensor_id


def _to_tensor(value, dtype):
    data = value.data if isinstance(value, Tensor) else value
    if dtype == "string" or isinstance(data, np.ndarray) and data.dtype.kind in "OUS":
        return Tensor(np.asarray(data))  # strings stay on the host (preprocessing inputs)
    return Tensor(functional_inference.input_array(data, dtype))


# ----------------------------------------------------------------------------- graph ordering


def _map_graph(model, inputs, outputs):
    """Order the graph as Keras does; check it is connected and its layer names are unique.

    Returns ``(network_node_ids, nodes_by_depth, layers)``.
    """
    input_ids = {id(t) for t in inputs}
    finished, in_progress = set(), set()
    post_order = []
    first_visit = {}

    def visit(tensor):
        layer, node_index, _ = tensor._keras_history
        node = layer._inbound_nodes[node_index]
        if id(node) in finished:
            return
        if id(node) in in_progress:
            raise ValueError(f"Model {model.name!r}: the graph has a cycle at layer {layer.name!r}")
        first_visit.setdefault(id(layer), (len(first_visit), layer))
        in_progress.add(id(node))
        if not node.is_input and id(tensor) not in input_ids:
            for parent_tensor in node.input_tensors:
                visit(parent_tensor)
        finished.add(id(node))
        in_progress.discard(id(node))
        post_order.append(node)

    for tensor in outputs:
        visit(tensor)

    node_depth, layer_depth = {}, {}
    for node in reversed(post_order):
        depth = max(node_depth.get(id(node), 0), layer_depth.get(id(node.layer), 0))
        layer_depth[id(node.layer)] = depth
        node_depth[id(node)] = depth
        input_ids_here = id(node.output_tensors[0]) in input_ids if node.output_tensors else False
        if node.is_input or input_ids_here:
            continue
        for tensor in node.input_tensors:
            parent_layer, parent_index, _ = tensor._keras_history
            parent = parent_layer._inbound_nodes[parent_index]
            node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))

    nodes = {id(n): n for n in post_order}
    for tensor in inputs:
        layer, node_index, _ = tensor._keras_history
        node = layer._inbound_nodes[node_index]
        if id(layer) not in layer_depth:
            layer_depth[id(layer)] = 0
            first_visit[id(layer)] = (-1, layer)
            node_depth[id(node)] = 0
            nodes[id(node)] = node

    nodes_by_depth = {}
    for node_id, node in nodes.items():
        nodes_by_depth.setdefault(node_depth[node_id], []).append(node)
    layers_by_depth = {}
    for layer_id, depth in layer_depth.items():
        layers_by_depth.setdefault(depth, []).append(first_visit[layer_id])
    layers = []
    for depth in sorted(layers_by_depth, reverse=True):
        layers.extend(layer for _, layer in sorted(layers_by_depth[depth], key=lambda p: p[0]))

    # Connectivity: every node's inputs must come from the model inputs or earlier nodes.
    computable = set(input_ids)
    done = []
    for depth in sorted(nodes_by_depth, reverse=True):
        for node in nodes_by_depth[depth]:
            if node.is_input or all(id(t) in input_ids for t in node.output_tensors):
                if not all(id(t) in input_ids for t in node.output_tensors):
                    missing = node.output_tensors[0]
                    raise ValueError(
                        f"Graph disconnected in model {model.name!r}: cannot obtain value for "
                        f"tensor {missing.name!r} (input layer {node.layer.name!r}), which is "
                        f"not among the model inputs {[t.name for t in inputs]}. It is needed by "
                        f"outputs {[t.name for t in outputs]}. The following previous layers "
                        f"were accessed without issue: {done}"
                    )
                computable.update(id(t) for t in node.output_tensors)
                continue
            for tensor in node.input_tensors:
                if id(tensor) not in computable:
                    raise ValueError(
                        f"Graph disconnected in model {model.name!r}: cannot obtain value for "
                        f"tensor {tensor.name!r} at layer {node.layer.name!r}. The following "
                        f"previous layers were accessed without issue: {done}"
                    )
            computable.update(id(t) for t in node.output_tensors)
            done.append(node.layer.name)

    names = [layer.name for layer in layers]
    for name in names:
        if names.count(name) > 1:
            raise ValueError(
                f'Model {model.name!r}: the name "{name}" is used {names.count(name)} times in '
                "the model. All layer names should be unique."
            )
    return set(nodes), nodes_by_depth, layers


# ----------------------------------------------------------------------------- from_config


register_layer_class(Functional, "Model")
