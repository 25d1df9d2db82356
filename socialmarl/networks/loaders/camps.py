"""Hunter-gatherer camp networks: Hadza proximity and BaYaka daily co-foraging.

Both give undirected graphs whose weights are the stationary probabilities ``q_ij`` of the
two-state Markov interaction process of :mod:`socialmarl.networks.dynamic`; feed them to
``ConsensusGame(graph, camp=CampProcess(camp_interaction_q(graph), r))``. The switching
rate ``r`` is a free parameter for the Hadza data; for the BaYaka daily series
(:class:`DailyInteractions`) it can be estimated, with ``q``, by
:func:`~socialmarl.networks.dynamic_fit.estimate_markov_interaction`.

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from scipy.sparse.csgraph import connected_components

from ...common.reading import existing_file, file_errors, open_text
from ..dynamic_fit import MarkovFit, estimate_markov_interaction
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
    ``ConsensusGame(graph, camp=CampProcess(camp_interaction_q(graph), r))``.

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
