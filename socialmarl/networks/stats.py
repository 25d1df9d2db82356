"""Network statistics of a :class:`Graph`, and a side-by-side summary table.

Conventions (chosen once, used everywhere here):

* Edges are the Graph's directed edges ``sender -> receiver`` (networkx ``u -> v``).
  An undirected Graph stores both directions, so every statistic below gives the value of
  the undirected graph for it. Self loops are ignored by every statistic.
* *In*-degree counts the agents an agent observes (its in-neighbours), *out*-degree its
  audience; strengths are the same sums of edge weights (equal to degrees when
  unweighted).
* Clustering is computed on the **undirected simple view** (an edge between ``i`` and
  ``j`` when either observes the other; weights ignored); nodes of degree < 2 count as 0,
  as in networkx.
* Path lengths count hops. ``component="weak"`` uses the largest weakly connected
  component and undirected distances; ``component="strong"`` the largest strongly
  connected component and directed distances along the edges.
* Communities: networkx's Louvain method on the undirected view (weights of the two
  directions summed when ``weighted``), with a fixed ``seed``; the modularity is that of the
  returned partition on the same view.

The computations run on the CPU with NumPy/SciPy (they are analysis, not a hot path).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components, shortest_path

from .graph import Graph

__all__ = [
    "degree_table",
    "degree_distribution",
    "reciprocity",
    "undirected_edge_count",
    "average_clustering",
    "degree_assortativity",
    "attribute_assortativity",
    "largest_component",
    "path_lengths",
    "communities",
    "network_summary",
]


def _edges(graph: Graph) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Senders, receivers and weights (ones if unweighted) without self loops, NumPy."""
    s = graph.senders.cpu().numpy()
    r = graph.receivers.cpu().numpy()
    w = (
        graph.edge_weight.detach().cpu().double().numpy()
        if graph.edge_weight is not None
        else np.ones(len(s))
    )
    keep = s != r
    return s[keep], r[keep], w[keep]


def _undirected_adj(graph: Graph, weighted: bool = False) -> sp.csr_matrix:
    """Symmetric sparse adjacency of the undirected view (no self loops)."""
    s, r, w = _edges(graph)
    n = graph.num_nodes
    if weighted:
        a = sp.coo_matrix((w, (s, r)), shape=(n, n)).tocsr()
        a = a + a.T
        if not graph.directed:
            a = a / 2.0  # both directions are stored: do not count an edge twice
        return a.tocsr()
    a = sp.coo_matrix((np.ones(len(s)), (s, r)), shape=(n, n)).tocsr()
    a = ((a + a.T) > 0).astype(np.float64)
    return a.tocsr()


def degree_table(graph: Graph) -> pd.DataFrame:
    """Per-node in/out degree and strength (self loops ignored).

    Parameters
    ----------
    graph : Graph
        Any graph.

    Returns
    -------
    pandas.DataFrame
        One row per node: ``in_degree``, ``out_degree``, ``in_strength``,
        ``out_strength`` (strength = sum of edge weights; the degree when unweighted).

    Examples
    --------
    >>> import socialmarl as sm
    >>> from socialmarl.networks.stats import degree_table
    >>> degree_table(sm.Graph(3, [[0, 0], [1, 2]], [0.5, 2.0])).loc[0].tolist()
    [0.0, 2.0, 0.0, 2.5]
    """
    s, r, w = _edges(graph)
    n = graph.num_nodes
    return pd.DataFrame({
        "in_degree": np.bincount(r, minlength=n).astype(np.float64),
        "out_degree": np.bincount(s, minlength=n).astype(np.float64),
        "in_strength": np.bincount(r, weights=w, minlength=n),
        "out_strength": np.bincount(s, weights=w, minlength=n),
    })


