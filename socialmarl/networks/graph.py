"""The one graph type that flows from loaders through the game, policy, metrics and plots.

Edges are directed and stored as an ``edge_index`` tensor of shape ``(2, E)``: row 0 is
the *sender* and row 1 the *receiver*, and an edge means "the receiver observes the
sender" (for a follow graph: the receiver follows the sender).  Edges are kept sorted by
``(receiver, sender)``, so every per-edge tensor anywhere in socialmarl (observation
codes, attention weights, human importance weights) lines up with ``graph.edge_index``
and the edges that one agent attends over form a contiguous block.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import torch

__all__ = ["Graph"]


def _as_edge_index(edge_index: Any) -> torch.Tensor:
    ei = torch.as_tensor(edge_index)
    if ei.numel() == 0:
        return torch.zeros((2, 0), dtype=torch.long, device=ei.device)
    if ei.is_floating_point():
        if not torch.equal(ei, ei.round()):
            raise ValueError(
                "edge_index holds non-integer node ids; node ids must be integers 0..N-1"
            )
    if ei.dim() != 2 or ei.shape[0] != 2:
        if ei.dim() == 2 and ei.shape[1] == 2:
            raise ValueError(
                f"edge_index has shape {tuple(ei.shape)}; it must be (2, E) with row 0 the senders "
                "and row 1 the receivers. Pass edge_index.T for an (E, 2) list of pairs."
            )
        raise ValueError(f"edge_index has shape {tuple(ei.shape)}; it must be (2, E)")
    return ei.long()


@dataclass(eq=False)
class Graph:
    """A directed social network with optional edge weights and node attributes.

    Parameters
    ----------
    num_nodes : int
        Number of agents ``N`` (at least 1). Nodes are ``0 .. N-1``.
    edge_index : array-like of int, shape (2, E)
        Directed edges, row 0 the sender and row 1 the receiver: ``(j, i)`` means agent
        ``i`` observes agent ``j``. Undirected graphs store both directions.
    edge_weight : array-like of float, shape (E,), optional
        Non-negative, finite weight per edge (for example human attention of the receiver
        to the sender, or the interaction probability ``q`` of a camp network).
    node_attrs : mapping of str to sequence, optional
        Per-node attributes, each of length ``N`` (for example ``{"party": [...]}``).
    name : str
        A short human-readable name used in tables and plot legends.
    directed : bool
        Whether the graph is directed. Undirected graphs hold each edge both ways.

    Notes
    -----
    On construction the edges are sorted by ``(receiver, sender)`` (weights follow) and
    checked: ids in range, no NaN or negative weights, no duplicate edges. Self loops are
    allowed in the graph but carry no information in the game (an agent always observes
    itself); :meth:`remove_self_loops` drops them.

    Examples
    --------
    >>> import socialmarl as sm
    >>> g = sm.Graph(3, [[0, 1, 2], [1, 2, 0]], name="triangle")
    >>> g.num_nodes, g.num_edges
    (3, 3)
    >>> g.in_degree().tolist()
    [1, 1, 1]
    """

    num_nodes: int
    edge_index: torch.Tensor
    edge_weight: torch.Tensor | None = None
    node_attrs: dict[str, Any] = field(default_factory=dict)
    name: str = "graph"
    directed: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.num_nodes, bool) or not isinstance(self.num_nodes, (int, np.integer)):
            raise TypeError(f"num_nodes must be an int, got {type(self.num_nodes).__name__}")
        self.num_nodes = int(self.num_nodes)
        if self.num_nodes < 1:
            raise ValueError(
                f"the graph is empty (num_nodes={self.num_nodes}); a game needs at least one agent"
            )
        ei = _as_edge_index(self.edge_index)
        if ei.numel() and (int(ei.min()) < 0 or int(ei.max()) >= self.num_nodes):
            bad = int(ei.max()) if int(ei.max()) >= self.num_nodes else int(ei.min())
            raise ValueError(
                f"edge_index refers to node {bad}, outside 0..{self.num_nodes - 1}; "
                "renumber the nodes or raise num_nodes"
            )
        w = None
        if self.edge_weight is not None:
            w = self.edge_weight
            if not isinstance(w, torch.Tensor):
                w = np.asarray(w, dtype=np.float64)
            w = torch.as_tensor(w, device=ei.device).double().reshape(-1)
            if w.numel() != ei.shape[1]:
                raise ValueError(
                    f"edge_weight has {w.numel()} entries but there are {ei.shape[1]} edges; "
                    "give one weight per edge"
                )
            if torch.isnan(w).any():
                k = int(torch.nonzero(torch.isnan(w))[0])
                raise ValueError(
                    f"edge_weight is NaN on edge {tuple(ei[:, k].tolist())}; "
                    "drop the edge or give it a finite weight"
                )
            if torch.isinf(w).any() or (w < 0).any():
                k = int(torch.nonzero(torch.isinf(w) | (w < 0))[0])
                raise ValueError(
                    f"edge_weight {float(w[k])} on edge {tuple(ei[:, k].tolist())} is negative or "
                    "infinite; weights must be finite and >= 0"
                )
        # Canonical order: by receiver, then sender.
        if ei.shape[1]:
            key = ei[1] * self.num_nodes + ei[0]
            order = torch.argsort(key, stable=True)
            ei = ei[:, order].contiguous()
            if w is not None:
                w = w[order].contiguous()
            sk = key[order]
            dup = sk[1:] == sk[:-1]
            if dup.any():
                k = int(torch.nonzero(dup)[0]) + 1
                raise ValueError(
                    f"duplicate edge {tuple(ei[:, k].tolist())}; merge parallel edges first "
                    "(for example with Graph.from_edges(..., merge='sum'))"
                )
        self.edge_index = ei
        self.edge_weight = w
        attrs = {}
        for key_, vals in dict(self.node_attrs).items():
            if len(vals) != self.num_nodes:
                raise ValueError(
                    f"node attribute {key_!r} has {len(vals)} values for {self.num_nodes} nodes"
                )
            attrs[key_] = vals
        self.node_attrs = attrs

    # ------------------------------------------------------------------ basic views
    @property
    def num_edges(self) -> int:
        """Number of directed edges ``E``."""
        return int(self.edge_index.shape[1])

    @property
    def device(self) -> torch.device:
        """Device of ``edge_index``."""
        return self.edge_index.device

    @property
    def senders(self) -> torch.Tensor:
        """Row 0 of ``edge_index``: the observed agent of each edge."""
        return self.edge_index[0]

    @property
    def receivers(self) -> torch.Tensor:
        """Row 1 of ``edge_index``: the observing (attending) agent of each edge."""
        return self.edge_index[1]

    def in_degree(self) -> torch.Tensor:
        """Number of agents each agent observes (its in-neighbours), shape (N,)."""
        return torch.bincount(self.receivers, minlength=self.num_nodes)

    def out_degree(self) -> torch.Tensor:
        """Number of agents observing each agent (its audience), shape (N,)."""
        return torch.bincount(self.senders, minlength=self.num_nodes)

    def has_self_loops(self) -> bool:
        """Whether any edge points from an agent to itself."""
        return bool((self.senders == self.receivers).any())

    def is_symmetric(self) -> bool:
        """Whether every edge ``j -> i`` has its reverse ``i -> j``."""
        n = self.num_nodes
        fwd = torch.sort(self.senders * n + self.receivers).values
        bwd = torch.sort(self.receivers * n + self.senders).values
        return bool(torch.equal(fwd, bwd))

    def reverse_edge(self) -> torch.Tensor:
        """For each edge ``j -> i`` the index of ``i -> j``, or -1 where it is absent."""
        n = self.num_nodes
        key = self.receivers * n + self.senders  # sorted, by construction
        rkey = self.senders * n + self.receivers
        pos = torch.searchsorted(key, rkey).clamp(max=max(self.num_edges - 1, 0))
        found = key[pos] == rkey if self.num_edges else torch.zeros(0, dtype=torch.bool)
        return torch.where(found, pos, torch.full_like(pos, -1))

    def adjacency(self, weighted: bool = False) -> torch.Tensor:
        """Dense ``(N, N)`` matrix ``A[i, j]`` = 1 (or the weight) when ``i`` observes ``j``.

        Rows are the observing (attending) agent, the same orientation as the attention
        matrix of a policy. Only sensible for small ``N``.

        Examples
        --------
        >>> import socialmarl as sm
        >>> sm.Graph(2, [[0], [1]]).adjacency().tolist()
        [[0.0, 0.0], [1.0, 0.0]]
        """
        a = torch.zeros(self.num_nodes, self.num_nodes, dtype=torch.float64, device=self.device)
        vals = (
            self.edge_weight.double()
            if weighted and self.edge_weight is not None
            else torch.ones(self.num_edges, dtype=torch.float64, device=self.device)
        )
        a[self.receivers, self.senders] = vals
        return a

    # ------------------------------------------------------------------ transforms
    def to(self, device: str | torch.device) -> Graph:
        """A copy of the graph with its tensors on ``device``."""
        return Graph(
            self.num_nodes,
            self.edge_index.to(device),
            None if self.edge_weight is None else self.edge_weight.to(device),
            dict(self.node_attrs),
            self.name,
            self.directed,
        )

    def remove_self_loops(self) -> Graph:
        """A copy without edges ``i -> i``."""
        keep = self.senders != self.receivers
        return self.edge_subset(keep)

    def edge_subset(self, keep: torch.Tensor) -> Graph:
        """A copy holding only the edges where boolean ``keep`` (shape (E,)) is true."""
        keep = torch.as_tensor(keep, dtype=torch.bool, device=self.device)
        return Graph(
            self.num_nodes,
            self.edge_index[:, keep],
            None if self.edge_weight is None else self.edge_weight[keep],
            dict(self.node_attrs),
            self.name,
            self.directed,
        )

    def with_weights(self, edge_weight: Any) -> Graph:
        """A copy with new per-edge weights (aligned with ``edge_index``)."""
        return Graph(
            self.num_nodes, self.edge_index, edge_weight, dict(self.node_attrs), self.name,
            self.directed,
        )

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_edges(
        cls,
        num_nodes: int,
        edges: Sequence[tuple[int, int]] | np.ndarray,
        weights: Sequence[float] | np.ndarray | None = None,
        *,
        merge: str | None = None,
        directed: bool = True,
        name: str = "graph",
        node_attrs: Mapping[str, Sequence[Any]] | None = None,
    ) -> Graph:
        """Build a graph from ``(sender, receiver)`` pairs.

        Parameters
        ----------
        num_nodes : int
            Number of nodes.
        edges : sequence of (int, int)
            Pairs ``(j, i)`` meaning ``i`` observes ``j``.
        weights : sequence of float, optional
            One weight per pair.
        merge : {None, "sum", "max", "first"}
            How to merge repeated pairs; ``None`` raises on a repeat.
        directed : bool
            If False each pair is added in both directions.
        name : str
            Graph name.
        node_attrs : mapping, optional
            Per-node attributes.

        Examples
        --------
        >>> import socialmarl as sm
        >>> g = sm.Graph.from_edges(3, [(0, 1), (0, 1), (1, 2)], [1.0, 2.0, 1.0], merge="sum")
        >>> g.edge_weight.tolist()
        [3.0, 1.0]
        """
        arr = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
        w = None if weights is None else np.asarray(weights, dtype=np.float64).reshape(-1)
        if w is not None and len(w) != len(arr):
            raise ValueError(f"{len(w)} weights for {len(arr)} edges; give one weight per edge")
        if not directed:
            arr = np.concatenate([arr, arr[:, ::-1]])
            if w is not None:
                w = np.concatenate([w, w])
            if merge is None:
                merge = "first"
        if merge is not None and len(arr):
            if merge not in ("sum", "max", "first"):
                raise ValueError(f"merge={merge!r}; use None, 'sum', 'max' or 'first'")
            if w is not None and np.isnan(w).any():
                k = int(np.nonzero(np.isnan(w))[0][0])
                raise ValueError(f"weight of edge {tuple(arr[k])} is NaN; give a finite weight")
            uniq, inv = np.unique(arr, axis=0, return_inverse=True)
            inv = inv.reshape(-1)
            if w is not None:
                if merge == "sum":
                    w = np.bincount(inv, weights=w, minlength=len(uniq))
                elif merge == "max":
                    out = np.full(len(uniq), -np.inf)
                    np.maximum.at(out, inv, w)
                    w = out
                else:
                    first = np.full(len(uniq), len(inv))
                    np.minimum.at(first, inv, np.arange(len(inv)))
                    w = w[first]
            arr = uniq
        return cls(
            num_nodes,
            torch.as_tensor(arr.T.copy()),
            None if w is None else torch.as_tensor(w),
            dict(node_attrs or {}),
            name,
            directed,
        )

    @classmethod
    def from_networkx(
        cls, g: nx.Graph, weight: str | None = "weight", name: str | None = None
    ) -> Graph:
        """Convert a networkx graph.

        A networkx edge ``(u, v)`` becomes sender ``u``, receiver ``v`` ("v observes u");
        undirected graphs get both directions. Nodes are renumbered ``0..N-1`` in
        ``g.nodes`` order and the original labels are kept in ``node_attrs["label"]``; other
        node attributes present on every node are copied.

        Parameters
        ----------
        g : networkx.Graph or networkx.DiGraph
            The graph (multigraph edges are merged by summing weights).
        weight : str or None
            Edge attribute read as the weight; ``None`` or absent on all edges gives no weights.
        name : str, optional
            Defaults to ``g.name`` or ``"graph"``.

        Examples
        --------
        >>> import networkx as nx, socialmarl as sm
        >>> g = sm.Graph.from_networkx(nx.path_graph(3))
        >>> g.num_edges, g.directed
        (4, False)
        """
        nodes = list(g.nodes)
        if not nodes:
            raise ValueError("the networkx graph has no nodes; a game needs at least one agent")
        idx = {u: k for k, u in enumerate(nodes)}
        pairs = [(idx[u], idx[v]) for u, v in g.edges()]
        has_w = weight is not None and g.number_of_edges() > 0 and all(
            weight in d for _, _, d in g.edges(data=True)
        )
        ws = [float(d[weight]) for _, _, d in g.edges(data=True)] if has_w else None
        attrs: dict[str, list[Any]] = {"label": nodes}
        if nodes:
            common = set(g.nodes[nodes[0]].keys())
            for u in nodes[1:]:
                common &= set(g.nodes[u].keys())
            for key in sorted(common):
                attrs[key] = [g.nodes[u][key] for u in nodes]
        directed = g.is_directed()
        merge = "sum" if g.is_multigraph() else None
        return cls.from_edges(
            len(nodes), pairs if pairs else np.zeros((0, 2), dtype=np.int64), ws, merge=merge,
            directed=directed, name=name or g.name or "graph", node_attrs=attrs,
        )

    def to_networkx(self) -> nx.DiGraph | nx.Graph:
        """Convert to networkx (``DiGraph``, or ``Graph`` when built undirected).

        Edge ``(j, i)`` becomes networkx edge ``j -> i``; weights go to ``"weight"`` and
        node attributes onto the nodes (nodes are ``0..N-1``).

        Examples
        --------
        >>> import socialmarl as sm
        >>> sm.complete_graph(4).to_networkx().number_of_edges()
        6
        """
        g: nx.Graph = nx.DiGraph() if self.directed else nx.Graph()
        g.graph["name"] = self.name
        g.add_nodes_from(range(self.num_nodes))
        for key, vals in self.node_attrs.items():
            for u in range(self.num_nodes):
                g.nodes[u][key] = vals[u]
        ei = self.edge_index.cpu().numpy()
        if self.edge_weight is None:
            g.add_edges_from(zip(ei[0].tolist(), ei[1].tolist()))
        else:
            w = self.edge_weight.cpu().double().numpy().tolist()
            g.add_weighted_edges_from(zip(ei[0].tolist(), ei[1].tolist(), w))
        return g

    def to_dict(self) -> dict[str, Any]:
        """The graph as plain tensors and strings, for files loaded with ``weights_only=True``.

        Node attributes travel as one JSON string (values JSON cannot hold become their
        ``str``). :meth:`from_dict` is the inverse.

        Examples
        --------
        >>> import socialmarl as sm
        >>> g = sm.Graph(3, [[0, 1], [1, 2]], node_attrs={"party": ["D", "R", "D"]})
        >>> h = sm.Graph.from_dict(g.to_dict())
        >>> h.edge_index.tolist(), h.node_attrs["party"]
        ([[0, 1], [1, 2]], ['D', 'R', 'D'])
        """
        return {
            "num_nodes": self.num_nodes,
            "edge_index": self.edge_index.cpu(),
            "edge_weight": None if self.edge_weight is None else self.edge_weight.cpu(),
            "name": self.name,
            "directed": self.directed,
            "node_attrs": json.dumps(self.node_attrs, default=str),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Graph:
        """Rebuild a graph from :meth:`to_dict`; a missing or malformed key is a ``ValueError``.

        Examples
        --------
        >>> import socialmarl as sm
        >>> sm.Graph.from_dict({"num_nodes": 2})
        Traceback (most recent call last):
        ...
        ValueError: a saved graph lacks 'edge_index' (has ['num_nodes']): not from Graph.to_dict
        """
        keys = ("num_nodes", "edge_index", "edge_weight", "name", "directed", "node_attrs")
        for key in keys:
            if key not in d:
                raise ValueError(
                    f"a saved graph lacks {key!r} (has {sorted(d)}): not from Graph.to_dict"
                )
        try:
            attrs = json.loads(d["node_attrs"])
        except (TypeError, json.JSONDecodeError) as exc:
            raise ValueError(f"a saved graph's node_attrs are not JSON ({exc})") from exc
        return cls(d["num_nodes"], d["edge_index"], d["edge_weight"], attrs, d["name"],
                   d["directed"])

    def __repr__(self) -> str:
        kind = "directed" if self.directed else "undirected"
        wt = ", weighted" if self.edge_weight is not None else ""
        return (
            f"Graph(name={self.name!r}, {kind}{wt}, num_nodes={self.num_nodes}, "
            f"num_edges={self.num_edges}, device={self.device})"
        )

    def summary(self) -> dict[str, float]:
        """A few quick statistics: nodes, edges, mean in-degree, reciprocity."""
        rev = self.reverse_edge()
        recip = float((rev >= 0).double().mean()) if self.num_edges else math.nan
        return {
            "nodes": self.num_nodes,
            "edges": self.num_edges,
            "mean_in_degree": self.num_edges / self.num_nodes,
            "reciprocity": recip,
        }
