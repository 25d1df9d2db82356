"""Sampling a Bluesky subgraph from a published dump (Failla & Rossetti format).

Source: A. Failla and G. Rossetti, "'I'm in the Bluesky Tonight': Insights from a year worth
of social data", PLOS ONE 19(11): e0310330 (2024); data "Bluesky Social Dataset", Zenodo
doi:10.5281/zenodo.14669616. Its ``followers.csv.gz`` holds rows ``u,v`` meaning "user
``u`` follows user ``v``"; its ``interactions.csv.gz`` holds reply / repost / quote
interactions.

The reference paper weighted its 1000-user Bluesky graph by ``w_ij`` = the fraction of
``j``'s posts that ``i`` liked, normalised over ``i``'s neighbours. The dump has no likes
between users, so :func:`load_bluesky_dump` uses the interactions it has (replies, reposts,
quotes) as the closest public stand-in, normalised the same way.

Errors: a missing folder or file raises ``FileNotFoundError``; a file given for the folder,
a truncated or fake ``.gz``, non-UTF-8 text or a malformed row raises ``ValueError`` naming
the file (and line) and the fix. The files are streamed once per pass with pandas; the
translation of read errors (:func:`.reading.file_errors`) costs nothing while reading
succeeds.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from ...common.reading import existing_file, existing_folder, file_errors, open_text
from ..graph import Graph
from .files import human_attention_weights

__all__ = ["load_bluesky_dump", "FOLLOWERS_FILE", "INTERACTIONS_FILE"]

FOLLOWERS_FILE = "followers.csv.gz"
INTERACTIONS_FILE = "interactions.csv.gz"

_HEADER_NAMES = {
    "u", "v", "source", "target", "src", "dst", "from", "to", "follower", "followee",
    "followed", "following", "user", "user_id", "userid", "author", "author_id", "subject",
    "id1", "id2", "actor", "count", "type", "weight", "replied_author", "thread_root_author",
    "reposted_author", "quoted_author", "date", "timestamp",
}
_MISSING = {"", "-1", "nan", "none", "null", "na"}


def _is_int(tok: str) -> bool:
    t = tok.strip()
    return bool(t) and (t.lstrip("+-").isdigit())


def _find_file(folder: Path, name: str) -> Path | None:
    for cand in (name, name.removesuffix(".gz")):
        if (folder / cand).exists():
            return existing_file(folder / cand, "Bluesky dump file")  # a folder: NotAFileError
    return None


def _detect_header(path: Path) -> bool:
    """A header when the first row's first two fields are known column names, or when they
    are not integers while the second row's are."""
    with open_text(path) as fh:
        first = fh.readline()
        second = fh.readline()
    if not first.strip():
        raise ValueError(f"{path}, line 1: the file is empty or starts with a blank line")
    f = [c.strip().strip('"').lower() for c in first.split(",")]
    if len(f) >= 2 and f[0] in _HEADER_NAMES and f[1] in _HEADER_NAMES:
        return True
    s = [c.strip() for c in second.split(",")] if second.strip() else []
    return (
        len(f) >= 2 and len(s) >= 2 and not (_is_int(f[0]) or _is_int(f[1]))
        and _is_int(s[0]) and _is_int(s[1])
    )


def _chunks(
    path: Path, header: bool | None, chunksize: int
) -> Iterator[tuple[pd.DataFrame, int]]:
    """Yield (string DataFrame, file line number of its first row)."""
    has_header = _detect_header(path) if header is None else bool(header)
    line = 2 if has_header else 1
    # file_errors: not UTF-8, truncated or fake .gz (raised lazily, while chunks are read)
    with file_errors(path):
        try:
            reader = pd.read_csv(
                path, header=None, skiprows=1 if has_header else 0, dtype=str,
                chunksize=chunksize, keep_default_na=False, skip_blank_lines=False,
                skipinitialspace=True, on_bad_lines="error", engine="c",
            )
            with reader:
                for chunk in reader:
                    yield chunk, line
                    line += len(chunk)
        except pd.errors.ParserError as exc:
            raise ValueError(
                f"{path}: malformed row ({exc}); every row must have the same number of fields"
            ) from exc
        except pd.errors.EmptyDataError as exc:
            raise ValueError(
                f"{path}: the file has no data rows; it needs rows 'u,v' below any header"
            ) from exc


def _check_ids(df: pd.DataFrame, cols: list[int], path: Path, line0: int) -> None:
    for c in cols:
        col = df[c]
        bad = col.isna() | (col.str.strip() == "")
        if bad.any():
            k = int(np.nonzero(bad.to_numpy())[0][0])
            raise ValueError(
                f"{path}, line {line0 + k}: empty user id in column {c + 1}; every row must "
                "be 'u,v'"
            )


def _follow_pairs(
    path: Path, header: bool | None, chunksize: int
) -> Iterator[tuple[pd.Series, pd.Series]]:
    for df, line0 in _chunks(path, header, chunksize):
        if df.shape[1] < 2:
            raise ValueError(
                f"{path}, line {line0}: a follower row needs two fields 'u,v', found "
                f"{df.shape[1]}"
            )
        _check_ids(df, [0, 1], path, line0)
        yield df[0].str.strip(), df[1].str.strip()


