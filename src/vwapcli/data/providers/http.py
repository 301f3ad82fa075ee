"""The one HTTP path every vendor goes through: retries, backoff, rate limits, redaction.

Why one path: each vendor SDK retries differently (alpaca-py sleeps a fixed 3 s on 429,
yfinance not at all), and a secret leaks most easily from an error message that echoes a
URL. Routing every request through :class:`HttpClient` gives all providers the same
behaviour and lets the tests drive every branch with a fake transport and a fake clock:

- 429 / 500 / 502 / 503 / 504 and transport failures are retried with exponential
  backoff plus jitter (seeded), honouring ``Retry-After`` when the server sends it;
- 401 / 403 become one :class:`~vwapcli.errors.ProviderError` line naming the key to check;
- any other 4xx becomes one line with the vendor's own message;
- secret values are scrubbed from every message and log record this module produces.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, TypeVar
from urllib.parse import urlsplit

from vwapcli.errors import ProviderError

logger = logging.getLogger("vwapcli.providers")

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
AUTH_STATUS = frozenset({401, 403})
REDACTED = "***"

T = TypeVar("T")


class TransportError(Exception):
    """A request never got an HTTP answer (DNS, connection reset, timeout).

    Internal: :class:`HttpClient` retries it and, when retries run out, turns it into a
    :class:`ProviderError`. Its text must not contain the request URL (it may hold a key).
    """


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """One outgoing request as a transport sees it."""

    method: str
    url: str
    params: Mapping[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    data: Mapping[str, Any] | None = None  # form body (POST)
    json_body: Any = None
    auth: tuple[str, str] | None = None  # HTTP basic auth


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """A vendor's answer: status, headers (case-insensitive lookups via ``header``), body."""

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)


Transport = Callable[[HttpRequest], HttpResponse]
Sleep = Callable[[float], None]


