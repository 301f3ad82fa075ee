"""Model risk re-pricing (SPEC 7.1): a run's trades re-priced at other vol scales, by hand.

The fake source's leg mids are ``a + b·s`` at vol scale ``s`` (a per leg and instant), with
bid/ask = mid -/+ 0.05, so a spread's fills are exact cents:

* open:  mid m = long - short, natural = m + 0.10 -> fill at slippage 0.5 = m + 0.05
* close: mid m = long - short, natural = m - 0.10 -> fill = m - 0.05
* commissions = 0.65 x 2 legs x 2 sides = $2.60 per contract

Trade 1 (LONG call 100/105, 2 contracts): entry long 2.00s, short 1.00s -> m = s, debit
s + 0.05; exit long 3.00s, short 1.20s -> m = 1.8s, credit 1.8s - 0.05.
  s = 1: debit 1.05, credit 1.75, pnl (1.75 - 1.05) x 200 - 5.20 = 134.80
  s = 2: debit 2.05, credit 3.55, pnl (3.55 - 2.05) x 200 - 5.20 = 294.80
Trade 2 (SHORT put 100/95, 1 contract): entry long 1.00s, short 0.40s -> m = 0.6s, debit
0.6s + 0.05; exit long 0.30 + 0.10s, short 0.05s -> m = 0.30 + 0.05s, credit 0.25 + 0.05s.
  s = 1: debit 0.65, credit 0.30, pnl -35.00 - 2.60 = -37.60
  s = 2: debit 1.25, credit 0.35, pnl -90.00 - 2.60 = -92.60
Trade 3 (LONG call 100/105, 1 contract): entry long 1.00s, short 0.50s -> debit 0.5s + 0.05;
no quote at the exit and no model behind it -> intrinsic at spot 103: 3.00 (no slippage).
  s = 1: debit 0.55, pnl (3.00 - 0.55) x 100 - 2.60 = 242.40
  s = 2: debit 1.05, pnl (3.00 - 1.05) x 100 - 2.60 = 192.40
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from builders.option_model import new_york_ns, random_walk_bars, session_table
from vwapcli.app_config import AppConfig
from vwapcli.config import OptionsConfig
from vwapcli.core.types import local_time_ns
from vwapcli.engine import (
    MODEL_RISK_SCALES,
    Engine,
    SpreadPricer,
    not_applicable_reason,
    reprice_trades,
)
from vwapcli.options.calibration_file import CalibrationParams
from vwapcli.options.expirations import ExpirySchedule
from vwapcli.options.quotes import Quote
from vwapcli.options.session_model import CalibratedQuoteSource, SessionVolModel
from vwapcli.options.vol_forecast import SessionHistory
from vwapcli.run_folder import write_table

DAY = dt.date(2024, 3, 12)


def at(clock: str) -> int:
    return local_time_ns(DAY, dt.time.fromisoformat(clock))


# (entry or exit instant, strike) -> (a, b): leg mid = a + b·s. Missing: no quote.
LEGS: dict[tuple[int, float], tuple[float, float]] = {
    (at("10:00"), 100.0): (0.0, 2.00), (at("10:00"), 105.0): (0.0, 1.00),  # trade 1 entry
    (at("11:00"), 100.0): (0.0, 3.00), (at("11:00"), 105.0): (0.0, 1.20),  # trade 1 exit
    (at("12:00"), 100.0): (0.0, 1.00), (at("12:00"), 95.0): (0.0, 0.40),   # trade 2 entry
    (at("13:00"), 100.0): (0.30, 0.10), (at("13:00"), 95.0): (0.0, 0.05),  # trade 2 exit
    (at("14:00"), 100.0): (0.0, 1.00), (at("14:00"), 105.0): (0.0, 0.50),  # trade 3 entry
}


class LinearInScale:
    """Leg mid = a + b x scale (LEGS); bid/ask = mid -/+ 0.05, whole cents."""

    name = "fake"

    def __init__(self, scale: float) -> None:
        self.scale = scale

    def quote(self, symbol, ts_ns, expiry, strike, right, spot):  # type: ignore[no-untyped-def]
        terms = LEGS.get((ts_ns, strike))
        if terms is None:
            return None
        mid = terms[0] + terms[1] * self.scale
        return Quote(bid=round(mid - 0.05, 2), ask=round(mid + 0.05, 2), mid=mid, iv=0.2 * self.scale)

    def listed_strikes(self, symbol, ts_ns, expiry, right, spot):  # type: ignore[no-untyped-def]
        return np.arange(90.0, 111.0)


def trades_log() -> pd.DataFrame:
    """Three trades as trades.parquet holds them (only the columns re-pricing reads)."""
    def row(trade_id: int, right: str, k_long: float, k_short: float, entry: str, exit_: str,
            spot_exit: float, contracts: int) -> dict[str, object]:
        return {
            "trade_id": trade_id, "symbol": "SPY", "right": right, "expiry": DAY.isoformat(),
            "k_long": k_long, "k_short": k_short, "width": abs(k_short - k_long), "expiry_note": "",
            "entry_time": pd.Timestamp(at(entry), tz="UTC"), "exit_time": pd.Timestamp(at(exit_), tz="UTC"),
            "P": 100.2, "underlying_exit": spot_exit, "contracts": contracts,
        }
    return pd.DataFrame([
        row(1, "C", 100.0, 105.0, "10:00", "11:00", 101.5, 2),
        row(2, "P", 100.0, 95.0, "12:00", "13:00", 99.8, 1),
        row(3, "C", 100.0, 105.0, "14:00", "15:00", 103.0, 1),
    ])


def run_engine() -> Engine:
    """The run's engine: slippage 0.5, $0.65 per contract per leg, priced by the scale-1 fake."""
    pricer = SpreadPricer(LinearInScale(1.0), ExpirySchedule.load(), {"SPY": [DAY]})  # type: ignore[arg-type]
    return Engine(AppConfig.model_validate({}), pricer)