def _interaction_rows(
    path: Path, header: bool | None, chunksize: int
) -> Iterator[tuple[pd.Series, pd.Series, np.ndarray]]:
    """Yield (actor, author, count) with the layout detected from the column count."""
    layout = None
    for df, line0 in _chunks(path, header, chunksize):
        ncol = df.shape[1]
        if layout is None:
            if ncol == 2:
                layout = "pair"
            elif ncol == 3:
                layout = "count" if _is_number(df.iloc[0, 2]) else "type"
            elif ncol == 6:
                layout = "failla_rossetti"
            else:
                raise ValueError(
                    f"{path}, line {line0}: {ncol} fields; expected 'u,v', 'u,v,count', "
                    "'u,v,type' or the six-field Failla & Rossetti layout"
                )
        _check_ids(df, [0], path, line0)
        user = df[0].str.strip()
        if layout == "failla_rossetti":
            for c in (1, 3, 4):  # replied, reposted, quoted author (thread root not counted)
                tgt = df[c].fillna("").str.strip()
                ok = ~tgt.str.lower().isin(_MISSING)
                yield user[ok], tgt[ok], np.ones(int(ok.sum()))
            continue
        _check_ids(df, [1], path, line0)
        tgt = df[1].str.strip()
        if layout == "count":
            cnt = pd.to_numeric(df[2], errors="coerce").to_numpy(dtype=np.float64)
            bad = ~np.isfinite(cnt) | (cnt < 0)
            if bad.any():
                k = int(np.nonzero(bad)[0][0])
                raise ValueError(
                    f"{path}, line {line0 + k}: interaction count {df.iloc[k, 2]!r} is not a "
                    "finite number >= 0"
                )
        else:
            cnt = np.ones(len(df))
        yield user, tgt, cnt


def _is_number(tok: Any) -> bool:
    try:
        return math.isfinite(float(tok))
    except (TypeError, ValueError):
        return False


