"""Loaders for plain network files (edge lists, CSV edge tables, GraphML) into :class:`Graph`.

Direction convention of every loader here: a file's edge ``u v`` (networkx's ``u -> v``)
becomes Graph sender ``u``, receiver ``v``, meaning "``v`` observes / attends to ``u``".
Pass ``reverse=True`` when a file's rows mean the opposite (for example "``u`` follows
``v``", where ``u`` observes ``v``).

Node ids may be arbitrary strings. Without ``num_nodes`` they are renumbered ``0..N-1``:
in ascending numeric order when every id is an integer, otherwise in order of first
appearance; the original ids are kept in ``node_attrs["label"]``. With ``num_nodes`` every id
must be an integer in ``0..num_nodes-1`` and is used as it is (isolated nodes allowed).

Bad input never gives a silent partial graph: a missing file raises ``FileNotFoundError``;
a malformed line, an id out of range, a NaN / negative / infinite weight, a duplicate edge
(unless ``merge`` is given) or a file without edges raises ``ValueError`` naming the file
and line. Files are opened with :mod:`.reading`, so a folder, a binary or non-UTF-8 file, or
a truncated ``.gz`` also raises ``ValueError`` naming the file and the fix.
"""

from __future__ import annotations

import ast
import csv
import math
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import torch

from ...common.reading import UnreadableFileError, existing_file, file_errors, open_text
from ..graph import Graph

__all__ = [
    "load_edgelist",
    "load_csv_edges",
    "load_graphml",
    "human_attention_weights",
]

_INT_RE = re.compile(r"^[+-]?\d+$")


# --------------------------------------------------------------------------- values
def _parse_weight(token: str, path: Path, line: int) -> float:
    """Parse one weight token, rejecting NaN, infinities and negatives with file and line."""
    tok = token.strip()
    try:
        w = float(tok)
    except ValueError:
        raise ValueError(
            f"{path}, line {line}: weight {tok!r} is not a number; fix or remove the line"
        ) from None
    _check_weight(w, path, line)
    return w


def _check_weight(w: float, path: Path, line: int | str) -> None:
    where = f"{path}, line {line}" if isinstance(line, int) else f"{path}, {line}"
    if math.isnan(w):
        raise ValueError(f"{where}: weight is NaN; give a finite weight >= 0 or drop the edge")
    if math.isinf(w) or w < 0:
        raise ValueError(f"{where}: weight {w!r} is negative or infinite; weights must be >= 0")


def _parse_dict_weight(text: str, path: Path, line: int, key: str = "weight") -> float | None:
    """Read ``{'weight': w}`` (networkx edge-list data) safely with ``ast.literal_eval``."""
    try:
        data = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise ValueError(
            f"{path}, line {line}: cannot read the edge data {text!r} (expected a literal "
            "dict such as {'weight': 0.5})"
        ) from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}, line {line}: edge data {text!r} is not a dict")
    if key not in data:
        return None
    val = data[key]
    if isinstance(val, bool) or not isinstance(val, (int, float)):
        raise ValueError(f"{path}, line {line}: {key!r} = {val!r} is not a number")
    w = float(val)
    _check_weight(w, path, line)
    return w


