"""Pieces of a network: the agents reached breadth-first from one of them.

A piece keeps the edges among the agents it holds; edge weights normalised per receiver
are normalised again over each receiver's remaining in-edges, other weights (a camp's
interaction probabilities) are kept as they are; node attributes are kept and
``"original_id"`` names each agent's id in the whole network.
"""

from __future__ import annotations

import numpy as np

from .graph import Graph

__all__ = ["bfs_subgraph"]


def _normalised_per_receiver(w: np.ndarray, dst: np.ndarray, n: int) -> bool:
    """Whether every receiver's in-edge weights sum to 1 (or 0, for all-zero rows)."""
    tot = np.bincount(dst, weights=w, minlength=n)[np.unique(dst)]
    return bool(np.all(np.isclose(tot, 1.0, atol=1e-4) | np.isclose(tot, 0.0)))


def bfs_subgraph(graph: Graph, size: int, *, root: int | None = None) -> Graph:
    """The first ``size`` agents reached breadth-first (either edge direction) from ``root``.

    ``root`` defaults to the agent with the largest audience (out-degree). Edge weights are
    kept and re-normalised over each receiver's remaining in-edges when the graph's weights
    were normalised that way; node attributes are kept and ``"original_id"`` is added.

    Examples
    --------
    >>> import socialmarl as sm
    >>> bfs_subgraph(sm.ring_graph(10), 4, root=0).node_attrs["original_id"]
    [0, 1, 9, 2]
    """
    n = graph.num_nodes
    if not 1 <= size <= n:
        raise ValueError(f"size={size} must lie in 1..{n}")
    src, dst = (t.cpu().numpy() for t in graph.edge_index)
    if root is None:
        root = int(np.argmax(np.bincount(src, minlength=n)))
    nbrs: list[list[int]] = [[] for _ in range(n)]
    for a, b in zip(src.tolist(), dst.tolist()):
        nbrs[a].append(b)
        nbrs[b].append(a)
    order, seen, frontier = [root], {root}, [root]
    while frontier and len(order) < size:
        nxt = []
        for u in frontier:
            for v in sorted(nbrs[u]):
                if v not in seen and len(order) < size:
                    seen.add(v)
                    order.append(v)
                    nxt.append(v)
        frontier = nxt
    new_id = np.full(n, -1)
    new_id[order] = np.arange(len(order))
    keep = (new_id[src] >= 0) & (new_id[dst] >= 0) & (src != dst)
    w = None
    if graph.edge_weight is not None:
        full = graph.edge_weight.cpu().numpy().astype(float)
        w = full[keep]
        if _normalised_per_receiver(full, dst, n):
            recv = new_id[dst[keep]]
            tot = np.bincount(recv, weights=w, minlength=len(order))
            w = np.where(tot[recv] > 0, w / np.where(tot[recv] > 0, tot[recv], 1.0), 0.0)
    attrs = {k: [v[i] for i in order] for k, v in graph.node_attrs.items()}
    attrs["original_id"] = [int(i) for i in order]
    return Graph(len(order), np.stack([new_id[src[keep]], new_id[dst[keep]]]), w, attrs,
                 f"{graph.name} ({len(order)} accounts)", graph.directed)
