"""Performance metrics: pure functions of a trade table and a daily equity series (SPEC 11).

Everything here is computed from what the engine wrote (trades and daily equity), never
re-derived from bars, so the report can be rebuilt from a run folder alone.

Conventions, chosen once and documented here because every number on the page uses them:

* **Win rate** = trades with ``pnl > 0`` / all trades (a scratch trade at exactly $0 is
  not a win). 0.0 when there are no trades.
* **Profit factor** = gross profit / |gross loss| of net trade P&L (after commissions).
  ``inf`` when there are winning trades and no losing ones; 0.0 when there is no gross
  profit (including no trades at all).
* **Daily returns** are close-to-close returns of the equity series with the starting
  equity prepended, so the first session's return is measured against starting equity.
  Sessions without trades count as 0 % days.
* **Sharpe** = mean / sample std (ddof=1) of daily returns x sqrt(252), risk-free rate 0.
  **Sortino** = mean / downside deviation x sqrt(252), where the downside deviation is
  sqrt(mean(min(r, 0)^2)) over *all* days (target 0, rf 0). NaN when undefined.
* **Annual return** = CAGR on a 252-session year: (end/start)^(252/sessions) - 1.
* **Max drawdown** on the series [starting_equity, close_1, ..., close_N], peak to
  trough, as a positive percent of the peak. Its duration is counted in sessions from
  the peak to the first close back at or above the peak, or to the last session when
  the equity never recovered. A flat peak (sessions without trades at the high) starts
  the drawdown at its LAST session, the last close before the equity went under water
  (pyfolio's convention), so days spent at the high are not counted as drawdown.
* **Years covered** = (last session - first session of the run range) in calendar days
  / 365.25. **Trades per year** = trades / years covered.
* **Exposure** = fraction of the run's sessions on which at least one trade was open
  (the New York dates from entry to exit, inclusive).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

TRADING_DAYS_PER_YEAR = 252
DAYS_PER_YEAR = 365.25
# SPY/QQQ have listed an expiry every weekday since this date (SPEC 7): the "0DTE era".
DAILY_EXPIRY_START = dt.date(2022, 11, 14)
NEW_YORK_TZ = "America/New_York"


def profit_factor(gross_profit: float, gross_loss: float) -> float:
    """Gross profit / |gross loss|; ``inf`` with profit and no loss, 0.0 with no profit."""
    gross_loss = abs(gross_loss)
    if gross_profit <= 0.0:
        return 0.0
    if gross_loss == 0.0:
        return math.inf
    return gross_profit / gross_loss


@dataclass(frozen=True)
class TradeStats:
    """Trade-level statistics of a set of net trade P&Ls (dollars)."""

    trades: int
    wins: int
    losses: int
    win_rate: float
    profit_factor: float
    gross_profit: float
    gross_loss: float
    net_pnl: float
    expectancy: float  # mean net P&L per trade, dollars
    avg_win: float  # mean of winning trades, dollars (NaN without wins)
    avg_loss: float  # mean of losing trades, dollars, negative (NaN without losses)
    payoff: float  # avg_win / |avg_loss| (NaN when either side is missing)


def trade_stats(pnl: np.ndarray) -> TradeStats:
    """Win rate, profit factor, expectancy and average win/loss of net trade P&Ls."""
    pnl = np.asarray(pnl, dtype=float)
    n = int(pnl.size)
    winners = pnl[pnl > 0]
    losers = pnl[pnl < 0]
    gross_profit = float(winners.sum())
    gross_loss = float(losers.sum())
    avg_win = float(winners.mean()) if winners.size else math.nan
    avg_loss = float(losers.mean()) if losers.size else math.nan
    payoff = avg_win / abs(avg_loss) if winners.size and losers.size else math.nan
    return TradeStats(
        trades=n,
        wins=int(winners.size),
        losses=int(losers.size),
        win_rate=winners.size / n if n else 0.0,
        profit_factor=profit_factor(gross_profit, gross_loss),
        gross_profit=gross_profit,
        gross_loss=gross_loss,
        net_pnl=float(pnl.sum()),
        expectancy=float(pnl.mean()) if n else 0.0,
        avg_win=avg_win,
        avg_loss=avg_loss,
        payoff=payoff,
    )


def daily_returns(starting_equity: float, equity: np.ndarray) -> np.ndarray:
    """Close-to-close returns of ``[starting_equity, *equity]`` (one per session)."""
    path = np.concatenate([[float(starting_equity)], np.asarray(equity, dtype=float)])
    return path[1:] / path[:-1] - 1.0


def sharpe_ratio(returns: np.ndarray) -> float:
    """Annualised Sharpe of daily returns (rf = 0, sqrt(252), sample std); NaN if flat."""
    returns = np.asarray(returns, dtype=float)
    if returns.size < 2:
        return math.nan
    std = float(returns.std(ddof=1))
    if std == 0.0:
        return math.nan
    return float(returns.mean()) / std * math.sqrt(TRADING_DAYS_PER_YEAR)


def sortino_ratio(returns: np.ndarray) -> float:
    """Annualised Sortino (target 0, downside deviation over all days); NaN without losses."""
    returns = np.asarray(returns, dtype=float)
    if returns.size == 0:
        return math.nan
    downside = math.sqrt(float(np.mean(np.minimum(returns, 0.0) ** 2)))
    if downside == 0.0:
        return math.nan
    return float(returns.mean()) / downside * math.sqrt(TRADING_DAYS_PER_YEAR)


@dataclass(frozen=True)
class Drawdown:
    """The deepest peak-to-trough fall of an equity path.

    Indices refer to the path ``[starting_equity, close_1, ..., close_N]`` (0 = start).
    """

    pct: float  # positive percent of the peak, 0.0 when equity never fell
    duration_sessions: int  # peak -> recovery, or peak -> last session if not recovered
    peak_index: int
    trough_index: int
    recovered: bool


def max_drawdown(starting_equity: float, equity: np.ndarray) -> Drawdown:
    """Max drawdown of daily closing equity, starting equity included as the first peak.

    Example: 100k start, closes 110k, 88k, 120k -> peak 110k, trough 88k,
    DD = 22k / 110k = 20.0 %, recovered at 120k two sessions after the peak.
    """
    path = np.concatenate([[float(starting_equity)], np.asarray(equity, dtype=float)])
    running_peak = np.maximum.accumulate(path)
    fall = 1.0 - path / running_peak
    trough = int(np.argmax(fall))  # first occurrence of the deepest fall
    depth = float(fall[trough])
    if depth <= 0.0:
        return Drawdown(0.0, 0, 0, 0, True)
    # The last close at the peak before the trough: a flat peak starts the drawdown late.
    peak = int(np.flatnonzero(path[: trough + 1] == running_peak[trough])[-1])
    after = np.flatnonzero(path[trough + 1 :] >= path[peak])
    recovered = after.size > 0
    end = trough + 1 + int(after[0]) if recovered else path.size - 1
    return Drawdown(depth * 100.0, end - peak, peak, trough, recovered)


def drawdown_series(starting_equity: float, equity: np.ndarray) -> np.ndarray:
    """Drawdown from the running peak at each close, in percent (<= 0), one per session.

    Same path convention as :func:`max_drawdown`: the starting equity is the first peak,
    so ``-drawdown_series(...).min() == max_drawdown(...).pct``.
    """
    path = np.concatenate([[float(starting_equity)], np.asarray(equity, dtype=float)])
    return (path / np.maximum.accumulate(path) - 1.0)[1:] * 100.0


def exposure(sessions: np.ndarray, entry_dates: np.ndarray, exit_dates: np.ndarray) -> float:
    """Fraction of sessions on which a trade was open (entry date to exit date inclusive).

    ``sessions`` are sorted ``datetime64[D]``; trade dates are New York dates.
    """
    sessions = np.asarray(sessions, dtype="datetime64[D]")
    if sessions.size == 0:
        return 0.0
    first = np.searchsorted(sessions, np.asarray(entry_dates, dtype="datetime64[D]"), "left")
    last = np.searchsorted(sessions, np.asarray(exit_dates, dtype="datetime64[D]"), "right")
    # Difference array: +1 where a holding interval starts, -1 just after it ends.
    marks = np.zeros(sessions.size + 1, dtype=np.int64)
    np.add.at(marks, first, 1)
    np.add.at(marks, last, -1)
    held = np.cumsum(marks[:-1]) > 0
    return float(held.mean())


def years_covered(sessions: np.ndarray) -> float:
    """Calendar span of the run, first to last session, in years of 365.25 days."""
    sessions = np.asarray(sessions, dtype="datetime64[D]")
    if sessions.size == 0:
        return 0.0
    days = int((sessions[-1] - sessions[0]).astype(np.int64))
    return days / DAYS_PER_YEAR


@dataclass(frozen=True)
class Summary:
    """Headline metrics of one strategy (or the whole run) over the run's sessions."""

    trades: int
    win_rate: float
    profit_factor: float
    expectancy: float
    avg_win: float
    avg_loss: float
    payoff: float
    gross_profit: float
    gross_loss: float
    net_pnl: float
    starting_equity: float
    ending_equity: float
    total_return: float
    annual_return: float
    sharpe: float
    sortino: float
    max_drawdown_pct: float
    max_drawdown_duration_sessions: int
    max_drawdown_recovered: bool
    exposure: float
    sessions: int
    years_covered: float
    trades_per_year: float

    def as_dict(self) -> dict[str, float | int | bool]:
        """Plain mapping for metrics.json."""
        return asdict(self)


