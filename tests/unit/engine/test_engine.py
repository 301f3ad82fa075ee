"""The engine's risk walk and trade arithmetic on hand-built candidates.

Quotes come from a transparent fake source (intrinsic + $0.30, bid/ask +/- $0.05) so every
number below can be checked with pencil and paper.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from vwapcli.app_config import AppConfig
from vwapcli.config import RiskConfig
from vwapcli.core.skips import Skip, SkipReason
from vwapcli.core.types import Signal, local_time_ns
from vwapcli.engine import (
    Candidate,
    Engine,
    FilledTrade,
    PricedCandidate,
    SpreadPricer,
    fill_and_size,
)
from vwapcli.options.expirations import ExpirySchedule
from vwapcli.options.quotes import Quote
from vwapcli.options.spreads import DebitSpread, SpreadPrice

DAY = dt.date(2024, 3, 12)


class IntrinsicPlusThirtyCents:
    """Leg value = intrinsic + 0.30; bid/ask = value -/+ 0.05; strikes every $1 from 90 to 110."""

    name = "fake"

    def quote(self, symbol, ts_ns, expiry, strike, right, spot):  # type: ignore[no-untyped-def]
        intrinsic = max(spot - strike, 0.0) if right == "C" else max(strike - spot, 0.0)
        value = intrinsic + 0.30
        return Quote(bid=round(value - 0.05, 2), ask=round(value + 0.05, 2), mid=value, iv=0.2)

    def listed_strikes(self, symbol, ts_ns, expiry, right, spot):  # type: ignore[no-untyped-def]
        return np.arange(90.0, 111.0)


def at(clock: str) -> int:
    return local_time_ns(DAY, dt.time.fromisoformat(clock))


def candidate(strategy: str, symbol: str, entry: str, exit_: str, reason: str, underlying_exit: float) -> Candidate:
    signal = Signal(strategy, symbol, "LONG", pd.Timestamp(at(entry), tz="UTC"), P=100.40, P_stop=99.80, P_target=101.20)
    return Candidate(signal, DAY, at(exit_), reason, underlying_exit, None)


def pricer(source: object) -> SpreadPricer:
    return SpreadPricer(source, ExpirySchedule.load(), {"SPY": [DAY], "QQQ": [DAY]})  # type: ignore[arg-type]


def engine(config: AppConfig) -> Engine:
    return Engine(config, pricer(IntrinsicPlusThirtyCents()))


def test_a_target_trade_matches_the_hand_computed_fill_size_and_pnl() -> None:
    """LONG P=100.40 -> call spread 100/101 (nearest strikes), width 1.

    Entry at 100.40: 100C = 0.70 (0.65/0.75), 101C = 0.30 (0.25/0.35): mid 0.40, natural 0.75-0.25 = 0.50,
    fill at slippage 0.5 = 0.45. Size: 1% x 100,000 = 1,000 / (45 + 2.60) = 21.0 -> 21 contracts.
    Exit at the 101.20 target: 100C = 1.50 (1.45/1.55), 101C = 0.50 (0.45/0.55): mid 1.00,
    natural 1.45-0.55 = 0.90, fill 0.95. Commissions 2.60 x 21 = 54.60.
    pnl = (0.95-0.45) x 100 x 21 - 54.60 = 995.40; max_loss = 45 x 21 + 54.60 = 999.60.
    """
    result = engine(AppConfig()).run([candidate("ORB", "SPY", "10:30", "11:00", "target", 101.20)], [DAY], ["ORB"])
    trade = result.trades.iloc[0]
    assert (trade.right, trade.k_long, trade.k_short, trade.width) == ("C", 100.0, 101.0, 1.0)
    assert (trade.entry_debit, trade.exit_credit, trade.contracts) == (0.45, 0.95, 21)
    assert trade.commissions == pytest.approx(54.60)
    assert trade.pnl == pytest.approx(995.40)
    assert trade.max_loss == pytest.approx(999.60)
    assert trade.expiry == "2024-03-12"
    assert result.equity["equity"].iloc[-1] == pytest.approx(100_995.40)


def test_pnl_identity_holds_for_every_trade() -> None:
    cands = [
        candidate("ORB", "SPY", "10:30", "11:00", "target", 101.20),
        candidate("OTHER", "QQQ", "10:31", "10:45", "stop", 99.80),
    ]
    trades = engine(AppConfig()).run(cands, [DAY], ["ORB", "OTHER"]).trades
    identity = (trades.exit_credit - trades.entry_debit) * 100 * trades.contracts - trades.commissions
    assert np.allclose(trades.pnl, identity, atol=1e-9)


def test_daily_loss_limit_and_open_position_rules_skip_with_reasons() -> None:
    """Limit 0.5% of 100,000 = 500. The 10:30 SPY trade stops at 99.80 at 10:40:
    both legs are worth 0.30 (0.25/0.35): mid 0, natural 0.25-0.35 = -0.10, fill -0.05 -> clipped 0.01;
    pnl = (0.01-0.45) x 100 x 21 - 54.60 = -978.60 <= -500, so the 11:00 QQQ signal is refused.
    The 10:35 SPY ORB signal arrives while ORB still holds SPY: position_open.
    """
    config = AppConfig(risk=RiskConfig(daily_loss_limit_pct=0.5))
    cands = [
        candidate("ORB", "SPY", "10:30", "10:40", "stop", 99.80),
        candidate("ORB", "SPY", "10:35", "10:50", "time", 100.0),
        candidate("ORB", "QQQ", "11:00", "11:30", "time", 100.0),
    ]
    result = engine(config).run(cands, [DAY], ["ORB"])
    assert result.trades["pnl"].tolist() == [pytest.approx(-978.60)]
    assert result.skipped["reason"].tolist() == ["position_open", "daily_loss_limit"]
    assert bool(result.equity["daily_loss_limit_hit"].iloc[0])


def test_too_late_candidates_are_skipped_not_traded() -> None:
    late = Candidate(candidate("ORB", "SPY", "15:55", "15:55", "time", 100.0).signal, DAY, -1, None, float("nan"), SkipReason.TOO_LATE)
    result = engine(AppConfig()).run([late], [DAY], ["ORB"])
    assert result.trades.empty and result.skipped["reason"].tolist() == ["too_late"]


# ----------------------------------------------------------------- the seam the sweep shares
def test_price_candidate_gives_the_spread_and_its_slippage_free_prices() -> None:
    """Same trade as the first test: entry mid 0.40 / natural 0.50; exit at 101.20 mid 1.00 /
    natural 1.45 - 0.55 = 0.90 (selling: bid of the long leg, ask of the short leg)."""
    priced = engine(AppConfig()).price_candidate(candidate("ORB", "SPY", "10:30", "11:00", "target", 101.20))
    assert isinstance(priced, PricedCandidate)
    assert (priced.spread.k_long, priced.spread.k_short, priced.spread.right) == (100.0, 101.0, "C")
    assert (priced.entry.mid, priced.entry.natural) == (pytest.approx(0.40), 0.50)
    assert (priced.exit.mid, priced.exit.natural, priced.exit_priced_by) == (pytest.approx(1.00), 0.90, "quote")


def test_price_candidate_without_a_quote_is_the_skip_reason() -> None:
    class NoQuotes(IntrinsicPlusThirtyCents):
        def quote(self, symbol, ts_ns, expiry, strike, right, spot):  # type: ignore[no-untyped-def]
            return None

    built = Engine(AppConfig(), pricer(NoQuotes()))
    skip = built.price_candidate(candidate("ORB", "SPY", "10:30", "11:00", "target", 101.20))
    assert isinstance(skip, Skip) and skip.reason == "no_quote"


def _priced(entry_mid: float, entry_natural: float, exit_mid: float, exit_natural: float,
            exit_priced_by: str = "quote") -> PricedCandidate:
    spread = DebitSpread("SPY", "C", DAY, 100.0, 101.0, 1.0)
    return PricedCandidate(spread, SpreadPrice(entry_mid, entry_natural), SpreadPrice(exit_mid, exit_natural),
                           exit_priced_by)  # type: ignore[arg-type]


def test_fill_and_size_fills_at_the_slippage_and_sizes_by_max_loss() -> None:
    """Slippage 0.25: entry 0.40 + 0.25 x 0.10 = 0.425 -> 0.43 (half-up); exit 1.00 - 0.25 x 0.10
    = 0.975 -> 0.98. Budget 1% x 100,000 = 1,000 / (43 + 2.60) = 21.9 -> 21 contracts.
    pnl = (0.98 - 0.43) x 100 x 21 - 54.60 = 1,100.40; max_loss = 43 x 21 + 54.60 = 957.60."""
    filled = fill_and_size(_priced(0.40, 0.50, 1.00, 0.90), 0.25, 100_000.0, RiskConfig(), 0.65, 0.9)
    assert isinstance(filled, FilledTrade)
    assert (filled.entry_debit, filled.exit_credit, filled.contracts) == (0.43, 0.98, 21)
    assert filled.pnl == 1100.40 and filled.max_loss == 957.60


def test_fill_and_size_skips_a_debit_above_the_cap_and_a_zero_size() -> None:
    """Cap 0.5 x width 1.00: a 0.55 debit (mid 0.50, natural 0.60, slippage 0.5) is too high.
    Start-of-day equity 4,000: budget 40 < 55 + 2.60 for one spread -> size_zero."""
    too_high = fill_and_size(_priced(0.50, 0.60, 1.00, 0.90), 0.5, 100_000.0, RiskConfig(), 0.65, 0.5)
    assert isinstance(too_high, Skip) and too_high.reason == "debit_too_high"
    small = fill_and_size(_priced(0.50, 0.60, 1.00, 0.90), 0.5, 4_000.0, RiskConfig(), 0.65, 0.9)
    assert isinstance(small, Skip) and (small.reason, small.detail) == ("size_zero", "debit 0.55")


def test_a_last_resort_intrinsic_exit_is_clipped_inside_the_width() -> None:
    """Intrinsic 1.00 of a 1-wide spread is clipped to 0.99 whatever the slippage."""
    filled = fill_and_size(_priced(0.40, 0.50, 1.0, 1.0, "intrinsic"), 1.0, 100_000.0, RiskConfig(), 0.65, 0.9)
    assert isinstance(filled, FilledTrade) and filled.exit_credit == 0.99


class QuotesOnlyBeforeEleven(IntrinsicPlusThirtyCents):
    """The chain of a thin afternoon: quotes until 11:00 New York, nothing after."""

    def quote(self, symbol, ts_ns, expiry, strike, right, spot):  # type: ignore[no-untyped-def]
        return super().quote(symbol, ts_ns, expiry, strike, right, spot) if ts_ns <= at("11:00") else None


class ModelAtFortyCents(IntrinsicPlusThirtyCents):
    """A stand-in model: leg value = intrinsic + 0.40, bid/ask = value -/+ 0.02."""

    def quote(self, symbol, ts_ns, expiry, strike, right, spot):  # type: ignore[no-untyped-def]
        intrinsic = max(spot - strike, 0.0) if right == "C" else max(strike - spot, 0.0)
        value = intrinsic + 0.40
        return Quote(bid=round(value - 0.02, 2), ask=round(value + 0.02, 2), mid=value, iv=0.25)


def test_a_chain_exit_without_a_quote_is_priced_by_the_model_at_that_instant_with_slippage() -> None:
    """SPEC 7 chain: no quote at the 11:30 exit -> the model's price, flagged "model", never intrinsic.

    Call spread 100/101 (P 100.40), exit at 101.20: model legs 100C = 1.20 + 0.40 = 1.60
    (1.58/1.62), 101C = 0.20 + 0.40 = 0.60 (0.58/0.62); closing mid 1.00, natural
    1.58 - 0.62 = 0.96; fill at slippage 0.5 = 0.98 (intrinsic would be 0.99 after the clip).
    Entry at 10:30 from the chain as in the first test: debit 0.45, 21 contracts.
    pnl = (0.98 - 0.45) x 100 x 21 - 21 x 2.60 = 1,113 - 54.60 = 1,058.40."""
    priced_by = SpreadPricer(QuotesOnlyBeforeEleven(), ExpirySchedule.load(), {"SPY": [DAY]},  # type: ignore[arg-type]
                             exit_fallback=ModelAtFortyCents())  # type: ignore[arg-type]
    result = Engine(AppConfig(), priced_by).run([candidate("ORB", "SPY", "10:30", "11:30", "target", 101.20)], [DAY], ["ORB"])
    row = result.trades.iloc[0]
    assert row["exit_priced_by"] == "model"
    assert (row["exit_mid"], row["exit_natural"]) == (pytest.approx(1.00), pytest.approx(0.96))
    assert (row["entry_debit"], row["exit_credit"], row["contracts"]) == (0.45, 0.98, 21)
    assert row["pnl"] == pytest.approx(1058.40)


def test_without_a_model_behind_the_chain_the_unquoted_exit_is_intrinsic_and_says_so() -> None:
    """No fallback (or the model refuses): intrinsic 1.00 of the 100/101 call spread at 101.20, clipped to 0.99."""
    bare = SpreadPricer(QuotesOnlyBeforeEleven(), ExpirySchedule.load(), {"SPY": [DAY]})  # type: ignore[arg-type]
    row = Engine(AppConfig(), bare).run([candidate("ORB", "SPY", "10:30", "11:30", "target", 101.20)], [DAY], ["ORB"]).trades.iloc[0]
    assert (row["exit_priced_by"], row["exit_credit"]) == ("intrinsic", 0.99)


def test_the_walk_prices_only_the_candidates_the_risk_limits_let_through() -> None:
    """A pricer that counts calls: the 10:35 SPY ORB candidate is refused (position_open)
    before pricing, so only the two trades are priced; trade outcomes come in time order."""
    asked: list[str] = []

    class CountingPricer(SpreadPricer):
        def price_for(self, dte: int) -> Callable[[Candidate], PricedCandidate | Skip]:
            price = super().price_for(dte)

            def counted(candidate: Candidate) -> PricedCandidate | Skip:
                asked.append(f"{candidate.signal.symbol} {candidate.signal.entry_time:%H:%M}")
                return price(candidate)

            return counted

    eng = Engine(AppConfig(), CountingPricer(IntrinsicPlusThirtyCents(), ExpirySchedule.load(), {"SPY": [DAY], "QQQ": [DAY]}))  # type: ignore[arg-type]
    cands = [
        candidate("ORB", "SPY", "10:30", "10:50", "time", 100.0),
        candidate("ORB", "SPY", "10:35", "10:55", "time", 100.0),
        candidate("ORB", "QQQ", "11:00", "11:30", "time", 100.0),
    ]
    walk = eng.walk(cands, [DAY], ["ORB"])
    assert asked == ["SPY 14:30", "QQQ 15:00"]  # UTC: 10:30 and 11:00 New York (EDT)
    assert [(i, type(o).__name__) for i, o in walk.outcomes] == [(0, "FilledTrade"), (1, "Skip"),
                                                                 (2, "FilledTrade")]
    assert walk.equity == [100_000.0 + walk.day_pnl[0]]


def test_the_pricer_remembers_prices_by_value_not_by_which_candidate_object_asks() -> None:
    """Two equal candidates built separately (distinct objects) are priced once: the
    quote source sees the four leg quotes of the first (2 legs x open/close) and no more."""
    quotes: list[tuple[float, str]] = []

    class Counting(IntrinsicPlusThirtyCents):
        def quote(self, symbol, ts_ns, expiry, strike, right, spot):  # type: ignore[no-untyped-def]
            quotes.append((strike, right))
            return super().quote(symbol, ts_ns, expiry, strike, right, spot)

    shared = pricer(Counting())
    first = shared.price(candidate("ORB", "SPY", "10:30", "11:00", "target", 101.20), 0)
    second = shared.price(candidate("ORB", "SPY", "10:30", "11:00", "target", 101.20), 0)
    assert first == second and len(quotes) == 4


def test_chain_mode_puts_the_configured_model_behind_the_chain_and_model_mode_does_not(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """build_pricer wiring (SPEC 7): the fallback is the configured model only in chain mode
    (the session-vol model by default, the flat one with `vol_model: flat`)."""
    from builders.strategy import random_sessioned_bars
    from vwapcli.engine.build import build_pricer
    from vwapcli.options.quotes import ChainQuoteSource, ModelQuoteSource
    from vwapcli.options.session_model import CalibratedQuoteSource

    data = {"SPY": random_sessioned_bars("SPY", dt.date(2024, 1, 2), 30, seed=3, n_bars=78)}
    chain = AppConfig.model_validate({"options": {"pricing_source": "chain"}})
    chained = build_pricer(chain, data, tmp_path)
    assert isinstance(chained.quotes, ChainQuoteSource)
    assert isinstance(chained.exit_fallback, CalibratedQuoteSource)
    flat_chain = AppConfig.model_validate({"options": {"pricing_source": "chain", "vol_model": "flat"}})
    assert isinstance(build_pricer(flat_chain, data, tmp_path).exit_fallback, ModelQuoteSource)
    assert build_pricer(AppConfig(), data, tmp_path).exit_fallback is None
