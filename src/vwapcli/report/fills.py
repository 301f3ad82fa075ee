"""Fill sensitivity: the same trades re-priced at other slippage settings (SPEC 7 fills).

A debit spread's edge is easily eaten by the fill. The engine records each trade's
spread mid and natural at entry and exit, so the report can ask "what if fills had been
worse (or better)?" without rerunning anything: same trades, same contracts, same
commissions, only the entry debit and exit credit change.

Fill rule (SPEC 7): ``fill = round(m + s * (n - m), 2)`` clipped to
``[0.01, width - 0.01]``, with ``m``/``n`` the spread mid/natural per share
(entry: pay up toward the natural above mid; exit: the natural is below mid).
The rounding is the engine's own (``vwapcli.options.spreads.fill_price``: half a cent
up), so at the run's own slippage the re-priced P&L reproduces the recorded P&L.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from vwapcli.options.spreads import SpreadPrice
from vwapcli.options.spreads import fill_price as engine_fill_price
from vwapcli.report.metrics import trade_stats

FILL_SLIPPAGES: tuple[float, ...] = (0.0, 0.5, 0.66, 1.0)
REPRICE_COLUMNS = (
    "width", "entry_mid", "entry_natural", "exit_mid", "exit_natural", "contracts", "commissions",
)
CONTRACT_MULTIPLIER = 100  # shares per option contract


def fill_price(
    mid: np.ndarray, natural: np.ndarray, slippage: float, width: np.ndarray
) -> np.ndarray:
    """SPEC 7 fill per share, element-wise, through the engine's one fill rule."""
    mids, naturals = np.asarray(mid, dtype=float), np.asarray(natural, dtype=float)
    widths = np.broadcast_to(np.asarray(width, dtype=float), mids.shape)
    return np.array(
        [
            engine_fill_price(SpreadPrice(mid=m, natural=n), slippage, w)
            for m, n, w in zip(mids.ravel(), naturals.ravel(), widths.ravel(), strict=True)
        ],
        dtype=float,
    ).reshape(mids.shape)


def repriced_pnl(trades: pd.DataFrame, slippage: float) -> np.ndarray:
    """Net P&L (dollars) of each trade had both fills used ``slippage``."""
    width = trades["width"].to_numpy(dtype=float)
    entry = fill_price(trades["entry_mid"], trades["entry_natural"], slippage, width)
    exit_ = fill_price(trades["exit_mid"], trades["exit_natural"], slippage, width)
    contracts = trades["contracts"].to_numpy(dtype=float)
    return (exit_ - entry) * CONTRACT_MULTIPLIER * contracts - trades["commissions"].to_numpy(
        dtype=float
    )


def missing_reprice_columns(trades: pd.DataFrame) -> list[str]:
    """Columns the re-pricing needs that the trade log lacks (empty = can re-price)."""
    return [column for column in REPRICE_COLUMNS if column not in trades.columns]


def fill_sensitivity(
    trades: pd.DataFrame, slippages: tuple[float, ...] = FILL_SLIPPAGES
) -> pd.DataFrame:
    """Profit factor, win rate and P&L of the same trades at each slippage."""
    rows = []
    for slippage in slippages:
        stats = trade_stats(repriced_pnl(trades, slippage))
        rows.append(
            {
                "slippage": slippage,
                "trades": stats.trades,
                "win_rate": stats.win_rate,
                "profit_factor": stats.profit_factor,
                "net_pnl": stats.net_pnl,
                "expectancy": stats.expectancy,
            }
        )
    return pd.DataFrame(rows)
