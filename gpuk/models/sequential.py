"""``Sequential``: a plain stack of layers, each fed by the previous one."""

from gpuk.autograd import Tensor
from gpuk.layers.base import KerasTensor, Layer, is_keras_tensor, unique_name
from gpuk.layers.input_layer import InputLayer
from gpuk.layers.layer_tracking import structure_changed
from gpuk.layers.serialization import deserialize as deserialize_layer
from gpuk.layers.serialization import register_layer_class
from gpuk.models.functional import Functional, _to_tensor


class Sequential(Functional):
    """A linear stack of layers.

    The input shape comes from an ``Input`` given first, an ``input_shape=`` on the first layer,
    an explicit :meth:`build`, or the first call on data (deferred build)::

        model = gpuk.Sequential([gpuk.layers.Dense(8, activation="relu", input_shape=(4,)),
                                 gpuk.layers.Dense(1)])

    Args:
        layers: optional list of layers (an ``Input`` tensor or ``InputLayer`` may come first).
        name: model name (``sequential``, ``sequential_1``, ... by default).
        trainable: whether the weights are trainable.
    """

    _is_sequential = True  # read by gpuk.models.summary
    # Its weights before the graph exists walk the stack, which add/pop mark as changed.
    _weights_follow_structure = True

    def __init__(self, layers=None, trainable=True, name=None, **kwargs):
        kwargs.pop("dtype", None)
        if kwargs:
            raise TypeError(f"Sequential got unexpected keyword arguments {sorted(kwargs)}")
        Layer.__init__(self, trainable=trainable, name=name or unique_name("sequential"))
        self._stack = []
        self._graph_ready = False
        self.built = False
        for layer in layers or []:
            self.add(layer, rebuild=False)

    # ------------------------------------------------------------------ stack

    def add(self, layer, rebuild=True):
        """Append a layer (or an ``Input`` tensor / ``InputLayer`` as the first entry)."""
        if is_keras_tensor(layer):
            layer = layer._keras_history[0]
        if isinstance(layer, KerasTensor) or not isinstance(layer, Layer):
            raise ValueError(
                f"Only instances of gpuk.layers.Layer can be added to a Sequential model. "
                f"Received: {layer!r} (of type {type(layer).__name__})"
            )
        if isinstance(layer, InputLayer) and self._stack:
            raise ValueError(
                f"Sequential model {self.name!r}: an InputLayer can only be the first layer; "
                f"the model already has layers {[la.name for la in self._stack]}."
            )
        if any(la.name == layer.name for la in self._stack):
            raise ValueError(
                f"All layers added to a Sequential model should have unique names. Name "
                f"{layer.name!r} is already the name of a layer in model {self.name!r}."
            )
        if not self._stack and not isinstance(layer, InputLayer):
            shape = getattr(layer, "_batch_input_shape", None)
            if shape is not None:
                self._stack.append(InputLayer(batch_shape=shape, dtype=layer.dtype))
        self._stack.append(layer)
        self._graph_ready = False
        structure_changed()
        self.built = False
        self._layers_cache = None

    def pop(self, rebuild=True):
        """Remove and return the last layer."""
        real = [la for la in self._stack if not isinstance(la, InputLayer)]
        if not real:
            raise TypeError("There are no layers in the model.")
        layer = self._stack.pop()
        self._graph_ready = False
        structure_changed()
        self.built = False
        return layer

    @property
    def layers(self):
        """The layers, without the InputLayer (as Keras)."""
        return [la for la in self._stack if not isinstance(la, InputLayer)]

    def _ensure_graph(self):
        if self._graph_ready:
            return True
        if not self._stack or not isinstance(self._stack[0], InputLayer):
            return False
        x = self._stack[0].output
        for layer in self._stack[1:]:
            x = layer(x)
            if not is_keras_tensor(x):
                raise ValueError(
                    f"Sequential model {self.name!r}: layer {layer.name!r} must return one tensor"
                )
        self._init_graph(self._stack[0].output, x)
        object.__setattr__(self, "_layers", list(self._stack))
        structure_changed()
        self._graph_ready = True
        self.built = True
        return True

    def build(self, input_shape=None):
        """Build the model for inputs of ``input_shape`` (batch axis included)."""
        if self._stack and isinstance(self._stack[0], InputLayer):
            self._ensure_graph()
            return
        if input_shape is None:
            raise ValueError(f"Sequential model {self.name!r}: build() needs an input_shape.")
        input_shape = tuple(input_shape)
        self._stack.insert(0, InputLayer(batch_shape=input_shape))
        self._ensure_graph()

    def _require_graph(self, what):
        if not self._ensure_graph():
            raise ValueError(
                f"Sequential model {self.name!r} has not yet been built, so it has no {what}. "
                "Give an input shape (Input first or input_shape= on the first layer), call "
                "build(), or call the model on data."
            )

    # Graph views: build on demand so add()/pop() stay cheap.
    @property
    def inputs(self):
        self._require_graph("inputs")
        return list(self._inputs)

    @property
    def outputs(self):
        self._require_graph("outputs")
        return list(self._outputs)

    @property
    def input_names(self):
        if not self._ensure_graph():
            return ["input_layer"]
        return super().input_names

    @property
    def output_names(self):
        if not self._ensure_graph():
            return [self._stack[-1].name] if self._stack else ["output_1"]
        return super().output_names

    @property
    def input_shape(self):
        self._require_graph("input shape")
        return self._inputs[0].shape

    @property
    def output_shape(self):
        self._require_graph("output shape")
        return self._outputs[0].shape

    @property
    def weights(self):
        if self._ensure_graph():
            return super().weights
        out, seen = [], set()
        for layer in self._stack:
            for v in layer.weights:
                if id(v) not in seen:
                    seen.add(id(v))
                    out.append(v)
        return out

    @property
    def input(self):
        self._require_graph("input")
        return self._inputs[0]

    @property
    def output(self):
        self._require_graph("output")
        return self._outputs[0]

    def count_params(self):
        self._require_graph("parameters")
        return super().count_params()

    def __call__(self, *args, **kwargs):
        if not self._graph_ready and args and not is_keras_tensor(args[0]):
            if not self._ensure_graph():
                x = args[0]
                x = x if isinstance(x, Tensor) else _to_tensor(x, "float32")
                self._stack.insert(
                    0, InputLayer(batch_shape=(None, *tuple(x.shape)[1:]), dtype=_dtype_of(x))
                )
                self._ensure_graph()
        elif not self._graph_ready:
            self._ensure_graph()
        if not self._graph_ready and args and is_keras_tensor(args[0]):
            shape = args[0].shape
            self._stack.insert(0, InputLayer(batch_shape=shape, dtype=args[0].dtype))
            self._ensure_graph()
        return super().__call__(*args, **kwargs)

    def get_config(self):
        """Keras's Sequential config: ``{"name", "trainable", "layers": [...]}``."""
        layers = []
        for layer in self._stack:
            layers.append(
                {"class_name": type(layer).__name__, "config": layer.get_config()}
                if getattr(layer, "_registered_name", None) is None
                else {"class_name": layer._registered_name, "config": layer.get_config()}
            )
        return {"name": self.name, "trainable": self.trainable, "layers": layers}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuild from a Sequential config (dict form, or the bare list of early Keras 2)."""
        if isinstance(config, list):
            config = {"layers": config}
        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        for entry in config["layers"]:
            model.add(deserialize_layer(entry, custom_objects=custom_objects))
        build_shape = config.get("build_input_shape")
        if build_shape is not None and not model._ensure_graph():
            model.build(build_shape)
        else:
            model._ensure_graph()
        return model


def _dtype_of(x):
    kind = x.dtype.kind
    return x.dtype.name if kind in "iub" else "float32" if x.dtype.name != "float64" else "float64"


register_layer_class(Sequential)
