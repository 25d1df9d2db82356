"""The crawler's offline mode, packed request caches, and the bundled synthetic cache.

Offline crawls are compared with online crawls of the local fake AppView
(tests/fake_atproto.py) and with the independent ground truth of
tests/test_bluesky_crawler.py; the bundled cache is checked against the bundled sample
it was made from, recomputed here with pandas and networkx.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import math
import socket
import urllib.request
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest
import torch

import socialmarl.networks.bundled as ds
from socialmarl.networks.bluesky.client import (
    PACKED_CACHE_NAME,
    CachedClient,
    CacheMissError,
    OfflineClient,
    RequestCache,
)
from socialmarl.networks.bluesky.crawler import BlueskyCrawler, CrawlConfig, crawl_bluesky
from socialmarl.networks.bluesky.format import BlueskyCrawl
from tests.fake_atproto import FakeAppView, make_network
from tests.test_bluesky_crawler import assert_matches, reference, seeds_of

PAGE = 4
POSTS = 100


@pytest.fixture(scope="module")
def net():
    return make_network(40, seed=7)


@pytest.fixture()
def app(net):
    net.deleted.clear()
    with FakeAppView(net) as server:
        yield server


def online(app, seeds, cache_dir, hops=2) -> BlueskyCrawl:
    from socialmarl.networks.bluesky.client import UrllibClient

    client = UrllibClient(app.base_url, rate_limit=5000.0, timeout=2.0, max_retries=2,
                          backoff_base=0.001)
    return crawl_bluesky(seeds, hops=hops, page_size=PAGE, posts_per_account=POSTS,
                         progress=False, client=client, cache_dir=cache_dir)


def offline(seeds, cache_dir, hops=2) -> BlueskyCrawl:
    return crawl_bluesky(seeds, hops=hops, page_size=PAGE, posts_per_account=POSTS,
                         progress=False, cache_dir=cache_dir, offline=True)


@pytest.fixture()
def no_network(monkeypatch):
    """Any attempt to open a connection fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"a network call was attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(urllib.request, "urlopen", refuse)


def same_crawl(a: BlueskyCrawl, b: BlueskyCrawl) -> None:
    assert torch.equal(a.graph.edge_index, b.graph.edge_index)
    assert torch.equal(a.graph.edge_weight, b.graph.edge_weight)
    assert torch.equal(a.edge_likes, b.edge_likes)
    assert a.graph.node_attrs == b.graph.node_attrs


# ---------------------------------------------------------------------------- offline mode
def test_offline_crawl_equals_online_and_sends_nothing(net, app, tmp_path, monkeypatch):
    seeds = seeds_of(net)
    cache = tmp_path / "cache"
    first = online(app, seeds, cache)
    sent = len(app.calls())
    assert sent == first.meta["requests"]["calls"] > 50

    def refuse(*args, **kwargs):
        raise AssertionError("a network call was attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    again = offline(seeds, cache)
    assert len(app.calls()) == sent  # the fake server saw nothing new
    same_crawl(again, first)
    assert_matches(again, reference(net, seeds, hops=2))
    assert again.meta["requests"] == {"calls": sent, "cache_hits": sent, "cache_misses": 0}
    assert again.meta["source"] == "offline request cache"
    assert str(tmp_path) not in json.dumps(again.meta)  # no local path leaks into the meta


def test_cache_miss_names_the_request_and_the_fix(net, tmp_path, no_network):
    seeds = seeds_of(net)
    cache = tmp_path / "cache"
    # fill the cache for hops=1 only, with the fake's answers served in-process
    filled = CachedClient(_Direct(FakeAppView(net)), RequestCache(cache))
    crawl_bluesky(seeds, hops=1, page_size=PAGE, posts_per_account=POSTS, progress=False,
                  client=filled)
    n = len(RequestCache(cache))
    assert n == filled.misses > 0
    with pytest.raises(CacheMissError) as info:
        offline(seeds, cache, hops=2)
    err = info.value
    msg = str(err)
    assert err.method == "app.bsky.graph.getFollows"
    assert err.params["actor"].startswith("did:") and err.params["actor"] in msg
    assert "app.bsky.graph.getFollows" in msg and str(cache) in msg
    assert "no network request was made" in msg and "offline=False" in msg
    assert "hops" in msg  # says which settings must match
    assert len(RequestCache(cache)) == n  # nothing was written


class _Direct:
    """Answers from the fake AppView's ground truth without HTTP (for the no-network test)."""

    def __init__(self, app: FakeAppView) -> None:
        from tests.fake_atproto import _Handler

        self.app = app
        self.handler = _Handler

    def get_json(self, method, params):
        from socialmarl.networks.bluesky.client import canonical_params

        grouped: dict[str, list[str]] = {}
        for k, v in canonical_params(params):
            grouped.setdefault(k, []).append(v)
        handler = self.handler.__new__(self.handler)
        handler.app = self.app
        return handler._answer(method, grouped, None)


def test_offline_argument_errors(tmp_path):
    cfg = CrawlConfig(seeds=("a.test",))
    with pytest.raises(ValueError, match="offline=True needs cache_dir"):
        BlueskyCrawler(cfg, offline=True)
    with pytest.raises(ValueError, match="leave out client and auth_token"):
        BlueskyCrawler(cfg, offline=True, cache_dir=tmp_path, client=OfflineClient(tmp_path))
    with pytest.raises(ValueError, match="leave out client and auth_token"):
        BlueskyCrawler(cfg, offline=True, cache_dir=tmp_path, auth_token="secret")
    missing = tmp_path / "no-such-cache"
    with pytest.raises(FileNotFoundError, match="no-such-cache"):
        crawl_bluesky("a.test", cache_dir=missing, offline=True, progress=False)
    assert not missing.exists()  # an offline crawl creates nothing
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CacheMissError, match="app.bsky.actor.getProfiles"):
        crawl_bluesky("a.test", cache_dir=empty, offline=True, progress=False)
    assert list(empty.iterdir()) == []


