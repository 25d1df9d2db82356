"""Small synthetic data sets bundled with socialmarl (made by ``data/make_bundled_data.py``).

* :func:`load_bluesky_sample`: a Bluesky-like follow graph of 1000 accounts in 8 topic
  communities with like-importance weights, in the crawler's own format.
* :func:`load_camp_sample`: a hunter-gatherer-camp-like network of 33 people with per-pair
  interaction probabilities ``q`` and a recommended switching rate ``r``.
* :func:`bluesky_crawl_cache`: a request cache of the Bluesky crawler (made by
  ``data/make_crawl_cache.py`` against a fake AppView serving the sample's synthetic
  accounts) and the crawl settings it answers, for running the crawler offline.

* :func:`real_data_dir`: where the real data sets (Congress Twitter, BaYaka, ...) are kept
  on this machine, if anywhere; they are never bundled.

The bundled sets are synthetic: drawn from documented random models, no real person's data
(see ``data/README.md``). The files are looked up in ``socialmarl/data/`` (an installed wheel)
and then in the top-level ``data/`` folder of a source checkout; the environment variable
``SOCIALMARL_DATA`` overrides both.

A damaged bundled file (binary or non-UTF-8, truncated ``.gz``, invalid JSON, a missing
column, a value that is not a number or out of range) raises ``ValueError`` naming the file
and line and saying how to fix it (usually: regenerate the data); a missing file raises
``FileNotFoundError``. Files are read through :mod:`socialmarl.common.reading`.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

from ..common.config_io import load_json
from ..common.reading import existing_file, open_text, parse_number, read_json, require_columns
from .bluesky.client import PACKED_CACHE_NAME
from .bluesky.format import BlueskyCrawl, read_crawl
from .graph import Graph
from .network import Network

__all__ = [
    "bundled_data_dir",
    "load_bluesky_sample",
    "load_bluesky_sample_crawl",
    "load_camp_sample",
    "bluesky_crawl_cache",
    "real_data_dir",
]

_MARKER = ("bluesky_sample", "camp_sample")


def _candidates() -> list[Path]:
    package = Path(__file__).resolve().parents[1]  # socialmarl/
    out = []
    env = os.environ.get("SOCIALMARL_DATA")
    if env:
        out.append(Path(env))
    out += [package / "data", package.parent / "data"]
    return out


def bundled_data_dir() -> Path:
    """The folder holding the bundled data sets.

    Looks in ``$SOCIALMARL_DATA``, then ``socialmarl/data`` (installed package), then the
    source checkout's top-level ``data/``; the first that holds both ``bluesky_sample/``
    and ``camp_sample/`` wins.

    Raises
    ------
    FileNotFoundError
        Naming every place searched and how to regenerate the data.

    Examples
    --------
    >>> (bundled_data_dir() / "bluesky_sample" / "meta.json").is_file()
    True
    """
    tried = _candidates()
    for d in tried:
        if all((d / m).is_dir() for m in _MARKER):
            return d
    raise FileNotFoundError(
        "socialmarl's bundled data was not found; looked in "
        + ", ".join(str(d) for d in tried)
        + ". In a source checkout run `python data/make_bundled_data.py`, or set "
        "SOCIALMARL_DATA to a folder holding bluesky_sample/ and camp_sample/"
    )


def load_bluesky_sample_crawl() -> BlueskyCrawl:
    """The synthetic Bluesky-like sample with its like counts and metadata.

    Returns
    -------
    BlueskyCrawl
        ``.graph`` (see :func:`load_bluesky_sample`), ``.edge_likes`` (the number of the
        sender's 20 sampled posts the receiver liked) and ``.meta`` (the generating model,
        its parameters and the statistics quoted in ``data/README.md``).

    Examples
    --------
    >>> crawl = load_bluesky_sample_crawl()
    >>> crawl.meta["synthetic"], int(crawl.edge_likes.sum()) == crawl.meta["stats"]["total_likes"]
    (True, True)
    """
    return read_crawl(bundled_data_dir() / "bluesky_sample")


def load_bluesky_sample() -> Graph:
    """A synthetic Bluesky-like follow graph: 1000 accounts, 14,559 follows.

    Edge ``j -> i`` (sender ``j``, receiver ``i``) means ``i`` follows ``j``; the edge
    weight is the human importance ``w_ij``: the fraction of ``j``'s 20 most recent posts
    that ``i`` liked, normalised over the accounts ``i`` follows (all zero for followers
    who liked nothing). Node attributes: ``did``, ``handle`` (synthetic, ``.invalid``
    domain), ``followers_count``, ``follows_count``, ``posts_count``, ``posts_sampled``
    and ``community`` (one of 8 topics).

    Returns
    -------
    Graph
        Directed, weighted; the weights are aligned with ``graph.edge_index``.

    Examples
    --------
    >>> g = load_bluesky_sample()
    >>> g.num_nodes, g.num_edges, g.directed
    (1000, 14559, True)
    >>> round(g.summary()["reciprocity"], 2)
    0.44
    """
    return load_bluesky_sample_crawl().graph


_REGENERATE = "regenerate the bundled data with `python data/make_bundled_data.py`"


def _read_csv(path: Path, needed: list[str]) -> list[tuple[int, dict[str, str]]]:
    """Rows of a bundled CSV file with their line numbers, after checking its columns."""
    if not path.exists():
        raise FileNotFoundError(f"{path}: missing; {_REGENERATE}")
    existing_file(path, "bundled data file")
    with open_text(path) as fh:
        reader = csv.DictReader(fh)
        require_columns(path, reader.fieldnames or [], needed)
        rows = []
        for row in reader:
            if None in row or None in row.values():
                more = "more" if None in row else "fewer"
                raise ValueError(
                    f"{path}, line {reader.line_num}: {more} fields than the "
                    f"{len(reader.fieldnames or [])} of the header; {_REGENERATE}"
                )
            rows.append((reader.line_num, row))
    if not rows:
        raise ValueError(f"{path}: no rows below the header; {_REGENERATE}")
    return rows


def load_camp_sample() -> Network:
    """A synthetic hunter-gatherer camp: 33 people in 8 households, with its camp process.

    The graph is undirected (both directions of each pair, same weight); the weight of a
    pair is ``q_ij``, the stationary probability that the two interact (the fraction of
    time they spend together), drawn from a model with households, spouses, mothers with
    young children, single-sex adult foraging parties and children's play groups. Node
    attributes: ``household``, ``role``, ``sex``, ``age``, ``age_class``.

    Returns
    -------
    Network
        ``graph`` (undirected, ``edge_weight`` = ``q``), ``interaction_rate`` (the
        recommended switching rate ``r`` per game step) and ``camp``, the two as the
        :class:`~socialmarl.networks.dynamic.CampProcess` a game takes.

    Examples
    --------
    >>> net = load_camp_sample()
    >>> net.graph.num_nodes, net.graph.directed, net.interaction_rate
    (33, False, 0.5)
    >>> net.camp.simulator(net.graph).num_pairs == net.graph.num_edges // 2
    True
    """
    folder = bundled_data_dir() / "camp_sample"
    mpath, npath, ppath = folder / "meta.json", folder / "nodes.csv", folder / "pairs.csv"
    if not mpath.exists():
        raise FileNotFoundError(f"{mpath}: missing; {_REGENERATE}")
    meta = read_json(mpath, "bundled metadata file")
    if not isinstance(meta, dict) or "r" not in meta:
        raise ValueError(f'{mpath}: no "r" (the switching rate) in it; {_REGENERATE}')
    r = parse_number(meta["r"], str(mpath), "r", low=0.0)
    if r == 0:
        raise ValueError(f"{mpath}: r = 0; the switching rate must be > 0; {_REGENERATE}")
    people = _read_csv(npath, ["id", "household", "role", "sex", "age", "age_class"])
    n = len(people)
    attrs: dict[str, list[Any]] = {k: [] for k in ("household", "role", "sex", "age",
                                                   "age_class")}
    for k, (line, p) in enumerate(people):
        where = f"{npath}, line {line}"
        if parse_number(p["id"], where, "id", integer=True) != k:
            raise ValueError(f"{where}: id {p['id']!r}; ids must be 0..N-1 in order")
        for col in ("household", "age"):
            attrs[col].append(parse_number(p[col], where, col, integer=True, low=0))
        for col in ("role", "sex", "age_class"):
            attrs[col].append(p[col])
    pairs, q = [], []
    seen: dict[tuple[int, int], int] = {}
    for line, row in _read_csv(ppath, ["id1", "id2", "q"]):
        where = f"{ppath}, line {line}"
        pairs.append(tuple(
            parse_number(row[c], where, c, integer=True, low=0, high=n - 1)
            for c in ("id1", "id2")
        ))
        a, b = pairs[-1]
        if a == b:
            raise ValueError(f"{where}: person {a} is paired with themselves; {_REGENERATE}")
        if (min(a, b), max(a, b)) in seen:
            raise ValueError(
                f"{where}: pair {a}-{b} is listed twice (first on line "
                f"{seen[min(a, b), max(a, b)]}); {_REGENERATE}"
            )
        seen[min(a, b), max(a, b)] = line
        q.append(parse_number(row["q"], where, "q", low=0.0, high=1.0))
    graph = Graph.from_edges(n, pairs, q, directed=False, name="camp_sample", node_attrs=attrs)
    return Network(graph, float(r), "bundled camp sample")


def bluesky_crawl_cache() -> tuple[Path, dict[str, Any]]:
    """The bundled request cache of the Bluesky crawler and the crawl settings it answers.

    ``data/make_crawl_cache.py`` ran the real crawler against an in-process fake AppView
    serving the synthetic accounts of :func:`load_bluesky_sample` and packed every request
    and answer into ``bluesky_crawl_cache/requests.jsonl.gz``. With the settings returned
    here the crawl runs offline, sending nothing:
    ``crawl_bluesky(**settings, cache_dir=folder, offline=True)``; other settings need
    requests the cache lacks and raise
    :class:`~socialmarl.networks.bluesky.client.CacheMissError`.

    Returns
    -------
    folder : Path
        The cache folder (pass it as ``cache_dir``; it is only read).
    settings : dict
        Keyword arguments of :func:`~socialmarl.networks.bluesky.crawler.crawl_bluesky`: ``seeds``,
        ``hops``, ``direction``, ``max_nodes``, ``max_fanout``, ``posts_per_account``,
        ``max_likes_per_post``, ``page_size``.

    Raises
    ------
    FileNotFoundError
        When the cache is not beside the other bundled data (regenerate it with
        ``python data/make_crawl_cache.py``).

    Examples
    --------
    >>> from socialmarl.networks.bluesky.crawler import crawl_bluesky
    >>> folder, settings = bluesky_crawl_cache()
    >>> settings["seeds"], settings["hops"], settings["max_nodes"]
    (['user0066.sample.invalid', 'user0126.sample.invalid'], 2, 120)
    >>> crawl = crawl_bluesky(**settings, cache_dir=folder, offline=True, progress=False)
    >>> crawl.graph.num_nodes, crawl.graph.num_edges, crawl.meta["requests"]["cache_misses"]
    (120, 981, 0)
    """
    folder = bundled_data_dir() / "bluesky_crawl_cache"
    info_path = folder / "crawl.json"
    if not (info_path.is_file() and (folder / PACKED_CACHE_NAME).is_file()):
        raise FileNotFoundError(
            f"{folder}: the bundled crawler request cache (crawl.json, requests.jsonl.gz) is "
            "missing; in a source checkout run `python data/make_crawl_cache.py`"
        )
    info = load_json(info_path)
    return folder, dict(info["settings"])


def real_data_dir(name: str | None = None) -> Path | None:
    """The folder of real (downloaded, not bundled) data sets, or ``None`` when absent.

    Looks in ``$SOCIALMARL_SHARED_DATA``, then in ``shared/data`` beside a source checkout
    (``../shared/data`` from the repository root), then in ``shared/data`` in the current
    directory and its parents. Notebooks and tests use it to find Congress Twitter and
    BaYaka (see the README, "Getting the real data") and skip that part when it is absent.

    Parameters
    ----------
    name : str, optional
        A data set sub-folder such as ``"congress_twitter"`` or ``"bayaka_coforaging"``;
        the result is then that sub-folder, or ``None`` when it is missing.

    Returns
    -------
    pathlib.Path or None

    Examples
    --------
    >>> import os, tempfile
    >>> from pathlib import Path
    >>> from socialmarl.networks.bundled import real_data_dir
    >>> old = os.environ.get("SOCIALMARL_SHARED_DATA")
    >>> d = Path(tempfile.mkdtemp())
    >>> (d / "congress_twitter").mkdir()
    >>> os.environ["SOCIALMARL_SHARED_DATA"] = str(d)
    >>> real_data_dir("congress_twitter") == d / "congress_twitter"
    True
    >>> real_data_dir("no_such_set") is None
    True
    >>> _ = os.environ.pop("SOCIALMARL_SHARED_DATA") if old is None else None
    >>> if old is not None:
    ...     os.environ["SOCIALMARL_SHARED_DATA"] = old
    """
    env = os.environ.get("SOCIALMARL_SHARED_DATA")
    if env:
        roots = [Path(env)]
    else:
        repo = Path(__file__).resolve().parents[2]
        cwd = Path.cwd().resolve()
        roots = [repo.parent / "shared" / "data"]
        roots += [p / "shared" / "data" for p in (cwd, *cwd.parents)]
    for root in roots:
        if root.is_dir():
            if name is None:
                return root
            if (root / name).is_dir():
                return root / name
    return None