# --------------------------------------------------------------------------- id mapping
def _index_ids(
    src: Sequence[str],
    dst: Sequence[str],
    lines: Sequence[int],
    path: Path,
    num_nodes: int | None,
) -> tuple[np.ndarray, np.ndarray, int, list[Any] | None]:
    """Map id tokens to ``0..N-1``; returns (src_idx, dst_idx, N, labels or None)."""
    if num_nodes is not None:
        if isinstance(num_nodes, bool) or not isinstance(num_nodes, (int, np.integer)):
            raise TypeError(f"num_nodes must be an int, got {type(num_nodes).__name__}")
        if num_nodes < 1:
            raise ValueError(f"num_nodes={num_nodes}; a graph needs at least one node")
        out = []
        for col in (src, dst):
            arr = np.empty(len(col), dtype=np.int64)
            for k, tok in enumerate(col):
                if not _INT_RE.match(tok):
                    raise ValueError(
                        f"{path}, line {lines[k]}: node id {tok!r} is not an integer; with "
                        "num_nodes given, ids must be integers 0..num_nodes-1 (leave num_nodes "
                        "out to map arbitrary labels)"
                    )
                v = int(tok)
                if not 0 <= v < num_nodes:
                    raise ValueError(
                        f"{path}, line {lines[k]}: node id {v} is out of range "
                        f"0..{num_nodes - 1}; fix the id or raise num_nodes"
                    )
                arr[k] = v
            out.append(arr)
        return out[0], out[1], int(num_nodes), None
    all_tokens = list(src) + list(dst)
    if all(_INT_RE.match(t) for t in all_tokens):
        uniq = sorted({int(t) for t in all_tokens})
        pos = {v: k for k, v in enumerate(uniq)}
        s = np.fromiter((pos[int(t)] for t in src), dtype=np.int64, count=len(src))
        d = np.fromiter((pos[int(t)] for t in dst), dtype=np.int64, count=len(dst))
        return s, d, len(uniq), list(uniq)
    order: dict[str, int] = {}
    s = np.empty(len(src), dtype=np.int64)
    d = np.empty(len(dst), dtype=np.int64)
    for k in range(len(src)):
        s[k] = order.setdefault(src[k], len(order))
        d[k] = order.setdefault(dst[k], len(order))
    return s, d, len(order), list(order)


def _build(
    path: Path,
    src: list[str],
    dst: list[str],
    weights: list[float] | None,
    lines: list[int],
    *,
    num_nodes: int | None,
    directed: bool,
    reverse: bool,
    merge: str | None,
    name: str | None,
    extra_attrs: dict[str, list[Any]] | None = None,
) -> Graph:
    if not src:
        raise ValueError(f"{path}: no edges found; the file is empty or holds only comments")
    s, d, n, labels = _index_ids(src, dst, lines, path, num_nodes)
    if reverse:
        s, d = d, s
    # Duplicates: report the two lines (pairs are unordered when undirected).
    a, b = (np.minimum(s, d), np.maximum(s, d)) if not directed else (s, d)
    key = a * n + b
    if merge is None:
        order = np.argsort(key, kind="stable")
        sk = key[order]
        dup = np.nonzero(sk[1:] == sk[:-1])[0]
        if dup.size:
            k1, k2 = order[dup[0]], order[dup[0] + 1]
            kind = "edge" if directed else "pair (in either direction)"
            raise ValueError(
                f"{path}, lines {lines[k1]} and {lines[k2]}: duplicate {kind} "
                f"{src[k1]!r} - {dst[k1]!r}; remove one, or pass merge='sum', 'max' or 'first'"
            )
    elif merge not in ("sum", "max", "first"):
        raise ValueError(f"merge={merge!r}; use None, 'sum', 'max' or 'first'")
    attrs: dict[str, list[Any]] = {}
    if labels is not None:
        attrs["label"] = labels
    if extra_attrs:
        attrs.update(extra_attrs)
    edges = np.stack([a, b], axis=1) if not directed else np.stack([s, d], axis=1)
    if not directed and merge is not None and weights is not None:
        # merge over unordered pairs first, then mirror
        g = Graph.from_edges(n, edges, weights, merge=merge, name=name or path.stem)
        ei = g.edge_index.T.numpy()
        w = g.edge_weight.numpy()
        return Graph.from_edges(
            n, ei, w, directed=False, name=name or path.stem, node_attrs=attrs
        )
    return Graph.from_edges(
        n,
        edges,
        weights,
        merge=merge,
        directed=directed,
        name=name or path.stem,
        node_attrs=attrs,
    )


