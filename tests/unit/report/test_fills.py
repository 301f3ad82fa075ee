"""Fill sensitivity (issue 4): the same trades re-priced at slippage 0, 0.5, 0.66, 1."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from builders.report import random_trades, sessions_from, trade
from vwapcli.report.fills import fill_price, fill_sensitivity, repriced_pnl


def _spread_trade() -> pd.DataFrame:
    """Entry mid 2.00 / natural 2.20, exit mid 3.00 / natural 2.80, 2 contracts, $5.20 fees."""
    return pd.DataFrame([{
        "width": 5.0, "entry_mid": 2.00, "entry_natural": 2.20, "exit_mid": 3.00,
        "exit_natural": 2.80, "contracts": 2, "commissions": 5.20, "pnl": 0.0,
    }])


def test_fill_is_mid_plus_slippage_times_natural_minus_mid_rounded_to_cents() -> None:
    """m 1.00, n 1.10, s 0.66: 1.00 + 0.066 = 1.066 -> 1.07."""
    assert fill_price(np.array([1.00]), np.array([1.10]), 0.66, np.array([5.0]))[0] == 1.07


def test_fill_is_clipped_inside_the_spread_width() -> None:
    """Width 1: natural 1.05 at s=1 clips to 0.99; an exit natural of 0 clips to 0.01."""
    width = np.array([1.0, 1.0])
    fills = fill_price(np.array([0.97, 0.02]), np.array([1.05, 0.0]), 1.0, width)
    assert fills.tolist() == [0.99, 0.01]


def test_repriced_pnl_of_one_spread_matches_hand_arithmetic() -> None:
    """pnl = (exit - entry) x 100 x 2 - 5.20.

    s=0:    (3.00 - 2.00) x 200 - 5.20 = 194.80
    s=0.5:  (2.90 - 2.10) x 200 - 5.20 = 154.80
    s=0.66: entry 2.132 -> 2.13, exit 2.868 -> 2.87: 0.74 x 200 - 5.20 = 142.80
    s=1:    (2.80 - 2.20) x 200 - 5.20 = 114.80
    """
    trades = _spread_trade()
    got = [repriced_pnl(trades, s)[0] for s in (0.0, 0.5, 0.66, 1.0)]
    assert got == pytest.approx([194.80, 154.80, 142.80, 114.80])


def test_repricing_at_the_recorded_slippage_reproduces_the_recorded_pnl() -> None:
    trades = random_trades(sessions_from("2024-01-02", 40), 60, seed=4)
    assert repriced_pnl(trades, 0.5) == pytest.approx(trades["pnl"].to_numpy(), abs=1e-9)


def test_sensitivity_table_has_pf_win_rate_and_pnl_at_each_slippage() -> None:
    """Two builder trades (+100, -50 at s=0.5; entry 4.95/5.05, exit X+0.05/X-0.05).

    At s=0 each fill moves 0.05 in our favour: +0.10/share = +$10 per trade:
    P&L +110, -40 -> PF 110/40 = 2.75, net 70. At s=1: +90, -60 -> PF 1.5, net 30.
    """
    day = dt.date(2024, 1, 2)
    table = fill_sensitivity(pd.DataFrame([trade(day, 100.0), trade(day, -50.0)]))
    assert table["slippage"].tolist() == [0.0, 0.5, 0.66, 1.0]
    by_slippage = table.set_index("slippage")
    assert by_slippage.loc[0.0, "profit_factor"] == pytest.approx(2.75)
    assert by_slippage.loc[0.0, "net_pnl"] == pytest.approx(70.0)
    assert by_slippage.loc[0.5, "net_pnl"] == pytest.approx(50.0)
    assert by_slippage.loc[1.0, "profit_factor"] == pytest.approx(1.5)
    assert by_slippage["win_rate"].tolist() == [0.5] * 4
