"""Turn "a network the user names" into a :class:`Graph`: :func:`load_network`.

One string (the command line's ``--graph``, a notebook's argument) names a network in one
of three ways:

1. a built-in name (:data:`BUILTIN_NAMES`): the bundled synthetic samples
   ``bluesky_sample`` and ``camp_sample`` (a dynamic camp), networkx's ``karate_club`` and
   ``les_miserables`` (unweighted), and ``ba<N>``, a Barabasi-Albert graph of ``N >= 8``
   nodes with ``m = 7`` (``ba100``, ``ba1000``, ...);
2. a real data set by name (:data:`REAL_DATA_NAMES`): ``congress_twitter`` and ``bayaka``
   (alias ``bayaka_coforaging``, a dynamic camp), read from ``data_dir`` or from
   :func:`socialmarl.networks.bundled.real_data_dir`; they are never bundled (see the README,
   "Getting the real data");
3. a path: a folder recognised by its contents (a Bluesky crawl written by
   :func:`~socialmarl.networks.bluesky.format.write_crawl`, a Congress Twitter folder, a BaYaka
   folder, a Failla-Rossetti Bluesky dump) or a file by its suffix (``.graphml``: GraphML;
   ``.csv`` / ``.csv.gz``: a CSV edge table with ``source,target`` columns; anything else:
   a whitespace-separated edge list).

A name wins over a file of the same name in the current directory; write ``./karate_club``
for the file.

Dynamic camps
-------------
``camp_sample`` and the BaYaka data are camps whose pairs interact on and off as the
two-state Markov process of :mod:`socialmarl.networks.dynamic`: ``graph.edge_weight`` holds
the stationary interaction probabilities ``q`` and :attr:`Network.interaction_rate` the
switching rate ``r`` per game step; :attr:`Network.camp` is the two together, the
:class:`~socialmarl.networks.dynamic.CampProcess` to play them with
(``ConsensusGame(net.graph, cfg, camp=net.camp)``, ``sm.train(net.graph, camp=net.camp)``).

BaYaka rate: ``q`` is ``days_together / days_exposed`` (:func:`load_bayaka`) and ``r`` is
the maximum-likelihood fit of
:func:`~socialmarl.networks.dynamic_fit.estimate_markov_interaction` to the daily series
(:func:`load_bayaka_daily`, ``days`` = day numbers), which is a rate *per day*. The data
have one observation per day and nothing finer, and the estimator's model is the game's
with a lag of one time unit equal to one step, so one game step is taken as one day
(:data:`BAYAKA_STEPS_PER_DAY` = 1): the per-step rate is the per-day rate, about 3.46 on the
published data (pairs are nearly redrawn every step). On the published data (60 people,
230 days, 219,556 transitions) the fit takes about 0.2-0.3 s and the whole load about 0.5 s
on a 2-core CPU (1.3 s in a fresh process, with the imports), so it is not cached.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .generators import barabasi_albert_graph, social_graph
from .network import Network

__all__ = [
    "BAYAKA_STEPS_PER_DAY",
    "BUILTIN_NAMES",
    "NETWORK_NAMES",
    "NETWORK_SPEC_HELP",
    "REAL_DATA_NAMES",
    "Network",
    "load_network",
    "real_data_folder",
]

BUILTIN_NAMES: tuple[str, ...] = (
    "bluesky_sample", "camp_sample", "karate_club", "les_miserables", "ba100", "ba1000",
)
"""Built-in network names (``ba<N>`` works for any ``N >= 8``; two examples are listed)."""

REAL_DATA_NAMES: tuple[str, ...] = ("congress_twitter", "bayaka", "bayaka_coforaging")
"""Names of the real (downloaded, never bundled) data sets; ``bayaka`` is an alias."""

NETWORK_NAMES: tuple[str, ...] = BUILTIN_NAMES + REAL_DATA_NAMES
"""Every name :func:`load_network` knows, for help texts."""

NETWORK_SPEC_HELP = (
    f"a built-in name ({', '.join(BUILTIN_NAMES)}; ba<N> for any N >= 8), a real data set "
    f"({', '.join(REAL_DATA_NAMES)}; found in $SOCIALMARL_SHARED_DATA or ../shared/data), "
    "or a path: an edge list (.txt, .edgelist, .edges, .tsv, .gz), a CSV edge table with "
    "source,target columns (.csv, .csv.gz), a GraphML file (.graphml), or a folder holding "
    "a Bluesky crawl, Congress Twitter, BaYaka or a Bluesky dump (followers.csv.gz)"
)
"""One-paragraph description of the accepted specs, for ``--help``."""

BAYAKA_STEPS_PER_DAY = 1.0
"""Game steps per day of the BaYaka series: the per-step rate is ``r_per_day / this``."""

_BA = re.compile(r"ba(\d+)")
_BA_M = 7


@dataclass(frozen=True)
class _RealSet:
    title: str
    folder: str  # sub-folder name under the shared data folder
    marker: str  # a file every copy of the data set holds
    how: str  # how to get it


_REAL: dict[str, _RealSet] = {
    "congress_twitter": _RealSet(
        "Congress Twitter", "congress_twitter", "congress.edgelist",
        "run `socialmarl.load_congress_twitter(download=True)` once (it fetches "
        "congress_network.zip from SNAP into the download cache, where it is found next "
        "time), or unpack that archive into a folder congress_twitter/ holding "
        "congress.edgelist and congress_network_data.json",
    ),
    "bayaka_coforaging": _RealSet(
        "BaYaka co-foraging", "bayaka_coforaging", "bayaka_nodes.csv",
        "download Dryad doi:10.5061/dryad.70rxwdc4t (PublicVersion.RData, CC0) and export "
        "its tables to bayaka_nodes.csv, bayaka_dyads_static.csv, bayaka_daily_dyads.csv "
        "and bayaka_daily_presence.csv in a folder bayaka_coforaging/",
    ),
}
_REAL_ALIASES = {"congress_twitter": "congress_twitter", "bayaka": "bayaka_coforaging",
                 "bayaka_coforaging": "bayaka_coforaging"}
_README_HINT = "(see the README, 'Getting the real data')"


# ------------------------------------------------------------------------------ built-ins
def _builtin(name: str, seed: int) -> Network | None:
    if name == "bluesky_sample":
        from .bundled import load_bluesky_sample

        return Network(load_bluesky_sample(), None, "bundled Bluesky-like sample")
    if name == "camp_sample":
        from .bundled import load_camp_sample

        return load_camp_sample()
    if name in ("karate_club", "les_miserables"):
        return Network(social_graph(name, weighted=False), None, f"networkx {name} (unweighted)")
    m = _BA.fullmatch(name)
    if m:
        n = int(m.group(1))
        if n <= _BA_M:
            raise ValueError(
                f"{name!r}: ba<N> is a Barabasi-Albert graph where each new node links to "
                f"m = {_BA_M} others, so it needs N >= {_BA_M + 1}"
            )
        return Network(
            barabasi_albert_graph(n, _BA_M, seed=seed), None,
            f"Barabasi-Albert graph (N = {n}, m = {_BA_M}, seed {seed})",
        )
    return None


# ------------------------------------------------------------------------------ real data
def _shared_places() -> str:
    """Where :func:`socialmarl.networks.bundled.real_data_dir` looks, in words."""
    env = os.environ.get("SOCIALMARL_SHARED_DATA")
    if env:
        return f"$SOCIALMARL_SHARED_DATA ({env})"
    repo = Path(__file__).resolve().parents[2]
    return (
        f"$SOCIALMARL_SHARED_DATA (unset), {repo.parent / 'shared' / 'data'} and "
        f"shared/data in {Path.cwd().resolve()} and its parents"
    )


def _congress_cache() -> Path:
    from .loaders.congress import default_cache_dir

    return default_cache_dir() / "congress_twitter"


def _real_folder(key: str, data_dir: str | os.PathLike | None) -> Path:
    info = _REAL[key]
    if data_dir is not None:
        base = Path(data_dir).expanduser()
        for d in (base, base / info.folder):
            if (d / info.marker).is_file():
                return d
        raise FileNotFoundError(
            f"{info.title} data not found: no {info.marker} in {base} nor in "
            f"{base / info.folder}; pass the data set's folder or a folder holding "
            f"{info.folder}/. To get it, {info.how} {_README_HINT}"
        )
    from .bundled import real_data_dir

    found = real_data_dir(info.folder)
    if found is not None:
        return found
    places = _shared_places()
    if key == "congress_twitter":
        cache = _congress_cache()
        if (cache / info.marker).is_file():
            return cache
        places += f", and the download cache {cache}"
    raise FileNotFoundError(
        f"{info.title} data not found: looked for {info.folder}/ in {places}. To get it, "
        f"{info.how}, then put it in one of those places, set SOCIALMARL_SHARED_DATA to the "
        f"folder holding {info.folder}/, or pass data_dir {_README_HINT}"
    )


def real_data_folder(name: str, data_dir: str | os.PathLike | None = None) -> Path:
    """The folder holding real data set ``name``, where :func:`load_network` would read it.

    Looks where ``load_network(name, data_dir=...)`` looks (``data_dir``, the shared data
    folder, Congress Twitter's download cache) and raises ``FileNotFoundError`` saying where
    it looked and how to get the data when it is absent.

    Examples
    --------
    >>> real_data_folder("karate_club")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: 'karate_club' is not a real data set; the real data sets are congress_twitter, ...
    """
    if name not in _REAL_ALIASES:
        raise ValueError(f"{name!r} is not a real data set; the real data sets are "
                         f"{', '.join(REAL_DATA_NAMES)}")
    return _real_folder(_REAL_ALIASES[name], data_dir)


def _load_bayaka(folder: Path, source: str) -> Network:
    from .loaders.camps import load_bayaka, load_bayaka_daily

    graph = load_bayaka(folder)
    daily = load_bayaka_daily(folder)  # the same graph (same files, same include_zero)
    fit = daily.fit_markov()  # r per day: `days` are the day numbers
    rate = fit.r / BAYAKA_STEPS_PER_DAY
    return Network(
        graph, float(rate),
        f"{source} (q = days together / days exposed; r = {fit.r:.3g} per day fitted to "
        f"{len(daily.days)} days, {BAYAKA_STEPS_PER_DAY:g} game step per day)",
    )


def _load_real(key: str, data_dir: str | os.PathLike | None) -> Network:
    folder = _real_folder(key, data_dir)
    if key == "congress_twitter":
        from .loaders.congress import load_congress_twitter

        return Network(load_congress_twitter(folder), None, f"Congress Twitter from {folder}")
    return _load_bayaka(folder, f"BaYaka co-foraging from {folder}")


# ------------------------------------------------------------------------------ paths
def _is_crawl(d: Path) -> bool:
    return (d / "meta.json").is_file() and any(
        (d / f).is_file() for f in ("edges.csv", "edges.csv.gz")
    )


def _is_congress(d: Path) -> bool:
    return (d / "congress.edgelist").is_file()


def _is_bayaka(d: Path) -> bool:
    return (d / "bayaka_nodes.csv").is_file()


def _is_dump(d: Path) -> bool:
    return any((d / f).is_file() for f in ("followers.csv.gz", "followers.csv"))


_FOLDER_KINDS = (
    (_is_crawl, "meta.json with edges.csv or edges.csv.gz (a Bluesky crawl written by "
                "write_crawl or crawl_bluesky)"),
    (_is_congress, "congress.edgelist (Congress Twitter)"),
    (_is_bayaka, "bayaka_nodes.csv (BaYaka co-foraging)"),
    (_is_dump, "followers.csv.gz or followers.csv (a Failla-Rossetti Bluesky dump)"),
)


def _load_folder(d: Path, seed: int) -> Network:
    if _is_crawl(d):
        from .bluesky.format import read_crawl

        return Network(read_crawl(d).graph, None, f"Bluesky crawl {d}")
    if _is_congress(d):
        from .loaders.congress import load_congress_twitter

        return Network(load_congress_twitter(d), None, f"Congress Twitter from {d}")
    if _is_bayaka(d):
        return _load_bayaka(d, f"BaYaka co-foraging from {d}")
    if _is_dump(d):
        from .loaders.bluesky_dump import load_bluesky_dump

        weighted = any((d / f).is_file() for f in ("interactions.csv.gz", "interactions.csv"))
        graph = load_bluesky_dump(d, seed=seed, interactions=weighted)
        how = "interaction weights" if weighted else "unweighted: no interactions.csv.gz"
        return Network(
            graph, None, f"Bluesky dump {d} ({graph.num_nodes}-user sample, seed {seed}, {how})"
        )
    wanted = "; ".join(what for _, what in _FOLDER_KINDS)
    try:
        entries = sorted(p.name for p in d.iterdir())
    except OSError:
        entries = []
    holds = ", ".join(entries[:12]) + (", ..." if len(entries) > 12 else "") or "nothing"
    inside = [p for p in (d / e for e in entries) if p.is_dir()
              and any(test(p) for test, _ in _FOLDER_KINDS)]
    hint = f"; did you mean {' or '.join(str(p) for p in inside[:3])}?" if inside else ""
    raise ValueError(
        f"folder {d} is not a network socialmarl recognises: it holds {holds}; looked for "
        f"{wanted}. For a single file, pass the file itself{hint}"
    )


def _load_file(p: Path) -> Network:
    from .loaders.files import load_csv_edges, load_edgelist, load_graphml

    low = p.name.lower()
    if low.endswith((".graphml", ".graphml.gz")):
        return Network(load_graphml(p), None, f"GraphML {p}")
    if low.endswith((".csv", ".csv.gz")):
        return Network(load_csv_edges(p), None, f"CSV edge table {p}")
    return Network(load_edgelist(p), None, f"edge list {p}")


def _unknown(spec: str) -> ValueError:
    close = difflib.get_close_matches(spec.lower(), NETWORK_NAMES, n=3, cutoff=0.6)
    if not close and spec.lower().startswith("ba"):
        close = ["ba<N> (N >= 8)"]
    hint = f"Did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
    where = Path(spec).expanduser()
    return ValueError(
        f"unknown network {spec!r}: not a known name and no file or folder {where.resolve()} "
        f"exists. {hint}Give a built-in name ({', '.join(BUILTIN_NAMES)}; ba<N> for any "
        f"N >= {_BA_M + 1}), a real data set ({', '.join(REAL_DATA_NAMES)}), or the path of "
        "an existing file (edge list, .csv, .graphml) or folder (Bluesky crawl, Congress "
        "Twitter, BaYaka, Bluesky dump)"
    )


# ------------------------------------------------------------------------------ entry point
def load_network(
    spec: str | os.PathLike, *, data_dir: str | os.PathLike | None = None, seed: int = 0
) -> Network:
    """Load the network a user names: a built-in name, a real data set, or a path.

    Parameters
    ----------
    spec : str or PathLike
        One of

        * a built-in name (:data:`BUILTIN_NAMES`): ``bluesky_sample``, ``camp_sample``
          (dynamic, ``r`` from :func:`~socialmarl.networks.bundled.load_camp_sample`),
          ``karate_club``, ``les_miserables`` (unweighted), ``ba<N>`` for any ``N >= 8``
          (Barabasi-Albert, ``m = 7``);
        * a real data set (:data:`REAL_DATA_NAMES`): ``congress_twitter``; ``bayaka`` or
          ``bayaka_coforaging`` (dynamic: ``q`` from :func:`load_bayaka`, ``r`` fitted to
          the daily series, one game step per day; see the module docstring);
        * the path of a folder, recognised by its contents, in this order: ``meta.json``
          with ``edges.csv[.gz]`` (a Bluesky crawl, :func:`read_crawl`),
          ``congress.edgelist`` (:func:`load_congress_twitter`), ``bayaka_nodes.csv``
          (BaYaka, dynamic as above), ``followers.csv[.gz]`` (a Failla-Rossetti dump,
          :func:`load_bluesky_dump` with its default 1000 users, weighted when
          ``interactions.csv.gz`` is there);
        * the path of a file, by suffix: ``.graphml`` (:func:`load_graphml`), ``.csv`` /
          ``.csv.gz`` (:func:`load_csv_edges`: columns ``source``, ``target``, unweighted),
          anything else (:func:`load_edgelist`: ``u v`` or ``u v w`` lines, directed).

        A ``str`` equal to a name is the name, not a file in the current directory.
    data_dir : str or PathLike, optional
        For real data set names only: the data set's own folder or a folder holding
        ``congress_twitter/`` / ``bayaka_coforaging/``. Default: look with
        :func:`socialmarl.networks.bundled.real_data_dir` (``$SOCIALMARL_SHARED_DATA``, then
        ``../shared/data`` beside the checkout) and, for Congress, in the download cache
        of ``load_congress_twitter(download=True)``.
    seed : int
        Seed of ``ba<N>`` and of the random part of a Bluesky dump's sample.

    Returns
    -------
    Network
        ``graph``; ``interaction_rate`` (not None exactly for a dynamic camp, whose
        ``graph.edge_weight`` is then ``q``); ``source``, in words.

    Raises
    ------
    ValueError
        For an unknown name or a path that does not exist (listing the names and
        suggesting the closest one), ``ba<N>`` with ``N < 8``, or a folder that matches no
        known layout (listing what was looked for). The loaders' own ``ValueError`` /
        ``FileNotFoundError`` for unreadable files pass through unchanged.
    FileNotFoundError
        A real data set that is not found, saying where it looked and how to get it.

    Examples
    --------
    >>> net = load_network("camp_sample")
    >>> net.graph.num_nodes, net.interaction_rate, net.source
    (33, 0.5, 'bundled camp sample')
    >>> load_network("ba100", seed=1).graph.num_nodes
    100
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "friends.txt"
    >>> _ = path.write_text("alice bob\\nbob carol\\n")
    >>> net = load_network(path)
    >>> net.graph.num_nodes, net.graph.num_edges, net.interaction_rate
    (3, 2, None)
    >>> load_network("karate_clb")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: unknown network 'karate_clb': ... Did you mean 'karate_club'? ...
    """
    if isinstance(spec, str):
        if not spec.strip():
            raise ValueError(f"empty network spec {spec!r}; {NETWORK_SPEC_HELP}")
        net = _builtin(spec, seed)
        if net is not None:
            return net
        if spec in _REAL_ALIASES:
            return _load_real(_REAL_ALIASES[spec], data_dir)
    elif not isinstance(spec, os.PathLike):
        raise TypeError(f"spec must be a str or a path, got {type(spec).__name__}")
    path = Path(spec).expanduser()
    if path.is_dir():
        return _load_folder(path, seed)
    if path.exists():
        return _load_file(path)
    raise _unknown(os.fspath(spec))