# --------------------------------------------------------------------------- edge lists
def _edgelist_rows(
    path: Path, delimiter: str | None, comments: str
) -> Iterator[tuple[int, str, str, str | None]]:
    """Yield ``(line, u, v, rest)`` from a whitespace- or ``delimiter``-separated edge list."""
    with open_text(path) as fh:
        for lineno, raw in enumerate(fh, start=1):
            text = raw.strip()
            if comments and comments in text:
                text = text.split(comments, 1)[0].strip()
            if not text:
                continue
            if delimiter is None:
                parts = text.split(None, 2)
            else:
                parts = [p.strip() for p in text.split(delimiter, 2)]
            if len(parts) < 2 or not parts[0] or not parts[1]:
                raise ValueError(
                    f"{path}, line {lineno}: malformed edge line {raw.rstrip()!r}; expected "
                    "'u v' or 'u v weight'"
                )
            rest = parts[2].strip() if len(parts) > 2 and parts[2].strip() else None
            yield lineno, parts[0], parts[1], rest


def load_edgelist(
    path: str | os.PathLike,
    *,
    directed: bool = True,
    weighted: bool | None = None,
    delimiter: str | None = None,
    comments: str = "#",
    num_nodes: int | None = None,
    reverse: bool = False,
    merge: str | None = None,
    name: str | None = None,
) -> Graph:
    """Read an edge-list text file (optionally gzipped) into a :class:`Graph`.

    Each non-comment line is ``u v``, ``u v w`` or ``u v {'weight': w}`` (the networkx
    edge-list format; the dict is read with ``ast.literal_eval``, never ``eval``).

    Parameters
    ----------
    path : str or PathLike
        The file (``.gz`` is decompressed on the fly).
    directed : bool
        If False each line is an undirected pair and both directions are stored.
    weighted : bool, optional
        ``None`` (default) reads weights when the first data line has a third field; ``True``
        requires a weight on every line; ``False`` ignores any third field.
    delimiter : str, optional
        Field separator; ``None`` splits on whitespace.
    comments : str
        Text from this marker to the end of a line is ignored.
    num_nodes : int, optional
        Use integer ids as they are, with this many nodes (ids must lie in range).
    reverse : bool
        Swap the two columns (use when a row ``u v`` means "``u`` observes ``v``").
    merge : {None, "sum", "max", "first"}
        How to merge repeated edges; ``None`` raises on a repeat.
    name : str, optional
        Graph name; defaults to the file's stem.

    Returns
    -------
    Graph
        Edge ``u v`` becomes sender ``u``, receiver ``v`` (``v`` observes ``u``); weights as
        given in the file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from socialmarl.networks.loaders.files import load_edgelist
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "g.txt"
    >>> _ = p.write_text("alice bob 0.5\\nbob carol {'weight': 2}\\n")
    >>> g = load_edgelist(p)
    >>> g.num_nodes, g.node_attrs["label"], g.edge_weight.tolist()
    (3, ['alice', 'bob', 'carol'], [0.5, 2.0])
    """
    p = existing_file(path, "edge-list file")
    src: list[str] = []
    dst: list[str] = []
    ws: list[float] = []
    lines: list[int] = []
    has_w: bool | None = None if weighted is None else bool(weighted)
    for lineno, u, v, rest in _edgelist_rows(p, delimiter, comments):
        if has_w is None:
            has_w = rest is not None
        w: float | None = None
        if has_w:
            if rest is None:
                raise ValueError(
                    f"{p}, line {lineno}: no weight on this line but earlier lines are "
                    "weighted; give every edge a weight (or pass weighted=False)"
                )
            if rest.startswith("{"):
                w = _parse_dict_weight(rest, p, lineno)
                if w is None:
                    raise ValueError(
                        f"{p}, line {lineno}: edge data {rest!r} has no 'weight' key"
                    )
            else:
                toks = rest.split() if delimiter is None else rest.split(delimiter)
                if len(toks) != 1:
                    raise ValueError(
                        f"{p}, line {lineno}: malformed edge line: extra fields {rest!r} after "
                        "the weight"
                    )
                w = _parse_weight(toks[0], p, lineno)
        elif weighted is None and rest is not None:
            raise ValueError(
                f"{p}, line {lineno}: this line has a weight but earlier lines have none; "
                "give every edge a weight (or pass weighted=False to ignore them)"
            )
        src.append(u)
        dst.append(v)
        lines.append(lineno)
        if w is not None:
            ws.append(w)
    return _build(
        p, src, dst, ws if has_w else None, lines, num_nodes=num_nodes, directed=directed,
        reverse=reverse, merge=merge, name=name,
    )