def degree_distribution(graph: Graph, which: str = "in") -> pd.Series:
    """Degree distribution ``P(k)``: the fraction of nodes with each degree ``k``.

    Parameters
    ----------
    graph : Graph
        Any graph.
    which : {"in", "out", "total", "undirected"}
        In-degree, out-degree, their sum, or the degree in the undirected view.

    Returns
    -------
    pandas.Series
        Indexed by the degrees that occur (ascending), values summing to 1. For strength
        distributions use the columns of :func:`degree_table`.

    Examples
    --------
    >>> import socialmarl as sm
    >>> from socialmarl.networks.stats import degree_distribution
    >>> degree_distribution(sm.ring_graph(5)).to_dict()
    {2: 1.0}
    """
    t = degree_table(graph)
    if which == "in":
        k = t["in_degree"].to_numpy()
    elif which == "out":
        k = t["out_degree"].to_numpy()
    elif which == "total":
        k = (t["in_degree"] + t["out_degree"]).to_numpy()
    elif which == "undirected":
        k = np.asarray(_undirected_adj(graph).sum(axis=1)).ravel()
    else:
        raise ValueError(f"which={which!r}; use 'in', 'out', 'total' or 'undirected'")
    vals, cnt = np.unique(k.astype(np.int64), return_counts=True)
    return pd.Series(cnt / len(k), index=pd.Index(vals, name="degree"), name=f"P({which})")


def reciprocity(graph: Graph) -> float:
    """Fraction of directed edges whose reverse edge also exists (self loops ignored).

    1 for an undirected graph, 0 for a directed path or tree; NaN without edges. Equals
    networkx's ``overall_reciprocity`` on graphs without self loops.

    Examples
    --------
    >>> import socialmarl as sm
    >>> from socialmarl.networks.stats import reciprocity
    >>> reciprocity(sm.Graph(3, [[0, 1, 1], [1, 0, 2]]))
    0.6666666666666666
    """
    s, r, _ = _edges(graph)
    if len(s) == 0:
        return math.nan
    n = graph.num_nodes
    fwd = np.unique(s * n + r)
    return float(np.isin(r * n + s, fwd).mean())


