"""Tests of the real-network loaders: plain files, Congress, Hadza, BaYaka, Bluesky dumps.

Every fixture file is generated here (tmp_path); the real Congress and BaYaka copies are
read from ../shared/data (or $SOCIALMARL_SHARED_DATA) and those tests skip where absent.
"""

from __future__ import annotations

import gzip
import io
import json
import math
import os
import urllib.error
import urllib.request
import warnings
import zipfile
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import torch

from socialmarl.game.game import ConsensusGame
from socialmarl.networks.dynamic import CampProcess, MarkovInteraction
from socialmarl.networks.dynamic_fit import (
    _hessian,
    _loglik,
    _markov_data,
    _q_given_r,
    estimate_markov_interaction,
)
from socialmarl.networks.graph import Graph
from socialmarl.networks.loaders.bluesky_dump import load_bluesky_dump
from socialmarl.networks.loaders.camps import (
    bayaka_daily_snapshots,
    bayaka_pair_covariates,
    camp_interaction_q,
    load_bayaka,
    load_bayaka_daily,
    load_hadza_proximity,
)
from socialmarl.networks.loaders.congress import (
    congress_human_attention,
    download_congress_twitter,
    load_congress_twitter,
)
from socialmarl.networks.loaders.files import (
    human_attention_weights,
    load_csv_edges,
    load_edgelist,
    load_graphml,
)
from tests.real_data import real_data


def _edge_set(g: Graph, labels=None) -> dict:
    """{(sender label, receiver label): weight} of a Graph."""
    lab = labels if labels is not None else g.node_attrs.get("label", list(range(g.num_nodes)))
    w = g.edge_weight.tolist() if g.edge_weight is not None else [None] * g.num_edges
    return {
        (lab[s], lab[r]): wt
        for s, r, wt in zip(g.senders.tolist(), g.receivers.tolist(), w)
    }


# =============================================================================== plain files
def test_edgelist_matches_networkx_reader(tmp_path):
    p = tmp_path / "g.edgelist"
    p.write_text(
        "# a comment\n"
        "carol alice {'weight': 0.5}\n"
        "alice bob {'weight': 2}\n"
        "\n"
        "bob carol {'weight': 1.25}  # trailing comment\n"
        "dave alice {'weight': 0.0}\n"
    )
    g = load_edgelist(p)
    ref = nx.read_edgelist(p, create_using=nx.DiGraph, data=True)
    assert g.num_nodes == ref.number_of_nodes() == 4
    assert g.node_attrs["label"] == ["carol", "alice", "bob", "dave"]  # first appearance
    assert _edge_set(g) == {(u, v): d["weight"] for u, v, d in ref.edges(data=True)}
    assert g.directed


def test_edgelist_integer_ids_plain_weights_and_gzip(tmp_path):
    rng = np.random.default_rng(0)
    pairs = {(int(a), int(b)) for a, b in rng.integers(0, 40, size=(120, 2)) if a != b}
    rows = [(a * 7 + 3, b * 7 + 3, float(rng.random())) for a, b in sorted(pairs)]
    text = "".join(f"{a} {b} {w!r}\n" for a, b, w in rows)
    p = tmp_path / "g.txt.gz"
    with gzip.open(p, "wt") as fh:
        fh.write(text)
    g = load_edgelist(p)
    ids = sorted({a for a, _, _ in rows} | {b for _, b, _ in rows})
    assert g.node_attrs["label"] == ids  # integer ids: numeric order
    assert _edge_set(g) == {(a, b): w for a, b, w in rows}
    # with num_nodes the ids are used as they are
    g2 = load_edgelist(p, num_nodes=40 * 7 + 3)
    assert g2.num_nodes == 283 and "label" not in g2.node_attrs
    assert _edge_set(g2, list(range(283))) == {(a, b): w for a, b, w in rows}


def test_edgelist_undirected_reverse_delimiter_and_merge(tmp_path):
    p = tmp_path / "u.csv"
    p.write_text("a,b,1\nb,c,2\n")
    g = load_edgelist(p, delimiter=",", directed=False)
    assert not g.directed and g.is_symmetric() and g.num_edges == 4
    assert _edge_set(g) == {("a", "b"): 1.0, ("b", "a"): 1.0, ("b", "c"): 2.0, ("c", "b"): 2.0}
    r = load_edgelist(p, delimiter=",", reverse=True)
    assert _edge_set(r) == {("b", "a"): 1.0, ("c", "b"): 2.0}
    unw = load_edgelist(p, delimiter=",", weighted=False)
    assert unw.edge_weight is None and unw.num_edges == 2
    d = tmp_path / "dup.txt"
    d.write_text("1 2 0.5\n2 3 1\n1 2 0.25\n")
    with pytest.raises(ValueError, match=r"lines 1 and 3: duplicate edge"):
        load_edgelist(d)
    assert _edge_set(load_edgelist(d, merge="sum"))[(1, 2)] == 0.75
    assert _edge_set(load_edgelist(d, merge="max"))[(1, 2)] == 0.5
    u = tmp_path / "dupu.txt"
    u.write_text("1 2 0.5\n2 1 0.5\n")
    with pytest.raises(ValueError, match=r"lines 1 and 2: duplicate pair"):
        load_edgelist(u, directed=False)
    gm = load_edgelist(u, directed=False, merge="max")
    assert gm.num_edges == 2 and gm.edge_weight.tolist() == [0.5, 0.5]


@pytest.mark.parametrize(
    "text, pattern",
    [
        ("1 2 0.5\n3\n", r"line 2: malformed edge line"),
        ("1 2 0.5\n2 3 abc\n", r"line 2: weight 'abc' is not a number"),
        ("1 2 nan\n", r"line 1: weight is NaN"),
        ("1 2 0.5\n2 3 -1\n", r"line 2: weight -1.0 is negative"),
        ("1 2 inf\n", r"line 1: weight inf is negative or infinite"),
        ("1 2 0.5\n2 3\n", r"line 2: no weight on this line"),
        ("1 2\n2 3 0.5\n", r"line 2: this line has a weight"),
        ("1 2 0.5 7\n", r"line 1: malformed edge line: extra fields"),
        ("1 2 {'weight': float('nan')}\n", r"line 1: cannot read the edge data"),
        ("1 2 {'weight': __import__('os').getcwd()}\n", r"line 1: cannot read the edge data"),
        ("1 2 {'color': 'red'}\n", r"line 1: edge data .* has no 'weight' key"),
        ("1 2 {'weight': -2}\n", r"line 1: weight -2.0 is negative"),
        ("1 2 [1, 2]\n", r"line 1: malformed edge line"),
        ("", r"no edges found"),
        ("# only a comment\n\n", r"no edges found"),
    ],
)
def test_edgelist_bad_input_names_file_and_line(tmp_path, text, pattern):
    p = tmp_path / "bad.txt"
    p.write_text(text)
    with pytest.raises(ValueError, match=pattern) as info:
        load_edgelist(p)
    assert str(p) in str(info.value)