def load_csv_edges(
    path: str | os.PathLike,
    source: str = "source",
    target: str = "target",
    weight: str | None = None,
    *,
    directed: bool = True,
    delimiter: str = ",",
    num_nodes: int | None = None,
    reverse: bool = False,
    merge: str | None = None,
    name: str | None = None,
) -> Graph:
    """Read a CSV edge table with a header row into a :class:`Graph`.

    Parameters
    ----------
    path : str or PathLike
        The CSV file (``.gz`` is decompressed on the fly).
    source, target : str
        Column names of the two node ids; row ``(source, target)`` becomes Graph sender
        ``source``, receiver ``target`` ("target observes source").
    weight : str, optional
        Column name of a non-negative weight; ``None`` gives an unweighted graph.
    directed : bool
        If False each row is an undirected pair.
    delimiter : str
        Field separator.
    num_nodes : int, optional
        Use integer ids as they are, with this many nodes.
    reverse : bool
        Swap source and target.
    merge : {None, "sum", "max", "first"}
        How to merge repeated edges; ``None`` raises on a repeat.
    name : str, optional
        Graph name; defaults to the file's stem.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from socialmarl.networks.loaders.files import load_csv_edges
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "e.csv"
    >>> _ = p.write_text("from,to,w\\n3,1,0.2\\n1,2,0.8\\n")
    >>> g = load_csv_edges(p, "from", "to", "w")
    >>> g.node_attrs["label"], g.edge_index.tolist()
    ([1, 2, 3], [[2, 0], [0, 1]])
    """
    p = existing_file(path, "CSV edge file")
    src: list[str] = []
    dst: list[str] = []
    ws: list[float] = []
    lines: list[int] = []
    with open_text(p) as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        header = next(reader, None)
        if header is None:
            raise ValueError(f"{p}: the file is empty; expected a header row and edge rows")
        header = [h.strip() for h in header]
        cols = [source, target] + ([weight] if weight is not None else [])
        missing = [c for c in cols if c not in header]
        if missing:
            raise ValueError(
                f"{p}, line 1: column(s) {missing} not in the header {header}; pass the right "
                "source=, target= and weight= names"
            )
        i_s, i_t = header.index(source), header.index(target)
        i_w = header.index(weight) if weight is not None else None
        for row in reader:
            lineno = reader.line_num
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) != len(header):
                raise ValueError(
                    f"{p}, line {lineno}: malformed row with {len(row)} fields, the header has "
                    f"{len(header)}: {row!r}"
                )
            u, v = row[i_s].strip(), row[i_t].strip()
            if not u or not v:
                raise ValueError(f"{p}, line {lineno}: empty node id in {row!r}")
            src.append(u)
            dst.append(v)
            lines.append(lineno)
            if i_w is not None:
                ws.append(_parse_weight(row[i_w], p, lineno))
    return _build(
        p, src, dst, ws if weight is not None else None, lines, num_nodes=num_nodes,
        directed=directed, reverse=reverse, merge=merge, name=name,
    )