def requests_transport(timeout_seconds: float = 60.0) -> Transport:
    """The production transport: a pooled ``requests.Session`` (imported lazily)."""
    import requests

    session = requests.Session()

    def send(request: HttpRequest) -> HttpResponse:
        try:
            response = session.request(
                request.method,
                request.url,
                params=dict(request.params) if request.params is not None else None,
                headers=dict(request.headers),
                data=dict(request.data) if request.data is not None else None,
                json=request.json_body,
                auth=request.auth,
                timeout=timeout_seconds,
                allow_redirects=False,
            )
        except requests.RequestException as error:
            # Only the exception class: requests puts the full URL (query string and all)
            # into its messages, and a query string may carry an apiKey.
            raise TransportError(type(error).__name__) from None
        return HttpResponse(response.status_code, response.content, dict(response.headers))

    return send


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try. Delays are seconds; attempt ``n`` (0-based) waits about ``base·2^n``.

    Equal jitter: half the exponential step is fixed, the other half uniform, so a fleet of
    clients that failed together does not retry together, yet every wait keeps a floor.
    """

    max_attempts: int = 6
    base_delay: float = 1.0
    max_delay: float = 60.0
    max_retry_after: float = 300.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        step = min(self.max_delay, self.base_delay * (2.0**attempt))
        return step / 2.0 + rng.uniform(0.0, step / 2.0)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date), else None."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def status_phrase(status: int) -> str:
    """``401 Unauthorized``-style text for a status code."""
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


class Redactor:
    """Replaces every known secret value in a text with ``***``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret that contains another is scrubbed whole.
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def add(self, secret: str) -> None:
        if secret and secret not in self._secrets:
            self._secrets = sorted([*self._secrets, secret], key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text


def url_path(url: str) -> str:
    """Host and path of a URL, never its query string (where keys may live)."""
    parts = urlsplit(url)
    return f"{parts.netloc}{parts.path}"


def _vendor_message(response: HttpResponse, limit: int = 160) -> str:
    """The vendor's own error text (JSON ``message``/``error``/``detail`` or the body start)."""
    text = response.text.strip()
    try:
        payload = response.json()
    except (ValueError, UnicodeDecodeError):
        payload = None
    if isinstance(payload, dict):
        for key in ("message", "error", "detail"):
            if isinstance(payload.get(key), str):
                text = payload[key]
                break
    text = " ".join(text.split())
    return text[:limit] + ("..." if len(text) > limit else "")


class HttpClient:
    """Send requests for one provider with retries, backoff and secret redaction.

    ``key_names`` are the environment variables a 401/403 message tells the user to check;
    ``secrets`` are the values that must never appear in any message or log record.
    """

    def __init__(
        self,
        provider: str,
        key_names: tuple[str, ...] = (),
        secrets: Iterable[str] = (),
        transport: Transport | None = None,
        policy: RetryPolicy | None = None,
        sleep: Sleep = time.sleep,
        seed: int | None = None,
    ) -> None:
        self.provider = provider
        self.key_names = key_names
        self.redact = Redactor(secrets)
        self.transport = transport or requests_transport()
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self.rng = random.Random(seed)

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, Any] | None = None,
        json_body: Any = None,
        auth: tuple[str, str] | None = None,
    ) -> HttpResponse:
        """Send one logical request; return the first 2xx/3xx answer or raise ProviderError."""
        request = HttpRequest(method.upper(), url, params, dict(headers or {}), data, json_body, auth)
        where = url_path(url)
        last_failure = ""
        for attempt in range(self.policy.max_attempts):
            try:
                response = self.transport(request)
            except TransportError as error:
                last_failure = self.redact(str(error) or "connection failed")
                wait = self.policy.backoff(attempt, self.rng)
            else:
                if response.status < 400:
                    logger.debug("%s: %s %s -> %s", self.provider, request.method, where, response.status)
                    return response
                if response.status in AUTH_STATUS:
                    raise ProviderError(self._auth_message(response.status))
                if response.status not in RETRYABLE_STATUS:
                    detail = self.redact(_vendor_message(response))
                    suffix = f": {detail}" if detail else ""
                    raise ProviderError(
                        f"{self.provider}: {status_phrase(response.status)} from {where}{suffix}"
                    )
                last_failure = status_phrase(response.status)
                retry_after = parse_retry_after(response.header("Retry-After"))
                if retry_after is not None:
                    # The server said how long; jitter would only make us early or late.
                    wait = min(retry_after, self.policy.max_retry_after)
                else:
                    wait = self.policy.backoff(attempt, self.rng)
            if attempt + 1 < self.policy.max_attempts:
                logger.warning(
                    "%s: %s on %s; retry %d/%d in %.1fs",
                    self.provider, last_failure, where, attempt + 1,
                    self.policy.max_attempts - 1, wait,
                )
                self.sleep(wait)
        raise ProviderError(
            f"{self.provider}: gave up after {self.policy.max_attempts} attempts on {where} "
            f"(last: {last_failure})"
        )

    def get_json(self, url: str, params: Mapping[str, Any] | None = None, **kwargs: Any) -> Any:
        """GET and decode JSON; a body that is not JSON is one ProviderError line."""
        response = self.request("GET", url, params=params, **kwargs)
        try:
            return response.json()
        except ValueError:
            raise ProviderError(
                f"{self.provider}: {url_path(url)} answered with a body that is not JSON"
            ) from None

    def _auth_message(self, status: int) -> str:
        keys = " / ".join(self.key_names) if self.key_names else "your credentials"
        return f"{self.provider}: {status_phrase(status)} — check {keys}"


def call_with_retries(
    provider: str,
    what: str,
    call: Callable[[], T],
    is_retryable: Callable[[BaseException], bool],
    policy: RetryPolicy | None = None,
    sleep: Sleep = time.sleep,
    seed: int | None = None,
) -> T:
    """Retry a non-HTTP call (an SDK that owns its own HTTP, e.g. yfinance) with backoff."""
    policy = policy or RetryPolicy()
    rng = random.Random(seed)
    for attempt in range(policy.max_attempts):
        try:
            return call()
        except Exception as error:
            if not is_retryable(error):
                raise
            if attempt + 1 >= policy.max_attempts:
                raise ProviderError(
                    f"{provider}: gave up after {policy.max_attempts} attempts on {what} "
                    f"(last: {type(error).__name__})"
                ) from None
            wait = policy.backoff(attempt, rng)
            logger.warning(
                "%s: %s on %s; retry %d/%d in %.1fs",
                provider, type(error).__name__, what, attempt + 1, policy.max_attempts - 1, wait,
            )
            sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover
