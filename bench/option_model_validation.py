"""Option prices against real SPY 0DTE quotes: calibrate on dev sessions, judge on held-out ones.

Reads the real data in place (never copies it into the repository):
``../shared/data/real/options/SPY_0dte_quotes_2026-07-17_2026-08-07.parquet`` (15 sessions,
07-21, 07-23 and 08-04 partial) and the SPY 5-minute bars beside it, loaded into a
temporary bar store with the project's ``BarStore`` API. Prints:

1. overnight share of variance from the bars;
2. the vol-forecast choice: HAR (1/5/22) vs EWMA vs a 10-session mean, (a) against the next
   session's realized variance on every real 5-minute bar set found, (b) against the day's
   0DTE implied variance backed out of the quotes;
3. the dev calibration (sessions before ``--holdout-from``) and its errors on the dev
   sessions (in-sample) and on the held-out sessions (out-of-sample), beside the flat
   model's on the same sessions, by minutes-to-close bucket, plus legs by moneyness and
   spreads per held-out day;
4. event effects (FOMC from dev; payrolls from the all-session fit);
5. with ``--write-calibration PATH``: the fit on ALL sessions, written as the shipped file.

    .venv/bin/python bench/option_model_validation.py
    .venv/bin/python bench/option_model_validation.py --write-calibration configs/calibration/SPY.yaml
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vwapcli.config import OptionsConfig
from vwapcli.core.types import SessionedBars
from vwapcli.data.sessions import assign_sessions
from vwapcli.data.store import BarStore
from vwapcli.options.calibration import atm_snapshots, calibrate, overnight_share, prepare_quotes
from vwapcli.options.calibration_file import CalibrationParams
from vwapcli.options.events import EventCalendar
from vwapcli.options.quote_validation import ErrorKind, error_rows, validate_quotes
from vwapcli.options.quotes import ModelQuoteSource
from vwapcli.options.session_model import CalibratedQuoteSource, SessionVolModel
from vwapcli.options.source_choice import flat_quote_source
from vwapcli.options.variance_clock import IntradayProfile, VarianceClock
from vwapcli.options.vol_forecast import (
    ForecastSettings,
    SessionForecaster,
    SessionHistory,
    har_forecast,
)

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
QUOTES = REAL / "options" / "SPY_0dte_quotes_2026-07-17_2026-08-07.parquet"
BARS = REAL / "options" / "SPY_5m_2026-05-21_2026-08-07.parquet"
OTHER_BAR_SETS = (
    REAL / "SPY_5m_2025-05-12_2026-03-12.parquet",
    REAL / "QQQ_5m_2025-05-12_2026-03-12.parquet",
    REAL / "options" / "QQQ_5m_2026-05-21_2026-08-07.parquet",
)
FORECASTS: dict[str, ForecastSettings] = {
    "HAR 1/5/22": ForecastSettings(method="har"),
    "EWMA 0.94": ForecastSettings(method="ewma", ewma_decay=0.94),
    "EWMA 0.90": ForecastSettings(method="ewma", ewma_decay=0.90),
    "mean 10": ForecastSettings(method="har", lags=(10,)),
}


def load_bars(path: Path, symbol: str, store_root: Path) -> SessionedBars:
    """Write a real bar file into a temporary store with BarStore, read it back, session it."""
    frame = pd.read_parquet(path)[["ts", "open", "high", "low", "close", "volume"]]
    store = BarStore(store_root)
    store.write_bars(symbol, frame, timeframe="5m", provenance=f"bench ({path.name})")
    return assign_sessions(store.read_bars(symbol, timeframe="5m"), symbol, "5m")


def new_york_days(quotes: pd.DataFrame) -> np.ndarray:
    return np.asarray(pd.DatetimeIndex(quotes["ts"]).tz_convert("America/New_York").date)


# --------------------------------------------------------------------------- forecasts
def qlike_next_session(history: SessionHistory, settings: ForecastSettings) -> float:
    """Mean QLIKE of the forecast (scaled by its mean ratio, i.e. premium-free) vs the session's RV."""
    forecaster = SessionForecaster(history, settings)
    ratios = []
    for i in range(22, history.n_sessions):
        day = history.session_date[i].astype(dt.date)
        realized, forecast = history.rv[i], forecaster.prior_variance(day)
        if np.isfinite(realized) and realized > 0 and np.isfinite(forecast):
            ratios.append(realized / forecast)
    r = np.asarray(ratios)
    r = r / r.mean()
    return float(np.mean(r - np.log(r) - 1.0))


