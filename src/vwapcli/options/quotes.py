"""Option quote sources behind one interface (SPEC 7): the BSM model and a real chain store.

Both answer ``quote(symbol, ts_ns, expiry, strike, right, spot) -> Quote | None`` and
``listed_strikes(symbol, ts_ns, expiry, right, spot) -> np.ndarray``. ``None`` means "no
trade", and the reason is logged on ``vwapcli.options``; ``lookup`` returns the same
answer with the reason as a value (a ``Skip``) for callers that record it.

Chain store layout (hive-style folders, one file per underlying, expiry and trade date)::

    <root>/options/underlying=SPY/expiry=2024-03-15/date=2024-03-14/part-0.parquet

with columns ``ts`` (timestamp[ns, UTC], quote time), ``strike``, ``right`` ("C"/"P"),
``bid``, ``ask`` and optionally ``bid_size``, ``ask_size``, ``iv``; the folder names carry
underlying, expiry and the New York trade date. A file is the unit of replacement:
writing a day again replaces that day's quotes for that expiry.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections import OrderedDict
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from vwapcli.atomic_write import atomic_write
from vwapcli.config import OptionsConfig
from vwapcli.core.skips import Skip, SkipReason
from vwapcli.core.types import NEW_YORK
from vwapcli.errors import DataValidationError, StoreError
from vwapcli.options.pricing import bs_price_scalar, round_to_cent, year_fraction
from vwapcli.options.strikes import MICROS_PER_DOLLAR, strike_grid
from vwapcli.options.volatility import VolatilityModel

log = logging.getLogger("vwapcli.options")

Right = Literal["C", "P"]
OPTION_QUOTE_COLUMNS = ("ts", "underlying", "expiry", "strike", "right", "bid", "ask")
OPTIONAL_QUOTE_COLUMNS = ("bid_size", "ask_size", "iv")
NS_PER_SECOND = 1_000_000_000
MIN_HALF_SPREAD = 0.005  # SPEC 7: half_spread = max(0.005, leg_spread_frac·mid/2)
# Model mode lists strikes this far either side of spot: far beyond any intraday target.
MODEL_STRIKE_SPAN_FRAC = 0.25


@dataclass(frozen=True, slots=True)
class Quote:
    """One option leg's market, dollars per share. ``iv`` is None when the source has none."""

    bid: float
    ask: float
    mid: float
    iv: float | None = None


@runtime_checkable
class QuoteSource(Protocol):
    """What the spread builder and the engine need from a source of option prices."""

    name: str

    def quote(
        self, symbol: str, ts_ns: int, expiry: dt.date, strike: float, right: Right, spot: float
    ) -> Quote | None: ...

    def listed_strikes(
        self, symbol: str, ts_ns: int, expiry: dt.date, right: Right, spot: float
    ) -> np.ndarray: ...


