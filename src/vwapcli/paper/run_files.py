"""The paper run folder kept in the backtest's layout (SPEC 10), so ``vwapcli report``
reads it at any moment: trades.csv/parquet, skipped.csv, equity.parquet and run.json,
each replaced atomically (a crash leaves the previous complete file, never half of one).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from vwapcli.atomic_write import atomic_write, atomic_write_text
from vwapcli.run_folder import write_table


def publish_tables(run_dir: Path, trades: pd.DataFrame, skipped: pd.DataFrame, equity: pd.DataFrame) -> None:
    """Write the three tables exactly as ``vwapcli backtest`` writes them."""
    atomic_write(run_dir / "trades.csv", lambda tmp: write_table(trades, tmp, None))
    atomic_write(run_dir / "trades.parquet", lambda tmp: write_table(trades, None, tmp))
    atomic_write(run_dir / "skipped.csv", lambda tmp: write_table(skipped, tmp, None))
    atomic_write(run_dir / "equity.parquet", lambda tmp: write_table(equity, None, tmp))


def publish_record(run_dir: Path, record: Mapping[str, Any]) -> None:
    """run.json, sorted and indented like the backtest's."""
    atomic_write_text(run_dir / "run.json", json.dumps(record, indent=2, sort_keys=True) + "\n")
