"""The crawl folder format and :class:`BlueskyCrawl`, the crawl it holds.

A crawl is a follow graph with its like evidence and provenance. Edge convention: sender
``j`` = followed account, receiver ``i`` = follower, i.e. "``i`` observes ``j``"; node ids
are 0-based.

Output format (a folder, no pickles): ``nodes.csv`` (``node, did, handle,
followers_count, follows_count, posts_count, posts_sampled, hop`` and any further node
attributes), ``edges.csv`` (``sender, receiver, weight, likes``; node ids 0-based, sender
= followed account, receiver = follower) and ``meta.json`` (format name and version, the
crawl configuration, seeds, dropped accounts, pagination problems, request counts). The
CSV files may be gzipped (``nodes.csv.gz``). :func:`write_crawl` writes it (atomically,
``meta.json`` last), :func:`read_crawl` loads it back, naming the file, the line and the
fix on any malformed input.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ...common.config_io import atomic_write_bytes, load_json, save_json
from ...common.files import remove_stale_temp_files
from ...common.reading import existing_file, existing_folder, file_errors, parse_number, read_text
from ..graph import Graph

__all__ = [
    "BlueskyCrawl",
    "write_crawl",
    "read_crawl",
    "FORMAT_NAME",
    "FORMAT_VERSION",
]

FORMAT_NAME = "socialmarl-bluesky-crawl"
FORMAT_VERSION = 1

_NODE_COLUMNS = (
    "did", "handle", "followers_count", "follows_count", "posts_count", "posts_sampled", "hop",
)
_INT_COLUMNS = {"followers_count", "follows_count", "posts_count", "posts_sampled", "hop"}
_STR_COLUMNS = {"did", "handle"}
# an AT Protocol handle (lower case): the crawler checks seeds with it, the pseudonyms
# recognise handles in the metadata with it
_HANDLE_RE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")


# ---------------------------------------------------------------------------- results
@dataclass
class BlueskyCrawl:
    """A crawled (or loaded) follow graph with its like evidence and provenance.

    Attributes
    ----------
    graph : Graph
        Sender = followed account, receiver = follower; ``edge_weight`` is the normalised
        like importance; node attributes ``did``, ``handle``, ``followers_count``,
        ``follows_count``, ``posts_count``, ``posts_sampled`` and ``hop``.
    edge_likes : Tensor or None
        ``(E,)`` int64, aligned with ``graph.edge_index``: the number of the sender's
        sampled posts that the receiver liked.
    meta : dict
        Format, configuration and crawl provenance (JSON-safe).
    """

    graph: Graph
    edge_likes: torch.Tensor | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def write(self, directory: str | os.PathLike, *, compress: bool = False) -> Path:
        """Write to ``directory`` in the crawl format (see :func:`write_crawl`)."""
        return write_crawl(
            self.graph, directory, edge_likes=self.edge_likes, meta=self.meta, compress=compress
        )

    def raw_weights(self) -> torch.Tensor:
        """``likes_ij / posts_sampled_j`` per edge (the fraction of j's posts i liked)."""
        if self.edge_likes is None or "posts_sampled" not in self.graph.node_attrs:
            raise ValueError("this crawl has no like counts (edge_likes / posts_sampled)")
        posts = torch.as_tensor(self.graph.node_attrs["posts_sampled"], dtype=torch.float64)
        p = posts[self.graph.senders.cpu()]
        likes = self.edge_likes.double()
        return torch.where(p > 0, likes / p.clamp_min(1.0), torch.zeros_like(likes))


def _json_copy(obj: Any) -> Any:
    import json

    return json.loads(json.dumps(obj))


# ---------------------------------------------------------------------------- file format
def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]],
               compress: bool) -> Path:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    data = buf.getvalue().encode("utf-8")
    if compress:
        path = path.with_name(path.name + ".gz")
        data = gzip.compress(data, compresslevel=9, mtime=0)
    atomic_write_bytes(path, data)
    other = path.with_name(path.name[:-3]) if compress else path.with_name(path.name + ".gz")
    if other.exists():
        other.unlink()  # never leave two versions that could disagree
    return path