def new_york_date(ts_ns: int) -> dt.date:
    """The New York calendar date of a UTC nanosecond timestamp (the trade date).

    Whole seconds decide the date (floor division, so times before 1970 work too); the
    standard library's zoneinfo does the DST arithmetic in about a microsecond, which
    matters on the per-quote path.
    """
    return dt.datetime.fromtimestamp(int(ts_ns) // NS_PER_SECOND, tz=NEW_YORK).date()


def _leg_label(symbol: str, expiry: dt.date, strike: float, right: str) -> str:
    return f"{symbol} {expiry.isoformat()} {strike:g}{right}"


# --------------------------------------------------------------------------- model
def model_leg_quote(mid: float, leg_spread_frac: float) -> tuple[float, float]:
    """``(bid, ask)`` around a model mid (SPEC 7).

    ``half_spread = max(0.005, leg_spread_frac·mid/2)``; each side is rounded to $0.01
    (half a cent up, see ``round_to_cent``) and the bid is floored at 0. With mid 2.00 and
    5%: half_spread 0.05 -> 1.95 / 2.05.
    """
    half_spread = max(MIN_HALF_SPREAD, leg_spread_frac * mid / 2.0)
    bid = max(round_to_cent(mid - half_spread), 0.0)
    ask = round_to_cent(mid + half_spread)
    return bid, ask


class ModelQuoteSource:
    """Black-Scholes-Merton quotes from per-symbol vol models (the offline default).

    mid = BSM (``bs_price_scalar``, bit-equal to ``bs_price``) at ``T = year_fraction(ts, expiry)``
    with the symbol's r and q;
    ``Quote.mid`` is that unrounded model price, bid/ask are the rounded leg quotes.
    Strikes are the symbol's grid around spot.
    """

    name = "model"

    def __init__(
        self, options_config: OptionsConfig, vol_models: dict[str, VolatilityModel]
    ) -> None:
        self.config = options_config
        self.vol_models = vol_models
        # (rate, div_yield, strike_increment) per symbol: the config is frozen, and building
        # the per-symbol override model on every quote cost more than the pricing itself.
        self._symbol_terms: dict[str, tuple[float, float, float]] = {}

    def symbol_terms(self, symbol: str) -> tuple[float, float, float]:
        """``(rate, div_yield, strike_increment)`` for ``symbol``: its override, else the default."""
        terms = self._symbol_terms.get(symbol)
        if terms is None:
            params = self.config.for_symbol(symbol)
            rate = float(params.rate if params.rate is not None else self.config.rate)
            div_yield = float(params.div_yield if params.div_yield is not None else self.config.div_yield)
            increment = float(params.strike_increment or self.config.strike_increment)
            terms = self._symbol_terms[symbol] = (rate, div_yield, increment)
        return terms

    def lookup(
        self, symbol: str, ts_ns: int, expiry: dt.date, strike: float, right: Right, spot: float
    ) -> Quote | Skip:
        """The model quote, or why there is none (no vol model, too little vol history)."""
        model = self.vol_models.get(symbol)
        if model is None:
            return Skip(SkipReason.NO_VOL, f"no volatility model for {symbol}")
        trade_date = new_york_date(ts_ns)
        vol = model.vol_at(trade_date, strike, spot)
        if math.isnan(vol):
            return Skip(
                SkipReason.NO_VOL,
                f"{symbol} {trade_date}: fewer than {self.config.iv_lookback} prior daily closes"
                if self.config.iv_source == "realized"
                else f"{symbol} {trade_date}: no IV index value before this date",
            )
        rate, div_yield, _ = self.symbol_terms(symbol)
        mid = bs_price_scalar(spot, strike, year_fraction(ts_ns, expiry), rate, div_yield, vol, right)
        bid, ask = model_leg_quote(mid, self.config.leg_spread_frac)
        return Quote(bid=bid, ask=ask, mid=mid, iv=vol)

    def quote(
        self, symbol: str, ts_ns: int, expiry: dt.date, strike: float, right: Right, spot: float
    ) -> Quote | None:
        answer = self.lookup(symbol, ts_ns, expiry, strike, right, spot)
        if isinstance(answer, Skip):
            log.info("no model quote for %s: %s", _leg_label(symbol, expiry, strike, right), answer)
            return None
        return answer

    def listed_strikes(
        self, symbol: str, ts_ns: int, expiry: dt.date, right: Right, spot: float
    ) -> np.ndarray:
        """The ``strike_increment`` grid (per symbol) within 25% of spot."""
        increment = self.symbol_terms(symbol)[2]
        n = math.ceil(MODEL_STRIKE_SPAN_FRAC * spot / increment) + 1
        return strike_grid(spot, increment, n)


# --------------------------------------------------------------------------- chain store
def option_quotes_path(
    root: Path | str, underlying: str, expiry: dt.date, trade_date: dt.date
) -> Path:
    """The file that holds one underlying's quotes for one expiry on one trade date."""
    return (
        Path(root)
        / "options"
        / f"underlying={underlying}"
        / f"expiry={expiry.isoformat()}"
        / f"date={trade_date.isoformat()}"
        / "part-0.parquet"
    )


def _fail(source: str, rows: np.ndarray, rule: str) -> None:
    if rows.shape[0]:
        raise DataValidationError(f"{source}: row {int(rows[0])}: {rule}")


def write_option_quotes(
    root: Path | str, df: pd.DataFrame, source: str = "option quotes"
) -> list[Path]:
    """Validate and store option quotes, one atomic file per (underlying, expiry, trade date).

    Each file is written to a temporary name and renamed into place, so a reader sees the
    old day or the new day, never half of one; writing the same day again replaces it.
    Crossed or locked quotes are stored as they came (they are real data) and rejected
    at lookup time. Returns the files written, in sorted order.
    """
    missing = [c for c in OPTION_QUOTE_COLUMNS if c not in df.columns]
    if missing:
        raise DataValidationError(
            f"{source}: missing column {missing[0]!r} (need {', '.join(OPTION_QUOTE_COLUMNS)})"
        )
    frame = df.reset_index(drop=True)
    ts = frame["ts"]
    if not isinstance(ts.dtype, pd.DatetimeTZDtype):
        raise DataValidationError(
            f"{source}: column 'ts' must be timezone-aware timestamps (UTC), got {ts.dtype}"
        )
    ts_ns = ts.dt.tz_convert("UTC").dt.as_unit("ns").astype("int64").to_numpy()
    right = frame["right"].astype(str).str.strip().str.upper().to_numpy()
    _fail(source, np.flatnonzero(~np.isin(right, ["C", "P"])), "right must be 'C' or 'P'")
    strike = pd.to_numeric(frame["strike"], errors="coerce").to_numpy(dtype=np.float64)
    _fail(
        source,
        np.flatnonzero(~(np.isfinite(strike) & (strike > 0))),
        "strike must be a positive number",
    )
    for column in ("bid", "ask"):
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=np.float64)
        _fail(
            source,
            np.flatnonzero(~(np.isfinite(values) & (values >= 0))),
            f"{column} must be a finite price >= 0",
        )
    try:
        expiry = pd.to_datetime(frame["expiry"]).dt.date
    except (ValueError, TypeError):
        raise DataValidationError(f"{source}: column 'expiry' must hold dates") from None
    trade_date = ts.dt.tz_convert(NEW_YORK).dt.date
    late = np.flatnonzero((trade_date > expiry).to_numpy())
    _fail(source, late, "quote time is after its expiry date")
    stored = pd.DataFrame(
        {
            "ts": pd.to_datetime(ts_ns, utc=True).as_unit("ns"),
            "strike": strike,
            "right": right,
            "bid": frame["bid"].to_numpy(dtype=np.float64),
            "ask": frame["ask"].to_numpy(dtype=np.float64),
        }
    )
    for column in OPTIONAL_QUOTE_COLUMNS:
        if column in frame.columns:
            stored[column] = pd.to_numeric(frame[column], errors="coerce").to_numpy(
                dtype=np.float64
            )
    keys = pd.DataFrame(
        {
            "underlying": frame["underlying"].astype(str).str.upper(),
            "expiry": expiry,
            "date": trade_date,
        }
    )
    written: list[Path] = []
    for (underlying, exp, day), rows in keys.groupby(
        ["underlying", "expiry", "date"], sort=True
    ).groups.items():
        part = stored.loc[np.sort(np.asarray(rows))].sort_values(
            ["ts", "right", "strike"], kind="stable"
        )
        path = option_quotes_path(root, str(underlying), exp, day)
        table = pa.Table.from_pandas(part, preserve_index=False)
        atomic_write(path, partial(pq.write_table, table))
        written.append(path)
    return written


