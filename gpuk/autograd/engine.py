"""Reverse-mode gradient computation over recorded Nodes, iterative (no recursion limit)."""

from gpuk._array import get_array_module


def _topological_order(roots):
    """Nodes reachable from ``roots``, each before the nodes of its inputs."""
    order, seen = [], set()
    stack = [(node, False) for node in roots]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        stack.extend((t.node, False) for t in node.inputs if t.node is not None)
    order.reverse()
    return order


def _accumulate(current, new):
    return new if current is None else current + new


def gradients(targets, target_grads, sources):
    """Return d(sum of targets * target_grads)/d(source) for each source, or None.

    Args:
        targets: output Tensors.
        target_grads: arrays of the targets' shapes, the upstream gradients.
        sources: Tensors (leaves or intermediate) to differentiate with respect to.
    """
    wanted_leaves = {id(s): None for s in sources if s.node is None}
    wanted_outputs = {(id(s.node), s.index): None for s in sources if s.node is not None}
    pending = {}

    def add(tensor, grad):
        if tensor.node is None:
            if id(tensor) in wanted_leaves:
                wanted_leaves[id(tensor)] = _accumulate(wanted_leaves[id(tensor)], grad)
            return
        slots = pending.setdefault(id(tensor.node), [None] * len(tensor.node.output_meta))
        slots[tensor.index] = _accumulate(slots[tensor.index], grad)

    for target, grad in zip(targets, target_grads):
        add(target, grad)
    for node in _topological_order([t.node for t in targets if t.node is not None]):
        grads = pending.pop(id(node), None)
        if grads is None:
            continue
        for index, grad in enumerate(grads):
            if (id(node), index) in wanted_outputs:
                wanted_outputs[(id(node), index)] = grad
        grads = _fill_missing(grads, node)
        input_grads = node.function.backward(*grads)
        if not isinstance(input_grads, tuple):
            input_grads = (input_grads,)
        if len(input_grads) != len(node.inputs):
            raise RuntimeError(
                f"{type(node.function).__name__}.backward returned {len(input_grads)} "
                f"gradients for {len(node.inputs)} inputs"
            )
        needed = node.function.needs_input_grad
        for tensor, grad, wanted in zip(node.inputs, input_grads, needed):
            if grad is not None and wanted:
                add(tensor, grad)
    return [
        wanted_leaves[id(s)] if s.node is None else wanted_outputs[(id(s.node), s.index)]
        for s in sources
    ]


def _fill_missing(grads, node):
    """Outputs that received no gradient get zeros, so backward never sees None."""
    if all(g is not None for g in grads):
        return grads
    xp = get_array_module(*(g for g in grads if g is not None))
    return [
        xp.zeros(shape, dtype) if g is None else g
        for g, (shape, dtype) in zip(grads, node.output_meta)
    ]