def load_graphml(
    path: str | os.PathLike, *, weight: str | None = "weight", name: str | None = None
) -> Graph:
    """Read a GraphML file into a :class:`Graph` (via ``networkx.read_graphml``).

    A GraphML edge ``u -> v`` becomes sender ``u``, receiver ``v``; undirected GraphML graphs
    give both directions. Node ids are renumbered in file order, the original ids kept in
    ``node_attrs["label"]``; node attributes present on every node are copied.

    Parameters
    ----------
    path : str or PathLike
        The GraphML file.
    weight : str or None
        Edge attribute read as the weight (absent on all edges: unweighted).
    name : str, optional
        Graph name; defaults to the file's stem.

    Examples
    --------
    >>> import tempfile, pathlib, networkx as nx
    >>> from socialmarl.networks.loaders.files import load_graphml
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "g.graphml"
    >>> nx.write_graphml(nx.DiGraph([("a", "b")]), p)
    >>> g = load_graphml(p)
    >>> g.node_attrs["label"], g.edge_index.tolist()
    (['a', 'b'], [[0], [1]])
    """
    p = existing_file(path, "GraphML file")
    try:
        with file_errors(p):  # not UTF-8, truncated .gz, ...
            g = nx.read_graphml(p)
    except UnreadableFileError:
        raise
    except Exception as exc:  # ElementTree.ParseError, NetworkXError, KeyError, ...
        raise ValueError(
            f"{p}: not a readable GraphML file ({exc}); check that it is a complete GraphML "
            "(XML) file, for example one written by networkx.write_graphml"
        ) from exc
    if g.number_of_nodes() == 0:
        raise ValueError(f"{p}: the GraphML graph has no nodes")
    if g.number_of_edges() == 0:
        raise ValueError(f"{p}: the GraphML graph has no edges")
    if weight is not None:
        for u, v, d in g.edges(data=True):
            if weight in d:
                try:
                    w = float(d[weight])
                except (TypeError, ValueError):
                    raise ValueError(
                        f"{p}: edge {u!r} -> {v!r} has {weight}={d[weight]!r}, not a number"
                    ) from None
                _check_weight(w, p, f"edge {u!r} -> {v!r}")
        present = [weight in d for _, _, d in g.edges(data=True)]
        if any(present) and not all(present):
            k = present.index(False)
            u, v = list(g.edges())[k]
            raise ValueError(
                f"{p}: edge {u!r} -> {v!r} has no {weight!r} attribute but other edges do; "
                "give every edge a weight (or pass weight=None)"
            )
    return Graph.from_networkx(g, weight=weight, name=name or p.stem)


# --------------------------------------------------------------------------- attention
def human_attention_weights(graph: Graph, *, dense: bool = False) -> torch.Tensor:
    """Normalise a graph's edge weights over each receiver's in-edges (its attention row).

    For edge ``(j, i)`` ("``i`` attends to ``j``") the result is
    ``w_ji / sum_k w_ki`` over ``i``'s in-neighbours ``k``, so each attending agent's row sums
    to 1 (rows whose weights are all zero stay zero). This is the orientation of a policy's
    attention matrix: row = attending agent.

    Parameters
    ----------
    graph : Graph
        A weighted graph.
    dense : bool
        Return a dense ``(N, N)`` matrix ``A[i, j]`` instead of per-edge values.

    Returns
    -------
    Tensor
        Shape ``(E,)`` aligned with ``graph.edge_index`` (float64), or ``(N, N)``.

    Examples
    --------
    >>> import socialmarl as sm
    >>> g = sm.Graph(3, [[1, 2], [0, 0]], [1.0, 3.0])
    >>> human_attention_weights(g).tolist()
    [0.25, 0.75]
    >>> human_attention_weights(g, dense=True)[0].tolist()
    [0.0, 0.25, 0.75]
    """
    if graph.edge_weight is None:
        raise ValueError(
            f"graph {graph.name!r} has no edge weights; human attention needs weighted edges"
        )
    w = graph.edge_weight.double()
    tot = torch.zeros(graph.num_nodes, dtype=torch.float64, device=w.device)
    tot.index_add_(0, graph.receivers, w)
    denom = tot[graph.receivers]
    a = torch.where(denom > 0, w / denom.clamp_min(1e-300), torch.zeros_like(w))
    if not dense:
        return a
    return graph.with_weights(a).adjacency(weighted=True)