def test_trades_repriced_at_two_scales_match_the_hand_computed_fills_and_pnl() -> None:
    """See the module docstring for every number."""
    built: list[float] = []

    def source_for(scale: float) -> LinearInScale:
        built.append(scale)
        return LinearInScale(scale)

    frame = reprice_trades(trades_log(), run_engine(), source_for, scales=(1.0, 2.0))
    assert list(frame.columns) == ["trade_id", "scale", "entry_debit", "exit_credit", "pnl", "exit_priced_by"]
    assert frame["trade_id"].tolist() == [1, 1, 2, 2, 3, 3]
    assert frame["scale"].tolist() == [1.0, 2.0] * 3
    assert frame["entry_debit"].tolist() == [1.05, 2.05, 0.65, 1.25, 0.55, 1.05]
    assert frame["exit_credit"].tolist() == [1.75, 3.55, 0.30, 0.35, 3.00, 3.00]
    assert frame["pnl"].tolist() == [134.80, 294.80, -37.60, -92.60, 242.40, 192.40]
    assert frame["exit_priced_by"].tolist() == ["quote", "quote", "quote", "quote", "intrinsic", "intrinsic"]
    # Scale 1.0 is the run's own pricer (the very source the run used): never rebuilt.
    assert built == [2.0]


def test_a_trade_whose_entry_the_scaled_source_cannot_price_keeps_nan_at_that_scale() -> None:
    """A source that has no quotes at all: every trade is unpriced at 0.8, priced at 1.0."""
    class Empty(LinearInScale):
        def quote(self, symbol, ts_ns, expiry, strike, right, spot):  # type: ignore[no-untyped-def]
            return None

    frame = reprice_trades(trades_log(), run_engine(), lambda s: Empty(s), scales=(0.8, 1.0))
    at_08 = frame[frame["scale"] == 0.8]
    assert at_08["pnl"].isna().all() and at_08["entry_debit"].isna().all()
    assert set(at_08["exit_priced_by"]) == {"unpriced"}
    assert frame[frame["scale"] == 1.0]["pnl"].tolist() == [134.80, -37.60, 242.40]


def test_the_default_grid_is_the_spec_scales_and_writes_the_same_bytes_twice(tmp_path: Path) -> None:
    """SPEC 7.1: 0.8, 1.0, 1.25, 1.5, 2.0; five rows per trade; a rewrite is byte-identical."""
    assert MODEL_RISK_SCALES == (0.8, 1.0, 1.25, 1.5, 2.0)
    paths = []
    for name in ("a.parquet", "b.parquet"):
        frame = reprice_trades(trades_log(), run_engine(), LinearInScale)
        write_table(frame, None, tmp_path / name)
        paths.append(tmp_path / name)
    assert len(frame) == 15
    # Trade 1 at 1.25 by hand: debit 1.25 + 0.05 = 1.30; credit 1.8 x 1.25 - 0.05 = 2.20;
    # pnl (2.20 - 1.30) x 200 - 5.20 = 174.80.
    row = frame[(frame["trade_id"] == 1) & (frame["scale"] == 1.25)].iloc[0]
    assert (row["entry_debit"], row["exit_credit"], row["pnl"]) == (1.30, 2.20, 174.80)
    assert paths[0].read_bytes() == paths[1].read_bytes()


