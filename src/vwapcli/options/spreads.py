"""Debit spreads: build one from a signal, price it, fill it (SPEC 7).

A LONG signal buys a call debit spread (long ``K_long`` call, short the higher
``K_short`` call); a SHORT signal buys a put debit spread (long ``K_long`` put, short the
lower ``K_short`` put). All prices are dollars per share; one contract is 100 shares.

Fills: spread mid ``m`` and natural ``n`` (open: pay the long leg's ask, receive the
short leg's bid; close: the reverse). ``fill = m + slippage·(n - m)``, rounded to $0.01,
clipped to ``[0.01, width - 0.01]``. Commission per contract per leg is the engine's
business, not this module's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np

from vwapcli.core.skips import Skip, SkipReason
from vwapcli.core.types import MICROS_PER_DOLLAR, Direction
from vwapcli.options.expirations import ExpiryChoice, ExpirySchedule, SessionsLike
from vwapcli.options.pricing import round_to_cent, round_to_cents
from vwapcli.options.quotes import LegQuotes, Quote, QuoteSource, Right
from vwapcli.options.strikes import NoStrikeError, choose_strikes

Side = Literal["open", "close"]
MIN_FILL = 0.01  # SPEC 7: fills are clipped to [0.01, width - 0.01]


@dataclass(frozen=True, slots=True)
class DebitSpread:
    """A vertical debit spread on one expiry; ``note`` carries the expiry choice's note."""

    symbol: str
    right: Right
    expiry: dt.date
    k_long: float
    k_short: float
    width: float  # |k_short - k_long|, the most the spread can be worth
    note: str | None = None

    def __str__(self) -> str:
        return (
            f"{self.symbol} {self.expiry.isoformat()} {self.k_long:g}/{self.k_short:g}{self.right}"
        )


@dataclass(frozen=True, slots=True)
class SpreadPrice:
    """Spread mid and natural per share; ``iv_long`` is the long leg's vol when known."""

    mid: float
    natural: float
    iv_long: float | None = None


@dataclass(frozen=True, slots=True)
class SpreadFill:
    """A filled spread: ``price`` is the debit paid (open) or credit received (close)."""

    price: float
    mid: float
    natural: float
    iv_long: float | None = None


def _micros(value: float) -> int:
    return round(value * MICROS_PER_DOLLAR)


def build_spread(
    symbol: str,
    direction: Direction,
    P: float,
    P_target: float,
    ts_ns: int,
    trade_date: dt.date,
    session_dates: SessionsLike,
    source: QuoteSource,
    schedule: ExpirySchedule,
    dte: int,
) -> DebitSpread | Skip:
    """The spread a signal trades: right by direction, expiry by schedule, strikes by SPEC 7.

    ``P`` (the trigger bar's close) is the spot used to list model strikes.
    """
    choice = schedule.expiry_for(symbol, trade_date, dte, session_dates)
    return spread_at_expiry(symbol, direction, P, P_target, ts_ns, choice, source)


def spread_at_expiry(
    symbol: str,
    direction: Direction,
    P: float,
    P_target: float,
    ts_ns: int,
    choice: ExpiryChoice,
    source: QuoteSource,
) -> DebitSpread | Skip:
    """:func:`build_spread` once the expiry is chosen: the right and the SPEC 7 strikes."""
    if direction not in ("LONG", "SHORT"):
        raise ValueError(f"direction must be LONG or SHORT, got {direction!r}")
    right: Right = "C" if direction == "LONG" else "P"
    listed = source.listed_strikes(symbol, ts_ns, choice.expiry, right, P)
    try:
        k_long, k_short = choose_strikes(direction, P, P_target, listed)
    except NoStrikeError as error:
        return Skip(SkipReason.NO_STRIKES, f"{symbol} {choice.expiry.isoformat()} {right}: {error}")
    width = abs(_micros(k_short) - _micros(k_long)) / MICROS_PER_DOLLAR
    return DebitSpread(symbol, right, choice.expiry, k_long, k_short, width, choice.note)


def _leg(
    source: QuoteSource, spread: DebitSpread, ts_ns: int, strike: float, spot: float
) -> Quote | Skip:
    lookup = getattr(source, "lookup", None)
    if lookup is not None:
        answer = lookup(spread.symbol, ts_ns, spread.expiry, strike, spread.right, spot)
        return answer
    quote = source.quote(spread.symbol, ts_ns, spread.expiry, strike, spread.right, spot)
    if quote is None:
        return Skip(
            SkipReason.NO_QUOTE, f"{spread.symbol} {spread.expiry.isoformat()} {strike:g}{spread.right}"
        )
    return quote