def implied_day_levels(quotes: pd.DataFrame, bars: SessionedBars, events: EventCalendar) -> pd.Series:
    """The day's 0DTE implied open-to-close variance: median of ATM total variance / clock units."""
    model = SessionVolModel.from_bars(CalibrationParams(symbol=bars.symbol), bars, events)
    snapshots = atm_snapshots(prepare_quotes(quotes, model, OptionsConfig(), bars.symbol))
    snapshots = snapshots[snapshots["units"] >= 0.02]
    level = snapshots["atm_std"] ** 2 / snapshots["units"]
    return level.groupby(snapshots["day"]).median()


def forecast_table(
    quotes: pd.DataFrame, bars: SessionedBars, events: EventCalendar, gap_weight: float
) -> pd.DataFrame:
    history = SessionHistory.from_bars(bars)
    implied = implied_day_levels(quotes, bars, events)
    fomc_days = {d for d in implied.index if any(e.kind == "fomc" for e in events.events_on(d))}
    histories = {}
    for bar_path in (BARS, *OTHER_BAR_SETS):
        if bar_path.is_file():
            with tempfile.TemporaryDirectory() as tmp:
                label = "QLIKE " + " ".join(bar_path.stem.split("_")[:3])
                histories[label] = SessionHistory.from_bars(load_bars(bar_path, "X", Path(tmp)))
    rows = []
    for name, settings, weight in [
        *((name, settings, 0.0) for name, settings in FORECASTS.items()),
        (f"HAR + {gap_weight:.2f}·gap² (today's open)", FORECASTS["HAR 1/5/22"], gap_weight),
    ]:
        forecaster = SessionForecaster(history, settings)
        row: dict[str, Any] = {"forecast": name}
        for label, other in histories.items():
            row[label] = round(qlike_next_session(other, settings), 4) if weight == 0.0 else math.nan
        log_ratio = pd.Series(
            {
                d: 0.5 * math.log(v / (forecaster.prior_variance(d) + weight * forecaster.opening_gap(d) ** 2))
                for d, v in implied.items()
                if d not in fomc_days
            }
        )
        row["implied/forecast vol, median"] = round(float(np.exp(log_ratio.median())), 3)
        row["sd log ratio"] = round(float(log_ratio.std()), 3)
        row["median |log ratio - median|"] = round(float((log_ratio - log_ratio.median()).abs().median()), 3)
        rows.append(row)
    # SPEC 7.1's literal "daily variance = intraday RV + overnight return²", HAR-combined,
    # brought back to open-to-close units with the overnight share.
    close_to_close = history.raw_rv + np.nan_to_num(history.gap) ** 2
    log_ratio = pd.Series(
        {
            d: 0.5 * math.log(
                v * (1 + overnight_share(history, d - dt.timedelta(days=1)))
                / har_forecast(close_to_close[: history.prior_count(d)])
            )
            for d, v in implied.items()
            if d not in fomc_days
        }
    )
    rows.append(
        {
            "forecast": "HAR of (RV + gap²) / (1 + overnight share)",
            "implied/forecast vol, median": round(float(np.exp(log_ratio.median())), 3),
            "sd log ratio": round(float(log_ratio.std()), 3),
            "median |log ratio - median|": round(float((log_ratio - log_ratio.median()).abs().median()), 3),
        }
    )
    return pd.DataFrame(rows).set_index("forecast")


def gap_evidence(quotes: pd.DataFrame, bars: SessionedBars, events: EventCalendar) -> pd.DataFrame:
    """Does today's opening gap tell about today's variance? Quotes (implied) and bars (realized).

    Least squares in logs of level/HAR = a + b·gap²/HAR, and the correlation of
    log(level/HAR) with gap²/HAR; level = the day's implied variance (quotes) or its RV (bars).
    """
    from scipy.optimize import least_squares

    def fit(level: np.ndarray, har: np.ndarray, gap2: np.ndarray, label: str) -> dict[str, Any]:
        y, x = np.log(level / har), gap2 / har
        result = least_squares(lambda p: y - np.log(p[0] + p[1] * x), [1.0, 0.2], bounds=([1e-3, 0.0], [10.0, 10.0]))
        return {"data": label, "n": int(y.shape[0]), "corr": round(float(np.corrcoef(y, x)[0, 1]), 2),
                "a": round(float(result.x[0]), 3), "b (gap weight)": round(float(result.x[1]), 3)}

    rows = []
    history = SessionHistory.from_bars(bars)
    forecaster = SessionForecaster(history)
    implied = implied_day_levels(quotes, bars, events)
    days = [d for d in implied.index if not any(e.kind == "fomc" for e in events.events_on(d))]
    rows.append(fit(implied[days].to_numpy(), np.array([forecaster.prior_variance(d) for d in days]),
                    np.array([forecaster.opening_gap(d) ** 2 for d in days]), "0DTE implied, quote days"))
    for bar_path in (BARS, *OTHER_BAR_SETS):
        if not bar_path.is_file():
            continue
        with tempfile.TemporaryDirectory() as tmp:
            other = SessionHistory.from_bars(load_bars(bar_path, "X", Path(tmp)))
        realized_forecaster = SessionForecaster(other)
        index = [i for i in range(22, other.n_sessions) if np.isfinite(other.rv[i]) and np.isfinite(other.gap[i])]
        dates = [other.session_date[i].astype(dt.date) for i in index]
        rows.append(fit(other.rv[index], np.array([realized_forecaster.prior_variance(d) for d in dates]),
                        other.gap[index] ** 2, "realized, " + " ".join(bar_path.stem.split("_")[:3])))
    return pd.DataFrame(rows).set_index("data")