def test_chain_mode_has_no_vol_level_to_scale_and_model_mode_has() -> None:
    reason = not_applicable_reason(OptionsConfig(pricing_source="chain"))
    assert reason is not None and "chain" in reason
    assert not_applicable_reason(OptionsConfig()) is None


def test_an_empty_trade_log_gives_an_empty_table_with_the_columns() -> None:
    frame = reprice_trades(trades_log().iloc[:0], run_engine(), LinearInScale)
    assert frame.empty and list(frame.columns)[:5] == ["trade_id", "scale", "entry_debit", "exit_credit", "pnl"]


class PerLegOnly:
    """A session-model source without its array path: asked leg by leg (``lookup``), as
    any source without ``lookup_many`` is. The independent method for the one-pass test."""

    def __init__(self, source: CalibratedQuoteSource) -> None:
        self.source = source
        self.name = source.name

    def lookup(self, *leg):  # type: ignore[no-untyped-def]
        return self.source.lookup(*leg)

    def quote(self, *leg):  # type: ignore[no-untyped-def]
        return self.source.quote(*leg)

    def listed_strikes(self, *where):  # type: ignore[no-untyped-def]
        return self.source.listed_strikes(*where)


def test_the_session_models_one_pass_over_all_scales_gives_the_per_scale_per_leg_bits() -> None:
    """Trades on a seeded random walk: most priced at every scale, the first days' entries
    unpriced (too little history for a vol level), exits past the model's sessions valued
    at intrinsic. Re-pricing through ``lookup_many(vol_scales=)`` in one pass must give
    the very bits of a source built per scale and asked leg by leg."""
    bars = random_walk_bars("2024-01-02", "2024-04-30", "5m", seed=11)
    sessions = session_table("2023-12-20", "2024-06-28")
    days = [d.astype(dt.date) for d in bars.session_date]
    options = OptionsConfig.model_validate({"symbols": {}})
    params = CalibrationParams(overnight_share=0.6, level={"premium": 1.2, "gap_weight": 0.3})
    model = SessionVolModel(params, SessionHistory.from_bars(bars), sessions)

    def source(scale: float) -> CalibratedQuoteSource:
        return CalibratedQuoteSource(options, {"SPY": model}, vol_scale=scale)

    rows = []
    for i, day in enumerate(days[::3]):
        strike = 500.0 + (i % 7 - 3) * 5.0
        right = "C" if i % 2 else "P"
        exit_day = days[min(3 * i + 1, len(days) - 1)] if i % 9 else dt.date(2024, 7, 8)  # past the sessions
        rows.append({
            "trade_id": i + 1, "symbol": "SPY", "right": right, "expiry": (exit_day + dt.timedelta(days=3)).isoformat(),
            "k_long": strike, "k_short": strike + 2.5 if right == "C" else strike - 2.5, "width": 2.5,
            "expiry_note": "", "entry_time": pd.Timestamp(new_york_ns(day.isoformat(), "10:35"), tz="UTC"),
            "exit_time": pd.Timestamp(new_york_ns(exit_day.isoformat(), "14:05"), tz="UTC"),
            "P": 500.0 + i % 5, "underlying_exit": 497.5 + i % 11, "contracts": 1 + i % 4,
        })
    trades = pd.DataFrame(rows)

    def engine(quotes: object) -> Engine:
        pricer = SpreadPricer(quotes, ExpirySchedule.load(), {"SPY": days})  # type: ignore[arg-type]
        return Engine(AppConfig.model_validate({}), pricer)

    one_pass = reprice_trades(trades, engine(source(1.0)), source)
    per_leg = reprice_trades(trades, engine(PerLegOnly(source(1.0))), lambda s: PerLegOnly(source(s)))
    kinds = set(one_pass["exit_priced_by"])
    assert {"quote", "intrinsic", "unpriced"} <= kinds  # every branch is exercised
    pd.testing.assert_frame_equal(one_pass, per_leg, check_exact=True)
    for column in ("entry_debit", "exit_credit", "pnl"):
        assert one_pass[column].to_numpy().view(np.int64).tolist() == per_leg[column].to_numpy().view(np.int64).tolist()
