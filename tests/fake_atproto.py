"""A local fake of the Bluesky AppView for crawler tests, with fault injection.

:func:`make_network` draws a small synthetic social network (accounts, follows, posts,
reposts, likes); :class:`FakeAppView` serves it on ``127.0.0.1`` (a random free port, the
stdlib ``http.server`` in a thread) in the lexicon formats of the public AppView:

* ``app.bsky.graph.getFollows``   -> ``{subject, follows: [profileView], cursor?}``
* ``app.bsky.graph.getFollowers`` -> ``{subject, followers: [profileView], cursor?}``
* ``app.bsky.actor.getProfiles``  -> ``{profiles: [profileViewDetailed]}`` (``actors``
  repeated, at most 25; unknown or deleted accounts are left out)
* ``app.bsky.feed.getAuthorFeed`` -> ``{feed: [{post: postView, reason?}], cursor?}``
* ``app.bsky.feed.getLikes``      -> ``{uri, likes: [{actor, createdAt, indexedAt}], cursor?}``

Lists are paginated with opaque cursors and ``limit`` (1..100). A deleted account answers
``400 {"error": "InvalidRequest", "message": "Profile not found"}`` like the real API but
may still appear, stale, in other accounts' follow lists.

Faults are queued with :meth:`FakeAppView.add_fault`: ``rate_limit`` (429 with
``ratelimit-*`` headers, optionally ``retry-after``), ``server_error`` (500),
``slow`` (sleeps before answering, to trip a client timeout), ``truncated`` (half a JSON
body), ``drop`` (closes the connection without an answer), ``repeat_cursor`` (a page
whose cursor is the one just asked for, an endless loop for a naive client) and
``last_in_window`` (a normal answer whose headers say the rate-limit window is used
up). Every request is logged with its parameters and headers.
"""

from __future__ import annotations

import base64
import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

BSKY_EPOCH = 1_700_000_000  # fake timestamps start here (2023-11-14)


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(t))


@dataclass
class FakeNetwork:
    """Ground truth of the fake AppView.

    ``follows[did]`` lists the DIDs ``did`` follows, newest first; ``posts[did]`` the own
    posts (dicts with ``uri``, ``cid``, ``createdAt``, ``likers``), newest first;
    ``feed[did]`` the author feed items ``("post", uri)`` or ``("repost", uri)``, newest
    first; ``deleted`` the accounts that answer "Profile not found".
    """

    dids: list[str]
    handles: dict[str, str]
    follows: dict[str, list[str]]
    posts: dict[str, list[dict[str, Any]]]
    feed: dict[str, list[tuple[str, str]]]
    outside_followers: dict[str, int]
    deleted: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.post_by_uri = {p["uri"]: (d, p) for d in self.dids for p in self.posts[d]}
        self.by_handle = {h: d for d, h in self.handles.items()}

    def followers(self, did: str) -> list[str]:
        """DIDs following ``did``, in account order (deterministic)."""
        return [u for u in self.dids if did in self.follows[u]]

    def resolve(self, actor: str) -> str | None:
        """DID of a handle or DID, or None when unknown."""
        if actor in self.handles:
            return actor
        return self.by_handle.get(actor.lower())


