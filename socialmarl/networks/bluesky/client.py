"""The HTTP layer of the Bluesky crawler: a polite XRPC client and an on-disk request cache.

Everything the crawler fetches goes through one small interface, :class:`XrpcClient`: an
object with ``get_json(method, params) -> dict`` that performs an XRPC query such as
``app.bsky.graph.getFollows`` and returns the decoded JSON body. Three pieces implement it:

* :class:`UrllibClient` talks to an AT Protocol service over HTTP with the standard library
  only. It is polite by default: a request rate limit, a timeout, retries with exponential
  backoff on network errors, 5xx answers and malformed (truncated) bodies, and on HTTP 429
  it waits until the time given by the ``ratelimit-reset`` (epoch seconds) or
  ``retry-after`` header. It never hangs quietly: each attempt times out after ``timeout``
  seconds (15 s by default), one request with all its retries and back-offs gives up after
  ``deadline`` seconds (60 s by default), and a slow answer, every retry and every long
  pause is announced as a ``logging`` warning on the ``socialmarl.networks.bluesky.client``
  logger (printed to stderr when logging is not configured), for example ``waiting for
  public.api.bsky.app (app.bsky.graph.getFollows, actor=alice.bsky.social): no answer after
  5 s, attempt 1 of at most 7, giving up after 60 s``. It never sends an ``Authorization``
  header unless a token is passed explicitly.
* :class:`RequestCache` stores one JSON file per request key (method plus canonical query
  parameters), written atomically, so an interrupted crawl resumes where it stopped.
* :class:`CachedClient` puts the cache in front of any client: cached keys are answered
  from disk and never requested again.
* :class:`OfflineClient` never touches the network: behind a :class:`CachedClient` it
  turns every cache miss into a :class:`CacheMissError` naming the request (the crawler's
  ``offline=True``).

A cache folder may also hold a packed, read-only archive of entries,
``requests.jsonl.gz`` (:meth:`RequestCache.pack`): one small file to ship or share
instead of thousands; loose files take precedence over it.

A definitive error answer (HTTP 4xx other than 429, for example ``400 InvalidRequest
"Profile not found"`` for a deleted account) raises :class:`XrpcError` at once and is
cached too; exhausted retries raise :class:`RequestFailedError`.
"""

from __future__ import annotations

import email.utils
import gzip
import hashlib
import http.client
import json
import logging
import math
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ...common.files import atomic_write_bytes, atomic_write_text, remove_stale_temp_files

__all__ = [
    "PUBLIC_APPVIEW",
    "XrpcClient",
    "XrpcError",
    "RequestFailedError",
    "RateLimitWaitTooLong",
    "UrllibClient",
    "RequestCache",
    "CachedClient",
    "OfflineClient",
    "CacheMissError",
    "PACKED_CACHE_NAME",
    "canonical_params",
]

PUBLIC_APPVIEW = "https://public.api.bsky.app/xrpc/"
"""Bluesky's public AppView: read-only XRPC queries without login."""

PACKED_CACHE_NAME = "requests.jsonl.gz"
"""File name of a request cache's packed, read-only archive (see :meth:`RequestCache.pack`)."""

_USER_AGENT = "socialmarl-crawler/0.1 (+research crawler; polite, rate-limited)"

logger = logging.getLogger(__name__)
"""Where :class:`UrllibClient` announces slow answers, retries and long pauses (warnings)."""


