"""Run folders, read back: trades, daily equity, skipped signals and run.json (SPEC 10).

Everything the report and the comparison know about a run comes through here. Any
problem is one ``ReportError`` line naming the file. Run folders outlive strategies and
code versions, so nothing here needs the strategy catalogue, and the optional columns of
older or hand-made folders have one fallback each (``daily_equity``, ``strategy_daily_pnl``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from vwapcli.config import AcceptanceConfig
from vwapcli.errors import ReportError
from vwapcli.report.metrics import equity_from_trades, prepare_trades

REQUIRED_TRADE_COLUMNS = (
    "strategy_name", "symbol", "direction", "entry_time", "exit_time", "exit_reason", "pnl",
)
REQUIRED_EQUITY_COLUMNS = ("session_date", "equity")
SKIP_COLUMNS = ("strategy_name", "symbol", "direction", "entry_time", "reason")
ALL = "all"  # the whole run, as opposed to one strategy's display name


@dataclass(frozen=True)
class RunFolder:
    """A loaded backtest run: normalised trades, daily equity and run.json."""

    path: Path
    trades: pd.DataFrame  # prepared (metrics.prepare_trades)
    equity: pd.DataFrame  # session_date (datetime64), equity, pnl, pnl_<STRATEGY> ...
    meta: dict[str, Any]
    starting_equity: float
    acceptance: AcceptanceConfig
    strategies: list[str]  # display names: run.json "strategies" then any others traded

    @property
    def sessions(self) -> np.ndarray:
        return self.equity["session_date"].to_numpy(dtype="datetime64[D]")

    @property
    def provenance(self) -> dict[str, str]:
        """run.json's data provenance per symbol (empty when not recorded)."""
        recorded = self.meta.get("data_provenance") or {}
        return {str(symbol): str(source) for symbol, source in recorded.items()}

    def data_facts(self, sessions: int) -> dict[str, str]:
        """What the pages say about the data a run read: symbols, range, timeframe,
        provenance and fingerprint, as recorded in run.json."""
        meta = self.meta
        return {
            "Symbols": ", ".join(str(s) for s in meta.get("symbols") or []) or "n/a",
            "Range": f"{meta.get('start', '?')} to {meta.get('end', '?')} ({sessions} sessions)",
            "Timeframe": str(meta.get("timeframe", "n/a")),
            "Data provenance": "; ".join(f"{k}: {v}" for k, v in sorted(self.provenance.items())) or "n/a",
            "Data fingerprint": str(meta.get("data_fingerprint", "n/a")),
        }

    def synthetic_sources(self) -> list[str]:
        """``SYMBOL: provenance`` for every symbol whose data says it is synthetic."""
        return [
            f"{symbol}: {source}" for symbol, source in sorted(self.provenance.items())
            if "synthetic" in source.lower()
        ]


def read_table(path: Path) -> pd.DataFrame:
    try:
        if path.suffix == ".parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path)
    except Exception as error:
        raise ReportError(f"{path}: unreadable ({type(error).__name__}: {error})") from None


def _require(frame: pd.DataFrame, columns: tuple[str, ...], path: Path) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ReportError(f"{path}: missing column(s) {', '.join(missing)}")


# Numeric columns the pages read, when present (a hand-made folder may lack the optional ones).
NUMERIC_TRADE_COLUMNS = (
    "pnl", "contracts", "entry_debit", "exit_credit", "commissions", "width", "entry_mid", "entry_natural",
    "exit_mid", "exit_natural", "slippage", "max_loss",
)
TIME_TRADE_COLUMNS = ("entry_time", "exit_time")
TEXT_TRADE_COLUMNS = ("strategy_name", "symbol", "exit_reason")
DIRECTIONS = ("LONG", "SHORT")


def _first_bad(bad: np.ndarray) -> int | None:
    found = np.flatnonzero(bad)
    return int(found[0]) if found.size else None


def _bad_value(path: Path, row: int, column: str, value: object, rule: str) -> ReportError:
    # Rows count data rows from 1 (a CSV's header is line 1, so row N is on line N + 1).
    where = f"{path}: row {row + 1}, column {column}"
    text = str(value)
    if pd.isna(value) or not text.strip():
        return ReportError(f"{where}: empty")
    shown = repr(text if len(text) <= 40 else text[:37] + "...")
    return ReportError(f"{where}: {shown} {rule}")