def smile_by_time(quotes: pd.DataFrame, bars: SessionedBars, events: EventCalendar) -> pd.DataFrame:
    """Median OTM implied std / ATM std by z bucket and minutes to close (is z the right coordinate?)."""
    model = SessionVolModel.from_bars(CalibrationParams(symbol=bars.symbol), bars, events)
    frame = prepare_quotes(quotes, model, OptionsConfig(), bars.symbol)
    snapshots = atm_snapshots(frame)
    data = frame[frame["implied_std"].notna()].merge(snapshots[["ts_ns", "expiration", "atm_std"]], on=["ts_ns", "expiration"])
    minutes = (np.array([model.clock.expiry_close_ns(e) for e in data["expiration"]]) - data["ts_ns"].to_numpy()) / 60e9
    z = data["x"] / data["atm_std"]
    table = pd.DataFrame({
        "z": pd.cut(z, [-4, -3, -2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2, 3, 4]),
        "to close": pd.cut(minutes, [0, 60, 120, 240, 400], labels=["<1h", "1-2h", "2-4h", ">4h"]),
        "ratio": data["implied_std"] / data["atm_std"],
    })
    return table.pivot_table(index="z", columns="to close", values="ratio", aggfunc="median", observed=True).round(3)


def profile_table(quotes: pd.DataFrame, bars: SessionedBars, events: EventCalendar) -> pd.DataFrame:
    """How flat each clock makes the market's implied level through the day (non-FOMC days).

    Per snapshot, log vol of (ATM total variance / clock units) minus the day's median over
    snapshots more than an hour before the close: a clock that matches the market's own
    variance timing keeps this near 0 all day, in particular in the last hour.
    """
    model = SessionVolModel.from_bars(CalibrationParams(symbol=bars.symbol), bars, events)
    snapshots = atm_snapshots(prepare_quotes(quotes, model, OptionsConfig(), bars.symbol))
    snapshots = snapshots[[not any(e.kind == "fomc" for e in events.events_on(d)) for d in snapshots["day"]]]
    sessions = (model.clock.dates, model.clock.open_ns, model.clock.close_ns)
    clocks = {
        "flat (minutes / 390)": VarianceClock(sessions, lambda day: IntradayProfile.flat(), 0.0),
        "built-in U": VarianceClock(sessions, lambda day: IntradayProfile.builtin(), 0.0),
        "learned from prior sessions": model.clock,
    }
    pairs = list(zip(snapshots["ts_ns"], snapshots["expiration"], strict=True))
    minutes = np.array([model.clock.expiry_close_ns(e) - t for t, e in pairs]) / 60e9
    rows = []
    for name, clock in clocks.items():
        units = np.array([clock.units(int(t), e) for t, e in pairs])
        ok = units > 0
        log_vol = pd.Series(0.5 * np.log(snapshots["atm_std"].to_numpy()[ok] ** 2 / units[ok]))
        day = snapshots["day"].to_numpy()[ok]
        left = minutes[ok]
        reference = log_vol[left > 60].groupby(day[left > 60]).median()
        deviation = log_vol.to_numpy() - reference.reindex(day).to_numpy()
        rows.append(
            {
                "clock": name,
                "sd within day (>1h left)": round(float(pd.Series(deviation[left > 60]).groupby(day[left > 60]).std().median()), 3),
                "median dev, 30-60 min left": round(float(np.nanmedian(deviation[(left > 30) & (left <= 60)])), 3),
                "median dev, <30 min left": round(float(np.nanmedian(deviation[left <= 30])), 3),
            }
        )
    return pd.DataFrame(rows).set_index("clock")


