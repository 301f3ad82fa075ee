"""The engine minute by minute: closed bars in, signals, entries, exits and days out (SPEC 12).

Every rule is the backtest's own code, applied to the bars known at each close:

* signals: ``signal_run.signals_at_newest_bar`` (the ``--replay`` path) over the strategy
  registry, on a ``MarketState`` of today's bars so far;
* exits: ``exits.plan_exits`` on today's bars so far, each bar, for every open trade; an
  exit it finds before the last known bar is final (SPEC 9: stop, target, time), and
  at the session's end what is still open leaves as the batch planner says (end_of_data);
* entries: the order of ``engine.walk.walk_account`` (exits settle before entries at the
  same instant, then too_late, the SPEC 8 limits of a ``risk.DayLedger``, pricing through
  the run's ``SpreadPricer``, the opening fill and size of ``engine.fills.open_and_size``);
  the trade's dollars come from ``fill_and_size`` once its exit is known, with the same
  start-of-day equity, so its row is the backtest's row;
* tables: ``engine.tables.trade_row`` / ``skip_row`` / ``equity_frame``.

One rule is paper's own: no entry when the signal's bar is older than ``max_bar_age``
at the moment it is seen (``stale_bar``); exits are still taken.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from vwapcli.app_config import AppConfig
from vwapcli.core.skips import Skip, SkipReason
from vwapcli.core.types import SessionedBars, Signal, new_york_date
from vwapcli.data.sessions import SessionCalendar
from vwapcli.engine import TRADE_COLUMNS, Candidate, FilledTrade, SpreadPricer, fill_and_size
from vwapcli.engine.engine import fill_terms_of, trade_terms_of
from vwapcli.engine.fills import open_and_size
from vwapcli.engine.tables import SKIP_COLUMNS, equity_frame, skip_row, trade_row
from vwapcli.engine.walk import AccountWalk
from vwapcli.exits import EXIT_END_OF_DATA, EXIT_NONE, EXIT_REASONS, plan_exits
from vwapcli.options.spreads import DebitSpread
from vwapcli.paper.tape import SessionInfo, SymbolTape
from vwapcli.risk import DayLedger, OpenPosition
from vwapcli.signal_run import enabled_strategies, signals_at_newest_bar

_NOT_YET = int(np.iinfo(np.int64).max)  # an open trade's exit time until it is known

#: The run's pricer for a session, given the bars known when it is first needed.
PricerForSession = Callable[[dt.date, Mapping[str, SessionedBars]], SpreadPricer]
Bar = tuple[int, float, float, float, float, float]  # ts (start, ns UTC), open, high, low, close, volume
Event = dict[str, Any]


@dataclass
class PaperPosition:
    """An open paper spread: what was bought, and the ledger's view of it."""

    trade_id: int
    signal: Signal
    spread: DebitSpread
    entry_debit: float
    contracts: int
    outcome_index: int
    ledger_entry: OpenPosition


@dataclass
class PaperBook:
    """Everything decided so far, in decision order (what the run folder's tables show)."""

    outcomes: list[tuple[Candidate, FilledTrade | Skip | None]] = field(default_factory=list)
    session_dates: list[dt.date] = field(default_factory=list)
    day_pnl: list[float] = field(default_factory=list)
    equity: list[float] = field(default_factory=list)
    strategy_pnl: dict[str, list[float]] = field(default_factory=dict)
    loss_limit_hit: list[bool] = field(default_factory=list)


def signal_record(signal: Signal) -> dict[str, Any]:
    return {
        "strategy": signal.strategy_name, "symbol": signal.symbol, "direction": signal.direction,
        "entry_time_ns": signal.entry_time_ns, "P": signal.P, "P_stop": signal.P_stop, "P_target": signal.P_target,
    }


def _spread_fields(spread: DebitSpread) -> dict[str, Any]:
    return {"expiry": spread.expiry.isoformat(), "right": spread.right, "k_long": spread.k_long,
            "k_short": spread.k_short}