def test_edgelist_ids_out_of_range_and_missing_file(tmp_path):
    p = tmp_path / "g.txt"
    p.write_text("0 1\n1 5\n")
    with pytest.raises(ValueError, match=r"g.txt, line 2: node id 5 is out of range 0..3"):
        load_edgelist(p, num_nodes=4)
    p.write_text("0 1\nx 2\n")
    with pytest.raises(ValueError, match=r"line 2: node id 'x' is not an integer"):
        load_edgelist(p, num_nodes=4)
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        load_edgelist(tmp_path / "nope.txt")
    with pytest.raises(IsADirectoryError):
        load_edgelist(tmp_path)


def test_csv_edges(tmp_path):
    p = tmp_path / "e.csv"
    p.write_text("who,whom,strength,extra\nann,bo,0.5,x\nbo,cy,1.5,y\n\ncy,ann,0,z\n")
    g = load_csv_edges(p, "who", "whom", "strength")
    df = pd.read_csv(p)
    assert _edge_set(g) == {(a, b): float(w) for a, b, w in zip(df.who, df.whom, df.strength)}
    assert load_csv_edges(p, "who", "whom").edge_weight is None
    with pytest.raises(ValueError, match=r"line 1: column\(s\) \['weight'\] not in the header"):
        load_csv_edges(p, "who", "whom", "weight")
    bad = tmp_path / "bad.csv"
    bad.write_text("s,t,w\n1,2,0.5\n2,3\n")
    with pytest.raises(ValueError, match=r"bad.csv, line 3: malformed row with 2 fields"):
        load_csv_edges(bad, "s", "t", "w")
    bad.write_text("s,t,w\n1,2,0.5\n2,3,-0.1\n")
    with pytest.raises(ValueError, match=r"line 3: weight -0.1 is negative"):
        load_csv_edges(bad, "s", "t", "w")
    bad.write_text("s,t,w\n1,2,0.5\n,3,1\n")
    with pytest.raises(ValueError, match=r"line 3: empty node id"):
        load_csv_edges(bad, "s", "t", "w")
    bad.write_text("s,t,w\n1,2,0.5\n2,9,1\n")
    with pytest.raises(ValueError, match=r"line 3: node id 9 is out of range"):
        load_csv_edges(bad, "s", "t", "w", num_nodes=4)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match="empty"):
        load_csv_edges(empty)
    empty.write_text("source,target\n")
    with pytest.raises(ValueError, match="no edges found"):
        load_csv_edges(empty)


def test_graphml_roundtrip_and_errors(tmp_path):
    ref = nx.gnp_random_graph(25, 0.15, seed=3, directed=True)
    rng = np.random.default_rng(1)
    for u, v in ref.edges:
        ref.edges[u, v]["weight"] = float(rng.random())
    for u in ref.nodes:
        ref.nodes[u]["group"] = "ab"[u % 2]
    ref = nx.relabel_nodes(ref, {u: f"n{u}" for u in ref.nodes})
    p = tmp_path / "g.graphml"
    nx.write_graphml(ref, p)
    g = load_graphml(p)
    assert g.num_nodes == 25 and g.directed
    assert _edge_set(g) == {(u, v): d["weight"] for u, v, d in ref.edges(data=True)}
    assert g.node_attrs["group"] == [ref.nodes[u]["group"] for u in g.node_attrs["label"]]
    und = nx.path_graph(4)
    nx.write_graphml(und, tmp_path / "u.graphml")
    gu = load_graphml(tmp_path / "u.graphml")
    assert not gu.directed and gu.num_edges == 6
    bad = tmp_path / "bad.graphml"
    bad.write_text("<graphml><graph><node id='a'/>")
    with pytest.raises(ValueError, match="bad.graphml: not a readable GraphML"):
        load_graphml(bad)
    neg = nx.DiGraph()
    neg.add_edge("a", "b", weight=-1.0)
    nx.write_graphml(neg, tmp_path / "neg.graphml")
    with pytest.raises(ValueError, match=r"neg.graphml, edge 'a' -> 'b': weight -1.0 is neg"):
        load_graphml(tmp_path / "neg.graphml")
    iso = nx.DiGraph()
    iso.add_node("a")
    nx.write_graphml(iso, tmp_path / "iso.graphml")
    with pytest.raises(ValueError, match="no edges"):
        load_graphml(tmp_path / "iso.graphml")
    with pytest.raises(FileNotFoundError):
        load_graphml(tmp_path / "missing.graphml")


def test_human_attention_weights_against_loop():
    rng = np.random.default_rng(5)
    n = 30
    pairs = sorted({(int(a), int(b)) for a, b in rng.integers(0, n, (200, 2)) if a != b})
    w = rng.random(len(pairs))
    w[:5] = 0.0
    g = Graph.from_edges(n, pairs, w)
    att = human_attention_weights(g)
    tot = {}
    for (_s, r), x in zip(pairs, w):
        tot[r] = tot.get(r, 0.0) + x
    expect = {
        (s, r): (x / tot[r] if tot[r] > 0 else 0.0) for (s, r), x in zip(pairs, w)
    }
    got = dict(zip(zip(g.senders.tolist(), g.receivers.tolist()), att.tolist()))
    assert got.keys() == expect.keys()
    assert all(abs(got[k] - expect[k]) < 1e-12 for k in got)
    dense = human_attention_weights(g, dense=True)
    for (s, r), x in expect.items():
        assert abs(float(dense[r, s]) - x) < 1e-12
    with pytest.raises(ValueError, match="no edge weights"):
        human_attention_weights(Graph(2, [[0], [1]]))