def make_network(
    n: int = 40,
    *,
    seed: int = 0,
    mean_follows: float = 5.0,
    max_posts: int = 12,
    repost_prob: float = 0.3,
    like_prob: float = 0.35,
) -> FakeNetwork:
    """A random directed follow network with posts, reposts and likes (deterministic)."""
    rng = random.Random(seed)
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    dids = ["did:plc:" + "".join(rng.choice(alphabet) for _ in range(24)) for _ in range(n)]
    handles = {d: f"user{k:03d}.fake.test" for k, d in enumerate(dids)}
    follows: dict[str, list[str]] = {}
    for d in dids:
        others = [x for x in dids if x != d]
        m = min(len(others), max(0, int(rng.expovariate(1.0 / mean_follows)) + 1))
        # mild preference for low-index ("older", more popular) accounts
        weights = [1.0 / (1 + 0.15 * dids.index(x)) for x in others]
        chosen: list[str] = []
        while len(chosen) < m:
            x = rng.choices(others, weights)[0]
            if x not in chosen:
                chosen.append(x)
        follows[d] = chosen
    posts: dict[str, list[dict[str, Any]]] = {}
    t = BSKY_EPOCH
    for d in dids:
        plist = []
        for j in range(rng.randint(0, max_posts)):
            t += rng.randint(1, 600)
            rkey = f"3k{j:03d}{rng.randrange(16**8):08x}"
            followers = [u for u in dids if d in follows[u]]
            likers = [u for u in followers if rng.random() < like_prob]
            likers += [u for u in dids if u not in followers and u != d and rng.random() < 0.05]
            rng.shuffle(likers)
            plist.append(
                {"uri": f"at://{d}/app.bsky.feed.post/{rkey}", "cid": f"bafyrei{rkey}",
                 "createdAt": _iso(t), "likers": likers}
            )
        posts[d] = plist[::-1]  # newest first
    feed: dict[str, list[tuple[str, str]]] = {}
    all_uris = [p["uri"] for d in dids for p in posts[d]]
    for d in dids:
        items: list[tuple[str, str]] = []
        for p in posts[d]:
            if all_uris and rng.random() < repost_prob:
                items.append(("repost", rng.choice(all_uris)))
            items.append(("post", p["uri"]))
        feed[d] = items
    outside = {d: rng.randint(0, 500) for d in dids}
    return FakeNetwork(dids, handles, follows, posts, feed, outside)


@dataclass
class Fault:
    """One queued fault: applies to matching requests while ``times`` is not exhausted."""

    kind: str
    method: str | None = None
    match: Callable[[dict[str, list[str]]], bool] | None = None
    times: int | None = 1
    options: dict[str, Any] = field(default_factory=dict)

    def applies(self, method: str, params: dict[str, list[str]]) -> bool:
        if self.times is not None and self.times <= 0:
            return False
        if self.method is not None and self.method != method:
            return False
        return self.match is None or bool(self.match(params))


@dataclass
class RequestRecord:
    method: str
    params: dict[str, list[str]]
    headers: dict[str, str]
    fault: str | None

    def key(self) -> str:
        """Canonical identity of the request (method and sorted parameters)."""
        items = sorted((k, v) for k, vs in self.params.items() for v in vs)
        return json.dumps([self.method, items])


