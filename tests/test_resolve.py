"""load_network: built-in names, real data sets by name, paths (files and folders), errors.

Every network is compared with an independent reference: a copy of the old
``cli.resolve_graph`` (before ``--graph`` took paths; ``cli`` now calls ``load_network``) for
the built-in names, the loader called directly (and, where cheap, the edges written) for
the paths, and the published sizes for the real data.
"""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import torch

import socialmarl.networks.resolve as resolve
from socialmarl.networks.bluesky.format import read_crawl, write_crawl
from socialmarl.networks.bundled import load_bluesky_sample, load_camp_sample
from socialmarl.networks.dynamic import MarkovInteraction
from socialmarl.networks.dynamic_fit import estimate_markov_interaction
from socialmarl.networks.generators import barabasi_albert_graph, social_graph
from socialmarl.networks.graph import Graph
from socialmarl.networks.loaders.bluesky_dump import load_bluesky_dump
from socialmarl.networks.loaders.camps import load_bayaka, load_bayaka_daily
from socialmarl.networks.loaders.congress import load_congress_twitter
from socialmarl.networks.loaders.files import load_csv_edges, load_edgelist, load_graphml
from socialmarl.networks.resolve import (
    BUILTIN_NAMES,
    NETWORK_NAMES,
    REAL_DATA_NAMES,
    Network,
    load_network,
)
from tests.real_data import real_data


def old_resolve_graph(name: str, seed: int = 0) -> Graph:
    """``socialmarl.apps.cli.resolve_graph`` as it was before load_network (commit facfc66)."""
    if name == "bluesky_sample":
        return load_bluesky_sample()
    if name == "camp_sample":
        return load_camp_sample().graph
    if name in ("karate_club", "les_miserables"):
        return social_graph(name, weighted=False)
    if name.startswith("ba") and name[2:].isdigit():
        return barabasi_albert_graph(int(name[2:]), 7, seed=seed)
    raise ValueError(f"unknown graph {name!r}")


def assert_same_graph(a: Graph, b: Graph) -> None:
    assert a.num_nodes == b.num_nodes
    assert a.directed == b.directed
    assert torch.equal(a.edge_index, b.edge_index)
    if b.edge_weight is None:
        assert a.edge_weight is None
    else:
        assert a.edge_weight is not None
        torch.testing.assert_close(a.edge_weight, b.edge_weight)
    assert a.node_attrs == b.node_attrs