class IncrementalEngine:
    """The account fed one close time at a time; each call returns the events it decided."""

    def __init__(
        self,
        config: AppConfig,
        history: Mapping[str, SessionedBars],
        pricer_for_session: PricerForSession,
        max_bar_age_ns: int | None = None,
    ) -> None:
        self.config = config
        self.strategies = enabled_strategies(config)
        self.strategy_names = config.enabled_strategy_names()
        self.tapes = {symbol: SymbolTape(bars) for symbol, bars in sorted(history.items())}
        self.calendar = SessionCalendar(config.data.calendar)
        self._pricer_for_session = pricer_for_session
        self._pricer: SpreadPricer | None = None
        self.fill_terms = fill_terms_of(config)
        self.trade_terms = trade_terms_of(config)
        self.max_bar_age_ns = max_bar_age_ns
        self.book = PaperBook(strategy_pnl={name: [] for name in self.strategy_names})
        self.equity = config.risk.starting_equity
        self.day: SessionInfo | None = None
        self.ledger: DayLedger | None = None
        self.open: list[PaperPosition] = []
        self.today_trades: list[PaperPosition] = []
        self.n_trades = 0
        self._sessions: dict[dt.date, SessionInfo | None] = {}
        self.closed_through: dt.date | None = None  # the last session booked by close_day
        self.exit_buffer_ns = int(config.exits.exit_buffer.total_seconds() * 1e9)

    # ---- sessions ---------------------------------------------------------------------
    def session_of(self, ts_ns: int) -> SessionInfo | None:
        """The session a bar starting at ``ts_ns`` belongs to (SPEC 3.2: [open, close)), or None."""
        day = new_york_date(ts_ns)
        if day not in self._sessions:
            info = None
            if self.calendar.is_session(day):
                _, opens, closes = self.calendar.session_arrays(day, day)
                info = SessionInfo(day, int(opens[0]), int(closes[0]))
            self._sessions[day] = info
        info = self._sessions[day]
        if info is None or not info.open_ns <= ts_ns < info.close_ns:
            return None
        return info

    def next_session_open_ns(self, now_ns: int) -> int | None:
        """The open of the first session not yet closed at ``now_ns`` (None: calendar's end)."""
        today = new_york_date(now_ns)
        last = min(today + dt.timedelta(days=14), self.calendar.last_session)
        if last < today:
            return None
        _, opens, closes = self.calendar.session_arrays(today, last)
        later = np.flatnonzero(closes > now_ns)
        return int(opens[later[0]]) if later.shape[0] else None

    def day_due_ns(self, grace_ns: int) -> int | None:
        """When the current session is over and can be closed (its close plus ``grace_ns``)."""
        return None if self.day is None else self.day.close_ns + grace_ns

    # ---- one close time ---------------------------------------------------------------
    def step(self, close_ns: int, bars: Mapping[str, Bar], now_ns: int) -> list[Event]:
        """Bars closing at ``close_ns`` (per symbol), seen at ``now_ns``: exits, then entries."""
        events: list[Event] = []
        fresh: list[str] = []
        for symbol in sorted(bars):
            tape = self.tapes.get(symbol)
            bar = bars[symbol]
            ts = int(bar[0])
            if tape is None or ts <= tape.last_ts_ns:
                continue  # a symbol not traded, or a bar seen before
            info = self.session_of(ts)
            if info is None:
                continue  # outside regular hours (SPEC 3.2)
            if self.closed_through is not None and info.date <= self.closed_through:
                continue  # a bar of a session already booked (too late to count)
            if self.day is None or info.date > self.day.date:
                events.extend(self.close_day())
                self.day = info
            if info.date < self.day.date:
                continue  # a late bar of an earlier session
            if tape.session is None or tape.session.date != info.date:
                tape.start_session(info)
            tape.append(ts, (float(bar[1]), float(bar[2]), float(bar[3]), float(bar[4]), float(bar[5])))
            fresh.append(symbol)
        # SPEC 9: exits at this close settle before any entry at the same instant.
        for position in list(self.open):
            if position.signal.symbol in fresh:
                events.extend(self._check_exit(position, final=False))
        signals: list[Signal] = []
        for symbol in fresh:
            tape = self.tapes[symbol]
            signals.extend(signals_at_newest_bar(self.strategies, tape.market_state(), close_ns))
        signals.sort(key=lambda s: (s.entry_time_ns, s.symbol, s.strategy_name))
        for signal in signals:
            events.append({"kind": "signal", **signal_record(signal)})
            events.extend(self._enter(signal, now_ns))
        return events

    def _enter(self, signal: Signal, now_ns: int) -> list[Event]:
        assert self.day is not None
        if self.ledger is None:
            self.ledger = DayLedger(start_of_day_equity=self.equity, risk=self.config.risk)
        ledger = self.ledger
        ledger.realize_until(signal.entry_time_ns)
        tape = self.tapes[signal.symbol]
        plan = self._plan(tape, [signal])
        candidate = Candidate(signal, self.day.date, -1, None, float("nan"), None)
        skip: Skip | None = None
        if bool(plan.too_late[0]):
            skip = Skip(SkipReason.TOO_LATE)
        elif self.max_bar_age_ns is not None and now_ns - signal.entry_time_ns > self.max_bar_age_ns:
            age = (now_ns - signal.entry_time_ns) / 1e9
            skip = Skip(SkipReason.STALE_BAR, f"bar seen {age:.0f}s after its close")
        else:
            reason = ledger.rejection(signal.strategy_name, signal.symbol)
            if reason is not None:
                skip = Skip(reason)
        if skip is None:
            pricer = self.pricer()
            dte = self.config.options.dte
            spread = pricer.spread(signal, self.day.date, dte)
            if isinstance(spread, Skip):
                skip = spread
            else:
                entry = pricer.spread_price(spread, signal.entry_time_ns, signal.P, "open")
                terms = self.fill_terms
                opened = entry if isinstance(entry, Skip) else open_and_size(
                    entry, spread.width, terms.slippage, ledger.start_of_day_equity, terms.risk,
                    terms.commission_per_contract, terms.max_debit_frac,
                )
                if isinstance(opened, Skip):
                    skip = opened
                else:
                    return self._open(signal, candidate, spread, *opened)
        assert skip is not None
        self.book.outcomes.append((candidate, skip))
        return [{"kind": "skip", **signal_record(signal), "reason": skip.reason.value, "detail": skip.detail}]

    def _open(self, signal: Signal, candidate: Candidate, spread: DebitSpread, debit: float, contracts: int) -> list[Event]:
        assert self.ledger is not None
        self.n_trades += 1
        entry = OpenPosition(signal.strategy_name, signal.symbol, _NOT_YET, 0.0, self.n_trades)
        self.ledger.open_positions.append(entry)
        position = PaperPosition(self.n_trades, signal, spread, debit, contracts, len(self.book.outcomes), entry)
        self.book.outcomes.append((candidate, None))
        self.open.append(position)
        self.today_trades.append(position)
        return [{
            "kind": "open", "trade_id": position.trade_id, "strategy": signal.strategy_name, "symbol": signal.symbol,
            "time_ns": signal.entry_time_ns, **_spread_fields(spread), "contracts": contracts, "entry_debit": debit,
        }]

    def _plan(self, tape: SymbolTape, signals: Sequence[Signal]) -> Any:
        exits = self.config.exits
        return plan_exits(
            tape.today_sessioned(),
            np.array([s.entry_time_ns for s in signals], dtype=np.int64),
            np.array([s.direction == "LONG" for s in signals], dtype=np.bool_),
            np.array([s.P_stop for s in signals], dtype=np.float64),
            np.array([s.P_target for s in signals], dtype=np.float64),
            exits.exit_time, exit_buffer_ns=self.exit_buffer_ns,
        )

    def _check_exit(self, position: PaperPosition, final: bool) -> list[Event]:
        """SPEC 9 on the bars known now; ``final`` (the session is over) takes end_of_data too."""
        plan = self._plan(self.tapes[position.signal.symbol], [position.signal])
        reason = int(plan.reason[0])
        if reason == EXIT_NONE or (reason == EXIT_END_OF_DATA and not final):
            return []
        return self._close(position, int(plan.exit_time_ns[0]), EXIT_REASONS[reason], float(plan.underlying_exit[0]))

    def _close(self, position: PaperPosition, exit_ns: int, reason: str, level: float) -> list[Event]:
        assert self.ledger is not None and self.day is not None
        signal = position.signal
        candidate = Candidate(signal, self.day.date, exit_ns, reason, level, None)
        priced = self.pricer().price_for(self.config.options.dte)(candidate)
        terms = self.fill_terms
        filled = priced if isinstance(priced, Skip) else fill_and_size(
            priced, terms.slippage, self.ledger.start_of_day_equity, terms.risk, terms.commission_per_contract,
            terms.max_debit_frac,
        )
        if not isinstance(filled, FilledTrade) or filled.contracts != position.contracts:
            raise AssertionError(f"trade {position.trade_id}: the exit re-priced a different entry ({filled})")
        position.ledger_entry.exit_time_ns = exit_ns
        position.ledger_entry.pnl = filled.pnl
        self.book.outcomes[position.outcome_index] = (candidate, filled)
        self.open.remove(position)
        return [{
            "kind": "close", "trade_id": position.trade_id, "strategy": signal.strategy_name, "symbol": signal.symbol,
            "exit_time_ns": exit_ns, "exit_reason": reason, "underlying_exit": level,
            "exit_credit": filled.exit_credit, "pnl": filled.pnl, **_spread_fields(position.spread),
            "contracts": position.contracts,
        }]

    # ---- end of a session ----------------------------------------------------------------
    def close_day(self) -> list[Event]:
        """The session is over: what is still open leaves (SPEC 9), then the day's equity row
        is booked exactly as ``walk_account`` books it."""
        if self.day is None:
            return []
        events: list[Event] = []
        for position in list(self.open):
            events.extend(self._check_exit(position, final=True))
        names = self.strategy_names
        by_strategy = dict.fromkeys(names, 0.0)
        limit_hit = False
        if self.ledger is not None:
            for position in self.today_trades:  # trade order, as the walk adds them
                name = position.signal.strategy_name
                by_strategy[name] = by_strategy.get(name, 0.0) + position.ledger_entry.pnl
            self.ledger.realize_until(_NOT_YET)
            limit_hit = self.ledger.loss_limit_hit
        day_pnl = sum(by_strategy.values())
        self.equity += day_pnl
        book = self.book
        book.session_dates.append(self.day.date)
        book.day_pnl.append(day_pnl)
        book.equity.append(self.equity)
        book.loss_limit_hit.append(limit_hit)
        for name in names:
            book.strategy_pnl[name].append(by_strategy[name])
        events.append({"kind": "day", "session_date": self.day.date.isoformat(), "pnl": day_pnl,
                       "equity": self.equity, "daily_loss_limit_hit": limit_hit})
        for tape in self.tapes.values():
            tape.finish_session()
        self.closed_through = self.day.date
        self.day, self.ledger, self.today_trades, self._pricer = None, None, [], None
        return events

    # ---- prices and tables ------------------------------------------------------------
    def pricer(self) -> SpreadPricer:
        """The session's pricer, built on the bars known when it is first needed."""
        if self._pricer is None:
            assert self.day is not None
            known = {symbol: tape.with_today() for symbol, tape in self.tapes.items()}
            self._pricer = self._pricer_for_session(self.day.date, known)
        return self._pricer

    def mark(self, position: PaperPosition) -> float | None:
        """Mark-to-model P&L (dollars) of an open trade at its symbol's last bar (panel only)."""
        tape = self.tapes[position.signal.symbol]
        if not tape.n_today:
            return None
        close_ns = int(tape.last_ts_ns) + tape.bar_ns
        price = self.pricer().spread_price(position.spread, close_ns, tape.last_close(), "close")
        if isinstance(price, Skip):
            return None
        credit = price.mid
        return round((credit - position.entry_debit) * 100.0 * position.contracts, 2)

    def tables(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """trades, skipped and daily equity so far (closed trades only; ids in entry order)."""
        trades: list[dict[str, object]] = []
        skipped: list[dict[str, object]] = []
        terms = self.trade_terms
        number = 0
        for candidate, outcome in self.book.outcomes:
            if isinstance(outcome, Skip):
                skipped.append(skip_row(candidate.signal, outcome))
                continue
            number += 1
            if outcome is not None:
                trades.append(trade_row(candidate, outcome, number, terms))
        book = self.book
        dates, day_pnl, closes = list(book.session_dates), list(book.day_pnl), list(book.equity)
        by_strategy = {name: list(column) for name, column in book.strategy_pnl.items()}
        limit_hits = list(book.loss_limit_hit)
        if self.day is not None:
            # The session in progress, provisionally: trades closed so far (so `vwapcli
            # report` reads a folder at any moment); replaced by the booked row at its close.
            today = self.realized_today()
            dates.append(self.day.date)
            day_pnl.append(sum(today.values()))
            closes.append(self.equity + day_pnl[-1])
            for name in self.strategy_names:
                by_strategy[name].append(today[name])
            limit_hits.append(self.ledger is not None and self.ledger.loss_limit_hit)
        walk = AccountWalk([], dates, day_pnl, closes, by_strategy, limit_hits)
        return (
            pd.DataFrame(trades, columns=TRADE_COLUMNS),
            pd.DataFrame(skipped, columns=SKIP_COLUMNS),
            equity_frame(walk, self.strategy_names),
        )

    def realized_today(self) -> dict[str, float]:
        """Today's closed trades' P&L per strategy (dollars), in trade order."""
        realized = dict.fromkeys(self.strategy_names, 0.0)
        for position in self.today_trades:
            if position not in self.open:
                name = position.signal.strategy_name
                realized[name] = realized.get(name, 0.0) + position.ledger_entry.pnl
        return realized
