"""Real market-data vendors behind one :class:`Provider` protocol.

``vwapcli fetch --source NAME`` resolves NAME here; every vendor SDK is imported only
when its provider first fetches, so ``--help`` and the synthetic sources stay fast and
work without the ``providers`` extra installed.
"""

from __future__ import annotations

import inspect
import math
import os
from collections.abc import Mapping
from typing import Any

from vwapcli.data.providers.alpaca import AlpacaProvider
from vwapcli.data.providers.base import (
    FetchOutcome,
    OptionQuoteProvider,
    Provider,
    fetch_into_store,
    fetch_option_quotes_into_store,
    plan_fetch,
)
from vwapcli.data.providers.databento import DatabentoProvider
from vwapcli.data.providers.http import RetryPolicy
from vwapcli.data.providers.pacing import RichWaitDisplay
from vwapcli.data.providers.polygon import PolygonProvider
from vwapcli.data.providers.yfinance import YFinanceProvider
from vwapcli.errors import ProviderError

PROVIDERS: dict[str, type] = {
    "alpaca": AlpacaProvider,
    "polygon": PolygonProvider,
    "databento": DatabentoProvider,
    "yfinance": YFinanceProvider,
}


def get_provider(
    name: str,
    *,
    console: Any = None,
    feed: str | None = None,
    requests_per_minute: float | None = None,
    environ: Mapping[str, str] | None = None,
    policy: RetryPolicy | None = None,
) -> Provider:
    """A provider with the user's settings; an unknown name or option is one ProviderError line.

    ``feed`` is Alpaca's (sip | iex); ``requests_per_minute`` replaces the provider's
    plan default (0 turns pacing off), and so does ``VWAPCLI_<NAME>_REQUESTS_PER_MINUTE``
    when it is not given (a paid plan set once, per vendor); ``console`` shows rate-limit
    waits as a Rich progress bar; ``policy`` replaces the retry policy (the paper feed
    tries once per request and backs off itself). Keys are not read here but at the first fetch, so
    ``--dry-run`` needs none.
    """
    try:
        factory = PROVIDERS[name.lower()]
    except KeyError:
        raise ProviderError(f"unknown data source {name!r}; providers: {', '.join(sorted(PROVIDERS))}") from None
    accepted = inspect.signature(factory).parameters
    if requests_per_minute is None:
        requests_per_minute = _requests_per_minute_from_env(name.lower(), environ)
    options: dict[str, Any] = {}
    if feed is not None:
        if "feed" not in accepted:
            raise ProviderError(f"{name}: --feed applies to alpaca only")
        options["feed"] = feed
    if requests_per_minute is not None:
        if "requests_per_minute" not in accepted:
            raise ProviderError(f"{name}: --requests-per-minute does not apply (the SDK paces itself)")
        if requests_per_minute < 0:
            raise ProviderError(f"{name}: --requests-per-minute must be >= 0 (0 turns pacing off)")
        options["requests_per_minute"] = requests_per_minute or None
    if console is not None and "display" in accepted:
        options["display"] = RichWaitDisplay(console)
    if policy is not None and "policy" in accepted:
        options["policy"] = policy
    if environ is not None and "environ" in accepted:
        options["environ"] = environ
    provider: Provider = factory(**options)
    return provider


def _requests_per_minute_from_env(name: str, environ: Mapping[str, str] | None) -> float | None:
    variable = f"VWAPCLI_{name.upper()}_REQUESTS_PER_MINUTE"
    text = (os.environ if environ is None else environ).get(variable, "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ProviderError(f"{name}: {variable}={text!r} is not a number") from None
    if not math.isfinite(value):
        raise ProviderError(f"{name}: {variable}={text!r} is not a finite number")
    return value


def describe_providers() -> str:
    """One line per provider (first docstring line) for the CLI's ``--help``."""
    lines = []
    for name, factory in PROVIDERS.items():
        summary = (factory.__doc__ or "").strip().splitlines()[0]
        lines.append(f"{name}: {summary}")
    return "\n".join(lines)


__all__ = [
    "PROVIDERS",
    "AlpacaProvider",
    "DatabentoProvider",
    "FetchOutcome",
    "OptionQuoteProvider",
    "PolygonProvider",
    "Provider",
    "YFinanceProvider",
    "describe_providers",
    "fetch_into_store",
    "fetch_option_quotes_into_store",
    "get_provider",
    "plan_fetch",
]