# --------------------------------------------------------------------------- validation
def validate(source: Any, quotes: pd.DataFrame, bars: SessionedBars) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    return validate_quotes(quotes, source, {bars.symbol: bars})


def _side_by_side(new: dict[str, Any], flat: dict[str, Any], kind: ErrorKind, by: str, first: str, unit: str) -> pd.DataFrame:
    """The validation table's rows (``quote_validation.error_rows``) of both models side by side."""
    rows: dict[str, dict[str, Any]] = {}
    for label, summary in (("new", new), ("flat", flat)):
        for row in error_rows(summary, kind, by):
            out = rows.setdefault(row["bucket"], {first: row["bucket"], "n": row["n"]})
            out[f"{label} |err| {unit}"] = round(row["abs_error"], 1 if unit == "%" else 2)
            out[f"{label} {'bias' if unit == '%' else 'err'} {unit}"] = round(row["error"], 1 if unit == "%" else 2)
            out[f"{label} half-spread err c"] = round(row["half_spread_error"], 2)
    return pd.DataFrame(list(rows.values())).set_index(first)


def bucket_table(new: dict[str, Any], flat: dict[str, Any]) -> pd.DataFrame:
    """Strategy-shaped spreads: median |error|, median error (% of the real mid), half-spread error (cents)."""
    return _side_by_side(new, flat, "spreads", "by_close", "minutes to close", "%")


def moneyness_table(new: dict[str, Any], flat: dict[str, Any]) -> pd.DataFrame:
    """Single legs by moneyness: median |error| and error of the mid, and half-spread error, in cents."""
    return _side_by_side(new, flat, "legs", "by_moneyness", "moneyness", "c")


def per_day(spreads: pd.DataFrame) -> pd.DataFrame:
    days = np.asarray(pd.DatetimeIndex(spreads["ts"]).tz_convert("America/New_York").date)
    grouped = spreads.assign(day=days).groupby("day")["rel_error"]
    return pd.DataFrame(
        {
            "n": grouped.count(),
            "|err| %": (100 * grouped.apply(lambda v: v.abs().median())).round(1),
            "bias %": (100 * grouped.median()).round(1),
        }
    )


def variant_table(
    dev: pd.DataFrame, holdout: pd.DataFrame, bars: SessionedBars, events: EventCalendar, params: CalibrationParams
) -> pd.DataFrame:
    """What each choice is worth out of sample: the shipped procedure with one part changed."""
    options = OptionsConfig.model_validate({})
    variants: dict[str, Any] = {"session model (HAR + gap, learned profile)": params}
    variants["  without the opening-gap term"] = calibrate(dev, bars, events, measure_error=False, fixed_gap_weight=0.0)
    ewma = CalibrationParams(forecast={"method": "ewma", "ewma_decay": 0.94})
    variants["  EWMA 0.94 instead of HAR"] = calibrate(dev, bars, events, base=ewma, measure_error=False)
    builtin = CalibrationParams(forecast={"profile_prior_sessions": 1e9})
    variants["  built-in U profile only"] = calibrate(dev, bars, events, base=builtin, measure_error=False)
    rows = []
    for name, variant in variants.items():
        source = CalibratedQuoteSource(options, {"SPY": SessionVolModel.from_bars(variant, bars, events)})
        part = validate(source, holdout, bars)[2]["spreads"]["all"]
        rows.append((name, variant.level.premium, variant.level.gap_weight, part))
    rows.append(("flat model (vol_model: flat)", math.nan, math.nan, validate(flat_source(bars), holdout, bars)[2]["spreads"]["all"]))
    return pd.DataFrame(
        [
            {
                "model": name,
                "premium": premium,
                "gap weight": gap,
                "|err| %": round(100 * part["median_abs_error"], 1),
                "bias %": round(100 * part["median_error"], 1),
                "half-spread err c": round(100 * part["median_abs_half_spread_error"], 2),
            }
            for name, premium, gap, part in rows
        ]
    ).set_index("model")


