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
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

from .config import load_json
from .networks.atproto_http import PACKED_CACHE_NAME
from .networks.bluesky import BlueskyCrawl, read_crawl
from .networks.graph import Graph

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
    here = Path(__file__).resolve().parent
    out = []
    env = os.environ.get("SOCIALMARL_DATA")
    if env:
        out.append(Path(env))
    out += [here / "data", here.parent / "data"]
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


def _read_csv(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing; regenerate with data/make_bundled_data.py")
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def load_camp_sample() -> tuple[Graph, float]:
    """A synthetic hunter-gatherer camp: 33 people in 8 households, and its ``r``.

    The graph is undirected (both directions of each pair, same weight); the weight of a
    pair is ``q_ij``, the stationary probability that the two interact (the fraction of
    time they spend together), drawn from a model with households, spouses, mothers with
    young children, single-sex adult foraging parties and children's play groups. Node
    attributes: ``household``, ``role``, ``sex``, ``age``, ``age_class``.

    Returns
    -------
    graph : Graph
        Undirected, ``edge_weight`` = ``q``.
    r : float
        The recommended switching rate per game step for the Markov interaction process.

    Examples
    --------
    >>> from socialmarl.networks.dynamic import MarkovInteraction
    >>> g, r = load_camp_sample()
    >>> g.num_nodes, g.directed, r
    (33, False, 0.5)
    >>> MarkovInteraction(g, g.edge_weight, r).num_pairs == g.num_edges // 2
    True
    """
    folder = bundled_data_dir() / "camp_sample"
    meta = load_json(folder / "meta.json")
    people = _read_csv(folder / "nodes.csv")
    rows = _read_csv(folder / "pairs.csv")
    n = len(people)
    attrs: dict[str, list[Any]] = {
        "household": [int(p["household"]) for p in people],
        "role": [p["role"] for p in people],
        "sex": [p["sex"] for p in people],
        "age": [int(p["age"]) for p in people],
        "age_class": [p["age_class"] for p in people],
    }
    if [int(p["id"]) for p in people] != list(range(n)):
        raise ValueError(f"{folder / 'nodes.csv'}: ids must be 0..N-1 in order")
    pairs = [(int(r["id1"]), int(r["id2"])) for r in rows]
    q = [float(r["q"]) for r in rows]
    graph = Graph.from_edges(
        n, pairs, q, directed=False, name="camp_sample", node_attrs=attrs
    )
    return graph, float(meta["r"])


def bluesky_crawl_cache() -> tuple[Path, dict[str, Any]]:
    """The bundled request cache of the Bluesky crawler and the crawl settings it answers.

    ``data/make_crawl_cache.py`` ran the real crawler against an in-process fake AppView
    serving the synthetic accounts of :func:`load_bluesky_sample` and packed every request
    and answer into ``bluesky_crawl_cache/requests.jsonl.gz``. With the settings returned
    here the crawl runs offline, sending nothing:
    ``crawl_bluesky(**settings, cache_dir=folder, offline=True)``; other settings need
    requests the cache lacks and raise
    :class:`~socialmarl.networks.atproto_http.CacheMissError`.

    Returns
    -------
    folder : Path
        The cache folder (pass it as ``cache_dir``; it is only read).
    settings : dict
        Keyword arguments of :func:`~socialmarl.networks.bluesky.crawl_bluesky`: ``seeds``,
        ``hops``, ``direction``, ``max_nodes``, ``max_fanout``, ``posts_per_account``,
        ``max_likes_per_post``, ``page_size``.

    Raises
    ------
    FileNotFoundError
        When the cache is not beside the other bundled data (regenerate it with
        ``python data/make_crawl_cache.py``).

    Examples
    --------
    >>> from socialmarl.networks.bluesky import crawl_bluesky
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
    >>> from socialmarl.datasets import real_data_dir
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
        repo = Path(__file__).resolve().parents[1]
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
