"""Nested structures (lists, tuples, dicts of leaves, as Keras's ``keras.tree``) and shape
structures; pure Python, level 0 so that autograd, ops and layers share one walk."""

import numpy as np


def flatten(structure):
    """Leaves of nested lists, tuples and dicts (dicts in sorted-key order, as Keras's tree)."""
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flatten(item)]
    if isinstance(structure, dict):
        return [leaf for key in sorted(structure) for leaf in flatten(structure[key])]
    return [structure]


def map_structure(fn, structure):
    """Apply ``fn`` to every leaf, keeping lists, tuples and dicts."""
    if isinstance(structure, list):
        return [map_structure(fn, item) for item in structure]
    if isinstance(structure, tuple):
        return tuple(map_structure(fn, item) for item in structure)
    if isinstance(structure, dict):
        return {key: map_structure(fn, value) for key, value in structure.items()}
    return fn(structure)


def pack_like(structure, leaves):
    """Inverse of :func:`flatten`: rebuild ``structure`` with ``leaves`` in its place."""
    return _rebuild(structure, iter(leaves))


def _rebuild(item, leaves):
    # A module-level function, not a closure over itself: a self-referencing closure is a
    # reference cycle that kept the leaves (a step's outputs, and through them its whole
    # autograd graph) alive until the cyclic garbage collector ran.
    if isinstance(item, list):
        return [_rebuild(i, leaves) for i in item]
    if isinstance(item, tuple):
        return tuple(_rebuild(i, leaves) for i in item)
    if isinstance(item, dict):
        rebuilt = {key: _rebuild(item[key], leaves) for key in sorted(item)}
        return {key: rebuilt[key] for key in item}
    return next(leaves)


def is_shape(value):
    """True for one shape: a tuple/list of ints and Nones (not a list of shapes)."""
    return isinstance(value, (tuple, list)) and all(
        v is None or isinstance(v, (int, np.integer)) for v in value
    )


def normalize_shape(shape):
    """A shape as a tuple of Python ints and Nones."""
    return tuple(None if s is None else int(s) for s in shape)


def map_shapes(fn, shapes):
    """Apply ``fn`` to each shape in a shape structure (one shape, a list or a dict of them)."""
    if is_shape(shapes):
        return fn(normalize_shape(shapes))
    if isinstance(shapes, dict):
        return {key: map_shapes(fn, value) for key, value in shapes.items()}
    return [map_shapes(fn, s) for s in shapes]


def flatten_shapes(shapes):
    """The individual shapes in a shape structure."""
    if is_shape(shapes):
        return [normalize_shape(shapes)]
    if isinstance(shapes, dict):
        return [s for key in sorted(shapes) for s in flatten_shapes(shapes[key])]
    return [s for item in shapes for s in flatten_shapes(item)]