def summarize(trades: pd.DataFrame, daily: pd.DataFrame, starting_equity: float) -> Summary:
    """All headline metrics of ``trades`` against the daily equity ``daily``.

    ``trades`` is a normalised trade table (see :func:`prepare_trades`); ``daily`` has
    ``session_date`` (sorted) and ``equity`` (closing equity) for every session of the run.
    """
    stats = trade_stats(trades["pnl"].to_numpy(dtype=float))
    sessions = daily["session_date"].to_numpy(dtype="datetime64[D]")
    equity = daily["equity"].to_numpy(dtype=float)
    returns = daily_returns(starting_equity, equity)
    drawdown = max_drawdown(starting_equity, equity)
    ending = float(equity[-1]) if equity.size else float(starting_equity)
    total = ending / starting_equity - 1.0
    growth = ending / starting_equity
    annual = (
        growth ** (TRADING_DAYS_PER_YEAR / sessions.size) - 1.0
        if sessions.size and growth > 0
        else math.nan
    )
    years = years_covered(sessions)
    return Summary(
        trades=stats.trades,
        win_rate=stats.win_rate,
        profit_factor=stats.profit_factor,
        expectancy=stats.expectancy,
        avg_win=stats.avg_win,
        avg_loss=stats.avg_loss,
        payoff=stats.payoff,
        gross_profit=stats.gross_profit,
        gross_loss=stats.gross_loss,
        net_pnl=stats.net_pnl,
        starting_equity=float(starting_equity),
        ending_equity=ending,
        total_return=total,
        annual_return=annual,
        sharpe=sharpe_ratio(returns),
        sortino=sortino_ratio(returns),
        max_drawdown_pct=drawdown.pct,
        max_drawdown_duration_sessions=drawdown.duration_sessions,
        max_drawdown_recovered=drawdown.recovered,
        exposure=exposure(
            sessions,
            trades["entry_date"].to_numpy(dtype="datetime64[D]"),
            trades["exit_date"].to_numpy(dtype="datetime64[D]"),
        ),
        sessions=int(sessions.size),
        years_covered=years,
        trades_per_year=stats.trades / years if years > 0 else math.nan,
    )