# =============================================================================== Congress
def test_congress_real_counts_and_reciprocity():
    folder = real_data("congress_twitter")
    g = load_congress_twitter(folder)
    assert (g.num_nodes, g.num_edges) == (475, 13289)
    ref = nx.read_weighted_edgelist(
        folder / "congress.edgelist", create_using=nx.DiGraph, nodetype=int
    )
    assert ref.number_of_edges() == 13289
    # edge i -> j of the file is sender i, receiver j with the same weight
    assert _edge_set(g, list(range(475))) == {
        (u, v): d["weight"] for u, v, d in ref.edges(data=True)
    }
    nx_recip = nx.overall_reciprocity(ref)
    assert abs(g.summary()["reciprocity"] - nx_recip) < 1e-12
    assert 0.4 < nx_recip < 0.5
    meta = json.loads((folder / "congress_network_data.json").read_text())[0]
    assert g.node_attrs["username"] == meta["usernameList"]
    assert pd.Series(g.node_attrs["party"]).value_counts().to_dict() == {"D": 255, "R": 220}
    # human attention: row = attending member j, human[j, i] = w_ij / sum_k w_kj
    a = nx.to_numpy_array(ref, nodelist=range(475), weight="weight")  # a[i, j] = w_ij
    col = a.sum(axis=0)
    expect = np.divide(a.T, col[:, None], out=np.zeros_like(a), where=col[:, None] > 0)
    dense = congress_human_attention(g, dense=True).numpy()
    assert np.allclose(dense, expect, atol=1e-12)
    per_edge = congress_human_attention(g).numpy()
    assert np.allclose(per_edge, expect[g.receivers.numpy(), g.senders.numpy()], atol=1e-12)


def _congress_fixture(folder: Path, edgelist: str, users=("a", "b", "c"), party=("D", "R", "D"),
                      extra: dict | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "congress.edgelist").write_text(edgelist)
    meta = {"usernameList": list(users), "partyList": list(party)}
    meta.update(extra or {})
    (folder / "congress_network_data.json").write_text(json.dumps([meta]))
    return folder


def test_congress_fixture_formats_and_errors(tmp_path):
    d = _congress_fixture(tmp_path / "ok", "0 1 {'weight': 0.5}\n2 1 0.25\n1 0 1.0\n",
                          extra={"outList": [[1], [0], [1]], "outWeight": [[0.5], [1.0], [0.25]]})
    g = load_congress_twitter(d)
    assert _edge_set(g, list(range(3))) == {(0, 1): 0.5, (2, 1): 0.25, (1, 0): 1.0}
    assert g.node_attrs == {"username": ["a", "b", "c"], "party": ["D", "R", "D"]}
    assert load_congress_twitter(d / "congress.edgelist").num_edges == 3  # file path works
    bad = _congress_fixture(tmp_path / "mismatch", "0 1 0.5\n",
                            extra={"outList": [[2], [], []], "outWeight": [[0.5], [], []]})
    with pytest.raises(ValueError, match="disagree"):
        load_congress_twitter(bad)
    badw = _congress_fixture(tmp_path / "w", "0 1 0.5\n",
                             extra={"outList": [[1], [], []], "outWeight": [[0.4], [], []]})
    with pytest.raises(ValueError, match="0.4 in outWeight but 0.5"):
        load_congress_twitter(badw)
    big = _congress_fixture(tmp_path / "big", "0 1 1.5\n")
    with pytest.raises(ValueError, match="exceeds 1"):
        load_congress_twitter(big)
    rng_ = _congress_fixture(tmp_path / "range", "0 1 0.5\n1 3 0.5\n")
    with pytest.raises(ValueError, match=r"line 2: node id 3 is out of range 0..2"):
        load_congress_twitter(rng_)
    lens = _congress_fixture(tmp_path / "len", "0 1 0.5\n", party=("D",))
    with pytest.raises(ValueError, match="3 usernames but 1 party labels"):
        load_congress_twitter(lens)
    (tmp_path / "nojson").mkdir()
    (tmp_path / "nojson" / "congress.edgelist").write_text("0 1 0.5\n")
    with pytest.raises(FileNotFoundError, match="congress_network_data.json"):
        load_congress_twitter(tmp_path / "nojson")
    with pytest.raises(FileNotFoundError, match="download=True"):
        load_congress_twitter(cache_dir=tmp_path / "emptycache")
    with pytest.raises(ValueError, match="not both"):
        load_congress_twitter(d, download=True)