@runtime_checkable
class XrpcClient(Protocol):
    """Anything that can run an XRPC query and return the decoded JSON object."""

    def get_json(self, method: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Run query ``method`` (an NSID) with query ``params``; return the JSON body."""
        ...


class XrpcError(RuntimeError):
    """A definitive error answer from the server (HTTP 4xx other than 429).

    Attributes ``method``, ``params``, ``status``, ``error`` (the XRPC error name, for
    example ``"InvalidRequest"``) and ``message`` (for example ``"Profile not found"``).
    """

    def __init__(
        self, method: str, params: Mapping[str, Any], status: int, error: str, message: str
    ) -> None:
        self.method = method
        self.params = dict(params)
        self.status = int(status)
        self.error = str(error)
        self.message = str(message)
        super().__init__(
            f"{method} {_show_params(params)} answered HTTP {status} {error}: {message}"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form, as stored in the request cache."""
        return {"status": self.status, "error": self.error, "message": self.message}


class RequestFailedError(RuntimeError):
    """A request that still failed after all retries or past its deadline.

    Raised for network errors, timeouts, 5xx answers and bad bodies once ``1 + max_retries``
    attempts are used up or the overall per-request ``deadline`` has passed; the message
    names the request, the host, the time waited, the attempts and the last error.
    """


class RateLimitWaitTooLong(RequestFailedError):
    """The server asked us to wait longer than ``max_rate_limit_wait`` seconds."""


class CacheMissError(LookupError):
    """An offline request that the request cache cannot answer (no network call was made).

    Attributes ``method``, ``params`` and ``cache_dir``.
    """

    def __init__(self, method: str, params: Mapping[str, Any], cache_dir: str | Path) -> None:
        self.method = method
        self.params = dict(params)
        self.cache_dir = Path(cache_dir)
        super().__init__(
            f"offline: the request cache {self.cache_dir} holds no answer for {method} "
            f"{_show_params(params)}, and no network request was made. Fill the cache by "
            f"running the same crawl online (offline=False) with cache_dir={str(self.cache_dir)!r}"
            "; or check that the crawl settings (seeds, hops, direction, max_nodes, "
            "max_fanout, page_size, posts_per_account, max_likes_per_post, feed_filter, likes) "
            "are those the cache was filled with: other settings send other requests"
        )


def _show_params(params: Mapping[str, Any]) -> str:
    return json.dumps({k: v for k, v in params.items() if v is not None}, sort_keys=True)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def canonical_params(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Query parameters as a sorted list of ``(name, value)`` string pairs.

    ``None`` values are dropped, booleans become ``"true"``/``"false"``, and a list or
    tuple value becomes a repeated parameter (``actors=a&actors=b``) in its given order.

    Examples
    --------
    >>> canonical_params({"limit": 100, "actor": "alice.test", "cursor": None})
    [('actor', 'alice.test'), ('limit', '100')]
    >>> canonical_params({"actors": ["b.test", "a.test"]})
    [('actors', 'b.test'), ('actors', 'a.test')]
    """
    out: list[tuple[str, str]] = []
    for key in sorted(params):
        value = params[key]
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            out.extend((key, _scalar(v)) for v in value)
        else:
            out.append((key, _scalar(value)))
    return out


def _secs(seconds: float) -> str:
    """Seconds for a message: ``5``, ``0.25``, ``12.3``, ``273``."""
    return f"{seconds:.0f}" if seconds >= 100 else f"{seconds:.3g}"


def _brief_params(params: Mapping[str, Any], width: int = 80) -> str:
    """A short ``name=value`` summary of the parameters that identify a request.

    ``limit`` and ``None`` values are left out; a long list shows its first items.

    Examples
    --------
    >>> _brief_params({"actor": "alice.test", "limit": 100, "cursor": None})
    'actor=alice.test'
    >>> _brief_params({"actors": ["a.test", "b.test", "c.test", "d.test"]})
    'actors=a.test,b.test,c.test,... (4 values)'
    """
    parts = []
    for key in sorted(params):
        value = params[key]
        if value is None or key == "limit":
            continue
        if isinstance(value, (list, tuple)):
            shown = ",".join(_scalar(v) for v in value[:3])
            text = shown + (f",... ({len(value)} values)" if len(value) > 3 else "")
        else:
            text = _scalar(value)
        parts.append(f"{key}={text}")
    out = ", ".join(parts)
    return out if len(out) <= width else out[: width - 3] + "..."


def _describe(exc: BaseException) -> str:
    """A network error in words (a socket timeout says so plainly)."""
    reason = getattr(exc, "reason", None)
    if isinstance(exc, TimeoutError) or isinstance(reason, TimeoutError):
        text = str(reason if isinstance(reason, TimeoutError) else exc)
        return "timed out" if text in ("", "timed out") else f"timed out: {text}"
    return f"{type(exc).__name__}: {exc}"


def _header_float(headers: Any, name: str) -> float | None:
    if headers is None:
        return None
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        value = float(str(raw).strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


class UrllibClient:
    """A polite XRPC client built on :mod:`urllib` (no extra dependency).

    Parameters
    ----------
    base_url : str
        The XRPC endpoint, ending in ``/xrpc/``; defaults to the public AppView.
    rate_limit : float
        Most requests per second (> 0). The public AppView allows a few thousand requests
        per five minutes per IP; the default of 3 per second stays well below.
    timeout : float
        Seconds one attempt waits for the connection and for each read of the answer
        (default 15 s: the public AppView answers in well under a second, so 15 s means
        trouble, yet a loaded server or a slow link still gets ample time).
    deadline : float or None
        Seconds after which one request gives up with :class:`RequestFailedError`, counting
        all its attempts and back-offs together (default 60 s: about four attempts at a
        server that never answers). Pauses the server asks for (HTTP 429, or a used-up
        ``ratelimit-remaining`` window) do not count; they are bounded by
        ``max_rate_limit_wait`` instead. ``None``: no overall deadline.
    max_retries : int
        Retries after the first attempt for network errors, timeouts, HTTP 429 and 5xx
        answers, and bodies that are not a JSON object (a truncated page); default 6, which
        rides out about half a minute of quick 5xx answers (the ``deadline`` bounds slow
        failures first).
    backoff_base, backoff_max : float
        Retry ``k`` (0-based) waits ``min(backoff_max, backoff_base * 2**k)`` seconds.
    max_rate_limit_wait : float
        On HTTP 429 the client sleeps until ``ratelimit-reset`` (epoch seconds) or for
        ``retry-after`` seconds; a longer demand raises :class:`RateLimitWaitTooLong`
        (resume later: with a cache nothing already fetched is lost).
    notice_after : float
        Seconds without an answer before a warning says what the client is waiting for
        (default 5 s); ``math.inf`` turns that notice off. Every retry (after a back-off or
        a pause the server asks for with HTTP 429) is announced too, one message each, and
        so is a wait of at least ``notice_after`` for a used-up rate-limit window; all on
        the :data:`logger`, as warnings.
    auth_token : str, optional
        Sent as ``Authorization: Bearer <token>`` only when given. Nothing else that could
        identify you is sent, apart from the ``user_agent``.
    user_agent : str
        The ``User-Agent`` header.
    sleep, clock : callable
        Injected for tests (default :func:`time.sleep` and :func:`time.time`). The deadline
        charges each back-off its nominal length, also when an injected ``sleep`` returns
        at once; attempts are timed with :func:`time.monotonic`.

    Examples
    --------
    >>> c = UrllibClient("http://127.0.0.1:9/xrpc/", rate_limit=1000, max_retries=0)
    >>> "Authorization" in c.headers
    False
    >>> c.timeout, c.deadline
    (15.0, 60.0)
    >>> c.url("app.bsky.actor.getProfiles", {"actors": ["a.test", "b.test"]})
    'http://127.0.0.1:9/xrpc/app.bsky.actor.getProfiles?actors=a.test&actors=b.test'
    """

    def __init__(
        self,
        base_url: str = PUBLIC_APPVIEW,
        *,
        rate_limit: float = 3.0,
        timeout: float = 15.0,
        deadline: float | None = 60.0,
        max_retries: int = 6,
        backoff_base: float = 1.0,
        backoff_max: float = 120.0,
        max_rate_limit_wait: float = 900.0,
        notice_after: float = 5.0,
        auth_token: str | None = None,
        user_agent: str = _USER_AGENT,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url={base_url!r}: give an http(s) URL ending in /xrpc/")
        host = urllib.parse.urlsplit(base_url).hostname
        if not host:
            raise ValueError(f"base_url={base_url!r}: no host name in it")
        if not (float(rate_limit) > 0 and math.isfinite(float(rate_limit))):
            raise ValueError(f"rate_limit={rate_limit!r}: requests per second must be > 0")
        if not (float(timeout) > 0 and math.isfinite(float(timeout))):
            raise ValueError(f"timeout={timeout!r}: seconds per attempt, must be > 0")
        if deadline is not None and not float(deadline) > 0:
            raise ValueError(f"deadline={deadline!r}: seconds per request, must be > 0 or None")
        if int(max_retries) < 0:
            raise ValueError(f"max_retries={max_retries!r}: must be >= 0")
        if float(backoff_base) < 0 or float(backoff_max) < 0:
            raise ValueError("backoff_base and backoff_max must be >= 0 seconds")
        if not float(notice_after) >= 0:
            raise ValueError(f"notice_after={notice_after!r}: must be >= 0 seconds")
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        port = urllib.parse.urlsplit(base_url).port
        self.host = host + (f":{port}" if port is not None else "")
        self.rate_limit = float(rate_limit)
        self.timeout = float(timeout)
        self.deadline = None if deadline is None else float(deadline)
        self.max_retries = int(max_retries)
        self.backoff_base = float(backoff_base)
        self.backoff_max = float(backoff_max)
        self.max_rate_limit_wait = float(max_rate_limit_wait)
        self.notice_after = float(notice_after)
        self.headers = {"Accept": "application/json", "User-Agent": user_agent}
        if auth_token is not None:
            self.headers["Authorization"] = f"Bearer {auth_token}"
        self._sleep = sleep
        self._clock = clock
        self._next_time = -math.inf
        self._quota_reset = False  # the next throttle pause waits for a used-up window
        self.num_requests = 0
        self.num_retries = 0
        self.waits: list[tuple[str, float]] = []  # (reason, seconds) of every pause

    # ------------------------------------------------------------------ helpers
    def url(self, method: str, params: Mapping[str, Any]) -> str:
        """The full request URL for ``method`` with ``params``."""
        query = urllib.parse.urlencode(canonical_params(params))
        return f"{self.base_url}{method}" + (f"?{query}" if query else "")

    def _where(self, method: str, params: Mapping[str, Any]) -> str:
        """``host (method, name=value)``: the request in a message."""
        brief = _brief_params(params)
        return f"{self.host} ({method}" + (f", {brief})" if brief else ")")

    def _limits(self) -> str:
        if self.deadline is None:
            return "no overall deadline"
        return f"giving up after {_secs(self.deadline)} s"

    @staticmethod
    def _notify(message: str) -> None:
        """Tell the user what the client waits for (a warning on :data:`logger`)."""
        logger.warning(message)

    def _pause(self, reason: str, seconds: float, notice: str | None = None) -> None:
        """Sleep ``seconds`` (recorded in :attr:`waits`), announcing ``notice`` first."""
        if notice is not None:
            self._notify(notice)
        if seconds > 0:
            self.waits.append((reason, float(seconds)))
            self._sleep(seconds)

    def _throttle(self, where: str = "") -> None:
        now = self._clock()
        if now < self._next_time:
            wait = self._next_time - now
            notice = None
            if self._quota_reset and wait >= self.notice_after:
                notice = (
                    f"waiting {_secs(wait)} s before asking {where}: the server's rate-limit "
                    "window is used up (ratelimit-remaining 0); resuming when it resets"
                )
            self._pause("rate_limit", wait, notice)
            now = self._next_time
        self._quota_reset = False
        self._next_time = now + 1.0 / self.rate_limit

    def _backoff(self, attempt: int) -> float:
        return min(self.backoff_max, self.backoff_base * (2.0**attempt))

    def _rate_limit_wait(self, headers: Any, attempt: int) -> float:
        """Seconds to wait after a 429: retry-after, else ratelimit-reset, else backoff."""
        retry_after = headers.get("retry-after") if headers is not None else None
        if retry_after is not None:
            secs = _header_float(headers, "retry-after")
            if secs is None:  # an HTTP date
                try:
                    when = email.utils.parsedate_to_datetime(str(retry_after))
                    secs = when.timestamp() - self._clock()
                except (TypeError, ValueError):
                    secs = None
            if secs is not None:
                return max(secs, 0.0)
        reset = _header_float(headers, "ratelimit-reset")
        if reset is not None:
            return max(reset - self._clock(), 0.0)
        return self._backoff(attempt)

    def _note_quota(self, headers: Any) -> None:
        """After a success that used the last request of the window, wait for its reset."""
        remaining = _header_float(headers, "ratelimit-remaining")
        reset = _header_float(headers, "ratelimit-reset")
        if remaining is not None and remaining <= 0 and reset is not None:
            wait = reset - self._clock()
            if 0 < wait <= self.max_rate_limit_wait:
                self._next_time = max(self._next_time, reset)
                self._quota_reset = True

    @staticmethod
    def _read_body(resp: Any, started: float, budget: float | None) -> bytes:
        """Read the whole body, giving up once ``budget`` seconds have passed since ``started``.

        Each read is bounded by the socket timeout; the budget also stops an answer that
        trickles in slowly.
        """
        read = getattr(resp, "read1", None) or resp.read
        chunks: list[bytes] = []
        while True:
            chunk = read(65536)
            if not chunk:
                break
            chunks.append(chunk)
            if budget is not None and time.monotonic() - started > budget:
                raise TimeoutError(
                    f"the answer was still arriving when the deadline passed "
                    f"({sum(map(len, chunks))} bytes read)"
                )
        body = b"".join(chunks)
        missing = getattr(resp, "length", None)
        if isinstance(missing, int) and missing > 0:  # read1 does not raise on a cut body
            raise http.client.IncompleteRead(body, missing)
        return body

    # ------------------------------------------------------------------ the request
    def get_json(self, method: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Run one XRPC query with throttling, retries, backoff and an overall deadline.

        A slow answer (none after ``notice_after`` seconds), each retry and each long pause
        is announced once as a warning on :data:`logger`.

        Raises
        ------
        XrpcError
            On a definitive 4xx answer (not retried).
        RateLimitWaitTooLong
            When the server asks for a pause longer than ``max_rate_limit_wait``.
        RequestFailedError
            When all ``1 + max_retries`` attempts failed, or ``deadline`` seconds of
            attempts and back-offs have passed.
        """
        url = self.url(method, params)
        where = self._where(method, params)
        total = self.max_retries + 1
        last = "no attempt made"
        stop = f"no retries left, max_retries={self.max_retries}"
        begun = time.monotonic()
        spent = 0.0  # seconds charged to the deadline: attempts and back-offs, not 429 pauses
        attempts = 0
        for attempt in range(total):
            self._throttle(where)
            budget = None if self.deadline is None else self.deadline - spent
            limit = self.timeout if budget is None else max(min(self.timeout, budget), 1e-3)
            wait = self._backoff(attempt)
            reason = "backoff"
            request = urllib.request.Request(url, headers=dict(self.headers), method="GET")
            timer = None
            if attempt == 0 and self.notice_after < limit:  # later attempts: retry notes
                timer = threading.Timer(
                    self.notice_after, self._notify,
                    args=(f"waiting for {where}: no answer after {_secs(self.notice_after)} s, "
                          f"attempt {attempt + 1} of at most {total}, {self._limits()}",),
                )
                timer.name = "socialmarl-xrpc-notice"
                timer.daemon = True
            attempts += 1
            started = time.monotonic()
            try:
                self.num_requests += 1
                if timer is not None:
                    timer.start()
                with urllib.request.urlopen(request, timeout=limit) as resp:
                    body = self._read_body(resp, started, budget)
                    headers = resp.headers
                try:
                    data = json.loads(body.decode("utf-8"))
                except (UnicodeDecodeError, ValueError) as exc:
                    last = f"the body is not valid JSON ({exc}); {len(body)} bytes"
                else:
                    if isinstance(data, dict):
                        self._note_quota(headers)
                        return data
                    last = f"the body is JSON {type(data).__name__}, not an object"
            except urllib.error.HTTPError as exc:
                try:
                    raw = exc.read()
                except (OSError, http.client.HTTPException):
                    raw = b""
                status = int(exc.code)
                if status == 429:
                    wait = self._rate_limit_wait(exc.headers, attempt)
                    reason = "http_429"
                    last = "HTTP 429 Too Many Requests"
                    if wait > self.max_rate_limit_wait:
                        raise RateLimitWaitTooLong(
                            f"{method} {_show_params(params)}: the server asks for a "
                            f"{wait:.0f} s pause (HTTP 429), more than max_rate_limit_wait="
                            f"{self.max_rate_limit_wait:.0f} s; run the crawl again later with "
                            "the same cache_dir to resume, or raise max_rate_limit_wait"
                        ) from exc
                elif status >= 500:
                    last = f"HTTP {status}"
                else:
                    error, message = "HTTPError", exc.reason or ""
                    try:
                        doc = json.loads(raw.decode("utf-8"))
                        if isinstance(doc, dict):
                            error = str(doc.get("error", error))
                            message = str(doc.get("message", message))
                    except (UnicodeDecodeError, ValueError):
                        pass
                    raise XrpcError(method, params, status, error, str(message)) from exc
            except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
                # URLError, timeouts and dropped connections are all OSErrors
                last = _describe(exc)
            finally:
                if timer is not None:
                    timer.cancel()
                    if timer.is_alive():
                        timer.join()
            took = time.monotonic() - started
            spent += took
            if attempt >= self.max_retries:
                break
            if reason == "http_429":  # the server's own pause: bounded above, not charged
                notice = (
                    f"waiting for {where}: the server asks for a {_secs(wait)} s pause (HTTP "
                    f"429 Too Many Requests); retrying then, attempt {attempt + 2} of at most "
                    f"{total}"
                )
            else:
                if self.deadline is not None and spent + wait >= self.deadline:
                    stop = f"the {_secs(self.deadline)} s deadline has passed"
                    if spent < self.deadline:
                        stop = (f"a retry after the {_secs(wait)} s back-off would pass the "
                                f"{_secs(self.deadline)} s deadline")
                    break
                notice = (
                    f"waiting for {where}: attempt {attempt + 1} of at most {total} failed "
                    f"after {_secs(took)} s ({last}); retrying in {_secs(wait)} s, "
                    f"{self._limits()}"
                )
                spent += wait
            self.num_retries += 1
            self._pause(reason, wait, notice)
        raise RequestFailedError(
            f"{method} {_show_params(params)} from {self.host} failed after {attempts} "
            f"attempt{'s' if attempts != 1 else ''} in {_secs(time.monotonic() - begun)} s "
            f"({stop}); last error: {last}. Settings: timeout={_secs(self.timeout)} s per "
            f"attempt, deadline={'None' if self.deadline is None else _secs(self.deadline)} "
            f"{'' if self.deadline is None else 's '}per request, max_retries="
            f"{self.max_retries}. Check the network and base_url={self.base_url!r} (an AT "
            "Protocol service's /xrpc/ URL); if the server is just slow, raise timeout or "
            "deadline (or max_retries); or run offline from a filled request cache "
            "(cache_dir=..., offline=True). With a cache_dir a re-run resumes where it stopped"
        )


class RequestCache:
    """One JSON file per request key under ``directory``, each written atomically.

    The key is the SHA-256 of the method and its canonical parameters; files live at
    ``directory/<method>/<key[:2]>/<key>.json`` and hold ``{"method", "params", "response"}``
    or, for a definitive error answer, ``{"method", "params", "error": {...}}``. The folder
    may also hold a packed archive ``requests.jsonl.gz`` (see :meth:`pack`) that answers
    the requests it holds; a loose file wins over the archive.

    Parameters
    ----------
    directory : path
        The cache folder.
    create : bool
        Create the folder when missing (default); ``False`` raises
        :class:`FileNotFoundError` instead (a read-only use such as an offline crawl).

    Examples
    --------
    >>> import tempfile
    >>> cache = RequestCache(tempfile.mkdtemp())
    >>> cache.put("app.bsky.actor.getProfiles", {"actors": ["a.test"]}, {"profiles": []})
    >>> cache.get("app.bsky.actor.getProfiles", {"actors": ["a.test"]})["response"]
    {'profiles': []}
    >>> cache.get("app.bsky.actor.getProfiles", {"actors": ["b.test"]}) is None
    True
    >>> cache.pack(remove_loose=True).name, len(cache)   # one archive instead of loose files
    ('requests.jsonl.gz', 1)
    >>> cache.get("app.bsky.actor.getProfiles", {"actors": ["a.test"]})["response"]
    {'profiles': []}
    """

    def __init__(self, directory: str | Path, *, create: bool = True) -> None:
        self.directory = Path(directory)
        if create:
            self.directory.mkdir(parents=True, exist_ok=True)
            remove_stale_temp_files(self.directory, recursive=True)  # left by a killed crawl
        elif not self.directory.is_dir():
            raise FileNotFoundError(
                f"{self.directory}: no request cache folder here; give the cache_dir a crawl "
                "filled online, or run the crawl online once to fill it"
            )
        self._archive: dict[str, dict[str, Any]] | None = None

    @staticmethod
    def key(method: str, params: Mapping[str, Any]) -> str:
        """The hex SHA-256 request key."""
        return RequestCache._key_of(method, canonical_params(params))

    @staticmethod
    def _key_of(method: str, pairs: Any) -> str:
        text = json.dumps([method, pairs], separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def path(self, method: str, params: Mapping[str, Any]) -> Path:
        """Where the entry for this request lives."""
        if not method or "/" in method or method.startswith("."):
            raise ValueError(f"method={method!r} is not an XRPC method name (an NSID)")
        k = self.key(method, params)
        return self.directory / method / k[:2] / f"{k}.json"

    @property
    def archive_path(self) -> Path:
        """The packed archive ``directory/requests.jsonl.gz`` (it may not exist)."""
        return self.directory / PACKED_CACHE_NAME

    def _packed(self) -> dict[str, dict[str, Any]]:
        """Entries of the packed archive by key, read once (empty without an archive)."""
        if self._archive is None:
            self._archive = {}
            path = self.archive_path
            if path.is_file():
                try:
                    text = gzip.decompress(path.read_bytes()).decode("utf-8")
                except (OSError, EOFError, UnicodeDecodeError) as exc:
                    raise ValueError(f"{path}: not a readable gzip file ({exc})") from exc
                for line, row in enumerate(text.splitlines(), start=1):
                    try:
                        entry = json.loads(row)
                    except ValueError as exc:
                        raise ValueError(f"{path}, line {line}: not JSON ({exc})") from None
                    if not (isinstance(entry, dict) and isinstance(entry.get("method"), str)
                            and isinstance(entry.get("params"), list)
                            and ("response" in entry or "error" in entry)):
                        raise ValueError(
                            f"{path}, line {line}: expected an object with method, params "
                            "and response (or error); regenerate it with RequestCache.pack"
                        )
                    self._archive[self._key_of(entry["method"], entry["params"])] = entry
        return self._archive

    def get(self, method: str, params: Mapping[str, Any]) -> dict[str, Any] | None:
        """The stored entry, or ``None`` when this request is not cached."""
        p = self.path(method, params)
        try:
            text = p.read_text(encoding="utf-8")
        except FileNotFoundError:
            return self._packed().get(self.key(method, params))
        try:
            entry = json.loads(text)
        except ValueError:
            return None  # unreadable: fetch again (atomic writes make this rare)
        return entry if isinstance(entry, dict) else None

    def put(
        self,
        method: str,
        params: Mapping[str, Any],
        response: dict[str, Any] | None = None,
        error: dict[str, Any] | None = None,
    ) -> None:
        """Store a response (or a definitive error) for this request."""
        entry: dict[str, Any] = {"method": method, "params": canonical_params(params)}
        if error is not None:
            entry["error"] = error
        else:
            entry["response"] = response
        atomic_write_text(self.path(method, params), json.dumps(entry, separators=(",", ":")))

    def _loose(self) -> list[Path]:
        return sorted(self.directory.glob("*/*/*.json"))

    def entries(self) -> dict[str, dict[str, Any]]:
        """Every stored entry by request key (a loose file wins over the archive)."""
        out = dict(self._packed())
        for p in self._loose():
            try:
                entry = json.loads(p.read_text(encoding="utf-8"))
            except ValueError:
                continue  # unreadable: as in get(), treated as not cached
            if isinstance(entry, dict) and "method" in entry and "params" in entry:
                out[self._key_of(entry["method"], entry["params"])] = entry
        return out

    def __len__(self) -> int:
        return len(self.entries())

    def pack(self, *, remove_loose: bool = False) -> Path:
        """Write every entry (archive and loose files) into ``requests.jsonl.gz``.

        One JSON object per line, sorted by key, gzip without a time stamp: the same
        entries always give the same bytes. Written atomically.

        Parameters
        ----------
        remove_loose : bool
            Delete the loose files (and their emptied folders) once the archive is written.

        Returns
        -------
        Path
            The archive.
        """
        loose = self._loose()
        entries = self.entries()
        lines = [json.dumps(entries[k], separators=(",", ":"), sort_keys=True)
                 for k in sorted(entries)]
        data = ("\n".join(lines) + "\n" if lines else "").encode("utf-8")
        atomic_write_bytes(self.archive_path, gzip.compress(data, compresslevel=9, mtime=0))
        self._archive = entries
        if remove_loose:
            for p in loose:
                p.unlink()
            for folder in sorted({p.parent for p in loose} | {p.parent.parent for p in loose},
                                 key=lambda f: -len(f.parts)):
                if not any(folder.iterdir()):
                    folder.rmdir()
        return self.archive_path


class CachedClient:
    """Answer requests from a :class:`RequestCache`, asking ``client`` only on a miss.

    Successful responses and definitive error answers (an :class:`XrpcError` with HTTP 400
    or 404, for example a deleted account) are stored; other errors (401/403, failures
    after retries) are not, so a re-run tries again.

    Examples
    --------
    >>> import tempfile
    >>> class Echo:
    ...     calls = 0
    ...     def get_json(self, method, params):
    ...         Echo.calls += 1
    ...         return {"echo": dict(params)}
    >>> c = CachedClient(Echo(), RequestCache(tempfile.mkdtemp()))
    >>> c.get_json("x.y.z", {"a": 1}) == c.get_json("x.y.z", {"a": 1})
    True
    >>> Echo.calls, c.hits, c.misses
    (1, 1, 1)
    """

    def __init__(self, client: XrpcClient, cache: RequestCache) -> None:
        self.client = client
        self.cache = cache
        self.hits = 0
        self.misses = 0

    def get_json(self, method: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Cached :meth:`XrpcClient.get_json`."""
        entry = self.cache.get(method, params)
        if entry is not None:
            self.hits += 1
            if "error" in entry:
                e = entry["error"]
                raise XrpcError(
                    method, params, int(e.get("status", 400)), e.get("error", ""),
                    e.get("message", ""),
                )
            return entry["response"]
        self.misses += 1
        try:
            response = self.client.get_json(method, params)
        except XrpcError as exc:
            if exc.status in (400, 404):  # definitive for this request (e.g. deleted account)
                self.cache.put(method, params, error=exc.to_dict())
            raise
        self.cache.put(method, params, response=response)
        return response


class OfflineClient:
    """A client that never sends anything: every request raises :class:`CacheMissError`.

    Put it behind a :class:`CachedClient` to crawl from a filled cache only
    (``crawl_bluesky(..., cache_dir=..., offline=True)`` does that).

    Parameters
    ----------
    cache_dir : path
        The cache it stands behind (named in the error).

    Examples
    --------
    >>> import tempfile
    >>> cache = RequestCache(tempfile.mkdtemp())
    >>> cache.put("app.bsky.actor.getProfiles", {"actors": ["a.test"]}, {"profiles": []})
    >>> c = CachedClient(OfflineClient(cache.directory), cache)
    >>> c.get_json("app.bsky.actor.getProfiles", {"actors": ["a.test"]})
    {'profiles': []}
    >>> c.get_json("app.bsky.actor.getProfiles", {"actors": ["b.test"]})
    Traceback (most recent call last):
    ...
    socialmarl.networks.bluesky.client.CacheMissError: offline: the request cache ... holds no \
answer for app.bsky.actor.getProfiles {"actors": ["b.test"]}, and no network request was made...
    """

    base_url = None

    def __init__(self, cache_dir: str | Path) -> None:
        self.cache_dir = Path(cache_dir)
        self.num_requests = 0

    def get_json(self, method: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Raise :class:`CacheMissError` for ``method`` with ``params``."""
        raise CacheMissError(method, params, self.cache_dir)