def _cell(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, (torch.Tensor, np.ndarray)):
        value = value.item()
        return _cell(value)
    return str(value)


def write_crawl(
    graph: Graph,
    directory: str | os.PathLike,
    *,
    edge_likes: Any = None,
    meta: Mapping[str, Any] | None = None,
    compress: bool = False,
) -> Path:
    """Write a graph in the crawl format: ``nodes.csv``, ``edges.csv``, ``meta.json``.

    Parameters
    ----------
    graph : Graph
        Directed graph; its weights go to the ``weight`` column and its node attributes
        (scalars only) to ``nodes.csv``.
    directory : path
        Output folder (created). Files are written atomically, ``meta.json`` last.
    edge_likes : array-like, optional
        ``(E,)`` integer like counts (the ``likes`` column).
    meta : mapping, optional
        Extra metadata; ``format``, ``version``, ``name``, ``num_nodes`` and ``num_edges``
        are set from the graph.
    compress : bool
        Gzip the CSV files (``nodes.csv.gz``, ``edges.csv.gz``; deterministic bytes).

    Returns
    -------
    Path
        The folder.

    Examples
    --------
    >>> import tempfile
    >>> from socialmarl.networks.graph import Graph
    >>> g = Graph(2, [[0], [1]], [1.0], node_attrs={"handle": ["a.test", "b.test"]})
    >>> folder = write_crawl(g, tempfile.mkdtemp())
    >>> print((folder / "edges.csv").read_text(), end="")
    sender,receiver,weight
    0,1,1.0
    >>> read_crawl(folder).graph.node_attrs["handle"]
    ['a.test', 'b.test']
    """
    directory = Path(directory)
    remove_stale_temp_files(directory)  # left by a write that was killed
    n, e = graph.num_nodes, graph.num_edges
    keys = [k for k in _NODE_COLUMNS if k in graph.node_attrs]
    keys += sorted(k for k in graph.node_attrs if k not in _NODE_COLUMNS)
    for k in keys:
        if k in ("node",):
            raise ValueError("node attribute 'node' clashes with the id column; rename it")
        for v in graph.node_attrs[k]:
            if isinstance(v, (list, tuple, dict, set)):
                raise ValueError(
                    f"node attribute {k!r} holds a {type(v).__name__}; only scalars can be "
                    "written to nodes.csv"
                )
    cols = [list(graph.node_attrs[k]) for k in keys]
    _write_csv(
        directory / "nodes.csv", ["node", *keys],
        ([u, *(_cell(c[u]) for c in cols)] for u in range(n)), compress,
    )
    ei = graph.edge_index.cpu().numpy()
    header = ["sender", "receiver"]
    ecols: list[list[str]] = []
    if graph.edge_weight is not None:
        header.append("weight")
        ecols.append([repr(float(x)) for x in graph.edge_weight.cpu().double().tolist()])
    if edge_likes is not None:
        lk = np.asarray(torch.as_tensor(edge_likes).cpu().numpy()).reshape(-1)
        if lk.size != e:
            raise ValueError(f"{lk.size} like counts for {e} edges")
        if not np.all(lk == np.round(lk)) or (lk < 0).any():
            raise ValueError("edge_likes must be non-negative integers")
        header.append("likes")
        ecols.append([str(int(x)) for x in lk])
    _write_csv(
        directory / "edges.csv", header,
        ([int(ei[0, k]), int(ei[1, k]), *(c[k] for c in ecols)] for k in range(e)), compress,
    )
    out = dict(_json_copy(dict(meta or {})))
    out.update(
        {"format": FORMAT_NAME, "version": FORMAT_VERSION, "name": graph.name,
         "directed": graph.directed, "num_nodes": n, "num_edges": e}
    )
    save_json(directory / "meta.json", out)
    return directory


