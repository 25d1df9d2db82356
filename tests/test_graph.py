"""The Graph type and generators, against networkx's own statistics."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import torch

import socialmarl as sm


def test_edges_sorted_by_receiver_and_weights_follow():
    g = sm.Graph(4, [[3, 0, 2, 1], [0, 2, 1, 0]], edge_weight=[0.3, 0.02, 0.21, 0.1])
    assert g.edge_index.tolist() == [[1, 3, 2, 0], [0, 0, 1, 2]]
    assert g.edge_weight.tolist() == [0.1, 0.3, 0.21, 0.02]
    a = g.adjacency(weighted=True)
    assert a[0, 3] == pytest.approx(0.3) and a[2, 0] == pytest.approx(0.02)


def test_networkx_round_trip_directed_weighted():
    d = nx.gnp_random_graph(30, 0.2, seed=1, directed=True)
    rng = np.random.default_rng(0)
    for u, v in d.edges:
        d[u][v]["weight"] = float(rng.random())
    g = sm.Graph.from_networkx(d)
    back = g.to_networkx()
    assert set(back.edges) == set(d.edges)
    assert all(back[u][v]["weight"] == pytest.approx(d[u][v]["weight"]) for u, v in d.edges)
    assert torch.equal(g.in_degree(), torch.tensor([d.in_degree(i) for i in range(30)]))


def test_from_networkx_relabels_and_keeps_attributes():
    h = nx.Graph()
    h.add_node("ann", party="D")
    h.add_node("bob", party="R")
    h.add_edge("ann", "bob")
    g = sm.Graph.from_networkx(h)
    assert g.node_attrs["label"] == ["ann", "bob"] and g.node_attrs["party"] == ["D", "R"]
    assert g.num_edges == 2 and g.is_symmetric()
    with pytest.raises(ValueError, match="no nodes"):
        sm.Graph.from_networkx(nx.Graph())


@pytest.mark.parametrize(
    "make,nxref",
    [
        (lambda: sm.erdos_renyi_graph(60, 0.1, seed=5),
         lambda: nx.gnp_random_graph(60, 0.1, seed=5)),
        (lambda: sm.barabasi_albert_graph(80, 3, seed=2),
         lambda: nx.barabasi_albert_graph(80, 3, seed=2)),
        (lambda: sm.watts_strogatz_graph(40, 4, 0.2, seed=1),
         lambda: nx.watts_strogatz_graph(40, 4, 0.2, seed=1)),
        (lambda: sm.complete_graph(7), lambda: nx.complete_graph(7)),
        (lambda: sm.ring_graph(9, 2), lambda: nx.circulant_graph(9, [1, 2])),
    ],
)
def test_generators_match_networkx(make, nxref):
    g, ref = make(), nxref()
    assert g.num_edges == 2 * ref.number_of_edges()
    assert g.is_symmetric()
    assert nx.utils.graphs_equal(g.to_networkx(), nx.convert_node_labels_to_integers(ref)) or (
        set(map(frozenset, g.to_networkx().edges)) == set(map(frozenset, ref.edges))
    )
    assert nx.average_clustering(g.to_networkx()) == pytest.approx(nx.average_clustering(ref))


def test_directed_ba_follows_older_accounts():
    g = sm.barabasi_albert_graph(200, 4, directed=True, seed=0)
    s, r = g.edge_index
    assert (s < r).all()  # newer accounts observe older ones (after networkx's seed star)
    assert int(g.in_degree()[5:].min()) == 4 and int(g.in_degree()[5:].max()) == 4
    h = sm.barabasi_albert_graph(200, 4, directed=True, reciprocity=0.5, seed=0)
    frac = h.summary()["reciprocity"]
    assert 0.55 < frac < 0.75  # 2 * 0.5 / (1 + 0.5) = 0.667
    with pytest.raises(ValueError, match="reciprocity only applies"):
        sm.barabasi_albert_graph(20, 2, reciprocity=0.2)


def test_sbm_is_polarised():
    g = sm.stochastic_block_graph([30, 30], 0.4, 0.01, seed=0)
    block = torch.tensor(g.node_attrs["block"])
    cross = (block[g.senders] != block[g.receivers]).float().mean().item()
    assert cross < 0.1
    assert sm.stochastic_block_graph([30, 30], 0.4, 0.01, seed=0).edge_index.equal(g.edge_index)


def test_social_graphs_ship_offline():
    assert sm.karate_club().num_edges == 2 * 78
    les = sm.social_graph("les_miserables")
    assert les.num_nodes == 77 and les.edge_weight is not None
    with pytest.raises(ValueError, match="unknown social graph 'facebook'"):
        sm.social_graph("facebook")


def test_generator_validation():
    with pytest.raises(ValueError, match="not a probability"):
        sm.erdos_renyi_graph(10, 1.2)
    with pytest.raises(ValueError, match="need 1 <= m < n"):
        sm.barabasi_albert_graph(5, 5)
    with pytest.raises(ValueError, match="number of agents"):
        sm.ring_graph(0)


def test_reverse_edge_and_to_device():
    g = sm.Graph(3, [[0, 1, 2], [1, 0, 0]])
    rev = g.reverse_edge()
    for k in range(g.num_edges):
        j, i = g.edge_index[:, k].tolist()
        if rev[k] >= 0:
            assert g.edge_index[:, rev[k]].tolist() == [i, j]
        else:
            assert [i, j] not in g.edge_index.T.tolist()
    assert g.to("cpu").edge_index.equal(g.edge_index)