class FakeAppView:
    """Serve a :class:`FakeNetwork` over HTTP on 127.0.0.1; use as a context manager."""

    def __init__(self, network: FakeNetwork) -> None:
        self.network = network
        self.faults: list[Fault] = []
        self.requests: list[RequestRecord] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -------------------------------------------------------------- lifecycle
    def start(self) -> FakeAppView:
        handler = type("Handler", (_Handler,), {"app": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeAppView:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "server not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}/xrpc/"

    # -------------------------------------------------------------- faults and log
    def add_fault(
        self,
        kind: str,
        *,
        method: str | None = None,
        match: Callable[[dict[str, list[str]]], bool] | None = None,
        times: int | None = 1,
        **options: Any,
    ) -> Fault:
        """Queue a fault (see the module docstring); ``times=None`` means always."""
        kinds = {"rate_limit", "server_error", "slow", "truncated", "drop", "repeat_cursor",
                 "last_in_window"}
        if kind not in kinds:
            raise ValueError(f"unknown fault {kind!r}; choose from {sorted(kinds)}")
        f = Fault(kind, method, match, times, options)
        with self._lock:
            self.faults.append(f)
        return f

    def _take_fault(self, method: str, params: dict[str, list[str]]) -> Fault | None:
        with self._lock:
            for f in self.faults:
                if f.applies(method, params):
                    if f.times is not None:
                        f.times -= 1
                    return f
        return None

    def calls(self, method: str | None = None) -> list[RequestRecord]:
        """Logged requests (optionally of one method)."""
        with self._lock:
            return [r for r in self.requests if method is None or r.method == method]

    # -------------------------------------------------------------- views
    def profile_view(self, did: str) -> dict[str, Any]:
        h = self.network.handles[did]
        return {
            "did": did, "handle": h, "displayName": h.split(".")[0].title(),
            "description": "A synthetic account of the fake AppView.",
            "indexedAt": _iso(BSKY_EPOCH), "createdAt": _iso(BSKY_EPOCH - 86400),
            "labels": [],
        }

    def profile_detailed(self, did: str) -> dict[str, Any]:
        net = self.network
        v = self.profile_view(did)
        v.update(
            followersCount=len(net.followers(did)) + net.outside_followers[did],
            followsCount=len(net.follows[did]) + 3,
            postsCount=len(net.posts[did]) + 7,
        )
        return v

    def post_view(self, uri: str) -> dict[str, Any]:
        author, p = self.network.post_by_uri[uri]
        return {
            "uri": uri, "cid": p["cid"],
            "author": {"did": author, "handle": self.network.handles[author], "labels": []},
            "record": {"$type": "app.bsky.feed.post", "text": "synthetic post",
                       "createdAt": p["createdAt"], "langs": ["en"]},
            "replyCount": 0, "repostCount": 0, "likeCount": len(p["likers"]), "quoteCount": 0,
            "indexedAt": p["createdAt"], "labels": [],
        }


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    pad = "=" * (-len(cursor) % 4)
    text = base64.urlsafe_b64decode(cursor + pad).decode()
    if not text.startswith("o:"):
        raise ValueError("bad cursor")
    return int(text[2:])


class _BadRequest(Exception):
    def __init__(self, error: str, message: str) -> None:
        self.error, self.message = error, message


class _Handler(BaseHTTPRequestHandler):
    app: FakeAppView
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None,
              length: int | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body) if length is None else length))
            self.send_header("Connection", "close")
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout); nothing to do
        self.close_connection = True

    def do_GET(self) -> None:  # noqa: N802 (http.server API)
        app = self.app
        parts = urlsplit(self.path)
        method = parts.path.removeprefix("/xrpc/")
        params = parse_qs(parts.query, keep_blank_values=True)
        fault = app._take_fault(method, params)
        with app._lock:
            app.requests.append(
                RequestRecord(method, params, {k: v for k, v in self.headers.items()},
                              fault.kind if fault else None)
            )
        if fault is not None and fault.kind == "rate_limit":
            reset = int(time.time() + fault.options.get("reset_in", 1))
            headers = {"ratelimit-limit": "3000", "ratelimit-remaining": "0",
                       "ratelimit-reset": str(reset), "ratelimit-policy": "3000;w=300"}
            if "retry_after" in fault.options:
                headers["retry-after"] = str(fault.options["retry_after"])
            body = json.dumps({"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"})
            self._send(429, body.encode(), headers)
            return
        if fault is not None and fault.kind == "server_error":
            status = int(fault.options.get("status", 500))
            body = json.dumps({"error": "InternalServerError", "message": "Internal Server Error"})
            self._send(status, body.encode())
            return
        if fault is not None and fault.kind == "drop":
            self.close_connection = True
            return
        if fault is not None and fault.kind == "slow":
            time.sleep(float(fault.options.get("delay", 0.3)))
        try:
            data = self._answer(method, params, fault)
        except _BadRequest as exc:
            body = json.dumps({"error": exc.error, "message": exc.message}).encode()
            self._send(400, body)
            return
        body = json.dumps(data).encode()
        headers = {}
        if fault is not None and fault.kind == "truncated":
            body = body[: len(body) // 2]
        if fault is not None and fault.kind == "last_in_window":
            reset = int(time.time() + fault.options.get("reset_in", 1))
            headers = {"ratelimit-limit": "3000", "ratelimit-remaining": "0",
                       "ratelimit-reset": str(reset), "ratelimit-policy": "3000;w=300"}
        self._send(200, body, headers)

    # -------------------------------------------------------------- the API
    @staticmethod
    def _one(params: dict[str, list[str]], name: str, required: bool = True) -> str | None:
        vals = params.get(name)
        if not vals:
            if required:
                raise _BadRequest(
                    "InvalidRequest", f'Error: Params must have the property "{name}"'
                )
            return None
        return vals[0]

    def _limit(self, params: dict[str, list[str]]) -> int:
        raw = self._one(params, "limit", required=False)
        limit = 50 if raw is None else int(raw)
        if not 1 <= limit <= 100:
            raise _BadRequest("InvalidRequest", "Error: limit must be in 1..100")
        return limit

    def _actor(self, params: dict[str, list[str]]) -> str:
        actor = self._one(params, "actor")
        did = self.app.network.resolve(actor or "")
        if did is None or did in self.app.network.deleted:
            raise _BadRequest("InvalidRequest", "Profile not found")
        return did

    def _page(self, items: list[Any], params: dict[str, list[str]],
              fault: Fault | None) -> tuple[list[Any], str | None]:
        limit = self._limit(params)
        cur = self._one(params, "cursor", required=False)
        try:
            start = _offset(cur)
        except ValueError:
            raise _BadRequest("InvalidRequest", "Malformed cursor") from None
        page = items[start:start + limit]
        nxt = _cursor(start + limit) if start + limit < len(items) else None
        if fault is not None and fault.kind == "repeat_cursor" and nxt is not None:
            nxt = cur or nxt  # page 1 advances normally, later pages point back to themselves
        return page, nxt

    def _answer(self, method: str, params: dict[str, list[str]],
                fault: Fault | None) -> dict[str, Any]:
        app, net = self.app, self.app.network
        out: dict[str, Any]
        if method in ("app.bsky.graph.getFollows", "app.bsky.graph.getFollowers"):
            did = self._actor(params)
            lst = net.follows[did] if method.endswith("getFollows") else net.followers(did)
            page, nxt = self._page(lst, params, fault)
            key = "follows" if method.endswith("getFollows") else "followers"
            out = {"subject": app.profile_view(did), key: [app.profile_view(d) for d in page]}
        elif method == "app.bsky.actor.getProfiles":
            actors = params.get("actors", [])
            if not actors:
                raise _BadRequest("InvalidRequest", 'Error: Params must have the property "actors"')
            if len(actors) > 25:
                raise _BadRequest(
                    "InvalidRequest", "Error: actors must not have more than 25 elements"
                )
            found = []
            for a in actors:
                d = net.resolve(a)
                if d is not None and d not in net.deleted:
                    found.append(app.profile_detailed(d))
            return {"profiles": found}
        elif method == "app.bsky.feed.getAuthorFeed":
            did = self._actor(params)
            page, nxt = self._page(net.feed[did], params, fault)
            items = []
            for kind, uri in page:
                item: dict[str, Any] = {"post": app.post_view(uri)}
                if kind == "repost":
                    item["reason"] = {"$type": "app.bsky.feed.defs#reasonRepost",
                                      "by": app.profile_view(did), "indexedAt": _iso(BSKY_EPOCH)}
                items.append(item)
            out = {"feed": items}
        elif method == "app.bsky.feed.getLikes":
            uri = self._one(params, "uri") or ""
            if uri not in net.post_by_uri:
                raise _BadRequest("InvalidRequest", "Post not found")
            _, post = net.post_by_uri[uri]
            page, nxt = self._page(post["likers"], params, fault)
            likes = [{"actor": app.profile_view(d), "createdAt": _iso(BSKY_EPOCH + 10),
                      "indexedAt": _iso(BSKY_EPOCH + 11)} for d in page]
            out = {"uri": uri, "cid": post["cid"], "likes": likes}
        else:
            raise _BadRequest("MethodNotImplemented", f"Method Not Implemented: {method}")
        if nxt is not None:
            out["cursor"] = nxt
        return out
