"""The crawler never hangs quietly: per-attempt timeouts, an overall deadline, waiting notes.

Local TCP servers on 127.0.0.1 stand in for a broken AppView: one accepts connections and
never answers, one answers after a delay, one closes every connection at once. The real
:class:`UrllibClient` (and one :func:`crawl_bluesky` call through its public parameters)
is pointed at them with timeouts of a fraction of a second. Timing bounds are generous
(at least 2x the expected time): CI machines are slow.
"""

from __future__ import annotations

import logging
import re
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from socialmarl.networks.bluesky.client import RequestFailedError, UrllibClient
from socialmarl.networks.bluesky.crawler import BlueskyCrawler, CrawlConfig, crawl_bluesky
from tests.fake_atproto import FakeAppView, make_network

LOGGER = "socialmarl.networks.bluesky.client"
FOLLOWS = "app.bsky.graph.getFollows"


class RawServer:
    """A TCP server on 127.0.0.1 in threads: ``silent``, ``close`` or ``delay`` mode.

    ``silent`` accepts and never sends a byte; ``close`` closes each connection at once;
    ``delay`` reads the request, waits ``delay`` seconds, then answers ``200`` with
    ``body``. :meth:`stop` ends and joins every thread it started.
    """

    def __init__(self, mode: str, delay: float = 0.0, body: bytes = b'{"ok": true}') -> None:
        assert mode in ("silent", "close", "delay")
        self.mode, self.delay, self.body = mode, delay, body
        self.connections = 0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.02)
        self.port = self._sock.getsockname()[1]
        self._accepter = threading.Thread(target=self._accept, name="raw-server-accept")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/xrpc/"

    def __enter__(self) -> RawServer:
        self._accepter.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        self._accepter.join(5)
        self._sock.close()
        for t in self._threads:
            t.join(5)
        assert not any(t.is_alive() for t in [self._accepter, *self._threads])

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            t = threading.Thread(target=self._serve, args=(conn,), name="raw-server-conn")
            self._threads.append(t)
            t.start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            if self.mode == "close":
                return
            if self.mode == "silent":
                self._stop.wait()
                return
            conn.settimeout(5)
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                head += chunk
            if self._stop.wait(self.delay):
                return
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                b"Content-Length: %d\r\n\r\n" % len(self.body) + self.body
            )


@pytest.fixture(autouse=True)
def nothing_left_running() -> Iterator[None]:
    """Every thread a test starts (servers, notice timers) has ended when it returns."""
    before = set(threading.enumerate())
    yield
    end = time.monotonic() + 5.0
    extra = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    while extra and time.monotonic() < end:
        time.sleep(0.01)
        extra = [t for t in extra if t.is_alive()]
    assert not extra, f"threads still running after the test: {[t.name for t in extra]}"


def client(url: str, **kw: object) -> UrllibClient:
    opts: dict[str, object] = dict(rate_limit=1000.0, timeout=0.3, deadline=1.0,
                                   max_retries=10, backoff_base=0.05, notice_after=0.1)
    opts.update(kw)
    return UrllibClient(url, **opts)  # type: ignore[arg-type]


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == LOGGER and r.levelno == logging.WARNING]


