"""Replay vendors' recorded answers from a local HTTP server to the real ``vwapcli fetch``.

Each provider's base URL is an environment variable (``VWAPCLI_POLYGON_BASE_URL``,
``VWAPCLI_ALPACA_DATA_URL``, ``VWAPCLI_DATABENTO_GATEWAY``); the tests point it at a
:class:`ReplayServer` on 127.0.0.1 and run the CLI's own ``main()`` in-process, so every
layer runs: argument parsing, the provider's SDK, our HTTP client and pacer, the session
filter, the store. The server answers from a route table of recorded bodies (files under
``tests/fixtures/providers``, ``builders.paths.PROVIDERS``) and keeps every request it saw.

Time never passes for real: :class:`FakeClock` replaces the providers' clock (their
"now" and every wait), so a one-minute rate-limit wait takes no time and is recorded.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest

from vwapcli.cli import main
from vwapcli.data.providers import pacing


@dataclass(frozen=True)
class Reply:
    """One answer: status, body (bytes, or a fixture file read when served) and headers."""

    status: int = 200
    body: bytes | Path = b""
    headers: dict[str, str] = field(default_factory=dict)

    def payload(self) -> bytes:
        return self.body.read_bytes() if isinstance(self.body, Path) else self.body


@dataclass
class Seen:
    """A request as the server received it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    form: dict[str, str]
    body: str = ""  # the raw request body (a JSON order, for the broker tests)

    @property
    def target(self) -> str:
        return self.path + (f"?{'&'.join(f'{k}={v}' for k, v in self.query.items())}" if self.query else "")


Matcher = Callable[[Seen], bool]


@dataclass
class Route:
    """Requests with this method and path (and, if given, for which ``when`` holds) get ``replies``
    in order; the last reply repeats."""

    method: str
    path: str
    replies: list[Reply]
    when: Matcher | None = None
    served: int = 0

    def matches(self, seen: Seen) -> bool:
        if seen.method != self.method:
            return False
        if self.path.endswith("*"):
            if not seen.path.startswith(self.path[:-1]):
                return False
        elif seen.path != self.path:
            return False
        return self.when is None or self.when(seen)

    def next_reply(self) -> Reply:
        reply = self.replies[min(self.served, len(self.replies) - 1)]
        self.served += 1
        return reply


class ReplayServer:
    """``http.server`` in a thread on 127.0.0.1 answering from a route table (first match wins)."""

    def __init__(self) -> None:
        self.routes: list[Route] = []
        self.seen: list[Seen] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8") if length else ""
                form = {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}
                query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
                seen = Seen(self.command, parts.path, query, dict(self.headers.items()), form, raw)
                server.seen.append(seen)
                reply = server.reply_for(seen)
                body = reply.payload()
                self.send_response(reply.status)
                self.send_header("Content-Length", str(len(body)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            do_GET = _answer
            do_POST = _answer

            def log_message(self, format: str, *args: Any) -> None:  # quiet test output
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        # A short poll: shutdown() waits for the loop's next poll (0.5 s by default).
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def route(self, method: str, path: str, *replies: Reply, when: Matcher | None = None) -> Route:
        added = Route(method, path, list(replies), when)
        self.routes.append(added)
        return added

    def reply_for(self, seen: Seen) -> Reply:
        for candidate in self.routes:
            if candidate.matches(seen):
                return candidate.next_reply()
        message = json.dumps({"message": f"replay server: no recorded answer for {seen.method} {seen.target}"})
        return Reply(404, message.encode())

    def requests(self, path_prefix: str = "") -> list[Seen]:
        return [seen for seen in self.seen if seen.path.startswith(path_prefix)]

    def start(self) -> ReplayServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


class FakeClock:
    """A clock whose ``sleep`` advances its own time and is recorded; never sleeps for real."""

    def __init__(self, start: str) -> None:
        self.now = pd.Timestamp(start).timestamp()
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)

    @property
    def slept(self) -> float:
        return sum(self.sleeps)


@pytest.fixture
def replay_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[ReplayServer]:
    """A started replay server; requests to 127.0.0.1 bypass any proxy the machine names."""
    for variable in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    server = ReplayServer().start()
    try:
        yield server
    finally:
        server.stop()


def use_clock(monkeypatch: pytest.MonkeyPatch, start: str) -> FakeClock:
    """Make ``start`` (UTC) the providers' "now" and their waits instant."""
    clock = FakeClock(start)
    monkeypatch.setattr(pacing, "_DEFAULT_CLOCK", clock)
    return clock


def run_fetch_cli(
    args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[int, str]:
    """``vwapcli fetch ARGS`` through the console entry point; (exit code, stdout + stderr)."""
    monkeypatch.setattr(sys, "argv", ["vwapcli", "fetch", *args])
    monkeypatch.setenv("COLUMNS", "200")
    code = 0
    try:
        main()
    except SystemExit as exited:
        code = int(exited.code or 0)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def stored_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def stored_option_quotes(root: Path) -> pd.DataFrame:
    """Every option-quote file under ``root/options`` (hive folders: underlying, expiry, date)
    as one frame with those keys as columns, read with pyarrow, not with vwapcli."""
    frames = []
    for path in sorted((root / "options").rglob("*.parquet")):
        keys = dict(part.split("=", 1) for part in path.relative_to(root / "options").parts[:-1])
        frame = pd.read_parquet(path)
        frame["underlying"] = keys["underlying"]
        frame["expiry"] = dt.date.fromisoformat(keys["expiry"])
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
