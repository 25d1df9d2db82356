"""The networks of a sweep, loaded the same way in the driver and in every worker.

:func:`load_sweep_network` turns a :class:`~socialmarl.sweeps.spec.NetworkSpec` into a
:class:`~socialmarl.networks.network.Network`: ``load_network`` of its source, cut to a
breadth-first piece of ``nodes`` agents around the most-followed agent when asked (a
dynamic camp keeps its switching rate, its piece's weights stay the interaction
probabilities ``q``), named by the spec's label. Loading is deterministic, so a worker on
another machine rebuilds exactly the driver's graph (a job checks this by the graph's
digest before it trains).
"""

from __future__ import annotations

import hashlib

import numpy as np

from ..networks.graph import Graph
from ..networks.network import Network
from ..networks.pieces import bfs_subgraph
from ..networks.resolve import load_network

__all__ = ["load_sweep_network", "graph_digest", "has_human_weights", "network_kind"]


def load_sweep_network(spec) -> Network:
    """The network a sweep entry names, cut to its piece and labelled.

    Parameters
    ----------
    spec : NetworkSpec
        The entry (``network``, ``nodes``, ``label``, ``data_dir``, ``seed``).

    Returns
    -------
    Network

    Examples
    --------
    >>> from socialmarl.sweeps.spec import NetworkSpec
    >>> net = load_sweep_network(NetworkSpec("camp_sample", nodes=10))
    >>> net.graph.num_nodes, net.interaction_rate, net.graph.name
    (10, 0.5, 'camp-sample')
    """
    net = load_network(spec.network, data_dir=spec.data_dir, seed=spec.seed)
    graph = net.graph
    source = net.source
    if spec.nodes is not None:
        if spec.nodes > graph.num_nodes:
            raise ValueError(
                f"{spec.label}: nodes={spec.nodes} but {spec.network} has only "
                f"{graph.num_nodes} agents; give nodes <= {graph.num_nodes} or leave it out"
            )
        if spec.nodes < graph.num_nodes:
            graph = bfs_subgraph(graph, spec.nodes)
            source = f"{source}, breadth-first piece of {spec.nodes} agents"
    graph = Graph(graph.num_nodes, graph.edge_index, graph.edge_weight, graph.node_attrs,
                  spec.label, graph.directed)
    if spec.human_weights and (graph.edge_weight is None or net.dynamic):
        raise ValueError(
            f"{spec.label}: human_weights is true but {spec.network} "
            + ("is a dynamic camp (its weights are interaction probabilities)" if net.dynamic
               else "has no edge weights")
            + "; set human_weights: false or leave it out"
        )
    return Network(graph, net.interaction_rate, source)


def network_kind(net: Network) -> str:
    """``"camp"`` for a dynamic camp, else ``"social"``: the table's ``kind`` column.

    Examples
    --------
    >>> import socialmarl as sm
    >>> network_kind(sm.load_network("camp_sample")), network_kind(sm.load_network("ba100"))
    ('camp', 'social')
    """
    return "camp" if net.dynamic else "social"


def has_human_weights(spec, net: Network) -> bool:
    """Whether the sweep fits learned attention against this network's edge weights."""
    if spec.human_weights is not None:
        return bool(spec.human_weights)
    return net.graph.edge_weight is not None and not net.dynamic


def graph_digest(graph: Graph) -> str:
    """SHA-256 of a graph's size, edges and weights (what a job must train on).

    Examples
    --------
    >>> import socialmarl as sm
    >>> graph_digest(sm.ring_graph(5)) == graph_digest(sm.ring_graph(5))
    True
    """
    h = hashlib.sha256()
    h.update(str(graph.num_nodes).encode())
    h.update(np.ascontiguousarray(graph.edge_index.cpu().numpy().astype(np.int64)).tobytes())
    if graph.edge_weight is not None:
        h.update(np.ascontiguousarray(graph.edge_weight.cpu().numpy().astype(np.float64))
                 .tobytes())
    return h.hexdigest()