# ------------------------------------------------------------------------- small fixtures
def write_congress(folder: Path) -> Path:
    """A three-member Congress folder in the SNAP layout (load_congress_twitter's docstring)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "congress.edgelist").write_text(
        "0 1 {'weight': 0.5}\n1 0 0.25\n2 0 {'weight': 0.125}\n"
    )
    meta = [{"usernameList": ["a", "b", "c"], "partyList": ["D", "R", "I"]}]
    (folder / "congress_network_data.json").write_text(json.dumps(meta))
    return folder


def write_bayaka(folder: Path, days: int = 60, people: int = 5, r: float = 1.0) -> Path:
    """A BaYaka folder (load_bayaka_daily's layout) from a simulated Markov series.

    Each pair is a two-state chain with its own q and rate ``r`` per day, observed on about
    85% of the days; one pair never meets (so it is not an edge), the static counts are
    those of the daily rows.
    """
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    ids = [f"p{k}" for k in range(1, people + 1)]
    decay = math.exp(-r)
    daily, static = [], []
    for a in range(people):
        for b in range(a + 1, people):
            q = 0.0 if (a, b) == (0, 1) else rng.uniform(0.15, 0.6)
            on = rng.random() < q
            seen = together = 0
            for day in range(1, days + 1):
                on = rng.random() < q * (1 - decay) + on * decay
                if rng.random() < 0.85:
                    daily.append(f"{day},{ids[a]},{ids[b]},{int(on)}")
                    seen += 1
                    together += int(on)
            static.append(f"{ids[a]},{ids[b]},{seen},{together}")
    (folder / "bayaka_nodes.csv").write_text(
        "id,sex\n" + "".join(f"{u},{'FM'[k % 2]}\n" for k, u in enumerate(ids))
    )
    (folder / "bayaka_dyads_static.csv").write_text(
        "id1,id2,days_exposed,days_together\n" + "\n".join(static) + "\n"
    )
    daily.sort(key=lambda row: int(row.split(",")[0]))
    (folder / "bayaka_daily_dyads.csv").write_text(
        "day,id1,id2,together\n" + "\n".join(daily) + "\n"
    )
    return folder


def write_dump(folder: Path, interactions: bool = True) -> Path:
    """A tiny Failla-Rossetti dump (load_bluesky_dump's docstring layout)."""
    folder.mkdir(parents=True, exist_ok=True)
    with gzip.open(folder / "followers.csv.gz", "wt") as fh:
        fh.write("1,2\n2,1\n3,1\n4,3\n5,1\n2,5\n")
    if interactions:
        with gzip.open(folder / "interactions.csv.gz", "wt") as fh:
            fh.write("1,2,3\n3,1,1\n5,1,2\n")
    return folder


@pytest.fixture
def no_real_data(tmp_path, monkeypatch):
    """No shared data folder and an empty download cache."""
    empty = tmp_path / "empty_shared"
    empty.mkdir()
    monkeypatch.setenv("SOCIALMARL_SHARED_DATA", str(empty))
    monkeypatch.setenv("SOCIALMARL_CACHE_DIR", str(tmp_path / "empty_cache"))
    return empty


# ------------------------------------------------------------------------- built-in names
@pytest.mark.parametrize(
    ("name", "seed"),
    [(n, 0) for n in BUILTIN_NAMES] + [("ba8", 0), ("ba50", 3), ("ba100", 5)],
)
def test_builtin_names_match_old_resolve_graph(name, seed):
    net = load_network(name, seed=seed)
    assert_same_graph(net.graph, old_resolve_graph(name, seed=seed))
    assert net.source
    if name == "camp_sample":
        assert net.interaction_rate == load_camp_sample().interaction_rate == 0.5
        assert net.dynamic and torch.equal(net.q, net.graph.edge_weight)
    else:
        assert net.interaction_rate is None and net.q is None and not net.dynamic


def test_ba_seed_changes_graph_and_small_n_is_refused():
    assert not torch.equal(load_network("ba50", seed=1).graph.edge_index,
                           load_network("ba50", seed=2).graph.edge_index)
    for bad in ("ba7", "ba0"):
        with pytest.raises(ValueError, match="N >= 8"):
            load_network(bad)


def test_names_constant():
    assert set(BUILTIN_NAMES) == {"bluesky_sample", "camp_sample", "karate_club",
                                  "les_miserables", "ba100", "ba1000"}
    assert set(REAL_DATA_NAMES) == {"congress_twitter", "bayaka", "bayaka_coforaging"}
    assert NETWORK_NAMES == BUILTIN_NAMES + REAL_DATA_NAMES
    for name in NETWORK_NAMES:
        assert name in resolve.NETWORK_SPEC_HELP


def test_name_wins_over_file_of_same_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("karate_club").write_text("x y\n")
    assert load_network("karate_club").graph.num_nodes == 34
    net = load_network("./karate_club")
    assert net.graph.num_nodes == 2 and net.source.startswith("edge list")


# ------------------------------------------------------------------------- files
@pytest.mark.parametrize("suffix", [".txt", ".edgelist", ".edges", ".tsv", ".gz", ""])
def test_edgelist_files(tmp_path, suffix):
    text = "alice bob 0.5\nbob carol 2\ncarol alice 1.5\n"
    p = tmp_path / f"net{suffix}"
    if suffix == ".gz":
        with gzip.open(p, "wt") as fh:
            fh.write(text)
    else:
        p.write_text(text)
    net = load_network(p)
    assert_same_graph(net.graph, load_edgelist(p))
    assert net.interaction_rate is None and str(p) in net.source
    g = net.graph  # independent: the three edges as written
    labels = g.node_attrs["label"]
    got = {(labels[s], labels[r], w) for s, r, w in
           zip(g.senders.tolist(), g.receivers.tolist(), g.edge_weight.tolist())}
    assert got == {("alice", "bob", 0.5), ("bob", "carol", 2.0), ("carol", "alice", 1.5)}
    assert_same_graph(load_network(str(p)).graph, net.graph)  # str and Path alike


@pytest.mark.parametrize("gz", [False, True])
def test_csv_file(tmp_path, gz):
    text = "source,target,weight\n3,1,0.2\n1,2,0.8\n2,3,0.1\n"
    p = tmp_path / ("e.csv.gz" if gz else "e.csv")
    if gz:
        with gzip.open(p, "wt") as fh:
            fh.write(text)
    else:
        p.write_text(text)
    net = load_network(p)
    assert_same_graph(net.graph, load_csv_edges(p))
    assert net.graph.edge_index.tolist() == [[2, 0, 1], [0, 1, 2]]  # ids 1,2,3 -> 0,1,2
    assert net.source.startswith("CSV")


def test_graphml_file(tmp_path):
    g_nx = nx.DiGraph()
    g_nx.add_weighted_edges_from([("a", "b", 0.5), ("b", "c", 1.0), ("c", "a", 2.0)])
    p = tmp_path / "g.graphml"
    nx.write_graphml(g_nx, p)
    net = load_network(p)
    assert_same_graph(net.graph, load_graphml(p))
    labels = net.graph.node_attrs["label"]
    got = {(labels[s], labels[r], w) for s, r, w in zip(
        net.graph.senders.tolist(), net.graph.receivers.tolist(),
        net.graph.edge_weight.tolist())}
    assert got == {(u, v, d["weight"]) for u, v, d in g_nx.edges(data=True)}
    assert net.source.startswith("GraphML")


# ------------------------------------------------------------------------- folders
@pytest.mark.parametrize("compress", [False, True])
def test_crawl_folder(tmp_path, compress):
    g = Graph(4, [[0, 1, 2, 3], [1, 2, 3, 0]], [0.25, 0.5, 1.0, 0.0],
              node_attrs={"handle": [f"u{k}.test" for k in range(4)]}, name="mine")
    folder = write_crawl(g, tmp_path / "crawl", edge_likes=[1, 2, 3, 0], compress=compress)
    net = load_network(folder)
    assert_same_graph(net.graph, read_crawl(folder).graph)
    assert torch.equal(net.graph.edge_index, g.edge_index)
    assert net.interaction_rate is None and "crawl" in net.source


def test_bundled_bluesky_sample_folder_is_a_crawl():
    from socialmarl.networks.bundled import bundled_data_dir

    net = load_network(bundled_data_dir() / "bluesky_sample")
    assert_same_graph(net.graph, load_network("bluesky_sample").graph)


def test_congress_style_folder(tmp_path):
    folder = write_congress(tmp_path / "cg")
    net = load_network(folder)
    assert_same_graph(net.graph, load_congress_twitter(folder))
    assert net.graph.edge_index.tolist() == [[1, 2, 0], [0, 0, 1]]
    assert net.graph.edge_weight.tolist() == [0.25, 0.125, 0.5]
    assert net.interaction_rate is None and str(folder) in net.source


def test_bayaka_style_folder_is_dynamic(tmp_path, monkeypatch):
    folder = write_bayaka(tmp_path / "by")
    net = load_network(folder)
    assert_same_graph(net.graph, load_bayaka(folder))
    assert net.graph.num_nodes == 5 and net.graph.num_edges == 2 * 9  # pair p1-p2 never met
    daily = load_bayaka_daily(folder)
    ref = estimate_markov_interaction(daily.active, daily.observed, days=daily.days)
    assert net.interaction_rate == pytest.approx(ref.r, rel=1e-12)
    assert 0.2 < net.interaction_rate < 5.0  # simulated with r = 1 per day
    assert net.dynamic and torch.equal(net.q, net.graph.edge_weight)
    MarkovInteraction(net.graph, net.q, net.interaction_rate)  # a valid camp process
    # the per-day fit is converted to game steps through BAYAKA_STEPS_PER_DAY
    monkeypatch.setattr(resolve, "BAYAKA_STEPS_PER_DAY", 4.0)
    assert load_network(folder).interaction_rate == pytest.approx(ref.r / 4.0, rel=1e-12)


@pytest.mark.parametrize("interactions", [True, False])
def test_bluesky_dump_folder(tmp_path, interactions):
    folder = write_dump(tmp_path / "dump", interactions=interactions)
    with pytest.warns(UserWarning, match="only 5 users"):
        ref = load_bluesky_dump(folder, interactions=interactions)
    with pytest.warns(UserWarning, match="only 5 users"):
        net = load_network(folder)
    assert_same_graph(net.graph, ref)
    assert (net.graph.edge_weight is not None) == interactions
    assert net.interaction_rate is None and "dump" in net.source


# ------------------------------------------------------------------------- real data by name
def test_real_name_via_shared_data_env_and_data_dir(tmp_path, monkeypatch):
    shared = tmp_path / "shared"
    write_congress(shared / "congress_twitter")
    write_bayaka(shared / "bayaka_coforaging")
    monkeypatch.setenv("SOCIALMARL_SHARED_DATA", str(shared))
    ref = load_congress_twitter(shared / "congress_twitter")
    assert_same_graph(load_network("congress_twitter").graph, ref)
    for d in (shared, shared / "congress_twitter"):  # a parent or the set's own folder
        assert_same_graph(load_network("congress_twitter", data_dir=d).graph, ref)
    for name in ("bayaka", "bayaka_coforaging"):
        net = load_network(name, data_dir=shared)
        assert_same_graph(net.graph, load_bayaka(shared / "bayaka_coforaging"))
        assert net.dynamic


def test_congress_found_in_download_cache(tmp_path, monkeypatch, no_real_data):
    cache = tmp_path / "cache"
    write_congress(cache / "congress_twitter")
    monkeypatch.setenv("SOCIALMARL_CACHE_DIR", str(cache))
    net = load_network("congress_twitter")
    assert_same_graph(net.graph, load_congress_twitter(cache / "congress_twitter"))
    assert str(cache) in net.source


def test_real_congress_twitter():
    folder = real_data("congress_twitter")
    net = load_network("congress_twitter")
    assert (net.graph.num_nodes, net.graph.num_edges) == (475, 13_289)
    assert net.interaction_rate is None and net.graph.directed
    ref = load_congress_twitter(folder)
    for other in (net, load_network(folder), load_network("congress_twitter",
                                                          data_dir=folder.parent)):
        assert_same_graph(other.graph, ref)


def test_real_bayaka_is_dynamic():
    folder = real_data("bayaka_coforaging")
    net = load_network("bayaka")
    assert net.dynamic and 0 < net.interaction_rate < math.inf
    assert_same_graph(net.graph, load_bayaka(folder))
    assert (net.graph.num_nodes, net.graph.directed) == (60, False)
    daily = load_bayaka_daily(folder)
    ref = estimate_markov_interaction(daily.active, daily.observed, days=daily.days)
    assert net.interaction_rate == pytest.approx(ref.r, rel=1e-12)  # one step per day
    assert net.interaction_rate == pytest.approx(3.46, abs=0.05)  # notebook 04's fit
    assert load_network("bayaka_coforaging").interaction_rate == net.interaction_rate


# ------------------------------------------------------------------------- errors
@pytest.mark.parametrize(("typo", "meant"), [
    ("karate_clb", "karate_club"), ("bayka", "bayaka"), ("congress_twiter", "congress_twitter"),
    ("camp-sample", "camp_sample"),
])
def test_unknown_name_suggests_closest(typo, meant, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=f"Did you mean '{meant}'") as err:
        load_network(typo)
    msg = str(err.value)
    for name in NETWORK_NAMES:
        assert name in msg
    assert "ba<N>" in msg and "exist" in msg


def test_missing_path(tmp_path):
    p = tmp_path / "no" / "such.txt"
    with pytest.raises(ValueError, match="exist") as err:
        load_network(p)
    assert str(p) in str(err.value) and "karate_club" in str(err.value)
    with pytest.raises(ValueError, match="exist"):
        load_network(str(p))
    with pytest.raises(ValueError, match="empty"):
        load_network("")
    with pytest.raises(TypeError):
        load_network(3)  # type: ignore[arg-type]


def test_unrecognised_folder(tmp_path):
    folder = tmp_path / "stuff"
    folder.mkdir()
    (folder / "notes.txt").write_text("hello\n")
    with pytest.raises(ValueError) as err:
        load_network(folder)
    msg = str(err.value)
    assert str(folder) in msg and "notes.txt" in msg
    for marker in ("meta.json", "edges.csv", "congress.edgelist", "bayaka_nodes.csv",
                   "followers.csv.gz"):
        assert marker in msg
    write_congress(folder / "cg")  # a recognised sub-folder is suggested
    with pytest.raises(ValueError, match="did you mean .*cg"):
        load_network(folder)


def test_missing_real_data(tmp_path, no_real_data):
    with pytest.raises(FileNotFoundError) as err:
        load_network("congress_twitter")
    msg = str(err.value)
    assert str(no_real_data) in msg and "download=True" in msg and "empty_cache" in msg
    with pytest.raises(FileNotFoundError, match="dryad.70rxwdc4t") as err:
        load_network("bayaka")
    assert str(no_real_data) in str(err.value) and "SOCIALMARL_SHARED_DATA" in str(err.value)
    with pytest.raises(FileNotFoundError, match="bayaka_nodes.csv") as err:
        load_network("bayaka_coforaging", data_dir=tmp_path / "elsewhere")
    assert str(tmp_path / "elsewhere" / "bayaka_coforaging") in str(err.value)


def _same_error(call_direct, call_resolved, exc_type: type[Exception]) -> None:
    with pytest.raises(exc_type) as direct:
        call_direct()
    with pytest.raises(exc_type) as resolved:
        call_resolved()
    assert type(resolved.value) is type(direct.value)
    assert str(resolved.value) == str(direct.value)


def test_loader_errors_pass_through_unchanged(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("a b 1\nb c -2\n")  # a negative weight
    _same_error(lambda: load_edgelist(bad), lambda: load_network(bad), ValueError)
    csv = tmp_path / "bad.csv"
    csv.write_text("from,to\n1,2\n")  # no source/target columns
    _same_error(lambda: load_csv_edges(csv), lambda: load_network(csv), ValueError)
    gml = tmp_path / "bad.graphml"
    gml.write_text("<graphml><not closed")
    _same_error(lambda: load_graphml(gml), lambda: load_network(gml), ValueError)
    cg = tmp_path / "cg"
    cg.mkdir()
    (cg / "congress.edgelist").write_text("0 1 0.5\n")  # the JSON file is missing
    _same_error(lambda: load_congress_twitter(cg), lambda: load_network(cg), FileNotFoundError)
    by = write_bayaka(tmp_path / "by")
    (by / "bayaka_daily_dyads.csv").unlink()  # r cannot be fitted without the daily series
    _same_error(lambda: load_bayaka_daily(by), lambda: load_network(by), FileNotFoundError)


def test_network_checks_dynamic_fields():
    g = Graph(2, [[0], [1]])
    with pytest.raises(ValueError, match="edge weights"):
        Network(g, 0.5, "test")
    weighted = Graph(2, [[0, 1], [1, 0]], [0.2, 0.2], directed=False)
    for bad in (0.0, -1.0, math.inf, math.nan):
        with pytest.raises(ValueError, match="interaction_rate"):
            Network(weighted, bad, "test")
    net = Network(weighted, 0.5, "test")
    with pytest.raises(AttributeError):
        net.interaction_rate = 1.0  # type: ignore[misc]  # frozen
