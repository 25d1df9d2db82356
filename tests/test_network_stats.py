"""Network statistics against networkx (computed independently) and known values."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from socialmarl.networks.generators import complete_graph, karate_club, ring_graph
from socialmarl.networks.graph import Graph
from socialmarl.networks.stats import (
    attribute_assortativity,
    average_clustering,
    communities,
    degree_assortativity,
    degree_distribution,
    degree_table,
    largest_component,
    network_summary,
    path_lengths,
    reciprocity,
    undirected_edge_count,
)
from tests.real_data import real_data


def _random_digraph(n=60, p=0.06, seed=0, weighted=True) -> tuple[Graph, nx.DiGraph]:
    ref = nx.gnp_random_graph(n, p, seed=seed, directed=True)
    rng = np.random.default_rng(seed)
    for u, v in ref.edges:
        ref.edges[u, v]["weight"] = float(rng.random()) if weighted else 1.0
    for u in ref.nodes:
        ref.nodes[u]["group"] = "abc"[int(rng.integers(0, 3))]
    g = Graph.from_edges(
        n, list(ref.edges), [d["weight"] for _, _, d in ref.edges(data=True)] if weighted
        else None, node_attrs={"group": [ref.nodes[u]["group"] for u in range(n)]},
        name=f"gnp{seed}",
    )
    return g, ref


# ------------------------------------------------------------------------- karate: known values
def test_karate_known_values():
    g = karate_club()
    ref = nx.karate_club_graph()
    assert g.num_nodes == 34 and undirected_edge_count(g) == 78
    assert round(average_clustering(g), 4) == 0.5706
    assert abs(average_clustering(g) - nx.average_clustering(ref)) < 1e-12
    assert round(degree_assortativity(g), 4) == -0.4756
    assert abs(degree_assortativity(g) - nx.degree_assortativity_coefficient(ref)) < 1e-12
    assert reciprocity(g) == 1.0
    pl = path_lengths(g)
    assert pl["exact"] and pl["component_size"] == 34
    assert abs(pl["mean_shortest_path"] - nx.average_shortest_path_length(ref)) < 1e-12
    assert pl["diameter"] == nx.diameter(ref) == 5
    club = attribute_assortativity(g, "club")
    assert abs(club - nx.attribute_assortativity_coefficient(ref, "club")) < 1e-12
    per_node = average_clustering(g, per_node=True)
    expect = nx.clustering(ref)
    assert np.allclose(per_node, [expect[u] for u in range(34)])


def _modularity_numpy(adj: np.ndarray, labels: np.ndarray) -> float:
    """Newman's Q = 1/(2m) sum_ij [A_ij - k_i k_j / (2m)] delta(c_i, c_j), slowly."""
    k = adj.sum(1)
    two_m = adj.sum()
    same = labels[:, None] == labels[None, :]
    return float(((adj - np.outer(k, k) / two_m) * same).sum() / two_m)


def test_communities_modularity_independent():
    g = karate_club()
    out = communities(g, seed=0, weighted=False)
    adj = nx.to_numpy_array(nx.karate_club_graph(), nodelist=range(34), weight=None)
    assert abs(out["modularity"] - _modularity_numpy(adj, out["labels"])) < 1e-12
    assert out["num_communities"] == len(set(out["labels"].tolist()))
    assert 0.38 < out["modularity"] < 0.43  # Louvain on karate finds Q ~ 0.42
    again = communities(g, seed=0, weighted=False)
    assert np.array_equal(again["labels"], out["labels"])
    # weighted karate (networkx ships interaction counts as weights), directed copy too
    ref = nx.karate_club_graph()
    wg = Graph.from_networkx(ref)
    assert wg.edge_weight is not None
    outw = communities(wg, seed=0)
    a = nx.to_numpy_array(ref, nodelist=range(34), weight="weight")
    assert abs(outw["modularity"] - _modularity_numpy(a, outw["labels"])) < 1e-12
    half = Graph.from_edges(34, [(u, v) for u, v in ref.edges],
                            [d["weight"] for _, _, d in ref.edges(data=True)])
    outh = communities(half, seed=0)  # one direction per pair: same undirected view
    assert abs(outh["modularity"] - _modularity_numpy(a, outh["labels"])) < 1e-12