# ---------------------------------------------------------------------------- packed caches
def test_packed_cache_answers_like_loose_files(net, app, tmp_path, monkeypatch):
    seeds = seeds_of(net)
    a, b = tmp_path / "a", tmp_path / "b"
    first = online(app, seeds, a)
    online(app, seeds, b)  # a second, independent fill (files written in another order)
    loose = sorted(p.relative_to(a) for p in a.rglob("*.json"))
    archive = RequestCache(a).pack(remove_loose=True)
    assert sorted(p.name for p in a.iterdir()) == [PACKED_CACHE_NAME]
    assert RequestCache(b).pack().read_bytes() == archive.read_bytes()  # deterministic
    lines = gzip.decompress(archive.read_bytes()).decode().splitlines()
    assert len(lines) == len(loose) == len(RequestCache(a))
    keys = [RequestCache._key_of(e["method"], e["params"]) for e in map(json.loads, lines)]
    assert keys == sorted(keys) and {f"{k}.json" for k in keys} == {p.name for p in loose}
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: pytest.fail("network"))
    same_crawl(offline(seeds, a), first)
    # a loose entry wins over the archive
    cache = RequestCache(a)
    method, params = "app.bsky.actor.getProfiles", {"actors": ["x.test"]}
    assert cache.get(method, params) is None
    cache.put(method, params, {"profiles": ["loose"]})
    assert RequestCache(a).get(method, params)["response"] == {"profiles": ["loose"]}
    assert len(RequestCache(a)) == len(loose) + 1


def test_broken_archive_names_file_and_line(tmp_path):
    lines = [json.dumps({"method": "m.n.o", "params": [], "response": {}}), "{not json"]
    (tmp_path / PACKED_CACHE_NAME).write_bytes(gzip.compress("\n".join(lines).encode()))
    with pytest.raises(ValueError, match=r"requests\.jsonl\.gz, line 2: not JSON"):
        RequestCache(tmp_path).get("m.n.o", {})
    (tmp_path / PACKED_CACHE_NAME).write_bytes(b"plain text")
    with pytest.raises(ValueError, match="not a readable gzip file"):
        RequestCache(tmp_path).get("m.n.o", {})


