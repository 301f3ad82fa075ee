"""Fit the session-vol model to real option quotes (SPEC 7.1 "calibration is data").

Each part is fitted on the quantity it controls, with the others held at the market's own
values, so a handful of robust numbers come out of ~100,000 quotes:

1. ``overnight_share``: mean squared opening gap / mean intraday RV over the bars'
   sessions up to the last quote day (a variance share is a ratio of means, not medians).
2. Level (``premium``, ``gap_weight``): the market's at-the-money total variance at each
   quote snapshot (implied std of the out-of-the-money legs either side of the forward,
   interpolated at ln(K/F) = 0) against ``premium · (HAR + gap_weight · gap²) · units``,
   least squares in logs, each session weighted alike; days with an intraday event
   (FOMC) are left out here.
3. Events: for each event type present in the quotes, ``jump`` and ``after_multiplier``
   on its days' snapshots with the level fixed (pre-open types only move the day's
   level, so only their ``after_multiplier`` is identifiable from 0DTE quotes).
4. Smile (``skew``, ``curvature``): out-of-the-money leg prices at the market's own
   at-the-money level, errors in ticks (soft-L1 loss).
5. Spread (``wide``, ``half_point``, ``steepness``): two-sided quotes' widths in ticks
   against the leg's price in units of the market's at-the-money dollar move, for legs
   priced up to 1.5% of spot (``SPREAD_FIT_MAX_PRICE_FRAC``).

Implied vols come from ``scipy.optimize.elementwise.find_root`` on the vectorised
``pricing.bs_price``; fits use ``scipy.optimize.least_squares``. The error achieved is
measured by pricing every quote through ``CalibratedQuoteSource`` (``quote_validation``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from vwapcli.config import OptionsConfig
from vwapcli.core.types import SessionedBars
from vwapcli.data.sessions import SessionCalendar
from vwapcli.options.calibration_file import CalibrationParams, EventEffect
from vwapcli.options.events import EventCalendar
from vwapcli.options.pricing import bs_price
from vwapcli.options.quote_validation import price_legs, strategy_spreads, summarize
from vwapcli.options.session_model import CalibratedQuoteSource, SessionVolModel, session_table_for
from vwapcli.options.variance_clock import ClockEvent
from vwapcli.options.vol_forecast import SessionHistory

NS_PER_YEAR = 365 * 24 * 3600 * 1_000_000_000
MIN_UNITS = 0.02  # snapshots with less variance left (last ~10 minutes) are tick noise
MAX_IMPLIED_STD = 1.0
# The spread fit uses legs priced up to 1.5% of spot (~$11 on SPY at 740): deeper in the
# money, quotes are bimodal stock-substitute markets ($0.20 or $1.40 wide) that a debit
# spread opened at the money never trades, and fitting them widened every ITM leg.
SPREAD_FIT_MAX_PRICE_FRAC = 0.015


# --------------------------------------------------------------------------- implied vols
def implied_total_std(
    price: np.ndarray, forward: np.ndarray, strike: np.ndarray, discount: np.ndarray, right: np.ndarray
) -> np.ndarray:
    """Total implied std ``sigma·sqrt(T)`` of each option price (Black on the forward).

    Solved elementwise with scipy's bracketing root finder on ``bs_price`` at T = 1, r = q = 0
    (so its vol argument is the total std). NaN where the price is outside the no-arbitrage
    range (below intrinsic or above the forward/strike bound).
    """
    from scipy.optimize import elementwise

    undiscounted = np.asarray(price, dtype=np.float64) / discount
    f = np.asarray(forward, dtype=np.float64)
    k = np.asarray(strike, dtype=np.float64)
    rights = np.asarray(right)

    def excess(std: np.ndarray, f: np.ndarray, k: np.ndarray, target: np.ndarray, is_call: np.ndarray) -> np.ndarray:
        kind = np.where(is_call, "C", "P")
        return np.asarray(bs_price(f, k, 1.0, 0.0, 0.0, std, kind)) - target

    is_call = rights == "C"
    low = np.full(f.shape, 1e-7)
    high = np.full(f.shape, MAX_IMPLIED_STD)
    lo_val = excess(low, f, k, undiscounted, is_call)
    hi_val = excess(high, f, k, undiscounted, is_call)
    valid = (lo_val < 0) & (hi_val > 0)
    out = np.full(f.shape, np.nan)
    if valid.any():
        result = elementwise.find_root(
            excess,
            (low[valid], high[valid]),
            args=(f[valid], k[valid], undiscounted[valid], is_call[valid]),
        )
        out[valid] = np.where(result.success, result.x, np.nan)
    return out


# --------------------------------------------------------------------------- preparation
def prepare_quotes(
    quotes: pd.DataFrame, model: SessionVolModel, options: OptionsConfig, symbol: str
) -> pd.DataFrame:
    """Per quote: forward, discount, log-moneyness, clock units, calendar T and OTM implied std."""
    frame = quotes[(quotes["ask"] > quotes["bid"]) & (quotes["bid"] >= 0)].copy()
    frame = frame[np.isfinite(frame["underlying_price"])]
    ts_ns = pd.DatetimeIndex(frame["ts"]).tz_convert("UTC").as_unit("ns").asi8
    frame["ts_ns"] = ts_ns
    frame["expiration"] = pd.to_datetime(frame["expiration"]).dt.date
    params = options.for_symbol(symbol)
    rate = float(params.rate if params.rate is not None else options.rate)
    div_yield = float(params.div_yield if params.div_yield is not None else options.div_yield)
    clock = model.clock
    snapshots = frame[["ts_ns", "expiration"]].drop_duplicates()
    units = {}
    t_cal = {}
    day_of = {}
    for ts, expiry in snapshots.itertuples(index=False):
        units[(ts, expiry)] = clock.units(int(ts), expiry)
        t_cal[(ts, expiry)] = max(clock.expiry_close_ns(expiry) - int(ts), 0) / NS_PER_YEAR
        session = model.session_of(int(ts))
        day_of[ts] = session[0] if session else None
    keys = list(zip(frame["ts_ns"], frame["expiration"], strict=True))
    frame["units"] = [units[k] for k in keys]
    frame["t_cal"] = [t_cal[k] for k in keys]
    frame["day"] = [day_of[k[0]] for k in keys]
    frame["forward"] = frame["underlying_price"] * np.exp((rate - div_yield) * frame["t_cal"])
    frame["discount"] = np.exp(-rate * frame["t_cal"])
    frame["mid"] = (frame["bid"] + frame["ask"]) / 2
    frame["x"] = np.log(frame["strike"] / frame["forward"])
    frame["otm"] = np.where(frame["right"] == "C", frame["x"] >= 0, frame["x"] < 0)
    otm = frame["otm"].to_numpy() & (frame["bid"].to_numpy() > 0)
    std = np.full(len(frame), np.nan)
    std[otm] = implied_total_std(
        frame["mid"].to_numpy()[otm],
        frame["forward"].to_numpy()[otm],
        frame["strike"].to_numpy()[otm],
        frame["discount"].to_numpy()[otm],
        frame["right"].to_numpy()[otm],
    )
    frame["implied_std"] = std
    return frame


def atm_snapshots(frame: pd.DataFrame) -> pd.DataFrame:
    """The market's at-the-money total std per snapshot: OTM implied std interpolated at x = 0."""
    rows = []
    for (ts, expiry), group in frame[frame["implied_std"].notna()].groupby(["ts_ns", "expiration"], sort=True):
        below = group[group["x"] < 0].sort_values("x")
        above = group[group["x"] >= 0].sort_values("x")
        if below.empty or above.empty:
            continue
        x0, s0 = float(below["x"].iloc[-1]), float(below["implied_std"].iloc[-1])
        x1, s1 = float(above["x"].iloc[0]), float(above["implied_std"].iloc[0])
        atm = s0 + (s1 - s0) * (0.0 - x0) / (x1 - x0) if x1 > x0 else s1
        first = group.iloc[0]
        rows.append(
            {
                "ts_ns": ts,
                "expiration": expiry,
                "day": first["day"],
                "units": first["units"],
                "forward": first["forward"],
                "atm_std": atm,
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- fits
def overnight_share(history: SessionHistory, last_day: dt.date | None = None) -> float:
    """Mean squared opening gap / mean open-to-close RV over sessions up to ``last_day``."""
    n = history.n_sessions if last_day is None else history.prior_count(last_day + dt.timedelta(days=1))
    gap = history.gap[:n]
    rv = history.raw_rv[:n]
    ok = np.isfinite(gap) & np.isfinite(rv)
    if ok.sum() < 2 or rv[ok].mean() <= 0:
        return math.nan
    return float(np.mean(gap[ok] ** 2) / np.mean(rv[ok]))


def _day_weights(days: pd.Series) -> np.ndarray:
    counts = days.map(days.value_counts())
    return 1.0 / np.sqrt(counts.to_numpy(dtype=np.float64))


def fit_level(
    snapshots: pd.DataFrame, model: SessionVolModel, fixed_gap_weight: float | None = None
) -> tuple[float, float]:
    """``(premium, gap_weight)`` from ATM total variance (module docstring, step 2).

    ``fixed_gap_weight`` holds the gap weight (e.g. 0 to measure what the gap term is worth).
    """
    from scipy.optimize import least_squares

    data = snapshots[snapshots["units"] >= MIN_UNITS]
    prior = np.array([model.prior_variance(d) for d in data["day"]])
    gap2 = np.array([model.forecaster.opening_gap(d) ** 2 for d in data["day"]])
    ok = np.isfinite(prior)
    data, prior, gap2 = data[ok], prior[ok], gap2[ok]
    target = np.log(data["atm_std"].to_numpy() ** 2 / data["units"].to_numpy())
    weights = _day_weights(data["day"])

    def residuals(theta: np.ndarray) -> np.ndarray:
        log_premium = theta[0]
        gap_weight = theta[1] if fixed_gap_weight is None else fixed_gap_weight
        return weights * (target - log_premium - np.log(prior + gap_weight * gap2))

    if fixed_gap_weight is None:
        fit = least_squares(residuals, x0=[0.1, 0.1], bounds=([-5.0, 0.0], [5.0, 2.0]))
        return float(math.exp(fit.x[0])), float(fit.x[1])
    fit = least_squares(residuals, x0=[0.1], bounds=([-5.0], [5.0]))
    return float(math.exp(fit.x[0])), float(fixed_gap_weight)


def _event_units(model: SessionVolModel, ts: int, expiry: dt.date, day: dt.date, kind: str) -> tuple[float, float, float]:
    """(units without events, units added per unit of jump, units added per unit of multiplier - 1)."""
    clock = model.clock
    instants = [e.ts_ns for e in model.events.events_on(day) if e.kind == kind]

    def only(jump: float, multiplier: float) -> Callable[[dt.date], list[ClockEvent]]:
        return lambda d: [ClockEvent(t, jump, multiplier) for t in instants] if d == day else []

    base = clock.units(ts, expiry, only(0.0, 1.0))
    per_jump = clock.units(ts, expiry, only(1.0, 1.0)) - base
    per_multiplier = clock.units(ts, expiry, only(0.0, 2.0)) - base
    return base, per_jump, per_multiplier


def fit_event(snapshots: pd.DataFrame, model: SessionVolModel, kind: str, premium: float, gap_weight: float) -> EventEffect | None:
    """``jump`` and ``after_multiplier`` of one event type from its days' snapshots (step 3)."""
    from scipy.optimize import least_squares

    days = {d for d in snapshots["day"].unique() if any(e.kind == kind for e in model.events.events_on(d))}
    data = snapshots[snapshots["day"].isin(days) & (snapshots["units"] >= MIN_UNITS)]
    if data.empty:
        return None
    terms = np.array([_event_units(model, int(t), e, d, kind) for t, e, d in zip(data["ts_ns"], data["expiration"], data["day"], strict=True)])
    level = np.array([premium * (model.prior_variance(d) + gap_weight * model.forecaster.opening_gap(d) ** 2) for d in data["day"]])
    target = np.log(data["atm_std"].to_numpy() ** 2 / level)
    jump_identified = bool(np.any(terms[:, 1] > 0))

    def residuals(theta: np.ndarray) -> np.ndarray:
        jump = theta[0] if jump_identified else 0.0
        multiplier = theta[-1]
        return target - np.log(terms[:, 0] + jump * terms[:, 1] + (multiplier - 1.0) * terms[:, 2])

    x0 = [1.0, 2.0] if jump_identified else [1.0]
    lower = [0.0, 0.05] if jump_identified else [0.05]
    upper = [20.0, 30.0] if jump_identified else [30.0]
    fit = least_squares(residuals, x0=x0, bounds=(lower, upper))
    jump = float(fit.x[0]) if jump_identified else 0.0
    return EventEffect(jump=round(jump, 4), after_multiplier=round(float(fit.x[-1]), 4))


def fit_smile(frame: pd.DataFrame, snapshots: pd.DataFrame, tick: float, bound: float = 4.0) -> tuple[float, float]:
    """``(skew, curvature)`` from OTM leg prices at the market's ATM level (step 4)."""
    from scipy.optimize import least_squares

    data = frame[frame["otm"] & (frame["bid"] > 0)].merge(
        snapshots[["ts_ns", "expiration", "atm_std"]], on=["ts_ns", "expiration"]
    )
    data = data[data["units"] >= MIN_UNITS]
    atm = data["atm_std"].to_numpy()
    z = data["x"].to_numpy() / atm
    u = bound * np.tanh(z / bound)
    forward, strike = data["forward"].to_numpy(), data["strike"].to_numpy()
    discount, mid = data["discount"].to_numpy(), data["mid"].to_numpy()
    kind = data["right"].to_numpy()

    def residuals(theta: np.ndarray) -> np.ndarray:
        skew, curvature = theta
        ratio = np.maximum(1.0 + skew * u + curvature * u * u, 0.2)
        model = discount * np.asarray(bs_price(forward, strike, 1.0, 0.0, 0.0, atm * ratio, kind))
        return (model - mid) / tick

    # x0 off zero: least_squares scales its finite-difference steps by |x|.
    fit = least_squares(residuals, x0=[-0.05, 0.03], bounds=([-1.0, 0.0], [1.0, 1.0]), loss="soft_l1", f_scale=1.0)
    return float(fit.x[0]), float(fit.x[1])


def fit_spread(frame: pd.DataFrame, snapshots: pd.DataFrame, tick: float) -> tuple[float, float, float]:
    """``(wide, half_point, steepness)`` from every two-sided quote's width (step 5)."""
    from scipy.optimize import least_squares

    from vwapcli.options.leg_spread import LegSpreadModel

    data = frame.merge(snapshots[["ts_ns", "expiration", "atm_std"]], on=["ts_ns", "expiration"])
    data = data[data["mid"] <= SPREAD_FIT_MAX_PRICE_FRAC * data["underlying_price"]]
    width = (data["ask"] - data["bid"]).to_numpy()
    scale = (data["forward"] * data["atm_std"]).to_numpy()
    mid = data["mid"].to_numpy()

    def residuals(theta: np.ndarray) -> np.ndarray:
        model = LegSpreadModel(tick, theta[0], theta[1], theta[2]).raw_spread(mid, scale)
        return (model - width) / tick

    fit = least_squares(
        residuals, x0=[0.25, 1.8, 4.0], bounds=([0.0, 0.2, 0.5], [5.0, 50.0, 20.0]), loss="soft_l1", f_scale=1.0
    )
    return float(fit.x[0]), float(fit.x[1]), float(fit.x[2])


# --------------------------------------------------------------------------- driver
def calibrate(
    quotes: pd.DataFrame,
    bars: SessionedBars,
    events: EventCalendar | None = None,
    options: OptionsConfig | None = None,
    base: CalibrationParams | None = None,
    calendar: SessionCalendar | None = None,
    source_name: str = "quotes",
    measure_error: bool = True,
    fixed_gap_weight: float | None = None,
) -> CalibrationParams:
    """Fit overnight share, level, events, smile and spread for one symbol (module docstring).

    ``quotes``: the symbol's quote rows (``ts`` tz-aware, expiration, strike, right, bid,
    ask, underlying_price). ``base`` supplies everything that is not fitted (forecast
    settings, smile bound, tick, effects of event types absent from the quotes);
    ``fixed_gap_weight`` holds the gap weight instead of fitting it.
    """
    options = options or OptionsConfig.model_validate({})
    events = events or EventCalendar.empty()
    calendar = calendar or SessionCalendar()
    base = base or CalibrationParams(symbol=bars.symbol)
    history = SessionHistory.from_bars(bars)
    sessions = session_table_for(bars, calendar)
    quote_days = sorted(set(pd.DatetimeIndex(quotes["ts"]).tz_convert("America/New_York").date))
    share = overnight_share(history, quote_days[-1])
    neutral = base.model_copy(
        update={
            "overnight_share": share if math.isfinite(share) else base.overnight_share,
            "level": base.level.model_copy(update={"premium": 1.0, "gap_weight": 0.0}),
            "events": {},
        }
    )
    model = SessionVolModel(neutral, history, sessions, events)
    frame = prepare_quotes(quotes, model, options, bars.symbol)
    snapshots = atm_snapshots(frame)
    intraday_event_days = {
        d for d in snapshots["day"].unique() if any(_is_intraday(e.ts_ns, d, model) for e in events.events_on(d))
    }
    premium, gap_weight = fit_level(snapshots[~snapshots["day"].isin(intraday_event_days)], model, fixed_gap_weight)
    effects = dict(base.events)
    for kind in sorted(events.types):
        effect = fit_event(snapshots, model, kind, premium, gap_weight)
        if effect is not None:
            effects[kind] = effect
    skew, curvature = fit_smile(frame, snapshots, base.spread.tick, base.smile.bound)
    wide, half_point, steepness = fit_spread(frame, snapshots, base.spread.tick)
    fitted = neutral.model_copy(
        update={
            "level": base.level.model_copy(update={"premium": round(premium, 4), "gap_weight": round(gap_weight, 4)}),
            "smile": base.smile.model_copy(update={"skew": round(skew, 4), "curvature": round(curvature, 4)}),
            "spread": base.spread.model_copy(
                update={"wide": round(wide, 4), "half_point": round(half_point, 4), "steepness": round(steepness, 4)}
            ),
            "events": effects,
            "overnight_share": round(neutral.overnight_share, 4),
            "fitted_on": _span(quotes, bars, quote_days, source_name),
        }
    )
    if measure_error:
        fitted = fitted.model_copy(update={"error": calibration_error(fitted, quotes, bars, events, options, calendar)})
    return fitted


def _is_intraday(event_ts: int, day: dt.date, model: SessionVolModel) -> bool:
    index = int(np.searchsorted(model.clock.dates, np.datetime64(day, "D")))
    return int(model.clock.open_ns[index]) < event_ts < int(model.clock.close_ns[index])


def _span(quotes: pd.DataFrame, bars: SessionedBars, quote_days: Sequence[dt.date], source_name: str) -> dict[str, Any]:
    return {
        "quotes": source_name,
        "quote_rows": len(quotes),
        "sessions": [d.isoformat() for d in quote_days],
        "first_session": quote_days[0].isoformat(),
        "last_session": quote_days[-1].isoformat(),
        "bars": {
            "timeframe": f"{bars.bar_ns // 60_000_000_000}m",
            "first_session": str(bars.session_date[0]),
            "last_session": str(bars.session_date[-1]),
            "sessions": bars.n_sessions,
        },
    }


def calibration_error(
    params: CalibrationParams,
    quotes: pd.DataFrame,
    bars: SessionedBars,
    events: EventCalendar,
    options: OptionsConfig,
    calendar: SessionCalendar | None = None,
) -> dict[str, Any]:
    """Headline errors of ``params`` on ``quotes``, priced through the backtest's quote source."""
    model = SessionVolModel.from_bars(params, bars, events, calendar)
    source = CalibratedQuoteSource(options, {bars.symbol: model})
    legs = price_legs(quotes, source, {bars.symbol: bars}, calendar)
    summary = summarize(legs, strategy_spreads(legs))
    spreads = summary.get("spreads", {})

    def rounded(values: dict[str, Any]) -> dict[str, Any]:
        return {k: (round(v, 5) if isinstance(v, float) else v) for k, v in values.items()}

    return {
        "spreads": rounded(spreads.get("all", {})),
        "spreads_by_close": {k: rounded(v) for k, v in spreads.get("by_close", {}).items()},
        "legs": rounded(summary["legs"]["all"]),
        "note": "in-sample: measured on the quotes the fit used; spreads error is relative to the real mid",
    }