def _zip_bytes(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return buf.getvalue()


class _FakeResponse:
    def __init__(self, payload: bytes, status: int = 200):
        self.payload, self.status = payload, status

    def read(self) -> bytes:
        return self.payload

    def getcode(self) -> int:
        return self.status

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class _FakeOpener:
    """Stands in for urllib.request.urlopen: records calls, returns or raises."""

    def __init__(self, payload=b"", status=200, exc=None):
        self.payload, self.status, self.exc, self.calls = payload, status, exc, []

    def __call__(self, req, timeout=None):
        self.calls.append((req.full_url, timeout))
        if self.exc is not None:
            raise self.exc
        return _FakeResponse(self.payload, self.status)


_META = json.dumps([{"usernameList": ["x", "y"], "partyList": ["R", "D"],
                     "outList": [[1], [0]], "outWeight": [[0.5], [0.125]]}])


def test_congress_download_caches_and_writes_atomically(tmp_path, monkeypatch):
    payload = _zip_bytes({
        "congress_network/congress.edgelist": "0 1 {'weight': 0.5}\n1 0 {'weight': 0.125}\n",
        "congress_network/congress_network_data.json": _META,
        "congress_network/README.txt": "ignored",
    })
    opener = _FakeOpener(payload)
    monkeypatch.setattr(urllib.request, "urlopen", opener)
    g = load_congress_twitter(download=True, cache_dir=tmp_path)
    assert len(opener.calls) == 1 and opener.calls[0][0].endswith("congress_network.zip")
    assert _edge_set(g, [0, 1]) == {(0, 1): 0.5, (1, 0): 0.125}
    folder = tmp_path / "congress_twitter"
    assert sorted(p.name for p in folder.iterdir()) == [
        "congress.edgelist", "congress_network_data.json"]  # no temp files left
    # cached: neither a second download nor a plain load touches the network
    load_congress_twitter(download=True, cache_dir=tmp_path)
    assert load_congress_twitter(cache_dir=tmp_path).num_edges == 2
    assert len(opener.calls) == 1
    download_congress_twitter(tmp_path, force=True)
    assert len(opener.calls) == 2


@pytest.mark.parametrize(
    "opener, err, pattern",
    [
        (_FakeOpener(exc=urllib.error.HTTPError("u", 503, "Service Unavailable", None, None)),
         ConnectionError, "HTTP 503 Service Unavailable"),
        (_FakeOpener(exc=urllib.error.URLError("no route to host")), ConnectionError,
         "no route to host"),
        (_FakeOpener(payload=b"x", status=404), ConnectionError, "HTTP 404"),
        (_FakeOpener(payload=b"<html>moved</html>"), ValueError, "not a zip archive"),
        (_FakeOpener(payload=_zip_bytes({"congress.edgelist": "0 1 0.5\n"})), ValueError,
         "has no 'congress_network_data.json'"),
        (_FakeOpener(payload=_zip_bytes({"congress.edgelist": "0 1 0.5\n",
                                         "congress_network_data.json": "{oops"})),
         ValueError, "not valid JSON"),
    ],
)
def test_congress_download_failures_leave_no_files(tmp_path, monkeypatch, opener, err, pattern):
    monkeypatch.setattr(urllib.request, "urlopen", opener)
    with pytest.raises(err, match=pattern):
        load_congress_twitter(download=True, cache_dir=tmp_path)
    folder = tmp_path / "congress_twitter"
    assert not folder.exists() or not any(folder.iterdir())


def test_congress_download_interrupted_write_keeps_old_file(tmp_path, monkeypatch):
    folder = tmp_path / "congress_twitter"
    folder.mkdir()
    (folder / "congress.edgelist").write_text("old")
    payload = _zip_bytes({"congress.edgelist": "0 1 0.5\n", "congress_network_data.json": _META})
    monkeypatch.setattr(urllib.request, "urlopen", _FakeOpener(payload))

    def failing_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        download_congress_twitter(tmp_path)
    assert (folder / "congress.edgelist").read_text() == "old"
    assert sorted(p.name for p in folder.iterdir()) == ["congress.edgelist"]  # no temp debris


def test_fetch_url_uses_urlopen_with_timeout(tmp_path, monkeypatch):
    from socialmarl.networks.loaders.congress import _fetch_url

    opener = _FakeOpener(b"body")
    monkeypatch.setattr(urllib.request, "urlopen", opener)
    assert _fetch_url("https://example.org/x", timeout=7) == b"body"
    assert opener.calls == [("https://example.org/x", 7)]


# =============================================================================== Hadza
def _prox_matrix(n=12, seed=0):
    rng = np.random.default_rng(seed)
    q = np.round(rng.random((n, n)) * 0.4, 4)
    q = np.triu(q, 1)
    q[rng.random((n, n)) < 0.35] = 0.0
    q = np.triu(q, 1)
    q = q + q.T
    labels = [f"H{k:02d}" for k in range(n)]
    return q, labels


def _check_prox(g: Graph, q: np.ndarray, labels: list) -> None:
    pos = [labels.index(x) for x in g.node_attrs["label"]]
    got = g.adjacency(weighted=True).numpy()
    assert np.allclose(got, q[np.ix_(pos, pos)], atol=1e-12)
    assert not g.directed and g.is_symmetric()


def test_hadza_layouts_agree(tmp_path):
    q, labels = _prox_matrix()
    n = len(labels)
    iu, ju = np.triu_indices(n, 1)
    nz = q[iu, ju] > 0
    # 1) edge list, each pair once, aliases ID1/ID2/Fraction
    e1 = tmp_path / "once.csv"
    e1.write_text("ID1,ID2,Fraction\n" + "".join(
        f"{labels[i]},{labels[j]},{q[i, j]}\n" for i, j in zip(iu[nz], ju[nz])))
    # 2) edge list, both directions, semicolons, other aliases, plus zero rows
    e2 = tmp_path / "both.csv"
    e2.write_text("Ego;Alter;Proportion of day\n" + "".join(
        f"{labels[i]};{labels[j]};{q[i, j]}\n" for i in range(n) for j in range(n) if i != j))
    # 3) labelled matrix with NA diagonal
    m3 = tmp_path / "matrix.csv"
    rows = ["," + ",".join(labels)]
    for i in range(n):
        rows.append(labels[i] + "," + ",".join(
            "NA" if i == j else str(q[i, j]) for j in range(n)))
    m3.write_text("\n".join(rows) + "\n")
    # 4) bare whitespace matrix, gzipped
    m4 = tmp_path / "bare.txt.gz"
    with gzip.open(m4, "wt") as fh:
        fh.write("\n".join(" ".join(str(x) for x in row) for row in q) + "\n")
    g1 = load_hadza_proximity(e1)
    g2 = load_hadza_proximity(e2)
    g3 = load_hadza_proximity(m3)
    g4 = load_hadza_proximity(m4)
    isolated = [labels[k] for k in range(n) if not (q[k] > 0).any()]
    for g in (g1, g2):
        kept = [x for x in labels if x not in isolated]
        assert sorted(g.node_attrs["label"]) == kept
        _check_prox(g, q[np.ix_([labels.index(x) for x in kept],
                                [labels.index(x) for x in kept])], kept)
    _check_prox(g3, q, labels)
    assert g3.num_nodes == n and g3.num_edges == 2 * int(nz.sum())
    _check_prox(g4, q, list(range(n)))


def test_hadza_largest_component_and_game(tmp_path):
    q, labels = _prox_matrix(n=10, seed=1)
    q[:] = 0.0
    for a, b, w in [(0, 1, .2), (1, 2, .3), (2, 3, .1), (3, 4, .5), (5, 6, .4), (6, 7, .2)]:
        q[a, b] = q[b, a] = w
    p = tmp_path / "m.csv"
    pd.DataFrame(q, index=labels, columns=labels).to_csv(p)
    full = load_hadza_proximity(p)
    assert full.num_nodes == 10
    g = load_hadza_proximity(p, largest_component=True)
    ref = nx.from_numpy_array(q)
    big = max(nx.connected_components(ref), key=len)
    assert sorted(g.node_attrs["label"]) == sorted(labels[k] for k in big)
    _check_prox(g, q, labels)
    qe = camp_interaction_q(g)
    assert torch.equal(qe, g.edge_weight.double())
    game = ConsensusGame(g, camp=CampProcess(qe, 0.5), num_envs=3, seed=1)
    game.reset()
    _, reward, _, _ = game.step(torch.zeros(3, g.num_nodes, dtype=torch.long))
    assert reward.shape == (3, g.num_nodes)
    with pytest.raises(ValueError, match="no reverse"):
        camp_interaction_q(Graph(2, [[0], [1]], [0.5]))
    with pytest.raises(ValueError, match="not a probability"):
        camp_interaction_q(Graph.from_edges(2, [(0, 1)], [1.5], directed=False))
    with pytest.raises(ValueError, match="differs between the two directions"):
        camp_interaction_q(Graph(2, [[0, 1], [1, 0]], [0.5, 0.25]))
    with pytest.raises(ValueError, match="no edge weights"):
        camp_interaction_q(Graph.from_edges(2, [(0, 1)], directed=False))


@pytest.mark.parametrize(
    "text, pattern",
    [
        ("id1,id2,q\na,b,1.5\n", r"line 2: fraction 1.5 is not a fraction of the day"),
        ("id1,id2,q\na,b,0.5\nb,c,nan\n", r"line 3: fraction is NaN"),
        ("id1,id2,q\na,b,x\n", r"line 2: fraction 'x' is not a number"),
        ("id1,id2,q\na,b,0.5\nb,c\n", r"line 3: malformed row with 2 fields"),
        ("id1,id2,q\na,b,0.5\nb,a,0.25\n", r"two directions of a pair disagree"),
        ("id1,id2,q\na,b,0.5\na,b,0.5\n", r"more than once in the same direction"),
        ("source,target,weight,q\na,b,0.5,0.5\n", r"several columns could be the fraction"),
        ("id1,id2,q\na,b,0\n", r"every fraction is zero"),
        (",a,b\na,NA,0.5\nb,0.4,NA\n", r"not symmetric: entry \(a, b\) is 0.5"),
        (",a,b\na,0,NA\nb,0.4,0\n", r"line 2, column 2: missing value off the diagonal"),
        (",a,b\na,0,0.5\nb,0.5\n", r"line 3: a square matrix needs 2 values"),
        (",a,b\nb,0,0.5\na,0.5,0\n", r"row ids .* differ from column ids"),
        ("person,other,time\na,b,3\n", r"a square matrix needs 1 values"),
        ("", r"the file is empty"),
    ],
)
def test_hadza_bad_input(tmp_path, text, pattern):
    p = tmp_path / "h.csv"
    p.write_text(text)
    with pytest.raises(ValueError, match=pattern) as info:
        load_hadza_proximity(p)
    assert "h.csv" in str(info.value)


def test_hadza_symmetrize_and_missing(tmp_path):
    p = tmp_path / "h.csv"
    p.write_text(",a,b\na,NA,0.5\nb,0.3,NA\n")
    assert load_hadza_proximity(p, symmetrize="mean").edge_weight.tolist() == [0.4, 0.4]
    assert load_hadza_proximity(p, symmetrize="max").edge_weight.tolist() == [0.5, 0.5]
    with pytest.raises(FileNotFoundError):
        load_hadza_proximity(tmp_path / "absent.csv")
    with pytest.raises(ValueError, match="symmetrize"):
        load_hadza_proximity(p, symmetrize="min")


# =============================================================================== BaYaka
def test_bayaka_real_static_counts():
    folder = real_data("bayaka_coforaging")
    nodes = pd.read_csv(folder / "bayaka_nodes.csv")
    dy = pd.read_csv(folder / "bayaka_dyads_static.csv")
    g = load_bayaka(folder)
    assert g.num_nodes == len(nodes) == 60
    n_pairs = int((dy.days_together > 0).sum())
    assert g.num_edges == 2 * n_pairs and not g.directed and g.is_symmetric()
    expect = {}
    for a, b, t, e in zip(dy.id1, dy.id2, dy.days_together, dy.days_exposed):
        if t > 0:
            expect[(a, b)] = expect[(b, a)] = t / e
    got = _edge_set(g)
    assert got.keys() == expect.keys()
    assert max(abs(got[k] - expect[k]) for k in got) < 1e-12
    for col in ("age_class", "sex", "days_present", "total_coforaging_ties"):
        assert g.node_attrs[col] == nodes[col].tolist()
    assert g.node_attrs["label"] == nodes["id"].tolist()
    g0 = load_bayaka(folder, include_zero=True)
    assert g0.num_edges == 2 * len(dy) == 2 * 60 * 59 // 2
    cov = bayaka_pair_covariates(folder, g)
    rel = dict(zip(zip(dy.id1, dy.id2), dy.relatedness))
    lab = g.node_attrs["label"]
    for k in range(0, g.num_edges, 97):
        a, b = lab[int(g.senders[k])], lab[int(g.receivers[k])]
        assert float(cov["relatedness"][k]) == rel.get((a, b), rel.get((b, a)))


def test_bayaka_real_daily_series_and_fit():
    folder = real_data("bayaka_coforaging")
    daily = pd.read_csv(folder / "bayaka_daily_dyads.csv")
    series = load_bayaka_daily(folder)
    g = series.graph
    assert series.days.tolist() == sorted(daily.day.unique().tolist())
    assert len(series.days) == 230
    assert int(series.active.sum()) == int(daily.together.sum())
    lab = g.node_attrs["label"]
    pair_names = {frozenset((lab[a], lab[b])) for a, b in series.pairs.tolist()}
    in_graph = [frozenset(p) in pair_names for p in zip(daily.id1, daily.id2)]
    assert int(series.observed.sum()) == int(np.sum(in_graph))
    per_day = daily.groupby("day").together.sum()
    masks = series.edge_masks()
    assert masks.shape == (230, g.num_edges)
    assert (masks.sum(1) == 2 * torch.as_tensor(per_day.to_numpy().copy())).all()
    snaps = bayaka_daily_snapshots(folder)
    day0, g0 = snaps[17]
    want = daily[(daily.day == day0) & (daily.together == 1)]
    expect = {(a, b) for a, b in zip(want.id1, want.id2)} | {(b, a) for a, b in
                                                             zip(want.id1, want.id2)}
    assert set(_edge_set(g0)) == expect and g0.num_nodes == 60
    fit = series.fit_markov()
    static_q = series.graph.edge_weight.numpy()
    q_edges = series.edge_values(fit.q).numpy()
    assert np.corrcoef(q_edges, static_q)[0, 1] > 0.99
    assert math.isfinite(fit.r) and fit.r > 0 and 0 < fit.r_stderr < fit.r / 5
    assert not fit.at_bound and fit.num_transitions > 100_000


def _bayaka_fixture(d: Path, daily: str | None = None, static: str | None = None) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    (d / "bayaka_nodes.csv").write_text("id,age_class,sex\np1,1,F\np2,2,M\np3,3,F\n")
    (d / "bayaka_dyads_static.csv").write_text(static or (
        "id1,id2,relatedness,days_exposed,days_together\n"
        "p1,p2,0.5,3,2\np1,p3,0,2,0\np2,p3,0.25,2,1\n"))
    (d / "bayaka_daily_dyads.csv").write_text(daily or (
        "day,id1,id2,together\n1,p1,p2,1\n1,p1,p3,0\n2,p1,p2,1\n2,p2,p3,1\n"
        "4,p1,p2,0\n4,p2,p3,0\n4,p1,p3,0\n"))
    return d


def test_bayaka_fixture_series(tmp_path):
    d = _bayaka_fixture(tmp_path / "b")
    s = load_bayaka_daily(d)
    assert s.days.tolist() == [1, 2, 4]
    lab = s.graph.node_attrs["label"]
    assert [(lab[a], lab[b]) for a, b in s.pairs.tolist()] == [("p1", "p2"), ("p2", "p3")]
    assert s.active.int().tolist() == [[1, 0], [1, 1], [0, 0]]
    assert s.observed.int().tolist() == [[1, 0], [1, 1], [1, 1]]
    s0 = load_bayaka_daily(d, include_zero=True)
    assert s0.pairs.shape == (3, 2) and int(s0.observed.sum()) == 7
    assert s.edge_masks(observed=True).shape == (3, 4)


@pytest.mark.parametrize(
    "daily, static, pattern",
    [
        ("day,id1,id2,together\n1,p1,p2,1\n1,p1,p9,0\n", None, r"line 3: id2 'p9' is unknown"),
        ("day,id1,id2,together\n1,p1,p2,2\n", None, r"line 2: together = 2"),
        ("day,id1,id2,together\n1,p1,p2,1\n1,p2,p1,1\n", None, r"line 3: the same pair and day"),
        ("day,id1,id2,together\n1,p1,p2,1\n", None, r"disagrees with bayaka_dyads_static.csv"),
        ("day,id1,id2,together\nx,p1,p2,1\n", None, r"line 2: day = 'x' is not a count"),
        (None, "id1,id2,days_exposed,days_together\np1,p2,3,4\n", r"line 2: days_together 4 "),
        (None, "id1,id2,days_exposed,days_together\np1,p2,0,0\n", r"days_exposed is 0"),
        (None, "id1,id2,days_exposed,days_together\np1,p2,3,1\np2,p1,3,1\n", r"line 3: pair "),
        (None, "id1,id2,days_exposed,days_together\np1,p7,3,1\n", r"line 2: id2 'p7' is not"),
        (None, "id1,id2,days_exposed\np1,p2,3\n", r"column\(s\) \['days_together'\] missing"),
        (None, "id1,id2,days_exposed,days_together\np1,p2,3,\n", r"line 2: column 'days_tog"),
    ],
)
def test_bayaka_bad_input(tmp_path, daily, static, pattern):
    d = _bayaka_fixture(tmp_path / "b", daily, static)
    with pytest.raises(ValueError, match=pattern):
        load_bayaka_daily(d)


def test_bayaka_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_bayaka(tmp_path / "nowhere")
    (tmp_path / "x").mkdir()
    with pytest.raises(FileNotFoundError, match="bayaka_nodes.csv"):
        load_bayaka(tmp_path / "x")


# =============================================================================== Markov fit
def _simulate(q_pairs: torch.Tensor, r: float, steps: int, seed: int):
    """States of MarkovInteraction on a complete graph; returns (T, P) bool and true q."""
    n = 2
    while n * (n - 1) // 2 < len(q_pairs):
        n += 1
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)][: len(q_pairs)]
    g = Graph.from_edges(n, pairs, directed=False)
    lo = torch.minimum(g.senders, g.receivers)
    hi = torch.maximum(g.senders, g.receivers)
    key = {(a, b): k for k, (a, b) in enumerate(pairs)}
    q_edge = q_pairs[[key[(a, b)] for a, b in zip(lo.tolist(), hi.tolist())]]
    proc = MarkovInteraction(g, q_edge, r=r)
    gen = torch.Generator().manual_seed(seed)
    state = proc.initial_state(1, gen)
    out = [state[0]]
    for _ in range(steps - 1):
        state, _ = proc.step(state, gen)
        out.append(state[0])
    return torch.stack(out), proc.q_pair