def check_trade_values(raw: pd.DataFrame, path: Path) -> None:
    """Refuse the first bad cell of a trade log (a hand-edited ``trades.csv``) in one line
    naming the file, the row and the column (issue 12 item 5), before any metric is computed:
    a time that does not parse, an exit before its entry, a number that is not a finite
    number, a blank name, a direction other than LONG/SHORT."""
    times: dict[str, pd.Series] = {}
    for column in TIME_TRADE_COLUMNS:
        values = raw[column]
        if pd.api.types.is_datetime64_any_dtype(values):
            parsed = pd.to_datetime(values, utc=True)
        else:
            parsed = pd.to_datetime(values.astype("string"), utc=True, errors="coerce", format="ISO8601")
        row = _first_bad(parsed.isna().to_numpy())
        if row is not None:
            raise _bad_value(path, row, column, raw[column].iloc[row], "is not a timestamp (ISO 8601, e.g. 2024-03-11T14:31:00Z)")
        times[column] = parsed
    row = _first_bad((times["exit_time"] < times["entry_time"]).to_numpy())
    if row is not None:
        raise _bad_value(path, row, "exit_time", raw["exit_time"].iloc[row], "is before the entry_time")
    for column in [c for c in NUMERIC_TRADE_COLUMNS if c in raw.columns]:
        numbers = pd.to_numeric(raw[column], errors="coerce").to_numpy(dtype=float)
        missing_allowed = column != "pnl" and raw[column].isna().to_numpy()
        row = _first_bad(~np.isfinite(numbers) & ~missing_allowed)
        if row is not None:
            raise _bad_value(path, row, column, raw[column].iloc[row], "is not a finite number")
    for column in TEXT_TRADE_COLUMNS:
        text = raw[column].astype("string").str.strip()
        row = _first_bad(text.isna().to_numpy() | (text == "").to_numpy(dtype=bool, na_value=True))
        if row is not None:
            raise _bad_value(path, row, column, raw[column].iloc[row], "is blank")
    row = _first_bad(~raw["direction"].astype("string").isin(DIRECTIONS).to_numpy(dtype=bool, na_value=False))
    if row is not None:
        raise _bad_value(path, row, "direction", raw["direction"].iloc[row], "is not LONG or SHORT")


def _check_csv_twin(parquet_trades: pd.DataFrame, csv_path: Path) -> None:
    """A hand-edited ``trades.csv`` beside ``trades.parquet`` is never silently ignored:
    its values are checked like the log's own, and any difference from the parquet (which
    the report reads) is refused, naming the first row that differs."""
    csv_trades = read_table(csv_path)
    _require(csv_trades, REQUIRED_TRADE_COLUMNS, csv_path)
    check_trade_values(csv_trades, csv_path)
    rule = "differs from trades.parquet, which the report reads (delete trades.parquet to report the edited CSV)"
    if len(csv_trades) != len(parquet_trades):
        raise ReportError(f"{csv_path}: {len(csv_trades)} rows, trades.parquet {len(parquet_trades)}: {rule}")
    for column in ("pnl", *TIME_TRADE_COLUMNS, "strategy_name", "symbol", "direction"):
        if column == "pnl":
            ours = pd.to_numeric(csv_trades[column]).to_numpy(dtype=float)
            theirs = parquet_trades[column].to_numpy(dtype=float)
            differs = ~np.isclose(ours, theirs, rtol=0.0, atol=1e-9)
        elif column in TIME_TRADE_COLUMNS:
            ours_ts = pd.to_datetime(csv_trades[column].astype("string"), utc=True, format="ISO8601")
            differs = (ours_ts != pd.to_datetime(parquet_trades[column], utc=True)).to_numpy()
        else:
            differs = (csv_trades[column].astype(str) != parquet_trades[column].astype(str)).to_numpy()
        row = _first_bad(differs)
        if row is not None:
            raise _bad_value(csv_path, row, column, csv_trades[column].iloc[row], rule)


def load_run(run_dir: Path) -> RunFolder:
    """Read a run folder; any problem is one ``ReportError`` line naming the file."""
    run_dir = Path(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise ReportError(f"{run_dir}: is a file, not a run folder (rule: report reads a backtest's run folder)")
    if not run_dir.is_dir():
        raise ReportError(f"{run_dir}: run folder not found")
    meta_path = run_dir / "run.json"
    if not meta_path.is_file():
        raise ReportError(f"{meta_path}: missing (not a backtest run folder?)")
    try:
        meta = json.loads(meta_path.read_text("utf-8"))
    except (OSError, ValueError) as error:
        raise ReportError(f"{meta_path}: unreadable JSON ({error})") from None
    if not isinstance(meta, dict):
        raise ReportError(f"{meta_path}: top level must be an object")
    config = meta.get("config") or {}
    try:
        starting_equity = float((config.get("risk") or {}).get("starting_equity", 100_000.0))
        acceptance = AcceptanceConfig.model_validate(config.get("acceptance") or {})
    except (ValidationError, TypeError, ValueError, AttributeError) as error:
        first = error.errors()[0] if isinstance(error, ValidationError) else None
        reason = (
            f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}" if first else str(error)
        )
        raise ReportError(f"{meta_path}: config.acceptance/risk invalid: {reason}") from None
    if not starting_equity > 0:
        raise ReportError(f"{meta_path}: config.risk.starting_equity must be > 0")

    # Parquet keeps dtypes; the CSV twin is the fallback for hand-made folders.
    trades_path = run_dir / "trades.parquet"
    if not trades_path.is_file():
        trades_path = run_dir / "trades.csv"
    if not trades_path.is_file():
        raise ReportError(f"{run_dir}: no trades.parquet or trades.csv")
    raw_trades = read_table(trades_path)
    _require(raw_trades, REQUIRED_TRADE_COLUMNS, trades_path)
    check_trade_values(raw_trades, trades_path)
    csv_twin = run_dir / "trades.csv"
    if trades_path.suffix == ".parquet" and csv_twin.is_file():
        _check_csv_twin(raw_trades, csv_twin)
    try:
        trades = prepare_trades(raw_trades)
    except (ValueError, TypeError) as error:
        raise ReportError(f"{trades_path}: bad time or pnl value ({error})") from None
    if trades["pnl"].isna().any():
        row = int(np.flatnonzero(trades["pnl"].isna().to_numpy())[0])
        raise ReportError(f"{trades_path}: row {row + 1}: pnl is missing")

    equity_path = run_dir / "equity.parquet"
    if not equity_path.is_file():
        raise ReportError(f"{equity_path}: missing")
    equity = read_table(equity_path)
    _require(equity, REQUIRED_EQUITY_COLUMNS, equity_path)
    equity = equity.copy()
    try:
        equity["session_date"] = pd.to_datetime(equity["session_date"]).astype("datetime64[s]")
    except (ValueError, TypeError) as error:
        raise ReportError(f"{equity_path}: bad session_date ({error})") from None
    equity = equity.sort_values("session_date", kind="stable").reset_index(drop=True)
    if equity.empty:
        raise ReportError(f"{equity_path}: no sessions")
    if equity["session_date"].duplicated().any():
        raise ReportError(f"{equity_path}: duplicate session_date")

    names = [str(name) for name in meta.get("strategies") or []]
    names += sorted(set(trades["strategy_name"].astype(str)) - set(names))
    return RunFolder(run_dir, trades, equity, meta, starting_equity, acceptance, names)


