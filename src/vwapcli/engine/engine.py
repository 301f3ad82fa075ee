"""The engine: one run's config and pricer, driving the four stages for backtest, replay and sweep."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from vwapcli.app_config import AppConfig
from vwapcli.core.skips import Skip
from vwapcli.engine.candidates import Candidate
from vwapcli.engine.pricing import PricedCandidate, SpreadPricer
from vwapcli.engine.tables import BacktestResult, TradeTerms, run_tables
from vwapcli.engine.walk import AccountWalk, FillTerms, walk_account


def fill_terms_of(config: AppConfig) -> FillTerms:
    """The fill and sizing settings of ``config`` (one route: ``options.slippage``)."""
    options = config.options
    return FillTerms(
        risk=config.risk, slippage=options.slippage,
        commission_per_contract=options.commission_per_contract, max_debit_frac=options.max_debit_frac,
    )


def trade_terms_of(config: AppConfig) -> TradeTerms:
    """What every trade row of a run with ``config`` repeats (SPEC 10)."""
    options = config.options
    return TradeTerms(
        pricing_source=options.pricing_source, slippage=options.slippage,
        commission_per_contract=options.commission_per_contract,
    )


class Engine:
    """Turns candidates into debit-spread trades under the risk rules, one session at a time.

    The config supplies everything about fills, sizing and risk (slippage included: one
    route, ``options.slippage``); the ``SpreadPricer`` supplies prices, and may be shared
    by engines on the same quote source, schedule and sessions. Build one from a config
    with :func:`vwapcli.engine.build_engine`.
    """

    def __init__(self, config: AppConfig, pricer: SpreadPricer) -> None:
        self.config = config
        self.pricer = pricer
        self.fill_terms = fill_terms_of(config)
        self.trade_terms = trade_terms_of(config)

    def price_candidate(self, candidate: Candidate) -> PricedCandidate | Skip:
        """The spread a candidate trades and its opening and closing mid/natural (SPEC 7).

        A Skip (no_strikes, no_quote, no_vol, ...) when it cannot be priced at entry.
        Depends on the pricer and ``dte`` only, never on the account.
        """
        return self.pricer.price(candidate, self.config.options.dte)

    def walk(
        self,
        candidates: Sequence[Candidate],
        run_sessions: Sequence[dt.date],
        strategy_names: Sequence[str],
        progress: Callable[[int], None] | None = None,
    ) -> AccountWalk:
        """The account through the run's sessions: which candidates trade, and daily equity."""
        price = self.pricer.price_for(self.config.options.dte)
        return walk_account(candidates, run_sessions, strategy_names, price, self.fill_terms, progress)

    def run(
        self,
        candidates: Sequence[Candidate],
        run_sessions: Sequence[dt.date],
        strategy_names: Sequence[str],
        progress: Callable[[int], None] | None = None,
    ) -> BacktestResult:
        """Walk the run's sessions; return trades, skipped signals and daily equity (SPEC 10)."""
        walk = self.walk(candidates, run_sessions, strategy_names, progress)
        return run_tables(walk, candidates, strategy_names, self.trade_terms)
