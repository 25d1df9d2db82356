"""The US Congress Twitter interaction network (Fink et al. 2023, SNAP "congress-twitter").

Source: C. G. Fink, N. Omodei, K. Petri et al., "A Congressional Twitter network dataset
quantifying pairwise probability of influence", Data in Brief 50 (2023) 109521, and
"A Centrality Measure for Quantifying Spread on Weighted, Directed Networks"
(arXiv:2303.09684); distributed by SNAP as ``congress_network.zip``
(https://snap.stanford.edu/data/congress-twitter.html). 475 members of the 117th US
Congress, 13,289 directed weighted edges.

Weights: an edge ``i -> j`` with weight ``w`` is the empirical probability that a tweet by
``i`` is retweeted, quoted, replied to or mentioned by ``j`` ("``i`` influences ``j``").
Read the other way it is ``j``'s measured attention to ``i``, so the edge maps to Graph
sender ``i``, receiver ``j`` ("``j`` attends to ``i``") with weight ``w``, and the human
attention matrix (row = attending member) is ``human_attention[j, i] = w_ij`` normalised over
``j``'s in-neighbours (:func:`congress_human_attention`).

Errors: a missing folder or file raises ``FileNotFoundError``; a bad file (binary or
non-UTF-8, invalid JSON, a JSON of the wrong shape, a malformed edge line) raises
``ValueError`` naming the file, the line where known, and the fix (files are read through
:mod:`.reading`).
"""

from __future__ import annotations

import io
import json
import os
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import torch

from ...common.config_io import atomic_write_text
from ...common.reading import existing_file, read_json
from ..graph import Graph
from .files import human_attention_weights, load_edgelist

__all__ = [
    "SNAP_CONGRESS_URL",
    "CONGRESS_FILES",
    "default_cache_dir",
    "download_congress_twitter",
    "load_congress_twitter",
    "congress_human_attention",
]

SNAP_CONGRESS_URL = "https://snap.stanford.edu/data/congress_network.zip"
"""Public SNAP archive holding the two files of the Congress network."""

CONGRESS_FILES = ("congress.edgelist", "congress_network_data.json")
"""The two files a Congress folder must hold."""


