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
        for tensor in node.inputs:
            parent = tensor.node
            if parent is not None and id(parent) not in seen:
                stack.append((parent, False))
    order.reverse()
    return order


def gradients(targets, target_grads, sources):
    """Return d(sum of targets * target_grads)/d(source) for each source, or None.

    Args:
        targets: output Tensors.
        target_grads: arrays of the targets' shapes, the upstream gradients.
        sources: Tensors (leaves or intermediate) to differentiate with respect to.
    """
    # Hot path (every training step): plain loops and inlined accumulation.
    wanted_leaves, wanted_outputs = {}, {}
    for s in sources:
        if s.node is None:
            wanted_leaves[id(s)] = None
        else:
            wanted_outputs[(id(s.node), s.index)] = None
    pending = {}
    for target, grad in zip(targets, target_grads):
        _add(pending, wanted_leaves, target, grad)
    for node in _topological_order([t.node for t in targets if t.node is not None]):
        grads = pending.pop(id(node), None)
        if grads is None:
            continue
        if wanted_outputs:
            for index, grad in enumerate(grads):
                if (id(node), index) in wanted_outputs:
                    wanted_outputs[(id(node), index)] = grad
        for grad in grads:
            if grad is None:
                grads = _fill_missing(grads, node)
                break
        input_grads = node.function.backward(*grads)
        if not isinstance(input_grads, tuple):
            input_grads = (input_grads,)
        if len(input_grads) != len(node.inputs):
            raise RuntimeError(
                f"{type(node.function).__name__}.backward returned {len(input_grads)} "
                f"gradients for {len(node.inputs)} inputs"
            )
        for tensor, grad, wanted in zip(node.inputs, input_grads, node.function.needs_input_grad):
            if grad is None or not wanted:
                continue
            parent = tensor.node
            if parent is None:
                key = id(tensor)
                if key in wanted_leaves:
                    current = wanted_leaves[key]
                    wanted_leaves[key] = grad if current is None else current + grad
                continue
            slots = pending.get(id(parent))
            if slots is None:
                slots = pending[id(parent)] = [None] * len(parent.output_meta)
            current = slots[tensor.index]
            slots[tensor.index] = grad if current is None else current + grad
    return [
        wanted_leaves[id(s)] if s.node is None else wanted_outputs[(id(s.node), s.index)]
        for s in sources
    ]


def _add(pending, wanted_leaves, tensor, grad):
    """Accumulate ``grad`` into ``tensor``'s slot (its node's pending list, or a wanted leaf)."""
    if tensor.node is None:
        if id(tensor) in wanted_leaves:
            current = wanted_leaves[id(tensor)]
            wanted_leaves[id(tensor)] = grad if current is None else current + grad
        return
    slots = pending.setdefault(id(tensor.node), [None] * len(tensor.node.output_meta))
    current = slots[tensor.index]
    slots[tensor.index] = grad if current is None else current + grad


def _fill_missing(grads, node):
    """Outputs that received no gradient get zeros, so backward never sees None."""
    if all(g is not None for g in grads):
        return grads
    xp = get_array_module(*(g for g in grads if g is not None))
    return [
        xp.zeros(shape, dtype) if g is None else g
        for g, (shape, dtype) in zip(grads, node.output_meta)
    ]
