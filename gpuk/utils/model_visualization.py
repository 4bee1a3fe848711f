"""``plot_model`` and ``model_to_dot``: a model's layer graph drawn by Graphviz, as Keras 3's.

pydot builds the graph (``pip install gpuk[plot]``) and Graphviz's ``dot`` program renders it
(``apt-get install graphviz``, ``brew install graphviz``, ...). The model is read through the
layer graph every functional model records (layers, their inbound nodes, the symbolic tensors'
shapes), so this module imports nothing from the layers or models packages.
"""

import os
import shutil


def _pydot():
    try:
        import pydot
    except ImportError as error:
        raise ImportError(
            "plot_model/model_to_dot need pydot: pip install 'gpuk[plot]' (or pydot), and "
            "Graphviz's `dot` program (apt-get install graphviz, brew install graphviz, or "
            "https://graphviz.org/download/)"
        ) from error
    return pydot


def check_graphviz():
    """Raise ImportError naming what to install when Graphviz's ``dot`` is not on the PATH."""
    _pydot()
    if shutil.which("dot") is None:
        raise ImportError(
            "plot_model needs Graphviz's `dot` program on the PATH to render; install Graphviz "
            "(apt-get install graphviz, brew install graphviz, conda install graphviz, or "
            "https://graphviz.org/download/). model_to_dot works without it."
        )


def _graph_nodes(model):
    """The nodes of a functional model's graph, or None for a model without one."""
    ensure = getattr(model, "_ensure_graph", None)
    if callable(ensure):
        ensure()
    by_depth = getattr(model, "_nodes_by_depth", None)
    if not by_depth:
        return None
    return [node for depth in sorted(by_depth, reverse=True) for node in by_depth[depth]]


def _shape_text(tensors):
    shapes = [tuple(t.shape) for t in tensors if hasattr(t, "shape")]
    if not shapes:
        return "?"
    return str(shapes[0]) if len(shapes) == 1 else str(shapes)


def _layer_label(
    layer, node, show_shapes, show_dtype, show_layer_names, show_activations, show_trainable
):
    class_name = type(layer).__name__
    lines = [f"{layer.name} ({class_name})" if show_layer_names else class_name]
    activation = getattr(layer, "activation", None)
    if show_activations and activation is not None:
        name = getattr(activation, "__name__", None) or type(activation).__name__
        lines.append(f"Activation: {name}")
    if show_dtype:
        outputs = getattr(node, "output_tensors", []) if node is not None else []
        dtype = outputs[0].dtype if outputs else getattr(layer, "dtype", "?")
        lines.append(f"Output dtype: {dtype}")
    if show_shapes and node is not None:
        inputs = getattr(node, "input_tensors", [])
        lines.append(
            f"Input shape: {_shape_text(inputs) if inputs else _shape_text(node.output_tensors)}"
        )
        lines.append(f"Output shape: {_shape_text(node.output_tensors)}")
    if show_trainable:
        lines.append(f"Trainable: {'True' if getattr(layer, 'trainable', True) else 'False'}")
    return "\\n".join(lines)


def model_to_dot(
    model,
    show_shapes=False,
    show_dtype=False,
    show_layer_names=True,
    rankdir="TB",
    expand_nested=False,
    dpi=200,
    subgraph=False,
    show_layer_activations=False,
    show_trainable=False,
    **kwargs,
):
    """The model's graph as a ``pydot.Dot`` (a ``pydot.Cluster`` when ``subgraph``).

    Args:
        show_shapes / show_dtype: print each layer's input/output shapes / output dtype.
        show_layer_names: print layer names beside the class names.
        rankdir: ``"TB"`` (top to bottom) or ``"LR"`` (left to right).
        expand_nested: draw nested models' layers inside a box instead of one node.
        dpi: resolution of rendered images.
        show_layer_activations / show_trainable: print activations / trainability.

    Raises:
        ValueError: for a model that is not built, or an unknown ``rankdir``.
    """
    if rankdir not in ("TB", "LR"):
        raise ValueError(f"rankdir must be 'TB' or 'LR'; got {rankdir!r}")
    if not getattr(model, "built", False):
        raise ValueError(
            "This model has not yet been built. Build the model first by calling `build()` or "
            "by calling the model on a batch of data."
        )
    pydot = _pydot()
    if subgraph:
        dot = pydot.Cluster(style="dashed", graph_name=model.name, label=model.name)
    else:
        dot = pydot.Dot()
        dot.set("rankdir", rankdir)
        dot.set("concentrate", True)
        dot.set("dpi", dpi)
        dot.set_node_defaults(shape="record")
    options = (show_shapes, show_dtype, show_layer_names, show_layer_activations, show_trainable)
    nodes = _graph_nodes(model)
    if nodes is None:  # a subclassed model: one box per layer, in order
        previous = None
        for layer in getattr(model, "layers", []):
            dot.add_node(pydot.Node(str(id(layer)), label=_layer_label(layer, None, *options)))
            if previous is not None:
                dot.add_edge(pydot.Edge(str(id(previous)), str(id(layer))))
            previous = layer
        return dot

    entry, exit_ = {}, {}  # layer id -> graph node id where edges enter / leave
    for node in nodes:
        layer = node.layer
        if id(layer) in entry:
            continue
        if expand_nested and _graph_nodes(layer) is not None:
            cluster = model_to_dot(layer, *options[:3], rankdir, True, dpi, True, *options[3:])
            dot.add_subgraph(cluster)
            inner = _graph_nodes(layer)
            entry[id(layer)] = [str(id(n.layer)) for n in inner if not n.input_tensors]
            exit_[id(layer)] = [str(id(t._keras_history[0])) for t in layer.outputs]
        else:
            dot.add_node(pydot.Node(str(id(layer)), label=_layer_label(layer, node, *options)))
            entry[id(layer)] = exit_[id(layer)] = [str(id(layer))]
    drawn = set()
    for node in nodes:
        for tensor in getattr(node, "input_tensors", []):
            parent = tensor._keras_history[0]
            for source in exit_.get(id(parent), []):
                for target in entry[id(node.layer)]:
                    if (source, target) not in drawn:
                        drawn.add((source, target))
                        dot.add_edge(pydot.Edge(source, target))
    return dot


def plot_model(
    model,
    to_file="model.png",
    show_shapes=False,
    show_dtype=False,
    show_layer_names=False,
    rankdir="TB",
    expand_nested=False,
    dpi=200,
    show_layer_activations=False,
    show_trainable=False,
    **kwargs,
):
    """Draw the model to ``to_file``; the format comes from its suffix (``.png``, ``.svg``,
    ``.pdf``, ``.dot``...). Returns an ``IPython.display.Image`` in a notebook for PNGs.

    Raises:
        ImportError: naming what to install when pydot or Graphviz's ``dot`` is missing.
    """
    check_graphviz()
    dot = model_to_dot(
        model,
        show_shapes=show_shapes,
        show_dtype=show_dtype,
        show_layer_names=show_layer_names,
        rankdir=rankdir,
        expand_nested=expand_nested,
        dpi=dpi,
        show_layer_activations=show_layer_activations,
        show_trainable=show_trainable,
    )
    extension = os.path.splitext(os.fspath(to_file))[1][1:].lower() or "png"
    dot.write(os.fspath(to_file), format=extension)
    if extension == "png":
        try:
            from IPython import display

            return display.Image(filename=os.fspath(to_file))
        except ImportError:
            pass
    return None
