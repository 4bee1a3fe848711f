"""plot_model / model_to_dot: the denoiser's graph rendered by Graphviz, nested models, options,
and a clear error naming what to install when Graphviz is missing."""

import shutil

import pytest

import gpuk
from gpuk import layers, utils
from tests.saving.rnnoise_objects import build_rnnoise

pydot = pytest.importorskip("pydot", reason="pydot comes with the 'test' extra")
needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None,
    reason="Graphviz's `dot` is not installed (apt-get install graphviz); rendering not tested",
)


def _edges(dot):
    return {(e.get_source(), e.get_destination()) for e in dot.get_edges()}


def test_model_to_dot_has_one_box_per_layer_and_the_graph_edges():
    model = build_rnnoise()
    dot = utils.model_to_dot(model, show_shapes=True, show_layer_activations=True)
    labels = {n.get_name(): n.get("label") for n in dot.get_nodes() if n.get("label")}
    assert len(labels) == len(model.layers)
    by_name = {layer.name: str(id(layer)) for layer in model.layers}
    for layer in model.layers:
        text = labels[str(id(layer))]
        assert f"{layer.name} ({type(layer).__name__})" in text
    dense = next(la for la in model.layers if type(la).__name__ == "Dense")
    assert "Output shape: (None, None, " in labels[str(id(dense))]
    assert "Activation: " in labels[str(id(dense))]
    edges = _edges(dot)
    for layer in model.layers:
        for node in layer._inbound_nodes:
            for tensor in node.input_tensors:
                parent = tensor._keras_history[0]
                if parent.name in by_name:
                    assert (by_name[parent.name], by_name[layer.name]) in edges
    assert dot.get("rankdir") == "TB"
    assert utils.model_to_dot(model, rankdir="LR").get("rankdir") == "LR"


def test_nested_models_expand_into_a_cluster():
    inner_in = gpuk.Input((4,))
    inner = gpuk.Model(inner_in, layers.Dense(3, name="inner_dense")(inner_in), name="inner")
    outer_in = gpuk.Input((4,))
    outer = gpuk.Model(outer_in, layers.Dense(1, name="head")(inner(outer_in)))
    flat = utils.model_to_dot(outer)
    assert len([n for n in flat.get_nodes() if n.get("label")]) == 3
    expanded = utils.model_to_dot(outer, expand_nested=True)
    clusters = expanded.get_subgraphs()
    assert [c.get_name() for c in clusters] == ["cluster_inner"]
    head = next(la for la in outer.layers if la.name == "head")
    inner_dense = next(la for la in inner.layers if la.name == "inner_dense")
    assert (str(id(inner_dense)), str(id(head))) in _edges(expanded)


def test_unbuilt_model_and_bad_rankdir_are_refused():
    with pytest.raises(ValueError, match="not yet been built"):
        utils.model_to_dot(gpuk.Sequential([layers.Dense(2)]))
    model = gpuk.Sequential([gpuk.Input((2,)), layers.Dense(2)])
    with pytest.raises(ValueError, match="rankdir"):
        utils.model_to_dot(model, rankdir="BT!")


def test_missing_graphviz_names_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    model = gpuk.Sequential([gpuk.Input((2,)), layers.Dense(2)])
    with pytest.raises(ImportError, match="install Graphviz"):
        utils.plot_model(model, to_file=str(tmp_path / "m.png"))


@needs_dot
def test_plot_model_renders_the_denoiser_as_png_svg_and_pdf(tmp_path):
    model = build_rnnoise()
    png = tmp_path / "rnnoise.png"
    utils.plot_model(model, to_file=str(png), show_shapes=True, show_dtype=True, dpi=60)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 2000
    svg = tmp_path / "rnnoise.svg"
    utils.plot_model(model, to_file=str(svg), show_layer_names=True, rankdir="LR")
    text = svg.read_text()
    assert "<svg" in text and model.layers[-1].name in text
    pdf = tmp_path / "rnnoise.pdf"
    utils.plot_model(model, to_file=str(pdf))
    assert pdf.read_bytes()[:5] == b"%PDF-"