@pytest.mark.parametrize("r", [0.25, 0.7, 2.0])
def test_markov_fit_recovers_q_and_r(r):
    q_true = 0.05 + 0.5 * torch.rand(600, generator=torch.Generator().manual_seed(2),
                                     dtype=torch.float64)
    series, q_pair = _simulate(q_true, r, steps=300, seed=11)
    fit = estimate_markov_interaction(series)
    assert abs(fit.r - r) < 4 * fit.r_stderr and fit.r_stderr < 0.08 * r
    z = ((fit.q - q_pair) / fit.q_stderr).numpy()
    assert np.isfinite(z).mean() > 0.99
    z = z[np.isfinite(z)]
    assert 0.8 < float(np.mean(z**2)) < 1.25  # standard errors are calibrated
    assert float(np.mean(np.abs(z) < 3)) > 0.97
    mom = estimate_markov_interaction(series, method="moments")
    assert abs(mom.r - r) < 0.15 * r
    assert torch.allclose(mom.q, series.double().mean(0))
    assert math.isnan(mom.r_stderr)


def test_markov_fit_with_gaps_and_unobserved_pairs():
    r = 0.5
    q_true = 0.1 + 0.4 * torch.rand(400, generator=torch.Generator().manual_seed(4),
                                    dtype=torch.float64)
    series, q_pair = _simulate(q_true, r, steps=400, seed=5)
    rng = np.random.default_rng(0)
    rows = np.sort(rng.choice(400, size=260, replace=False))  # whole days missing
    observed = torch.as_tensor(rng.random((260, 400)) > 0.25)  # and single pairs
    observed[:, 0] = False  # one pair never observed
    active = series[rows] & observed
    fit = estimate_markov_interaction(active, observed, days=rows)
    assert abs(fit.r - r) < 4 * fit.r_stderr
    assert math.isnan(float(fit.q[0])) and math.isnan(float(fit.q_stderr[0]))
    z = ((fit.q[1:] - q_pair[1:]) / fit.q_stderr[1:]).numpy()
    assert 0.75 < float(np.nanmean(z**2)) < 1.3
    # ignoring the gaps (treating rows as consecutive) overstates the switching rate
    naive = estimate_markov_interaction(active, observed)
    assert naive.r > fit.r + 4 * fit.r_stderr