def load_bluesky_dump(
    folder: str | os.PathLike,
    *,
    num_nodes: int = 1000,
    hops: int = 2,
    seed_user: str | int | None = None,
    seed: int = 0,
    interactions: bool = True,
    header: bool | None = None,
    chunksize: int = 1_000_000,
    name: str = "bluesky",
) -> Graph:
    """Sample a connected follow subgraph around one user from a Bluesky dump.

    Reads ``followers.csv.gz`` (rows ``u,v``: ``u`` follows ``v``, so Graph sender ``v``,
    receiver ``u``: the follower observes the followed) in streaming passes, one per hop,
    so dumps far larger than memory work. Starting from ``seed_user`` it adds users
    breadth first over follow links in either direction, hop by hop, up to ``hops`` hops
    and ``num_nodes`` users; when a hop would overshoot, a random subset of it (drawn with
    ``seed``) fills the remaining places. Every kept user is joined to the seed through
    kept users, so the subgraph is (weakly) connected. All follow edges among the kept
    users are returned (self follows dropped, repeated rows merged).

    Weights (``interactions=True``): ``interactions.csv.gz`` rows are read as "``u``
    interacted with ``v``'s content", i.e. ``u``'s attention to ``v``; accepted layouts,
    with or without a header row: ``u,v`` (one interaction per row), ``u,v,count``,
    ``u,v,type`` (one per row), or the six integers of the Failla & Rossetti release
    ``user_id, replied_author, thread_root_author, reposted_author, quoted_author, date``
    (one interaction each for the replied, reposted and quoted author when present; empty
    or ``-1`` means absent; the thread root is not counted, to avoid counting a reply
    twice). Interactions along follow edges ``v -> u`` are summed and normalised over each
    receiver's in-edges, so each user's row of attention sums to 1 (0 for users with no
    interaction with anyone they follow); interactions between users who do not follow
    each other are ignored.

    Parameters
    ----------
    folder : str or PathLike
        Folder holding ``followers.csv.gz`` (or ``followers.csv``) and, for weights,
        ``interactions.csv.gz``.
    num_nodes : int
        Largest number of users to keep. Fewer are returned (with a warning) when the
        ``hops``-hop neighbourhood is smaller.
    hops : int
        Breadth-first radius around the seed user (>= 1).
    seed_user : str or int, optional
        The user to start from; default: the user with the most follow links (ties: the
        smallest id).
    seed : int
        Seed for the random subset of the last hop.
    interactions : bool
        Attach interaction weights (needs ``interactions.csv.gz``); False: unweighted.
    header : bool, optional
        Whether the files have a header row; ``None`` detects it.
    chunksize : int
        Rows read per chunk.
    name : str
        Graph name.

    Returns
    -------
    Graph
        Directed; node attributes ``label`` (user id, BFS order with the seed first),
        ``hop`` (distance from the seed) and ``interaction_count`` (interactions of the user
        with accounts it follows in the subgraph).

    Examples
    --------
    >>> import gzip, tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with gzip.open(d / "followers.csv.gz", "wt") as fh:
    ...     _ = fh.write("1,2\\n2,1\\n3,1\\n4,3\\n")
    >>> with gzip.open(d / "interactions.csv.gz", "wt") as fh:
    ...     _ = fh.write("1,2,3\\n3,1,1\\n")
    >>> g = load_bluesky_dump(d, num_nodes=3, hops=1, seed_user=1)
    >>> g.node_attrs["label"], g.node_attrs["hop"]
    (['1', '2', '3'], [0, 1, 1])
    >>> g.edge_index.tolist(), g.edge_weight.tolist()
    ([[1, 0, 0], [0, 1, 2]], [1.0, 0.0, 1.0])
    """
    if isinstance(num_nodes, bool) or not isinstance(num_nodes, (int, np.integer)) or (
        num_nodes < 2
    ):
        raise ValueError(f"num_nodes={num_nodes!r}; give an integer >= 2")
    if isinstance(hops, bool) or not isinstance(hops, (int, np.integer)) or hops < 1:
        raise ValueError(f"hops={hops!r}; give an integer >= 1")
    base = existing_folder(folder, "Bluesky dump folder", FOLLOWERS_FILE)
    fpath = _find_file(base, FOLLOWERS_FILE)
    if fpath is None:
        raise FileNotFoundError(f"{str(base / FOLLOWERS_FILE)!r} does not exist")
    ipath = None
    if interactions:
        ipath = _find_file(base, INTERACTIONS_FILE)
        if ipath is None:
            raise FileNotFoundError(
                f"{str(base / INTERACTIONS_FILE)!r} does not exist; pass interactions=False "
                "for an unweighted graph"
            )

    if seed_user is None:
        deg: pd.Series | None = None
        for u, v in _follow_pairs(fpath, header, chunksize):
            c = pd.concat([u, v]).value_counts()
            deg = c if deg is None else deg.add(c, fill_value=0)
        if deg is None or deg.empty:
            raise ValueError(f"{fpath}: no follow rows")
        deg = deg.sort_index()
        start = str(deg.idxmax())
    else:
        start = str(seed_user).strip()

    rng = np.random.default_rng(seed)
    hop_of: dict[str, int] = {start: 0}
    order = [start]
    frontier = {start}
    for h in range(1, hops + 1):
        found: set[str] = set()
        fr = list(frontier)
        for u, v in _follow_pairs(fpath, header, chunksize):
            found.update(v[u.isin(fr)].tolist())
            found.update(u[v.isin(fr)].tolist())
        new = sorted(found.difference(hop_of))
        if h == 1 and not new:
            raise ValueError(
                f"{fpath}: seed user {start!r} has no follow links; pick another seed_user"
            )
        room = num_nodes - len(order)
        if len(new) > room:
            new = sorted(rng.choice(np.array(new, dtype=object), size=room, replace=False))
        for x in new:
            hop_of[x] = h
        order.extend(new)
        frontier = set(new)
        if len(order) >= num_nodes or not new:
            break
    if len(order) < num_nodes:
        warnings.warn(
            f"the {hops}-hop neighbourhood of {start!r} holds only {len(order)} users "
            f"(< num_nodes={num_nodes}); returning them all (raise hops for more)",
            stacklevel=2,
        )
    idx = {x: k for k, x in enumerate(order)}
    n = len(order)
    keep = list(idx)
    snd_l, rcv_l = [], []
    for u, v in _follow_pairs(fpath, header, chunksize):
        m = u.isin(keep) & v.isin(keep) & (u != v)
        snd_l.append(v[m].map(idx).to_numpy(dtype=np.int64))
        rcv_l.append(u[m].map(idx).to_numpy(dtype=np.int64))
    snd, rcv = np.concatenate(snd_l), np.concatenate(rcv_l)
    if snd.size == 0:
        raise ValueError(f"{fpath}: the sampled users have no follow edges among them")
    key = np.unique(rcv * n + snd)  # sorted by (receiver, sender), as Graph stores edges
    snd, rcv = key % n, key // n
    counts = np.zeros(len(key))
    if ipath is not None:
        for u, v, c in _interaction_rows(ipath, header, chunksize):
            m = (u.isin(keep) & v.isin(keep)).to_numpy()
            if not m.any():
                continue
            ik = u[m].map(idx).to_numpy(np.int64) * n + v[m].map(idx).to_numpy(np.int64)
            pos = np.clip(np.searchsorted(key, ik), 0, len(key) - 1)
            hit = key[pos] == ik  # u follows v in the subgraph
            np.add.at(counts, pos[hit], c[m][hit])
    attrs: dict[str, list[Any]] = {"label": order, "hop": [hop_of[x] for x in order]}
    per_user = np.bincount(rcv, weights=counts, minlength=n)
    attrs["interaction_count"] = [float(x) for x in per_user]
    g = Graph(n, torch.as_tensor(np.stack([snd, rcv])), None, attrs, name=name, directed=True)
    if ipath is None:
        return g
    return g.with_weights(human_attention_weights(g.with_weights(torch.as_tensor(counts))))
