"""What a run records about itself (SPEC 10): run.json and the end-of-run summary table.

``vwapcli backtest`` and ``vwapcli paper`` write the same run.json (resolved config, data
read and where it came from, pricing, versions) and print the same per-strategy table,
so ``vwapcli report`` reads either folder alike.
"""

from __future__ import annotations

import datetime as dt
import platform
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.table import Table

from vwapcli import __version__
from vwapcli.app_config import AppConfig
from vwapcli.config import OptionsConfig
from vwapcli.data.loading import MarketData
from vwapcli.engine import MODEL_RISK_FILE, MODEL_RISK_SCALES


def summary_table(trades: pd.DataFrame, skipped: pd.DataFrame) -> Table:
    """Per strategy: trades, win rate, profit factor, P&L, skipped signals."""
    table = Table(title="Backtest summary")
    for column in ("strategy", "trades", "win rate", "profit factor", "P&L $", "skipped"):
        table.add_column(column, justify="right" if column != "strategy" else "left")
    names = sorted(set(trades["strategy_name"]) | set(skipped["strategy_name"]))
    for name in [*names, "all"]:
        chosen = trades if name == "all" else trades[trades["strategy_name"] == name]
        skips = skipped if name == "all" else skipped[skipped["strategy_name"] == name]
        pnl = chosen["pnl"].astype(float)
        wins, losses = pnl[pnl > 0].sum(), -pnl[pnl < 0].sum()
        win_rate = f"{(pnl > 0).mean():.1%}" if len(pnl) else "-"
        pf = "-" if not len(pnl) else ("inf" if losses == 0 else f"{wins / losses:.2f}")
        table.add_row(name, str(len(chosen)), win_rate, pf, f"{pnl.sum():,.2f}", str(len(skips)))
    return table


def _versions() -> dict[str, str]:
    import numba
    import pyarrow

    return {
        "vwapcli": __version__, "python": platform.python_version(), "numpy": np.__version__,
        "pandas": pd.__version__, "pyarrow": pyarrow.__version__, "numba": numba.__version__,
    }


def run_record(
    config: AppConfig, market_data: MarketData, sessions: Sequence[dt.date], command: Sequence[str] = ()
) -> dict[str, Any]:
    """run.json (SPEC 10): the resolved config, the data read and where it came from, versions."""
    return run_record_of(config, market_data.store, sorted(market_data), sessions, command)


def run_record_of(
    config: AppConfig,
    store: Path,
    symbols: list[str],
    sessions: Sequence[dt.date],
    command: Sequence[str] = (),
    data_fingerprint: str | None = None,
) -> dict[str, Any]:
    """:func:`run_record` from the store read and the sorted symbols (a streamed run holds no bars).

    ``data_fingerprint``: ``BarStore.fingerprint`` of those symbols when the caller already
    has it (a streamed backtest hashes the files while its symbols run); computed here otherwise.
    """
    from vwapcli.data.store import BarStore

    bar_store = BarStore(store)
    if data_fingerprint is None:
        data_fingerprint = bar_store.fingerprint(symbols, config.data.timeframe)
    return {
        "command": list(command or sys.argv),
        "config": config.resolved_dict(),
        "strategies": config.enabled_strategy_names(),
        "symbols": symbols,
        "start": sessions[0].isoformat() if sessions else None,
        "end": sessions[-1].isoformat() if sessions else None,
        "store": str(store),
        "timeframe": config.data.timeframe,
        "data_fingerprint": data_fingerprint,
        "data_provenance": {s: bar_store.provenance(s) for s in symbols},
        "versions": _versions(),
        "created_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def pricing_record(options: OptionsConfig, market_data: MarketData, model_risk_unavailable: str | None) -> dict[str, Any]:
    """run.json "pricing": how the run's option prices were made, for the pages (SPEC 7.1, issue 11 item 7).

    The source (model or chain, and the chain store read), the model (``vol_model``: the
    flat model, or the session model and, per symbol, the calibration file it read with
    the span it was fitted on and the error it states), and where model risk is. Recorded
    at backtest time so the report needs no config or calibration file.
    """
    return pricing_record_of(options, market_data.store, sorted(market_data), model_risk_unavailable)


def pricing_record_of(
    options: OptionsConfig, store: Path, symbols: list[str], model_risk_unavailable: str | None
) -> dict[str, Any]:
    """:func:`pricing_record` from the store read and the sorted symbols."""
    from vwapcli.options.calibration_file import CalibrationParams, calibration_path

    vol_model = options.vol_model
    calibrations: dict[str, Any] = {}
    if vol_model == "session":  # the model of SPEC 7.1 (also behind chain-mode exits)
        for symbol in symbols:
            path = calibration_path(symbol, options.for_symbol(symbol).calibration_file)
            # Described here, not warned about again: whoever built the symbol's model (its
            # task, in this process, a pool worker or a Dask worker) said so once.
            params = CalibrationParams.load(path)
            calibrations[symbol] = {
                "file": str(path), "symbol": params.symbol,
                "fitted_on": params.fitted_on, "error": params.error,
            }
    chain = options.pricing_source == "chain"
    return {
        "source": options.pricing_source,
        "chain_store": (options.chain_store or str(store)) if chain else None,
        "vol_model": vol_model,
        "calibrations": calibrations,
        "model_risk": {
            "file": None if model_risk_unavailable else MODEL_RISK_FILE,
            "scales": [] if model_risk_unavailable else list(MODEL_RISK_SCALES),
            "not_applicable": model_risk_unavailable,
        },
    }