def test_markov_standard_error_matches_profile_curvature():
    q_true = 0.1 + 0.3 * torch.rand(300, generator=torch.Generator().manual_seed(8),
                                    dtype=torch.float64)
    series, _ = _simulate(q_true, 0.8, steps=200, seed=9)
    fit = estimate_markov_interaction(series)
    d = _markov_data(series, None, None)

    def profile(r):
        return _loglik(d, _q_given_r(d, r, True), r, True)

    h = 1e-3 * fit.r
    curv = (profile(fit.r + h) - 2 * profile(fit.r) + profile(fit.r - h)) / h**2
    assert abs(-1.0 / curv - fit.r_stderr**2) < 0.02 * fit.r_stderr**2
    # the profile is maximal at the estimate
    assert profile(fit.r) >= max(profile(fit.r * 1.05), profile(fit.r * 0.95))
    # per-pair Hessian block: compare h_qq with a finite difference of the log-likelihood
    q = _q_given_r(d, fit.r, True)
    hqq, hqr, _ = _hessian(d, q, fit.r, True)
    k, eps = 3, 1e-5
    qp, qm = q.copy(), q.copy()
    qp[k] += eps
    qm[k] -= eps
    fd = (_loglik(d, qp, fit.r, True) - 2 * _loglik(d, q, fit.r, True)
          + _loglik(d, qm, fit.r, True)) / eps**2
    assert abs(fd - hqq[k]) < 1e-3 * abs(hqq[k])
    qr = q.copy()
    qr[k] += eps
    g1 = (_loglik(d, qr, fit.r + h, True) - _loglik(d, qr, fit.r - h, True)) / (2 * h)
    g0 = (_loglik(d, q, fit.r + h, True) - _loglik(d, q, fit.r - h, True)) / (2 * h)
    assert abs((g1 - g0) / eps - hqr[k]) < 1e-2 * abs(hqr[k]) + 1e-6


