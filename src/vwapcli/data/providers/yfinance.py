"""Yahoo Finance through the yfinance package: free, keyless, and short-memoried.

Yahoo serves 1-minute bars only for roughly the last 30 days, at most 7 days per request
(its own errors: "The requested range must be within the last 30 days", "Only 7 days
worth of 1m granularity data are allowed to be fetched per request"); 5-minute bars for
about 60 days. Older sessions are not requested: the fetch prints a warning naming the
earliest date Yahoo can serve. Good for a quick look at recent sessions, not for a
five-year backtest.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from typing import Any

import pandas as pd

from vwapcli.data.providers.base import empty_bars
from vwapcli.data.providers.http import RetryPolicy, Sleep, call_with_retries
from vwapcli.errors import ProviderError

logger = logging.getLogger("vwapcli.providers")

# Calendar days back from today that Yahoo still serves, one day inside its stated limit.
LOOKBACK_DAYS = {"1m": 29, "5m": 59}
MAX_DAYS_PER_REQUEST = {"1m": 7, "5m": 60}


def _is_retryable(error: BaseException) -> bool:
    """Rate limits and network hiccups are worth another try; a bad symbol is not."""
    name = type(error).__name__
    return name == "YFRateLimitError" or "Timeout" in name or "Connection" in name


class YFinanceProvider:
    """Yahoo Finance (yfinance), no key: 1m bars only for the last ~30 days (5m: ~60), split-adjusted.

    Asked for older sessions it fetches what Yahoo still has and warns with the earliest
    date it can serve. Prices are as Yahoo serves intraday bars (split-adjusted,
    ``auto_adjust=False`` so dividends are not taken out).
    """

    name = "yfinance"
    requires_key: tuple[str, ...] = ()
    adjustment = "split"

    def __init__(
        self,
        *,
        today: dt.date | None = None,
        sleep: Sleep = time.sleep,
        seed: int | None = None,
        policy: RetryPolicy | None = None,
        ticker_factory: Callable[[str], Any] | None = None,
    ) -> None:
        self._today = today
        self._sleep = sleep
        self._seed = seed
        self._policy = policy
        self._ticker_factory = ticker_factory

    def earliest_date(self, today: dt.date, timeframe: str = "1m") -> dt.date:
        """The oldest session date Yahoo still serves at ``timeframe`` when asked on ``today``."""
        return today - dt.timedelta(days=LOOKBACK_DAYS.get(timeframe, LOOKBACK_DAYS["1m"]))

    def _ticker(self, symbol: str) -> Any:
        if self._ticker_factory is not None:
            return self._ticker_factory(symbol)
        import yfinance

        return yfinance.Ticker(symbol)

    def fetch_bars(
        self, symbol: str, session_dates: list[dt.date], timeframe: str = "1m"
    ) -> pd.DataFrame:
        """Bars for the dates Yahoo still serves, in windows of at most 7 days (1m)."""
        if timeframe not in LOOKBACK_DAYS:
            raise ProviderError(f"yfinance: timeframe {timeframe!r} not served; use one of {', '.join(LOOKBACK_DAYS)}")
        today = self._today or dt.date.today()
        earliest = self.earliest_date(today, timeframe)
        dates = sorted(day for day in session_dates if day >= earliest)
        if len(dates) < len(session_dates):
            logger.warning(
                "yfinance: %d session(s) before %s skipped: Yahoo serves %s bars only from then on",
                len(session_dates) - len(dates), earliest.isoformat(), timeframe,
            )
        if not dates:
            return empty_bars()
        ticker = self._ticker(symbol)
        frames = []
        for first, last in _windows(dates, MAX_DAYS_PER_REQUEST[timeframe]):
            end = last + dt.timedelta(days=1)  # yfinance's end is exclusive

            def download(first: dt.date = first, end: dt.date = end) -> Any:
                return ticker.history(
                    start=first.isoformat(), end=end.isoformat(), interval=timeframe,
                    prepost=False, auto_adjust=False, actions=False,
                )

            history = call_with_retries(
                self.name, f"{symbol} {first}..{last}", download, _is_retryable,
                self._policy, self._sleep, self._seed,
            )
            if history is None or len(history) == 0:
                logger.warning("yfinance: no %s bars for %s %s..%s", timeframe, symbol, first, last)
                continue
            frames.append(bars_from_yfinance(history))
        if not frames:
            return empty_bars()
        return pd.concat(frames, ignore_index=True)


def _windows(dates: list[dt.date], max_days: int) -> list[tuple[dt.date, dt.date]]:
    """Split sorted dates into (first, last) spans of at most ``max_days`` calendar days."""
    spans: list[tuple[dt.date, dt.date]] = []
    first = last = dates[0]
    for day in dates[1:]:
        if (day - first).days >= max_days:
            spans.append((first, last))
            first = day
        last = day
    spans.append((first, last))
    return spans


def bars_from_yfinance(history: pd.DataFrame) -> pd.DataFrame:
    """``Ticker.history`` frame (New York index = bar start, Open..Volume) -> store columns."""
    index = pd.DatetimeIndex(history.index)
    if index.tz is None:
        # yfinance always localises; a naive index would be exchange time.
        index = index.tz_localize("America/New_York")
    return pd.DataFrame(
        {
            "ts": index.tz_convert("UTC").as_unit("ns"),
            "open": history["Open"].astype("float64").to_numpy(),
            "high": history["High"].astype("float64").to_numpy(),
            "low": history["Low"].astype("float64").to_numpy(),
            "close": history["Close"].astype("float64").to_numpy(),
            "volume": history["Volume"].astype("float64").to_numpy(),
        }
    )
