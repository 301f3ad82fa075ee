"""Model prices against real quotes (SPEC 7.1 "validation is a command").

``price_legs`` asks a quote source for every quoted contract exactly as a backtest would
at that instant (its ``lookup``: no second implementation), with spot = the quote file's
``underlying_price`` when present, else the close of the last bar closed at that time.
``strategy_spreads`` builds the spreads this strategy trades from the same legs (long
leg = the quoted strike nearest spot, short leg 1-6 strikes out in the trade's direction:
calls up, puts down) and ``summarize`` gives the medians by minutes-to-close and
moneyness (legs) or width (spreads).

Errors: legs in dollars (model mid - real mid); spreads relative to the real spread mid,
``(model mid - real mid) / real mid``, for spreads whose real mid is at least
``MIN_SPREAD_MID`` (smaller mids make a ratio meaningless); half-spread error in dollars,
``(model natural - model mid) - (real natural - real mid)`` (for a single leg its half
width; for a spread the sum of its legs').
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from vwapcli.core.skips import Skip
from vwapcli.core.types import NEW_YORK, NS_PER_MINUTE, SessionedBars
from vwapcli.data.sessions import SessionCalendar
from vwapcli.errors import DataValidationError
from vwapcli.options.quotes import Quote, Right

LEG_COLUMNS = (
    "ts", "underlying", "expiration", "strike", "right", "bid", "ask",
    "spot", "model_bid", "model_ask", "model_mid", "model_iv",
)
REQUIRED_QUOTE_COLUMNS = ("ts", "underlying", "expiration", "strike", "right", "bid", "ask")
CLOSE_BUCKETS = ((0, 60, "<1h"), (60, 120, "1-2h"), (120, 240, "2-4h"), (240, 10_000, ">4h"))
MONEYNESS_BUCKETS = (
    (-np.inf, -0.5, "ITM >0.5%"),
    (-0.5, 0.0, "ITM 0-0.5%"),
    (0.0, 0.25, "OTM 0-0.25%"),
    (0.25, 0.5, "OTM 0.25-0.5%"),
    (0.5, 1.0, "OTM 0.5-1%"),
    (1.0, np.inf, "OTM >1%"),
)
SPREAD_WIDTHS = (1, 2, 3, 4, 5, 6)
MIN_SPREAD_MID = 0.05


@runtime_checkable
class LookupSource(Protocol):
    """A quote source with ``lookup`` (both model sources and the chain source have one)."""

    name: str

    def lookup(
        self, symbol: str, ts_ns: int, expiry: dt.date, strike: float, right: Right, spot: float
    ) -> Quote | Skip: ...


def _bucket(values: np.ndarray, buckets: tuple[tuple[float, float, str], ...]) -> np.ndarray:
    labels = np.full(values.shape[0], "", dtype=object)
    for low, high, label in buckets:
        labels[(values >= low) & (values < high)] = label
    return labels


def last_closed_bar_close(bars: SessionedBars, ts_ns: np.ndarray) -> np.ndarray:
    """Close of the last bar whose close time (start + interval) is at or before each ts."""
    close_time = bars.ts + bars.bar_ns
    index = np.searchsorted(close_time, ts_ns, side="right") - 1
    out = np.full(ts_ns.shape[0], np.nan)
    ok = index >= 0
    out[ok] = bars.close[index[ok]]
    return out


def price_legs(
    quotes: pd.DataFrame,
    source: LookupSource,
    bars: dict[str, SessionedBars] | None = None,
    calendar: SessionCalendar | None = None,
) -> pd.DataFrame:
    """The legs table: the input's contracts and quotes, then the model's, row for row.

    ``quotes`` needs ``ts`` (tz-aware), ``underlying``, ``expiration``, ``strike``,
    ``right``, ``bid``, ``ask`` and optionally ``underlying_price``; bid/ask are copied
    unchanged. Extra columns: ``minutes_to_close`` (to the expiry session's close),
    ``moneyness_pct`` (OTM-positive ``100·ln(K/S)``, sign flipped for puts), the two
    bucket labels and ``model_reason`` (why a row has no model quote).
    """
    missing = [c for c in REQUIRED_QUOTE_COLUMNS if c not in quotes.columns]
    if missing:
        raise DataValidationError(f"option quotes: missing column {missing[0]!r}")
    frame = quotes.reset_index(drop=True)
    ts = pd.DatetimeIndex(frame["ts"])
    if ts.tz is None:
        raise DataValidationError("option quotes: column 'ts' must be timezone-aware")
    ts_ns = ts.tz_convert("UTC").as_unit("ns").asi8
    symbols = frame["underlying"].astype(str).str.upper().to_numpy()
    spot = np.full(len(frame), np.nan)
    if "underlying_price" in frame.columns:
        spot = np.array(pd.to_numeric(frame["underlying_price"], errors="coerce"), dtype=np.float64)
    for symbol in np.unique(symbols):
        rows = np.flatnonzero((symbols == symbol) & ~np.isfinite(spot))
        if rows.shape[0] and bars is not None and symbol in bars:
            spot[rows] = last_closed_bar_close(bars[symbol], ts_ns[rows])
    expiry = pd.to_datetime(frame["expiration"]).dt.date.to_numpy()
    strike = frame["strike"].to_numpy(dtype=np.float64)
    right = frame["right"].astype(str).str.upper().to_numpy()
    n = len(frame)
    model_bid, model_ask, model_mid, model_iv = (np.full(n, np.nan) for _ in range(4))
    reason = np.full(n, "", dtype=object)
    for i in range(n):
        if not math.isfinite(spot[i]):
            reason[i] = "no_spot"
            continue
        answer = source.lookup(symbols[i], int(ts_ns[i]), expiry[i], float(strike[i]), right[i], float(spot[i]))
        if isinstance(answer, Skip):
            reason[i] = answer.reason.value
            continue
        model_bid[i], model_ask[i], model_mid[i] = answer.bid, answer.ask, answer.mid
        model_iv[i] = np.nan if answer.iv is None else answer.iv
    legs = pd.DataFrame(
        {
            "ts": frame["ts"],
            "underlying": symbols,
            "expiration": expiry,
            "strike": strike,
            "right": right,
            "bid": frame["bid"],
            "ask": frame["ask"],
            "spot": spot,
            "model_bid": model_bid,
            "model_ask": model_ask,
            "model_mid": model_mid,
            "model_iv": model_iv,
        }
    )
    close_ns = _expiry_close_ns(expiry, calendar or SessionCalendar())
    legs["minutes_to_close"] = (close_ns - ts_ns) / NS_PER_MINUTE
    sign = np.where(right == "C", 1.0, -1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        legs["moneyness_pct"] = 100.0 * sign * np.log(strike / spot)
    legs["close_bucket"] = _bucket(legs["minutes_to_close"].to_numpy(), CLOSE_BUCKETS)
    legs["moneyness_bucket"] = _bucket(legs["moneyness_pct"].to_numpy(), MONEYNESS_BUCKETS)
    legs["model_reason"] = reason
    return legs


def _expiry_close_ns(expiry: np.ndarray, calendar: SessionCalendar) -> np.ndarray:
    days = sorted(set(expiry.tolist()))
    dates, _, close = calendar.session_arrays(days[0] - dt.timedelta(days=7), days[-1])
    lookup = {}
    for day in days:
        i = int(np.searchsorted(dates, np.datetime64(day, "D"), side="right")) - 1
        lookup[day] = int(close[i])
    return np.array([lookup[d] for d in expiry.tolist()], dtype=np.int64)


def strategy_spreads(legs: pd.DataFrame) -> pd.DataFrame:
    """Spreads shaped like the strategy's at every quote time (module docstring).

    Long leg: the quoted strike nearest spot for that right (a tie goes up for calls,
    down for puts: towards the target, SPEC 7); short leg: the k-th quoted strike beyond
    it in the trade's direction, k = 1..6. Both legs need a real two-sided quote
    (ask > bid >= 0) and a model quote.
    """
    usable = legs[
        (legs["ask"] > legs["bid"]) & (legs["bid"] >= 0) & legs["model_mid"].notna()
    ]
    rows: list[dict[str, Any]] = []
    for (ts, symbol, expiry, right), group in usable.groupby(
        ["ts", "underlying", "expiration", "right"], sort=True
    ):
        group = group.sort_values("strike")
        strikes = group["strike"].to_numpy()
        spot = float(group["spot"].iloc[0])
        up = right == "C"
        distance = np.abs(strikes - spot)
        nearest = np.flatnonzero(distance == distance.min())
        long_i = int(nearest[-1] if up else nearest[0])
        bid = group["bid"].to_numpy()
        ask = group["ask"].to_numpy()
        mbid = group["model_bid"].to_numpy()
        mask = group["model_ask"].to_numpy()
        mmid = group["model_mid"].to_numpy()
        minutes = float(group["minutes_to_close"].iloc[0])
        for width in SPREAD_WIDTHS:
            short_i = long_i + width if up else long_i - width
            if not 0 <= short_i < strikes.shape[0]:
                continue
            real_mid = (bid[long_i] + ask[long_i]) / 2 - (bid[short_i] + ask[short_i]) / 2
            real_half = (ask[long_i] - bid[long_i]) / 2 + (ask[short_i] - bid[short_i]) / 2
            model_mid = mmid[long_i] - mmid[short_i]
            model_half = (mask[long_i] - mmid[long_i]) + (mmid[short_i] - mbid[short_i])
            rows.append(
                {
                    "ts": ts,
                    "underlying": symbol,
                    "expiration": expiry,
                    "right": right,
                    "spot": spot,
                    "k_long": strikes[long_i],
                    "k_short": strikes[short_i],
                    "width": width,
                    "minutes_to_close": minutes,
                    "real_mid": real_mid,
                    "model_mid": model_mid,
                    "real_half_spread": real_half,
                    "model_half_spread": model_half,
                }
            )
    spreads = pd.DataFrame(rows)
    if spreads.empty:
        return spreads
    spreads["close_bucket"] = _bucket(spreads["minutes_to_close"].to_numpy(), CLOSE_BUCKETS)
    spreads["rel_error"] = (spreads["model_mid"] - spreads["real_mid"]) / spreads["real_mid"]
    spreads.loc[spreads["real_mid"] < MIN_SPREAD_MID, "rel_error"] = np.nan
    spreads["half_spread_error"] = spreads["model_half_spread"] - spreads["real_half_spread"]
    return spreads


def _medians(frame: pd.DataFrame, error: str, half_error: str) -> dict[str, float | int]:
    values = frame[error].dropna()
    half = frame[half_error].dropna()
    return {
        "n": int(values.shape[0]),
        "median_abs_error": float(values.abs().median()) if len(values) else math.nan,
        "median_error": float(values.median()) if len(values) else math.nan,
        "median_abs_half_spread_error": float(half.abs().median()) if len(half) else math.nan,
    }


def summarize(legs: pd.DataFrame, spreads: pd.DataFrame) -> dict[str, Any]:
    """Median errors overall and by bucket, for single legs and strategy-shaped spreads.

    Legs: ``error`` = model mid - real mid (dollars), over legs with a real two-sided quote.
    Spreads: ``error`` = relative mid error (module docstring).
    """
    real = legs[(legs["ask"] > legs["bid"]) & (legs["bid"] >= 0) & legs["model_mid"].notna()].copy()
    real["error"] = real["model_mid"] - (real["bid"] + real["ask"]) / 2
    real["half_spread_error"] = (real["model_ask"] - real["model_bid"]) / 2 - (real["ask"] - real["bid"]) / 2
    summary: dict[str, Any] = {
        "legs": {
            "all": _medians(real, "error", "half_spread_error"),
            "by_close": {b: _medians(g, "error", "half_spread_error") for b, g in real.groupby("close_bucket")},
            "by_moneyness": {
                b: _medians(g, "error", "half_spread_error") for b, g in real.groupby("moneyness_bucket")
            },
            "unpriced": {str(k): int(v) for k, v in legs["model_reason"].value_counts().items() if k},
        },
    }
    if not spreads.empty:
        summary["spreads"] = {
            "all": _medians(spreads, "rel_error", "half_spread_error"),
            "by_close": {
                b: _medians(g, "rel_error", "half_spread_error") for b, g in spreads.groupby("close_bucket")
            },
            "by_width": {
                int(b): _medians(g, "rel_error", "half_spread_error") for b, g in spreads.groupby("width")
            },
            "by_right": {
                str(b): _medians(g, "rel_error", "half_spread_error") for b, g in spreads.groupby("right")
            },
        }
    return summary


def validate_quotes(
    quotes: pd.DataFrame,
    source: LookupSource,
    bars: dict[str, SessionedBars] | None = None,
    calendar: SessionCalendar | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """``(legs, spreads, summary)``: ``price_legs`` -> ``strategy_spreads`` -> ``summarize``,
    as ``vwapcli options validate`` and the bench run them."""
    legs = price_legs(quotes, source, bars, calendar)
    spreads = strategy_spreads(legs)
    return legs, spreads, summarize(legs, spreads)


def session_dates_of(quotes: pd.DataFrame) -> np.ndarray:
    """New York trade date of every quote row (for dev / hold-out splits)."""
    return pd.DatetimeIndex(quotes["ts"]).tz_convert(NEW_YORK).date


CLOSE_ORDER = tuple(label for _, _, label in CLOSE_BUCKETS)
MONEYNESS_ORDER = tuple(label for _, _, label in MONEYNESS_BUCKETS)
ErrorKind = Literal["legs", "spreads"]


def error_rows(summary: dict[str, Any], kind: ErrorKind, by: str) -> list[dict[str, Any]]:
    """One row per bucket of ``summary[kind][by]`` in display order, then ``all``.

    Each row: ``bucket``, ``n``, ``abs_error``, ``error`` (spreads: % of the real mid;
    legs: cents) and ``half_spread_error`` (cents): the layout of the validation table
    (``vwapcli options validate`` and ``bench/option_model_validation.py``).
    """
    part = summary.get(kind)
    if not part:
        return []
    groups: dict[Any, dict[str, Any]] = part.get(by, {})
    order = {"by_close": CLOSE_ORDER, "by_moneyness": MONEYNESS_ORDER}.get(by, tuple(sorted(groups)))
    scale = 100.0  # fractions -> %, dollars -> cents
    rows = []
    for bucket, medians in [*((b, groups[b]) for b in order if b in groups), ("all", part["all"])]:
        rows.append(
            {
                "bucket": str(bucket),
                "n": medians["n"],
                "abs_error": scale * medians["median_abs_error"],
                "error": scale * medians["median_error"],
                "half_spread_error": scale * medians["median_abs_half_spread_error"],
            }
        )
    return rows
