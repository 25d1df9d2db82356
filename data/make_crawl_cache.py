"""Generate the synthetic Bluesky request cache bundled with socialmarl (see data/README.md).

Run from anywhere (socialmarl must be importable)::

    python data/make_crawl_cache.py            # rewrite data/bluesky_crawl_cache/
    python data/make_crawl_cache.py --out DIR  # write somewhere else
    python data/make_crawl_cache.py --check    # regenerate in a temporary folder and
                                               # compare with the shipped files

The real crawler (:func:`socialmarl.networks.bluesky.crawler.crawl_bluesky`) runs against
:class:`SampleAppView`, an in-process fake of the public AppView that serves the synthetic
accounts of the bundled ``bluesky_sample/`` (no real account, post or like: DIDs
``did:example:bsky-sample-NNNN``, handles on the reserved ``.invalid`` domain). Every
request it sends and every answer it gets land in a request cache, packed into one
archive, ``bluesky_crawl_cache/requests.jsonl.gz``; ``bluesky_crawl_cache/crawl.json``
holds the crawl settings that the cache answers and the statistics of the result. With
them a crawl runs offline::

    crawl_bluesky(**settings, cache_dir="data/bluesky_crawl_cache", offline=True)

The fake world: the sample's follow lists (newest first = the order of the sample's edge
list, reversed), its profile counts (which include followers and follows outside the
sample), and for every account its ``posts_sampled`` most recent own posts; each follower
``i`` of ``j`` liked exactly ``likes_ij`` of them (drawn uniformly, seed below), so a crawl
with ``posts_per_account=20`` recovers the sample's like counts on the crawled edges. A few
posts are also liked by accounts that do not follow the author (likes the crawler must not
count as follow edges), and some feeds carry reposts of other accounts' posts (which the
crawler must skip).
"""

from __future__ import annotations

import argparse
import base64
import filecmp
import json
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from socialmarl.common.config_io import save_json
from socialmarl.networks.bluesky.client import (
    PACKED_CACHE_NAME,
    CachedClient,
    RequestCache,
    XrpcError,
    canonical_params,
)
from socialmarl.networks.bluesky.crawler import crawl_bluesky
from socialmarl.networks.bluesky.format import BlueskyCrawl, read_crawl

HERE = Path(__file__).resolve().parent
FOLDER = "bluesky_crawl_cache"

WORLD = {
    "seed": 20260611,
    "stranger_like_prob": 0.15,  # chance per post of one like by a non-follower
    "repost_prob": 0.08,  # chance per feed item that a repost of another post precedes it
    "first_post_time": 1_720_000_000,  # fake timestamps (2024-07-03) ...
    "post_gap_seconds": 3_600,  # ... one post an hour, newest first
}

# The crawl the cache answers: two seeds in the sample's "rl" community, two hops along
# follows, at most 120 accounts, 20 posts sampled per followed account (as the sample).
CRAWL = {
    "seeds": ["user0066.sample.invalid", "user0126.sample.invalid"],
    "hops": 2,
    "direction": "follows",
    "max_nodes": 120,
    "max_fanout": 1000,
    "posts_per_account": 20,
    "max_likes_per_post": 1000,
    "page_size": 50,
}


def _iso(t: int) -> str:
    return np.datetime_as_string(np.datetime64(t, "s"), unit="ms") + "Z"


def _tid(seconds: int, clock_id: int) -> str:
    """A record key in the AT Protocol TID format: 13 base32-sortable characters holding
    the creation time in microseconds and a 10-bit clock id."""
    value = (seconds * 1_000_000) << 10 | (clock_id & 1023)
    return "".join(_TID_CHARS[(value >> (5 * k)) & 31] for k in range(12, -1, -1))


_TID_CHARS = "234567abcdefghijklmnopqrstuvwxyz"


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _offset(cursor: str | None) -> int | None:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        return int(text.removeprefix("offset:")) if text.startswith("offset:") else None
    except (ValueError, UnicodeDecodeError):
        return None


