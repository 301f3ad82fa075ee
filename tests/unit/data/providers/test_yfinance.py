"""yfinance: recorded Ticker.history frames, the ~30-day window, 7-day requests, retries."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest

from builders.paths import PROVIDERS
from vwapcli.data.providers import describe_providers
from vwapcli.data.providers.http import RetryPolicy
from vwapcli.data.providers.yfinance import YFinanceProvider, bars_from_yfinance

FIXTURE = PROVIDERS / "yfinance" / "SPY_1m_2024-06-20.csv"
TODAY = dt.date(2024, 7, 10)


def recorded_history() -> pd.DataFrame:
    frame = pd.read_csv(FIXTURE)
    index = pd.DatetimeIndex(pd.to_datetime(frame.pop("Datetime"), utc=True)).tz_convert("America/New_York")
    frame.index = index.rename("Datetime")
    return frame


class FakeTicker:
    """Records each history() call; serves the recorded frame for the window holding 2024-06-20."""

    def __init__(self, failures: list[Exception] | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self.failures = list(failures or [])

    def history(self, **kwargs: Any) -> pd.DataFrame:
        self.calls.append(kwargs)
        if self.failures:
            raise self.failures.pop(0)
        if kwargs["start"] <= "2024-06-20" < kwargs["end"]:
            return recorded_history()
        return pd.DataFrame(columns=["Open", "High", "Low", "Close", "Volume"])


def test_the_help_line_says_yahoo_serves_only_about_30_days_of_minute_bars() -> None:
    line = next(line for line in describe_providers().splitlines() if line.startswith("yfinance:"))
    assert "last ~30 days" in line
    assert "no key" in line


def test_earliest_servable_date_is_29_days_back() -> None:
    """2024-07-10 - 29 days = 2024-06-11 (one day inside Yahoo's 30-day limit)."""
    assert YFinanceProvider().earliest_date(TODAY) == dt.date(2024, 6, 11)


def test_older_sessions_are_skipped_and_requests_span_at_most_seven_days(caplog: pytest.LogCaptureFixture) -> None:
    """Sessions 2024-06-10 .. 2024-06-21 asked on 2024-07-10: 06-10 is too old.

    The rest (06-11..06-21, no 06-19 holiday in the list) split at 7 calendar days from
    the first date: [06-11 .. 06-17] and [06-18 .. 06-21]; ``end`` is exclusive.
    """
    ticker = FakeTicker()
    yf = YFinanceProvider(today=TODAY, ticker_factory=lambda symbol: ticker, sleep=lambda s: None)
    dates = [dt.date(2024, 6, d) for d in (10, 11, 12, 13, 14, 17, 18, 20, 21)]
    bars = yf.fetch_bars("SPY", dates)
    windows = [(call["start"], call["end"]) for call in ticker.calls]
    assert windows == [("2024-06-11", "2024-06-18"), ("2024-06-18", "2024-06-22")]
    assert all(call["interval"] == "1m" and call["auto_adjust"] is False for call in ticker.calls)
    assert "2024-06-11" in caplog.text
    assert len(bars) == 3
    assert bars["ts"].iloc[0] == pd.Timestamp("2024-06-20T13:30:00Z")  # 09:30 EDT


def test_recorded_history_becomes_utc_bar_starts_with_float_volume() -> None:
    bars = bars_from_yfinance(recorded_history())
    assert str(bars["ts"].dtype) == "datetime64[ns, UTC]"
    assert bars["close"].tolist() == [549.52, 549.41, 549.30]
    assert bars["volume"].tolist() == [812345.0, 301200.0, 250100.0]


def test_a_yahoo_rate_limit_is_retried_with_backoff() -> None:
    from yfinance.exceptions import YFRateLimitError

    sleeps: list[float] = []
    ticker = FakeTicker(failures=[YFRateLimitError()])
    yf = YFinanceProvider(
        today=TODAY, ticker_factory=lambda symbol: ticker, sleep=sleeps.append, seed=0,
        policy=RetryPolicy(max_attempts=3),
    )
    bars = yf.fetch_bars("SPY", [dt.date(2024, 6, 20)])
    assert len(sleeps) == 1
    assert len(bars) == 3


def test_the_default_ticker_path_goes_through_yfinance_ticker_history(monkeypatch: pytest.MonkeyPatch) -> None:
    yfinance = pytest.importorskip("yfinance")
    seen: list[dict[str, Any]] = []

    def history(self: Any, **kwargs: Any) -> pd.DataFrame:
        seen.append(kwargs)
        return recorded_history()

    monkeypatch.setattr(yfinance.Ticker, "history", history)
    bars = YFinanceProvider(today=TODAY).fetch_bars("SPY", [dt.date(2024, 6, 20)])
    assert len(seen) == 1
    assert seen[0]["prepost"] is False
    assert len(bars) == 3
