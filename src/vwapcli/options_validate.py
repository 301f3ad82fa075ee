"""`vwapcli options validate`: the configured option model against real quotes (SPEC 7.1).

A verdict is only as good as the prices behind it, so this command prices every contract
of a quote file a user holds exactly as a backtest would at that instant and says how far
off the model is. No second implementation: the quote source is the one
``engine.configured_quote_source`` gives a backtest with the same config (its model, in
chain mode: the one behind the chain's exits), and ``options.quote_validation`` asks it
through the same ``lookup`` the engine's spread pricing calls.

1. ``data.option_quotes.read_quote_file`` validates the file (one line naming file, row
   and rule; exit 2; nothing written); every quoted underlying (or ``--symbols``) must
   have bars in the store.
2. The bars (``--timeframe``, default the config's; 1m and 5m alike) up to the last quote
   date; spot = the file's ``underlying_price`` where present, else the last bar closed at
   the quote time.
3. ``DIR/legs.parquet`` (``quote_validation.LEG_COLUMNS`` first, bid/ask as read), then
   ``DIR/summary.json`` (the medians of ``quote_validation.summarize``, plus what was
   validated), written into a staged folder renamed into place: a non-empty ``DIR`` is
   refused, nothing is half-written.
4. Rich tables: strategy-shaped spreads and single legs by minutes to close, legs by
   moneyness.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.table import Table

from vwapcli.app_config import load_config
from vwapcli.data.loading import load_market_data
from vwapcli.data.option_quotes import read_quote_file
from vwapcli.data.sessions import SessionCalendar
from vwapcli.data.store import BarStore
from vwapcli.engine import configured_quote_source
from vwapcli.env import Env
from vwapcli.errors import DataValidationError, RunFolderExistsError
from vwapcli.options.calibration_file import calibration_path
from vwapcli.options.quote_validation import (
    ErrorKind,
    LookupSource,
    error_rows,
    validate_quotes,
)
from vwapcli.output_paths import check_output_folder
from vwapcli.report.formatting import count, ratio, signed
from vwapcli.run_folder import staged_run_dir

LEGS_FILE = "legs.parquet"
SUMMARY_FILE = "summary.json"


@dataclass(frozen=True)
class ValidateRequest:
    """`vwapcli options validate`: which quotes, which bars, which config, where to write.

    ``symbols`` empty: every underlying in the quote file; ``timeframe`` None: the config's.
    """

    quotes: Path
    store: Path
    out: Path
    symbols: tuple[str, ...] = ()
    timeframe: str | None = None
    config: Path | None = None


def _quotes_for(quotes: pd.DataFrame, request: ValidateRequest) -> tuple[pd.DataFrame, list[str]]:
    """The rows of the requested symbols and those symbols (each must be quoted)."""
    held = sorted(set(quotes["underlying"]))
    symbols = list(request.symbols) or held
    absent = [s for s in symbols if s not in held]
    if absent:
        raise DataValidationError(
            f"{request.quotes}: no quotes for {absent[0]} (the file quotes {', '.join(held)})"
        )
    return quotes[quotes["underlying"].isin(symbols)], symbols


def _check_bars_exist(quotes: pd.DataFrame, symbols: list[str], request: ValidateRequest, timeframe: str) -> None:
    """A quotes file for a symbol with no bars is bad input: one line naming its first row."""
    store = BarStore(request.store)
    for symbol in symbols:
        if store.bar_files(symbol, timeframe) or store.bar_files(symbol, "1m"):
            continue  # 5m may be resampled from 1m (SPEC 3.2)
        row = int(np.flatnonzero((quotes["underlying"] == symbol).to_numpy())[0])
        present = sorted(set(store.symbols(timeframe)) | set(store.symbols("1m")))
        raise DataValidationError(
            f"{request.quotes}: row {quotes.index[row]}: underlying {symbol} has no {timeframe} bars in "
            f"{request.store} (symbols with bars: {', '.join(present) or 'none'})"
        )


def _json_ready(value: Any) -> Any:
    """NaN -> null: summary.json is strict JSON."""
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def run_options_validate(request: ValidateRequest, env: Env) -> Path:
    """Price every quoted contract with the configured model; write legs.parquet and
    summary.json into ``request.out`` and print the error tables (module docstring)."""
    check_output_folder(request.out, stores=(request.store,))  # issue 12: before any work
    if request.out.exists() and (not request.out.is_dir() or any(request.out.iterdir())):
        raise RunFolderExistsError(
            f"{request.out}: exists and is not an empty folder; choose another --out (validation never overwrites files)"
        )
    config = load_config(request.config)  # no strategy runs here: no "enables no strategy" warning
    data = config.data if request.timeframe is None else config.data.model_copy(update={"timeframe": request.timeframe})
    quotes, symbols = _quotes_for(read_quote_file(request.quotes), request)
    _check_bars_exist(quotes, symbols, request, data.timeframe)
    last_day = quotes["ts"].dt.tz_convert("America/New_York").dt.date.max()
    market_data = load_market_data(
        request.store, symbols, None, last_day, data.timeframe, data.calendar, env.console
    )
    source = configured_quote_source(config, market_data, market_data.store, model=True)
    # The engine prices legs through ``lookup`` (spreads.price_spread); every model source has one.
    if not isinstance(source, LookupSource):
        raise TypeError(f"{type(source).__name__} has no lookup: validation asks what the engine asks")
    with env.progress.bar("pricing quotes", 1, "files") as advance:
        legs, _, summary = validate_quotes(quotes, source, dict(market_data), SessionCalendar(data.calendar))
        advance(1)
    options = config.options
    summary["validated"] = {
        "quotes": str(request.quotes),
        "store": str(request.store),
        "symbols": symbols,
        "timeframe": data.timeframe,
        "calendar": data.calendar,
        "config": str(request.config) if request.config else "default (configs/default.yaml)",
        "vol_model": options.vol_model,
        "calibration_file": {
            s: str(calibration_path(s, options.for_symbol(s).calibration_file)) for s in symbols
        } if options.vol_model == "session" else None,
        "events_file": options.events_file,
        "quotes_rows": len(legs),
        "priced_rows": int(legs["model_mid"].notna().sum()),
        "first_quote": legs["ts"].min().isoformat(),
        "last_quote": legs["ts"].max().isoformat(),
    }
    with staged_run_dir(request.out, replace_empty=True) as staging:
        legs.to_parquet(staging / LEGS_FILE, index=False)
        text = json.dumps(_json_ready(summary), indent=2, sort_keys=False, allow_nan=False)
        (staging / SUMMARY_FILE).write_text(text + "\n")
    for table in error_tables(summary):
        env.console.print(table)
    unpriced = summary["legs"]["unpriced"]
    if unpriced:
        reasons = ", ".join(f"{n} {reason}" for reason, n in unpriced.items())
        env.console.print(f"[yellow]legs the model could not price:[/] {reasons}")
    env.console.print(f"validation: [bold]{request.out}[/bold] ({LEGS_FILE}, {SUMMARY_FILE})")
    return request.out


def error_tables(summary: dict[str, Any]) -> list[Table]:
    """The summary as Rich tables: spreads and legs by minutes to close, legs by moneyness."""
    layouts: list[tuple[str, ErrorKind, str, str]] = [
        ("Strategy-shaped spreads (long leg nearest spot, short 1-6 strikes out), % of the real mid",
         "spreads", "by_close", "to close"),
        ("Single legs, cents", "legs", "by_close", "to close"),
        ("Single legs by moneyness (OTM +), cents", "legs", "by_moneyness", "moneyness"),
    ]
    tables = []
    for title, kind, by, first in layouts:
        rows = error_rows(summary, kind, by)
        if not rows:
            continue
        table = Table(title=f"{title}; error = model - real, medians")
        for column in (first, "n", "|error|", "error", "half-spread error (c)"):
            table.add_column(column, justify="left" if column == first else "right")
        for row in rows:
            table.add_row(
                row["bucket"], count(row["n"]), ratio(row["abs_error"], 1),
                signed(row["error"], lambda v: ratio(v, 1)), ratio(row["half_spread_error"], 2),
            )
        tables.append(table)
    return tables