def flat_source(bars: SessionedBars) -> ModelQuoteSource:
    """`vol_model: flat` as a backtest builds it (realized vol: the store is never read)."""
    return flat_quote_source(OptionsConfig.model_validate({"vol_model": "flat"}), {bars.symbol: bars}, Path("."))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quotes", type=Path, default=QUOTES)
    parser.add_argument("--bars", type=Path, default=BARS)
    parser.add_argument("--holdout-from", type=dt.date.fromisoformat, default=dt.date(2026, 8, 1))
    parser.add_argument("--write-calibration", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None, help="also write every summary here")
    args = parser.parse_args(argv)
    if not args.quotes.is_file() or not args.bars.is_file():
        print(f"real data not found under {REAL}", file=sys.stderr)
        return 2
    pd.set_option("display.width", 200)
    events = EventCalendar.load()
    quotes = pd.read_parquet(args.quotes)
    days = new_york_days(quotes)
    dev, holdout = quotes[days < args.holdout_from], quotes[days >= args.holdout_from]
    with tempfile.TemporaryDirectory() as tmp:
        bars = load_bars(args.bars, "SPY", Path(tmp))
    history = SessionHistory.from_bars(bars)
    dev_days, hold_days = sorted(set(new_york_days(dev))), sorted(set(new_york_days(holdout)))
    print(f"dev sessions: {dev_days[0]}..{dev_days[-1]} ({len(dev_days)}), {len(dev):,} quotes")
    print(f"hold-out sessions: {', '.join(map(str, hold_days))} ({len(hold_days)}), {len(holdout):,} quotes\n")

    print("== 1. overnight share (mean squared opening gap / mean open-to-close RV, 5-minute bars)")
    print(f"   sessions to {dev_days[-1]}: {overnight_share(history, dev_days[-1]):.3f};"
          f" all {history.n_sessions} sessions: {overnight_share(history):.3f}\n")

    print("== 2. vol forecast: QLIKE vs next-session RV (lower is better) and vs the day's 0DTE implied variance")
    print("   (implied/forecast over the 14 non-FOMC quote days; every forecast is causal; the gap weight")
    print("   is the dev calibration's, so that last row is in-sample on the dev days)")
    params = calibrate(dev, bars, events, source_name=f"{args.quotes.name} {dev_days[0]}..{dev_days[-1]}", measure_error=False)
    print(forecast_table(quotes, bars, events, params.level.gap_weight).to_string(), "\n")

    print("== 2b. today's opening gap and today's variance (level/HAR = a + b·gap²/HAR, least squares in logs)")
    print(gap_evidence(quotes, bars, events).to_string(), "\n")

    print("== 2c. variance clock: the implied level through the day, log vol vs the day's median (0 = flat)")
    print(profile_table(quotes, bars, events).to_string(), "\n")

    print("== 2d. smile: median OTM implied std / ATM std by z and minutes to close (all sessions)")
    print(smile_by_time(quotes, bars, events).to_string(), "\n")

    print("== 3. dev calibration, then errors on dev (in-sample) and hold-out (out-of-sample)")
    shown = params.model_dump(include={"overnight_share", "level", "smile", "spread", "events"})
    print(json.dumps(shown, indent=1))
    source = CalibratedQuoteSource(OptionsConfig.model_validate({}), {"SPY": SessionVolModel.from_bars(params, bars, events)})
    flat = flat_source(bars)
    report: dict[str, Any] = {"dev_params": shown}
    for label, part in (("DEV (in-sample)", dev), ("HOLD-OUT (out-of-sample)", holdout)):
        _, spreads_new, new = validate(source, part, bars)
        _, _, old = validate(flat, part, bars)
        report[label] = {"new": new, "flat": old}
        print(f"\n-- {label}: strategy-shaped spreads (long leg nearest spot, short 1-6 strikes out)")
        print(bucket_table(new, old).to_string())
        print(f"\n-- {label}: single legs by moneyness (cents)")
        print(moneyness_table(new, old).to_string())
        print(f"\n-- {label}: spreads per session (new model)")
        print(per_day(spreads_new).to_string())

    print("\n== 3b. hold-out spreads by model variant (each refitted on the dev sessions the same way)")
    print(variant_table(dev, holdout, bars, events, params).to_string())

    print("\n== 4. event effects (jump in session units at the event; multiplier on the rest of the day)")
    print("   dev fit:", {k: v.model_dump() for k, v in params.events.items()})
    full = calibrate(quotes, bars, events, source_name=f"{args.quotes.name} {days.min()}..{days.max()}",
                     measure_error=args.write_calibration is not None)
    print("   all-session fit:", {k: v.model_dump() for k, v in full.events.items()})
    print("   all-session level:", full.level.model_dump(), "smile:", full.smile.model_dump())
    report["full_params"] = full.model_dump(mode="json")
    if args.write_calibration is not None:
        full.dump(args.write_calibration)
        print(f"\nwrote {args.write_calibration} (in-sample error: {json.dumps(full.error['spreads'])})")
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
