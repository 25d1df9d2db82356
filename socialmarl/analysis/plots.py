"""Figures: opinion dynamics over steps, alpha sweeps, attention against human data, networks.

Every function draws with matplotlib in the one style of :mod:`socialmarl.analysis.style`
(colour-blind palette, a colour per network, axis labels in words with units), takes an
optional ``ax`` (an Axes, or a sequence of Axes for the multi-panel figures) and returns the
:class:`matplotlib.figure.Figure`; :func:`socialmarl.analysis.style.save_figure` saves it.
Inputs are the tidy tables of :mod:`socialmarl.analysis.metrics` and the arrays of
:mod:`socialmarl.analysis.importance`:

* :func:`plot_over_steps` -- metrics over the steps of an episode with CI bands (the table
  of :func:`socialmarl.analysis.metrics.over_steps`);
* :func:`plot_sweep` -- metrics against conformity ``1 - alpha``, one line per network with
  CI bands (the table of :func:`socialmarl.analysis.metrics.sweep_table`: columns ``network,
  alpha, metric, value, ci_low, ci_high``);
* :func:`plot_attention_scatter`, :func:`plot_agent_correlations`,
  :func:`plot_attention_heatmap` -- learned attention against human weights;
* :func:`plot_network_opinions` -- the network with nodes coloured by stated opinion;
* :func:`plot_network_stats` -- network statistics side by side (one row per graph).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
import pandas as pd
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties

from ..networks.graph import Graph
from .importance import AttentionFit, edge_weights, row_normalise
from .metrics import group_labels
from .style import (
    CONFORMITY_LABEL,
    PALETTE,
    metric_label,
    metric_name,
    network_colours,
    style_context,
)

__all__ = [
    "OPINION_COLOURS",
    "plot_over_steps",
    "plot_sweep",
    "plot_attention_scatter",
    "plot_agent_correlations",
    "plot_attention_heatmap",
    "plot_network_opinions",
    "plot_network_stats",
]

#: Node colours of the stated codes 0, 1 and 2 (wait).
OPINION_COLOURS = {0: "#0072B2", 1: "#D55E00", 2: "#BBBBBB"}
_OPINION_NAMES = {0: "guess 0", 1: "guess 1", 2: "wait"}


def _axes(
    ax: Any, n: int, width: float = 4.0, height: float = 3.2, ncols: int | None = None
) -> list[Axes]:
    """``n`` axes: the given ones (an Axes or a sequence of ``n``) or a new grid of panels."""
    if ax is None:
        cols = n if ncols is None else max(1, min(int(ncols), n))
        rows = -(-n // cols)
        fig, axs = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
        flat = list(axs.ravel())
        for extra in flat[n:]:
            fig.delaxes(extra)
        return flat[:n]
    axs = [ax] if isinstance(ax, Axes) else list(np.ravel(np.asarray(ax, dtype=object)))
    if len(axs) != n or not all(isinstance(a, Axes) for a in axs):
        raise ValueError(
            f"ax must be {'an Axes' if n == 1 else f'a sequence of {n} Axes'} (one per panel); "
            f"got {len(axs)} object(s)"
        )
    return axs


def _need(df: pd.DataFrame, cols: Sequence[str], what: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{what} must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{what} lacks column(s) {missing}; it has {list(df.columns)}")


_BASELINE_NAMES = {"uniform": "uniform attention", "popularity": "popularity attention",
                   "permuted_human": "permuted human weights"}


def _shared_label(metrics: Sequence[str]) -> str:
    """One y label for several metrics on one axis: the label, or all labels joined."""
    labels = list(dict.fromkeys(metric_label(m) for m in metrics))
    return "; ".join(labels)


def _line_with_band(ax: Axes, x: np.ndarray, d: pd.DataFrame, label: str, colour: Any) -> None:
    ax.plot(x, d["value"].to_numpy(dtype=float), marker="o", ms=3, label=label, color=colour)
    if {"ci_low", "ci_high"} <= set(d.columns):
        ax.fill_between(x, d["ci_low"].to_numpy(dtype=float), d["ci_high"].to_numpy(dtype=float),
                        alpha=0.25, color=colour, linewidth=0)


def plot_over_steps(
    table: pd.DataFrame,
    metrics: Sequence[str] = ("accuracy", "agreement"),
    *,
    hue: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Metrics over the steps of an episode, mean with bootstrap CI bands, on one Axes.

    Parameters
    ----------
    table : DataFrame
        Columns ``step, metric, value`` and optionally ``ci_low, ci_high`` (the output of
        :func:`socialmarl.analysis.metrics.over_steps`).
    metrics : sequence of str
        Metrics to draw, one line each.
    hue : str, optional
        A further column (e.g. ``"network"`` or ``"alpha"``) giving one line per value.
    ax : Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
        Lines are labelled with the metrics' names in words
        (:func:`~socialmarl.analysis.style.metric_name`); the y axis names the metric with its
        unit (one metric) or the units of all.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"step": [0, 1, 0, 1], "metric": ["accuracy"] * 2 + ["agreement"] * 2,
    ...                   "value": [0.5, 0.9, 0.2, 0.8], "ci_low": 0.0, "ci_high": 1.0})
    >>> fig = plot_over_steps(t)
    >>> [line.get_ydata().tolist() for line in fig.axes[0].lines]
    [[0.5, 0.9], [0.2, 0.8]]
    >>> fig.axes[0].get_ylabel()
    'accuracy (share of agents right); agreement (share of edges agreeing)'
    >>> plt.close(fig)
    """
    with style_context():
        _need(table, ["step", "metric", "value"] + ([hue] if hue else []), "table")
        unknown = sorted(set(metrics) - set(table["metric"]))
        if unknown:
            raise ValueError(
                f"metrics {unknown} not in the table; it has {sorted(set(table.metric))}"
            )
        (a,) = _axes(ax, 1, 5.0, 3.5)
        groups = [(m, None) for m in metrics] if hue is None else [
            (m, h) for m in metrics for h in table[hue].drop_duplicates()
        ]
        colours = [PALETTE[k % len(PALETTE)] for k in range(len(groups))]
        for (m, h), c in zip(groups, colours):
            d = table[table["metric"] == m]
            if hue is not None:
                d = d[d[hue] == h]
            d = d.sort_values("step")
            name = metric_name(m)
            label = name if h is None else f"{name} ({hue.replace('_', ' ')} {h})"
            _line_with_band(a, d["step"].to_numpy(), d, label, c)
        a.set_xlabel("step of the episode")
        a.set_ylabel(_shared_label(metrics))
        a.legend()
        return a.figure


