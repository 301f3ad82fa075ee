"""`vwapcli options validate`: every quoted contract priced by the backtest's own quote source
(SPEC 7.1 "validation is a command"), on synthetic and on real quotes; bad input is one line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from builders.cli import assert_clean_failure, run_cli
from builders.option_model import random_walk_bars
from builders.options import quote_file_frame
from builders.paths import REAL_DATA
from vwapcli.app_config import AppConfig
from vwapcli.core.types import SessionedBars
from vwapcli.data.loading import load_market_data
from vwapcli.data.store import BarStore
from vwapcli.engine import build_engine
from vwapcli.options.quote_validation import LEG_COLUMNS
from vwapcli.options.quotes import QuoteSource

REAL_QUOTES = REAL_DATA / "options" / "SPY_0dte_quotes_2026-07-17_2026-08-07.parquet"
REAL_BARS = REAL_DATA / "options" / "SPY_5m_2026-05-21_2026-08-07.parquet"
CONFIG_5M = AppConfig.model_validate({"data": {"timeframe": "5m"}})


def write_store(root: Path, bars: SessionedBars) -> Path:
    frame = pd.DataFrame({
        "ts": pd.to_datetime(bars.ts, utc=True), "open": bars.open, "high": bars.high, "low": bars.low,
        "close": bars.close, "volume": bars.volume,
    })
    BarStore(root).write_bars(bars.symbol, frame, timeframe="5m", provenance="test random walk")
    return root


def backtest_source(store: Path) -> QuoteSource:
    """The quote source `vwapcli backtest --config (5m)` prices with, built the backtest's way."""
    market_data = load_market_data(store, ["SPY"], None, None, "5m")
    return build_engine(CONFIG_5M, market_data, store).pricer.quotes


def validate_args(quotes: Path, store: Path, out: Path, *extra: str) -> list[str]:
    return ["options", "validate", "--quotes", str(quotes), "--store", str(store), "--timeframe", "5m",
            "--out", str(out), *extra]


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, pd.DataFrame]:
    """A 5m random-walk SPY store (2024-03-01..06-28) and 0DTE quotes on 2024-06-21 that are
    the backtest source's own quotes: 11 strikes around spot, calls and puts, at 10:00, 13:00,
    13:02:30 and 15:30; underlying_price given on the 10:00 and 13:00 rows only."""
    root = tmp_path_factory.mktemp("validate")
    store = write_store(root / "store", random_walk_bars("2024-03-01", "2024-06-28", "5m", seed=5))
    source = backtest_source(store)
    bars = load_market_data(store, ["SPY"], None, None, "5m")["SPY"]
    times = ["2024-06-21 10:00:00", "2024-06-21 13:00:00", "2024-06-21 13:02:30", "2024-06-21 15:30:00"]
    rows, spots = [], []
    for clock in times:
        ts = pd.Timestamp(clock, tz="America/New_York")
        # the last bar closed at ts started 5 minutes before ts's bar boundary
        closed = ts.floor("5min") - pd.Timedelta(minutes=5)
        spot = float(bars.close[int(np.flatnonzero(bars.ts == closed.tz_convert("UTC").value)[0])])
        for strike in round(spot) + np.arange(-5.0, 6.0):
            for right in ("C", "P"):
                quote = source.quote("SPY", ts.tz_convert("UTC").value, ts.date(), float(strike), right, spot)
                assert quote is not None
                rows.append((clock, float(strike), right, quote.bid, quote.ask))
                spots.append(spot if clock[11:] in ("10:00:00", "13:00:00") else np.nan)
    quotes = quote_file_frame(rows, expiration=pd.Timestamp("2024-06-21").date())
    quotes["underlying_price"] = spots
    path = root / "quotes.parquet"
    quotes.to_parquet(path)
    return store, path, quotes


