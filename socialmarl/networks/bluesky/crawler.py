"""Crawl a k-hop Bluesky follow subgraph with human importance weights, and its file format.

The crawler reads the public AT Protocol AppView (no login) through a swappable HTTP layer
(:mod:`socialmarl.networks.bluesky.client`):

1. the seeds are resolved with ``app.bsky.actor.getProfiles`` (an unknown or deleted seed
   raises :class:`AccountNotFoundError` naming it);
2. **expansion**: breadth first for ``hops`` hops along ``app.bsky.graph.getFollows``
   (and/or ``getFollowers``), reading at most ``max_fanout`` entries of each list and
   adding accounts until ``max_nodes`` are known;
3. **edges**: the follow list of every account in the set (cursor pagination, pages of up
   to 100) gives the induced subgraph: an edge ``j -> i`` (sender ``j``, receiver ``i``)
   when ``i`` follows ``j``, i.e. "i observes j";
4. **profiles**: ``app.bsky.actor.getProfiles`` in batches of 25 gives the follower,
   follow and post counts (accounts it no longer returns are dropped);
5. **likes**: for every followed account ``j`` its most recent ``posts_per_account`` own
   posts (``app.bsky.feed.getAuthorFeed``, reposts skipped) and their likers
   (``app.bsky.feed.getLikes``); ``likes_ij`` counts the posts of ``j`` that ``i`` liked.

The human importance weight of edge ``j -> i`` is

    raw_ij = likes_ij / posts_sampled_j   (the fraction of j's recent posts that i liked)
    w_ij   = raw_ij / sum_{j' in N(i)} raw_ij'

normalised over the accounts ``i`` follows inside the crawl; a row with no likes at all
keeps weight 0 on every edge (no evidence) and is counted in the metadata.

Every request goes through an optional on-disk cache (one JSON file per request), so an
interrupted crawl run again with the same ``cache_dir`` resumes where it stopped and sends
no request twice. With ``offline=True`` the cache answers every request and nothing is
ever sent: a request it does not hold raises
:class:`~socialmarl.networks.bluesky.client.CacheMissError` naming it. Nothing is sent that
identifies you beyond the ``User-Agent``; no ``Authorization`` header unless you pass a
token.

Output format (a folder, no pickles): ``nodes.csv`` (``node, did, handle,
followers_count, follows_count, posts_count, posts_sampled, hop`` and any further node
attributes), ``edges.csv`` (``sender, receiver, weight, likes``; node ids 0-based, sender
= followed account, receiver = follower) and ``meta.json`` (format name and version, the
crawl configuration, seeds, dropped accounts, pagination problems, request counts). The
CSV files may be gzipped (``nodes.csv.gz``). :func:`read_crawl` loads it back.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as _dt
import gzip
import hmac
import io
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from hashlib import sha256
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from ...common.config_io import atomic_write_bytes, load_json, save_json
from ...common.files import remove_stale_temp_files
from ...common.reading import existing_file, existing_folder, file_errors, parse_number, read_text
from ..graph import Graph
from .client import (
    PUBLIC_APPVIEW,
    CachedClient,
    OfflineClient,
    RequestCache,
    UrllibClient,
    XrpcClient,
    XrpcError,
)

__all__ = [
    "CrawlConfig",
    "BlueskyCrawl",
    "BlueskyCrawler",
    "CrawlError",
    "AccountNotFoundError",
    "crawl_bluesky",
    "like_weights",
    "write_crawl",
    "read_crawl",
    "pseudonymise_crawl",
    "FORMAT_NAME",
    "FORMAT_VERSION",
]

FORMAT_NAME = "socialmarl-bluesky-crawl"
FORMAT_VERSION = 1

GET_FOLLOWS = "app.bsky.graph.getFollows"
GET_FOLLOWERS = "app.bsky.graph.getFollowers"
GET_PROFILES = "app.bsky.actor.getProfiles"
GET_AUTHOR_FEED = "app.bsky.feed.getAuthorFeed"
GET_LIKES = "app.bsky.feed.getLikes"
PROFILES_BATCH = 25  # maxLength of the ``actors`` parameter of getProfiles

_NODE_COLUMNS = (
    "did", "handle", "followers_count", "follows_count", "posts_count", "posts_sampled", "hop",
)
_INT_COLUMNS = {"followers_count", "follows_count", "posts_count", "posts_sampled", "hop"}
_STR_COLUMNS = {"did", "handle"}
_HANDLE_RE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")


class CrawlError(RuntimeError):
    """The crawl cannot give a usable result (for example no edge at all)."""


class AccountNotFoundError(CrawlError):
    """A seed account is unknown, deleted or deactivated; ``account`` names it."""

    def __init__(self, account: str, detail: str) -> None:
        self.account = account
        super().__init__(detail)


# ---------------------------------------------------------------------------- configuration
@dataclass
class CrawlConfig:
    """What to crawl and how politely.

    Parameters
    ----------
    seeds : tuple of str
        Handles (``alice.bsky.social``, a leading ``@`` is dropped) or DIDs to start from.
    hops : int
        Expansion depth (0 keeps only the seeds).
    direction : {"follows", "followers", "both"}
        Which lists to expand along: accounts the current ones follow, their followers,
        or both. Edges always come from the follow lists of the final set.
    max_nodes : int
        Cap on the number of accounts (seeds count; discovery order decides who enters).
    max_fanout : int
        Most entries read from one account's follow (or follower) list, newest first.
    posts_per_account : int
        Recent own posts sampled per followed account for the like weights.
    max_likes_per_post : int
        Most likes read per post.
    feed_filter : str
        ``filter`` of getAuthorFeed (``posts_no_replies`` by default).
    likes : bool
        Fetch posts and likes (False: all weights 0 and no feed requests).
    page_size : int
        ``limit`` per page, 1..100.
    max_pages : int
        Hard bound on pages per paginated list (a guard against endless cursors).
    base_url, rate_limit, max_retries, backoff_base :
        Settings of the default :class:`~socialmarl.networks.bluesky.client.UrllibClient`
        (ignored when you pass your own client).
    timeout : float
        Seconds one attempt of a request waits for the connection and each read (default
        15 s), a setting of the default client.
    deadline : float or None
        Seconds after which one request, all its retries and back-offs together, gives up
        with :class:`~socialmarl.networks.bluesky.client.RequestFailedError` (default 60 s;
        pauses the server asks for with HTTP 429 do not count; ``None``: no deadline), a
        setting of the default client. Slow answers and retries are announced as warnings
        on the ``socialmarl.networks.bluesky.client`` logger.

    Examples
    --------
    >>> CrawlConfig(seeds=("@Alice.bsky.social",), hops=2).seeds
    ('alice.bsky.social',)
    """

    seeds: tuple[str, ...] = ()
    hops: int = 1
    direction: str = "follows"
    max_nodes: int = 1000
    max_fanout: int = 1000
    posts_per_account: int = 20
    max_likes_per_post: int = 1000
    feed_filter: str = "posts_no_replies"
    likes: bool = True
    page_size: int = 100
    max_pages: int = 200
    base_url: str = PUBLIC_APPVIEW
    rate_limit: float = 3.0
    timeout: float = 15.0
    max_retries: int = 6
    backoff_base: float = 1.0
    deadline: float | None = 60.0

    def __post_init__(self) -> None:
        if isinstance(self.seeds, str):
            self.seeds = (self.seeds,)
        self.seeds = tuple(_normalise_actor(s) for s in self.seeds)
        if not self.seeds:
            raise ValueError("no seeds given; pass at least one handle or DID to start from")
        if len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"seeds {list(self.seeds)} repeat an account; give each once")
        checks = [
            ("hops", self.hops, 0), ("max_nodes", self.max_nodes, 1),
            ("max_fanout", self.max_fanout, 1), ("posts_per_account", self.posts_per_account, 1),
            ("max_likes_per_post", self.max_likes_per_post, 1), ("max_pages", self.max_pages, 1),
            ("page_size", self.page_size, 1), ("max_retries", self.max_retries, 0),
        ]
        for name, value, least in checks:
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ValueError(f"{name}={value!r}: must be an integer >= {least}")
        if self.page_size > 100:
            raise ValueError(f"page_size={self.page_size}: the AppView allows at most 100")
        if self.direction not in ("follows", "followers", "both"):
            raise ValueError(
                f"direction={self.direction!r}; use 'follows', 'followers' or 'both'"
            )
        if len(self.seeds) > self.max_nodes:
            raise ValueError(
                f"{len(self.seeds)} seeds but max_nodes={self.max_nodes}; raise max_nodes"
            )


def _normalise_actor(actor: str) -> str:
    if not isinstance(actor, str) or not actor.strip():
        raise ValueError(f"seed {actor!r} is not a handle or DID")
    a = actor.strip()
    if a.startswith("@"):
        a = a[1:]
    if a.startswith("did:"):
        if not re.fullmatch(r"did:[a-z]+:[A-Za-z0-9._:%-]+", a):
            raise ValueError(f"seed {actor!r} is not a valid DID (did:method:identifier)")
        return a
    a = a.lower()
    if not _HANDLE_RE.fullmatch(a):
        raise ValueError(
            f"seed {actor!r} is neither a DID nor a handle like 'alice.bsky.social'"
        )
    return a


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


def like_weights(
    graph: Graph, edge_likes: Any, posts_sampled: Any
) -> torch.Tensor:
    """Normalised like importance per edge.

    ``raw_ij = likes_ij / posts_sampled_j`` (0 where ``j`` has no sampled post), then each
    receiver's row is divided by its sum over the receiver's in-neighbours; rows that sum
    to 0 stay 0.

    Parameters
    ----------
    graph : Graph
        Edges ``j -> i`` (sender j followed by receiver i).
    edge_likes : array-like, shape (E,)
        Posts of the sender that the receiver liked, aligned with ``graph.edge_index``.
    posts_sampled : array-like, shape (N,)
        Number of recent posts sampled per account.

    Returns
    -------
    Tensor
        ``(E,)`` float64 weights; every receiver's weights sum to 1 or are all 0.

    Examples
    --------
    >>> from socialmarl.networks.graph import Graph
    >>> g = Graph(3, [[1, 2], [0, 0]])          # 0 follows 1 and 2
    >>> like_weights(g, [1, 3], [0, 4, 6]).tolist()   # raw 1/4 and 3/6
    [0.3333333333333333, 0.6666666666666666]
    """
    likes = torch.as_tensor(np.asarray(edge_likes, dtype=np.float64)).reshape(-1)
    posts = torch.as_tensor(np.asarray(posts_sampled, dtype=np.float64)).reshape(-1)
    if likes.numel() != graph.num_edges:
        raise ValueError(f"{likes.numel()} like counts for {graph.num_edges} edges")
    if posts.numel() != graph.num_nodes:
        raise ValueError(f"{posts.numel()} post counts for {graph.num_nodes} nodes")
    if (likes < 0).any() or (posts < 0).any():
        raise ValueError("like and post counts must be >= 0")
    s, r = graph.senders.cpu(), graph.receivers.cpu()
    p = posts[s]
    if ((likes > p) & (p > 0)).any():
        k = int(torch.nonzero((likes > p) & (p > 0))[0])
        raise ValueError(
            f"edge {(int(s[k]), int(r[k]))} has {int(likes[k])} likes but its sender has only "
            f"{int(p[k])} sampled posts; likes count distinct posts"
        )
    raw = torch.where(p > 0, likes / p.clamp_min(1.0), torch.zeros_like(likes))
    row = torch.zeros(graph.num_nodes, dtype=torch.float64).index_add_(0, r, raw)
    denom = row[r]
    return torch.where(denom > 0, raw / denom.clamp_min(1e-300), torch.zeros_like(raw))


# ---------------------------------------------------------------------------- the crawler
class BlueskyCrawler:
    """Breadth-first crawler of the Bluesky follow graph (see the module docstring).

    Parameters
    ----------
    config : CrawlConfig
        What to crawl.
    client : XrpcClient, optional
        The HTTP layer; default a polite :class:`UrllibClient` built from ``config``.
    cache_dir : path, optional
        On-disk request cache; a re-run with the same folder resumes and re-sends nothing
        that is cached. The cache holds raw (not pseudonymised) API answers.
    auth_token : str, optional
        Bearer token for the default client; by default no ``Authorization`` header.
    progress : bool
        Show tqdm progress bars.
    offline : bool
        Answer every request from ``cache_dir`` (required) and never touch the network; a
        request the cache does not hold raises
        :class:`~socialmarl.networks.bluesky.client.CacheMissError` naming it. ``client``
        and ``auth_token`` must then be left out.

    Examples
    --------
    >>> class NoNetwork:   # any object with get_json(method, params) plugs in
    ...     def get_json(self, method, params):
    ...         return {"profiles": []}
    >>> crawler = BlueskyCrawler(CrawlConfig(seeds=("nobody.test",)), client=NoNetwork(),
    ...                          progress=False)
    >>> crawler.run()
    Traceback (most recent call last):
    ...
    socialmarl...AccountNotFoundError: seed account 'nobody.test' was not found ...
    """

    def __init__(
        self,
        config: CrawlConfig,
        *,
        client: XrpcClient | None = None,
        cache_dir: str | os.PathLike | None = None,
        auth_token: str | None = None,
        progress: bool = True,
        offline: bool = False,
    ) -> None:
        if not isinstance(config, CrawlConfig):
            raise TypeError(f"config must be a CrawlConfig, got {type(config).__name__}")
        self.config = config
        self.offline = bool(offline)
        if self.offline:
            if cache_dir is None:
                raise ValueError(
                    "offline=True needs cache_dir: the request cache that answers every request"
                )
            if client is not None or auth_token is not None:
                raise ValueError(
                    "offline=True sends no request; leave out client and auth_token"
                )
            cache = RequestCache(cache_dir, create=False)
            client = OfflineClient(cache.directory)
            cache_dir = None
            self.http: XrpcClient = CachedClient(client, cache)
        elif client is None:
            client = UrllibClient(
                config.base_url, rate_limit=config.rate_limit, timeout=config.timeout,
                deadline=config.deadline, max_retries=config.max_retries,
                backoff_base=config.backoff_base, auth_token=auth_token,
            )
        elif auth_token is not None:
            raise ValueError("auth_token is for the default client; give it to your own client")
        if not callable(getattr(client, "get_json", None)):
            raise TypeError("client must have a get_json(method, params) method")
        self.client = client
        if not self.offline:
            self.http = client
        if cache_dir is not None:
            self.http = CachedClient(client, RequestCache(cache_dir))
        self.progress = bool(progress)
        self.num_calls = 0
        self._lists: dict[tuple[str, str], list[tuple[str, str]] | None] = {}
        self._unavailable: dict[str, dict[str, str]] = {}
        self._issues: list[dict[str, Any]] = []

    # -------------------------------------------------------------- requests
    def _get(self, method: str, params: Mapping[str, Any]) -> dict[str, Any]:
        self.num_calls += 1
        data = self.http.get_json(method, params)
        if not isinstance(data, dict):
            raise CrawlError(f"{method} {dict(params)} answered {type(data).__name__}, not JSON")
        return data

    def _paginate(
        self, method: str, params: Mapping[str, Any], list_key: str, max_items: int
    ) -> list[dict[str, Any]]:
        """Follow cursors until ``max_items``, no cursor, a repeated cursor or max_pages."""
        cfg = self.config
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        seen: set[str] = set()
        for _ in range(cfg.max_pages):
            limit = min(cfg.page_size, max_items - len(items))
            if limit <= 0:
                break
            page = self._get(method, {**params, "limit": limit, "cursor": cursor})
            batch = page.get(list_key)
            if not isinstance(batch, list):
                raise CrawlError(
                    f"{method} {dict(params)} answered without a {list_key!r} list "
                    f"(keys {sorted(page)}); is base_url an AT Protocol AppView?"
                )
            items.extend(x for x in batch[:limit] if isinstance(x, dict))
            nxt = page.get("cursor")
            if not nxt or not isinstance(nxt, str):
                break
            if nxt in seen or nxt == cursor:
                self._issues.append(
                    {"kind": "repeated_cursor", "method": method, **dict(params),
                     "items": len(items)}
                )
                break
            seen.add(nxt)
            cursor = nxt
        else:
            self._issues.append(
                {"kind": "max_pages", "method": method, **dict(params), "items": len(items)}
            )
        return items[:max_items]

    def _neighbours(self, rel: str, did: str) -> list[tuple[str, str]] | None:
        """``(did, handle)`` of the accounts ``did`` follows (or its followers); None if gone."""
        key = (rel, did)
        if key not in self._lists:
            method, list_key = (
                (GET_FOLLOWS, "follows") if rel == "follows" else (GET_FOLLOWERS, "followers")
            )
            try:
                items = self._paginate(method, {"actor": did}, list_key, self.config.max_fanout)
            except XrpcError as exc:
                if exc.status != 400:
                    raise
                self._unavailable.setdefault(
                    did, {"did": did, "reason": f"{method}: {exc.error} {exc.message}"}
                )
                self._lists[key] = None
                return None
            out = []
            for it in items:
                d = it.get("did")
                if isinstance(d, str) and d.startswith("did:"):
                    out.append((d, str(it.get("handle", ""))))
            self._lists[key] = out
        return self._lists[key]

    def _profiles(self, actors: Sequence[str], bar: Any = None) -> dict[str, dict[str, Any]]:
        """getProfiles in batches of 25; keyed by DID and by lower-case handle."""
        out: dict[str, dict[str, Any]] = {}
        for k in range(0, len(actors), PROFILES_BATCH):
            batch = list(actors[k:k + PROFILES_BATCH])
            data = self._get(GET_PROFILES, {"actors": batch})
            profiles = data.get("profiles")
            if not isinstance(profiles, list):
                raise CrawlError(f"{GET_PROFILES} answered without a 'profiles' list")
            for p in profiles:
                if isinstance(p, dict) and isinstance(p.get("did"), str):
                    out[p["did"]] = p
                    if isinstance(p.get("handle"), str):
                        out[p["handle"].lower()] = p
            if bar is not None:
                bar.update(len(batch))
        return out

    def _own_posts(self, did: str) -> list[dict[str, Any]] | None:
        """Most recent own posts of ``did`` (reposts of others and duplicates skipped)."""
        cfg = self.config
        posts: list[dict[str, Any]] = []
        uris: set[str] = set()
        cursor: str | None = None
        seen: set[str] = set()
        for _ in range(cfg.max_pages):
            need = cfg.posts_per_account - len(posts)
            if need <= 0:
                break
            params = {"actor": did, "filter": cfg.feed_filter}
            try:
                page = self._get(
                    GET_AUTHOR_FEED, {**params, "limit": min(cfg.page_size, need),
                                      "cursor": cursor}
                )
            except XrpcError as exc:
                if exc.status != 400:
                    raise
                self._issues.append(
                    {"kind": "feed_unavailable", "method": GET_AUTHOR_FEED, "actor": did,
                     "error": f"{exc.error} {exc.message}"}
                )
                return None
            feed = page.get("feed")
            if not isinstance(feed, list):
                raise CrawlError(f"{GET_AUTHOR_FEED} for {did} answered without a 'feed' list")
            for item in feed:
                post = item.get("post") if isinstance(item, dict) else None
                if not isinstance(post, dict):
                    continue
                reason = item.get("reason")
                if isinstance(reason, dict) and "reasonRepost" in str(reason.get("$type", "")):
                    continue  # a repost (also of the author's own older post)
                author = post.get("author") or {}
                uri = post.get("uri")
                if author.get("did") != did or not isinstance(uri, str) or uri in uris:
                    continue  # someone else's post, or a duplicate (a pinned post)
                uris.add(uri)
                posts.append(post)
                if len(posts) >= cfg.posts_per_account:
                    break
            nxt = page.get("cursor")
            if not nxt or not isinstance(nxt, str):
                break
            if nxt in seen or nxt == cursor:
                self._issues.append(
                    {"kind": "repeated_cursor", "method": GET_AUTHOR_FEED, **params,
                     "items": len(posts)}
                )
                break
            seen.add(nxt)
            cursor = nxt
        return posts[: cfg.posts_per_account]

    # -------------------------------------------------------------- the crawl
    def run(self) -> BlueskyCrawl:
        """Crawl and return the result (raises :class:`CrawlError` on an empty result)."""
        cfg = self.config
        started = _dt.datetime.now(_dt.timezone.utc)
        # 1. seeds
        seed_profiles = self._profiles(cfg.seeds)
        seed_dids: list[str] = []
        nodes: dict[str, dict[str, Any]] = {}
        for s in cfg.seeds:
            p = seed_profiles.get(s)
            if p is None:
                raise AccountNotFoundError(
                    s, f"seed account {s!r} was not found by {GET_PROFILES} (unknown handle, "
                    "or the account is deleted, deactivated or taken down); check the spelling "
                    "or choose another seed"
                )
            if p["did"] not in nodes:
                seed_dids.append(p["did"])
                nodes[p["did"]] = {"handle": str(p.get("handle", "")), "hop": 0}
        # 2. expansion
        rels = ["follows", "followers"] if cfg.direction == "both" else [cfg.direction]
        frontier = list(seed_dids)
        for hop in range(1, cfg.hops + 1):
            if not frontier or len(nodes) >= cfg.max_nodes:
                break
            nxt: list[str] = []
            for did in tqdm(frontier, desc=f"expand hop {hop}", disable=not self.progress,
                            leave=False):
                for rel in rels:
                    nbrs = self._neighbours(rel, did)
                    if nbrs is None:
                        break
                    for d, handle in nbrs:
                        if d not in nodes and len(nodes) < cfg.max_nodes:
                            nodes[d] = {"handle": handle, "hop": hop}
                            nxt.append(d)
            frontier = nxt
        self._check_seeds(seed_dids, nodes)
        # 3. edges of the induced subgraph
        follows: dict[str, list[str]] = {}
        for did in tqdm(list(nodes), desc="follow lists", disable=not self.progress,
                        leave=False):
            if did in self._unavailable:
                continue
            nbrs = self._neighbours("follows", did)
            if nbrs is not None:
                follows[did] = [d for d, _ in nbrs]
        self._check_seeds(seed_dids, nodes)
        # 4. profiles
        alive = [d for d in nodes if d not in self._unavailable]
        with tqdm(total=len(alive), desc="profiles", disable=not self.progress,
                  leave=False) as bar:
            profiles = self._profiles(alive, bar)
        for d in alive:
            if d not in profiles:
                self._unavailable.setdefault(
                    d, {"did": d, "reason": f"{GET_PROFILES}: not returned"}
                )
        self._check_seeds(seed_dids, nodes)
        order = [d for d in nodes if d not in self._unavailable]
        index = {d: k for k, d in enumerate(order)}
        pairs = sorted(
            {(index[j], index[i]) for i in order for j in follows.get(i, []) if j in index
             and j != i}
        )
        n = len(order)
        attrs: dict[str, list[Any]] = {
            "did": order,
            "handle": [str(profiles[d].get("handle", nodes[d]["handle"])) for d in order],
            "followers_count": [int(profiles[d].get("followersCount", 0) or 0) for d in order],
            "follows_count": [int(profiles[d].get("followsCount", 0) or 0) for d in order],
            "posts_count": [int(profiles[d].get("postsCount", 0) or 0) for d in order],
            "posts_sampled": [0] * n,
            "hop": [int(nodes[d]["hop"]) for d in order],
        }
        if not pairs:
            raise CrawlError(
                f"the crawl from seeds {list(cfg.seeds)} found {n} account(s) but no follow "
                f"edge among them (hops={cfg.hops}, direction={cfg.direction!r}, "
                f"max_nodes={cfg.max_nodes}); raise hops or max_nodes, or pick seeds that "
                "follow other accounts"
            )
        graph = Graph.from_edges(
            n, np.asarray(pairs, dtype=np.int64), name="bluesky-crawl", node_attrs=attrs
        )
        # 5. likes
        likes = torch.zeros(graph.num_edges, dtype=torch.int64)
        if cfg.likes:
            likes = self._likes(graph, order, attrs)
        weights = like_weights(graph, likes, attrs["posts_sampled"])
        graph = graph.with_weights(weights)
        rows_with_likes = int(torch.unique(graph.receivers[weights > 0]).numel())
        rows = int(torch.unique(graph.receivers).numel())
        meta = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "name": graph.name,
            "directed": True,
            "synthetic": False,
            "source": "offline request cache" if self.offline
            else getattr(self.client, "base_url", type(self.client).__name__),
            "started": started.isoformat(timespec="seconds"),
            "finished": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "config": dataclasses.asdict(cfg) | {"seeds": list(cfg.seeds)},
            "seeds": [{"seed": s, "did": seed_profiles[s]["did"]} for s in cfg.seeds],
            "num_nodes": graph.num_nodes,
            "num_edges": graph.num_edges,
            "edge_meaning": "sender = followed account j, receiver = follower i (i observes j)",
            "weight_definition": (
                "w_ij = (likes_ij / posts_sampled_j) normalised over the accounts i follows in "
                "the crawl; likes_ij = number of j's sampled recent posts that i liked; rows "
                "without any like are all 0"
            ),
            "receivers_with_likes": rows_with_likes,
            "receivers": rows,
            "unavailable_accounts": list(self._unavailable.values()),
            "pagination_issues": list(self._issues),
            "requests": {
                "calls": self.num_calls,
                "cache_hits": getattr(self.http, "hits", 0),
                "cache_misses": getattr(self.http, "misses", self.num_calls),
            },
            "pseudonymised": False,
        }
        return BlueskyCrawl(graph, likes, meta)

    def _check_seeds(self, seed_dids: Sequence[str], nodes: Mapping[str, Any]) -> None:
        for did in seed_dids:
            if did in self._unavailable:
                handle = nodes[did]["handle"]
                raise AccountNotFoundError(
                    handle or did,
                    f"seed account {handle or did!r} ({did}) is unavailable: "
                    f"{self._unavailable[did]['reason']} (deleted, deactivated or taken down); "
                    "choose another seed",
                )

    def _likes(self, graph: Graph, order: Sequence[str], attrs: dict[str, list[Any]]) -> Any:
        cfg = self.config
        index = {d: k for k, d in enumerate(order)}
        followed = sorted(set(graph.senders.tolist()))
        liked: set[tuple[int, int]] = set()  # (liker i, author j) pairs, one per post below
        counts: dict[tuple[int, int], int] = {}
        for j in tqdm(followed, desc="likes", disable=not self.progress, leave=False):
            posts = self._own_posts(order[j])
            if posts is None:
                continue
            attrs["posts_sampled"][j] = len(posts)
            for post in posts:
                if post.get("likeCount", 1) == 0:
                    continue  # nothing to fetch
                likers = self._paginate(
                    GET_LIKES, {"uri": post["uri"]}, "likes", cfg.max_likes_per_post
                )
                liked.clear()
                for like in likers:
                    actor = like.get("actor") or {}
                    i = index.get(actor.get("did"))
                    if i is not None and i != j and (i, j) not in liked:
                        liked.add((i, j))
                        counts[(i, j)] = counts.get((i, j), 0) + 1
        s = graph.senders.tolist()
        r = graph.receivers.tolist()
        graph.node_attrs["posts_sampled"] = attrs["posts_sampled"]
        return torch.tensor([counts.get((i, j), 0) for j, i in zip(s, r)], dtype=torch.int64)


def crawl_bluesky(
    seeds: str | Iterable[str],
    *,
    cache_dir: str | os.PathLike | None = None,
    client: XrpcClient | None = None,
    auth_token: str | None = None,
    progress: bool = True,
    pseudonymise_salt: str | bytes | None = None,
    offline: bool = False,
    **config: Any,
) -> BlueskyCrawl:
    """Crawl a k-hop Bluesky follow subgraph with like-importance weights.

    Parameters
    ----------
    seeds : str or iterable of str
        Handles or DIDs to start from.
    cache_dir : path, optional
        Request cache; strongly recommended for real crawls (resume after interruption).
    client : XrpcClient, optional
        HTTP layer; default the polite stdlib client for ``config["base_url"]``.
    auth_token : str, optional
        Bearer token for the default client (not needed for the public AppView).
    progress : bool
        Show progress bars.
    pseudonymise_salt : str or bytes, optional
        When given, handles and DIDs in the result are replaced by salted-hash pseudonyms
        (:func:`pseudonymise_crawl`). Keep the salt secret.
    offline : bool
        Answer every request from ``cache_dir`` and send none (see :class:`BlueskyCrawler`);
        a missing request raises :class:`~socialmarl.networks.bluesky.client.CacheMissError`.
    **config :
        Any :class:`CrawlConfig` field (``hops``, ``max_nodes``, ``max_fanout``, ...), for
        example ``timeout`` (seconds per attempt, default 15) and ``deadline`` (seconds per
        request with all its retries, default 60) of the default client.

    Returns
    -------
    BlueskyCrawl
        ``.graph`` (weights = like importance), ``.edge_likes``, ``.meta``; write it with
        ``.write(folder)``.

    Raises
    ------
    ~socialmarl.networks.bluesky.client.RequestFailedError
        When one request still fails after its retries or its ``deadline`` (an unreachable
        or silent server); the message names the host, the request and the fix. While it
        waits, slow answers and retries are announced as ``logging`` warnings.

    Examples
    --------
    >>> crawl_bluesky([], progress=False)
    Traceback (most recent call last):
    ...
    ValueError: no seeds given; pass at least one handle or DID to start from
    """
    seeds_t = (seeds,) if isinstance(seeds, str) else tuple(seeds)
    cfg = CrawlConfig(seeds=seeds_t, **config)
    crawl = BlueskyCrawler(
        cfg, client=client, cache_dir=cache_dir, auth_token=auth_token, progress=progress,
        offline=offline,
    ).run()
    if pseudonymise_salt is not None:
        crawl = pseudonymise_crawl(crawl, pseudonymise_salt)
    return crawl


# ---------------------------------------------------------------------------- pseudonyms
def pseudonymise_crawl(crawl: BlueskyCrawl, salt: str | bytes) -> BlueskyCrawl:
    """Replace DIDs and handles by salted-hash pseudonyms, consistently everywhere.

    A DID ``d`` becomes ``did:anon:<h>`` and its handle ``anon-<h[:12]>.invalid`` where
    ``h`` is the first 96 bits of HMAC-SHA256(salt, d) in hex: the same salt gives the same
    pseudonym in every file and every crawl, a different salt unlinkable ones. Node
    attributes, seeds, the configuration's seeds, dropped accounts and pagination notes in
    the metadata are all rewritten. The request cache is not touched.

    Examples
    --------
    >>> from socialmarl.networks.graph import Graph
    >>> g = Graph(2, [[0], [1]], node_attrs={"did": ["did:plc:aaa", "did:plc:bbb"],
    ...                                      "handle": ["a.test", "b.test"]})
    >>> p = pseudonymise_crawl(BlueskyCrawl(g), "secret")
    >>> p.graph.node_attrs["did"][0].startswith("did:anon:"), p.meta["pseudonymised"]
    (True, True)
    >>> p.graph.node_attrs["did"] == pseudonymise_crawl(BlueskyCrawl(g), "secret"
    ...                                                ).graph.node_attrs["did"]
    True
    """
    if isinstance(salt, str):
        salt = salt.encode("utf-8")
    if not isinstance(salt, bytes) or not salt:
        raise ValueError("give a non-empty secret salt (str or bytes) for pseudonymisation")
    if crawl.meta.get("pseudonymised"):
        raise ValueError("this crawl is already pseudonymised")

    def pid(did: str) -> str:
        return "did:anon:" + hmac.new(salt, did.encode("utf-8"), sha256).hexdigest()[:24]

    def phandle(did: str) -> str:
        return "anon-" + pid(did)[len("did:anon:"):][:12] + ".invalid"

    g = crawl.graph
    attrs = dict(g.node_attrs)
    dids = list(attrs.get("did", []))
    handles = list(attrs.get("handle", []))
    mapping: dict[str, str] = {}
    for k, d in enumerate(dids):
        mapping[d] = pid(d)
        if k < len(handles) and handles[k]:
            mapping[str(handles[k]).lower()] = pid(d)
    if "did" in attrs:
        attrs["did"] = [pid(d) for d in dids]
    if "handle" in attrs:
        attrs["handle"] = [phandle(d) for d in dids] if dids else [
            "anon-" + hmac.new(salt, str(h).encode(), sha256).hexdigest()[:12] + ".invalid"
            for h in handles
        ]
    meta = _json_copy(crawl.meta)
    for s in meta.get("seeds", []):
        mapping.setdefault(s.get("seed", ""), pid(s["did"]))
        s["seed"] = pid(s["did"])
        s["did"] = pid(s["did"])
    for u in meta.get("unavailable_accounts", []):
        u["did"] = pid(u["did"])
        u.pop("handle", None)

    def anon(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        if value in mapping:
            return mapping[value]
        if value.startswith("did:"):
            return pid(value)
        if value.startswith("at://"):
            authority, _, rest = value[5:].partition("/")
            return "at://" + anon(authority) + ("/" + rest if rest else "")
        if _HANDLE_RE.fullmatch(value.lower()):
            return "anon-" + hmac.new(salt, value.lower().encode(), sha256).hexdigest()[:12] \
                + ".invalid"
        return value

    for issue in meta.get("pagination_issues", []):
        for key in ("actor", "uri"):
            if key in issue:
                issue[key] = anon(issue[key])
    if "config" in meta and "seeds" in meta["config"]:
        meta["config"]["seeds"] = [anon(s) for s in meta["config"]["seeds"]]
    meta["pseudonymised"] = True
    meta["pseudonym_scheme"] = "HMAC-SHA256(secret salt, DID), first 96 bits, hex"
    graph = Graph(g.num_nodes, g.edge_index, g.edge_weight, attrs, g.name, g.directed)
    return BlueskyCrawl(graph, crawl.edge_likes, meta)


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