def plot_sweep(
    table: pd.DataFrame,
    metrics: Sequence[str] = ("accuracy_final", "lying_rate", "group_variance_final"),
    *,
    ax: Axes | Sequence[Axes] | None = None,
) -> Figure:
    """Metrics against conformity ``1 - alpha``: one panel per metric, a line per network.

    Parameters
    ----------
    table : DataFrame
        Columns ``network, alpha, metric, value, ci_low, ci_high`` (the output of
        :func:`socialmarl.analysis.metrics.sweep_table`).
    metrics : sequence of str
        One panel each, e.g. accuracy, lying and polarisation.
    ax : Axes or sequence of Axes, optional
        One per metric.

    Returns
    -------
    matplotlib.figure.Figure
        Each panel is titled with the metric's name in words and its y axis with the name
        and unit (:func:`~socialmarl.analysis.style.metric_label`); lines are labelled with
        the networks, coloured by :func:`~socialmarl.analysis.style.network_colours`.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"network": "ring", "alpha": [1.0, 0.0], "metric": "accuracy_final",
    ...                   "value": [0.9, 0.6], "ci_low": [0.8, 0.5], "ci_high": [1.0, 0.7]})
    >>> fig = plot_sweep(t, ["accuracy_final"])
    >>> fig.axes[0].lines[0].get_xdata().tolist(), fig.axes[0].lines[0].get_ydata().tolist()
    ([0.0, 1.0], [0.9, 0.6])
    >>> fig.axes[0].get_title(), fig.axes[0].get_ylabel()
    ('final accuracy', 'final accuracy (share of agents right)')
    >>> plt.close(fig)
    """
    with style_context():
        _need(table, ["network", "alpha", "metric", "value", "ci_low", "ci_high"], "table")
        unknown = sorted(set(metrics) - set(table["metric"]))
        if unknown:
            raise ValueError(
                f"metrics {unknown} not in the table; it has {sorted(set(table.metric))}"
            )
        axs = _axes(ax, len(metrics))
        nets = list(table["network"].drop_duplicates())
        colours = network_colours(nets)
        for a, m in zip(axs, metrics):
            for net in nets:
                d = table[(table["metric"] == m) & (table["network"] == net)].copy()
                if d.empty:
                    continue
                d["conformity"] = 1.0 - d["alpha"].astype(float)
                d = d.sort_values("conformity")
                _line_with_band(a, d["conformity"].to_numpy(), d, str(net), colours[net])
            a.set_xlabel(CONFORMITY_LABEL)
            a.set_ylabel(metric_label(m))
            a.set_title(metric_name(m))
        axs[0].legend(title="network")
        return axs[0].figure


