"""The breadth-first piece of a graph used by the reproduction presets and sweeps."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

import socialmarl as sm
from socialmarl.networks.pieces import bfs_subgraph


def test_bfs_subgraph_matches_networkx_and_renormalises():
    g = sm.load_bluesky_sample()
    sub = bfs_subgraph(g, 150)
    ids = sub.node_attrs["original_id"]
    assert len(set(ids)) == 150
    root = int(np.argmax(g.out_degree().numpy()))
    assert ids[0] == root
    # the chosen accounts are the closest to the root (undirected distance)
    dist = nx.single_source_shortest_path_length(g.to_networkx().to_undirected(), root)
    assert max(dist[i] for i in ids) <= min(d for v, d in dist.items() if v not in set(ids))
    # edges are exactly those among the chosen accounts
    ref = nx.DiGraph(g.to_networkx()).subgraph(ids)
    mapped = {(ids[a], ids[b]) for a, b in sub.edge_index.T.tolist()}
    assert mapped == set(ref.edges)
    # weights renormalised per receiver
    w = sub.edge_weight.numpy()
    tot = np.bincount(sub.receivers.numpy(), weights=w, minlength=150)
    has = np.bincount(sub.receivers.numpy(), minlength=150) > 0
    assert np.allclose(tot[has & (tot > 0)], 1.0)
    with pytest.raises(ValueError, match="size=0"):
        bfs_subgraph(g, 0)


def test_bfs_piece_of_a_camp_keeps_its_interaction_probabilities():
    camp = sm.load_camp_sample().graph
    sub = bfs_subgraph(camp, 12)
    ids = sub.node_attrs["original_id"]
    full = {(int(a), int(b)): float(w) for (a, b), w in
            zip(camp.edge_index.T.tolist(), camp.edge_weight.tolist())}
    for (a, b), w in zip(sub.edge_index.T.tolist(), sub.edge_weight.tolist()):
        assert w == pytest.approx(full[(ids[a], ids[b])])  # q is kept, not renormalised


def test_quick_and_paper_presets_are_sweeps_with_seeds_where_the_effects_live():
    from socialmarl.apps.reproduce import PRESETS, preset_agent_steps, preset_sweep

    quick = preset_sweep("quick")
    assert len(quick.seeds) >= 3
    assert sum(0 < a <= 0.3 for a in quick.alphas) >= 3  # several points between 0 and 0.3
    assert {0.0, 1.0} <= set(quick.alphas)
    labels = [n.label for n in quick.networks]
    assert labels == ["bluesky-like", "camp"]
    nets = quick.load_networks()
    assert nets["camp"].dynamic and not nets["bluesky-like"].dynamic
    paper = PRESETS["paper"]
    assert paper.alphas == [i / 10 for i in range(11)] and len(paper.seeds) >= 5
    assert paper.social_nodes == 1000
    spec = preset_sweep("paper")
    assert spec.networks[0].nodes is None  # the whole 1000-account sample
    # the cost is populations x envs x steps x agents x updates, per network
    steps = preset_agent_steps("paper")
    assert steps["bluesky-like"] == 11 * 5 * 32 * 20 * 1000 * 1000


def test_paper_preset_adds_congress_twitter_when_its_data_is_present():
    from socialmarl.apps.reproduce import preset_sweep

    from .real_data import real_data

    folder = real_data("congress_twitter")  # skips with a reason when absent
    spec = preset_sweep("paper", data_dir=str(folder.parent))
    assert [n.label for n in spec.networks] == ["bluesky-like", "congress-twitter", "camp"]
    assert spec.load_networks()["congress-twitter"].graph.num_nodes == 475


def test_reproduce_never_clears_a_folder_that_is_not_a_reproduction(tmp_path):
    from socialmarl.apps.reproduce import reproduce

    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "precious.txt").write_text("hours of training")
    (tmp_path / "config.json").write_text('{"train_config": {}}')
    with pytest.raises(FileExistsError, match="not a reproduction's folder"):
        reproduce("smoke", tmp_path, progress=False, engine="local", overwrite=True)
    assert (tmp_path / "jobs" / "precious.txt").read_text() == "hours of training"


def test_reproduce_labels_two_networks_of_the_same_name_apart():
    from socialmarl.apps.reproduce import preset_sweep

    spec = preset_sweep("smoke", social="camp_sample", camp="camp_sample")
    assert [n.label for n in spec.networks] == ["camp-sample", "camp-sample-camp"]
