"""Graph generators with a uniform ``seed`` argument, all returning :class:`Graph`.

Random families are drawn with networkx's generators (so their statistics are the textbook
ones) and converted; each takes ``seed`` (int or None) and gives the same graph for the
same seed.
"""

from __future__ import annotations

from collections.abc import Sequence

import networkx as nx
import numpy as np

from .graph import Graph

__all__ = [
    "erdos_renyi_graph",
    "barabasi_albert_graph",
    "watts_strogatz_graph",
    "stochastic_block_graph",
    "ring_graph",
    "complete_graph",
    "social_graph",
    "karate_club",
    "SOCIAL_GRAPHS",
]


def _check_n(n: int, least: int = 1) -> None:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < least:
        raise ValueError(f"n={n!r}: the number of agents must be an integer >= {least}")


def _check_p(name: str, p: float) -> None:
    if not (0.0 <= float(p) <= 1.0):
        raise ValueError(f"{name}={p!r} is not a probability; choose a value in [0, 1]")


def erdos_renyi_graph(
    n: int, p: float, *, directed: bool = False, seed: int | None = None
) -> Graph:
    """Erdos-Renyi G(n, p) graph.

    Parameters
    ----------
    n : int
        Number of agents.
    p : float
        Edge probability (per ordered pair when ``directed``).
    directed : bool
        Draw each direction independently.
    seed : int, optional
        Random seed.

    Examples
    --------
    >>> import socialmarl as sm
    >>> g = sm.erdos_renyi_graph(50, 0.1, seed=1)
    >>> g.num_nodes, g.is_symmetric()
    (50, True)
    """
    _check_n(n)
    _check_p("p", p)
    g = nx.gnp_random_graph(n, p, seed=seed, directed=directed)
    return Graph.from_networkx(g, weight=None, name=f"ER(n={n}, p={p})")


def barabasi_albert_graph(
    n: int,
    m: int,
    *,
    directed: bool = False,
    reciprocity: float = 0.0,
    seed: int | None = None,
) -> Graph:
    """Barabasi-Albert preferential-attachment graph.

    Parameters
    ----------
    n : int
        Number of agents (``n > m``).
    m : int
        Edges each new agent brings.
    directed : bool
        If True each new agent *follows* (observes) the ``m`` agents it attached to, a
        model of a follow network where early, popular accounts have large audiences;
        with ``reciprocity`` > 0 each such follow is returned with that probability.
    reciprocity : float
        Probability that a follow is reciprocated (directed only).
    seed : int, optional
        Random seed.

    Examples
    --------
    >>> import socialmarl as sm
    >>> sm.barabasi_albert_graph(100, 3, seed=0).num_edges
    582
    >>> d = sm.barabasi_albert_graph(100, 3, directed=True, seed=0)
    >>> d.num_edges, int(d.in_degree().max())
    (291, 3)
    """
    _check_n(n, 2)
    if not isinstance(m, (int, np.integer)) or not (1 <= m < n):
        raise ValueError(f"m={m!r}: need 1 <= m < n={n}")
    _check_p("reciprocity", reciprocity)
    if reciprocity and not directed:
        raise ValueError("reciprocity only applies to directed=True graphs")
    g = nx.barabasi_albert_graph(n, m, seed=seed)
    name = f"BA(n={n}, m={m})"
    if not directed:
        return Graph.from_networkx(g, weight=None, name=name)
    e = np.array(list(g.edges()), dtype=np.int64).reshape(-1, 2)
    old, new = e.min(axis=1), e.max(axis=1)
    pairs = np.stack([old, new], axis=1)  # the newer agent observes the older one
    if reciprocity > 0:
        rng = np.random.default_rng(seed)
        back = rng.random(len(pairs)) < reciprocity
        pairs = np.concatenate([pairs, pairs[back][:, ::-1]])
    return Graph.from_edges(n, pairs, name=f"directed {name}")


def watts_strogatz_graph(n: int, k: int, p: float, *, seed: int | None = None) -> Graph:
    """Watts-Strogatz small-world graph (ring of ``k`` nearest neighbours, rewired with ``p``).

    Examples
    --------
    >>> import socialmarl as sm
    >>> sm.watts_strogatz_graph(20, 4, 0.0).num_edges
    80
    """
    _check_n(n, 2)
    _check_p("p", p)
    if not (0 <= k < n):
        raise ValueError(f"k={k!r}: need 0 <= k < n={n}")
    g = nx.watts_strogatz_graph(n, k, p, seed=seed)
    return Graph.from_networkx(g, weight=None, name=f"WS(n={n}, k={k}, p={p})")


