"""Option-quote frames for the chain store and the chain quote source (SPEC 7)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

EXPIRY = dt.date(2024, 3, 15)


def option_quotes(rows: list[tuple[str, float, str, float, float]]) -> pd.DataFrame:
    """One row per (New York time, strike, right, bid, ask): SPY quotes for ``EXPIRY``."""
    return pd.DataFrame(
        {
            "ts": pd.to_datetime([r[0] for r in rows])
            .tz_localize("America/New_York")
            .tz_convert("UTC"),
            "underlying": "SPY",
            "expiry": EXPIRY,
            "strike": [r[1] for r in rows],
            "right": [r[2] for r in rows],
            "bid": [r[3] for r in rows],
            "ask": [r[4] for r in rows],
        }
    )


ROWS = [
    ("2024-03-15 14:58:00", 500.0, "C", 0.90, 1.00),
    ("2024-03-15 14:59:00", 500.0, "C", 1.00, 1.10),  # the as-of quote at 15:00
    ("2024-03-15 15:00:30", 500.0, "C", 2.00, 2.10),  # after the query: never used
    ("2024-03-15 14:55:00", 501.0, "C", 0.50, 0.55),  # 300 s old at 15:00 -> stale
    ("2024-03-15 14:59:30", 502.0, "C", 0.30, 0.25),  # crossed
    ("2024-03-15 14:59:30", 503.0, "C", 0.20, 0.20),  # locked
    ("2024-03-15 15:00:00", 504.0, "C", 0.10, 0.12),  # exactly at the query time: usable
    ("2024-03-15 14:59:00", 500.0, "P", 1.50, 1.60),
]


def quote_file_frame(
    rows: list[tuple[str, float, str, float, float]],
    underlying_price: float | None = 500.0,
    expiration: dt.date = EXPIRY,
    underlying: str = "SPY",
) -> pd.DataFrame:
    """A quote file in the layout of ``shared/data/real/options/*quotes*.parquet``: one row per
    (New York time, strike, right, bid, ask); ``underlying_price`` None leaves the column out."""
    frame = pd.DataFrame(
        {
            "ts": pd.to_datetime([r[0] for r in rows]).tz_localize("America/New_York").tz_convert("UTC"),
            "underlying": underlying,
            "expiration": expiration,
            "strike": [r[1] for r in rows],
            "right": [r[2] for r in rows],
            "bid": [r[3] for r in rows],
            "ask": [r[4] for r in rows],
        }
    )
    if underlying_price is not None:
        frame["underlying_price"] = underlying_price
    return frame
