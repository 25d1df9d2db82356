"""Tests of the Bluesky crawler against a local fake AppView with injected faults.

The reference results are computed here, independently, from the fake server's ground
truth (follow lists, posts, likers) with plain Python loops and networkx BFS.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from pathlib import Path

import networkx as nx
import pytest
import torch

from socialmarl.networks.bluesky.client import (
    RateLimitWaitTooLong,
    RequestCache,
    RequestFailedError,
    UrllibClient,
)
from socialmarl.networks.bluesky.crawler import AccountNotFoundError, CrawlError, crawl_bluesky
from socialmarl.networks.bluesky.format import BlueskyCrawl, read_crawl
from socialmarl.networks.bluesky.privacy import pseudonymise_crawl
from tests.fake_atproto import FakeAppView, FakeNetwork, make_network

PAGE = 4  # small pages so that every list is paginated
POSTS = 100  # more than any fake account has: every own post is sampled


# ---------------------------------------------------------------------------- reference
def reference(net: FakeNetwork, seeds: list[str], hops: int, posts: int = POSTS,
              direction: str = "follows") -> dict:
    """Independent ground truth: node set, edges (follower, followed) and weights by DID."""
    g = nx.DiGraph()
    g.add_nodes_from(net.dids)
    for u in net.dids:
        for v in net.follows[u]:
            if direction in ("follows", "both") and u not in net.deleted:
                g.add_edge(u, v)  # a deleted account's lists cannot be read
            if direction in ("followers", "both") and v not in net.deleted:
                g.add_edge(v, u)
    dist: dict[str, int] = {}
    for s in seeds:
        for v, d in nx.single_source_shortest_path_length(g, s, cutoff=hops).items():
            dist[v] = min(d, dist.get(v, d))
    nodes = {v for v in dist if v not in net.deleted}
    edges = {(i, j) for i in nodes for j in net.follows[i] if j in nodes and j != i}
    likes, raw = {}, {}
    for i, j in edges:
        own = net.posts[j][:posts]
        likes[(i, j)] = sum(1 for p in own if i in p["likers"])
        raw[(i, j)] = likes[(i, j)] / len(own) if own else 0.0
    weights = {}
    for i, j in edges:
        tot = sum(raw[(a, b)] for a, b in edges if a == i)
        weights[(i, j)] = raw[(i, j)] / tot if tot > 0 else 0.0
    return {"nodes": nodes, "dist": dist, "edges": edges, "likes": likes, "weights": weights}


def by_did(crawl: BlueskyCrawl) -> dict:
    """The crawl as DID-keyed dicts, to compare with :func:`reference`."""
    g = crawl.graph
    did = g.node_attrs["did"]
    out = {"nodes": set(did), "edges": set(), "likes": {}, "weights": {}}
    for k, (s, r) in enumerate(g.edge_index.t().tolist()):
        key = (did[r], did[s])  # receiver i follows sender j
        out["edges"].add(key)
        out["weights"][key] = float(g.edge_weight[k])
        out["likes"][key] = int(crawl.edge_likes[k])
    return out


def assert_matches(crawl: BlueskyCrawl, ref: dict) -> None:
    got = by_did(crawl)
    assert got["nodes"] == ref["nodes"]
    assert got["edges"] == ref["edges"]
    assert got["likes"] == ref["likes"]
    for key, w in ref["weights"].items():
        assert math.isclose(got["weights"][key], w, rel_tol=1e-12, abs_tol=1e-15), key


def client(app: FakeAppView, **kw) -> UrllibClient:
    opts = dict(rate_limit=5000.0, timeout=2.0, max_retries=4, backoff_base=0.001)
    opts.update(kw)
    return UrllibClient(app.base_url, **opts)


def crawl(app: FakeAppView, seeds, hops=2, **kw) -> BlueskyCrawl:
    kw.setdefault("client", client(app))
    return crawl_bluesky(seeds, hops=hops, page_size=PAGE, posts_per_account=POSTS,
                         progress=False, **kw)


@pytest.fixture(scope="module")
def net() -> FakeNetwork:
    return make_network(40, seed=7)


@pytest.fixture()
def app(net):
    net.deleted.clear()
    with FakeAppView(net) as server:
        yield server
    net.deleted.clear()


def seeds_of(net: FakeNetwork, k: int = 2) -> list[str]:
    # accounts with follows, so that the crawl grows
    return [d for d in net.dids if len(net.follows[d]) >= 2][:k]


# ---------------------------------------------------------------------------- clean crawl
def test_clean_crawl_equals_ground_truth(net, app):
    seeds = seeds_of(net)
    handles = [net.handles[s] for s in seeds]
    result = crawl(app, handles, hops=2)
    ref = reference(net, seeds, hops=2)
    assert len(ref["nodes"]) > 10 and len(ref["edges"]) > 20  # a non-trivial test
    assert_matches(result, ref)
    g = result.graph
    # orientation: sender = followed, receiver = follower
    did = g.node_attrs["did"]
    s, r = g.edge_index[:, 0].tolist()
    assert did[s] in net.follows[did[r]]
    # node attributes from getProfiles
    for k, d in enumerate(did):
        assert g.node_attrs["handle"][k] == net.handles[d]
        assert g.node_attrs["followers_count"][k] == (
            len(net.followers(d)) + net.outside_followers[d])
        assert g.node_attrs["follows_count"][k] == len(net.follows[d]) + 3
        assert g.node_attrs["posts_count"][k] == len(net.posts[d]) + 7
        assert g.node_attrs["hop"][k] == ref["dist"][d]
    # weights: each receiver's row sums to 1 or is all zero
    row = torch.zeros(g.num_nodes, dtype=torch.float64).index_add_(0, g.receivers, g.edge_weight)
    for i in g.receivers.unique().tolist():
        assert math.isclose(float(row[i]), 1.0, rel_tol=1e-12) or float(row[i]) == 0.0
    assert (g.edge_weight > 0).any()
    # getProfiles: batches of at most 25, actors as a repeated parameter
    batches = [len(c.params["actors"]) for c in app.calls("app.bsky.actor.getProfiles")]
    assert max(batches) == 25 and all(b <= 25 for b in batches)
    # pagination really happened and no request was sent twice
    assert any("cursor" in c.params for c in app.calls("app.bsky.graph.getFollows"))
    keys = [c.key() for c in app.calls()]
    assert len(keys) == len(set(keys))
    assert result.meta["seeds"][0]["did"] == seeds[0]
    assert result.meta["requests"]["calls"] == len(app.calls())


def test_sampled_posts_are_the_most_recent_own_posts(net, app):
    seeds = seeds_of(net)
    saved = dict(net.feed)
    # every account with >= 2 posts reposts its own oldest post on top of its feed
    for d in net.dids:
        if len(net.posts[d]) >= 2:
            net.feed[d] = [("repost", net.posts[d][-1]["uri"])] + net.feed[d]
    try:
        result = crawl_bluesky(seeds, hops=2, page_size=2, posts_per_account=3,
                               progress=False, client=client(app))
    finally:
        net.feed.clear()
        net.feed.update(saved)
    ref = reference(net, seeds, hops=2, posts=3)
    assert_matches(result, ref)
    did = result.graph.node_attrs["did"]
    assert result.graph.node_attrs["posts_sampled"] == [
        min(3, len(net.posts[d])) if d in {j for _, j in ref["edges"]} else 0 for d in did]


@pytest.mark.parametrize("direction", ["followers", "both"])
def test_expansion_along_followers(net, app, direction):
    seeds = seeds_of(net, 1)
    result = crawl(app, seeds, hops=2, direction=direction)
    ref = reference(net, seeds, hops=2, direction=direction)
    assert ref["nodes"] != reference(net, seeds, hops=2)["nodes"]  # a different crawl
    assert_matches(result, ref)
    assert app.calls("app.bsky.graph.getFollowers")


def test_no_authorization_header_unless_given(net, app):
    seeds = seeds_of(net, 1)
    # default client built by the crawler from the config
    crawl_bluesky(seeds, hops=1, page_size=PAGE, progress=False, base_url=app.base_url,
                  rate_limit=5000.0, backoff_base=0.001)
    assert app.calls()
    for rec in app.calls():
        assert "authorization" not in {k.lower() for k in rec.headers}
        assert "cookie" not in {k.lower() for k in rec.headers}
    n0 = len(app.calls())
    crawl_bluesky(seeds, hops=1, page_size=PAGE, progress=False, base_url=app.base_url,
                  rate_limit=5000.0, auth_token="tok123")
    later = app.calls()[n0:]
    assert later and all(rec.headers.get("Authorization") == "Bearer tok123" for rec in later)


# ---------------------------------------------------------------------------- faults
def test_rate_limit_429_honours_reset_and_retry_after(net, app):
    seeds = seeds_of(net)
    sleeps: list[float] = []
    c = client(app, sleep=sleeps.append)  # record the pauses instead of sleeping
    app.add_fault("rate_limit", method="app.bsky.graph.getFollows", reset_in=2)
    app.add_fault("rate_limit", method="app.bsky.actor.getProfiles", retry_after=3)
    t0 = time.time()
    result = crawl(app, seeds, client=c)
    t1 = time.time()
    assert_matches(result, reference(net, seeds, hops=2))
    waits = [w for reason, w in c.waits if reason == "http_429"]
    assert len(waits) == 2
    assert 3.0 - 1e-9 <= max(waits) <= 3.0 + 1e-9  # retry-after: 3 s exactly
    # Until the epoch-second reset (int(t_request + 2)), from the moment it was read:
    # at most 2 s, and no later than the last possible reset second allows.
    reset_wait = min(waits)
    assert 0.0 < reset_wait <= 2.0 + 1e-6
    assert reset_wait <= int(t1 + 2) - t0 + 1e-6
    assert sum(1 for r in app.calls() if r.fault == "rate_limit") == 2


def test_rate_limit_too_long_raises_with_advice(net, app):
    app.add_fault("rate_limit", reset_in=7200)
    with pytest.raises(RateLimitWaitTooLong, match="max_rate_limit_wait"):
        crawl(app, seeds_of(net), client=client(app, max_rate_limit_wait=60))


def test_quota_headers_delay_next_request(net, app):
    sleeps: list[float] = []
    c = client(app, sleep=sleeps.append)
    app.add_fault("last_in_window", method="app.bsky.actor.getProfiles", reset_in=2)
    c.get_json("app.bsky.actor.getProfiles", {"actors": [net.dids[0]]})
    c.get_json("app.bsky.actor.getProfiles", {"actors": [net.dids[1]]})
    assert [r for r, _ in c.waits] == ["rate_limit"] and 0 < c.waits[0][1] <= 2.0


def test_server_errors_dropped_connections_and_truncated_pages_are_retried(net, app):
    seeds = seeds_of(net)
    app.add_fault("server_error", method="app.bsky.feed.getAuthorFeed", times=3)
    app.add_fault("server_error", method="app.bsky.graph.getFollows", times=1, status=503)
    app.add_fault("drop", method="app.bsky.actor.getProfiles", times=1)
    app.add_fault("truncated", method="app.bsky.feed.getLikes", times=2)
    app.add_fault("truncated", method="app.bsky.graph.getFollows", times=1)
    c = client(app)
    result = crawl(app, seeds, client=c)
    assert_matches(result, reference(net, seeds, hops=2))
    faults = Counter(r.fault for r in app.calls() if r.fault)
    assert faults == {"server_error": 4, "drop": 1, "truncated": 3}
    assert c.num_retries == 8


def test_slow_responses_time_out_and_are_retried(net, app):
    seeds = seeds_of(net, 1)
    app.add_fault("slow", method="app.bsky.graph.getFollows", times=2, delay=0.4)
    c = client(app, timeout=0.1)
    result = crawl(app, seeds, hops=1, client=c)
    assert_matches(result, reference(net, seeds, hops=1))
    assert c.num_retries == 2
    slow = [r for r in app.calls() if r.fault == "slow"]
    assert len(slow) == 2 and slow[0].key() == app.calls("app.bsky.graph.getFollows")[1].key()


def test_retries_are_bounded_and_failure_names_the_request(net, app):
    app.add_fault("server_error", method="app.bsky.actor.getProfiles", times=None)
    with pytest.raises(RequestFailedError, match=r"app\.bsky\.actor\.getProfiles.*3 attempts"):
        crawl(app, seeds_of(net), client=client(app, max_retries=2))
    assert len(app.calls()) == 3


def test_repeated_cursor_loop_is_detected(net, app):
    big = max(net.dids, key=lambda d: len(net.follows[d]))
    assert len(net.follows[big]) > 2 * PAGE

    def is_big(params):
        return params.get("actor") == [big]

    app.add_fault("repeat_cursor", method="app.bsky.graph.getFollows", match=is_big, times=None)
    result = crawl(app, [big], hops=1)
    calls = [c for c in app.calls("app.bsky.graph.getFollows") if c.params["actor"] == [big]]
    assert len(calls) == 2  # page 1, page 2 pointing back to itself, stop
    issues = [i for i in result.meta["pagination_issues"] if i["kind"] == "repeated_cursor"]
    assert issues and issues[0]["actor"] == big and issues[0]["items"] == 2 * PAGE
    g, did = result.graph, result.graph.node_attrs["did"]
    me = did.index(big)
    followed = {did[s] for s, r in g.edge_index.t().tolist() if r == me}
    assert followed == set(net.follows[big][: 2 * PAGE])


def test_unknown_or_deleted_seed_raises_naming_it(net, app):
    with pytest.raises(AccountNotFoundError, match="nosuchuser.fake.test") as info:
        crawl(app, ["nosuchuser.fake.test"])
    assert info.value.account == "nosuchuser.fake.test"
    seed = seeds_of(net, 1)[0]
    net.deleted.add(seed)
    with pytest.raises(AccountNotFoundError, match=net.handles[seed]):
        crawl(app, [net.handles[seed]])


def test_deleted_account_in_follow_lists_is_dropped(net, app):
    seeds = seeds_of(net, 2)
    gone = next(d for d in net.follows[seeds[0]] if d not in seeds)
    net.deleted.add(gone)
    result = crawl(app, seeds, hops=2)
    ref = reference(net, seeds, hops=2)
    assert gone not in ref["nodes"]
    assert_matches(result, ref)
    assert gone in [u["did"] for u in result.meta["unavailable_accounts"]]
    errors = [c for c in app.calls() if c.params.get("actor") == [gone]]
    assert errors  # it was asked for and answered 400 "Profile not found"


def test_empty_crawl_raises(net, app):
    lonely = net.dids[0]
    saved = net.follows[lonely]
    net.follows[lonely] = []  # follows nobody: the crawl finds no edge
    try:
        with pytest.raises(CrawlError, match=f"no follow edge.*{lonely}|{lonely}.*no follow"):
            crawl(app, [lonely], hops=3)
    finally:
        net.follows[lonely] = saved


def test_caps_on_nodes_and_fanout(net, app):
    seeds = seeds_of(net, 1)
    result = crawl(app, seeds, hops=3, max_nodes=9, max_fanout=3)
    g = result.graph
    assert g.num_nodes == 9 and g.node_attrs["did"][0] == seeds[0]
    assert g.in_degree().max() <= 3
    for c in app.calls("app.bsky.graph.getFollows"):
        assert int(c.params["limit"][0]) <= 3
    per_actor = Counter(c.params["actor"][0] for c in app.calls("app.bsky.graph.getFollows"))
    assert max(per_actor.values()) == 1  # 3 entries fit one page of 4
    dist = reference(net, seeds, hops=3)["dist"]
    assert all(dist[d] <= 3 for d in g.node_attrs["did"])


# ---------------------------------------------------------------------------- resume
class Interrupted(Exception):
    pass


class Interrupting:
    """Pass requests through, then raise after ``after`` of them (a crash mid-crawl)."""

    def __init__(self, inner, after: int) -> None:
        self.inner, self.after, self.n = inner, after, 0

    def get_json(self, method, params):
        if self.n >= self.after:
            raise Interrupted(f"stopped after {self.n} requests")
        self.n += 1
        return self.inner.get_json(method, params)


def test_interrupted_crawl_resumes_from_cache_without_repeats(net, app, tmp_path):
    seeds = seeds_of(net)
    ref = reference(net, seeds, hops=2)
    cache = tmp_path / "cache"
    for after in (30, 90):  # two interruptions (30 + 90 new requests), different phases
        with pytest.raises(Interrupted):
            crawl(app, seeds, client=Interrupting(client(app), after), cache_dir=cache)
    before = len(app.calls())
    assert before == 120 and len(RequestCache(cache)) == 120
    result = crawl(app, seeds, cache_dir=cache)
    assert_matches(result, ref)
    keys = [c.key() for c in app.calls()]
    assert len(keys) == len(set(keys)), "a cached request was sent again"
    assert result.meta["requests"]["cache_hits"] == 120
    # a fourth run is served entirely from the cache
    n = len(app.calls())
    again = crawl(app, seeds, cache_dir=cache)
    assert len(app.calls()) == n
    assert torch.equal(again.graph.edge_weight, result.graph.edge_weight)


def test_deleted_answer_is_cached(net, app, tmp_path):
    seeds = seeds_of(net, 2)
    gone = next(d for d in net.follows[seeds[0]] if d not in seeds)
    net.deleted.add(gone)
    crawl(app, seeds, cache_dir=tmp_path)
    n = len(app.calls())
    crawl(app, seeds, cache_dir=tmp_path)
    assert len(app.calls()) == n


# ---------------------------------------------------------------------------- output
def test_write_read_round_trip(net, app, tmp_path):
    result = crawl(app, seeds_of(net), hops=2)
    for compress in (False, True):
        folder = result.write(tmp_path / f"out{compress}", compress=compress)
        names = sorted(p.name for p in folder.iterdir())
        gz = ".gz" if compress else ""
        assert names == [f"edges.csv{gz}", "meta.json", f"nodes.csv{gz}"]
        back = read_crawl(folder)
        assert torch.equal(back.graph.edge_index, result.graph.edge_index)
        assert torch.equal(back.graph.edge_weight, result.graph.edge_weight)  # exact floats
        assert torch.equal(back.edge_likes, result.edge_likes)
        assert back.graph.node_attrs == result.graph.node_attrs
        assert back.meta["config"] == result.meta["config"]
        assert torch.allclose(back.raw_weights(), result.raw_weights())


def test_read_crawl_names_bad_line(net, app, tmp_path):
    folder = crawl(app, seeds_of(net), hops=1).write(tmp_path / "c")
    lines = (folder / "edges.csv").read_text().splitlines()
    lines[2] = "0,999999,0.5,1"
    (folder / "edges.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=r"edges\.csv, line 3: receiver 999999"):
        read_crawl(folder)
    lines[2] = "0,1,-0.5,1"
    (folder / "edges.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=r"line 3: weight -0.5"):
        read_crawl(folder)


def test_pseudonymisation_is_consistent(net, app, tmp_path):
    seeds = seeds_of(net, 2)
    gone = next(d for d in net.follows[seeds[0]] if d not in seeds)
    net.deleted.add(gone)
    handles = [net.handles[s] for s in seeds]
    plain = crawl(app, handles, hops=2)
    a = crawl_bluesky(handles, hops=2, page_size=PAGE, progress=False, client=client(app),
                      pseudonymise_salt="salt-1")
    b = pseudonymise_crawl(plain, "salt-1")
    c = pseudonymise_crawl(plain, "salt-2")
    assert a.graph.node_attrs["did"] == b.graph.node_attrs["did"]  # same salt, same names
    assert set(a.graph.node_attrs["did"]).isdisjoint(c.graph.node_attrs["did"])
    assert torch.equal(a.graph.edge_index, plain.graph.edge_index)
    assert torch.equal(a.graph.edge_weight, plain.graph.edge_weight)
    dids = a.graph.node_attrs["did"]
    assert len(set(dids)) == len(dids) and all(d.startswith("did:anon:") for d in dids)
    assert all(h.endswith(".invalid") for h in a.graph.node_attrs["handle"])
    # consistent across files: seeds and dropped accounts use the same pseudonyms
    folder = a.write(tmp_path / "anon")
    back = read_crawl(folder)
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["pseudonymised"] is True
    assert [s["did"] for s in meta["seeds"]] == dids[:2] == back.graph.node_attrs["did"][:2]
    assert meta["config"]["seeds"] == dids[:2]
    assert meta["unavailable_accounts"][0]["did"] == pseudonymise_crawl(
        BlueskyCrawl(plain.graph, None, {"seeds": [{"seed": gone, "did": gone}]}), "salt-1"
    ).meta["seeds"][0]["did"]
    # no real identifier anywhere in the written files
    text = "".join(p.read_text() for p in Path(folder).iterdir())
    for d in net.dids:
        assert d not in text and net.handles[d] not in text
    with pytest.raises(ValueError, match="already pseudonymised"):
        pseudonymise_crawl(a, "salt-1")


def test_throttle_spaces_requests(net, app):
    now = [1000.0]

    def sleep(s):
        now[0] += s

    c = client(app, rate_limit=4.0, sleep=sleep, clock=lambda: now[0])
    for k in range(5):
        c.get_json("app.bsky.actor.getProfiles", {"actors": [net.dids[k]]})
    assert [round(w, 9) for _, w in c.waits] == [0.25] * 4
    assert now[0] == pytest.approx(1001.0)
