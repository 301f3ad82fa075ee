"""Real market-data vendors behind one :class:`Provider` protocol.

``vwapcli fetch --source NAME`` resolves NAME here; every vendor SDK is imported only
when its provider first fetches, so ``--help`` and the synthetic sources stay fast and
work without the ``providers`` extra installed.
"""

from __future__ import annotations

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
from vwapcli.data.providers.polygon import PolygonProvider
from vwapcli.data.providers.yfinance import YFinanceProvider
from vwapcli.errors import ProviderError

PROVIDERS: dict[str, type] = {
    "alpaca": AlpacaProvider,
    "polygon": PolygonProvider,
    "databento": DatabentoProvider,
    "yfinance": YFinanceProvider,
}


def get_provider(name: str) -> Provider:
    """A provider with its default settings; an unknown name is one ProviderError line.

    Keys are not read here but at the first fetch, so ``--dry-run`` needs none.
    """
    try:
        factory = PROVIDERS[name.lower()]
    except KeyError:
        raise ProviderError(f"unknown data source {name!r}; providers: {', '.join(sorted(PROVIDERS))}") from None
    provider: Provider = factory()
    return provider


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
