"""``vwapcli options calibrate``: fit the session-vol option model to real quotes (SPEC 7.1).

Quotes are read through the import's validation (``data.option_quote_import``, the same
rules as ``fetch --option-quotes``), the symbol's bars from the bar store
(``load_market_data``, never the packaged synthetic sample: a fit to synthetic bars would
be a fit to nothing), and ``options.calibration.calibrate`` fits them; the YAML it
writes (``CalibrationParams.dump``, atomic) carries the data span and the in-sample error
achieved. Everything is checked before the fit, so a bad input costs one line and writes
nothing: quotes without the symbol, a symbol without bars, quote days the bars do not
cover or with too little history before them, quotes without ``underlying_price``, an
existing ``--out`` (unless ``--force``) or one inside the bar store.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.table import Table

from vwapcli.app_config import load_config
from vwapcli.data.loading import load_market_data
from vwapcli.data.option_quote_import import quote_files, read_option_quotes
from vwapcli.data.sessions import SessionCalendar
from vwapcli.data.store import normalize_symbol
from vwapcli.env import Env
from vwapcli.errors import ConfigError, DataValidationError, StoreError
from vwapcli.options.calibration import calibrate, calibration_error
from vwapcli.options.calibration_file import CalibrationParams
from vwapcli.options.events import EventCalendar
from vwapcli.options.quote_validation import CLOSE_BUCKETS
from vwapcli.output_paths import check_output_file

TIMEFRAMES = ("1m", "5m")


@dataclass(frozen=True)
class CalibrateRequest:
    """`vwapcli options calibrate`: quote files, the bar store, one symbol, the YAML to write.

    ``timeframe`` None: the config's ``data.timeframe``. ``column_map`` / ``tz`` read vendor
    quote files as ``fetch --option-quotes`` does. ``force`` replaces an existing ``out``.
    """

    quotes: Path
    store: Path
    out: Path
    symbols: tuple[str, ...] = ()
    timeframe: str | None = None
    config: Path | None = None
    column_map: tuple[tuple[str, str], ...] = ()
    tz: str | None = None
    force: bool = False


def _check_out(request: CalibrateRequest) -> None:
    check_output_file(Path(request.out), force=request.force, stores=(request.store,))


def _symbol(request: CalibrateRequest, quotes: pd.DataFrame) -> str:
    present = sorted(quotes["underlying"].unique())
    if len(request.symbols) > 1:
        raise ConfigError(
            f"options calibrate: one symbol per calibration file, got {', '.join(request.symbols)} (run once per symbol)"
        )
    if not request.symbols:
        if len(present) != 1:
            raise ConfigError(
                f"{request.quotes}: quotes for {', '.join(present)}: name the one to calibrate with --symbols"
            )
        return str(present[0])
    symbol = normalize_symbol(request.symbols[0])
    if symbol not in present:
        raise DataValidationError(
            f"{request.quotes}: no quotes for {symbol} (underlyings in the file: {', '.join(present)})"
        )
    return symbol


def _check_coverage(
    quotes: pd.DataFrame, session_dates: np.ndarray, min_sessions: int, symbol: str, store: Path, timeframe: str
) -> list[dt.date]:
    """The quote days, when the bars hold each of them and ``min_sessions`` sessions before
    the first (the vol forecast reads prior sessions only)."""
    days = sorted(set(quotes["ts"].dt.tz_convert("America/New_York").dt.date))
    sessions = set(session_dates.astype("datetime64[D]").tolist())
    uncovered = [d for d in days if d not in sessions]
    if uncovered:
        raise StoreError(
            f"{store}: no {timeframe} {symbol} bars on quote day {uncovered[0]} ({len(uncovered)} of {len(days)} "
            "quote days uncovered; rule: calibration needs the bars of every quote day)"
        )
    before = sum(1 for d in sessions if d < days[0])
    if before < min_sessions:
        raise StoreError(
            f"{store}: {before} {timeframe} {symbol} session(s) before the first quote day {days[0]} "
            f"(rule: the vol forecast needs at least {min_sessions} prior sessions; 22 for a full HAR)"
        )
    return days


def run_options_calibrate(request: CalibrateRequest, env: Env) -> CalibrationParams:
    """Read, check, fit, measure, write ``request.out``; print the fitted numbers and the error."""
    _check_out(request)
    config = load_config(request.config)
    timeframe = request.timeframe or config.data.timeframe
    if timeframe not in TIMEFRAMES:
        raise ConfigError(f"--timeframe {timeframe!r}: use 1m or 5m")
    files = quote_files(request.quotes)
    with env.progress.bar("read option quotes", len(files), "files") as advance:
        quotes, report = read_option_quotes(files, dict(request.column_map), request.tz, on_file=advance)
    symbol = _symbol(request, quotes)
    quotes = quotes[quotes["underlying"] == symbol].reset_index(drop=True)
    if not np.isfinite(quotes["underlying_price"].to_numpy(dtype=np.float64)).any():
        raise DataValidationError(
            f"{request.quotes}: no underlying_price for {symbol} (rule: calibration needs the spot at each quote; "
            "map the vendor's column with --map COLUMN=underlying_price)"
        )
    market = load_market_data(
        request.store, [symbol], None, None, timeframe, config.data.calendar, env.console, store_is_default=False
    )
    bars = market[symbol]
    base = CalibrationParams(symbol=symbol)
    days = _check_coverage(quotes, bars.session_date, base.forecast.min_sessions, symbol, request.store, timeframe)
    events = EventCalendar.load()
    calendar = SessionCalendar(config.data.calendar)
    source_name = f"{Path(request.quotes).name} {days[0]}..{days[-1]}"
    with env.progress.bar(f"calibrate {symbol}", 2, "steps") as advance:
        fitted = calibrate(
            quotes, bars, events, config.options, base=base, calendar=calendar, source_name=source_name,
            measure_error=False,
        )
        advance(1)
        error = calibration_error(fitted, quotes, bars, events, config.options, calendar)
        fitted = fitted.model_copy(update={"error": error})
        advance(1)
    fitted.dump(request.out)
    env.console.print(_params_table(fitted))
    env.console.print(_error_table(fitted.error))
    env.console.print(
        f"{report.line()}; {symbol}: {len(quotes):,} quotes on {len(days)} sessions {days[0]}..{days[-1]}, "
        f"{bars.n_sessions} sessions of {timeframe} bars -> wrote {request.out}"
    )
    return fitted


def _params_table(params: CalibrationParams) -> Table:
    table = Table(title=f"{params.symbol} option-model calibration", caption_justify="left")
    table.add_column("part")
    table.add_column("fitted")
    table.add_row("overnight share", f"{params.overnight_share:.4g}")
    table.add_row("level", f"premium {params.level.premium:.4g}, gap weight {params.level.gap_weight:.4g}")
    table.add_row("smile", f"skew {params.smile.skew:.4g}, curvature {params.smile.curvature:.4g}")
    spread = params.spread
    table.add_row("spread", f"wide ${spread.wide:.4g}, half point {spread.half_point:.4g}, steepness {spread.steepness:.4g}")
    for kind, effect in params.events.items():
        table.add_row(f"event {kind}", f"jump {effect.jump:.4g}, after x{effect.after_multiplier:.4g}")
    return table


def _error_table(error: dict[str, Any]) -> Table:
    """In-sample medians: strategy-shaped spreads (relative to the real mid) and single legs ($)."""
    table = Table(title="error achieved (in-sample)", caption=error.get("note"), caption_justify="left")
    for name in ("quotes", "n", "median |error|", "median error", "median half-spread error"):
        table.add_column(name, justify="left" if name == "quotes" else "right")
    rows = [("spreads, all", error.get("spreads", {}), True)]
    by_close = error.get("spreads_by_close", {})
    in_time_order = [label for _, _, label in CLOSE_BUCKETS]
    ordered = [k for k in in_time_order if k in by_close] + [k for k in by_close if k not in in_time_order]
    rows += [(f"spreads, {k} to close", by_close[k], True) for k in ordered]
    rows.append(("single legs", error.get("legs", {}), False))
    for label, values, relative in rows:
        if not values:
            continue

        def shown(value: Any, relative: bool = relative) -> str:
            if not isinstance(value, (int, float)) or not np.isfinite(value):
                return "-"
            return f"{value:+.1%}" if relative else f"{100 * value:+.2f}c"

        table.add_row(
            label, f"{values.get('n', 0):,}", shown(values.get("median_abs_error")).lstrip("+"),
            shown(values.get("median_error")), f"{100 * values.get('median_abs_half_spread_error', float('nan')):.2f}c",
        )
    return table
