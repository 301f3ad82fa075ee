"""run_fetch: every source ends in the store through validated, idempotent writes and a summary table."""

from __future__ import annotations

import datetime as dt
import io
import sys
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console

import vwapcli.data.providers as providers
from vwapcli.data.fetch import FetchRequest, run_fetch
from vwapcli.data.store import BarStore
from vwapcli.env import Env
from vwapcli.errors import ProviderError


def console() -> Console:
    return Console(file=io.StringIO(), width=220)


def output(c: Console) -> str:
    return c.file.getvalue()  # type: ignore[attr-defined]


def store_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_synthetic_fetch_fills_the_store_and_labels_it_synthetic(tmp_path: Path) -> None:
    """2024-03-04..2024-03-08 is one full week: 5 sessions x 390 bars = 1950 per symbol."""
    c = console()
    rows = run_fetch(FetchRequest(source="synthetic", store=tmp_path, symbols=("SPY", "QQQ"), start="2024-03-04", end="2024-03-08", seed=7), Env(console=c))
    assert [(r.symbol, r.sessions, r.bars, r.provenance) for r in rows] == [
        ("SPY", 5, 1950, "synthetic (seed 7)"), ("QQQ", 5, 1950, "synthetic (seed 7)"),
    ]
    assert rows[0].first == pd.Timestamp("2024-03-04 14:30", tz="UTC")
    assert rows[0].last == pd.Timestamp("2024-03-08 20:59", tz="UTC")
    store = BarStore(tmp_path)
    assert store.provenance("SPY") == "synthetic (seed 7)"
    assert store.iv_provenance("QQQ") == "synthetic (seed 7)"
    text = output(c)
    for header in ("symbol", "sessions", "bars", "first", "last", "provenance"):
        assert header in text
    assert "synthetic (seed 7)" in text and "synthetic data, not market prices" in text


def test_refetching_the_same_synthetic_range_changes_no_byte(tmp_path: Path) -> None:
    run_fetch(FetchRequest(source="synthetic", store=tmp_path, symbols=("SPY",), start="2024-03-04", end="2024-03-08", seed=7), Env(console=console()))
    before = store_bytes(tmp_path)
    run_fetch(FetchRequest(source="synthetic", store=tmp_path, symbols=("SPY",), start="2024-03-04", end="2024-03-08", seed=7), Env(console=console()))
    assert store_bytes(tmp_path) == before
    assert len(BarStore(tmp_path).read_bars("SPY")) == 1950


def test_dry_run_reports_but_writes_nothing(tmp_path: Path) -> None:
    c = console()
    rows = run_fetch(FetchRequest(source="synthetic", store=tmp_path / "s", symbols=("SPY",), start="2024-03-04", end="2024-03-05", dry_run=True), Env(console=c))
    assert rows[0].bars == 780
    assert not (tmp_path / "s").exists()
    assert "dry run: nothing written" in output(c)


def test_sample_source_copies_the_packaged_sample(tmp_path: Path) -> None:
    c = console()
    rows = run_fetch(FetchRequest(source="sample", store=tmp_path), Env(console=c))
    assert [r.symbol for r in rows] == ["SPY", "QQQ"]
    assert all(r.sessions == 64 and "synthetic" in r.provenance for r in rows)
    assert BarStore(tmp_path).symbols() == ["QQQ", "SPY"]
    assert "packaged sample" in output(c)


def test_csv_source_imports_files_and_shows_the_timezone_assumption(tmp_path: Path) -> None:
    path = tmp_path / "SPY.csv"
    path.write_text("ts,open,high,low,close,volume\n2024-01-02 09:30,1,2,0.5,1.5,10\n2024-01-02 16:30,1,2,0.5,1.5,10\n")
    c = console()
    rows = run_fetch(FetchRequest(source="csv", store=tmp_path / "store", path=path), Env(console=c))
    assert (rows[0].symbol, rows[0].bars, rows[0].sessions) == ("SPY", 2, 1)  # 16:30 is after hours
    assert "assumed America/New_York" in rows[0].note
    assert "assumed America/New_York" in output(c)


def test_an_unknown_source_is_a_provider_error(tmp_path: Path) -> None:
    with pytest.raises(ProviderError, match="unknown data source 'nosuch'"):
        run_fetch(FetchRequest(source="nosuch", store=tmp_path, symbols=("SPY",), start="2024-01-02", end="2024-01-03"), Env(console=console()))


def test_a_vendor_source_without_the_providers_package_is_a_provider_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "vwapcli.data.providers", None)
    with pytest.raises(ProviderError, match="source 'alpaca': market-data providers are not available"):
        run_fetch(FetchRequest(source="alpaca", store=tmp_path, symbols=("SPY",), start="2024-01-02", end="2024-01-03"), Env(console=console()))


class RecordedVendor:
    """A provider double: three RTH bars on each requested session."""

    name = "recorded"
    requires_key: tuple[str, ...] = ()
    adjustment = "raw"

    def fetch_bars(self, symbol: str, session_dates: list[dt.date], timeframe: str = "1m") -> pd.DataFrame:
        ts = []
        for day in session_dates:
            opening = pd.Timestamp(f"{day} 09:30", tz="America/New_York").tz_convert("UTC")
            ts += [opening + pd.Timedelta(minutes=m) for m in range(3)]
        n = len(ts)
        return pd.DataFrame(
            {"ts": pd.DatetimeIndex(ts).as_unit("ns"), "open": [10.0] * n, "high": [11.0] * n,
             "low": [9.0] * n, "close": [10.5] * n, "volume": [100.0] * n}
        )


def test_a_vendor_source_goes_through_the_provider_layer_into_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """2024-01-02..01-04 are three sessions: 9 bars, provenance from the provider layer."""
    monkeypatch.setattr(providers, "get_provider", lambda name, **options: RecordedVendor())
    rows = run_fetch(FetchRequest(source="recorded", store=tmp_path, symbols=("SPY",), start="2024-01-02", end="2024-01-04"), Env(console=console()))
    assert (rows[0].sessions, rows[0].bars) == (3, 9)
    assert rows[0].provenance == "recorded (raw prices)"
    assert BarStore(tmp_path).provenance("SPY") == "recorded (raw prices)"