def _attention_pair(graph: Graph, learned: Any, human: Any | None,
                    normalise: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if human is None:
        if graph.edge_weight is None:
            raise ValueError("no human weights: pass human=... or a graph with edge_weight")
        human = graph.edge_weight
    ei = graph.edge_index.cpu().numpy()
    keep = ei[0] != ei[1]
    if normalise:
        lw, hw = row_normalise(graph, learned), row_normalise(graph, human)
    else:
        lw = edge_weights(graph, learned, name="learned")
        hw = edge_weights(graph, human, name="human")
    return lw[keep], hw[keep], keep


def plot_attention_scatter(
    graph: Graph,
    learned: Any,
    human: Any | None = None,
    *,
    normalise: bool = True,
    ax: Axes | None = None,
) -> Figure:
    """Per edge: learned attention (y) against human weight (x), self loops left out.

    Parameters
    ----------
    graph : Graph
    learned, human : array or Tensor
        Any form accepted by :func:`socialmarl.analysis.importance.edge_weights`; ``human`` defaults
        to ``graph.edge_weight``. (From a fit: ``fit.learned_[key]`` and ``fit.human_``.)
    normalise : bool
        Normalise both over each attending agent's neighbours first.
    ax : Axes, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from socialmarl.networks.graph import Graph
    >>> g = Graph(3, [[1, 2], [0, 0]])
    >>> fig = plot_attention_scatter(g, [0.3, 0.7], [1.0, 3.0])
    >>> fig.axes[0].collections[0].get_offsets().tolist()
    [[0.25, 0.3], [0.75, 0.7]]
    >>> plt.close(fig)
    """
    with style_context():
        lw, hw, _ = _attention_pair(graph, learned, human, normalise)
        (a,) = _axes(ax, 1, 4.0, 4.0)
        a.scatter(hw, lw, s=8, alpha=0.5, color=PALETTE[0], linewidths=0)
        hi = float(max(hw.max(initial=0.0), lw.max(initial=0.0))) or 1.0
        a.plot([0, hi], [0, hi], ls="--", lw=1, color="0.4", label="identity (learned = human)")
        a.set_xlabel("human weight" + (" (share of the agent's neighbours)" if normalise
                                       else " (raw)"))
        a.set_ylabel("learned attention" + (" (share of the agent's neighbours)" if normalise
                                            else " (raw)"))
        a.legend(loc="upper left")
        return a.figure


def plot_agent_correlations(
    source: AttentionFit | pd.DataFrame | Any,
    *,
    metric: str = "spearman",
    alpha: float | None = None,
    seed: float | None = None,
    bins: int | Sequence[float] = 20,
    ax: Axes | None = None,
) -> Figure:
    """Histogram of the per-agent fit (Spearman by default) of learned attention.

    Parameters
    ----------
    source : AttentionFit, DataFrame or array
        A fitted :class:`~socialmarl.analysis.importance.AttentionFit` (the baselines' means are
        drawn as vertical lines), its ``per_agent_`` table, or the values themselves.
    metric : {"spearman", "js_divergence"}
    alpha, seed : float, optional
        Pick one learned matrix when the fit holds several.
    bins : int or sequence of float
        Histogram bins (edges span [-1, 1] for Spearman, [0, 1] for JS, when an int).
    ax : Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
        With a fit, vertical lines labelled ``"learned mean"``, ``"uniform attention"``,
        ``"popularity attention"`` and ``"permuted human weights"``.

    Examples
    --------
    >>> fig = plot_agent_correlations([0.1, 0.5, 0.55, 0.9], bins=[0.0, 0.5, 1.0])
    >>> [float(p.get_height()) for p in fig.axes[0].patches]
    [1.0, 3.0]
    >>> plt.close(fig)
    """
    with style_context():
        fit = source if isinstance(source, AttentionFit) else None
        if fit is not None:
            if not hasattr(fit, "per_agent_"):
                raise ValueError("the AttentionFit is not fitted; call fit(graph, learned, human)")
            source = fit.per_agent_
        if isinstance(source, pd.DataFrame):
            _need(source, ["model", "alpha", "seed", metric], "per_agent table")
            d = source[source["model"] == "learned"]
            if alpha is not None:
                d = d[np.isclose(d["alpha"], alpha)]
            if seed is not None:
                d = d[np.isclose(d["seed"], seed)]
            if d[["alpha", "seed"]].drop_duplicates().shape[0] != 1:
                raise ValueError(
                    "the table holds several learned matrices; choose one with alpha=... and "
                    "seed=..."
                )
            key = d[["alpha", "seed"]].iloc[0]
            values = d[metric].to_numpy(dtype=float)
        else:
            values = np.asarray(source.detach().cpu() if isinstance(source, torch.Tensor)
                                else source,
                                dtype=float).reshape(-1)
            key = None
        if isinstance(bins, int):
            lo = -1.0 if metric == "spearman" else 0.0
            bins = np.linspace(lo, 1.0, bins + 1)
        (a,) = _axes(ax, 1, 4.5, 3.2)
        colours = PALETTE[:5]
        a.hist(values[~np.isnan(values)], bins=bins, color=colours[0], alpha=0.8, label="agents")
        if fit is not None:
            t = fit.table_[fit.table_["metric"] == metric]
            learned = t[(t["model"] == "learned")]
            if key is not None:
                same_a = np.isclose(learned["alpha"], key["alpha"]) | (
                    learned["alpha"].isna() & np.isnan(key["alpha"]))
                same_s = np.isclose(learned["seed"], key["seed"]) | (
                    learned["seed"].isna() & np.isnan(key["seed"]))
                learned = learned[same_a & same_s]
            lines = [("learned mean", learned)] + [
                (_BASELINE_NAMES[m], t[t["model"] == m])
                for m in ("uniform", "popularity", "permuted_human")
            ]
            for (name, row), c in zip(lines, colours[1:]):
                if len(row):
                    a.axvline(float(row["value"].iloc[0]), color=c, ls="--", lw=1.5, label=name)
        a.set_xlabel(f"per agent: {metric_label(metric)}")
        a.set_ylabel("agents (count)")
        a.legend()
        return a.figure


def plot_attention_heatmap(
    graph: Graph,
    attention: Any,
    *,
    groups: Any | None = None,
    normalise: bool = True,
    ax: Axes | None = None,
    cmap: str = "viridis",
) -> Figure:
    """Heat map of attention (rows = attending agent), agents ordered by community.

    Parameters
    ----------
    graph : Graph
    attention : array or Tensor
        Any form accepted by :func:`socialmarl.analysis.importance.edge_weights` (self weights are
        dropped).
    groups : str or sequence, optional
        Node attribute name or one label per agent; agents are sorted by group (stable) and
        group boundaries are marked.
    normalise : bool
        Normalise each row over the agent's neighbours first.
    ax : Axes, optional
    cmap : str

    Returns
    -------
    matplotlib.figure.Figure
        The image holds ``M[order][:, order]`` with ``M[i, j]`` the attention of ``i`` to
        ``j``.

    Examples
    --------
    >>> from socialmarl.networks.graph import Graph
    >>> g = Graph(3, [[1, 2], [0, 0]])
    >>> fig = plot_attention_heatmap(g, [1.0, 3.0], groups=[1, 0, 0])
    >>> fig.axes[0].images[0].get_array().tolist()
    [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.25, 0.75, 0.0]]
    >>> plt.close(fig)
    """
    with style_context():
        w = row_normalise(graph, attention) if normalise else edge_weights(graph, attention)
        ei = graph.edge_index.cpu().numpy()
        keep = ei[0] != ei[1]
        n = graph.num_nodes
        mat = np.zeros((n, n))
        mat[ei[1, keep], ei[0, keep]] = w[keep]
        order = np.arange(n)
        codes = None
        if groups is not None:
            codes = group_labels(graph, groups, n)
            order = np.argsort(codes, kind="stable")
        (a,) = _axes(ax, 1, 5.0, 4.5)
        im = a.imshow(mat[order][:, order], cmap=cmap, interpolation="nearest")
        a.grid(False)
        cbar = a.figure.colorbar(im, ax=a, fraction=0.046, pad=0.04)
        cbar.set_label("attention" + (" (share of the row's neighbours)" if normalise
                                      else " (raw)"))
        if codes is not None:
            cuts = np.nonzero(np.diff(codes[order]))[0] + 0.5
            for c in cuts:
                a.axhline(c, color="white", lw=0.8)
                a.axvline(c, color="white", lw=0.8)
        a.set_xlabel("attended agent" + (" (sorted by group)" if groups is not None else ""))
        a.set_ylabel("attending agent" + (" (sorted by group)" if groups is not None else ""))
        return a.figure


def plot_network_opinions(
    graph: Graph,
    outputs: Any,
    *,
    episode: int = 0,
    step: int = -1,
    seed: int | None = 0,
    pos: dict[int, Any] | None = None,
    node_size: float = 60.0,
    ax: Axes | None = None,
) -> Figure:
    """The network with nodes coloured by stated opinion at one step.

    Parameters
    ----------
    graph : Graph
    outputs : array or Tensor of int
        Shape ``(B, T, N)`` (pick ``episode`` and ``step``), ``(T, N)`` (pick ``step``) or
        ``(N,)``; codes 0, 1, 2 (wait) coloured by :data:`OPINION_COLOURS`.
    episode, step : int
        Which episode and step to draw (negative indices count from the end).
    seed : int, optional
        Seed of the spring layout (``networkx.spring_layout``) when ``pos`` is not given.
    pos : dict, optional
        Node positions ``{node: (x, y)}``; reuse them to compare steps.
    node_size : float
    ax : Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
        The node markers are ``fig.axes[0].collections[0]`` (gid ``"nodes"``), in node order.
        The legend (how many agents state each code) is one row *below* the drawing, so it
        never covers a node; in a grid of panels leave room under this one (a
        ``layout="constrained"`` figure does so itself).

    Examples
    --------
    >>> import socialmarl.networks.generators as gen
    >>> fig = plot_network_opinions(gen.ring_graph(4), [[[0, 1, 2, 1]]])
    >>> nodes = fig.axes[0].collections[0]  # the node markers, gid "nodes"
    >>> nodes.get_gid(), len(nodes.get_offsets())
    ('nodes', 4)
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['guess 0 (1)', 'guess 1 (2)', 'wait (1)']
    >>> plt.close(fig)
    """
    with style_context():
        o = np.asarray(outputs.detach().cpu() if isinstance(outputs, torch.Tensor) else outputs)
        if o.ndim == 3:
            o = o[episode, step]
        elif o.ndim == 2:
            o = o[step]
        if o.ndim != 1 or o.shape[0] != graph.num_nodes:
            raise ValueError(
                f"outputs gives {o.shape} at the chosen step; need one code per agent "
                f"({graph.num_nodes}): pass (B, T, N), (T, N) or (N,)"
            )
        if not np.isin(o, [0, 1, 2]).all():
            raise ValueError(
                f"outputs holds codes {sorted(set(o.tolist()) - {0, 1, 2})}; use 0, 1, 2"
            )
        g = graph.to_networkx()
        if pos is None:
            pos = nx.spring_layout(g, seed=seed)
        (a,) = _axes(ax, 1, 5.0, 5.0)
        nodes = list(range(graph.num_nodes))
        coll = nx.draw_networkx_nodes(g, pos, nodelist=nodes, ax=a, node_size=node_size,
                                      node_color=[OPINION_COLOURS[int(c)] for c in o])
        coll.set_gid("nodes")
        coll.set_zorder(2)
        arrows = graph.directed and graph.num_edges <= 500  # arrow patches are slow on big graphs
        nx.draw_networkx_edges(g, pos, ax=a, alpha=0.25, width=0.6, arrows=arrows,
                               node_size=node_size)
        for code, col in OPINION_COLOURS.items():
            a.scatter([], [], color=col, label=f"{_OPINION_NAMES[code]} ({int((o == code).sum())})")
        _legend_below(a, node_size)
        a.set_axis_off()
        return a.figure


def _legend_below(a: Axes, node_size: float) -> None:
    """One row of legend entries under the axes, clear of every node marker.

    Node centres lie inside the axes (autoscaled limits) and a marker reaches
    ``sqrt(node_size) / 2`` points (plus its edge) beyond its centre, so a gap of that
    much between the axes' bottom and the legend's top keeps the legend off every node.
    """
    font_pt = FontProperties(size="small").get_size_in_points()
    reach_pt = 0.5 * math.sqrt(max(float(node_size), 0.0)) + 1.5
    a.legend(frameon=False, fontsize="small", loc="upper center", bbox_to_anchor=(0.5, 0.0),
             ncols=len(OPINION_COLOURS), borderaxespad=max(0.5, reach_pt / font_pt + 0.3),
             handletextpad=0.3, columnspacing=1.2)


def plot_network_stats(
    summary: pd.DataFrame,
    columns: Sequence[str] | None = None,
    *,
    label: str | None = None,
    ncols: int = 4,
    ax: Axes | Sequence[Axes] | None = None,
) -> Figure:
    """Network statistics side by side: one bar panel per statistic, one bar per graph.

    Parameters
    ----------
    summary : DataFrame
        One row per graph with numeric columns (e.g. the network summary table of
        ``socialmarl.networks.stats``).
    columns : sequence of str, optional
        Statistics to draw (default: every numeric column).
    label : str, optional
        Column naming the graphs (default: ``"graph"``, ``"network"`` or ``"name"`` if
        present, else the index).
    ncols : int
        Panels per row of a new figure.
    ax : Axes or sequence of Axes, optional
        One per statistic.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"graph": ["ring", "ba"], "clustering": [0.5, 0.1],
    ...                   "reciprocity": [1.0, 1.0]})
    >>> fig = plot_network_stats(s)
    >>> [float(p.get_height()) for p in fig.axes[0].patches]
    [0.5, 0.1]
    >>> plt.close(fig)
    """
    with style_context():
        if not isinstance(summary, pd.DataFrame):
            raise TypeError(f"summary must be a pandas DataFrame, got {type(summary).__name__}")
        if label is None:
            label = next((c for c in ("graph", "network", "name") if c in summary.columns), None)
        names = (summary[label] if label is not None else summary.index).astype(str).tolist()
        if columns is None:
            columns = [c for c in summary.columns
                       if c != label and pd.api.types.is_numeric_dtype(summary[c])
                       and not pd.api.types.is_bool_dtype(summary[c])]
        else:
            _need(summary, list(columns), "summary")
            bad = [c for c in columns if not pd.api.types.is_numeric_dtype(summary[c])]
            if bad:
                raise ValueError(f"column(s) {bad} are not numeric; choose numeric statistics")
        if not columns:
            raise ValueError("summary has no numeric column to plot")
        axs = _axes(ax, len(columns), 2.8, 3.2, ncols=ncols)
        colours = [network_colours(names)[nm] for nm in names]
        x = np.arange(len(names))
        for a, col in zip(axs, columns):
            a.bar(x, summary[col].to_numpy(dtype=float), color=colours)
            a.set_xticks(x, names, rotation=45, ha="right")
            a.set_title(metric_name(col))
            a.grid(False, axis="x")
        axs[0].figure.tight_layout()
        return axs[0].figure