def test_markov_fit_bad_input():
    a = torch.zeros(5, 3, dtype=torch.bool)
    with pytest.raises(ValueError, match=r"\(T, P\)"):
        estimate_markov_interaction(torch.zeros(5))
    with pytest.raises(ValueError, match="0/1"):
        estimate_markov_interaction(torch.full((5, 3), 2))
    obs = torch.ones(5, 3, dtype=torch.bool)
    obs[1, 2] = False
    act = a.clone()
    act[1, 2] = True
    with pytest.raises(ValueError, match="step 1, pair 2 where observed is False"):
        estimate_markov_interaction(act, obs)
    with pytest.raises(ValueError, match="strictly increasing"):
        estimate_markov_interaction(a, days=[0, 1, 1, 2, 3])
    with pytest.raises(ValueError, match="no pair was observed at two"):
        estimate_markov_interaction(torch.zeros(1, 3, dtype=torch.bool))
    with pytest.raises(ValueError, match="method"):
        estimate_markov_interaction(a, method="bayes")
    with pytest.raises(ValueError, match="r_bounds"):
        estimate_markov_interaction(a, r_bounds=(1.0, 0.5))
    iid = torch.rand(300, 200, generator=torch.Generator().manual_seed(0)) < 0.3
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        fit = estimate_markov_interaction(iid, r_bounds=(0.01, 3.0))
    if fit.at_bound:  # independent draws: r is only bounded below
        assert any("bound" in str(w.message) for w in rec) and math.isnan(fit.r_stderr)
    else:
        assert fit.r > 2.0


# =============================================================================== Bluesky
def _follow_graph(n=300, seed=0) -> tuple[nx.DiGraph, list[str]]:
    rng = np.random.default_rng(seed)
    ids = [str(x) for x in rng.choice(10**9, size=n, replace=False)]
    g = nx.DiGraph()
    g.add_nodes_from(ids)
    for k in range(n):  # u follows v
        for v in rng.choice(n, size=int(rng.integers(1, 5)), replace=False):
            if v != k:
                g.add_edge(ids[k], ids[v])
    return g, ids


def _write_dump(folder: Path, follows: nx.DiGraph, inter_rows: list[str], header=True,
                extra_follow_rows=()):
    folder.mkdir(parents=True, exist_ok=True)
    with gzip.open(folder / "followers.csv.gz", "wt") as fh:
        if header:
            fh.write("u,v\n")
        for u, v in follows.edges:
            fh.write(f"{u},{v}\n")
        for row in extra_follow_rows:
            fh.write(row + "\n")
    with gzip.open(folder / "interactions.csv.gz", "wt") as fh:
        fh.write("".join(r + "\n" for r in inter_rows))


