"""The one HTTP path every vendor goes through: retries, backoff, rate limits, redaction.

Why one path: each vendor SDK retries differently (alpaca-py sleeps a fixed 3 s on 429,
yfinance not at all), and a secret leaks most easily from an error message that echoes a
URL. Routing every request through :class:`HttpClient` gives all providers the same
behaviour and lets the tests drive every branch with a fake transport and a fake clock:

- every request first passes the provider's :class:`~vwapcli.data.providers.pacing.RequestPacer`
  (the plan's requests per minute, the vendor's ``X-RateLimit-*`` budget);
- 429 / 500 / 502 / 503 / 504 and transport failures are retried with exponential
  backoff plus jitter (seeded), honouring ``Retry-After`` when the server sends it, and
  after a 429 that names no wait, the vendor's rate-limit reset or a whole minute;
- 401 / 403 become one :class:`~vwapcli.errors.ProviderError` line that keeps the vendor's
  own words (a 403 often means "your plan does not include this", not "bad key") and
  names the keys to check; a provider may recognise its plan refusals and say so plainly;
- any other 4xx becomes one line with the vendor's own message;
- secret values are scrubbed from every message and log record this module produces;
- a vendor's base URL may be replaced by an environment variable (a local replay server
  in tests, a proxy in production): https anywhere, plain http only on this machine.
"""

from __future__ import annotations

import email.utils
import json
import logging
import os
import random
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, TypeVar
from urllib.parse import urlsplit

from vwapcli.data.providers.pacing import RequestPacer
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


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def base_url_from_env(
    provider: str, variable: str, default: str, environ: Mapping[str, str] | None = None
) -> str:
    """A vendor's base URL: ``default``, or the value of the environment variable ``variable``.

    Keys travel with every request, so an override must be https, except a server on this
    machine (127.0.0.1, localhost, ::1), which is what the replay tests run.
    """
    env = os.environ if environ is None else environ
    value = env.get(variable, "").strip()
    if not value:
        return default.rstrip("/")
    parts = urlsplit(value)
    host = (parts.hostname or "").lower()
    if parts.scheme == "https" and host:
        return value.rstrip("/")
    if parts.scheme == "http" and host in LOOPBACK_HOSTS:
        return value.rstrip("/")
    raise ProviderError(
        f"{provider}: {variable}={value!r} must be an https URL "
        "(plain http only for a server on this machine: 127.0.0.1 or localhost)"
    )


def vendor_message(response: HttpResponse, limit: int = 200) -> str:
    """The vendor's own error text, else the body's start.

    Shapes read: ``{"message": ...}`` (Alpaca, Polygon, whose ``status`` such as
    NOT_AUTHORIZED is kept in front), ``{"error": ...}`` (Polygon's other errors),
    ``{"detail": "..."}`` or ``{"detail": {"case", "message"}}`` (Databento,
    databento-python ``common/error.py``).
    """
    text = response.text.strip()
    try:
        payload = response.json()
    except (ValueError, UnicodeDecodeError):
        payload = None
    if isinstance(payload, dict):
        detail = payload.get("detail")
        if isinstance(detail, dict) and isinstance(detail.get("message"), str):
            case = detail.get("case")
            text = f"{case}: {detail['message']}" if isinstance(case, str) and case else detail["message"]
        else:
            for key in ("message", "error", "detail"):
                if isinstance(payload.get(key), str):
                    text = payload[key]
                    break
        status = payload.get("status")
        if isinstance(status, str) and status not in ("OK", "ERROR") and status not in text:
            text = f"{status}: {text}"
    text = " ".join(text.split())
    return text[:limit] + ("..." if len(text) > limit else "")


DeniedExplainer = Callable[[HttpResponse, str], str | None]