def test_two_cliques_closed_form():
    # two K5 joined by one edge: m = 21, Q = 2 * (10/21 - (21/42)^2)
    edges = [(i, j) for i in range(5) for j in range(i + 1, 5)]
    edges += [(i + 5, j + 5) for i, j in edges] + [(4, 5)]
    g = Graph.from_edges(10, edges, directed=False)
    out = communities(g, seed=3)
    assert out["num_communities"] == 2
    assert out["labels"].tolist() in ([0] * 5 + [1] * 5, [1] * 5 + [0] * 5)
    assert abs(out["modularity"] - 2 * (10 / 21 - 0.25)) < 1e-12
    # directed version: undirected view is the same graph
    gd = Graph.from_edges(10, edges)
    assert abs(communities(gd, seed=3)["modularity"] - out["modularity"]) < 1e-12
    assert undirected_edge_count(gd) == 21 and reciprocity(gd) == 0.0


def test_reciprocity_known_and_networkx():
    assert reciprocity(complete_graph(6)) == 1.0
    path = Graph(5, [[0, 1, 2, 3], [1, 2, 3, 4]])
    assert reciprocity(path) == 0.0
    for seed in range(3):
        g, ref = _random_digraph(40, 0.15, seed)
        assert abs(reciprocity(g) - nx.overall_reciprocity(ref)) < 1e-12
    # self loops are ignored
    loops = Graph(3, [[0, 1, 1, 2], [1, 0, 1, 2]])
    assert reciprocity(loops) == 1.0
    assert math.isnan(reciprocity(Graph(3, [[0], [0]])))


def test_degrees_and_strengths_against_networkx():
    g, ref = _random_digraph(50, 0.1, 4)
    t = degree_table(g)
    assert t["in_degree"].tolist() == [ref.in_degree(u) for u in range(50)]
    assert t["out_degree"].tolist() == [ref.out_degree(u) for u in range(50)]
    assert np.allclose(t["in_strength"], [ref.in_degree(u, weight="weight") for u in range(50)])
    assert np.allclose(t["out_strength"], [ref.out_degree(u, weight="weight")
                                           for u in range(50)])
    for which, deg in (("in", ref.in_degree), ("out", ref.out_degree)):
        dist = degree_distribution(g, which)
        counts = pd.Series([d for _, d in deg()]).value_counts(normalize=True).sort_index()
        assert np.allclose(dist.to_numpy(), counts.to_numpy())
        assert dist.index.tolist() == counts.index.tolist()
    tot = degree_distribution(g, "total")
    assert abs(tot.sum() - 1.0) < 1e-12
    und = degree_distribution(g, "undirected")
    counts = pd.Series([d for _, d in ref.to_undirected().degree()]).value_counts(
        normalize=True).sort_index()
    assert np.allclose(und.to_numpy(), counts.to_numpy())
    with pytest.raises(ValueError, match="which"):
        degree_distribution(g, "both")


def test_clustering_and_assortativity_directed_against_networkx():
    for seed in range(3):
        g, ref = _random_digraph(60, 0.08, seed)
        und = ref.to_undirected()
        assert abs(average_clustering(g) - nx.average_clustering(und)) < 1e-12
        for x in ("in", "out"):
            for y in ("in", "out"):
                ours = degree_assortativity(g, x=x, y=y)
                theirs = nx.degree_assortativity_coefficient(ref, x=x, y=y)
                assert abs(ours - theirs) < 1e-10
        assert abs(degree_assortativity(g, directed=False)
                   - nx.degree_assortativity_coefficient(und)) < 1e-10
        ours = attribute_assortativity(g, "group")
        assert abs(ours - nx.attribute_assortativity_coefficient(ref, "group")) < 1e-12
    with pytest.raises(KeyError, match="party"):
        attribute_assortativity(g, "party")
    with pytest.raises(ValueError, match="x='total'"):
        degree_assortativity(g, x="total")
    assert math.isnan(degree_assortativity(ring_graph(6)))  # constant degree


def test_path_lengths_weak_and_strong_against_networkx():
    g, ref = _random_digraph(80, 0.03, 7)
    weak = max(nx.weakly_connected_components(ref), key=len)
    strong = max(nx.strongly_connected_components(ref), key=len)
    assert set(largest_component(g, "weak").tolist()) == weak
    assert set(largest_component(g, "strong").tolist()) == strong
    pw = path_lengths(g, component="weak")
    uw = ref.subgraph(weak).to_undirected()
    assert pw["component_size"] == len(weak)
    assert abs(pw["mean_shortest_path"] - nx.average_shortest_path_length(uw)) < 1e-12
    assert pw["diameter"] == nx.diameter(uw)
    ps = path_lengths(g, component="strong")
    sd = ref.subgraph(strong)
    assert abs(ps["mean_shortest_path"] - nx.average_shortest_path_length(sd)) < 1e-12
    assert ps["diameter"] == max(max(d.values()) for _, d in nx.shortest_path_length(sd))
    # sampled sources: estimate close to exact, diameter a lower bound, reproducible
    big = nx.barabasi_albert_graph(600, 2, seed=1)
    gb = Graph.from_networkx(big)
    exact = path_lengths(gb, max_sources=None)
    est = path_lengths(gb, max_sources=150, seed=4)
    assert not est["exact"] and est["sources"] == 150
    assert abs(est["mean_shortest_path"] - exact["mean_shortest_path"]) < 0.05 * exact[
        "mean_shortest_path"]
    assert est["diameter"] <= exact["diameter"]
    assert path_lengths(gb, max_sources=150, seed=4) == est
    with pytest.raises(ValueError, match="kind"):
        path_lengths(g, component="giant")
    single = path_lengths(Graph(3, [[0], [0]]))
    assert math.isnan(single["mean_shortest_path"]) and single["diameter"] == 0


def test_network_summary_table():
    g1, _ = _random_digraph(40, 0.1, 1)
    g2 = karate_club()
    g3 = ring_graph(12)
    df = network_summary({"rand": g1, "karate": g2, "ring": g3}, attr="group", seed=0)
    assert list(df.index) == ["rand", "karate", "ring"]
    assert df.loc["karate", "nodes"] == 34 and df.loc["karate", "undirected_edges"] == 78
    assert df.loc["karate", "edges"] == 156 and df.loc["karate", "reciprocity"] == 1.0
    assert abs(df.loc["karate", "avg_clustering"] - 0.5706) < 5e-5
    assert abs(df.loc["rand", "reciprocity"] - reciprocity(g1)) < 1e-15
    assert df.loc["rand", "degree_assortativity"] == degree_assortativity(g1)
    assert df.loc["rand", "group_assortativity"] == attribute_assortativity(g1, "group")
    assert math.isnan(df.loc["karate", "group_assortativity"])
    assert df.loc["ring", "diameter"] == 6 and df.loc["ring", "giant_weak_fraction"] == 1.0
    assert df.loc["ring", "communities"] == communities(g3, seed=0)["num_communities"]
    assert df.loc["rand", "density"] == g1.num_edges / (40 * 39)
    # a sequence of graphs: names from graph.name, made unique
    df2 = network_summary([g2, g2, g3])
    assert list(df2.index) == ["karate_club", "karate_club_1", g3.name]
    assert len(network_summary(g3)) == 1
    with pytest.raises(TypeError, match="not a socialmarl Graph"):
        network_summary({"x": nx.path_graph(3)})


def test_summary_of_real_networks():
    root = real_data("congress_twitter").parent
    from socialmarl.networks.loaders.congress import load_congress_twitter

    g = load_congress_twitter(root / "congress_twitter")
    ref = nx.read_weighted_edgelist(root / "congress_twitter" / "congress.edgelist",
                                    create_using=nx.DiGraph, nodetype=int)
    df = network_summary({"congress": g}, attr="party", max_sources=None)
    row = df.loc["congress"]
    assert row["nodes"] == 475 and row["edges"] == 13289
    assert abs(row["reciprocity"] - nx.overall_reciprocity(ref)) < 1e-12
    assert abs(row["avg_clustering"] - nx.average_clustering(ref.to_undirected())) < 1e-12
    assert abs(row["degree_assortativity"] - nx.degree_assortativity_coefficient(ref)) < 1e-10
    party = {u: g.node_attrs["party"][u] for u in range(475)}
    nx.set_node_attributes(ref, party, "party")
    assert abs(row["party_assortativity"]
               - nx.attribute_assortativity_coefficient(ref, "party")) < 1e-12
    assert row["party_assortativity"] > 0.5  # members mostly engage with their own party