@dataclass(frozen=True)
class _DayChain:
    """One file's quotes, grouped by (right, strike in micro-dollars), each group time-sorted."""

    ts: np.ndarray
    bid: np.ndarray
    ask: np.ndarray
    iv: np.ndarray | None
    groups: dict[tuple[str, int], tuple[int, int]]
    first_ts: dict[tuple[str, int], int]


def _load_day(path: Path) -> _DayChain:
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowInvalid) as error:
        raise StoreError(f"{path}: unreadable option-quote file ({error})") from None
    frame = table.to_pandas()
    ts = frame["ts"].dt.tz_convert("UTC").dt.as_unit("ns").astype("int64").to_numpy()
    strike = np.rint(frame["strike"].to_numpy(dtype=np.float64) * MICROS_PER_DOLLAR).astype(
        np.int64
    )
    right = frame["right"].astype(str).to_numpy()
    is_call = (right == "C").astype(np.int64)
    order = np.lexsort((ts, strike, is_call))  # stable: equal times keep file order
    ts, strike, is_call = ts[order], strike[order], is_call[order]
    key_change = np.flatnonzero((np.diff(strike) != 0) | (np.diff(is_call) != 0)) + 1
    starts = np.concatenate([[0], key_change])
    ends = np.concatenate([key_change, [ts.shape[0]]])
    groups: dict[tuple[str, int], tuple[int, int]] = {}
    first_ts: dict[tuple[str, int], int] = {}
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        if a == b:
            continue
        key = ("C" if is_call[a] else "P", int(strike[a]))
        groups[key] = (a, b)
        first_ts[key] = int(ts[a])
    iv = frame["iv"].to_numpy(dtype=np.float64)[order] if "iv" in frame.columns else None
    return _DayChain(
        ts=ts,
        bid=frame["bid"].to_numpy(dtype=np.float64)[order],
        ask=frame["ask"].to_numpy(dtype=np.float64)[order],
        iv=iv,
        groups=groups,
        first_ts=first_ts,
    )