class SampleAppView:
    """An in-process fake of the public AppView serving the bundled synthetic accounts.

    It implements the five queries the crawler sends (``getProfiles``, ``getFollows``,
    ``getFollowers``, ``getAuthorFeed``, ``getLikes``) with the lexicon's response shapes,
    ``limit`` (1..100), opaque cursors, and ``400 InvalidRequest`` answers for unknown
    accounts, posts and malformed parameters. It is a plain ``get_json`` client, so no
    socket is opened.

    Parameters
    ----------
    sample : BlueskyCrawl
        The bundled ``bluesky_sample`` (``read_crawl``).
    world : dict
        Seed and rates of the synthetic posts and likes (default :data:`WORLD`).
    """

    base_url = "in-process fake AppView (synthetic accounts of bluesky_sample)"

    def __init__(self, sample: BlueskyCrawl, world: Mapping[str, Any] = WORLD) -> None:
        g = sample.graph
        attrs = g.node_attrs
        n = g.num_nodes
        self.dids: list[str] = list(attrs["did"])
        self.handles: list[str] = list(attrs["handle"])
        self.index = {d: k for k, d in enumerate(self.dids)}
        self.index.update({h.lower(): k for k, h in enumerate(self.handles)})
        self.counts = {key: list(attrs[key]) for key in
                       ("followers_count", "follows_count", "posts_count")}
        s, r = g.edge_index.tolist()
        likes = sample.edge_likes.tolist()
        self.follows: list[list[int]] = [[] for _ in range(n)]
        self.followers: list[list[int]] = [[] for _ in range(n)]
        for j, i in zip(s, r):  # i follows j
            self.follows[i].append(j)
            self.followers[j].append(i)
        for lst in (*self.follows, *self.followers):
            lst.reverse()  # newest first
        rng = np.random.default_rng(int(world["seed"]))
        sampled = [int(x) for x in attrs["posts_sampled"]]
        # posts: uri -> (author, likers newest first); feed[j]: ("post" | "repost", uri)
        self.posts: dict[str, tuple[int, list[int]]] = {}
        self.post_time: dict[str, int] = {}
        self.feed: list[list[tuple[str, str]]] = [[] for _ in range(n)]
        likers: dict[int, list[list[int]]] = {j: [[] for _ in range(sampled[j])]
                                              for j in range(n)}
        for (j, i), k in zip(zip(s, r), likes):
            if k:
                for p in rng.choice(sampled[j], size=int(k), replace=False):
                    likers[j][int(p)].append(i)
        t = int(world["first_post_time"])
        uris: list[str] = []
        for j in range(n):
            for p in range(sampled[j]):
                when = t - p * int(world["post_gap_seconds"]) - j
                uri = f"at://{self.dids[j]}/app.bsky.feed.post/{_tid(when, j)}"
                who = likers[j][p]
                if rng.random() < world["stranger_like_prob"]:
                    stranger = int(rng.integers(n))
                    if stranger != j and stranger not in who and stranger not in \
                            self.followers[j]:
                        who.append(stranger)
                who = [who[q] for q in rng.permutation(len(who))]
                self.posts[uri] = (j, who)
                self.post_time[uri] = when
                self.feed[j].append(("post", uri))
                uris.append(uri)
        for j in range(n):
            items: list[tuple[str, str]] = []
            for item in self.feed[j]:
                if uris and rng.random() < world["repost_prob"]:
                    other = uris[int(rng.integers(len(uris)))]
                    items.append(("repost", other))
                items.append(item)
            self.feed[j] = items

    # ------------------------------------------------------------------ views
    def _view(self, k: int) -> dict[str, Any]:
        return {"did": self.dids[k], "handle": self.handles[k]}

    def _detailed(self, k: int) -> dict[str, Any]:
        v = self._view(k)
        v.update(followersCount=int(self.counts["followers_count"][k]),
                 followsCount=int(self.counts["follows_count"][k]),
                 postsCount=int(self.counts["posts_count"][k]))
        return v

    def _post(self, uri: str) -> dict[str, Any]:
        author, who = self.posts[uri]
        when = _iso(self.post_time[uri])
        return {"uri": uri, "cid": "bafyreisample" + uri.rsplit("/", 1)[1],
                "author": {"did": self.dids[author], "handle": self.handles[author]},
                "record": {"$type": "app.bsky.feed.post", "text": "synthetic post",
                           "createdAt": when},
                "likeCount": len(who), "indexedAt": when}

    # ------------------------------------------------------------------ the API
    @staticmethod
    def _bad(method: str, params: Mapping[str, Any], message: str) -> XrpcError:
        return XrpcError(method, params, 400, "InvalidRequest", message)

    def _actor(self, method: str, params: Mapping[str, Any]) -> int:
        k = self.index.get(str(params.get("actor", "")).lower())
        if k is None:
            raise self._bad(method, params, "Profile not found")
        return k

    def _page(self, method: str, params: Mapping[str, Any], items: list[Any]
              ) -> tuple[list[Any], str | None]:
        limit = int(params.get("limit", 50))
        start = _offset(params.get("cursor"))
        if not 1 <= limit <= 100:
            raise self._bad(method, params, "Error: limit must be in 1..100")
        if start is None:
            raise self._bad(method, params, "Malformed cursor")
        end = start + limit
        return items[start:end], (_cursor(end) if end < len(items) else None)

    def get_json(self, method: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Answer one XRPC query like the public AppView would."""
        out: dict[str, Any]
        if method == "app.bsky.actor.getProfiles":
            actors = params.get("actors") or []
            if not actors or len(actors) > 25:
                raise self._bad(method, params, "Error: actors must have 1..25 elements")
            found = [self.index.get(str(a).lower()) for a in actors]
            return {"profiles": [self._detailed(k) for k in found if k is not None]}
        if method in ("app.bsky.graph.getFollows", "app.bsky.graph.getFollowers"):
            k = self._actor(method, params)
            key = "follows" if method.endswith("getFollows") else "followers"
            lst = self.follows[k] if key == "follows" else self.followers[k]
            page, nxt = self._page(method, params, lst)
            out = {"subject": self._view(k), key: [self._view(x) for x in page]}
        elif method == "app.bsky.feed.getAuthorFeed":
            k = self._actor(method, params)
            page, nxt = self._page(method, params, self.feed[k])
            out = {"feed": []}
            for kind, uri in page:
                item: dict[str, Any] = {"post": self._post(uri)}
                if kind == "repost":
                    item["reason"] = {"$type": "app.bsky.feed.defs#reasonRepost",
                                      "by": self._view(k)}
                out["feed"].append(item)
        elif method == "app.bsky.feed.getLikes":
            uri = str(params.get("uri", ""))
            if uri not in self.posts:
                raise self._bad(method, params, "Post not found")
            _, who = self.posts[uri]
            page, nxt = self._page(method, params, who)
            when = _iso(self.post_time[uri] + 60)
            out = {"uri": uri, "likes": [{"actor": self._view(x), "createdAt": when,
                                          "indexedAt": when} for x in page]}
        else:
            raise XrpcError(method, params, 501, "MethodNotImplemented",
                            f"Method Not Implemented: {method}")
        if nxt is not None:
            out["cursor"] = nxt
        return out


class MemoryCache(RequestCache):
    """A request cache that holds new entries in memory until :meth:`pack` writes them.

    Faster than one file per request (each one written atomically with ``fsync``) when
    the only wanted output is the packed archive ``requests.jsonl.gz``.
    """

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.memory: dict[str, dict[str, Any]] = {}

    def get(self, method: str, params: Mapping[str, Any]) -> dict[str, Any] | None:
        return self.memory.get(self.key(method, params))

    def put(self, method: str, params: Mapping[str, Any],
            response: dict[str, Any] | None = None, error: dict[str, Any] | None = None
            ) -> None:
        entry: dict[str, Any] = {"method": method, "params": canonical_params(params)}
        entry.update({"error": error} if error is not None else {"response": response})
        self.memory[self.key(method, params)] = entry

    def entries(self) -> dict[str, dict[str, Any]]:
        return dict(self.memory)


def crawl_stats(crawl: BlueskyCrawl) -> dict[str, Any]:
    """The statistics of the cached crawl quoted in data/README.md."""
    g = crawl.graph
    pairs = set(map(tuple, g.edge_index.t().tolist()))
    return {
        "nodes": g.num_nodes,
        "edges": g.num_edges,
        "reciprocity": round(sum((r, s) in pairs for s, r in pairs) / len(pairs), 4),
        "total_likes": int(crawl.edge_likes.sum()),
        "receivers_with_likes": int(crawl.meta["receivers_with_likes"]),
        "requests": int(crawl.meta["requests"]["calls"]),
    }


def make_crawl_cache(out: Path, sample_dir: Path = HERE / "bluesky_sample") -> dict[str, Any]:
    """Crawl the fake AppView into ``out/requests.jsonl.gz``; write ``out/crawl.json``."""
    app = SampleAppView(read_crawl(sample_dir))
    cache = MemoryCache(out)
    crawl = crawl_bluesky(client=CachedClient(app, cache), progress=False, **CRAWL)
    cache.pack()
    again = crawl_bluesky(cache_dir=out, offline=True, progress=False, **CRAWL)
    if not (again.graph.edge_index.equal(crawl.graph.edge_index)
            and again.edge_likes.equal(crawl.edge_likes)):
        raise RuntimeError("the offline crawl from the packed cache differs from the online one")
    info = {
        "synthetic": True,
        "description": (
            "Request cache of the socialmarl Bluesky crawler, made by data/make_crawl_cache.py "
            "against an in-process fake AppView serving the synthetic accounts of "
            "bluesky_sample (no real account). crawl_bluesky(**settings, cache_dir=<this "
            "folder>, offline=True) reproduces the crawl without a network."
        ),
        "settings": CRAWL,
        "world": WORLD,
        "stats": crawl_stats(crawl),
    }
    save_json(out / "crawl.json", info)
    return info


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE, help="folder to write into")
    ap.add_argument("--check", action="store_true",
                    help="regenerate in a temporary folder and compare with --out")
    args = ap.parse_args(argv)
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            make_crawl_cache(Path(tmp) / FOLDER)
            names = (PACKED_CACHE_NAME, "crawl.json")
            bad = [n for n in names if not filecmp.cmp(Path(tmp) / FOLDER / n,
                                                       args.out / FOLDER / n, shallow=False)]
        if bad:
            print(f"differs from the shipped files: {bad}", file=sys.stderr)
            return 1
        print("the shipped request cache is reproduced byte for byte")
        return 0
    info = make_crawl_cache(args.out / FOLDER)
    print(json.dumps(info["stats"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