# ---------------------------------------------------------------------------- defaults
def test_defaults_are_sensible_and_settable() -> None:
    c = UrllibClient()
    assert (c.timeout, c.deadline, c.notice_after, c.max_retries) == (15.0, 60.0, 5.0, 6)
    cfg = CrawlConfig(seeds=("a.test",))
    assert (cfg.timeout, cfg.deadline) == (15.0, 60.0)
    crawler = BlueskyCrawler(CrawlConfig(seeds=("a.test",), timeout=3.0, deadline=7.0),
                             progress=False)
    assert (crawler.client.timeout, crawler.client.deadline) == (3.0, 7.0)
    assert UrllibClient(deadline=None).deadline is None
    for bad in ({"deadline": 0}, {"deadline": -1.0}, {"timeout": 0}, {"notice_after": -1}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            UrllibClient(**bad)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- silent server
def test_silent_server_gives_up_at_the_deadline_and_says_so(caplog) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    with RawServer("silent") as server:
        c = client(server.base_url)
        t0 = time.monotonic()
        with pytest.raises(RequestFailedError) as info:
            c.get_json(FOLLOWS, {"actor": "alice.bsky.social", "limit": 100})
        took = time.monotonic() - t0
    # 0.3 s attempts with 0.05, 0.1 s back-offs: the third attempt is cut at the 1 s deadline
    assert 0.8 <= took <= 2.0
    assert c.num_requests == server.connections == 3 < 1 + c.max_retries
    msg = str(info.value)
    host = f"127.0.0.1:{server.port}"
    for part in (FOLLOWS, host, "failed after 3 attempts", "the 1 s deadline has passed",
                 "timed out", "base_url=", "timeout=", "deadline=", "offline=True"):
        assert part in msg, part
    said = warnings_of(caplog)
    assert said[0] == (
        f"waiting for {host} ({FOLLOWS}, actor=alice.bsky.social): no answer after 0.1 s, "
        "attempt 1 of at most 11, giving up after 1 s"
    )
    # then one note per retry, none more
    assert len(said) == 1 + c.num_retries == 3
    for k, note in enumerate(said[1:], start=1):
        assert re.fullmatch(
            rf"waiting for {re.escape(host)} \({FOLLOWS}, actor=alice\.bsky\.social\): "
            rf"attempt {k} of at most 11 failed after [0-9.]+ s \(timed out\); "
            r"retrying in [0-9.]+ s, giving up after 1 s", note
        ), note


def test_deadline_shorter_than_the_timeout_cuts_the_attempt(caplog) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    with RawServer("silent") as server:
        c = client(server.base_url, timeout=30.0, deadline=0.4, max_retries=6)
        t0 = time.monotonic()
        with pytest.raises(RequestFailedError, match="failed after 1 attempt in"):
            c.get_json(FOLLOWS, {"actor": "alice.bsky.social"})
        assert 0.3 <= time.monotonic() - t0 <= 0.8 + 0.5
    assert len(warnings_of(caplog)) == 1  # the "no answer after 0.1 s" note


def test_back_off_that_would_pass_the_deadline_gives_up_at_once() -> None:
    with RawServer("silent") as server:
        c = client(server.base_url, timeout=0.2, deadline=1.0, backoff_base=5.0)
        t0 = time.monotonic()
        with pytest.raises(RequestFailedError, match="5 s back-off would pass the 1 s deadline"):
            c.get_json(FOLLOWS, {"actor": "alice.bsky.social"})
        assert time.monotonic() - t0 <= 0.2 * 2 + 0.5
        assert c.waits == [] and c.num_requests == 1


def test_crawl_bluesky_gives_up_on_a_silent_server(caplog) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    with RawServer("silent") as server:
        t0 = time.monotonic()
        with pytest.raises(RequestFailedError) as info:
            crawl_bluesky("alice.bsky.social", base_url=server.base_url, timeout=0.2,
                          deadline=0.6, backoff_base=0.05, rate_limit=1000.0, progress=False)
        took = time.monotonic() - t0
    assert 0.5 <= took <= 1.2 + 1.0
    msg = str(info.value)
    assert "app.bsky.actor.getProfiles" in msg and f"127.0.0.1:{server.port}" in msg
    assert "offline=True" in msg and "the 0.6 s deadline has passed" in msg
    said = warnings_of(caplog)
    assert said and all(
        s.startswith(f"waiting for 127.0.0.1:{server.port} (app.bsky.actor.getProfiles, "
                     "actors=alice.bsky.social): attempt ") for s in said
    )


def test_warning_reaches_stderr_without_any_logging_setup(monkeypatch, capsys) -> None:
    # no handler anywhere: Python's last-resort handler prints warnings to stderr, which a
    # terminal or a notebook shows
    with monkeypatch.context() as m, RawServer("silent") as server:
        m.setattr(logging.root, "handlers", [])
        c = client(server.base_url, timeout=0.3, deadline=0.3)
        with pytest.raises(RequestFailedError):
            c.get_json(FOLLOWS, {"actor": "alice.bsky.social"})
    err = capsys.readouterr().err
    assert f"waiting for 127.0.0.1:{server.port} ({FOLLOWS}, actor=alice.bsky.social): " \
           "no answer after 0.1 s" in err


# ---------------------------------------------------------------------------- other servers
def test_slow_but_answering_server_succeeds_with_one_note(caplog) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    with RawServer("delay", delay=0.4) as server:
        c = client(server.base_url, timeout=2.0, deadline=3.0)
        assert c.get_json(FOLLOWS, {"actor": "alice.bsky.social"}) == {"ok": True}
    assert c.num_retries == 0 and server.connections == 1
    said = warnings_of(caplog)
    assert len(said) == 1 and "no answer after 0.1 s, attempt 1 of at most 11" in said[0]


def test_quick_answer_says_nothing(caplog) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    with RawServer("delay", delay=0.0) as server:
        c = client(server.base_url, timeout=2.0, notice_after=1.0)
        for _ in range(3):
            assert c.get_json(FOLLOWS, {"actor": "alice.bsky.social"}) == {"ok": True}
    assert warnings_of(caplog) == []


def test_server_that_closes_at_once_fails_fast_after_the_retries(caplog) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    with RawServer("close") as server:
        c = client(server.base_url, max_retries=2, backoff_base=0.01, deadline=30.0)
        t0 = time.monotonic()
        with pytest.raises(RequestFailedError) as info:
            c.get_json(FOLLOWS, {"actor": "alice.bsky.social"})
        assert time.monotonic() - t0 <= 2.0
    assert server.connections == 3
    msg = str(info.value)
    assert "failed after 3 attempts" in msg and "no retries left, max_retries=2" in msg
    said = warnings_of(caplog)
    assert len(said) == 2 and all("retrying in" in s for s in said)  # no "no answer" note


def test_server_requested_429_pause_does_not_count_toward_the_deadline(caplog) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    net = make_network(6, seed=1)
    with FakeAppView(net) as app:
        app.add_fault("rate_limit", method="app.bsky.actor.getProfiles", retry_after=2)
        sleeps: list[float] = []
        c = client(app.base_url, timeout=2.0, deadline=0.5, sleep=sleeps.append)
        data = c.get_json("app.bsky.actor.getProfiles", {"actors": [net.dids[0]]})
    assert [p["did"] for p in data["profiles"]] == [net.dids[0]]
    assert c.waits == [("http_429", 2.0)]
    said = warnings_of(caplog)
    assert len(said) == 1 and "asks for a 2 s pause (HTTP 429" in said[0]