def price_spread(
    source: QuoteSource, spread: DebitSpread, ts_ns: int, spot: float, side: Side
) -> SpreadPrice | Skip:
    """Mid and natural for opening (buying) or closing (selling) the spread, or why not."""
    long_leg = _leg(source, spread, ts_ns, spread.k_long, spot)
    if isinstance(long_leg, Skip):
        return long_leg
    short_leg = _leg(source, spread, ts_ns, spread.k_short, spot)
    if isinstance(short_leg, Skip):
        return short_leg
    mid = long_leg.mid - short_leg.mid
    # Open: pay the long leg's ask, receive the short leg's bid; close: the reverse.
    natural = long_leg.ask - short_leg.bid if side == "open" else long_leg.bid - short_leg.ask
    # Leg quotes are whole cents, so rounding the natural to cents only strips float noise.
    return SpreadPrice(mid=mid, natural=round_to_cent(natural), iv_long=long_leg.iv)


def price_spreads(
    source: QuoteSource, spreads: Sequence[DebitSpread], ts_ns: Sequence[int], spots: Sequence[float], side: Side
) -> list[SpreadPrice | Skip]:
    """:func:`price_spread` of many spreads, row by row the same answers.

    A source with ``lookup_many`` (the session model) prices every leg of a symbol in one
    array call (:func:`quote_spreads`); any other source is asked leg by leg as
    :func:`price_spread` does.
    """
    if getattr(source, "lookup_many", None) is None:
        return [price_spread(source, *row, side) for row in zip(spreads, ts_ns, spots, strict=True)]
    answers: list[SpreadPrice | Skip | None] = [None] * len(spreads)
    for rows in rows_by_symbol(spreads).values():
        quoted = quote_spreads(
            source, [spreads[row] for row in rows], [ts_ns[row] for row in rows], [spots[row] for row in rows], side
        )
        for row, mid, natural, iv in zip(
            rows, quoted.mid.tolist(), quoted.natural.tolist(), quoted.iv_long.tolist(), strict=True
        ):
            answers[row] = SpreadPrice(mid=mid, natural=natural, iv_long=iv)
        for j, skip in quoted.skips.items():
            answers[rows[j]] = skip
    return [answer for answer in answers if answer is not None]


def rows_by_symbol(spreads: Sequence[DebitSpread]) -> dict[str, list[int]]:
    """The rows of ``spreads`` per symbol, in order (what :func:`quote_spreads` prices together)."""
    rows_of: dict[str, list[int]] = {}
    for row, spread in enumerate(spreads):
        rows_of.setdefault(spread.symbol, []).append(row)
    return rows_of


@dataclass(frozen=True)
class SpreadQuotes:
    """Many spreads' :class:`SpreadPrice` as arrays; a row in ``skips`` has NaN prices and
    that reason (the long leg's first, as :func:`price_spread`)."""

    mid: np.ndarray
    natural: np.ndarray
    iv_long: np.ndarray
    skips: dict[int, Skip]


def quote_spreads(
    source: QuoteSource,
    spreads: Sequence[DebitSpread],
    ts_ns: Sequence[int],
    spots: Sequence[float],
    side: Side,
    vol_scales: Sequence[float] | None = None,
) -> SpreadQuotes:
    """:func:`price_spread` of many spreads on one symbol through ``source.lookup_many``
    (both legs of every spread in one array call), the same bits as arrays.

    ``vol_scales``: every spread priced at each of these vol-level multipliers instead of
    the source's own (SPEC 7.1 model risk; the source's ``lookup_many`` must take them):
    rows scale-major, row ``j·n + i`` is spread ``i`` at ``vol_scales[j]``.
    """
    n = len(spreads)
    n_scales = 1 if vol_scales is None else len(vol_scales)
    if n == 0 or n_scales == 0:
        empty = np.empty(0)
        return SpreadQuotes(empty, empty, empty, {})
    times = np.asarray(ts_ns, dtype=np.int64)
    by_scale = {} if vol_scales is None else {"vol_scales": vol_scales}
    legs: LegQuotes = source.lookup_many(  # type: ignore[attr-defined]
        spreads[0].symbol,
        np.concatenate([times, times]),
        [spread.expiry for spread in spreads] * 2,
        np.array([spread.k_long for spread in spreads] + [spread.k_short for spread in spreads], dtype=np.float64),
        np.array([spread.right for spread in spreads] * 2),
        np.array(list(spots) * 2, dtype=np.float64),
        **by_scale,
    )
    # Legs come back scale-major too: per scale, the n long legs then the n short legs.
    long_rows = (np.arange(n_scales)[:, None] * 2 * n + np.arange(n)).ravel()
    short_rows = long_rows + n
    # As price_spread: open pays the long ask and receives the short bid; close reverses.
    if side == "open":
        raw = legs.ask[long_rows] - legs.bid[short_rows]
    else:
        raw = legs.bid[long_rows] - legs.ask[short_rows]
    skips: dict[int, Skip] = {}
    for leg_row in sorted(legs.skips):  # within a scale the long legs come first: their reason wins
        scale, within = divmod(leg_row, 2 * n)
        skips.setdefault(scale * n + within % n, legs.skips[leg_row])
    # Leg quotes are whole cents, so rounding the natural to cents only strips float noise.
    return SpreadQuotes(legs.mid[long_rows] - legs.mid[short_rows], round_to_cents(raw), legs.iv[long_rows], skips)


