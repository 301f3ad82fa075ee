"""The live panel of ``vwapcli paper`` (SPEC 12): what a trader watches while it runs.

Clock, last bar per symbol, open positions marked to the model, today's P&L per strategy,
the daily-loss-limit state and the feed's latest problem. Drawn only on a terminal and
never under ``--quiet``; everything on it is also in the journal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import pandas as pd
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from vwapcli.paper.session import PaperSession


#: Redraws the panel from a session's state.
PanelUpdate = Callable[["PaperSession"], None]


def _time(ns: int | None) -> str:
    if ns is None or ns < 0:
        return "-"
    return pd.Timestamp(ns, tz="UTC").tz_convert("America/New_York").strftime("%Y-%m-%d %H:%M:%S %Z")


def panel(session: PaperSession) -> Group:
    """One frame of the panel (a pure function of the session's state)."""
    engine = session.engine
    head = Text(f"paper {session.run_id}   clock {_time(session.last_now_ns)}   bars consumed {session.bars_consumed}")
    bars = Table(title="last bar", expand=False)
    for column in ("symbol", "bar close", "close"):
        bars.add_column(column)
    for symbol, tape in engine.tapes.items():
        last = tape.last_ts_ns + tape.bar_ns if tape.last_ts_ns >= 0 else None
        bars.add_row(symbol, _time(last), f"{tape.last_close():.2f}" if tape.history.ts.shape[0] or tape.n_today else "-")
    positions = Table(title="open positions (mark to model)")
    for column in ("trade", "strategy", "symbol", "spread", "x", "debit", "P&L $"):
        positions.add_column(column)
    for position in engine.open:
        mark = engine.mark(position)
        spread = position.spread
        positions.add_row(
            str(position.trade_id), position.signal.strategy_name, position.signal.symbol,
            f"{spread.k_long:g}/{spread.k_short:g}{spread.right} {spread.expiry}", str(position.contracts),
            f"{position.entry_debit:.2f}", "-" if mark is None else f"{mark:,.2f}",
        )
    today = Table(title="today")
    today.add_column("strategy")
    today.add_column("realized P&L $", justify="right")
    for name, pnl in engine.realized_today().items():
        today.add_row(name, f"{pnl:,.2f}")
    ledger = engine.ledger
    limit = "HIT: no new entries today" if ledger is not None and ledger.loss_limit_hit else "ok"
    footer = Text(f"equity {engine.equity:,.2f}   daily loss limit: {limit}")
    parts: list[Table | Text] = [head, bars, positions, today, footer]
    if session.last_errors:
        parts.append(Text("feed: " + "; ".join(session.last_errors), style="yellow"))
    return Group(*parts)


@contextmanager
def live_panel(console: Console, enabled: bool) -> Iterator[PanelUpdate]:
    """Yield ``update(session)``: redraws on a terminal when ``enabled``, else does nothing."""
    if not enabled or not console.is_terminal:
        yield _no_panel
        return
    from rich.live import Live

    with Live(console=console, refresh_per_second=2, transient=False) as live:
        yield lambda session: live.update(panel(session))


def _no_panel(session: PaperSession) -> None:
    """No terminal, or --quiet: the journal and run.log say it all."""

