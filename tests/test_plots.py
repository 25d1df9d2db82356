"""Plots: the drawn data (lines, bands, offsets, images, bars) equals the input."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402

from socialmarl.analysis.importance import AttentionFit  # noqa: E402
from socialmarl.analysis.metrics import over_steps, summarise, sweep_table  # noqa: E402
from socialmarl.analysis.plots import (  # noqa: E402
    OPINION_COLOURS,
    plot_agent_correlations,
    plot_attention_heatmap,
    plot_attention_scatter,
    plot_network_opinions,
    plot_network_stats,
    plot_over_steps,
    plot_sweep,
)
from socialmarl.analysis.style import CONFORMITY_LABEL, metric_label, metric_name  # noqa: E402
from socialmarl.networks.generators import erdos_renyi_graph, stochastic_block_graph  # noqa: E402
from tests.figure_geometry import node_boxes  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _episodes(seed=0, b=8, t=5, n=10):
    rng = np.random.default_rng(seed)
    o = rng.integers(0, 3, size=(b, t, n))
    return o, rng.integers(0, 2, size=b), erdos_renyi_graph(n, 0.4, seed=seed)


def _band_ys(coll) -> np.ndarray:
    return np.round(coll.get_paths()[0].vertices[:, 1], 12)


def test_over_steps_lines_and_bands_equal_table():
    o, truth, g = _episodes()
    table = over_steps(o, truth, g, n_boot=100)
    fig, ax = plt.subplots()
    out = plot_over_steps(table, ["accuracy", "agreement"], ax=ax)
    assert out is fig
    assert len(ax.lines) == 2 and len(ax.collections) == 2
    for line, band, m in zip(ax.lines, ax.collections, ["accuracy", "agreement"]):
        d = table[table.metric == m].sort_values("step")
        np.testing.assert_allclose(line.get_xdata(), d.step)
        np.testing.assert_allclose(line.get_ydata(), d.value)
        ys = _band_ys(band)
        for v in np.r_[d.ci_low.to_numpy(), d.ci_high.to_numpy()]:
            assert np.isclose(ys, v).any()
        assert line.get_label() == metric_name(m)
    assert ax.get_ylabel() == f"{metric_label('accuracy')}; {metric_label('agreement')}"
    assert "_" not in ax.get_ylabel() + ax.get_xlabel()
    # one line per value of a hue column
    table2 = pd.concat(
        [table.assign(network="a"), table.assign(network="b", value=table.value / 2)]
    )
    fig2 = plot_over_steps(table2, ["accuracy"], hue="network")
    ys = [ln.get_ydata() for ln in fig2.axes[0].lines]
    acc = table[table.metric == "accuracy"].sort_values("step").value.to_numpy()
    np.testing.assert_allclose(ys[0], acc)
    np.testing.assert_allclose(ys[1], acc / 2)
    with pytest.raises(ValueError, match="not in the table"):
        plot_over_steps(table, ["lying_rate"])


def test_sweep_panels_lines_and_bands_equal_table():
    o, truth, g = _episodes(1)
    beliefs = np.random.default_rng(1).random(o.shape)
    sums = {}
    for k, net in enumerate(["er", "sbm"]):
        for a in (1.0, 0.0, 0.5):
            oo = (o + k) % 3 if a < 1 else o
            sums[(net, a)] = summarise(oo, truth, g, beliefs=beliefs, groups=[0] * 5 + [1] * 5,
                                       n_boot=50)
    table = sweep_table(sums)
    metrics = ["accuracy_final", "lying_rate", "group_variance_final"]
    fig, axs = plt.subplots(1, 3)
    assert plot_sweep(table, metrics, ax=axs) is fig
    for a, m in zip(axs, metrics):
        # titles and axis labels in words with units, never the raw column name
        assert a.get_title() == metric_name(m) and a.get_ylabel() == metric_label(m)
        assert a.get_xlabel() == CONFORMITY_LABEL
        assert "_" not in a.get_title() + a.get_ylabel() + a.get_xlabel()
        assert [ln.get_label() for ln in a.lines] == ["er", "sbm"]
        for line, band, net in zip(a.lines, a.collections, ["er", "sbm"]):
            d = table[(table.metric == m) & (table.network == net)]
            d = d.assign(c=1 - d.alpha).sort_values("c")
            np.testing.assert_allclose(line.get_xdata(), [0.0, 0.5, 1.0])
            np.testing.assert_allclose(line.get_ydata(), d.value)
            ys = _band_ys(band)
            for v in np.r_[d.ci_low.to_numpy(), d.ci_high.to_numpy()]:
                assert np.isclose(ys, v).any()
    with pytest.raises(ValueError, match="sequence of 3 Axes"):
        plot_sweep(table, metrics, ax=axs[:2])
    with pytest.raises(ValueError, match="lacks column"):
        plot_sweep(table.drop(columns="ci_low"))


def _fit_case(seed=2):
    g = stochastic_block_graph([12, 12], 0.5, 0.1, seed=seed, directed=True)
    rng = np.random.default_rng(seed)
    human = rng.exponential(size=g.num_edges)
    learned = human * np.exp(rng.normal(size=g.num_edges))
    return g, learned, human


def test_attention_scatter_offsets_are_row_normalised_weights():
    g, learned, human = _fit_case()
    fig = plot_attention_scatter(g, learned, human)
    off = fig.axes[0].collections[0].get_offsets()
    rcv = g.edge_index[1].numpy()
    hs = np.array([human[k] / human[rcv == rcv[k]].sum() for k in range(g.num_edges)])
    ls = np.array([learned[k] / learned[rcv == rcv[k]].sum() for k in range(g.num_edges)])
    np.testing.assert_allclose(off[:, 0], hs)
    np.testing.assert_allclose(off[:, 1], ls)
    raw = plot_attention_scatter(g, learned, human, normalise=False).axes[0].collections[0]
    np.testing.assert_allclose(raw.get_offsets(), np.c_[human, learned])


def test_agent_correlation_histogram_and_baseline_lines():
    g, learned, human = _fit_case(3)
    fit = AttentionFit(n_boot=50, n_perm=30).fit(g, {(0.5, 0): learned, (1.0, 0): human}, human)
    fig = plot_agent_correlations(fit, alpha=0.5, bins=10)
    ax = fig.axes[0]
    rho = fit.per_agent_[(fit.per_agent_.model == "learned") & (fit.per_agent_.alpha == 0.5)]
    counts, _ = np.histogram(rho.spearman, bins=np.linspace(-1, 1, 11))
    np.testing.assert_allclose([p.get_height() for p in ax.patches], counts)
    xs = {ln.get_label(): ln.get_xdata()[0] for ln in ax.lines}
    t = fit.table_[fit.table_.metric == "spearman"]
    assert xs["learned mean"] == pytest.approx(fit.score(alpha=0.5))
    names = {"uniform": "uniform attention", "popularity": "popularity attention",
             "permuted_human": "permuted human weights"}
    for m, label in names.items():
        assert xs[label] == pytest.approx(t[t.model == m].value.iloc[0])
    assert "_" not in ax.get_xlabel() and "Spearman" in ax.get_xlabel()
    with pytest.raises(ValueError, match="several learned"):
        plot_agent_correlations(fit)
    js = plot_agent_correlations(fit.per_agent_, metric="js_divergence", alpha=1.0, bins=4)
    assert sum(p.get_height() for p in js.axes[0].patches) == fit.eligible_.sum()


def test_attention_heatmap_image_is_reordered_matrix():
    g, learned, human = _fit_case(4)
    groups = np.random.default_rng(4).integers(0, 3, g.num_nodes)
    fig = plot_attention_heatmap(g, learned, groups=groups)
    img = fig.axes[0].images[0].get_array()
    n = g.num_nodes
    mat = np.zeros((n, n))
    for k, (j, i) in enumerate(g.edge_index.T.tolist()):
        mat[i, j] = learned[k]
    mat = mat / np.where(mat.sum(1, keepdims=True) > 0, mat.sum(1, keepdims=True), 1)
    order = sorted(range(n), key=lambda u: (groups[u], u))
    np.testing.assert_allclose(np.asarray(img), mat[np.ix_(order, order)])
    # by node attribute, and from a dense matrix
    fig2 = plot_attention_heatmap(g, mat, groups="block")
    order2 = sorted(range(n), key=lambda u: (g.node_attrs["block"][u], u))
    np.testing.assert_allclose(np.asarray(fig2.axes[0].images[0].get_array()),
                               mat[np.ix_(order2, order2)])


def test_network_opinion_nodes_positions_and_colours():
    o, _, g = _episodes(5, n=10)
    fig = plot_network_opinions(g, o, episode=3, step=2, seed=11)
    nodes = [c for c in fig.axes[0].collections if c.get_gid() == "nodes"][0]
    pos = nx.spring_layout(g.to_networkx(), seed=11)
    np.testing.assert_allclose(nodes.get_offsets(), np.array([pos[u] for u in range(10)]))
    want = np.array([to_rgba(OPINION_COLOURS[int(c)]) for c in o[3, 2]])
    np.testing.assert_allclose(nodes.get_facecolors(), want)
    # a given layout is used as is, and one step of codes is accepted
    pos2 = {u: (float(u), 0.0) for u in range(10)}
    fig2 = plot_network_opinions(g, o[0, -1], pos=pos2)
    off = fig2.axes[0].collections[0].get_offsets()
    np.testing.assert_allclose(off, [[u, 0.0] for u in range(10)])
    with pytest.raises(ValueError, match="one code per agent"):
        plot_network_opinions(g, np.zeros(3, int))


def test_network_stats_bars_equal_summary():
    s = pd.DataFrame({
        "graph": ["ring", "ba", "congress"],
        "nodes": [20, 50, 475],
        "reciprocity": [1.0, 1.0, 0.42],
        "clustering": [0.5, 0.12, 0.3],
        "directed": [False, False, True],
    })
    fig = plot_network_stats(s)
    assert [a.get_title() for a in fig.axes] == ["nodes", "reciprocity", "clustering"]
    for a in fig.axes:
        col = a.get_title()
        np.testing.assert_allclose([p.get_height() for p in a.patches], s[col])
        assert [t.get_text() for t in a.get_xticklabels()] == s.graph.tolist()
    fig2, ax = plt.subplots()
    assert plot_network_stats(s.set_index("graph"), ["clustering"], ax=ax) is fig2
    np.testing.assert_allclose([p.get_height() for p in ax.patches], s.clustering)
    with pytest.raises(ValueError, match="not numeric"):
        plot_network_stats(s, ["graph"])


@pytest.mark.parametrize(
    "graph_kw",
    [
        dict(node_size=60.0),  # a spring layout: nodes everywhere
        dict(node_size=60.0, figsize=(3.0, 2.0)),  # a small panel
        dict(node_size=600.0, pos="bottom"),  # big markers on the bottom edge
    ],
)
def test_network_opinion_legend_never_covers_a_node(graph_kw):
    from socialmarl.networks.generators import karate_club

    g = karate_club()
    o = np.arange(34) % 3
    fig, ax = plt.subplots(figsize=graph_kw.get("figsize", (5.0, 5.0)))
    pos = None
    if graph_kw.get("pos") == "bottom":  # every node in the lowest band, some in corners
        pos = {u: (float(u % 17), float(u // 17) * 0.05) for u in range(34)}
    plot_network_opinions(g, o, ax=ax, seed=3, pos=pos, node_size=graph_kw["node_size"])
    fig.canvas.draw()
    legend = ax.get_legend()
    assert legend is not None
    texts = [t.get_text() for t in legend.get_texts()]
    assert texts == ["guess 0 (12)", "guess 1 (11)", "wait (11)"]
    box = legend.get_window_extent()
    nodes = next(c for c in ax.collections if c.get_gid() == "nodes")
    hits = [u for u, b in enumerate(node_boxes(fig, nodes)) if b.overlaps(box)]
    assert hits == [], f"the legend covers nodes {hits}"
    # outside the drawing area: entirely below the axes
    assert box.y1 <= ax.get_window_extent().y0


def test_every_plot_labels_axes_in_words_in_the_package_style():
    """No axis label, title or legend entry of any plot shows a raw name (underscores)."""
    from socialmarl.analysis.style import RC

    o, truth, g = _episodes(6)
    gf, learned, human = _fit_case(6)
    s = pd.DataFrame({"graph": ["a", "b"], "mean_degree": [2.0, 3.0]})
    sums = {("er", a): summarise(o, truth, g, n_boot=20) for a in (0.0, 1.0)}
    figs = [
        plot_over_steps(over_steps(o, truth, g, n_boot=20), ["accuracy", "edge_disagreement"]),
        plot_sweep(sweep_table(sums), ["accuracy_final", "edge_disagreement_final"]),
        plot_attention_scatter(gf, learned, human),
        plot_attention_heatmap(gf, learned, groups="block"),
        plot_network_opinions(g, o),
        plot_network_stats(s),
    ]
    for fig in figs:
        for ax in fig.axes:
            texts = [ax.get_xlabel(), ax.get_ylabel(), ax.get_title()]
            if ax.get_legend() is not None:
                texts += [t.get_text() for t in ax.get_legend().get_texts()]
            assert not any("_" in t for t in texts), texts
            if ax.get_label() != "<colorbar>" and ax.axison:
                assert not ax.spines["top"].get_visible()  # the package style was active
    assert RC["axes.spines.top"] is False