def price_spread_open(
    source: QuoteSource, spread: DebitSpread, ts_ns: int, spot: float
) -> SpreadPrice | None:
    """Opening price: mid = mid_long - mid_short, natural = ask_long - bid_short (None: no quote)."""
    price = price_spread(source, spread, ts_ns, spot, "open")
    return None if isinstance(price, Skip) else price


def price_spread_close(
    source: QuoteSource, spread: DebitSpread, ts_ns: int, spot: float
) -> SpreadPrice | None:
    """Closing price: mid = mid_long - mid_short, natural = bid_long - ask_short (None: no quote)."""
    price = price_spread(source, spread, ts_ns, spot, "close")
    return None if isinstance(price, Skip) else price


def fill_price(price: SpreadPrice, slippage: float, width: float) -> float:
    """``round(m + slippage·(n - m), $0.01)`` clipped to ``[0.01, width - 0.01]`` (SPEC 7).

    Rounding is half a cent up (``round_to_cent``): m 1.23, n 1.24, slippage 0.5 -> 1.24.
    """
    if not 0.0 <= slippage <= 1.0:
        raise ValueError(f"slippage must be in [0, 1], got {slippage}")
    raw = price.mid + slippage * (price.natural - price.mid)
    return max(MIN_FILL, min(round_to_cent(raw), _fill_ceiling(width)))


def fill_prices(mid: np.ndarray, natural: np.ndarray, slippage: float, width: np.ndarray) -> np.ndarray:
    """:func:`fill_price` of many spreads, the very same bits, as arrays (model risk).

    The same operations in the same order; the cent rounding by ``round_to_cents`` (the
    exact twin of ``round_to_cent``); ``min``/``max`` as Python's builtins decide them
    (the first argument unless the second is strictly smaller/larger), NaN included.
    """
    if not 0.0 <= slippage <= 1.0:
        raise ValueError(f"slippage must be in [0, 1], got {slippage}")
    mid = np.asarray(mid, dtype=np.float64)
    rounded = round_to_cents(mid + slippage * (np.asarray(natural, dtype=np.float64) - mid))
    ceiling = round_to_cents(np.asarray(width, dtype=np.float64) - MIN_FILL)
    capped = np.where(ceiling < rounded, ceiling, rounded)
    return np.where(capped > MIN_FILL, capped, MIN_FILL)


@lru_cache(maxsize=1024)
def _fill_ceiling(width: float) -> float:
    # round_to_cent(width - 0.01), once per width: a sweep fills millions of spreads of few widths.
    return round_to_cent(width - MIN_FILL)


def check_max_debit(debit: float, width: float, max_debit_frac: float) -> Skip | None:
    """Skip when the debit exceeds ``max_debit_frac·width`` (equal is allowed).

    Compared in micro-dollars: ``0.7 * 3.0`` is 2.0999999999999996 in binary, and a 2.10
    debit must not be skipped for being "above" it.
    """
    cap = _micros(max_debit_frac * width)
    if _micros(debit) > cap:
        return Skip(
            SkipReason.DEBIT_TOO_HIGH, f"debit {debit:.2f} > {max_debit_frac:g} x width {width:g}"
        )
    return None


def open_spread(
    source: QuoteSource,
    spread: DebitSpread,
    ts_ns: int,
    spot: float,
    slippage: float,
    max_debit_frac: float,
) -> SpreadFill | Skip:
    """Price and fill the opening debit, skipping (with the reason) above the debit cap."""
    price = price_spread(source, spread, ts_ns, spot, "open")
    if isinstance(price, Skip):
        return price
    debit = fill_price(price, slippage, spread.width)
    too_high = check_max_debit(debit, spread.width, max_debit_frac)
    if too_high is not None:
        return too_high
    return SpreadFill(debit, price.mid, price.natural, price.iv_long)


def close_spread(
    source: QuoteSource, spread: DebitSpread, ts_ns: int, spot: float, slippage: float
) -> SpreadFill | Skip:
    """Price and fill the closing credit (``Skip`` when a leg has no usable quote)."""
    price = price_spread(source, spread, ts_ns, spot, "close")
    if isinstance(price, Skip):
        return price
    return SpreadFill(
        fill_price(price, slippage, spread.width), price.mid, price.natural, price.iv_long
    )