class ChainQuoteSource:
    """Real option quotes from the chain store, looked up as of the query time.

    The quote used is the last one with ``ts <= query ts`` on the same trade date; it is
    rejected when older than ``max_quote_age_seconds``, crossed (bid > ask) or locked
    (bid == ask). Listed strikes are those quoted for the expiry and right at or before
    the query time that day.
    """

    name = "chain"
    _CACHE_FILES = 32

    def __init__(self, store_root: Path | str, max_quote_age_seconds: float = 120.0) -> None:
        self.root = Path(store_root)
        self.max_age_ns = round(max_quote_age_seconds * 1e9)
        self._cache: OrderedDict[Path, _DayChain | None] = OrderedDict()

    def _day(self, symbol: str, expiry: dt.date, ts_ns: int) -> _DayChain | None:
        path = option_quotes_path(self.root, symbol.upper(), expiry, new_york_date(ts_ns))
        if path in self._cache:
            self._cache.move_to_end(path)
            return self._cache[path]
        chain = _load_day(path) if path.is_file() else None
        self._cache[path] = chain
        if len(self._cache) > self._CACHE_FILES:
            self._cache.popitem(last=False)
        return chain

    def lookup(
        self,
        symbol: str,
        ts_ns: int,
        expiry: dt.date,
        strike: float,
        right: Right,
        spot: float | None = None,
    ) -> Quote | Skip:
        """The as-of quote for one leg, or why it cannot be used."""
        label = _leg_label(symbol, expiry, strike, right)
        chain = self._day(symbol, expiry, ts_ns)
        if chain is None:
            return Skip(
                SkipReason.NO_QUOTE, f"{label}: no quotes stored for {new_york_date(ts_ns)}"
            )
        bounds = chain.groups.get((right, round(strike * MICROS_PER_DOLLAR)))
        if bounds is None:
            return Skip(SkipReason.NO_QUOTE, f"{label}: strike not quoted that day")
        a, b = bounds
        i = a + int(np.searchsorted(chain.ts[a:b], ts_ns, side="right")) - 1
        when = pd.Timestamp(int(ts_ns), tz="UTC").isoformat()
        if i < a:
            return Skip(SkipReason.NO_QUOTE, f"{label}: no quote at or before {when}")
        age_ns = int(ts_ns) - int(chain.ts[i])
        bid, ask = float(chain.bid[i]), float(chain.ask[i])
        if age_ns > self.max_age_ns:
            return Skip(
                SkipReason.STALE_QUOTE,
                f"{label}: last quote {age_ns / 1e9:g}s old at {when} (max {self.max_age_ns / 1e9:g}s)",
            )
        if bid > ask:
            return Skip(SkipReason.CROSSED_QUOTE, f"{label}: bid {bid:g} > ask {ask:g} at {when}")
        if bid == ask:
            return Skip(SkipReason.LOCKED_QUOTE, f"{label}: bid == ask == {bid:g} at {when}")
        iv = None
        if chain.iv is not None and math.isfinite(chain.iv[i]):
            iv = float(chain.iv[i])
        return Quote(bid=bid, ask=ask, mid=(bid + ask) / 2.0, iv=iv)

    def quote(
        self,
        symbol: str,
        ts_ns: int,
        expiry: dt.date,
        strike: float,
        right: Right,
        spot: float | None = None,
    ) -> Quote | None:
        answer = self.lookup(symbol, ts_ns, expiry, strike, right, spot)
        if isinstance(answer, Skip):
            log.info("no chain quote: %s", answer)
            return None
        return answer

    def listed_strikes(
        self, symbol: str, ts_ns: int, expiry: dt.date, right: Right, spot: float | None = None
    ) -> np.ndarray:
        """Strikes of ``right`` quoted for ``expiry`` at or before ``ts_ns`` that day, sorted."""
        chain = self._day(symbol, expiry, ts_ns)
        if chain is None:
            return np.empty(0, dtype=np.float64)
        micros = sorted(
            k for (r, k), first in chain.first_ts.items() if r == right and first <= ts_ns
        )
        return np.asarray(micros, dtype=np.float64) / MICROS_PER_DOLLAR
