"""Bad files given to the network loaders give clear errors, never raw tracebacks.

Every loader (plain files, Congress, Hadza, BaYaka, Bluesky dumps, crawl folders, the
bundled samples) is fed each kind of bad input that applies to it: binary bytes (random and
PNG-like), latin-1 text, truncated or fake gzip, empty and header-only files, a missing
column, a non-numeric value, a folder where a file belongs (and the reverse), a missing
path, and broken ``meta.json`` files. Each must raise ``ValueError`` or
``FileNotFoundError`` (socialmarl's own subclasses allowed, never a decoding, gzip, CSV,
JSON, parser, ``KeyError``, ``IndexError`` or ``TypeError`` exception) whose message names
the bad file. Every scenario is first checked to load when nothing is broken, so each case
fails only for the damage it applies.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import shutil
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import pytest

import socialmarl.networks.bundled as ds
from socialmarl.networks.bluesky.format import read_crawl, write_crawl
from socialmarl.networks.graph import Graph
from socialmarl.networks.loaders.bluesky_dump import load_bluesky_dump
from socialmarl.networks.loaders.camps import (
    bayaka_pair_covariates,
    load_bayaka,
    load_bayaka_daily,
    load_hadza_proximity,
)
from socialmarl.networks.loaders.congress import load_congress_twitter
from socialmarl.networks.loaders.files import load_csv_edges, load_edgelist, load_graphml

RANDOM_BYTES = np.random.default_rng(7).bytes(600)
PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + bytes(range(256)) * 2

RAW_ERRORS = (
    UnicodeError, EOFError, gzip.BadGzipFile, zlib.error, csv.Error, json.JSONDecodeError,
    pd.errors.ParserError, pd.errors.EmptyDataError, KeyError, IndexError, TypeError,
)


# ------------------------------------------------------------------------------ file helpers
def read_text(path: Path) -> str:
    data = path.read_bytes()
    return (gzip.decompress(data) if path.name.endswith(".gz") else data).decode("utf-8")


def write_text(path: Path, text: str, encoding: str = "utf-8") -> None:
    data = text.encode(encoding)
    path.write_bytes(gzip.compress(data, mtime=0) if path.name.endswith(".gz") else data)


def write_raw(path: Path, data: bytes) -> None:
    """Raw bytes, gzipped when the name ends in .gz (so only the content is bad)."""
    path.write_bytes(gzip.compress(data, mtime=0) if path.name.endswith(".gz") else data)


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def csv_text(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def header_only(text: str) -> str:
    return text.splitlines()[0] + "\n"


def drop_column(col: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        rows = csv_rows(text)
        k = rows[0].index(col)
        return csv_text([r[:k] + r[k + 1:] for r in rows])
    return edit


def set_cell(col: str, value: str, row: int = 1) -> Callable[[str], str]:
    def edit(text: str) -> str:
        rows = csv_rows(text)
        rows[row][rows[0].index(col)] = value
        return csv_text(rows)
    return edit


def replace(old: str, new: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        assert old in text
        return text.replace(old, new, 1)
    return edit


def set_json(key: str, value: Any) -> Callable[[str], str]:
    def edit(text: str) -> str:
        data = json.loads(text)
        if value is _DELETE:
            data.pop(key)
        else:
            data[key] = value
        return json.dumps(data, ensure_ascii=False)
    return edit


_DELETE = object()


# ------------------------------------------------------------------------------ scenarios
@dataclass
class Scenario:
    """One loader call on a folder built by ``build``.

    ``files`` lists the files the call reads (relative to the folder); ``variants`` holds,
    per file, named edits of its text that must each be rejected; ``target`` is the file
    passed to file loaders (``None``: the loader takes the folder).
    """

    build: Callable[[Path], None]
    call: Callable[[Path], Any]
    files: list[str]
    target: str | None = None
    variants: dict[str, dict[str, Callable[[str], str]]] = field(default_factory=dict)
    bundled: bool = False


def texts(**files: str) -> Callable[[Path], None]:
    def build(root: Path) -> None:
        for name, text in files.items():
            write_text(root / name.replace("__", "."), text)
    return build


EDGES = "alice bob 0.5\nbob josé 1.0\njosé alice 2\n"
EDGE_CSV = "source,target,weight\nalice,bob,0.5\nbob,josé,1\n"
HADZA = "ID1,ID2,Fraction\nhé,h2,0.25\nh2,h3,0.5\n"
CONGRESS_JSON = json.dumps(
    [{"usernameList": ["José", "b"], "partyList": ["D", "R"], "outList": [[1], [0]],
      "outWeight": [[0.5], [0.25]]}], ensure_ascii=False)
BAYAKA = {
    "bayaka_nodes.csv": "id,sex\npé,F\np2,M\np3,F\n",
    "bayaka_dyads_static.csv": (
        "id1,id2,relatedness,days_exposed,days_together\n"
        "pé,p2,0.5,2,1\npé,p3,0,1,0\np2,p3,0.25,1,1\n"),
    "bayaka_daily_dyads.csv": (
        "day,id1,id2,together\n1,pé,p2,1\n1,pé,p3,0\n2,pé,p2,0\n2,p2,p3,1\n"),
}
FOLLOWERS = "follower,followed\njosé,bob\nbob,josé\ncarl,josé\ndan,carl\n"
INTERACTIONS = "josé,bob,3\ncarl,josé,1\n"


def build_graphml(root: Path) -> None:
    g = nx.DiGraph()
    g.add_edge("josé", "bob", weight=0.5)
    g.add_edge("bob", "carl", weight=1.5)
    nx.write_graphml(g, root / "g.graphml")


def build_congress(root: Path) -> None:
    write_text(root / "congress.edgelist", "# café\n0 1 {'weight': 0.5}\n1 0 0.25\n")
    write_text(root / "congress_network_data.json", CONGRESS_JSON)


def build_crawl(root: Path, compress: bool) -> None:
    g = Graph(3, [[0, 1, 2], [1, 2, 0]], [0.5, 1.0, 0.25],
              node_attrs={"did": ["did:x:1", "did:x:2", "did:x:3"],
                          "handle": ["josé.invalid", "b.invalid", "c.invalid"],
                          "followers_count": [1, 2, 3]})
    write_crawl(g, root, edge_likes=[1, 2, 3], compress=compress)


def copy_bundled(root: Path) -> None:
    for sub in ("camp_sample", "bluesky_sample"):
        shutil.copytree(ds.bundled_data_dir() / sub, root / sub)


def bayaka_graph() -> Graph:
    return Graph.from_edges(3, [(0, 1), (1, 2)], [0.5, 1.0], directed=False)


CSV_EDITS = {
    "header_only": header_only,
    "no_weight_column": drop_column("weight"),
    "non_numeric": set_cell("weight", "heavy"),
}
HADZA_EDITS = {
    "header_only": header_only,
    "no_fraction_column": drop_column("Fraction"),
    "non_numeric": set_cell("Fraction", "lots"),
}
EDGELIST_EDITS = {
    "comments_only": lambda t: "# from to weight\n",
    "non_numeric": lambda t: "alice bob heavy\n",
    "one_column": lambda t: "alice\nbob\n",
}
BAYAKA_EDITS = {
    "bayaka_nodes.csv": {"header_only": header_only, "no_id": drop_column("id")},
    "bayaka_dyads_static.csv": {
        "header_only": header_only, "no_days_together": drop_column("days_together"),
        "non_numeric": set_cell("days_exposed", "many")},
    "bayaka_daily_dyads.csv": {
        "header_only": header_only, "no_together": drop_column("together"),
        "non_numeric": set_cell("day", "monday")},
}
CRAWL_EDITS = {
    "meta.json": {
        "version_two": set_json("version", "two"), "version_null": set_json("version", None),
        "version_list": set_json("version", [1]), "version_float": set_json("version", 1.5),
        "version_newer": set_json("version", 99), "format_missing": set_json("format", _DELETE),
        "num_nodes_text": set_json("num_nodes", "many"),
        "num_nodes_null": set_json("num_nodes", None),
        "not_a_dict": lambda t: "[1, 2]", "invalid_json": lambda t: "{oops",
    },
}


def crawl_edits(nodes: str, edges: str) -> dict[str, dict[str, Callable[[str], str]]]:
    return {
        **CRAWL_EDITS,
        nodes: {"header_only": header_only, "no_node_column": drop_column("node"),
                "non_numeric": set_cell("followers_count", "lots")},
        edges: {"header_only": header_only, "no_receiver": drop_column("receiver"),
                "non_numeric": set_cell("likes", "ten"),
                "bad_weight": set_cell("weight", "heavy")},
    }


SCENARIOS: dict[str, Scenario] = {
    "edgelist": Scenario(texts(g__txt=EDGES), lambda r: load_edgelist(r / "g.txt"),
                         ["g.txt"], "g.txt", {"g.txt": EDGELIST_EDITS}),
    "edgelist_gz": Scenario(texts(g__txt__gz=EDGES), lambda r: load_edgelist(r / "g.txt.gz"),
                            ["g.txt.gz"], "g.txt.gz", {"g.txt.gz": EDGELIST_EDITS}),
    "csv_edges": Scenario(texts(e__csv=EDGE_CSV),
                          lambda r: load_csv_edges(r / "e.csv", weight="weight"),
                          ["e.csv"], "e.csv", {"e.csv": CSV_EDITS}),
    "csv_edges_gz": Scenario(texts(e__csv__gz=EDGE_CSV),
                             lambda r: load_csv_edges(r / "e.csv.gz", weight="weight"),
                             ["e.csv.gz"], "e.csv.gz", {"e.csv.gz": CSV_EDITS}),
    "graphml": Scenario(build_graphml, lambda r: load_graphml(r / "g.graphml"),
                        ["g.graphml"], "g.graphml",
                        {"g.graphml": {"non_numeric": replace("<data key=\"d0\">0.5",
                                                              "<data key=\"d0\">heavy"),
                                       "cut_in_half": lambda t: t[: len(t) // 2]}}),
    "congress": Scenario(
        build_congress, lambda r: load_congress_twitter(r),
        ["congress.edgelist", "congress_network_data.json"], None,
        {"congress.edgelist": {
            "comments_only": lambda t: "# i j w\n", "non_numeric": lambda t: "0 1 heavy\n",
            "no_weights": lambda t: "0 1\n1 0\n", "bad_id": lambda t: "0 x 0.5\n"},
         "congress_network_data.json": {
            "invalid_json": lambda t: "{oops", "no_party": replace('"partyList"', '"party"'),
            "names_not_a_list": lambda t: json.dumps({"usernameList": 5, "partyList": 5}),
            "weights_not_numbers": replace("[[0.5], [0.25]]", '[["x"], [0.25]]'),
            "outlist_not_lists": replace("[[1], [0]]", "5"),
            "outlist_bad_id": replace("[[1], [0]]", '[["b"], [0]]'),
            "null": lambda t: "null"}}),
    "hadza": Scenario(texts(prox__csv=HADZA), lambda r: load_hadza_proximity(r / "prox.csv"),
                      ["prox.csv"], "prox.csv", {"prox.csv": HADZA_EDITS}),
    "hadza_gz": Scenario(texts(prox__csv__gz=HADZA),
                         lambda r: load_hadza_proximity(r / "prox.csv.gz"),
                         ["prox.csv.gz"], "prox.csv.gz", {"prox.csv.gz": HADZA_EDITS}),
    "bayaka": Scenario(texts(**{k.replace(".", "__"): v for k, v in BAYAKA.items()}),
                       lambda r: load_bayaka(r), list(BAYAKA)[:2], None, BAYAKA_EDITS),
    "bayaka_daily": Scenario(texts(**{k.replace(".", "__"): v for k, v in BAYAKA.items()}),
                             lambda r: load_bayaka_daily(r), list(BAYAKA), None, BAYAKA_EDITS),
    "bayaka_covariates": Scenario(
        texts(**{k.replace(".", "__"): v for k, v in BAYAKA.items()}),
        lambda r: bayaka_pair_covariates(r, bayaka_graph()), list(BAYAKA)[:2], None,
        BAYAKA_EDITS),
    "bluesky_dump": Scenario(
        texts(followers__csv__gz=FOLLOWERS, interactions__csv__gz=INTERACTIONS),
        lambda r: load_bluesky_dump(r, num_nodes=3, hops=1, seed_user="josé"),
        ["followers.csv.gz", "interactions.csv.gz"], None,
        {"followers.csv.gz": {"header_only": header_only,
                              "one_column": lambda t: "josé\nbob\n",
                              "ragged": lambda t: t + "a,b,c\n"},
         "interactions.csv.gz": {"non_numeric": lambda t: t + "bob,josé,many\n",
                                 "five_fields": lambda t: "josé,bob,1,2,3\n"}}),
    "read_crawl": Scenario(lambda r: build_crawl(r, False), lambda r: read_crawl(r),
                           ["meta.json", "nodes.csv", "edges.csv"], None,
                           crawl_edits("nodes.csv", "edges.csv")),
    "read_crawl_gz": Scenario(lambda r: build_crawl(r, True), lambda r: read_crawl(r),
                              ["meta.json", "nodes.csv.gz", "edges.csv.gz"], None,
                              crawl_edits("nodes.csv.gz", "edges.csv.gz")),
    "camp_sample": Scenario(
        copy_bundled, lambda r: ds.load_camp_sample(),
        ["camp_sample/meta.json", "camp_sample/nodes.csv", "camp_sample/pairs.csv"], None,
        {"camp_sample/meta.json": {
            "no_r": set_json("r", _DELETE), "r_text": set_json("r", "fast"),
            "r_negative": set_json("r", -1), "r_null": set_json("r", None),
            "list": lambda t: "[]", "invalid_json": lambda t: "{oops"},
         "camp_sample/nodes.csv": {
            "header_only": header_only, "no_age": drop_column("age"),
            "no_id": drop_column("id"), "non_numeric": set_cell("age", "old"),
            "bad_household": set_cell("household", "2.5"),
            "ragged": lambda t: t + "99,1\n"},
         "camp_sample/pairs.csv": {
            "header_only": header_only, "no_q": drop_column("q"),
            "no_id2": drop_column("id2"), "non_numeric": set_cell("q", "often"),
            "q_above_one": set_cell("q", "1.5"), "q_nan": set_cell("q", "nan"),
            "id_out_of_range": set_cell("id2", "999"), "id_text": set_cell("id1", "x"),
            "self_pair": set_cell("id2", "0"), "duplicate": lambda t: t + "0,1,0.5\n"}},
        bundled=True),
    "bluesky_sample": Scenario(
        copy_bundled, lambda r: ds.load_bluesky_sample(),
        ["bluesky_sample/meta.json", "bluesky_sample/nodes.csv.gz",
         "bluesky_sample/edges.csv.gz"], None,
        {"bluesky_sample/meta.json": CRAWL_EDITS["meta.json"],
         "bluesky_sample/nodes.csv.gz": {
            "header_only": header_only, "no_node": drop_column("node"),
            "non_numeric": set_cell("followers_count", "lots")},
         "bluesky_sample/edges.csv.gz": {
            "header_only": header_only, "no_sender": drop_column("sender"),
            "non_numeric": set_cell("weight", "heavy")}},
        bundled=True),
}
SCENARIOS["bluesky_sample_crawl"] = Scenario(
    copy_bundled, lambda r: ds.load_bluesky_sample_crawl(), SCENARIOS["bluesky_sample"].files,
    None, SCENARIOS["bluesky_sample"].variants, bundled=True)

# Non-ASCII edits for files whose pristine text is plain ASCII (so latin-1 changes bytes).
NON_ASCII = {
    "camp_sample/meta.json": replace('"name": "camp_sample"', '"name": "campé"'),
    "camp_sample/nodes.csv": replace(",husband,", ",señor,"),
    "bluesky_sample/meta.json": replace("Synthetic", "Synthétique"),
    "bluesky_sample/nodes.csv.gz": replace(",robotics", ",robótica"),
    "meta.json": set_json("name", "Jos\u00e9's crawl"),
    "edges.csv": None, "edges.csv.gz": None,  # numbers only
    "camp_sample/pairs.csv": None, "bluesky_sample/edges.csv.gz": None,
}


# ------------------------------------------------------------------------------ damage
def damage_content(kind: str) -> Callable[[Path], None] | None:
    """A function breaking one file in a given way, or None when the kind does not apply."""
    return {
        "random_bytes": lambda p: p.write_bytes(RANDOM_BYTES),
        "png_bytes": lambda p: p.write_bytes(PNG_BYTES),
        "empty": lambda p: p.write_bytes(b""),
        "folder": lambda p: (p.unlink(), p.mkdir()),
        "missing": lambda p: p.unlink(),
    }.get(kind)


def case_list() -> list[Any]:
    cases = []
    for sname, sc in SCENARIOS.items():
        for fname in sc.files:
            kinds = ["random_bytes", "png_bytes", "empty", "folder", "missing", "latin1"]
            if fname.endswith(".gz"):
                kinds += ["truncated_gz", "plain_text_in_gz", "empty_gz", "gz_of_binary"]
            elif not fname.endswith(".json"):
                kinds += ["gzip_without_gz_name"]
            if fname.endswith(".graphml"):
                kinds.remove("folder")  # covered by the folder-for-file case below
            for kind in kinds:
                if kind == "latin1" and NON_ASCII.get(fname, ...) is None:
                    continue
                cases.append(pytest.param(sname, fname, kind, id=f"{sname}-{fname}-{kind}"))
            for vname in sc.variants.get(fname, {}):
                cases.append(pytest.param(sname, fname, f"edit:{vname}",
                                          id=f"{sname}-{fname}-{vname}"))
    return cases


def apply_damage(root: Path, fname: str, kind: str, sc: Scenario) -> None:
    p = root / fname
    simple = damage_content(kind)
    if simple is not None:
        simple(p)
    elif kind == "latin1":
        text = read_text(p)
        edit = NON_ASCII.get(fname)
        if edit is not None:
            text = edit(text)
        assert any(ord(c) > 127 for c in text), "the latin-1 case needs non-ASCII text"
        write_text(p, text, encoding="latin-1")
    elif kind == "truncated_gz":
        data = p.read_bytes()
        p.write_bytes(data[: len(data) // 2])
    elif kind == "plain_text_in_gz":
        p.write_bytes(read_text(p).encode("utf-8"))
    elif kind == "empty_gz":
        write_raw(p, b"")
    elif kind == "gz_of_binary":
        write_raw(p, PNG_BYTES)
    elif kind == "gzip_without_gz_name":
        p.write_bytes(gzip.compress(p.read_bytes()))
    elif kind.startswith("edit:"):
        edit = sc.variants[fname][kind[5:]]
        write_text(p, edit(read_text(p)))
    else:  # pragma: no cover - a typo in the case list
        raise AssertionError(kind)


def check_clear_error(info: pytest.ExceptionInfo, name: str) -> None:
    err = info.value
    assert not isinstance(err, RAW_ERRORS), f"raw {type(err).__name__}: {err}"
    assert type(err) in (ValueError, FileNotFoundError) or type(err).__module__.startswith(
        "socialmarl"
    ), f"unexpected {type(err).__module__}.{type(err).__name__}: {err}"
    assert name in str(err), f"message does not name {name!r}: {err}"


@pytest.fixture
def scenario_root(tmp_path, monkeypatch):
    def make(sname: str) -> Path:
        sc = SCENARIOS[sname]
        root = tmp_path / f"{sname}_folder"
        root.mkdir()
        sc.build(root)
        if sc.bundled:
            monkeypatch.setattr(ds, "bundled_data_dir", lambda: root)
        return root
    return make


# ------------------------------------------------------------------------------ tests
@pytest.mark.parametrize("sname", list(SCENARIOS))
def test_every_scenario_loads_when_intact(scenario_root, sname):
    root = scenario_root(sname)
    assert SCENARIOS[sname].call(root) is not None


@pytest.mark.parametrize("sname, fname, kind", case_list())
def test_bad_file_gives_clear_error(scenario_root, sname, fname, kind):
    sc = SCENARIOS[sname]
    root = scenario_root(sname)
    apply_damage(root, fname, kind, sc)
    with pytest.raises((ValueError, FileNotFoundError)) as info:
        sc.call(root)
    check_clear_error(info, Path(fname).name)


FOLDER_LOADERS = ["congress", "bayaka", "bayaka_daily", "bayaka_covariates", "bluesky_dump",
                  "read_crawl"]
FILE_LOADERS = [k for k, sc in SCENARIOS.items() if sc.target is not None]


@pytest.mark.parametrize("sname", FOLDER_LOADERS + FILE_LOADERS)
def test_missing_path(tmp_path, sname):
    with pytest.raises(FileNotFoundError) as info:
        SCENARIOS[sname].call(tmp_path / "nowhere")
    check_clear_error(info, "nowhere")


@pytest.mark.parametrize("sname", ["bluesky_dump", "read_crawl"])
def test_file_where_a_folder_belongs(tmp_path, sname):
    p = tmp_path / "notes.txt"
    p.write_text("a,b\n")
    with pytest.raises((ValueError, FileNotFoundError)) as info:
        SCENARIOS[sname].call(p)
    check_clear_error(info, "notes.txt")
    assert "is a file" in str(info.value) and "does not exist" not in str(info.value)


@pytest.mark.parametrize("sname", FILE_LOADERS)
def test_folder_where_a_file_belongs(scenario_root, sname):
    sc = SCENARIOS[sname]
    root = scenario_root(sname)
    p = root / sc.target
    p.unlink()
    p.mkdir()
    with pytest.raises(ValueError) as info:
        sc.call(root)
    check_clear_error(info, sc.target)
    assert isinstance(info.value, IsADirectoryError)  # still caught as before


# ------------------------------------------------------------------------------ messages
def test_utf8_message_gives_line_byte_and_fix(tmp_path):
    p = tmp_path / "g.txt"
    p.write_bytes(b"alice bob 1\nbob carl 2\n" + "josé alice 3\n".encode("latin-1"))
    with pytest.raises(ValueError) as info:
        load_edgelist(p)
    msg = str(info.value)
    assert "g.txt, line 3" in msg and "byte 0xe9" in msg and "offset 26" in msg
    assert "save it as UTF-8" in msg
    assert isinstance(info.value.__cause__, UnicodeDecodeError)


def test_utf8_error_far_into_a_gzip_file_names_its_line(tmp_path):
    p = tmp_path / "e.csv.gz"
    rows = "".join(f"u{k},v{k},1\n" for k in range(20000))
    write_raw(p, ("source,target,weight\n" + rows).encode() + b"caf\xe9,x,1\n")
    with pytest.raises(ValueError) as info:
        load_csv_edges(p, weight="weight")
    assert "e.csv.gz, line 20002" in str(info.value)
    assert "byte 0xe9" in str(info.value)


def test_binary_and_gzip_messages_say_what_to_do(tmp_path):
    png = tmp_path / "g.txt"
    png.write_bytes(PNG_BYTES)
    with pytest.raises(ValueError, match=r"g\.txt.*binary.*PNG") as info:
        load_edgelist(png)
    assert isinstance(info.value.__cause__, UnicodeDecodeError)
    cut = tmp_path / "g.txt.gz"
    data = gzip.compress(EDGES.encode() * 50)
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"g\.txt\.gz.*truncated or corrupted gzip.*again"):
        load_edgelist(cut)
    plain = tmp_path / "h.txt.gz"
    plain.write_text(EDGES)
    with pytest.raises(ValueError, match=r"h\.txt\.gz.*not gzip-compressed.*rename"):
        load_edgelist(plain)
    hidden = tmp_path / "h.txt"
    hidden.write_bytes(gzip.compress(EDGES.encode()))
    with pytest.raises(ValueError, match=r"h\.txt.*gzip-compressed.*\.gz"):
        load_edgelist(hidden)


@pytest.mark.parametrize("sname", ["csv_edges", "hadza", "read_crawl", "camp_sample"])
def test_csv_module_errors_name_the_file(scenario_root, sname):
    sc = SCENARIOS[sname]
    root = scenario_root(sname)
    fname = next(f for f in sc.files if ".csv" in f)
    p = root / fname
    text = read_text(p).splitlines()
    text[1] = '"' + "x" * 200_000 + '"' + text[1][text[1].index(","):]  # over csv's limit
    write_text(p, "\n".join(text) + "\n")
    with pytest.raises(ValueError, match="field larger than field limit") as info:
        sc.call(root)
    check_clear_error(info, Path(fname).name)


def test_crawl_meta_messages(scenario_root):
    root = scenario_root("read_crawl")
    meta = root / "meta.json"
    good = json.loads(meta.read_text())
    for version in ("two", None, [1]):
        meta.write_text(json.dumps({**good, "version": version}))
        with pytest.raises(ValueError, match=r"meta\.json: format version .* is not an "
                                             r"integer") as info:
            read_crawl(root)
        assert repr(version) in str(info.value) or json.dumps(version) in str(info.value)
    meta.write_text(json.dumps({**good, "version": 99}))
    with pytest.raises(ValueError, match="newer than this socialmarl reads"):
        read_crawl(root)
    meta.write_text('{"format": \n oops}')
    with pytest.raises(ValueError, match=r"meta\.json, line 2, column 2: not valid JSON.*fix"):
        read_crawl(root)


def test_camp_sample_missing_column_lists_needed_columns(scenario_root):
    root = scenario_root("camp_sample")
    p = root / "camp_sample" / "pairs.csv"
    write_text(p, drop_column("q")(read_text(p)))
    with pytest.raises(ValueError) as info:
        ds.load_camp_sample()
    msg = str(info.value)
    assert "pairs.csv" in msg and "'q'" in msg and "id1, id2, q" in msg


def test_bluesky_dump_file_for_folder_says_pass_the_folder(tmp_path):
    p = tmp_path / "followers.csv.gz"
    write_text(p, FOLLOWERS)
    with pytest.raises(ValueError, match=r"followers\.csv\.gz.* is a file; pass the folder "
                                         r"that holds followers\.csv\.gz"):
        load_bluesky_dump(p)


def test_permission_denied_names_the_file_and_the_fix(tmp_path, monkeypatch):
    # root reads any file, so the refusal is simulated where the loader opens the file
    import builtins

    from socialmarl.common.reading import UnreadablePermissionError

    path = tmp_path / "edges.txt"
    path.write_text("0 1\n1 2\n")
    real_open = builtins.open

    def guarded(file, *args, **kwargs):
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded)
    with pytest.raises(UnreadablePermissionError) as info:
        load_edgelist(path)
    msg = str(info.value)
    assert str(path) in msg and "permission denied" in msg and "chmod u+r" in msg
    assert isinstance(info.value, PermissionError) and isinstance(info.value, ValueError)