def test_bluesky_dump_bfs_sample_and_weights(tmp_path):
    follows, ids = _follow_graph()
    rng = np.random.default_rng(3)
    inter = []
    edges = list(follows.edges)
    for k in rng.choice(len(edges), size=500):
        u, v = edges[k]
        inter.append(f"{u},{v},{int(rng.integers(1, 6))}")
    for _ in range(100):  # interactions between non-followers are ignored
        a, b = rng.choice(ids, 2, replace=False)
        inter.append(f"{a},{b},3")
    _write_dump(tmp_path / "d", follows, ["user,author,count"] + inter,
                extra_follow_rows=[f"{ids[5]},{ids[5]}", f"{edges[0][0]},{edges[0][1]}"])
    seed_user = ids[7]
    g = load_bluesky_dump(tmp_path / "d", num_nodes=60, hops=3, seed_user=seed_user, seed=1,
                          chunksize=97)
    lab = g.node_attrs["label"]
    assert g.num_nodes == 60 and lab[0] == seed_user and g.directed
    dist = nx.single_source_shortest_path_length(follows.to_undirected(), seed_user)
    assert all(dist[x] == h for x, h in zip(lab, g.node_attrs["hop"]))
    # BFS: every hop before the last is complete
    last = max(g.node_attrs["hop"])
    for h in range(last):
        assert {x for x, dd in dist.items() if dd == h} <= set(lab)
    # the edges are exactly the induced follow subgraph, follower = receiver
    sub = follows.subgraph(lab)
    assert set(_edge_set(g)) == {(v, u) for u, v in sub.edges}
    assert nx.is_weakly_connected(sub)
    # weights: per receiver u, counts of u -> v interactions over u's followees, normalised
    cnt: dict = {}
    for row in inter:
        u, v, c = row.split(",")
        if (u, v) in sub.edges:
            cnt[(u, v)] = cnt.get((u, v), 0.0) + float(c)
    tot: dict = {}
    for (u, _), c in cnt.items():
        tot[u] = tot.get(u, 0.0) + c
    got = _edge_set(g)
    for (v, u), w in got.items():
        expect = cnt.get((u, v), 0.0) / tot[u] if tot.get(u, 0) > 0 else 0.0
        assert abs(w - expect) < 1e-12
    assert g.node_attrs["interaction_count"] == [tot.get(x, 0.0) for x in lab]
    # same seed, same sample; no header and a different chunking give the same graph too
    g2 = load_bluesky_dump(tmp_path / "d", num_nodes=60, hops=3, seed_user=seed_user, seed=1)
    assert g2.node_attrs["label"] == lab and torch.equal(g2.edge_index, g.edge_index)


def test_bluesky_default_seed_layouts_and_unweighted(tmp_path):
    follows, ids = _follow_graph(n=80, seed=2)
    hub = max(sorted(follows.nodes), key=lambda x: follows.degree(x))
    deg = dict(follows.degree())
    assert deg[hub] == max(deg.values())
    ed = list(follows.edges)
    # six-field Failla & Rossetti rows: user, replied, thread_root, reposted, quoted, date
    rows = []
    u0, v0 = ed[0]
    u1, v1 = next((u, v) for u, v in ed if u != u0)
    rows.append(f"{u0},{v0},{v0},-1,,20240101")      # reply: 1 (thread root not counted)
    rows.append(f"{u0},,,{v0},{v0},20240102")         # repost + quote: 2
    rows.append(f"{u1},-1,{v1},-1,-1,20240103")       # thread root only: 0
    _write_dump(tmp_path / "fr", follows, rows, header=False)
    with pytest.warns(UserWarning, match="holds only 80 users"):
        g = load_bluesky_dump(tmp_path / "fr", num_nodes=1000, hops=10)
    lab = g.node_attrs["label"]
    assert lab[0] == hub
    comp = nx.node_connected_component(follows.to_undirected(), hub)
    assert set(lab) == comp
    k = lab.index(u0)
    assert g.node_attrs["interaction_count"][k] == 3.0
    w = _edge_set(g)
    assert w[(v0, u0)] == 1.0
    assert g.node_attrs["interaction_count"][lab.index(u1)] == 0.0
    unw = load_bluesky_dump(tmp_path / "fr", num_nodes=20, hops=2, interactions=False)
    assert unw.edge_weight is None and unw.num_nodes <= 20
    # a 'u,v,type' layout counts one per row
    _write_dump(tmp_path / "ty", follows, [f"{u0},{v0},like", f"{u0},{v0},reply"])
    with pytest.warns(UserWarning, match="holds only"):
        gt = load_bluesky_dump(tmp_path / "ty", num_nodes=1000, hops=10)
    assert gt.node_attrs["interaction_count"][gt.node_attrs["label"].index(u0)] == 2.0


def test_bluesky_small_ball_warns_and_bad_input(tmp_path):
    follows = nx.DiGraph([("1", "2"), ("2", "3"), ("4", "5")])
    _write_dump(tmp_path / "s", follows, ["1,2"])
    with pytest.warns(UserWarning, match="holds only 3 users"):
        g = load_bluesky_dump(tmp_path / "s", num_nodes=10, hops=5, seed_user="2")
    assert sorted(g.node_attrs["label"]) == ["1", "2", "3"]
    with pytest.raises(ValueError, match="seed user '9' has no follow links"):
        load_bluesky_dump(tmp_path / "s", seed_user=9)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_bluesky_dump(tmp_path / "none")
    (tmp_path / "noint").mkdir()
    with gzip.open(tmp_path / "noint" / "followers.csv.gz", "wt") as fh:
        fh.write("1,2\n")
    with pytest.raises(FileNotFoundError, match="interactions=False"):
        load_bluesky_dump(tmp_path / "noint")
    with pytest.warns(UserWarning, match="holds only 2 users"):
        assert load_bluesky_dump(tmp_path / "noint", interactions=False, seed_user=1).num_edges == 1
    bad = tmp_path / "bad"
    _write_dump(bad, follows, ["1,2"], header=False, extra_follow_rows=["7,8,9"])
    with pytest.raises(ValueError, match="followers.csv.gz: malformed row"):
        load_bluesky_dump(bad, seed_user="1")
    _write_dump(bad, follows, ["1,2"], header=False, extra_follow_rows=["7,"])
    with pytest.raises(ValueError, match=r"followers.csv.gz, line 4: empty user id"):
        load_bluesky_dump(bad, seed_user="1")
    _write_dump(bad, follows, ["1,2,3", "2,3,-1"])
    with pytest.raises(ValueError, match=r"interactions.csv.gz, line 2: interaction count '-1'"):
        with pytest.warns(UserWarning, match="holds only 3 users"):
            load_bluesky_dump(bad, seed_user="1")
    _write_dump(bad, follows, ["1,2,3,4"])
    with pytest.raises(ValueError, match="4 fields"):
        with pytest.warns(UserWarning, match="holds only 3 users"):
            load_bluesky_dump(bad, seed_user="1")
    with pytest.raises(ValueError, match="num_nodes"):
        load_bluesky_dump(bad, num_nodes=1)
    with pytest.raises(ValueError, match="hops"):
        load_bluesky_dump(bad, hops=0)