def stochastic_block_graph(
    sizes: Sequence[int],
    p_in: float,
    p_out: float,
    *,
    directed: bool = False,
    seed: int | None = None,
) -> Graph:
    """Stochastic block model: dense communities joined by few edges (polarised groups).

    Node attribute ``"block"`` holds each agent's community.

    Parameters
    ----------
    sizes : sequence of int
        Community sizes.
    p_in, p_out : float
        Edge probability within and between communities.
    directed : bool
        Draw each direction independently.
    seed : int, optional
        Random seed.

    Examples
    --------
    >>> import socialmarl as sm
    >>> g = sm.stochastic_block_graph([10, 10], 0.5, 0.01, seed=3)
    >>> g.node_attrs["block"][:3], g.node_attrs["block"][-1]
    ([0, 0, 0], 1)
    """
    sizes = [int(s) for s in sizes]
    if not sizes or min(sizes) < 1:
        raise ValueError(f"sizes={sizes!r}: give at least one community of size >= 1")
    _check_p("p_in", p_in)
    _check_p("p_out", p_out)
    k = len(sizes)
    probs = [[p_in if a == b else p_out for b in range(k)] for a in range(k)]
    g = nx.stochastic_block_model(sizes, probs, seed=seed, directed=directed)
    blocks = [b for b, s in enumerate(sizes) for _ in range(s)]
    for u in g.nodes:
        g.nodes[u].clear()
        g.nodes[u]["block"] = blocks[u]
    out = Graph.from_networkx(g, weight=None, name=f"SBM({'+'.join(map(str, sizes))})")
    out.node_attrs.pop("label", None)
    return out


def ring_graph(n: int, k: int = 1) -> Graph:
    """Undirected ring: each agent observes its ``k`` nearest neighbours on each side.

    Examples
    --------
    >>> import socialmarl as sm
    >>> sm.ring_graph(5).in_degree().tolist()
    [2, 2, 2, 2, 2]
    """
    _check_n(n)
    if not (1 <= k and 2 * k < n) and n > 1:
        raise ValueError(f"k={k!r}: need 1 <= k and 2k < n={n}")
    i = np.arange(n)
    pairs = [np.stack([i, (i + d) % n], 1) for d in range(1, k + 1)] if n > 1 else []
    e = np.concatenate(pairs) if pairs else np.zeros((0, 2), dtype=np.int64)
    return Graph.from_edges(n, e, directed=False, name=f"ring(n={n}, k={k})")


def complete_graph(n: int) -> Graph:
    """Complete graph: every agent observes every other agent.

    Examples
    --------
    >>> import socialmarl as sm
    >>> sm.complete_graph(4).num_edges
    12
    """
    _check_n(n)
    i, j = np.nonzero(~np.eye(n, dtype=bool))
    return Graph(n, np.stack([j, i]), name=f"complete(n={n})", directed=False)


SOCIAL_GRAPHS = {
    "karate_club": nx.karate_club_graph,
    "florentine_families": nx.florentine_families_graph,
    "les_miserables": nx.les_miserables_graph,
    "davis_southern_women": nx.davis_southern_women_graph,
}


def social_graph(name: str, *, weighted: bool = True) -> Graph:
    """A small real social network that networkx ships (no download).

    Parameters
    ----------
    name : {"karate_club", "florentine_families", "les_miserables", "davis_southern_women"}
        Zachary's karate club (34 members, node attribute ``club``), Padgett's Florentine
        families (15), co-appearances in Les Miserables (77, weighted), or the Davis
        Southern women and events bipartite graph (32).
    weighted : bool
        Keep the data's ``weight`` edge attribute where it has one.

    Examples
    --------
    >>> import socialmarl as sm
    >>> g = sm.social_graph("karate_club")
    >>> g.num_nodes, g.num_edges, g.node_attrs["club"][0]
    (34, 156, 'Mr. Hi')
    """
    if name not in SOCIAL_GRAPHS:
        raise ValueError(
            f"unknown social graph {name!r}; choose one of {sorted(SOCIAL_GRAPHS)}"
        )
    g = SOCIAL_GRAPHS[name]()
    return Graph.from_networkx(g, weight="weight" if weighted else None, name=name)


def karate_club() -> Graph:
    """Zachary's karate club (34 members, 78 friendships, node attribute ``club``).

    Examples
    --------
    >>> import socialmarl as sm
    >>> sm.karate_club().num_nodes
    34
    """
    return social_graph("karate_club", weighted=False)
