"""``model.summary()``: Keras's table of layers, output shapes and parameter counts."""


def _format_shape(layer):
    try:
        shape = layer.output_shape
    except (AttributeError, ValueError):
        return "?"
    if isinstance(shape, list):
        return str([tuple(s) for s in shape]) if len(shape) != 1 else str(tuple(shape[0]))
    return str(tuple(shape))


def _count(layer):
    try:
        return layer.count_params()
    except ValueError:
        return 0


def _weights_size(weights):
    total = sum(int(v.size) * v.dtype.itemsize for v in weights)
    for unit in ("B", "KB", "MB", "GB"):
        if total < 1024 or unit == "GB":
            return f"{total:.2f} {unit}"
        total /= 1024.0


def _row(fields, positions):
    line = ""
    for i, field in enumerate(fields):
        if i > 0:
            line = line[:-1] + " "
        line += str(field)
        line = line[: positions[i]]
        line += " " * (positions[i] - len(line))
    return line.rstrip()


def print_summary(model, line_length=None, positions=None, print_fn=None, show_trainable=False):
    """Print ``model``'s summary line by line through ``print_fn`` (``print`` by default)."""
    print_fn = print_fn or print
    # Sequential says so with a class attribute: importing it here would close the circle
    # functional -> summary -> sequential -> functional.
    sequential = getattr(model, "_is_sequential", False)
    if sequential:
        model._ensure_graph()
    sequential_like = sequential or not hasattr(model, "_nodes_by_depth")
    if not sequential_like:
        # A graph where every layer has one input from the previous one prints like Sequential.
        nodes = [n for v in model._nodes_by_depth.values() for n in v]
        sequential_like = (
            all(len(n.input_tensors) <= 1 for n in nodes)
            and all(len([n for n in nodes if n.layer is layer]) == 1 for layer in model.layers)
            and len(model.inputs) == 1
            and len(model.outputs) == 1
        )
        sequential_like = sequential_like and len(nodes) == len(model.layers)
    if sequential_like:
        line_length = line_length or 65
        positions = positions or [0.45, 0.85, 1.0]
        headers = ["Layer (type)", "Output Shape", "Param #"]
    else:
        line_length = line_length or 98
        positions = positions or [0.33, 0.55, 0.67, 1.0]
        headers = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]

    layers = model.layers
    if sequential and not model.built:
        raise ValueError(
            f"This model ({model.name!r}) has not yet been built. Build the model first by "
            "calling `build()` or by calling the model on a batch of data."
        )
    print_fn(f'Model: "{model.name}"')
    print_fn("_" * line_length)
    print_fn(_row(headers, positions))
    print_fn("=" * line_length)
    for i, layer in enumerate(layers):
        fields = [f"{layer.name} ({type(layer).__name__})", _format_shape(layer), _count(layer)]
        if not sequential_like:
            connections = []
            network_nodes = getattr(model, "_network_nodes", set())
            for node in layer._inbound_nodes:
                if id(node) not in network_nodes or node.is_input:
                    continue
                for tensor in node.input_tensors:
                    producer, node_index, tensor_index = tensor._keras_history
                    connections.append(f"{producer.name}[{node_index}][{tensor_index}]")
            fields.append(connections[0] if connections else "-")
            print_fn(_row(fields, positions))
            for extra in connections[1:]:
                print_fn(_row(["", "", "", extra], positions))
        else:
            print_fn(_row(fields, positions))
        print_fn(("=" if i == len(layers) - 1 else "_") * line_length)
    if not layers:
        print_fn("=" * line_length)
    trainable = model.trainable_weights
    non_trainable = model.non_trainable_weights
    n_train = sum(int(v.size) for v in trainable)
    n_non = sum(int(v.size) for v in non_trainable)
    print_fn(f"Total params: {n_train + n_non:,} ({_weights_size(trainable + non_trainable)})")
    print_fn(f"Trainable params: {n_train:,} ({_weights_size(trainable)})")
    print_fn(f"Non-trainable params: {n_non:,} ({_weights_size(non_trainable)})")
    print_fn("_" * line_length)