def prepare_trades(raw: pd.DataFrame) -> pd.DataFrame:
    """Normalise a trade log: UTC times, New York entry/exit dates and entry hour.

    Adds ``entry_date``/``exit_date`` (``datetime64[D]`` New York dates) and
    ``entry_hour`` (New York hour of entry, the bucket of the by-hour table).
    """
    trades = raw.copy()
    for column in ("entry_time", "exit_time"):
        trades[column] = pd.to_datetime(trades[column], utc=True)
    entry_local = trades["entry_time"].dt.tz_convert(NEW_YORK_TZ)
    exit_local = trades["exit_time"].dt.tz_convert(NEW_YORK_TZ)
    trades["entry_date"] = entry_local.dt.tz_localize(None).dt.normalize().astype("datetime64[s]")
    trades["exit_date"] = exit_local.dt.tz_localize(None).dt.normalize().astype("datetime64[s]")
    trades["entry_hour"] = entry_local.dt.hour.astype(int)
    trades["pnl"] = trades["pnl"].astype(float)
    return trades


def equity_from_trades(
    trades: pd.DataFrame, sessions: np.ndarray, starting_equity: float
) -> pd.DataFrame:
    """Daily equity rebuilt from trades: P&L summed by exit session over every session.

    Used for ``--strategy``: a strategy's own equity line, as if it had traded alone on
    the run's starting equity. Trades exiting outside ``sessions`` are ignored.
    """
    sessions = np.asarray(sessions, dtype="datetime64[D]")
    exit_dates = trades["exit_date"].to_numpy(dtype="datetime64[D]")
    daily_pnl = np.zeros(sessions.size)
    position = np.searchsorted(sessions, exit_dates)
    inside = np.zeros(exit_dates.size, dtype=bool)
    if sessions.size:
        inside = (position < sessions.size) & (
            sessions[np.minimum(position, sessions.size - 1)] == exit_dates
        )
    np.add.at(daily_pnl, position[inside], trades["pnl"].to_numpy(dtype=float)[inside])
    return pd.DataFrame(
        {
            "session_date": sessions,
            "pnl": daily_pnl,
            "equity": float(starting_equity) + np.cumsum(daily_pnl),
        }
    )


