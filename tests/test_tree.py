"""gpuk._tree: the one walk over nested structures (autograd, ops and layers share it)."""

import numpy as np

from gpuk import _tree


def test_flatten_orders_dict_keys_and_pack_like_inverts_it():
    structure = {"b": [1, (2, 3)], "a": 4}
    leaves = _tree.flatten(structure)
    assert leaves == [4, 1, 2, 3]
    rebuilt = _tree.pack_like(structure, [x * 10 for x in leaves])
    assert rebuilt == {"b": [10, (20, 30)], "a": 40}
    assert list(rebuilt) == ["b", "a"] and isinstance(rebuilt["b"][1], tuple)


def test_map_structure_keeps_containers():
    assert _tree.map_structure(lambda x: x + 1, [1, (2, {"k": 3})]) == [2, (3, {"k": 4})]


def test_shape_structures():
    assert _tree.is_shape((None, np.int64(3))) and not _tree.is_shape([(1,), (2,)])
    assert _tree.normalize_shape([np.int32(2), None]) == (2, None)
    assert _tree.map_shapes(lambda s: s[1:], {"x": (4, 5), "y": [(1, 2), (3, 4)]}) == {
        "x": (5,),
        "y": [(2,), (4,)],
    }


def test_gradient_tape_packs_sources_with_the_shared_walk():
    import gpuk

    a, b = gpuk.Variable(np.float32(2.0)), gpuk.Variable(np.float32(3.0))
    with gpuk.autograd.GradientTape() as tape:
        y = a * b
    grads = tape.gradient(y, {"b": b, "a": a})
    assert float(grads["a"].numpy()) == 3.0 and float(grads["b"].numpy()) == 2.0


def test_pack_like_leaves_no_reference_cycle():
    # A cycle here kept a training step's outputs, and its whole autograd graph, alive until
    # the cyclic garbage collector ran (issue 14: the GRU's workspace was never reused).
    import gc

    gc.collect()
    gc.disable()
    try:
        _tree.pack_like({"a": [1, (2, 3)], "b": 4}, [object() for _ in range(4)])
        assert gc.collect() == 0
    finally:
        gc.enable()