def _open_table(directory: Path, stem: str) -> tuple[Path, list[list[str]]]:
    plain, gz = directory / f"{stem}.csv", directory / f"{stem}.csv.gz"
    if plain.exists() and gz.exists():
        raise ValueError(f"{directory} holds both {plain.name} and {gz.name}; delete one")
    if not (gz.exists() or plain.exists()):
        raise FileNotFoundError(
            f"{directory}: no {stem}.csv or {stem}.csv.gz; is this a crawl folder written by "
            "write_crawl?"
        )
    # existing_file: a folder in its place; file_errors: not UTF-8, bad gzip, bad CSV
    path = existing_file(gz if gz.exists() else plain, f"crawl {stem} table")
    with file_errors(path):
        rows = list(csv.reader(io.StringIO(read_text(path))))
    if not rows:
        raise ValueError(f"{path}: empty file, expected a header row")
    return path, rows


def _parse_int(path: Path, line: int, col: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{path}, line {line}: {col}={value!r} is not an integer") from None


def _infer_column(values: list[str]) -> list[Any]:
    try:
        return [int(v) for v in values]
    except ValueError:
        pass
    try:
        out = [float(v) for v in values]
        if all(math.isfinite(x) for x in out):
            return out
    except ValueError:
        pass
    return values


def read_crawl(directory: str | os.PathLike) -> BlueskyCrawl:
    """Load a folder written by :func:`write_crawl` or the crawler.

    ``did`` and ``handle`` are read as strings, the count columns and ``hop`` as
    integers; other node columns become int, float or str, whichever fits every value.

    Raises
    ------
    FileNotFoundError
        When the folder or a file is missing.
    ValueError
        On a malformed file (binary or non-UTF-8 text, a truncated ``.gz``, a bad
        ``meta.json`` such as a non-integer ``version``, a bad row), or when ``directory`` is
        a file; the message names the file, the line and bad value where known, and the fix.

    Examples
    --------
    >>> import tempfile
    >>> from socialmarl.networks.graph import Graph
    >>> folder = write_crawl(Graph(3, [[0, 1], [1, 2]], [0.5, 1.0]), tempfile.mkdtemp())
    >>> c = read_crawl(folder)
    >>> c.graph.num_edges, c.graph.edge_weight.tolist(), c.edge_likes
    (2, [0.5, 1.0], None)
    """
    directory = existing_folder(directory, "crawl folder", "meta.json, nodes.csv, edges.csv")
    mpath = existing_file(directory / "meta.json", "crawl metadata file")
    meta = load_json(mpath)  # names the file: not UTF-8, binary, not valid JSON
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        found = meta.get("format") if isinstance(meta, dict) else None
        raise ValueError(
            f"{mpath}: format {found!r} is not {FORMAT_NAME!r}; this is not a folder written "
            "by write_crawl (or its meta.json was edited)"
        )
    version = meta.get("version", 0)
    if isinstance(version, bool) or not isinstance(version, (int, float)) or version % 1:
        raise ValueError(
            f"{mpath}: format version {version!r} is not an integer; write_crawl writes "
            f'"version": {FORMAT_VERSION}, so the file was edited or damaged: fix it or write '
            "the folder again"
        )
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{mpath}: format version {version} is newer than this "
            f"socialmarl reads ({FORMAT_VERSION}); upgrade socialmarl"
        )
    for key in ("num_nodes", "num_edges"):
        if key in meta:
            parse_number(meta[key], str(mpath), key, integer=True, low=0)
    if not isinstance(meta.get("directed", True), bool):
        raise ValueError(
            f"{mpath}: directed = {meta['directed']!r} is not true or false; fix the value"
        )
    npath, nrows = _open_table(directory, "nodes")
    header = nrows[0]
    if not header or header[0] != "node":
        raise ValueError(f"{npath}, line 1: the first column must be 'node', got {header[:1]}")
    if len(set(header)) != len(header):
        raise ValueError(f"{npath}, line 1: repeated column name in {header}")
    columns: dict[str, list[str]] = {h: [] for h in header[1:]}
    for line, row in enumerate(nrows[1:], start=2):
        if len(row) != len(header):
            raise ValueError(
                f"{npath}, line {line}: {len(row)} fields, the header has {len(header)}"
            )
        u = _parse_int(npath, line, "node", row[0])
        if u != line - 2:
            raise ValueError(
                f"{npath}, line {line}: node {u} out of order; nodes must be 0..N-1 in order"
            )
        for h, v in zip(header[1:], row[1:]):
            columns[h].append(v)
    n = len(nrows) - 1
    if n < 1:
        raise ValueError(f"{npath}: no node rows")
    attrs: dict[str, list[Any]] = {}
    for h, vals in columns.items():
        if h in _STR_COLUMNS:
            attrs[h] = vals
        elif h in _INT_COLUMNS:
            attrs[h] = [_parse_int(npath, k + 2, h, v) for k, v in enumerate(vals)]
        else:
            attrs[h] = _infer_column(vals)
    epath, erows = _open_table(directory, "edges")
    eh = erows[0]
    if eh[:2] != ["sender", "receiver"]:
        raise ValueError(f"{epath}, line 1: columns must start with sender,receiver; got {eh}")
    unknown = set(eh[2:]) - {"weight", "likes"}
    if unknown:
        raise ValueError(f"{epath}, line 1: unknown column(s) {sorted(unknown)}")
    src, dst, wts, lks = [], [], [], []
    for line, row in enumerate(erows[1:], start=2):
        if len(row) != len(eh):
            raise ValueError(f"{epath}, line {line}: {len(row)} fields, the header has {len(eh)}")
        rec = dict(zip(eh, row))
        s = _parse_int(epath, line, "sender", rec["sender"])
        r = _parse_int(epath, line, "receiver", rec["receiver"])
        for name, v in (("sender", s), ("receiver", r)):
            if not 0 <= v < n:
                raise ValueError(f"{epath}, line {line}: {name} {v} is not a node id 0..{n - 1}")
        src.append(s)
        dst.append(r)
        if "weight" in rec:
            try:
                w = float(rec["weight"])
            except ValueError:
                raise ValueError(
                    f"{epath}, line {line}: weight={rec['weight']!r} is not a number"
                ) from None
            if not math.isfinite(w) or w < 0:
                raise ValueError(f"{epath}, line {line}: weight {w} must be finite and >= 0")
            wts.append(w)
        if "likes" in rec:
            k = _parse_int(epath, line, "likes", rec["likes"])
            if k < 0:
                raise ValueError(f"{epath}, line {line}: likes {k} must be >= 0")
            lks.append(k)
    ei = torch.tensor([src, dst], dtype=torch.long).reshape(2, -1)
    perm_key = ei[1] * n + ei[0]
    order = torch.argsort(perm_key, stable=True)
    w_t = torch.tensor(wts, dtype=torch.float64) if "weight" in eh else None
    try:
        graph = Graph(n, ei, w_t, attrs, str(meta.get("name", "bluesky-crawl")),
                      bool(meta.get("directed", True)))
    except ValueError as exc:
        raise ValueError(f"{epath}: {exc}") from exc
    likes_t = torch.tensor(lks, dtype=torch.int64)[order] if "likes" in eh else None
    for key, val, table in (("num_nodes", graph.num_nodes, npath),
                            ("num_edges", graph.num_edges, epath)):
        if key in meta and int(meta[key]) != val:
            raise ValueError(
                f"{mpath}: {key}={meta[key]} but {table.name} holds {val}; the folder is "
                "incomplete or was edited by hand: write it again"
            )
    return BlueskyCrawl(graph, likes_t, meta)
