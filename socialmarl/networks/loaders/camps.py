"""Hunter-gatherer camp networks: Hadza proximity and BaYaka daily co-foraging.

Both give undirected graphs whose weights are the stationary probabilities ``q_ij`` of the
two-state Markov interaction process of :mod:`socialmarl.networks.dynamic`; feed them to
``ConsensusGame(graph, q=camp_interaction_q(graph), interaction_rate=r)``. The switching
rate ``r`` is a free parameter for the Hadza data; for the BaYaka daily series it can be
estimated, with ``q``, by :func:`estimate_markov_interaction`.

Sources
-------
* Hadza: proximity network of the "camp2 out-of-camp" recording used by the reference
  (Dryad doi:10.5061/dryad.nk98sf7v6; its largest component has 37 people); the weight of a
  pair is the fraction of the day the two spent within 2 m of one another.
* BaYaka: Jang, Redhead, Ross et al., "Women's subsistence networks scaffold cultural
  transmission among BaYaka foragers in the Congo Basin", Science Advances (2024),
  doi:10.1126/sciadv.adj2543; data Dryad doi:10.5061/dryad.70rxwdc4t (CC0): 60 people,
  230 days of focal follows of women's foraging groups.

Errors: a missing file raises ``FileNotFoundError``; any bad file (a folder, binary or
non-UTF-8 text, a truncated ``.gz``, a missing column, a value that is not a number) raises
``ValueError`` naming the file, and the line where it is known, and saying what to fix.
Files are opened through :mod:`.reading`.
"""

from __future__ import annotations

import csv
import math
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from scipy.sparse.csgraph import connected_components

from ...common.reading import existing_file, file_errors, open_text
from ..graph import Graph
from .files import _index_ids

__all__ = [
    "load_hadza_proximity",
    "camp_interaction_q",
    "load_bayaka",
    "bayaka_pair_covariates",
    "DailyInteractions",
    "load_bayaka_daily",
    "bayaka_daily_snapshots",
    "MarkovFit",
    "estimate_markov_interaction",
]

# ----------------------------------------------------------------------------- Hadza
_ID1 = {
    "id1", "id_1", "i", "source", "src", "from", "from_id", "node1", "node_1", "ego", "focal",
    "person1", "person_1", "individual1", "individual_1", "ind1", "actor1", "sender", "a",
}
_ID2 = {
    "id2", "id_2", "j", "target", "dst", "to", "to_id", "node2", "node_2", "alter", "partner",
    "person2", "person_2", "individual2", "individual_2", "ind2", "actor2", "receiver", "b",
}
_QCOL = {
    "q", "weight", "w", "fraction", "frac", "proportion", "prop", "proximity", "prox",
    "fraction_of_day", "day_fraction", "time_fraction", "fraction_time", "prop_time",
    "proportion_of_day", "value",
}
_MISSING = {"", "na", "nan", "null", "none"}


