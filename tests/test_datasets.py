"""The bundled synthetic data: statistics as documented, formats, round trips, regeneration."""

from __future__ import annotations

import importlib.util
import math
import re
import shutil

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import torch

import socialmarl.networks.bundled as ds
from socialmarl.networks.bluesky.format import read_crawl, write_crawl
from socialmarl.networks.dynamic import MarkovInteraction


def readme_table(section: str) -> dict[str, float]:
    """The `| `stat` | value |` rows of a section of data/README.md."""
    text = (ds.bundled_data_dir() / "README.md").read_text(encoding="utf-8")
    start = text.index(f"## `{section}/`")
    end = text.find("\n## ", start + 5)
    block = text[start:end if end > 0 else None]
    return {k: float(v) for k, v in re.findall(r"^\| `(\w+)` \| ([-0-9.]+) \|$", block, re.M)}


@pytest.fixture(scope="module")
def crawl():
    return ds.load_bluesky_sample_crawl()


def test_bundled_dir_found_and_override(tmp_path, monkeypatch):
    d = ds.bundled_data_dir()
    assert (d / "bluesky_sample" / "meta.json").is_file()
    copy = tmp_path / "copy"
    shutil.copytree(d, copy)
    monkeypatch.setenv("SOCIALMARL_DATA", str(copy))
    assert ds.bundled_data_dir() == copy
    monkeypatch.setattr(ds, "_candidates", lambda: [tmp_path / "nowhere"])
    with pytest.raises(FileNotFoundError, match="make_bundled_data.py"):
        ds.bundled_data_dir()


def test_bluesky_sample_statistics_match_readme(crawl):
    g = crawl.graph
    doc = readme_table("bluesky_sample")
    assert doc, "no statistics table found in data/README.md"
    # independent computation from the raw CSV files with pandas and Python sets
    folder = ds.bundled_data_dir() / "bluesky_sample"
    edges = pd.read_csv(folder / "edges.csv.gz")
    nodes = pd.read_csv(folder / "nodes.csv.gz")
    pairs = set(zip(edges.sender, edges.receiver))
    reciprocity = sum((r, s) in pairs for s, r in pairs) / len(pairs)
    comm = nodes.community.to_numpy()
    und = nx.Graph()
    und.add_nodes_from(range(len(nodes)))
    und.add_edges_from(pairs)
    receivers_with_likes = edges[edges.likes > 0].receiver.nunique()
    stats = {
        "nodes": len(nodes),
        "edges": len(edges),
        "reciprocity": reciprocity,
        "mean_follows": len(edges) / len(nodes),
        "max_followers_in_sample": edges.groupby("sender").size().max(),
        "max_follows_in_sample": edges.groupby("receiver").size().max(),
        "within_community_edges": float(np.mean(comm[edges.sender] == comm[edges.receiver])),
        "average_clustering_undirected": nx.average_clustering(und),
        "mean_weight": edges.weight.mean(),
        "edges_with_likes": float((edges.likes > 0).mean()),
        "followers_with_likes": receivers_with_likes / edges.receiver.nunique(),
        "total_likes": edges.likes.sum(),
    }
    assert set(doc) == set(stats)
    for key, value in stats.items():
        assert math.isclose(doc[key], value, abs_tol=6e-5, rel_tol=1e-4), key
        assert math.isclose(crawl.meta["stats"][key], value, abs_tol=6e-5, rel_tol=1e-4), key
    assert 0.3 <= reciprocity <= 0.5 and 10 <= stats["mean_follows"] <= 20
    # the loader agrees with the raw files
    assert g.num_nodes == len(nodes) and g.num_edges == len(edges)
    assert set(zip(g.senders.tolist(), g.receivers.tolist())) == pairs
    assert g.node_attrs["community"] == nodes.community.tolist()
    assert crawl.meta["synthetic"] is True