def test_validate_writes_the_legs_table_with_its_columns_first_and_prices_as_the_backtest_would(
    synthetic: tuple[Path, Path, pd.DataFrame], tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """legs.parquet: LEG_COLUMNS first, bid/ask copied unchanged, and every model price equal
    (exactly) to what the backtest's quote source answers at that instant and spot."""
    store, quotes_path, quotes = synthetic
    out = tmp_path / "validation"
    code, text = run_cli(validate_args(quotes_path, store, out, "--symbols", "SPY"), capsys, monkeypatch)
    assert code == 0, text
    legs = pd.read_parquet(out / "legs.parquet")
    assert tuple(legs.columns[: len(LEG_COLUMNS)]) == LEG_COLUMNS
    assert legs["bid"].tolist() == quotes["bid"].tolist() and legs["ask"].tolist() == quotes["ask"].tolist()
    source = backtest_source(store)
    for row in legs.itertuples():
        quote = source.quote(row.underlying, pd.Timestamp(row.ts).value, row.expiration, row.strike, row.right, row.spot)
        assert quote is not None
        assert (row.model_bid, row.model_ask, row.model_mid, row.model_iv) == (quote.bid, quote.ask, quote.mid, quote.iv)


def test_without_underlying_price_spot_is_the_last_closed_bar(
    synthetic: tuple[Path, Path, pd.DataFrame], tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """13:02:30 and 15:30 rows carry no underlying_price: spot = the close of the 12:55 and
    15:25 bars (5m bars labelled by their start, closed at 13:00 and 15:30)."""
    store, quotes_path, _ = synthetic
    out = tmp_path / "validation"
    assert run_cli(validate_args(quotes_path, store, out), capsys, monkeypatch)[0] == 0
    legs = pd.read_parquet(out / "legs.parquet")
    bars = load_market_data(store, ["SPY"], None, None, "5m")["SPY"]
    close_at = {pd.Timestamp(int(t), tz="UTC"): c for t, c in zip(bars.ts.tolist(), bars.close.tolist(), strict=True)}
    for clock, bar_start in (("13:02:30", "12:55"), ("15:30:00", "15:25")):
        rows = legs[legs["ts"] == pd.Timestamp(f"2024-06-21 {clock}", tz="America/New_York")]
        expected = close_at[pd.Timestamp(f"2024-06-21 {bar_start}", tz="America/New_York").tz_convert("UTC")]
        assert len(rows) == 22 and (rows["spot"] == expected).all()


def test_quotes_made_by_the_model_itself_validate_with_zero_error(
    synthetic: tuple[Path, Path, pd.DataFrame], tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The synthetic quotes are the model's own bid/ask, so what is left is the cent grid:

    * a leg's half-spread error is 0 (the same bid and ask on both sides);
    * a leg's mid error = model mid - (bid + ask)/2, and the model's bid/ask sit on whole
      cents around its mid (bid = the cent nearest mid - width/2): |error| <= half a cent;
    * a spread's half-spread error = (centre - mid) of the long leg minus that of the short
      leg: |error| <= one cent.
    """
    store, quotes_path, _ = synthetic
    out = tmp_path / "validation"
    code, text = run_cli(validate_args(quotes_path, store, out), capsys, monkeypatch)
    assert code == 0, text
    summary = json.loads((out / "summary.json").read_text())
    assert summary["validated"]["vol_model"] == "session" and summary["validated"]["quotes_rows"] == 88
    legs, spreads = summary["legs"]["all"], summary["spreads"]["all"]
    assert legs["n"] == 88 and summary["legs"]["unpriced"] == {}
    assert legs["median_abs_half_spread_error"] == 0.0
    assert legs["median_abs_error"] <= 0.005 + 1e-12
    assert spreads["n"] > 0 and spreads["median_abs_half_spread_error"] <= 0.01 + 1e-12
    assert "Strategy-shaped spreads" in text and "to close" in text


def test_an_existing_folder_with_files_is_never_overwritten(
    synthetic: tuple[Path, Path, pd.DataFrame], tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    store, quotes_path, _ = synthetic
    out = tmp_path / "validation"
    out.mkdir()
    (out / "legs.parquet").write_text("earlier work")
    code, text = run_cli(validate_args(quotes_path, store, out), capsys, monkeypatch)
    assert code == 2 and "not an empty folder" in text
    assert [p.name for p in out.iterdir()] == ["legs.parquet"] and (out / "legs.parquet").read_text() == "earlier work"


def test_an_empty_out_folder_is_used(
    synthetic: tuple[Path, Path, pd.DataFrame], tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    store, quotes_path, _ = synthetic
    out = tmp_path / "validation"
    out.mkdir()
    assert run_cli(validate_args(quotes_path, store, out), capsys, monkeypatch)[0] == 0
    assert sorted(p.name for p in out.iterdir()) == ["legs.parquet", "summary.json"]


def _broken(quotes: pd.DataFrame, rule: str) -> pd.DataFrame:
    frame = quotes.copy()
    if rule == "missing column":
        return frame.drop(columns=["strike"])
    if rule == "no bars":
        return frame.assign(underlying="QQQ")
    if rule == "expiry before the quote":
        return frame.assign(expiration=pd.Timestamp("2024-06-20").date())
    row, column, value = {
        "negative price": (5, "ask", -0.02),
        "crossed": (7, "bid", 99.0),
        "strike <= 0": (4, "strike", -500.0),
        "unknown right": (6, "right", "X"),
    }[rule]
    frame.loc[row, column] = value
    return frame


@pytest.mark.parametrize(
    ("rule", "needles"),
    [
        ("missing column", ["quotes.parquet", "missing column(s) strike"]),
        ("negative price", ["row 5", "negative price: ask '-0.02'"]),
        ("strike <= 0", ["row 4", "strike '-500.0' is not > 0"]),
        ("expiry before the quote", ["row 0", "expiration '2024-06-20' is before the quote's New York date"]),
        ("unknown right", ["row 6", "unknown right 'X'"]),
        ("no bars", ["row 0", "underlying QQQ has no 5m bars"]),
    ],
)
def test_bad_quotes_are_one_line_with_exit_2_and_nothing_written(
    synthetic: tuple[Path, Path, pd.DataFrame], tmp_path: Path, rule: str, needles: list[str],
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    store, _, quotes = synthetic
    path = tmp_path / "quotes.parquet"
    _broken(quotes, rule).to_parquet(path)
    out = tmp_path / "validation"
    code, text = run_cli(validate_args(path, store, out), capsys, monkeypatch)
    assert_clean_failure(code, text, out, *needles)
    assert [p.name for p in tmp_path.iterdir()] == ["quotes.parquet"]  # no staging folder left either


def test_a_crossed_quote_is_dropped_as_the_import_drops_it_and_the_rest_is_validated(
    synthetic: tuple[Path, Path, pd.DataFrame], tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Row 7 crossed (bid 99 > ask): one quote file reader for fetch, calibrate and validate
    (data.option_quote_import), which drops crossed rows with a count; legs.parquet holds the others."""
    store, _, quotes = synthetic
    path = tmp_path / "quotes.parquet"
    crossed = quotes.copy()
    crossed.loc[7, "bid"] = 99.0
    crossed.to_parquet(path)
    out = tmp_path / "validation"
    assert run_cli(validate_args(path, store, out), capsys, monkeypatch)[0] == 0
    legs = pd.read_parquet(out / "legs.parquet")
    assert len(legs) == len(quotes) - 1
    assert 99.0 not in set(legs["bid"])


@pytest.mark.skipif(not (REAL_QUOTES.is_file() and REAL_BARS.is_file()), reason="real option data absent")
def test_validate_on_a_real_spy_0dte_session_prices_like_the_backtest_and_meets_the_spec_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SPY 0DTE quotes of 2026-08-05 (read in place, written to tmp only as a slice) against
    the real SPY 5m bars: every row priced, model prices equal to the backtest source's, and
    strategy-shaped spreads within the SPEC 7.1 target (median |err| <= 10%, bias within
    +/-3%... here checked loosely at +/-5%: the shipped calibration saw this session, the
    strict out-of-sample numbers are bench/option_model_validation.py's)."""
    quotes = pd.read_parquet(REAL_QUOTES)
    day = quotes["ts"].dt.tz_convert("America/New_York").dt.date.astype(str)
    sliced = tmp_path / "spy-2026-08-05.parquet"
    quotes[day == "2026-08-05"].to_parquet(sliced)
    bars = pd.read_parquet(REAL_BARS)[["ts", "open", "high", "low", "close", "volume"]]
    store = tmp_path / "store"
    BarStore(store).write_bars("SPY", bars, timeframe="5m", provenance="real SPY 5m (test copy in tmp)")
    out = tmp_path / "validation"
    code, text = run_cli(validate_args(sliced, store, out, "--symbols", "SPY"), capsys, monkeypatch)
    assert code == 0, text
    legs = pd.read_parquet(out / "legs.parquet")
    assert len(legs) == int((day == "2026-08-05").sum()) and legs["model_mid"].notna().all()
    source = backtest_source(store)
    for row in legs.iloc[::50].itertuples():
        quote = source.quote("SPY", pd.Timestamp(row.ts).value, row.expiration, row.strike, row.right, row.spot)
        assert quote is not None and (row.model_bid, row.model_ask, row.model_mid) == (quote.bid, quote.ask, quote.mid)
    spreads = json.loads((out / "summary.json").read_text())["spreads"]["all"]
    assert spreads["median_abs_error"] <= 0.10
    assert abs(spreads["median_error"]) <= 0.05
    assert spreads["median_abs_half_spread_error"] <= 0.01