def default_cache_dir() -> Path:
    """Folder for downloaded data: ``$SOCIALMARL_CACHE_DIR`` or ``~/.cache/socialmarl``.

    Examples
    --------
    >>> import pathlib
    >>> isinstance(default_cache_dir(), pathlib.Path)
    True
    """
    env = os.environ.get("SOCIALMARL_CACHE_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "socialmarl"


def _fetch_url(url: str, timeout: float = 60.0) -> bytes:
    """GET ``url`` and return its body; any HTTP or network failure raises ConnectionError."""
    req = urllib.request.Request(url, headers={"User-Agent": "socialmarl-data-loader"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status = getattr(resp, "status", None) or resp.getcode()
            if status is not None and int(status) != 200:
                raise ConnectionError(
                    f"downloading {url} failed: HTTP {status}; try again later or download the "
                    "files by hand and pass path="
                )
            return resp.read()
    except urllib.error.HTTPError as exc:
        raise ConnectionError(
            f"downloading {url} failed: HTTP {exc.code} {exc.reason}; try again later or "
            "download the files by hand and pass path="
        ) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ConnectionError(
            f"downloading {url} failed ({reason}); check the network connection, or download "
            "the files by hand and pass path="
        ) from None


def _cache_folder(cache_dir: str | os.PathLike | None) -> Path:
    return (Path(cache_dir).expanduser() if cache_dir else default_cache_dir()) / "congress_twitter"


def _has_files(folder: Path) -> bool:
    return all((folder / f).is_file() for f in CONGRESS_FILES)


def download_congress_twitter(
    cache_dir: str | os.PathLike | None = None,
    *,
    url: str = SNAP_CONGRESS_URL,
    force: bool = False,
    timeout: float = 60.0,
) -> Path:
    """Download the Congress network from SNAP into ``<cache_dir>/congress_twitter``.

    The archive is fetched once and cached: a later call finds both files and returns
    without touching the network (``force=True`` fetches again). Both files are extracted
    and checked in memory first and then each is written atomically, so an interrupted
    download never leaves a truncated file behind.

    Parameters
    ----------
    cache_dir : str or PathLike, optional
        Cache root; default :func:`default_cache_dir`.
    url : str
        The SNAP archive (a zip holding ``congress.edgelist`` and
        ``congress_network_data.json``, possibly inside a sub-folder).
    force : bool
        Download even when the files are cached.
    timeout : float
        Network timeout in seconds.

    Returns
    -------
    Path
        The folder holding the two files.

    Raises
    ------
    ConnectionError
        On an HTTP error or a network failure.
    ValueError
        When the download is not a zip or lacks one of the files.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for f in CONGRESS_FILES:
    ...     _ = (root / "congress_twitter").mkdir(exist_ok=True)
    ...     _ = (root / "congress_twitter" / f).write_text("cached")
    >>> download_congress_twitter(root).name     # cached: no network access
    'congress_twitter'
    """
    folder = _cache_folder(cache_dir)
    if not force and _has_files(folder):
        return folder
    payload = _fetch_url(url, timeout=timeout)
    try:
        archive = zipfile.ZipFile(io.BytesIO(payload))
    except zipfile.BadZipFile:
        raise ValueError(
            f"the download from {url} is not a zip archive ({len(payload)} bytes); the SNAP "
            "address may have changed: download the files by hand and pass path="
        ) from None
    members = {Path(m).name: m for m in archive.namelist() if not m.endswith("/")}
    texts = {}
    for fname in CONGRESS_FILES:
        if fname not in members:
            raise ValueError(
                f"the archive from {url} has no {fname!r} (it holds {sorted(members)}); "
                "download the files by hand and pass path="
            )
        try:
            texts[fname] = archive.read(members[fname]).decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError(f"{fname} in the archive from {url} is not UTF-8 text") from None
    try:
        json.loads(texts["congress_network_data.json"])
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"congress_network_data.json in the archive from {url} is not valid JSON ({exc})"
        ) from None
    if not texts["congress.edgelist"].strip():
        raise ValueError(f"congress.edgelist in the archive from {url} is empty")
    for fname in CONGRESS_FILES:
        atomic_write_text(folder / fname, texts[fname])
    return folder


def _read_members(path: Path) -> tuple[list[str], list[str], dict]:
    data = read_json(path, "Congress member file")
    if isinstance(data, list):
        if len(data) != 1 or not isinstance(data[0], dict):
            raise ValueError(
                f"{path}: expected a one-element list holding a dict; use the SNAP file "
                "(download=True fetches it)"
            )
        data = data[0]
    if not isinstance(data, dict):
        raise ValueError(
            f"{path}: expected a dict (or a one-element list of one), found "
            f"{type(data).__name__}; use the SNAP file (download=True fetches it)"
        )
    for key in ("usernameList", "partyList"):
        if key not in data:
            raise ValueError(f"{path}: key {key!r} missing (found {sorted(data)})")
        if not isinstance(data[key], list):
            raise ValueError(
                f"{path}: {key} = {data[key]!r:.40} is not a list; it must list one "
                "entry per member"
            )
    users, party = list(data["usernameList"]), list(data["partyList"])
    if not users:
        raise ValueError(f"{path}: usernameList is empty")
    if len(party) != len(users):
        raise ValueError(
            f"{path}: {len(users)} usernames but {len(party)} party labels; they must align"
        )
    return users, party, data


def _json_rows(path: Path, key: str, rows: object, n: int, dtype: type) -> list[np.ndarray]:
    """``outList`` / ``outWeight`` as one array per member, checked for shape and type."""
    if not isinstance(rows, list) or len(rows) != n:
        size = len(rows) if isinstance(rows, list) else type(rows).__name__
        raise ValueError(f"{path}: {key} has {size} entries for {n} members; give one list each")
    kind = int if dtype is np.int64 else (int, float)
    what = "member ids" if dtype is np.int64 else "numbers"
    out = []
    for i, x in enumerate(rows):
        if not isinstance(x, list) or not all(
            isinstance(v, kind) and not isinstance(v, bool) for v in x
        ):
            raise ValueError(
                f"{path}: {key}[{i}] = {x!r} is not a list of {what}; fix the file or download "
                "it again"
            )
        out.append(np.asarray(x, dtype=dtype).reshape(-1))
    return out


def _check_against_json(graph: Graph, data: dict, path: Path) -> None:
    """The edge list and the JSON's outList/outWeight must describe the same edges."""
    if "outList" not in data or "outWeight" not in data:
        return
    n = graph.num_nodes
    out_l = _json_rows(path, "outList", data["outList"], n, np.int64)
    out_w = _json_rows(path, "outWeight", data["outWeight"], n, np.float64)
    snd = np.concatenate([np.full(len(x), i, dtype=np.int64) for i, x in enumerate(out_l)])
    rcv = np.concatenate(out_l)
    w = np.concatenate(out_w)
    if len(w) != len(rcv):
        raise ValueError(f"{path}: outList and outWeight differ in length")
    order = np.argsort(rcv * n + snd, kind="stable")
    key_json = (rcv * n + snd)[order]
    key_g = (graph.receivers * n + graph.senders).cpu().numpy()
    if len(key_json) != len(key_g) or not np.array_equal(key_json, key_g):
        raise ValueError(
            f"{path}: its outList ({len(key_json)} edges) and the edge list "
            f"({len(key_g)} edges) disagree; the two files do not belong together"
        )
    wg = graph.edge_weight.cpu().double().numpy()
    bad = np.nonzero(np.abs(w[order] - wg) > 1e-9 * np.maximum(1.0, np.abs(wg)))[0]
    if bad.size:
        k = int(bad[0])
        raise ValueError(
            f"{path}: weight of edge {int(graph.senders[k])} -> {int(graph.receivers[k])} is "
            f"{w[order][k]} in outWeight but {wg[k]} in the edge list"
        )


def load_congress_twitter(
    path: str | os.PathLike | None = None,
    *,
    download: bool = False,
    cache_dir: str | os.PathLike | None = None,
) -> Graph:
    """Load the US Congress Twitter interaction network (Fink et al. 2023; SNAP).

    Reads ``congress.edgelist`` (lines ``i j w`` or ``i j {'weight': w}``, 0-based ids; the
    dict is parsed with ``ast.literal_eval``) and ``congress_network_data.json`` (a
    one-element list of a dict with ``usernameList``, ``partyList`` and the per-node
    ``outList``/``outWeight``, against which the edge list is cross-checked).

    Edge ``i -> j`` of weight ``w`` (the probability that ``j`` retweets, quotes, replies
    to or mentions a tweet by ``i``) becomes Graph sender ``i``, receiver ``j`` with
    ``edge_weight = w``: ``j`` attends to ``i``. Weights are probabilities in [0, 1].

    Parameters
    ----------
    path : str or PathLike, optional
        Folder holding the two files (or the ``congress.edgelist`` file itself). ``None``
        reads the download cache ``<cache_dir>/congress_twitter``.
    download : bool
        With ``path=None``: fetch the files from SNAP into the cache when missing
        (see :func:`download_congress_twitter`).
    cache_dir : str or PathLike, optional
        Cache root; default :func:`default_cache_dir`.

    Returns
    -------
    Graph
        475 nodes, 13,289 directed weighted edges on the SNAP release; node attributes
        ``username`` and ``party`` ("D", "R", ...).

    Examples
    --------
    >>> import tempfile, pathlib, json
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "congress.edgelist").write_text("0 1 {'weight': 0.5}\\n1 0 0.25\\n")
    >>> meta = [{"usernameList": ["a", "b"], "partyList": ["D", "R"]}]
    >>> _ = (d / "congress_network_data.json").write_text(json.dumps(meta))
    >>> g = load_congress_twitter(d)
    >>> g.edge_index.tolist(), g.edge_weight.tolist(), g.node_attrs["party"]
    ([[1, 0], [0, 1]], [0.25, 0.5], ['D', 'R'])
    """
    if path is not None and download:
        raise ValueError(
            "pass either path= (read local files) or download=True (fetch into the cache), "
            "not both; use cache_dir= to choose where downloads go"
        )
    if path is None:
        folder = _cache_folder(cache_dir)
        if download:
            folder = download_congress_twitter(cache_dir)
        elif not _has_files(folder):
            raise FileNotFoundError(
                f"the Congress network is not in the cache {str(folder)!r}; pass "
                "path=<folder with congress.edgelist and congress_network_data.json> or "
                "download=True to fetch it from SNAP"
            )
    else:
        folder = Path(path).expanduser()
        if folder.is_file():
            folder = folder.parent
        if not folder.exists():
            raise FileNotFoundError(f"Congress data folder {str(folder)!r} does not exist")
    for fname in CONGRESS_FILES:
        if not (folder / fname).exists():
            raise FileNotFoundError(
                f"{str(folder / fname)!r} is missing; a Congress folder holds "
                f"{' and '.join(CONGRESS_FILES)}"
            )
        existing_file(folder / fname, "Congress data file")  # a folder: NotAFileError
    users, party, data = _read_members(folder / "congress_network_data.json")
    n = len(users)
    g = load_edgelist(
        folder / "congress.edgelist", weighted=True, num_nodes=n, name="congress_twitter"
    )
    w = g.edge_weight
    if bool((w > 1.0 + 1e-12).any()):
        k = int(torch.nonzero(w > 1.0 + 1e-12)[0])
        raise ValueError(
            f"{folder / 'congress.edgelist'}: weight {float(w[k])} of edge "
            f"{int(g.senders[k])} -> {int(g.receivers[k])} exceeds 1; Congress weights are "
            "probabilities"
        )
    _check_against_json(g, data, folder / "congress_network_data.json")
    return Graph(
        n, g.edge_index, g.edge_weight, {"username": users, "party": party},
        name="congress_twitter", directed=True,
    )


def congress_human_attention(graph: Graph, *, dense: bool = False) -> torch.Tensor:
    """Human attention of each member over the members they attend to (row = attending).

    ``human_attention[j, i] = w_ij / sum_k w_kj``: member ``j``'s measured attention to
    ``i`` (the probability that ``j`` engages with ``i``'s tweets), normalised over ``j``'s
    in-neighbours so that each attending member's row sums to 1. This is the orientation of
    a policy's attention matrix and lines up with ``graph.edge_index``.

    Parameters
    ----------
    graph : Graph
        From :func:`load_congress_twitter` (any weighted Graph works).
    dense : bool
        Return the ``(N, N)`` matrix instead of per-edge values.

    Returns
    -------
    Tensor
        ``(E,)`` per-edge weights aligned with ``graph.edge_index``, or ``(N, N)``.

    Examples
    --------
    >>> import socialmarl as sm
    >>> g = sm.Graph(3, [[0, 1], [2, 2]], [0.125, 0.375])   # member 2 attends to 0 and 1
    >>> congress_human_attention(g).tolist()
    [0.25, 0.75]
    """
    return human_attention_weights(graph, dense=dense)
