"""The backtest / paper loop: signals -> orders -> fills -> exits -> trades (SPEC 7-9).

One loop serves backtests, replays and parameter sweeps. The work is cut where it stops
depending on the account, so a sweep can share it across configurations:

1. ``plan_candidates`` (candidates.py) - each signal's SPEC 9 exit (the underlying decides it).
2. ``SpreadPricer`` (pricing.py) - the spread and its opening and closing mid/natural
   (SPEC 7): independent of slippage, sizing and the account; remembered by value.
3. ``fill_and_size`` (fills.py) - fills at the configured slippage, the debit cap and
   SPEC 8 sizing for one priced candidate, given the day's starting equity.
4. ``walk_account`` (walk.py) - the account: the run's sessions in order, exits settled
   before entries at the same instant, risk limits, daily equity.

``Engine`` (engine.py) holds a config and a pricer and runs stages 2-4; ``run`` adds the
run folder's tables (tables.py); the sweep reads P&L and equity straight from ``walk``.
``build_engine`` (build.py) is the one place a config becomes an engine; a streamed run
(SPEC 13) builds its pricer with ``universe_pricer`` from each symbol's ``symbol_pricing``
and merges each symbol's candidates with ``in_signal_order``. ``reprice_trades``
(model_risk.py) re-prices a finished run's trades with the vol level scaled (SPEC 7.1).
"""

from vwapcli.engine.build import (
    SymbolPricing,
    build_engine,
    build_pricer,
    configured_quote_source,
    exchange_sessions,
    exchange_sessions_spanning,
    symbol_pricing,
    universe_pricer,
    universe_quote_source,
)
from vwapcli.engine.candidates import Candidate, in_signal_order, plan_candidates
from vwapcli.engine.engine import Engine
from vwapcli.engine.fills import FilledTrade, exit_fill, fill_and_size, trade_pnl
from vwapcli.engine.model_risk import (
    MODEL_RISK_FILE,
    MODEL_RISK_SCALES,
    QuoteSourceForScale,
    not_applicable_reason,
    reprice_trades,
)
from vwapcli.engine.pricing import PricedCandidate, SpreadPricer, intrinsic_spread_value
from vwapcli.engine.tables import SKIP_COLUMNS, TRADE_COLUMNS, BacktestResult
from vwapcli.engine.walk import AccountWalk

__all__ = [
    "MODEL_RISK_FILE",
    "MODEL_RISK_SCALES",
    "SKIP_COLUMNS",
    "TRADE_COLUMNS",
    "AccountWalk",
    "BacktestResult",
    "Candidate",
    "Engine",
    "FilledTrade",
    "PricedCandidate",
    "QuoteSourceForScale",
    "SpreadPricer",
    "SymbolPricing",
    "build_engine",
    "build_pricer",
    "configured_quote_source",
    "exchange_sessions",
    "exchange_sessions_spanning",
    "exit_fill",
    "fill_and_size",
    "in_signal_order",
    "intrinsic_spread_value",
    "not_applicable_reason",
    "plan_candidates",
    "reprice_trades",
    "symbol_pricing",
    "trade_pnl",
    "universe_pricer",
    "universe_quote_source",
]