# ---------------------------------------------------------------------------- bundled cache
def sample_reference(folder_nodes: list[str]) -> dict:
    """Edges, likes and weights of the bundled sample restricted to the crawled accounts."""
    base = ds.bundled_data_dir() / "bluesky_sample"
    nodes = pd.read_csv(base / "nodes.csv.gz")
    edges = pd.read_csv(base / "edges.csv.gz")
    node_of = dict(zip(nodes.did, nodes.node))
    keep = {node_of[d] for d in folder_nodes}
    sub = edges[edges.sender.isin(keep) & edges.receiver.isin(keep)].copy()
    posts = dict(zip(nodes.node, nodes.posts_sampled))
    sub["raw"] = [lk / posts[s] if posts[s] else 0.0 for s, lk in zip(sub.sender, sub.likes)]
    total = sub.groupby("receiver")["raw"].transform("sum")
    sub["w"] = [r / t if t > 0 else 0.0 for r, t in zip(sub.raw, total)]
    did_of = dict(zip(nodes.node, nodes.did))
    return {
        "nodes": nodes.set_index("did"),
        "likes": {(did_of[s], did_of[r]): int(k) for s, r, k in
                  zip(sub.sender, sub.receiver, sub.likes)},
        "weights": {(did_of[s], did_of[r]): w for s, r, w in zip(sub.sender, sub.receiver, sub.w)},
        "graph": nx.DiGraph(list(zip(edges.receiver.map(did_of), edges.sender.map(did_of)))),
    }


def test_bundled_cache_reproduces_the_sample_subgraph(no_network):
    folder, settings = ds.bluesky_crawl_cache()
    crawl = crawl_bluesky(**settings, cache_dir=folder, offline=True, progress=False)
    g = crawl.graph
    did = g.node_attrs["did"]
    ref = sample_reference(did)
    assert g.num_nodes == settings["max_nodes"] and g.num_edges > 5 * g.num_nodes
    got_likes, got_w = {}, {}
    for k, (s, r) in enumerate(g.edge_index.t().tolist()):
        got_likes[(did[s], did[r])] = int(crawl.edge_likes[k])
        got_w[(did[s], did[r])] = float(g.edge_weight[k])
    assert got_likes == ref["likes"]  # every follow among the crawled accounts, exact likes
    for key, w in ref["weights"].items():
        assert math.isclose(got_w[key], w, rel_tol=1e-12, abs_tol=1e-15), key
    nodes = ref["nodes"]
    for col in ("handle", "followers_count", "follows_count", "posts_count", "posts_sampled"):
        assert g.node_attrs[col] == nodes.loc[did, col].tolist(), col
    # every account was reached within `hops` follow steps of a seed, at its BFS distance
    seeds = [nodes.index[nodes.handle == h][0] for h in settings["seeds"]]
    dist: dict[str, int] = {}
    for s in seeds:
        for v, d in nx.single_source_shortest_path_length(ref["graph"], s).items():
            dist[v] = min(d, dist.get(v, d))
    assert [dist[d] for d in did] == g.node_attrs["hop"]
    assert max(g.node_attrs["hop"]) == settings["hops"]
    assert all(h.endswith(".invalid") for h in g.node_attrs["handle"])
    # the statistics written beside the cache and quoted in data/README.md
    info = json.loads((folder / "crawl.json").read_text())
    assert info["synthetic"] is True
    stats = info["stats"]
    pairs = set(map(tuple, g.edge_index.t().tolist()))
    assert stats["nodes"] == g.num_nodes and stats["edges"] == g.num_edges
    assert stats["reciprocity"] == round(sum((r, s) in pairs for s, r in pairs) / len(pairs), 4)
    assert stats["total_likes"] == sum(ref["likes"].values())
    assert stats["requests"] == crawl.meta["requests"]["cache_hits"]
    readme = (folder.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## `bluesky_crawl_cache/`"):]
    for key, value in stats.items():
        assert f"| `{key}` | {value} |" in section, key


def test_bundled_cache_misses_other_settings(no_network):
    folder, settings = ds.bluesky_crawl_cache()
    with pytest.raises(CacheMissError, match="app.bsky.graph.getFollows"):
        crawl_bluesky(**{**settings, "hops": 3, "max_nodes": 500}, cache_dir=folder,
                      offline=True, progress=False)


def test_bundled_cache_regenerates_byte_identical(tmp_path):
    script = ds.bundled_data_dir() / "make_crawl_cache.py"
    if not script.is_file():
        pytest.skip("make_crawl_cache.py is not shipped beside the data in this install")
    spec = importlib.util.spec_from_file_location("make_crawl_cache", script)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = tmp_path / "cache"
    mod.make_crawl_cache(out, ds.bundled_data_dir() / "bluesky_sample")
    shipped, _ = ds.bluesky_crawl_cache()
    for name in (PACKED_CACHE_NAME, "crawl.json"):
        assert (out / name).read_bytes() == (Path(shipped) / name).read_bytes(), name
    assert (out / PACKED_CACHE_NAME).stat().st_size < 300_000
