"""The one figure style: labels in words, stable network colours, atomic and careful saving."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import seaborn as sns  # noqa: E402

from socialmarl.analysis.metrics import summarise  # noqa: E402
from socialmarl.analysis.style import (  # noqa: E402
    CONFORMITY_LABEL,
    METRIC_LABELS,
    metric_label,
    metric_name,
    network_colours,
    save_figure,
    style_context,
)
from socialmarl.networks.generators import erdos_renyi_graph  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_every_label_is_in_words_and_summarise_metrics_all_have_one():
    for m, (short, full) in METRIC_LABELS.items():
        assert "_" not in short and "_" not in full, m
        assert "(" in full or "Spearman" in full, m  # a unit or scale is named
    assert metric_label("accuracy_final") == "final accuracy (share of agents right)"
    assert metric_label("lying_rate") == "lying rate (share of guesses against own belief)"
    assert metric_label("edge_disagreement_final") == "edges in disagreement (share)"
    assert metric_label("attention_spearman") == "Spearman correlation with human weights"
    assert CONFORMITY_LABEL == "conformity 1 - α"
    # unknown metrics still read as words
    assert metric_label("brand_new_metric") == metric_name("brand_new_metric") == \
        "brand new metric"
    # every metric the tables produce has a written label (not the fallback)
    rng = np.random.default_rng(0)
    b, t, n = 4, 3, 6
    g = erdos_renyi_graph(n, 0.5, seed=0)
    s = summarise(rng.integers(0, 3, (b, t, n)), rng.integers(0, 2, b), g,
                  beliefs=rng.random((b, t, n)), groups=[0, 0, 0, 1, 1, 1],
                  rewards=rng.random((b, t, n)), signals=rng.random((b, n)), n_boot=10)
    missing = sorted(set(s.metric) - set(METRIC_LABELS))
    assert missing == []
    new = ["belief_accuracy_final", "belief_brier_final", "signal_brier",
           "attention_spearman_uniform", "attention_spearman_popularity"]
    assert set(new) <= set(METRIC_LABELS)


def test_network_colours_are_colour_blind_and_stable_by_order():
    cb = [tuple(c) for c in sns.color_palette("colorblind")]
    c = network_colours(["b", "a", "b", "c"])
    assert list(c) == ["b", "a", "c"]
    assert [c[k] for k in ("b", "a", "c")] == cb[:3]
    assert network_colours(["b", "a"]) == {"b": cb[0], "a": cb[1]}
    many = network_colours([str(k) for k in range(12)])
    assert many["10"] == cb[0]


def test_style_context_sets_the_look_and_restores_it():
    before = plt.rcParams["axes.spines.top"]
    with style_context():
        assert plt.rcParams["axes.spines.top"] is False
        assert plt.rcParams["svg.fonttype"] == "none"
    assert plt.rcParams["axes.spines.top"] == before


def _fig():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    ax.set_xlabel("a label to find")
    return fig


def test_save_figure_writes_png_and_svg_and_refuses_to_replace(tmp_path):
    fig = _fig()
    paths = save_figure(fig, tmp_path / "sub" / "fig")
    assert [p.name for p in paths] == ["fig.png", "fig.svg"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = paths[1].read_text()
    assert "<svg" in svg and "a label to find" in svg  # text stays text
    before = [p.read_bytes() for p in paths]
    with pytest.raises(FileExistsError, match="overwrite=True"):
        save_figure(fig, tmp_path / "sub" / "fig")
    assert [p.read_bytes() for p in paths] == before
    # same figure, same bytes (no dates): overwrite gives identical files
    again = save_figure(fig, tmp_path / "sub" / "fig", overwrite=True)
    assert [p.read_bytes() for p in again] == before
    # no temporary files left behind
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["fig.png", "fig.svg"]


def test_save_figure_refuses_before_writing_anything(tmp_path):
    fig = _fig()
    (tmp_path / "f.svg").write_text("mine")
    with pytest.raises(FileExistsError, match="f.svg"):
        save_figure(fig, tmp_path / "f")
    assert not (tmp_path / "f.png").exists()
    assert (tmp_path / "f.svg").read_text() == "mine"
    with pytest.raises(ValueError, match="cannot be written"):
        save_figure(fig, tmp_path / "g", formats=("png", "docx"))
    assert not (tmp_path / "g.png").exists()
    assert [p.name for p in save_figure(fig, tmp_path / "h", formats="pdf")] == ["h.pdf"]
