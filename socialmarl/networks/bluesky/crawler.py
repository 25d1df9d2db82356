"""Crawl a k-hop Bluesky follow subgraph with human importance weights.

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

The weight of edge ``j -> i`` is the like importance of
:func:`~socialmarl.networks.bluesky.weights.like_weights`: ``likes_ij / posts_sampled_j``
normalised over the accounts ``i`` follows inside the crawl; a row with no likes at all
keeps weight 0 on every edge (no evidence) and is counted in the metadata.

Every request goes through an optional on-disk cache (one JSON file per request), so an
interrupted crawl run again with the same ``cache_dir`` resumes where it stopped and sends
no request twice. With ``offline=True`` the cache answers every request and nothing is
ever sent: a request it does not hold raises
:class:`~socialmarl.networks.bluesky.client.CacheMissError` naming it. Nothing is sent that
identifies you beyond the ``User-Agent``; no ``Authorization`` header unless you pass a
token.

The result is a :class:`~socialmarl.networks.bluesky.format.BlueskyCrawl`; its folder
format (``nodes.csv``, ``edges.csv``, ``meta.json``) is described and read in
:mod:`socialmarl.networks.bluesky.format`, pseudonyms in
:mod:`socialmarl.networks.bluesky.privacy`.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

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
from .format import _HANDLE_RE, FORMAT_NAME, FORMAT_VERSION, BlueskyCrawl
from .privacy import pseudonymise_crawl
from .weights import like_weights

__all__ = [
    "CrawlConfig",
    "BlueskyCrawler",
    "CrawlError",
    "AccountNotFoundError",
    "crawl_bluesky",
]

GET_FOLLOWS = "app.bsky.graph.getFollows"
GET_FOLLOWERS = "app.bsky.graph.getFollowers"
GET_PROFILES = "app.bsky.actor.getProfiles"
GET_AUTHOR_FEED = "app.bsky.feed.getAuthorFeed"
GET_LIKES = "app.bsky.feed.getLikes"
PROFILES_BATCH = 25  # maxLength of the ``actors`` parameter of getProfiles


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
