"""Small seeded bar sets and session tables for the option-model tests (no store needed)."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd

from vwapcli.config import OptionsConfig
from vwapcli.core.types import NS_PER_MINUTE, SessionedBars, timeframe_ns
from vwapcli.data.sessions import SessionCalendar, assign_session_arrays
from vwapcli.options.calibration_file import CalibrationParams
from vwapcli.options.session_model import CalibratedQuoteSource, SessionVolModel
from vwapcli.options.variance_clock import SessionTable


def session_table(start: str, end: str) -> SessionTable:
    """The NYSE sessions (dates, open ns, close ns) between two dates, from exchange-calendars."""
    return SessionCalendar().session_arrays(start, end)


def random_walk_bars(
    start: str,
    end: str,
    timeframe: str = "5m",
    seed: int = 7,
    bar_vol: float = 0.001,
    gap_vol: float = 0.004,
    symbol: str = "SPY",
) -> SessionedBars:
    """Every bar of every NYSE session in [start, end]: a seeded log random walk.

    Within a session each bar opens at the previous close and moves by N(0, bar_vol²) (the
    first bar of the session is scaled by 2 so the profile has an open spike); each session
    opens N(0, gap_vol²) away from the previous close.
    """
    rng = np.random.default_rng(seed)
    _, open_ns, close_ns = SessionCalendar().session_arrays(start, end)
    bar_ns = timeframe_ns(timeframe)
    ts_parts, open_parts, close_parts = [], [], []
    price = 500.0
    for o, c in zip(open_ns, close_ns, strict=True):
        starts = np.arange(o, c, bar_ns, dtype=np.int64)
        price *= float(np.exp(rng.normal(0.0, gap_vol)))
        moves = rng.normal(0.0, bar_vol, starts.shape[0])
        moves[0] *= 2.0
        closes = price * np.exp(np.cumsum(moves))
        opens = np.concatenate([[price], closes[:-1]])
        price = float(closes[-1])
        ts_parts.append(starts)
        open_parts.append(opens)
        close_parts.append(closes)
    ts = np.concatenate(ts_parts)
    opens = np.concatenate(open_parts)
    closes = np.concatenate(close_parts)
    high = np.maximum(opens, closes)
    low = np.minimum(opens, closes)
    volume = np.full(ts.shape[0], 1000.0)
    return assign_session_arrays(ts, opens, high, low, closes, volume, symbol, timeframe)


def new_york_ns(day: str, clock: str) -> int:
    """UTC ns of a New York wall-clock time ("HH:MM") on a date."""
    from vwapcli.core.types import local_time_ns

    hour, minute = (int(part) for part in clock.split(":"))
    return local_time_ns(dt.date.fromisoformat(day), dt.time(hour, minute))


MINUTE = NS_PER_MINUTE


TRUE = CalibrationParams(
    overnight_share=0.5,
    level={"premium": 1.3, "gap_weight": 0.4},
    smile={"skew": -0.08, "curvature": 0.04, "bound": 4.0},
    spread={"tick": 0.01, "wide": 0.25, "half_point": 1.8, "steepness": 4.0},
)


def synthetic_quotes(seed: int = 1) -> tuple[pd.DataFrame, SessionedBars]:
    """Quotes made by the model with TRUE parameters, mids with 1% lognormal noise.

    12 sessions, a snapshot every 30 minutes 09:45-15:15, strikes spot ± 8 ($1 grid), calls
    and puts; spot = the last closed 5-minute bar; width = the model's own tick width.
    """
    bars = random_walk_bars("2024-01-02", "2024-06-28", "5m", seed=seed, gap_vol=0.008)
    source = CalibratedQuoteSource(OptionsConfig.model_validate({}), {"SPY": SessionVolModel.from_bars(TRUE, bars)})
    rng = np.random.default_rng(seed)
    rows = []
    days = [d.astype(dt.date) for d in bars.session_date[-12:]]
    for day in days:
        for minutes in range(15, 350, 30):
            ts = pd.Timestamp(dt.datetime.combine(day, dt.time(9, 30)), tz="America/New_York") + pd.Timedelta(minutes=minutes)
            ts_ns = int(ts.value)
            spot = float(bars.close[int(np.searchsorted(bars.ts + bars.bar_ns, ts_ns, side="right")) - 1])
            for strike in np.arange(round(spot) - 8, round(spot) + 9, 1.0):
                for right in ("C", "P"):
                    quote = source.quote("SPY", ts_ns, day, float(strike), right, spot)
                    assert quote is not None
                    mid = quote.mid * math.exp(rng.normal(0.0, 0.01))
                    half = (quote.ask - quote.bid) / 2
                    rows.append((ts.tz_convert("UTC"), "SPY", day, strike, right, mid - half, mid + half, spot))
    columns = ["ts", "underlying", "expiration", "strike", "right", "bid", "ask", "underlying_price"]
    return pd.DataFrame(rows, columns=columns), bars