def resolve_strategy(
    run: RunFolder, requested: str, strategy_keys: Mapping[str, str] | None = None
) -> str:
    """Display name for ``requested``: a display name or a config key, case-insensitive.

    ``strategy_keys`` maps config keys to display names (the application's strategy
    catalogue); run folders outlive strategies, so a key unknown to it is not an error
    until no strategy of the run matches either.
    """
    for name in run.strategies:
        if requested == name or requested.casefold() == name.casefold():
            return name
    keys = strategy_keys or {}
    by_key = keys.get(requested) or keys.get(requested.casefold())
    if by_key is not None and by_key in run.strategies:
        return by_key
    known = ", ".join(run.strategies) or "none"
    raise ReportError(f"{run.path}: strategy {requested!r} not in this run (run has: {known})")


def strategy_trades(run: RunFolder, name: str) -> pd.DataFrame:
    """The run's trades ("all") or one strategy's."""
    if name == ALL:
        return run.trades
    return run.trades[run.trades["strategy_name"].astype(str) == name]


def daily_equity(run: RunFolder, name: str) -> pd.DataFrame:
    """session_date, pnl, equity for every session: the run's ("all") or one strategy's.

    The run's day P&L is equity.parquet's ``pnl``; a folder without it (hand-made) gets
    the change in closing equity, the first session against the starting equity.
    """
    if name == ALL:
        daily = run.equity[["session_date", "equity"]].copy()
        if "pnl" in run.equity:
            daily["pnl"] = run.equity["pnl"].to_numpy(dtype=float)
        else:
            path = np.concatenate([[run.starting_equity], daily["equity"].to_numpy(dtype=float)])
            daily["pnl"] = np.diff(path)
        return daily
    # Issue 4: a strategy's own equity, rebuilt from starting equity by exit session.
    return equity_from_trades(strategy_trades(run, name), run.sessions, run.starting_equity)


def strategy_daily_pnl(folder: RunFolder) -> dict[str, np.ndarray]:
    """``pnl_<NAME>`` of equity.parquet per strategy; rebuilt from its trades when absent."""
    result = {}
    for name in folder.strategies:
        column = f"pnl_{name}"
        if column in folder.equity:
            result[name] = folder.equity[column].to_numpy(dtype=float)
            continue
        rebuilt = equity_from_trades(strategy_trades(folder, name), folder.sessions, 0.0)
        result[name] = rebuilt["pnl"].to_numpy(dtype=float)
    return result


def read_skipped(run_dir: Path) -> pd.DataFrame | None:
    """skipped.csv with UTC ``entry_time``; None when absent (hand-made folders)."""
    path = Path(run_dir) / "skipped.csv"
    if not path.is_file():
        return None
    try:
        frame = pd.read_csv(path, dtype={"reason": str, "detail": str})
    except Exception as error:
        raise ReportError(f"{path}: unreadable ({type(error).__name__}: {error})") from None
    missing = [column for column in SKIP_COLUMNS if column not in frame.columns]
    if missing:
        raise ReportError(f"{path}: missing column(s) {', '.join(missing)}")
    frame = frame.copy()
    try:
        frame["entry_time"] = pd.to_datetime(frame["entry_time"], utc=True)
    except (ValueError, TypeError) as error:
        raise ReportError(f"{path}: bad entry_time ({error})") from None
    frame["detail"] = frame["detail"].fillna("") if "detail" in frame else ""
    return frame
