"""Synthetic generator: deterministic per seed, OHLC-consistent, realistic in the ways that matter."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vwapcli.data.sessions import SessionCalendar, assign_sessions
from vwapcli.data.store import BarStore
from vwapcli.data.synthetic import SyntheticMarket, generate_market, synthetic_provenance
from vwapcli.data.validation import validate_bars


@pytest.fixture(scope="module")
def year_2024() -> SyntheticMarket:
    return generate_market(["SPY", "QQQ"], "2024-01-01", "2024-12-31", seed=11)


def daily(bars: pd.DataFrame) -> pd.DataFrame:
    day = bars["ts"].dt.tz_convert("America/New_York").dt.date
    return bars.groupby(day).agg(
        open=("open", "first"), high=("high", "max"), low=("low", "min"), close=("close", "last"),
        volume=("volume", "sum"), bars=("close", "size"),
    )


def test_same_seed_gives_byte_identical_store_files(tmp_path: Path) -> None:
    for name in ("a", "b"):
        market = generate_market(["SPY", "QQQ"], "2024-03-01", "2024-03-15", seed=7)
        store = BarStore(tmp_path / name)
        for symbol in ("SPY", "QQQ"):
            store.write_bars(symbol, market.bars[symbol], provenance=market.provenance)
            store.write_iv_index(symbol, market.iv_index[symbol], provenance=market.provenance)
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert files_a == files_b and len(files_a) == 5
    for relative in files_a:
        assert (tmp_path / "a" / relative).read_bytes() == (tmp_path / "b" / relative).read_bytes()


def test_a_different_seed_gives_different_prices() -> None:
    one = generate_market(["SPY"], "2024-03-01", "2024-03-08", seed=7).bars["SPY"]
    two = generate_market(["SPY"], "2024-03-01", "2024-03-08", seed=8).bars["SPY"]
    assert not np.array_equal(one["close"].to_numpy(), two["close"].to_numpy())


def test_a_symbols_path_does_not_depend_on_the_symbols_generated_with_it() -> None:
    alone = generate_market(["QQQ"], "2024-03-01", "2024-03-08", seed=7).bars["QQQ"]
    together = generate_market(["SPY", "QQQ"], "2024-03-01", "2024-03-08", seed=7).bars["QQQ"]
    pd.testing.assert_frame_equal(alone, together)


def test_provenance_says_synthetic_and_the_seed() -> None:
    assert synthetic_provenance(7) == "synthetic (seed 7)"
    assert generate_market(["SPY"], "2024-03-01", "2024-03-01", seed=3).provenance == "synthetic (seed 3)"


def test_bars_pass_validation_with_cent_prices_and_consistent_ohlc(year_2024: SyntheticMarket) -> None:
    for symbol, bars in year_2024.bars.items():
        _, dropped = validate_bars(bars, f"synthetic {symbol}")
        assert dropped == 0
        prices = bars[["open", "high", "low", "close"]].to_numpy()
        assert np.allclose(prices, np.round(prices, 2), atol=1e-9, rtol=0)
        assert (bars["high"] >= bars[["open", "close"]].max(axis=1)).all()
        assert (bars["low"] <= bars[["open", "close"]].min(axis=1)).all()
        assert (bars["volume"] >= 0).all() and (bars["volume"] == np.round(bars["volume"])).all()
        assert bars["open"].dtype == np.float64 and bars["volume"].dtype == np.float64


def test_every_bar_is_a_regular_hours_bar_and_early_closes_are_shorter(year_2024: SyntheticMarket) -> None:
    """2024 has 252 NYSE sessions; 07-03, 11-29 and 12-24 close at 13:00 ET (210 bars)."""
    bars = year_2024.bars["SPY"]
    sessioned = assign_sessions(bars, "SPY", "1m", SessionCalendar())
    assert len(sessioned.ts) == len(bars)  # nothing outside [open, close)
    assert sessioned.n_sessions == 252
    counts = pd.Series(np.diff(sessioned.session_start), index=sessioned.session_date.astype(str))
    assert counts[["2024-07-03", "2024-11-29", "2024-12-24"]].tolist() == [210, 210, 210]
    assert set(counts.drop(["2024-07-03", "2024-11-29", "2024-12-24"])) == {390}


def test_price_levels_look_like_spy_and_qqq(year_2024: SyntheticMarket) -> None:
    """Long-run paths: SPY ~250*exp(0.145*5) ~ 515 and QQQ ~160*exp(0.19*5) ~ 414 in 2024."""
    spy, qqq = year_2024.bars["SPY"]["close"], year_2024.bars["QQQ"]["close"]
    assert 250 <= spy.median() <= 800
    assert 200 <= qqq.median() <= 700


def test_minute_returns_of_spy_and_qqq_are_strongly_correlated(year_2024: SyntheticMarket) -> None:
    spy = np.diff(np.log(year_2024.bars["SPY"]["close"].to_numpy()))
    qqq = np.diff(np.log(year_2024.bars["QQQ"]["close"].to_numpy()))
    assert np.corrcoef(spy, qqq)[0, 1] > 0.6


def test_intraday_volume_is_u_shaped(year_2024: SyntheticMarket) -> None:
    """Mean volume of the first and last 30 minutes of full sessions exceeds midday (12:00-13:30 ET)."""
    bars = year_2024.bars["SPY"]
    minute = (bars["ts"].dt.tz_convert("America/New_York") - bars["ts"].dt.tz_convert("America/New_York").dt.normalize())
    minute_of_day = (minute.dt.total_seconds() // 60).astype(int) - (9 * 60 + 30)
    by_minute = bars.groupby(minute_of_day)["volume"].mean()
    open_30, midday, close_30 = by_minute.loc[0:29].mean(), by_minute.loc[150:239].mean(), by_minute.loc[360:389].mean()
    assert open_30 > 1.5 * midday
    assert close_30 > 1.5 * midday


def test_annualised_volatility_and_iv_index_are_in_realistic_ranges(year_2024: SyntheticMarket) -> None:
    for symbol in ("SPY", "QQQ"):
        days = daily(year_2024.bars[symbol])
        vol = np.log(days["close"]).diff().std() * np.sqrt(252)
        assert 0.06 < vol < 0.6
        iv = year_2024.iv_index[symbol]["iv_index"]
        assert len(iv) == 252
        assert 5 < iv.median() < 60


def test_iv_index_rises_with_realised_volatility(year_2024: SyntheticMarket) -> None:
    """Rank correlation of IV with the next 10 sessions' realised range is clearly positive."""
    days = daily(year_2024.bars["SPY"])
    day_range = np.log(days["high"] / days["low"]).to_numpy()
    forward = pd.Series(day_range).rolling(10).mean().shift(-9).to_numpy()
    iv = year_2024.iv_index["SPY"]["iv_index"].to_numpy()
    ok = ~np.isnan(forward)
    rank_corr = pd.Series(iv[ok]).corr(pd.Series(forward[ok]), method="spearman")
    assert rank_corr > 0.3


def test_sessions_open_with_overnight_gaps(year_2024: SyntheticMarket) -> None:
    days = daily(year_2024.bars["SPY"])
    gaps = (days["open"].to_numpy()[1:] / days["close"].to_numpy()[:-1]) - 1
    assert np.mean(np.abs(gaps) > 0.0005) > 0.5


def test_an_empty_date_range_gives_empty_frames() -> None:
    market = generate_market(["SPY"], "2024-07-04", "2024-07-04", seed=1)
    assert market.bars["SPY"].empty and market.iv_index["SPY"].empty
