"""The report's breakdown tables: trades by year, symbol, direction, exit reason, hour,
expiry regime and IV tercile, and the fill-sensitivity table (SPEC 11, issue 4)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from vwapcli.report.fills import fill_sensitivity, missing_reprice_columns
from vwapcli.report.metrics import DAILY_EXPIRY_START, breakdown, iv_tercile_labels, regime_labels
from vwapcli.report.run_folder import RunFolder
from vwapcli.report.store_reads import read_iv_indexes


@dataclass(frozen=True)
class TableBlock:
    """A titled breakdown table, or a note saying why it is absent."""

    title: str
    table: pd.DataFrame | None
    note: str = ""


def breakdown_blocks(
    trades: pd.DataFrame, run: RunFolder, reader: Any, reader_note: str
) -> list[TableBlock]:
    """Year, symbol, direction, exit reason, entry hour, regime and IV-tercile tables."""
    hour = trades["entry_hour"].map(lambda h: f"{h:02d}:00")
    blocks = [
        TableBlock("Year", breakdown(trades, trades["entry_date"].dt.year)),
        TableBlock("Symbol", breakdown(trades, "symbol")),
        TableBlock("Direction", breakdown(trades, "direction")),
        TableBlock("Exit reason", breakdown(trades, "exit_reason")),
        TableBlock("Entry hour (New York)", breakdown(trades, hour)),
        TableBlock(
            "Regime (daily expiries)",
            breakdown(trades, regime_labels(trades)),
            f"SPY/QQQ list an expiry every weekday from {DAILY_EXPIRY_START:%Y-%m-%d}.",
        ),
    ]
    if reader is None:
        blocks.append(TableBlock("IV-index tercile", None, f"Skipped: {reader_note}."))
        return blocks
    symbols = sorted(set(trades["symbol"].astype(str)))
    iv_by_symbol, missing_note = read_iv_indexes(reader, symbols)
    if not iv_by_symbol:
        blocks.append(TableBlock("IV-index tercile", None, f"Skipped: {missing_note}."))
        return blocks
    labels, edges = iv_tercile_labels(trades, iv_by_symbol, run.sessions)
    order = pd.Categorical(labels, categories=["low", "mid", "high", "n/a"], ordered=True)
    note = "Prior-session IV index; tercile edges over the run's sessions: " + "; ".join(
        f"{symbol} {low:.1f} / {high:.1f}" for symbol, (low, high) in edges.items()
    )
    if missing_note:
        note += f" ({missing_note})"
    table = breakdown(trades, pd.Series(order, index=trades.index))
    blocks.append(TableBlock("IV-index tercile", table[table["trades"] > 0], note))
    return blocks


def fill_block(trades: pd.DataFrame) -> TableBlock:
    """The same trades re-priced at other slippages, or why they cannot be."""
    missing = missing_reprice_columns(trades)
    if missing:
        return TableBlock("Fill sensitivity", None, f"Skipped: trades lack {', '.join(missing)}.")
    recorded = sorted({float(s) for s in trades["slippage"].dropna()}) if "slippage" in trades else []
    note = "Same trades, contracts and commissions; only the fill slippage changes."
    if recorded:
        note += " The run itself used slippage " + ", ".join(f"{s:g}" for s in recorded) + "."
    return TableBlock("Fill sensitivity", fill_sensitivity(trades), note)