def _norm(h: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", h.strip().lower()).strip("_")


def _sniff_rows(path: Path) -> list[tuple[int, list[str]]]:
    """Rows with line numbers; delimiter: comma, tab or semicolon if present, else blanks."""
    with open_text(path) as fh:
        raw = [(k, line) for k, line in enumerate(fh, start=1) if line.strip()]
    if not raw:
        raise ValueError(f"{path}: the file is empty")
    first = raw[0][1]
    delim = next((d for d in (",", "\t", ";") if d in first), None)
    if delim is None:
        return [(k, line.split()) for k, line in raw]
    rows = csv.reader([line for _, line in raw], delimiter=delim)
    with file_errors(path):  # csv.Error, e.g. a field over the size limit
        return [(k, [c.strip() for c in row]) for (k, _), row in zip(raw, rows)]


def _q_value(tok: str, path: Path, line: int, what: str) -> float:
    try:
        q = float(tok)
    except ValueError:
        raise ValueError(f"{path}, line {line}: {what} {tok!r} is not a number") from None
    if math.isnan(q):
        raise ValueError(f"{path}, line {line}: {what} is NaN; give a fraction in [0, 1]")
    if not 0.0 <= q <= 1.0:
        raise ValueError(
            f"{path}, line {line}: {what} {q!r} is not a fraction of the day in [0, 1]"
        )
    return q


def _pick(header: list[str], aliases: set[str], role: str, path: Path) -> int | None:
    hits = [k for k, h in enumerate(header) if h in aliases]
    if len(hits) > 1:
        raise ValueError(
            f"{path}, line 1: several columns could be the {role}: "
            f"{[header[k] for k in hits]}; keep one or rename the others"
        )
    return hits[0] if hits else None


def _symmetrize_pairs(
    a: np.ndarray, b: np.ndarray, q: np.ndarray, lines: list[Any], path: Path, how: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Collapse ordered observations to unordered pairs (lo, hi) with one q each."""
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    n = int(max(hi.max(), 0)) + 1
    key = lo * n + hi
    order = np.argsort(key, kind="stable")
    key_s, q_s = key[order], q[order]
    uniq, start = np.unique(key_s, return_index=True)
    out_q = np.empty(len(uniq))
    for u in range(len(uniq)):  # loader: loops over file entries are fine
        s = start[u]
        e = start[u + 1] if u + 1 < len(uniq) else len(key_s)
        vals = q_s[s:e]
        if e - s > 2 or (e - s == 2 and a[order[s]] == a[order[s + 1]]):
            raise ValueError(
                f"{path}: pair listed more than once in the same direction "
                f"({lines[order[s]]} and {lines[order[s + 1]]}); keep one row per pair"
            )
        if e - s == 2 and abs(vals[0] - vals[1]) > 1e-9:
            if how == "error":
                raise ValueError(
                    f"{path}: the two directions of a pair disagree ({vals[0]} at "
                    f"{lines[order[s]]}, {vals[1]} at {lines[order[s + 1]]}); proximity is "
                    "mutual: fix the data or pass symmetrize='mean' or 'max'"
                )
            out_q[u] = vals.mean() if how == "mean" else vals.max()
        else:
            out_q[u] = vals[0]
    return uniq // n, uniq % n, out_q


def load_hadza_proximity(
    path: str | os.PathLike,
    *,
    largest_component: bool = False,
    symmetrize: str = "error",
    name: str = "hadza_proximity",
) -> Graph:
    """Load a Hadza camp proximity network (Dryad doi:10.5061/dryad.nk98sf7v6).

    The weight ``q_ij`` of a pair is the fraction of the day ``i`` and ``j`` spent within
    2 m of one another, read as the stationary probability that the pair interacts; the
    graph is undirected (both directions carry the same ``q``). The reference uses the
    largest component (37 people) of the "camp2 out-of-camp" network.

    Accepted layouts (a caveat: the deposit's exact files were not available when this
    loader was written, so it accepts the two usual plain layouts rather than one fixed
    schema):

    * **edge list**: a header row plus one row per pair; the two id columns and the
      fraction column are found by name, case-insensitively, from small alias sets
      (ids: ``id1/id2``, ``i/j``, ``source/target``, ``from/to``, ``ego/alter``,
      ``node1/node2``, ``person1/person2``, ...; fraction: ``q``, ``weight``, ``fraction``,
      ``proportion``, ``proximity``, ``fraction_of_day``, ``value``, ...). A pair may be
      listed once or in both directions. People who appear in no row cannot be known.
    * **square matrix**: ``N`` rows of ``N`` fractions, with or without a header row of ids
      and a leading id column (row ids must equal column ids, in order). The diagonal is
      ignored (it may be ``NA``). Isolated people are kept as nodes.

    Fields may be separated by commas, tabs, semicolons or blanks; ``.gz`` files are read
    directly. Zero fractions are not edges.

    Parameters
    ----------
    path : str or PathLike
        The CSV file.
    largest_component : bool
        Keep only the largest connected component (as the reference does).
    symmetrize : {"error", "mean", "max"}
        What to do when the two directions of a pair disagree.
    name : str
        Graph name.

    Returns
    -------
    Graph
        Undirected, ``edge_weight = q`` in [0, 1]; ``node_attrs["label"]`` holds the ids.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "prox.csv"
    >>> _ = p.write_text("ID1,ID2,Fraction\\nh1,h2,0.25\\nh2,h3,0.5\\n")
    >>> g = load_hadza_proximity(p)
    >>> g.num_nodes, g.num_edges, g.node_attrs["label"]
    (3, 4, ['h1', 'h2', 'h3'])
    >>> camp_interaction_q(g).tolist()
    [0.25, 0.25, 0.5, 0.5]
    """
    if symmetrize not in ("error", "mean", "max"):
        raise ValueError(f"symmetrize={symmetrize!r}; use 'error', 'mean' or 'max'")
    p = existing_file(path, "Hadza proximity file")
    rows = _sniff_rows(p)
    header = [_norm(h) for h in rows[0][1]]
    i1, i2, iq = (_pick(header, al, role, p) for al, role in (
        (_ID1, "first id"), (_ID2, "second id"), (_QCOL, "fraction")))
    if i1 is not None and i2 is not None and iq is not None:
        src, dst, qs, lines, line_nums = [], [], [], [], []
        for line, row in rows[1:]:
            if len(row) != len(header):
                raise ValueError(
                    f"{p}, line {line}: malformed row with {len(row)} fields, the header has "
                    f"{len(header)}"
                )
            u, v = row[i1], row[i2]
            if not u or not v:
                raise ValueError(f"{p}, line {line}: empty id")
            if u == v:
                continue  # self proximity carries no information
            src.append(u)
            dst.append(v)
            qs.append(_q_value(row[iq], p, line, "fraction"))
            lines.append(f"line {line}")
            line_nums.append(line)
        if not src:
            raise ValueError(f"{p}: no pairs found below the header")
        a, b, n, labels = _index_ids(src, dst, line_nums, p, None)
        lo, hi, q = _symmetrize_pairs(a, b, np.asarray(qs), lines, p, symmetrize)
    else:
        try:
            lo, hi, q, n, labels = _read_matrix(p, rows, symmetrize)
        except ValueError as exc:
            # An edge-list header (two id columns named like "id1", "source": not a blank
            # corner cell nor one-letter names that could be people) lacking the fraction.
            named = (
                i1 is not None and i2 is not None and header[0] != ""
                and min(len(header[i1]), len(header[i2])) > 1
            )
            if not named:
                raise
            raise ValueError(
                f"{p}, line {rows[0][0]}: the header {rows[0][1]} names two id columns but no "
                f"fraction column; name it one of {', '.join(sorted(_QCOL))}"
            ) from exc
    keep = q > 0
    if not keep.any():
        raise ValueError(f"{p}: every fraction is zero; the network has no edges")
    lo, hi, q = lo[keep], hi[keep], q[keep]
    if largest_component:
        adj = sp.coo_matrix((np.ones(len(lo)), (lo, hi)), shape=(n, n))
        _, comp = connected_components(adj, directed=False)
        big = np.argmax(np.bincount(comp))
        nodes = np.nonzero(comp == big)[0]
        remap = -np.ones(n, dtype=np.int64)
        remap[nodes] = np.arange(len(nodes))
        sel = comp[lo] == big
        lo, hi, q = remap[lo[sel]], remap[hi[sel]], q[sel]
        labels = [labels[k] for k in nodes]
        n = len(nodes)
    return Graph.from_edges(
        n, np.stack([lo, hi], axis=1), q, directed=False, name=name,
        node_attrs={"label": list(labels)},
    )


def _read_matrix(
    p: Path, rows: list[tuple[int, list[str]]], how: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, list[Any]]:
    def numeric(tok: str) -> bool:
        if tok.strip().lower() in _MISSING:
            return True
        try:
            float(tok)
            return True
        except ValueError:
            return False

    first = rows[0][1]
    has_header = not all(numeric(t) for t in first[1:]) or (first and first[0] == "")
    body = rows[1:] if has_header else rows
    n = len(body)
    if n == 0:
        raise ValueError(f"{p}: no matrix rows below the header")
    row_labels = None
    widths = {len(r) for _, r in body}
    if widths == {n + 1}:
        row_labels = [r[0] for _, r in body]
        vals = [(line, r[1:]) for line, r in body]
    elif widths == {n}:
        vals = body
    else:
        width0 = len(body[0][1])
        line, r = next((ln, r) for ln, r in body if len(r) != width0 or width0 not in (n, n + 1))
        raise ValueError(
            f"{p}, line {line}: a square matrix needs {n} values per row (plus an optional id "
            f"column) but this row has {len(r)}; if this is an edge list, name its columns "
            "(e.g. id1,id2,fraction)"
        )
    if has_header:
        col_labels = first[1:] if len(first) == n + 1 else first
        if len(col_labels) != n:
            raise ValueError(
                f"{p}, line {rows[0][0]}: the header has {len(first)} cells for a {n}x{n} "
                "matrix"
            )
        if row_labels is not None and list(row_labels) != list(col_labels):
            raise ValueError(
                f"{p}: row ids {row_labels[:5]}... differ from column ids {col_labels[:5]}...; "
                "rows and columns must list the same people in the same order"
            )
        labels: list[Any] = list(col_labels)
    else:
        labels = row_labels if row_labels is not None else list(range(n))
    mat = np.zeros((n, n))
    for r, (line, cells) in enumerate(vals):
        for c, tok in enumerate(cells):
            if r == c:
                continue
            if tok.strip().lower() in _MISSING:
                raise ValueError(
                    f"{p}, line {line}, column {c + 1}: missing value off the diagonal; give "
                    "0 for pairs never within 2 m"
                )
            mat[r, c] = _q_value(tok, p, line, f"entry in column {c + 1}")
    iu, ju = np.triu_indices(n, k=1)
    upper, lower = mat[iu, ju], mat[ju, iu]
    diff = np.abs(upper - lower) > 1e-9
    if diff.any():
        if how == "error":
            k = int(np.nonzero(diff)[0][0])
            raise ValueError(
                f"{p}: the matrix is not symmetric: entry ({labels[iu[k]]}, {labels[ju[k]]}) "
                f"is {upper[k]} but ({labels[ju[k]]}, {labels[iu[k]]}) is {lower[k]}; proximity "
                "is mutual: fix the data or pass symmetrize='mean' or 'max'"
            )
        upper = (upper + lower) / 2 if how == "mean" else np.maximum(upper, lower)
    return iu.astype(np.int64), ju.astype(np.int64), upper, n, labels


def camp_interaction_q(graph: Graph) -> torch.Tensor:
    """Per-edge stationary interaction probabilities ``q`` of a camp network.

    Returns the graph's weights (aligned with ``graph.edge_index``) after checking that they
    are probabilities and that both directions of every pair agree, ready for
    ``ConsensusGame(graph, q=camp_interaction_q(graph), interaction_rate=r)``.

    Parameters
    ----------
    graph : Graph
        A weighted camp graph (e.g. from :func:`load_hadza_proximity` or
        :func:`load_bayaka`).

    Returns
    -------
    Tensor
        ``(E,)`` float64 in [0, 1].

    Examples
    --------
    >>> import socialmarl as sm
    >>> g = sm.Graph.from_edges(2, [(0, 1)], [0.4], directed=False)
    >>> camp_interaction_q(g).tolist()
    [0.4, 0.4]
    """
    if graph.edge_weight is None:
        raise ValueError(
            f"graph {graph.name!r} has no edge weights; a camp network's weights are the "
            "interaction probabilities q"
        )
    q = graph.edge_weight.double().clone()
    bad = (q < 0) | (q > 1)
    if bad.any():
        k = int(torch.nonzero(bad)[0])
        raise ValueError(
            f"weight {float(q[k])} on edge {tuple(graph.edge_index[:, k].tolist())} is not a "
            "probability in [0, 1]"
        )
    rev = graph.reverse_edge()
    if (rev < 0).any():
        k = int(torch.nonzero(rev < 0)[0])
        raise ValueError(
            f"edge {tuple(graph.edge_index[:, k].tolist())} has no reverse; an interaction is "
            "mutual, so a camp network must be undirected"
        )
    if ((q - q[rev]).abs() > 1e-9).any():
        k = int(torch.nonzero((q - q[rev]).abs() > 1e-9)[0])
        raise ValueError(
            f"q differs between the two directions of edge "
            f"{tuple(graph.edge_index[:, k].tolist())}"
        )
    return q


# ----------------------------------------------------------------------------- BaYaka
_BAYAKA_FILES = {
    "nodes": ("bayaka_nodes.csv", ["id"]),
    "static": ("bayaka_dyads_static.csv", ["id1", "id2", "days_exposed", "days_together"]),
    "daily": ("bayaka_daily_dyads.csv", ["day", "id1", "id2", "together"]),
}


def _bayaka_csv(folder: str | os.PathLike, which: str) -> tuple[Path, pd.DataFrame]:
    fname, cols = _BAYAKA_FILES[which]
    base = Path(folder).expanduser()
    if base.is_file():
        base = base.parent
    if not base.exists():
        raise FileNotFoundError(f"BaYaka data folder {str(base)!r} does not exist")
    p = existing_file(base / fname, f"BaYaka {which} file")
    with file_errors(p):  # not UTF-8, binary, empty, malformed rows
        df = pd.read_csv(p, dtype={c: str for c in ("id", "id1", "id2")})
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(
            f"{p}, line 1: column(s) {missing} missing (found {list(df.columns)}); it needs "
            f"columns {', '.join(cols)}"
        )
    if df.empty:
        raise ValueError(f"{p}: no data rows")
    for c in cols:
        if df[c].isna().any():
            k = int(np.nonzero(df[c].isna().to_numpy())[0][0])
            raise ValueError(f"{p}, line {k + 2}: column {c!r} is empty")
    return p, df


def _int_column(df: pd.DataFrame, col: str, p: Path) -> np.ndarray:
    vals = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=np.float64)
    bad = np.isnan(vals) | (vals < 0) | (vals != np.round(vals))
    if bad.any():
        k = int(np.nonzero(bad)[0][0])
        raise ValueError(
            f"{p}, line {k + 2}: {col} = {df[col].iloc[k]!r} is not a count (an integer >= 0)"
        )
    return vals.astype(np.int64)


def _bayaka_static(path: str | os.PathLike) -> dict[str, Any]:
    pn, nodes = _bayaka_csv(path, "nodes")
    ps, dyads = _bayaka_csv(path, "static")
    ids = nodes["id"].tolist()
    if len(set(ids)) != len(ids):
        dup = pd.Series(ids)[pd.Series(ids).duplicated()].iloc[0]
        raise ValueError(f"{pn}: id {dup!r} is listed twice")
    pos = {u: k for k, u in enumerate(ids)}
    for c in ("id1", "id2"):
        unknown = ~dyads[c].isin(pos)
        if unknown.any():
            k = int(np.nonzero(unknown.to_numpy())[0][0])
            raise ValueError(
                f"{ps}, line {k + 2}: {c} {dyads[c].iloc[k]!r} is not in {pn.name}"
            )
    a = dyads["id1"].map(pos).to_numpy(dtype=np.int64)
    b = dyads["id2"].map(pos).to_numpy(dtype=np.int64)
    if (a == b).any():
        k = int(np.nonzero(a == b)[0][0])
        raise ValueError(f"{ps}, line {k + 2}: a person paired with themselves")
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    key = lo * len(ids) + hi
    dup = pd.Series(key).duplicated().to_numpy()
    if dup.any():
        k = int(np.nonzero(dup)[0][0])
        raise ValueError(f"{ps}, line {k + 2}: pair listed twice")
    exposed = _int_column(dyads, "days_exposed", ps)
    together = _int_column(dyads, "days_together", ps)
    if (together > exposed).any():
        k = int(np.nonzero(together > exposed)[0][0])
        raise ValueError(
            f"{ps}, line {k + 2}: days_together {together[k]} exceeds days_exposed {exposed[k]}"
        )
    if (exposed == 0).any():
        k = int(np.nonzero(exposed == 0)[0][0])
        raise ValueError(f"{ps}, line {k + 2}: days_exposed is 0, so q is undefined")
    attrs: dict[str, list[Any]] = {"label": ids}
    for c in nodes.columns:
        if c != "id":
            attrs[c] = nodes[c].tolist()
    return {"ids": ids, "pos": pos, "lo": lo, "hi": hi, "key": key, "exposed": exposed,
            "together": together, "attrs": attrs, "dyads": dyads, "static_path": ps}


def load_bayaka(
    path: str | os.PathLike, *, include_zero: bool = False, name: str = "bayaka_coforaging"
) -> Graph:
    """Load the BaYaka co-foraging network as a static camp graph (Jang et al. 2024).

    Reads ``bayaka_nodes.csv`` and ``bayaka_dyads_static.csv`` from the folder (the
    Dryad deposit doi:10.5061/dryad.70rxwdc4t, re-exported to CSV). The weight of pair
    ``{i, j}`` is ``q_ij = days_together / days_exposed``: the fraction of the days on which
    both were observable that they foraged together, read as the stationary probability of
    the two-state interaction process. The graph is undirected.

    Parameters
    ----------
    path : str or PathLike
        Folder holding the CSV files.
    include_zero : bool
        Also keep pairs never seen together (weight 0) as edges; by default only pairs with
        ``days_together > 0`` are edges.
    name : str
        Graph name.

    Returns
    -------
    Graph
        60 people on the published data. Node attributes: ``label`` (the ``id``) and every
        other column of ``bayaka_nodes.csv`` (``age_class``, ``sex``, ``days_present``,
        ``total_coforaging_ties``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "bayaka_nodes.csv").write_text("id,sex\\np1,F\\np2,M\\np3,F\\n")
    >>> _ = (d / "bayaka_dyads_static.csv").write_text(
    ...     "id1,id2,days_exposed,days_together\\np1,p2,10,4\\np1,p3,10,0\\np2,p3,5,5\\n")
    >>> g = load_bayaka(d)
    >>> g.edge_index.tolist(), g.edge_weight.tolist()
    ([[1, 0, 2, 1], [0, 1, 1, 2]], [0.4, 0.4, 1.0, 1.0])
    """
    st = _bayaka_static(path)
    keep = np.ones(len(st["lo"]), bool) if include_zero else st["together"] > 0
    if not keep.any():
        raise ValueError(f"{st['static_path']}: no pair was ever seen together")
    q = st["together"][keep] / st["exposed"][keep]
    return Graph.from_edges(
        len(st["ids"]), np.stack([st["lo"][keep], st["hi"][keep]], 1), q, directed=False,
        name=name, node_attrs=st["attrs"],
    )


def _pair_positions(graph: Graph, key: np.ndarray) -> np.ndarray:
    """Index into ``key`` (lo*N+hi, unique) of each edge of an undirected graph, or -1."""
    n = graph.num_nodes
    s, r = graph.senders.cpu().numpy(), graph.receivers.cpu().numpy()
    ek = np.minimum(s, r) * n + np.maximum(s, r)
    order = np.argsort(key)
    pos = np.searchsorted(key[order], ek)
    pos = np.clip(pos, 0, len(key) - 1)
    found = key[order][pos] == ek
    return np.where(found, order[pos], -1)


def bayaka_pair_covariates(path: str | os.PathLike, graph: Graph) -> dict[str, torch.Tensor]:
    """Pair covariates of the BaYaka data as per-edge tensors aligned with ``graph``.

    Parameters
    ----------
    path : str or PathLike
        Folder holding the CSV files.
    graph : Graph
        A graph from :func:`load_bayaka` (same folder).

    Returns
    -------
    dict of str to Tensor
        ``(E,)`` float64 tensors for every numeric column of ``bayaka_dyads_static.csv``
        (``relatedness``, ``coresidence``, ``days_exposed``, ``days_together``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "bayaka_nodes.csv").write_text("id\\np1\\np2\\n")
    >>> _ = (d / "bayaka_dyads_static.csv").write_text(
    ...     "id1,id2,relatedness,days_exposed,days_together\\np1,p2,0.5,8,2\\n")
    >>> bayaka_pair_covariates(d, load_bayaka(d))["relatedness"].tolist()
    [0.5, 0.5]
    """
    st = _bayaka_static(path)
    pos = _pair_positions(graph, st["key"])
    if (pos < 0).any():
        raise ValueError(
            "the graph has edges that are not pairs of this BaYaka folder; load the graph "
            "from the same folder"
        )
    out = {}
    for c in st["dyads"].columns:
        if c in ("id1", "id2"):
            continue
        vals = pd.to_numeric(st["dyads"][c], errors="coerce").to_numpy(dtype=np.float64)
        if not np.isnan(vals).all():
            out[c] = torch.as_tensor(vals[pos])
    return out


@dataclass
class DailyInteractions:
    """A daily interaction series on the undirected pairs of a static camp graph.

    Attributes
    ----------
    graph : Graph
        The static graph (undirected, weights ``q``); every daily interaction is one of its
        edges.
    days : Tensor
        ``(D,)`` int64 day numbers, increasing (gaps allowed).
    pairs : Tensor
        ``(P, 2)`` node ids ``(lo, hi)`` of the undirected pairs (the graph's edges with
        sender < receiver).
    active : Tensor
        ``(D, P)`` bool: the pair interacted that day.
    observed : Tensor
        ``(D, P)`` bool: the pair was observable that day (both present and followed);
        ``active`` implies ``observed``.
    edge_pair : Tensor
        ``(E,)`` the pair column of each directed edge of ``graph``.
    """

    graph: Graph
    days: torch.Tensor
    pairs: torch.Tensor
    active: torch.Tensor
    observed: torch.Tensor
    edge_pair: torch.Tensor

    def edge_masks(self, observed: bool = False) -> torch.Tensor:
        """``(D, E)`` per-day edge masks aligned with ``graph.edge_index``.

        ``observed=True`` gives the observability mask instead of the interaction mask.
        """
        vals = self.observed if observed else self.active
        return vals[:, self.edge_pair]

    def snapshots(self) -> list[tuple[int, Graph]]:
        """One graph per day holding the edges active that day: ``[(day, Graph), ...]``."""
        masks = self.edge_masks()
        out = []
        for k, day in enumerate(self.days.tolist()):  # one Graph per day, D is small
            g = self.graph.edge_subset(masks[k])
            out.append((int(day), Graph(
                g.num_nodes, g.edge_index, None, dict(g.node_attrs),
                name=f"{self.graph.name}_day{int(day)}", directed=False,
            )))
        return out

    def edge_values(self, pair_values: torch.Tensor) -> torch.Tensor:
        """Expand a ``(P,)`` per-pair tensor (e.g. fitted ``q``) to ``(E,)`` edges."""
        return torch.as_tensor(pair_values)[self.edge_pair]

    def fit_markov(self, **kwargs: Any) -> MarkovFit:
        """Fit ``q`` per pair and ``r`` per day with :func:`estimate_markov_interaction`."""
        return estimate_markov_interaction(
            self.active, self.observed, days=self.days, **kwargs
        )


def load_bayaka_daily(
    path: str | os.PathLike, *, include_zero: bool = False
) -> DailyInteractions:
    """Load the BaYaka daily co-foraging series (``bayaka_daily_dyads.csv``).

    Each row ``day, id1, id2, together`` says that the pair was observable on ``day`` and
    whether they foraged together (1) or not (0); pairs absent on a day were not
    observable. The series is checked against ``bayaka_dyads_static.csv`` (per pair, the
    number of rows must equal ``days_exposed`` and the number of 1s ``days_together``).

    Parameters
    ----------
    path : str or PathLike
        Folder holding the CSV files.
    include_zero : bool
        Keep pairs never seen together as columns (always inactive); see :func:`load_bayaka`.

    Returns
    -------
    DailyInteractions
        The static graph, the day numbers and ``(D, P)`` interaction and observation masks.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "bayaka_nodes.csv").write_text("id\\np1\\np2\\np3\\n")
    >>> _ = (d / "bayaka_dyads_static.csv").write_text(
    ...     "id1,id2,days_exposed,days_together\\np1,p2,2,1\\np1,p3,1,0\\np2,p3,1,1\\n")
    >>> _ = (d / "bayaka_daily_dyads.csv").write_text(
    ...     "day,id1,id2,together\\n1,p1,p2,1\\n1,p1,p3,0\\n2,p1,p2,0\\n2,p2,p3,1\\n")
    >>> daily = load_bayaka_daily(d)
    >>> daily.active.int().tolist(), daily.observed.int().tolist()
    ([[1, 0], [0, 1]], [[1, 0], [1, 1]])
    >>> [(day, g.num_edges) for day, g in daily.snapshots()]
    [(1, 2), (2, 2)]
    """
    graph = load_bayaka(path, include_zero=include_zero)
    st = _bayaka_static(path)
    pd_path, daily = _bayaka_csv(path, "daily")
    pos = st["pos"]
    for c in ("id1", "id2"):
        unknown = ~daily[c].isin(pos)
        if unknown.any():
            k = int(np.nonzero(unknown.to_numpy())[0][0])
            raise ValueError(f"{pd_path}, line {k + 2}: {c} {daily[c].iloc[k]!r} is unknown")
    day = _int_column(daily, "day", pd_path)
    tog = _int_column(daily, "together", pd_path)
    if (tog > 1).any():
        k = int(np.nonzero(tog > 1)[0][0])
        raise ValueError(f"{pd_path}, line {k + 2}: together = {tog[k]}; it must be 0 or 1")
    a = daily["id1"].map(pos).to_numpy(dtype=np.int64)
    b = daily["id2"].map(pos).to_numpy(dtype=np.int64)
    n = len(st["ids"])
    key = np.minimum(a, b) * n + np.maximum(a, b)
    order = np.argsort(st["key"])
    sidx = np.clip(np.searchsorted(st["key"][order], key), 0, len(order) - 1)
    known = st["key"][order][sidx] == key
    if not known.all():
        k = int(np.nonzero(~known)[0][0])
        raise ValueError(
            f"{pd_path}, line {k + 2}: pair {daily['id1'].iloc[k]}-{daily['id2'].iloc[k]} is "
            "not in bayaka_dyads_static.csv"
        )
    static_row = order[sidx]
    dup = pd.Series(day * (n * n) + key).duplicated().to_numpy()
    if dup.any():
        k = int(np.nonzero(dup)[0][0])
        raise ValueError(f"{pd_path}, line {k + 2}: the same pair and day appear twice")
    cnt = np.bincount(static_row, minlength=len(st["key"]))
    on = np.bincount(static_row, weights=tog, minlength=len(st["key"])).astype(np.int64)
    bad = (cnt != st["exposed"]) | (on != st["together"])
    if bad.any():
        k = int(np.nonzero(bad)[0][0])
        raise ValueError(
            f"{pd_path} disagrees with {st['static_path'].name} for pair "
            f"{st['ids'][st['lo'][k]]}-{st['ids'][st['hi'][k]]}: {cnt[k]} observed days and "
            f"{on[k]} together in the daily file, {st['exposed'][k]} and {st['together'][k]} "
            "in the static file"
        )
    # columns: the graph's undirected pairs (sender < receiver), in edge order
    s, r = graph.senders, graph.receivers
    fwd = s < r
    pairs = torch.stack([s[fwd], r[fwd]], 1)
    pair_key = (pairs[:, 0] * n + pairs[:, 1]).numpy()  # increasing by receiver, then sender
    porder = np.argsort(pair_key)
    lo, hi = torch.minimum(s, r).numpy(), torch.maximum(s, r).numpy()
    edge_pair = porder[np.searchsorted(pair_key[porder], lo * n + hi)]
    days_u, day_idx = np.unique(day, return_inverse=True)
    pidx = np.searchsorted(pair_key[porder], key)
    pidx = np.clip(pidx, 0, len(porder) - 1)
    in_graph = pair_key[porder][pidx] == key
    col = porder[pidx]
    active = np.zeros((len(days_u), len(pair_key)), dtype=bool)
    observed = np.zeros_like(active)
    observed[day_idx[in_graph], col[in_graph]] = True
    active[day_idx[in_graph], col[in_graph]] = tog[in_graph] == 1
    return DailyInteractions(
        graph=graph,
        days=torch.as_tensor(days_u, dtype=torch.long),
        pairs=pairs,
        active=torch.as_tensor(active),
        observed=torch.as_tensor(observed),
        edge_pair=torch.as_tensor(edge_pair, dtype=torch.long),
    )


def bayaka_daily_snapshots(
    path: str | os.PathLike, *, include_zero: bool = False
) -> list[tuple[int, Graph]]:
    """Per-day BaYaka co-foraging graphs: ``[(day, Graph of that day's pairs), ...]``.

    Shorthand for ``load_bayaka_daily(path).snapshots()``; each graph has all 60 people and
    the undirected edges of the pairs that foraged together that day (unweighted).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "bayaka_nodes.csv").write_text("id\\np1\\np2\\n")
    >>> _ = (d / "bayaka_dyads_static.csv").write_text(
    ...     "id1,id2,days_exposed,days_together\\np1,p2,2,1\\n")
    >>> _ = (d / "bayaka_daily_dyads.csv").write_text(
    ...     "day,id1,id2,together\\n3,p1,p2,0\\n5,p1,p2,1\\n")
    >>> [(day, g.num_edges) for day, g in bayaka_daily_snapshots(d)]
    [(3, 0), (5, 2)]
    """
    return load_bayaka_daily(path, include_zero=include_zero).snapshots()


# ----------------------------------------------------------------------------- estimator
@dataclass
class MarkovFit:
    """Fitted parameters of the two-state interaction process.

    Attributes
    ----------
    q : Tensor
        ``(P,)`` float64 stationary interaction probability per pair (NaN where a pair was
        never observed).
    r : float
        Switching rate per time unit of ``days`` (per step when ``days`` is omitted).
    q_stderr : Tensor
        ``(P,)`` asymptotic standard errors of ``q`` (observed information, accounting for
        the uncertainty in ``r``); NaN on the boundary (``q`` = 0 or 1), for unobserved
        pairs and for ``method="moments"``.
    r_stderr : float
        Asymptotic standard error of ``r`` from the profile likelihood curvature (NaN for
        ``method="moments"`` or at a bound).
    loglik : float
        Log-likelihood at the estimate.
    num_transitions : int
        Number of transitions between consecutive observations used.
    method : str
        ``"mle"`` or ``"moments"``.
    at_bound : bool
        ``r`` ended at an end of ``r_bounds`` (the data cannot pin it down).
    """

    q: torch.Tensor
    r: float
    q_stderr: torch.Tensor
    r_stderr: float
    loglik: float
    num_transitions: int
    method: str
    at_bound: bool


def _as_numpy(x: Any) -> np.ndarray:
    return x.detach().cpu().numpy() if torch.is_tensor(x) else np.asarray(x)


def _markov_data(active: Any, observed: Any, days: Any) -> dict[str, Any]:
    """Compress an observed series into counts per (pair, previous, next, lag)."""
    act = _as_numpy(active)
    if act.ndim != 2:
        raise ValueError(
            f"active has shape {tuple(act.shape)}; it must be (T, P): time steps x pairs"
        )
    if act.dtype != bool:
        if not ((act == 0) | (act == 1)).all():
            raise ValueError("active must hold 0/1 or booleans (interacting or not)")
        act = act != 0
    t_len, n_pairs = act.shape
    if observed is None:
        obs = np.ones_like(act)
    else:
        obs = _as_numpy(observed)
        if obs.shape != act.shape:
            raise ValueError(
                f"observed has shape {tuple(obs.shape)} but active has {tuple(act.shape)}"
            )
        obs = obs != 0
    if (act & ~obs).any():
        t, k = (int(x) for x in np.argwhere(act & ~obs)[0])
        raise ValueError(
            f"active is set at step {t}, pair {k} where observed is False; an interaction "
            "can only be seen when the pair is observed"
        )
    if days is None:
        tt = np.arange(t_len, dtype=np.float64)
    else:
        tt = _as_numpy(days).astype(np.float64).reshape(-1)
        if tt.size != t_len:
            raise ValueError(f"days has {tt.size} entries for {t_len} time steps")
        if t_len > 1 and (np.diff(tt) <= 0).any():
            raise ValueError("days must be strictly increasing (one row per observed day)")
    steps = np.broadcast_to(np.arange(t_len)[:, None], (t_len, n_pairs))
    last = np.maximum.accumulate(np.where(obs, steps, -1), axis=0)
    prev_idx = np.concatenate([np.full((1, n_pairs), -1), last[:-1]])
    is_tr = obs & (prev_idx >= 0)
    is_start = obs & (prev_idx < 0)
    t_i, p_i = np.nonzero(is_tr)
    pv = prev_idx[t_i, p_i]
    prev_s = act[pv, p_i].astype(np.int64)
    next_s = act[t_i, p_i].astype(np.int64)
    lag_u, lag_inv = np.unique(tt[t_i] - tt[pv], return_inverse=True)
    nl = max(lag_u.size, 1)
    key = ((p_i * 2 + prev_s) * 2 + next_s) * nl + lag_inv.reshape(-1)
    ukey, cnt = np.unique(key, return_counts=True)
    return {
        "pair": ukey // (4 * nl),
        "prev": ((ukey // (2 * nl)) % 2).astype(np.float64),
        "next": ((ukey // nl) % 2).astype(np.float64),
        "lag": lag_u[ukey % nl] if lag_u.size else np.zeros(0),
        "count": cnt.astype(np.float64),
        "start_on": (is_start & act).sum(0).astype(np.float64),
        "start_off": (is_start & ~act).sum(0).astype(np.float64),
        "n_obs": obs.sum(0).astype(np.float64),
        "n_on": act.sum(0).astype(np.float64),
        "num_pairs": n_pairs,
        "num_transitions": int(is_tr.sum()),
    }


def _prob_next_on(d: dict[str, Any], q: np.ndarray, r: float) -> tuple:
    lam = np.exp(-r * d["lag"])
    qi = q[d["pair"]]
    return lam, qi, qi * (1.0 - lam) + d["prev"] * lam


def _pair_sum(d: dict[str, Any], vals: np.ndarray) -> np.ndarray:
    return np.bincount(d["pair"], weights=vals, minlength=d["num_pairs"])


def _q_given_r(d: dict[str, Any], r: float, start: bool, iters: int = 50) -> np.ndarray:
    """Maximise the (concave) log-likelihood in each q for fixed r, by vectorised bisection."""
    lo = np.zeros(d["num_pairs"])
    hi = np.ones(d["num_pairs"])
    on = d["next"] > 0.5
    lam = np.exp(-r * d["lag"])
    base = d["prev"] * lam
    slope = 1.0 - lam
    c = d["count"] * slope
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        p = mid[d["pair"]] * slope + base
        g = _pair_sum(d, c * np.where(on, 1.0 / p, -1.0 / (1.0 - p)))
        if start:
            g = g + d["start_on"] / mid - d["start_off"] / (1.0 - mid)
        up = g > 0
        lo = np.where(up, mid, lo)
        hi = np.where(up, hi, mid)
    q = 0.5 * (lo + hi)
    q[q < 1e-12] = 0.0
    q[q > 1.0 - 1e-12] = 1.0
    return q


def _loglik(d: dict[str, Any], q: np.ndarray, r: float, start: bool) -> float:
    _, _, p = _prob_next_on(d, q, r)
    on = d["next"] > 0.5
    with np.errstate(divide="ignore"):
        ll = float((d["count"] * np.log(np.maximum(np.where(on, p, 1.0 - p), 1e-300))).sum())
        if start:
            ll += float((d["start_on"] * np.log(np.maximum(q, 1e-300))).sum())
            ll += float((d["start_off"] * np.log(np.maximum(1.0 - q, 1e-300))).sum())
    return ll


def _hessian(
    d: dict[str, Any], q: np.ndarray, r: float, start: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-pair second derivatives (h_qq, h_qr, h_rr) of the log-likelihood."""
    lam, qi, p = _prob_next_on(d, q, r)
    on = d["next"] > 0.5
    c = d["count"]
    with np.errstate(divide="ignore", invalid="ignore"):
        l1 = np.where(on, 1.0 / p, -1.0 / (1.0 - p))
        l2 = np.where(on, -1.0 / p**2, -1.0 / (1.0 - p) ** 2)
    dlam = -d["lag"] * lam
    p_q, p_r = 1.0 - lam, (d["prev"] - qi) * dlam
    p_qr, p_rr = -dlam, (d["prev"] - qi) * d["lag"] ** 2 * lam
    # terms are finite wherever the observed outcome has positive probability
    h_qq = _pair_sum(d, np.nan_to_num(c * l2 * p_q**2))
    h_qr = _pair_sum(d, np.nan_to_num(c * (l2 * p_q * p_r + l1 * p_qr)))
    h_rr = _pair_sum(d, np.nan_to_num(c * (l2 * p_r**2 + l1 * p_rr)))
    if start:
        on0, off0 = d["start_on"], d["start_off"]
        zero = np.zeros_like(q)
        h_qq = h_qq - np.divide(on0, q**2, out=zero.copy(), where=on0 > 0)
        h_qq = h_qq - np.divide(off0, (1.0 - q) ** 2, out=zero.copy(), where=off0 > 0)
    return h_qq, h_qr, h_rr


def estimate_markov_interaction(
    active: Any,
    observed: Any = None,
    *,
    days: Any = None,
    method: str = "mle",
    r_bounds: tuple[float, float] = (1e-3, 20.0),
    stationary_start: bool = True,
) -> MarkovFit:
    """Estimate ``q`` per pair and a shared switching rate ``r`` from an on/off series.

    The model is the process of :mod:`socialmarl.networks.dynamic`: each pair is a
    two-state continuous-time chain with stationary probability ``q`` and total switching
    rate ``r``, so that after a lag of ``k`` time units ``P(on | off) = q (1 - e^-rk)`` and
    ``P(on | on) = q + (1 - q) e^-rk`` (``k = 1``: the per-step probabilities of the game).
    The observed indicator is taken as the chain's state at each observation; gaps between
    observations of a pair (unobserved days) enter exactly through ``k``. Hidden excursions
    within a step (which the game counts as active) are not modelled.

    ``method="mle"`` maximises the likelihood of all transitions (and, with
    ``stationary_start``, of each pair's first observation under the stationary law):
    for fixed ``r`` each ``q`` is found by bisection of its concave score, and ``r`` by a
    bounded search over the profile likelihood; standard errors come from the observed
    information. ``method="moments"`` takes ``q`` as the fraction of observations on and
    ``e^-r`` as the regression slope of ``(next - q)`` on ``(previous - q)`` over lag-1
    transitions (no standard errors).

    Parameters
    ----------
    active : array-like, shape (T, P)
        0/1 or bool: pair ``p`` interacting at observation ``t``.
    observed : array-like, shape (T, P), optional
        Whether pair ``p`` was observed at ``t`` (default: always).
    days : array-like, shape (T,), optional
        Strictly increasing times of the rows (default ``0..T-1``); ``r`` is per unit.
    method : {"mle", "moments"}
        Estimator.
    r_bounds : (float, float)
        Search interval for ``r``.
    stationary_start : bool
        Include each pair's first observation as a draw from the stationary law.

    Returns
    -------
    MarkovFit

    Examples
    --------
    >>> import torch, socialmarl as sm
    >>> from socialmarl.networks.dynamic import MarkovInteraction
    >>> g = sm.complete_graph(30)
    >>> proc = MarkovInteraction(g, torch.full((g.num_edges,), 0.3), r=0.5)
    >>> gen = torch.Generator().manual_seed(0)
    >>> s = proc.initial_state(1, gen)
    >>> series = []
    >>> for _ in range(200):
    ...     s, _ = proc.step(s, gen)
    ...     series.append(s[0])
    >>> fit = estimate_markov_interaction(torch.stack(series))
    >>> abs(fit.r - 0.5) < 4 * fit.r_stderr, abs(float(fit.q.mean()) - 0.3) < 0.02
    (True, True)
    """
    if method not in ("mle", "moments"):
        raise ValueError(f"method={method!r}; use 'mle' or 'moments'")
    r_lo, r_hi = (float(x) for x in r_bounds)
    if not (0 < r_lo < r_hi < math.inf):
        raise ValueError(f"r_bounds={r_bounds!r}; give 0 < low < high < inf")
    d = _markov_data(active, observed, days)
    n_tr = d["num_transitions"]
    if n_tr == 0:
        raise ValueError(
            "no pair was observed at two different times; r cannot be estimated without "
            "transitions"
        )
    unobserved = d["n_obs"] == 0
    nan = np.full(d["num_pairs"], math.nan)

    def out(q: np.ndarray, q_se: np.ndarray, r: float, r_se: float, at_bound: bool) -> MarkovFit:
        ll = _loglik(d, q, r, stationary_start)
        q = np.where(unobserved, math.nan, q)
        return MarkovFit(
            torch.as_tensor(q), r, torch.as_tensor(q_se), r_se, ll, n_tr, method, at_bound
        )

    if method == "moments":
        q = np.where(unobserved, 0.0, d["n_on"] / np.maximum(d["n_obs"], 1))
        one = d["lag"] == 1
        if not one.any():
            raise ValueError("method='moments' needs transitions one time unit apart")
        qi = q[d["pair"]][one]
        c, pv, nx_ = d["count"][one], d["prev"][one], d["next"][one]
        den = float((c * (pv - qi) ** 2).sum())
        lam = float((c * (pv - qi) * (nx_ - qi)).sum()) / den if den > 0 else 0.0
        r = -math.log(lam) if lam > 0 else math.inf
        r = min(max(r, r_lo), r_hi)
        return out(q, nan, r, math.nan, r in (r_lo, r_hi))
    from scipy.optimize import minimize_scalar

    def neg_profile(log_r: float) -> float:
        r_ = math.exp(log_r)
        return -_loglik(d, _q_given_r(d, r_, stationary_start), r_, stationary_start)

    res = minimize_scalar(
        neg_profile, bounds=(math.log(r_lo), math.log(r_hi)), method="bounded",
        options={"xatol": 1e-7},
    )
    log_r = float(res.x)
    r = math.exp(log_r)
    at_bound = min(abs(log_r - math.log(r_lo)), abs(log_r - math.log(r_hi))) < 1e-4
    if at_bound:
        warnings.warn(
            f"the switching rate r ended at the bound {r:.4g} of r_bounds={r_bounds}; the "
            "data do not pin it down (widen r_bounds, or the series may be memoryless)",
            stacklevel=2,
        )
    q = _q_given_r(d, r, stationary_start)
    h_qq, h_qr, h_rr = _hessian(d, q, r, stationary_start)
    interior = (q > 0) & (q < 1) & ~unobserved & (h_qq < 0)
    schur = h_rr.sum() - (h_qr[interior] ** 2 / h_qq[interior]).sum()
    var_r = float(-1.0 / schur) if schur < 0 and not at_bound else math.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        var_q = -1.0 / h_qq + (h_qr / h_qq) ** 2 * (var_r if math.isfinite(var_r) else 0.0)
    q_se = np.where(interior, np.sqrt(np.maximum(var_q, 0.0)), math.nan)
    return out(q, q_se, r, math.sqrt(var_r), at_bound)