class HttpClient:
    """Send requests for one provider with pacing, retries, backoff and secret redaction.

    ``key_names`` are the environment variables a 401/403 message tells the user to check;
    ``secrets`` are the values that must never appear in any message or log record.
    ``pacer`` paces requests and shows waits (its clock also times the retries);
    ``explain_denied(response, vendor_text)`` may turn a 401/403 the provider recognises
    (a plan refusal) into its own one-line message.
    """

    def __init__(
        self,
        provider: str,
        key_names: tuple[str, ...] = (),
        secrets: Iterable[str] = (),
        transport: Transport | None = None,
        policy: RetryPolicy | None = None,
        sleep: Sleep | None = None,
        seed: int | None = None,
        pacer: RequestPacer | None = None,
        explain_denied: DeniedExplainer | None = None,
    ) -> None:
        self.provider = provider
        self.key_names = key_names
        self.redact = Redactor(secrets)
        self.transport = transport or requests_transport()
        self.policy = policy or RetryPolicy()
        self.pacer = pacer
        self.sleep: Sleep = sleep or (pacer.clock.sleep if pacer is not None else time.sleep)
        self.rng = random.Random(seed)
        self.explain_denied = explain_denied

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
        accept: Collection[int] = (),
    ) -> HttpResponse:
        """Send one logical request; return the first 2xx/3xx answer or raise ProviderError.

        ``accept``: error statuses the caller reads itself (a 404 lookup, a broker's 422
        "duplicate client_order_id"): returned like a success, never retried.
        """
        request = HttpRequest(method.upper(), url, params, dict(headers or {}), data, json_body, auth)
        where = url_path(url)
        last_failure = ""
        for attempt in range(self.policy.max_attempts):
            if self.pacer is not None:
                self.pacer.before_request()
            try:
                response = self.transport(request)
            except TransportError as error:
                last_failure = self.redact(str(error) or "connection failed")
                wait = self.policy.backoff(attempt, self.rng)
            else:
                if self.pacer is not None:
                    self.pacer.observe(response.headers)
                if response.status < 400 or response.status in accept:
                    logger.debug("%s: %s %s -> %s", self.provider, request.method, where, response.status)
                    return response
                if response.status in AUTH_STATUS:
                    raise ProviderError(self._denied_message(response))
                if response.status not in RETRYABLE_STATUS:
                    detail = self.redact(vendor_message(response))
                    suffix = f": {detail}" if detail else ""
                    raise ProviderError(
                        f"{self.provider}: {status_phrase(response.status)} from {where}{suffix}"
                    )
                last_failure = status_phrase(response.status)
                wait = self._retry_wait(response, attempt)
            if attempt + 1 < self.policy.max_attempts:
                logger.warning(
                    "%s: %s on %s; retry %d/%d in %.1fs",
                    self.provider, last_failure, where, attempt + 1,
                    self.policy.max_attempts - 1, wait,
                )
                if self.pacer is not None:
                    self.pacer.wait(wait, f"{self.provider}: {last_failure}, retrying")
                else:
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

    def _retry_wait(self, response: HttpResponse, attempt: int) -> float:
        """Seconds before retrying a 429/5xx: what the server said, else what the plan implies."""
        retry_after = parse_retry_after(response.header("Retry-After"))
        if retry_after is not None:
            # The server said how long; jitter would only make us early or late.
            return min(retry_after, self.policy.max_retry_after)
        backoff = self.policy.backoff(attempt, self.rng)
        if response.status == 429 and self.pacer is not None:
            # No Retry-After (Polygon, Alpaca send none): a short backoff would only hit
            # the same per-minute bucket again, so wait for its reset.
            return min(max(backoff, self.pacer.wait_after_429()), self.policy.max_retry_after)
        return backoff

    def _denied_message(self, response: HttpResponse) -> str:
        """One line for a 401/403 that keeps the vendor's words and names the keys."""
        text = self.redact(vendor_message(response))
        if self.explain_denied is not None:
            explained = self.explain_denied(response, text)
            if explained:
                return self.redact(explained)
        keys = " / ".join(self.key_names) if self.key_names else "your credentials"
        said = f": {text}" if text else ""
        if response.status == 403:
            return (
                f"{self.provider}: {status_phrase(response.status)}{said} — the key was refused "
                f"or your plan does not include this data (check {keys})"
            )
        return f"{self.provider}: {status_phrase(response.status)}{said} — check {keys}"


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