def test_bluesky_sample_weights_are_normalised_like_fractions(crawl):
    g = crawl.graph
    posts = g.node_attrs["posts_sampled"]
    s, r = g.senders.tolist(), g.receivers.tolist()
    likes = crawl.edge_likes.tolist()
    raw = [likes[k] / posts[s[k]] if posts[s[k]] else 0.0 for k in range(g.num_edges)]
    total: dict[int, float] = {}
    for k in range(g.num_edges):
        assert likes[k] <= posts[s[k]]
        total[r[k]] = total.get(r[k], 0.0) + raw[k]
    want = [raw[k] / total[r[k]] if total[r[k]] > 0 else 0.0 for k in range(g.num_edges)]
    assert np.allclose(g.edge_weight.numpy(), want, rtol=1e-12, atol=0)
    assert ds.load_bluesky_sample().edge_weight.equal(g.edge_weight)
    # heavier like weights toward same-community accounts, as the model says
    comm = np.asarray(g.node_attrs["community"])
    same = comm[s] == comm[r]
    w = np.asarray(raw)
    assert w[same].mean() > 1.3 * w[~same].mean()


@pytest.mark.parametrize("compress", [False, True])
def test_bluesky_sample_round_trip(crawl, tmp_path, compress):
    folder = crawl.write(tmp_path / "sample", compress=compress)
    back = read_crawl(folder)
    assert torch.equal(back.graph.edge_index, crawl.graph.edge_index)
    assert torch.equal(back.graph.edge_weight, crawl.graph.edge_weight)
    assert torch.equal(back.edge_likes, crawl.edge_likes)
    assert back.graph.node_attrs == crawl.graph.node_attrs
    assert back.meta == crawl.meta
    # and a plain Graph written with write_crawl comes back the same
    g2 = read_crawl(write_crawl(back.graph, tmp_path / "plain")).graph
    assert torch.equal(g2.edge_weight, crawl.graph.edge_weight)


def test_camp_sample_matches_readme_and_model():
    net = ds.load_camp_sample()
    g, r = net.graph, net.interaction_rate
    assert net.camp.rate == r and torch.equal(net.camp.q, g.edge_weight.double())
    doc = readme_table("camp_sample")
    folder = ds.bundled_data_dir() / "camp_sample"
    pairs = pd.read_csv(folder / "pairs.csv")
    people = pd.read_csv(folder / "nodes.csv")
    n = len(people)
    hh = people.household.to_numpy()
    same = hh[pairs.id1] == hh[pairs.id2]
    stats = {
        "people": n,
        "pairs": len(pairs),
        "density": len(pairs) / (n * (n - 1) / 2),
        "mean_q": pairs.q.mean(),
        "max_q": pairs.q.max(),
        "mean_q_same_household": pairs.q[same].mean(),
        "mean_q_other_pairs": pairs.q[~same].mean(),
    }
    assert set(doc) == set(stats)
    for key, value in stats.items():
        assert math.isclose(doc[key], value, abs_tol=6e-5), key
    assert 30 <= n <= 40
    assert stats["mean_q_same_household"] > 3 * stats["mean_q_other_pairs"]
    assert ((pairs.q > 0) & (pairs.q <= 1)).all() and (pairs.id1 < pairs.id2).all()
    # graph: both directions, same q
    assert not g.directed and g.is_symmetric() and g.num_edges == 2 * len(pairs)
    rev = g.reverse_edge()
    assert torch.equal(g.edge_weight, g.edge_weight[rev])
    assert r == 0.5 and f"`r = {r}`" in (ds.bundled_data_dir() / "README.md").read_text()
    proc = MarkovInteraction(g, g.edge_weight, r)
    assert proc.num_pairs == len(pairs)
    assert g.node_attrs["household"] == hh.tolist()


def test_regeneration_reproduces_the_shipped_data(tmp_path):
    script = ds.bundled_data_dir() / "make_bundled_data.py"
    if not script.is_file():
        pytest.skip("make_bundled_data.py is not shipped beside the data in this install")
    spec = importlib.util.spec_from_file_location("make_bundled_data", script)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.write_all(tmp_path)
    a, b = read_crawl(tmp_path / "bluesky_sample"), ds.load_bluesky_sample_crawl()
    assert torch.equal(a.graph.edge_index, b.graph.edge_index)
    assert torch.equal(a.edge_likes, b.edge_likes)
    assert torch.allclose(a.graph.edge_weight, b.graph.edge_weight, rtol=1e-12, atol=0)
    for name in ("nodes.csv", "pairs.csv"):
        got = pd.read_csv(tmp_path / "camp_sample" / name)
        want = pd.read_csv(ds.bundled_data_dir() / "camp_sample" / name)
        pd.testing.assert_frame_equal(got, want, rtol=1e-9)