def breakdown(trades: pd.DataFrame, groups: pd.Series | str) -> pd.DataFrame:
    """Trades, win rate, profit factor and P&L per group (year, symbol, direction, ...)."""
    keys = trades[groups] if isinstance(groups, str) else groups
    pnl = trades["pnl"].astype(float)
    frame = pd.DataFrame(
        {
            "key": keys.to_numpy(),
            "pnl": pnl.to_numpy(),
            "win": (pnl > 0).to_numpy(dtype=float),
            "gain": pnl.clip(lower=0).to_numpy(),
            "loss": pnl.clip(upper=0).to_numpy(),
        }
    )
    grouped = frame.groupby("key", sort=True)
    table = pd.DataFrame(
        {
            "trades": grouped["pnl"].size(),
            "win_rate": grouped["win"].mean(),
            "gross_profit": grouped["gain"].sum(),
            "gross_loss": grouped["loss"].sum(),
            "net_pnl": grouped["pnl"].sum(),
            "expectancy": grouped["pnl"].mean(),
        }
    )
    table["profit_factor"] = [
        profit_factor(gain, loss)
        for gain, loss in zip(table["gross_profit"], table["gross_loss"], strict=True)
    ]
    table.index.name = None
    return table[["trades", "win_rate", "profit_factor", "net_pnl", "expectancy"]]


def regime_labels(trades: pd.DataFrame) -> pd.Series:
    """'before 2022-11-14' / 'from 2022-11-14' by the trade's New York entry date."""
    cutoff = np.datetime64(DAILY_EXPIRY_START, "D")
    before = trades["entry_date"].to_numpy(dtype="datetime64[D]") < cutoff
    labels = np.where(
        before, f"before {DAILY_EXPIRY_START:%Y-%m-%d}", f"from {DAILY_EXPIRY_START:%Y-%m-%d}"
    )
    return pd.Series(labels, index=trades.index)


def iv_tercile_labels(
    trades: pd.DataFrame, iv_by_symbol: dict[str, pd.Series], sessions: np.ndarray
) -> tuple[pd.Series, dict[str, tuple[float, float]]]:
    """Label each trade low/mid/high by its symbol's IV index at the prior session close.

    The prior close is what a trader knew at entry (as SPEC 7 ``iv_source: series``).
    Tercile edges are the 1/3 and 2/3 quantiles of that symbol's IV index over the run's
    sessions, so each tercile holds about a third of the *days*, not of the trades.
    Trades without an IV value (symbol missing, no earlier value) are labelled "n/a".
    Returns the labels and the edges used per symbol.
    """
    labels = pd.Series("n/a", index=trades.index, dtype=object)
    edges: dict[str, tuple[float, float]] = {}
    sessions = np.asarray(sessions, dtype="datetime64[D]")
    for symbol, series in sorted(iv_by_symbol.items()):
        if series is None or series.empty:
            continue
        dates = pd.to_datetime(pd.Index(series.index)).to_numpy(dtype="datetime64[D]")
        order = np.argsort(dates, kind="stable")
        dates = dates[order]
        values = series.to_numpy(dtype=float)[order]
        in_run = np.ones(dates.size, dtype=bool)
        if sessions.size:
            in_run = (dates >= sessions[0]) & (dates <= sessions[-1])
        if not in_run.any():
            continue
        low_edge, high_edge = (float(q) for q in np.quantile(values[in_run], [1 / 3, 2 / 3]))
        edges[symbol] = (low_edge, high_edge)
        mine = (trades["symbol"] == symbol).to_numpy()
        entry = trades.loc[mine, "entry_date"].to_numpy(dtype="datetime64[D]")
        prior = np.searchsorted(dates, entry, "left") - 1  # strictly before the entry date
        known = prior >= 0
        level = np.where(known, values[np.maximum(prior, 0)], np.nan)
        tercile = np.where(level <= low_edge, "low", np.where(level <= high_edge, "mid", "high"))
        tercile = np.where(known & np.isfinite(level), tercile, "n/a")
        labels.loc[mine] = tercile
    return labels, edges