def undirected_edge_count(graph: Graph) -> int:
    """Number of unordered pairs ``{i, j}``, ``i != j``, joined in either direction.

    Examples
    --------
    >>> import socialmarl as sm
    >>> from socialmarl.networks.stats import undirected_edge_count
    >>> undirected_edge_count(sm.karate_club())
    78
    """
    return int(_undirected_adj(graph).nnz // 2)


def average_clustering(graph: Graph, *, per_node: bool = False) -> float | np.ndarray:
    """Average local clustering coefficient of the undirected simple view.

    ``c_i = 2 T_i / (k_i (k_i - 1))`` with ``T_i`` the triangles through ``i`` and ``k_i`` its
    undirected degree (``c_i = 0`` when ``k_i < 2``); direction and weights are ignored.

    Parameters
    ----------
    graph : Graph
        Any graph.
    per_node : bool
        Return the ``(N,)`` array of ``c_i`` instead of the mean.

    Examples
    --------
    >>> import socialmarl as sm
    >>> from socialmarl.networks.stats import average_clustering
    >>> round(average_clustering(sm.karate_club()), 4)
    0.5706
    """
    a = _undirected_adj(graph)
    k = np.asarray(a.sum(axis=1)).ravel()
    tri = np.asarray((a @ a).multiply(a).sum(axis=1)).ravel() / 2.0
    denom = k * (k - 1)
    c = np.divide(2.0 * tri, denom, out=np.zeros_like(tri), where=denom > 0)
    return c if per_node else float(c.mean())


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    if len(x) < 2:
        return math.nan
    sx, sy = x.std(), y.std()
    if sx == 0 or sy == 0:
        return math.nan
    return float(((x - x.mean()) * (y - y.mean())).mean() / (sx * sy))


def degree_assortativity(
    graph: Graph, *, x: str = "out", y: str = "in", directed: bool | None = None
) -> float:
    """Degree assortativity: Pearson correlation of degrees at the two ends of edges.

    For a directed graph (``directed`` None or True): over edges ``j -> i``, the ``x``-degree
    of the sender ``j`` against the ``y``-degree of the receiver ``i`` (networkx's default
    ``x="out", y="in"``). For an undirected graph, or ``directed=False``: degrees in the
    undirected view at both ends, each edge counted both ways. NaN when a degree is
    constant over the edges.

    Parameters
    ----------
    graph : Graph
        Any graph.
    x, y : {"in", "out"}
        Which degree of the sender and of the receiver (directed case).
    directed : bool, optional
        Force the directed or undirected computation.

    Examples
    --------
    >>> import socialmarl as sm
    >>> from socialmarl.networks.stats import degree_assortativity
    >>> round(degree_assortativity(sm.karate_club()), 4)
    -0.4756
    """
    use_dir = graph.directed if directed is None else bool(directed)
    if not use_dir:
        a = _undirected_adj(graph).tocoo()
        k = np.asarray(a.sum(axis=1)).ravel()
        return _pearson(k[a.row], k[a.col])
    for name, val in (("x", x), ("y", y)):
        if val not in ("in", "out"):
            raise ValueError(f"{name}={val!r}; use 'in' or 'out'")
    s, r, _ = _edges(graph)
    t = degree_table(graph)
    dx = t[f"{x}_degree"].to_numpy()
    dy = t[f"{y}_degree"].to_numpy()
    return _pearson(dx[s], dy[r])


def attribute_assortativity(graph: Graph, attr: str) -> float:
    """Newman's assortativity of a categorical node attribute (e.g. party).

    ``r = (sum_a e_aa - sum_a a_a b_a) / (1 - sum_a a_a b_a)`` with ``e`` the fraction of
    edges from category ``a`` (sender) to ``b`` (receiver) and ``a_a, b_a`` its row and column
    sums; undirected graphs count each edge both ways. 1: edges only within categories.

    Parameters
    ----------
    graph : Graph
        A graph with ``node_attrs[attr]``.
    attr : str
        Attribute name.

    Examples
    --------
    >>> import socialmarl as sm
    >>> from socialmarl.networks.stats import attribute_assortativity
    >>> g = sm.Graph(4, [[0, 1, 2, 3], [1, 0, 3, 2]], node_attrs={"c": ["a", "a", "b", "b"]})
    >>> attribute_assortativity(g, "c")
    1.0
    """
    if attr not in graph.node_attrs:
        raise KeyError(
            f"node attribute {attr!r} not in graph {graph.name!r} "
            f"(it has {sorted(graph.node_attrs)})"
        )
    vals = pd.Series(list(graph.node_attrs[attr]))
    codes, cats = pd.factorize(vals, use_na_sentinel=True)
    s, r, _ = _edges(graph)
    ok = (codes[s] >= 0) & (codes[r] >= 0)
    if not ok.any():
        return math.nan
    m = len(cats)
    e = np.zeros((m, m))
    np.add.at(e, (codes[s][ok], codes[r][ok]), 1.0)
    e /= e.sum()
    ab = float((e.sum(1) * e.sum(0)).sum())
    if ab >= 1.0:
        return math.nan
    return float((np.trace(e) - ab) / (1.0 - ab))


def largest_component(graph: Graph, kind: str = "weak") -> np.ndarray:
    """Node ids of the largest weakly (``"weak"``) or strongly (``"strong"``) connected
    component (ties: the one with the smallest node id).

    Examples
    --------
    >>> import socialmarl as sm
    >>> from socialmarl.networks.stats import largest_component
    >>> largest_component(sm.Graph(4, [[0, 1, 2], [1, 2, 0]]), "strong").tolist()
    [0, 1, 2]
    """
    if kind not in ("weak", "strong"):
        raise ValueError(f"kind={kind!r}; use 'weak' or 'strong'")
    s, r, _ = _edges(graph)
    n = graph.num_nodes
    a = sp.coo_matrix((np.ones(len(s)), (s, r)), shape=(n, n)).tocsr()
    _, lab = connected_components(a, directed=True, connection=kind)
    sizes = np.bincount(lab)
    big = lab[np.flatnonzero(sizes[lab] == sizes.max())[0]]  # first node of a largest one
    return np.flatnonzero(lab == big)


def path_lengths(
    graph: Graph, *, component: str = "weak", max_sources: int | None = 1000, seed: int = 0
) -> dict[str, Any]:
    """Mean shortest-path length and diameter (in hops) on the giant component.

    ``component="weak"``: the largest weakly connected component with undirected
    distances. ``component="strong"``: the largest strongly connected component with
    directed distances (every ordered pair is reachable there). When the component has
    more than ``max_sources`` nodes, distances are taken from ``max_sources`` source nodes
    drawn with ``seed``: the mean is then an unbiased estimate and the diameter a lower
    bound (``exact`` is False).

    Parameters
    ----------
    graph : Graph
        Any graph.
    component : {"weak", "strong"}
        Which giant component.
    max_sources : int or None
        Most BFS sources; ``None`` always computes all pairs.
    seed : int
        Seed for sampling sources.

    Returns
    -------
    dict
        ``component``, ``component_size``, ``mean_shortest_path``, ``diameter``,
        ``sources`` and ``exact``.

    Examples
    --------
    >>> import socialmarl as sm
    >>> from socialmarl.networks.stats import path_lengths
    >>> out = path_lengths(sm.karate_club())
    >>> round(out["mean_shortest_path"], 4), out["diameter"]
    (2.4082, 5)
    """
    nodes = largest_component(graph, component)
    size = len(nodes)
    res: dict[str, Any] = {"component": component, "component_size": size}
    if size < 2:
        res.update(mean_shortest_path=math.nan, diameter=0, sources=size, exact=True)
        return res
    s, r, _ = _edges(graph)
    remap = -np.ones(graph.num_nodes, dtype=np.int64)
    remap[nodes] = np.arange(size)
    keep = (remap[s] >= 0) & (remap[r] >= 0)
    a = sp.coo_matrix(
        (np.ones(int(keep.sum())), (remap[s[keep]], remap[r[keep]])), shape=(size, size)
    ).tocsr()
    exact = max_sources is None or size <= max_sources
    if exact:
        src = np.arange(size)
    else:
        src = np.sort(np.random.default_rng(seed).choice(size, size=int(max_sources),
                                                         replace=False))
    dist = shortest_path(a, method="D", directed=component == "strong", unweighted=True,
                         indices=src)
    mask = np.ones_like(dist, dtype=bool)
    mask[np.arange(len(src)), src] = False
    d = dist[mask]
    if not np.isfinite(d).all():  # cannot happen inside a connected component
        raise RuntimeError("unreachable pair inside a connected component")
    res.update(
        mean_shortest_path=float(d.mean()), diameter=int(d.max()), sources=int(len(src)),
        exact=bool(exact),
    )
    return res


def communities(
    graph: Graph, *, seed: int = 0, resolution: float = 1.0, weighted: bool = True
) -> dict[str, Any]:
    """Louvain communities (networkx) of the undirected view, with their modularity.

    Parameters
    ----------
    graph : Graph
        Any graph.
    seed : int
        Seed of the Louvain method (same seed, same partition).
    resolution : float
        Louvain resolution (> 1 favours smaller communities).
    weighted : bool
        Use edge weights (the two directions of a pair summed); False: unweighted.

    Returns
    -------
    dict
        ``num_communities``, ``modularity`` and ``labels`` (``(N,)`` int array, communities
        numbered by decreasing size).

    Examples
    --------
    >>> import socialmarl as sm
    >>> from socialmarl.networks.stats import communities
    >>> out = communities(sm.karate_club(), seed=0)
    >>> out["num_communities"] >= 3, out["modularity"] > 0.4
    (True, True)
    """
    a = _undirected_adj(graph, weighted=weighted and graph.edge_weight is not None).tocoo()
    g = nx.Graph()
    g.add_nodes_from(range(graph.num_nodes))
    up = a.row < a.col
    g.add_weighted_edges_from(zip(a.row[up].tolist(), a.col[up].tolist(),
                                  a.data[up].tolist()))
    if g.number_of_edges() == 0:
        return {"num_communities": graph.num_nodes, "modularity": math.nan,
                "labels": np.arange(graph.num_nodes)}
    parts = nx.community.louvain_communities(g, weight="weight", resolution=resolution,
                                             seed=seed)
    parts = sorted(parts, key=lambda c: (-len(c), min(c)))
    labels = np.empty(graph.num_nodes, dtype=np.int64)
    for k, c in enumerate(parts):
        labels[list(c)] = k
    q = nx.community.modularity(g, parts, weight="weight", resolution=resolution)
    return {"num_communities": len(parts), "modularity": float(q), "labels": labels}


def network_summary(
    graphs: Mapping[str, Graph] | Sequence[Graph] | Graph,
    *,
    attr: str | None = None,
    max_sources: int | None = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """Compare several graphs side by side: one row per graph.

    Columns: ``nodes``, ``edges`` (directed), ``undirected_edges``, ``directed``,
    ``weighted``, ``density`` (edges / N(N-1)), ``mean_in_degree``, ``max_in_degree``,
    ``max_out_degree``, ``reciprocity``, ``avg_clustering``, ``degree_assortativity``
    (out-in for directed graphs, undirected otherwise), ``<attr>_assortativity`` when
    ``attr`` is given (NaN for graphs without it), ``giant_weak_fraction``,
    ``giant_strong_fraction``, ``mean_shortest_path`` and ``diameter`` (weak giant
    component, undirected hops), ``paths_exact``, ``communities`` and ``modularity``
    (Louvain with ``seed``). See the module notes for each convention.

    Parameters
    ----------
    graphs : mapping of name to Graph, sequence of Graph, or Graph
        Names default to ``graph.name`` (made unique with a suffix).
    attr : str, optional
        Categorical node attribute for an extra assortativity column.
    max_sources : int or None
        Passed to :func:`path_lengths`.
    seed : int
        Seed for path sampling and Louvain.

    Returns
    -------
    pandas.DataFrame
        Indexed by graph name.

    Examples
    --------
    >>> import socialmarl as sm
    >>> from socialmarl.networks.stats import network_summary
    >>> df = network_summary([sm.karate_club(), sm.ring_graph(10)])
    >>> df.loc["karate_club", ["nodes", "undirected_edges"]].tolist()
    [34, 78]
    """
    if isinstance(graphs, Graph):
        graphs = [graphs]
    if isinstance(graphs, Mapping):
        items = list(graphs.items())
    else:
        items, seen = [], {}
        for g in graphs:
            nm = g.name
            if nm in seen:
                seen[nm] += 1
                nm = f"{nm}_{seen[g.name]}"
            else:
                seen[nm] = 0
            items.append((nm, g))
    rows = {}
    for nm, g in items:
        if not isinstance(g, Graph):
            raise TypeError(f"{nm!r} is a {type(g).__name__}, not a socialmarl Graph")
        t = degree_table(g)
        n = g.num_nodes
        e = int(t["in_degree"].sum())
        pl = path_lengths(g, component="weak", max_sources=max_sources, seed=seed)
        com = communities(g, seed=seed)
        row = {
            "nodes": n,
            "edges": e,
            "undirected_edges": undirected_edge_count(g),
            "directed": bool(g.directed),
            "weighted": g.edge_weight is not None,
            "density": e / (n * (n - 1)) if n > 1 else math.nan,
            "mean_in_degree": e / n,
            "max_in_degree": int(t["in_degree"].max()),
            "max_out_degree": int(t["out_degree"].max()),
            "reciprocity": reciprocity(g),
            "avg_clustering": average_clustering(g),
            "degree_assortativity": degree_assortativity(g),
        }
        if attr is not None:
            row[f"{attr}_assortativity"] = (
                attribute_assortativity(g, attr) if attr in g.node_attrs else math.nan
            )
        row.update(
            giant_weak_fraction=len(largest_component(g, "weak")) / n,
            giant_strong_fraction=len(largest_component(g, "strong")) / n,
            mean_shortest_path=pl["mean_shortest_path"],
            diameter=pl["diameter"],
            paths_exact=pl["exact"],
            communities=com["num_communities"],
            modularity=com["modularity"],
        )
        rows[nm] = row
    df = pd.DataFrame.from_dict(rows, orient="index")
    df.index.name = "graph"
    return df
