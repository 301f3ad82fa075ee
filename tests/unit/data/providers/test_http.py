"""The shared HTTP path: retries, backoff with jitter, Retry-After, one-line errors, redaction."""

from __future__ import annotations

import json
import logging
import random

import pytest

from vwapcli.data.providers.http import (
    HttpClient,
    HttpRequest,
    HttpResponse,
    RetryPolicy,
    TransportError,
    call_with_retries,
    parse_retry_after,
    vendor_message,
)
from vwapcli.errors import ProviderError

FAKE_KEY = "FAKE-KEY-1f3a9c"


class ScriptedTransport:
    """Answers requests from a script; each item is an HttpResponse or an exception to raise."""

    def __init__(self, *script: HttpResponse | Exception) -> None:
        self.script = list(script)
        self.requests: list[HttpRequest] = []

    def __call__(self, request: HttpRequest) -> HttpResponse:
        self.requests.append(request)
        item = self.script.pop(0)
        if isinstance(item, Exception):
            raise item
        return item


def ok(payload: object = None) -> HttpResponse:
    return HttpResponse(200, json.dumps(payload or {"ok": True}).encode())


def client(transport: ScriptedTransport, sleeps: list[float], seed: int = 1, attempts: int = 6) -> HttpClient:
    return HttpClient(
        "polygon", ("POLYGON_API_KEY",), [FAKE_KEY], transport,
        RetryPolicy(max_attempts=attempts), sleeps.append, seed,
    )


def test_a_429_with_retry_after_waits_exactly_that_long_then_succeeds() -> None:
    sleeps: list[float] = []
    transport = ScriptedTransport(HttpResponse(429, b"", {"retry-after": "7"}), ok())
    response = client(transport, sleeps).request("GET", "https://api.example/v2/x")
    assert response.status == 200
    assert sleeps == [7.0]
    assert len(transport.requests) == 2


def test_backoff_doubles_per_attempt_with_seeded_equal_jitter() -> None:
    """Equal jitter: attempt n waits step/2 + U(0, step/2) with step = 1·2^n seconds.

    So waits lie in [0.5, 1], [1, 2], [2, 4]; the same seed gives the same waits.
    """
    runs = []
    for _ in range(2):
        sleeps: list[float] = []
        transport = ScriptedTransport(
            HttpResponse(503, b""), HttpResponse(502, b""), HttpResponse(500, b""), ok()
        )
        client(transport, sleeps, seed=42).request("GET", "https://api.example/v2/x")
        runs.append(sleeps)
    first, second, third = runs[0]
    assert 0.5 <= first <= 1.0
    assert 1.0 <= second <= 2.0
    assert 2.0 <= third <= 4.0
    assert runs[0] == runs[1]
    rng = random.Random(42)
    policy = RetryPolicy()
    assert runs[0] == [policy.backoff(n, rng) for n in range(3)]


def test_exhausted_retries_raise_one_line_naming_the_last_failure() -> None:
    sleeps: list[float] = []
    transport = ScriptedTransport(*[HttpResponse(503, b"busy")] * 3)
    with pytest.raises(ProviderError) as caught:
        client(transport, sleeps, attempts=3).request("GET", "https://api.example/v2/aggs?apiKey=" + FAKE_KEY)
    message = str(caught.value)
    assert message == "polygon: gave up after 3 attempts on api.example/v2/aggs (last: 503 Service Unavailable)"
    assert "\n" not in message
    assert len(sleeps) == 2  # no sleep after the last attempt


def test_a_401_fails_at_once_naming_the_key_to_check() -> None:
    sleeps: list[float] = []
    transport = ScriptedTransport(HttpResponse(401, b'{"error": "Unknown API Key"}'))
    with pytest.raises(ProviderError) as caught:
        client(transport, sleeps).request("GET", "https://api.example/v2/x")
    assert str(caught.value) == "polygon: 401 Unauthorized: Unknown API Key — check POLYGON_API_KEY"
    assert sleeps == []


def test_a_403_keeps_the_vendors_words_and_says_it_may_be_the_plan() -> None:
    """A 403 is as often "your plan does not include this" as "bad key": both are named."""
    transport = ScriptedTransport(HttpResponse(403, b'{"message": "forbidden for this dataset"}'))
    with pytest.raises(ProviderError) as caught:
        client(transport, []).request("GET", "https://api.example/v2/x")
    assert str(caught.value) == (
        "polygon: 403 Forbidden: forbidden for this dataset — the key was refused or your plan "
        "does not include this data (check POLYGON_API_KEY)"
    )


def test_a_databento_style_detail_object_reads_as_case_and_message() -> None:
    """databento-python common/error.py reads ``detail.case`` and ``detail.message``."""
    body = json.dumps({"detail": {"case": "auth_invalid", "message": "Invalid API key.", "docs": None}}).encode()
    response = HttpResponse(401, body)
    assert vendor_message(response) == "auth_invalid: Invalid API key."


def test_other_client_errors_carry_the_vendor_message_and_are_not_retried() -> None:
    sleeps: list[float] = []
    body = json.dumps({"status": "ERROR", "error": f"bad ticker for key {FAKE_KEY}"}).encode()
    transport = ScriptedTransport(HttpResponse(400, body))
    with pytest.raises(ProviderError) as caught:
        client(transport, sleeps).request("GET", "https://api.example/v2/x")
    assert str(caught.value) == "polygon: 400 Bad Request from api.example/v2/x: bad ticker for key ***"
    assert FAKE_KEY not in str(caught.value)
    assert sleeps == []


def test_transport_failures_are_retried_and_logs_never_show_the_query_string(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sleeps: list[float] = []
    transport = ScriptedTransport(TransportError("ConnectTimeout"), ok())
    with caplog.at_level(logging.DEBUG, logger="vwapcli.providers"):
        client(transport, sleeps).request("GET", f"https://api.example/v2/x?apiKey={FAKE_KEY}")
    assert len(sleeps) == 1
    assert "ConnectTimeout" in caplog.text
    assert FAKE_KEY not in caplog.text


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    """An HTTP-date 30 s after 'now' means wait 30 s; garbage means no hint."""
    now = 1_718_890_200.0  # 2024-06-20 13:30:00 UTC
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after("Thu, 20 Jun 2024 13:30:30 GMT", now=now) == pytest.approx(30.0)
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_retry_after_is_capped_by_the_policy() -> None:
    sleeps: list[float] = []
    transport = ScriptedTransport(HttpResponse(429, b"", {"Retry-After": "86400"}), ok())
    client(transport, sleeps).request("GET", "https://api.example/v2/x")
    assert sleeps == [RetryPolicy().max_retry_after]


def test_call_with_retries_retries_only_what_the_predicate_allows() -> None:
    sleeps: list[float] = []
    calls: list[int] = []

    class RateLimited(Exception):
        pass

    def flaky() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise RateLimited()
        return "bars"

    result = call_with_retries(
        "yfinance", "SPY", flaky, lambda e: isinstance(e, RateLimited), RetryPolicy(), sleeps.append, 3
    )
    assert result == "bars"
    assert len(sleeps) == 1

    def broken() -> str:
        raise KeyError("symbol")

    with pytest.raises(KeyError):
        call_with_retries("yfinance", "SPY", broken, lambda e: False, sleep=sleeps.append)
