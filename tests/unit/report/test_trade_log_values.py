"""A trade log's values are checked cell by cell before any metric (issue 12 item 5)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vwapcli.errors import ReportError
from vwapcli.report.run_folder import check_trade_values

LOG = Path("run/trades.parquet")


def trades(**changes: object) -> pd.DataFrame:
    """Two valid trades as a parquet log holds them (tz-aware times, float numbers)."""
    frame = pd.DataFrame({
        "strategy_name": ["ORB", "ORB"], "symbol": ["SPY", "QQQ"], "direction": ["LONG", "SHORT"],
        "entry_time": pd.to_datetime(["2024-03-11T14:31:00Z", "2024-03-12T15:00:00Z"], utc=True),
        "exit_time": pd.to_datetime(["2024-03-11T19:50:00Z", "2024-03-12T15:00:00Z"], utc=True),
        "exit_reason": ["time", "stop"], "pnl": [120.5, -80.0], "exit_credit": [1.2, np.nan],
    })
    for column, value in changes.items():
        frame.loc[1, column] = value
    return frame


def test_a_valid_log_passes_with_an_optional_number_left_empty_and_an_instant_round_trip() -> None:
    """Row 2 exits at its entry instant (allowed: not before) and has no exit_credit."""
    check_trade_values(trades(), LOG)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"pnl": np.nan}, "row 2, column pnl: empty"),
        ({"pnl": np.inf}, "row 2, column pnl: 'inf' is not a finite number"),
        ({"exit_credit": -np.inf}, "row 2, column exit_credit: '-inf' is not a finite number"),
        ({"exit_time": pd.Timestamp("2024-03-12T14:59:59Z")}, "row 2, column exit_time: '2024-03-12 14:59:59+00:00' is before the entry_time"),
        ({"entry_time": pd.NaT}, "row 2, column entry_time: empty"),
        ({"symbol": "  "}, "row 2, column symbol: empty"),
        ({"direction": "long"}, "row 2, column direction: 'long' is not LONG or SHORT"),
    ],
)
def test_the_first_bad_cell_is_named_by_file_row_and_column(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ReportError) as refused:
        check_trade_values(trades(**changes), LOG)
    assert str(refused.value) == f"{LOG}: {message}"
