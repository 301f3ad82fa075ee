"""Stage 2 of the engine: the spread a candidate trades and its prices (SPEC 7).

Pricing depends on the quote source, the listing schedule, the exchange sessions and
``dte`` only: never on slippage, sizing or the account. So one ``SpreadPricer`` serves
every engine on the same three sources (a backtest has one; the sweep shares one between
all configurations whose options block prices alike), and it remembers each answer by
the *values* it depends on, never by which object asked:

* an expiry by (symbol, trade date, dte);
* a spread by (symbol, direction, P, P_target, entry time, dte);
* a spread price by (open/close, the spread's symbol, right, expiry and strikes, time, spot);
* a candidate by its ``pricing_key`` (symbol, direction, P, P_target, entry and exit time,
  exit level), per dte.

Quotes are pure functions of those inputs, so a remembered answer is the answer. The
memory lives as long as the pricer (one run, or one sweep worker's data set).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np

from vwapcli.core.skips import Skip
from vwapcli.core.types import Signal
from vwapcli.engine.candidates import Candidate, PricingKey
from vwapcli.options.expirations import ExpiryChoice, ExpirySchedule, SessionDates, SessionsLike
from vwapcli.options.quotes import QuoteSource
from vwapcli.options.spreads import (
    DebitSpread,
    Side,
    SpreadPrice,
    price_spread,
    price_spreads,
    quote_spreads,
    rows_by_symbol,
    spread_at_expiry,
)

SpreadKey = tuple[str, str, float, float, int, int]


#: How a trade's exit was priced (the trade row's ``exit_priced_by``, SPEC 7 chain):
ExitPricedBy = Literal["quote", "model", "intrinsic"]
EXIT_BY_QUOTE: Final = "quote"  # the run's own quote source (always so in model mode)
EXIT_BY_MODEL: Final = "model"  # chain mode, no quote at the exit: the model at that instant
EXIT_BY_INTRINSIC: Final = "intrinsic"  # neither could price it (the model had no vol): last resort


@dataclass(frozen=True, slots=True)
class PricedCandidate:
    """A candidate's spread and its slippage-free prices per share (SPEC 7).

    ``exit_priced_by`` says where ``exit`` came from. In chain mode an exit with no usable
    quote is valued by the model at that instant (a real mid and natural: the fill rounds
    and slips as any other); only if the model cannot price it either is it the spread's
    intrinsic value at the exit level, held as both mid and natural and flagged so.
    """

    spread: DebitSpread
    entry: SpreadPrice
    exit: SpreadPrice
    exit_priced_by: ExitPricedBy = EXIT_BY_QUOTE

    @property
    def exit_quoted(self) -> bool:
        """The exit has a quote-based price (the run's source or the model fallback)."""
        return self.exit_priced_by != EXIT_BY_INTRINSIC


@dataclass(frozen=True)
class HeldTrades:
    """Spreads held from an entry to an exit, row by row: what :meth:`SpreadPricer.price_held`
    reads of one trade, for many (a symbol's candidates, a run's trades in model risk)."""

    spreads: Sequence[DebitSpread]
    entry_ts_ns: Sequence[int]
    entry_spots: Sequence[float]
    exit_ts_ns: Sequence[int]
    exit_spots: Sequence[float]


@dataclass(frozen=True)
class HeldPrices:
    """:meth:`SpreadPricer.price_held` of many trades as arrays (model risk fills them
    all at once): per trade the entry's and exit's mid and natural per share; where the
    entry could not be priced, ``priced`` is False and the prices NaN."""

    priced: np.ndarray  # bool
    entry_mid: np.ndarray
    entry_natural: np.ndarray
    exit_mid: np.ndarray
    exit_natural: np.ndarray
    exit_priced_by: np.ndarray  # object: an ExitPricedBy per priced trade

    @classmethod
    def of(cls, held: Sequence[PricedCandidate | Skip]) -> HeldPrices:
        """The arrays of ``price_held`` answers, row by row."""
        n = len(held)
        priced = np.array([not isinstance(answer, Skip) for answer in held], dtype=bool)
        prices = np.full((4, n), np.nan)
        exit_priced_by = np.full(n, EXIT_BY_QUOTE, dtype=object)
        for row, answer in enumerate(held):
            if not isinstance(answer, Skip):
                prices[:, row] = answer.entry.mid, answer.entry.natural, answer.exit.mid, answer.exit.natural
                exit_priced_by[row] = answer.exit_priced_by
        entry_mid, entry_natural, exit_mid, exit_natural = prices
        return cls(priced, entry_mid, entry_natural, exit_mid, exit_natural, exit_priced_by)


def intrinsic_spread_value(spread: DebitSpread, spot: float) -> float:
    """What the spread is worth at expiry with the underlying at ``spot``, in [0, width]."""
    if spread.right == "C":
        value = max(0.0, spot - spread.k_long) - max(0.0, spot - spread.k_short)
    else:
        value = max(0.0, spread.k_long - spot) - max(0.0, spread.k_short - spot)
    return float(min(max(value, 0.0), spread.width))


class SpreadPricer:
    """Prices candidates from one quote source, listing schedule and set of exchange
    sessions, remembering every answer by value (see the module docstring).

    ``exit_fallback`` (chain mode: the configured model) values an exit the quote source
    has no quote for (SPEC 7: "never intrinsic").
    """

    def __init__(
        self,
        quote_source: QuoteSource,
        schedule: ExpirySchedule,
        session_dates: Mapping[str, SessionsLike],
        exit_fallback: QuoteSource | None = None,
    ) -> None:
        self.quotes = quote_source
        self.exit_fallback = exit_fallback
        self.schedule = schedule
        self.session_dates: dict[str, SessionDates] = {
            symbol: dates if isinstance(dates, SessionDates) else SessionDates.of(dates)
            for symbol, dates in session_dates.items()
        }
        self._expiries: dict[tuple[str, dt.date, int], ExpiryChoice] = {}
        self._spreads: dict[SpreadKey, DebitSpread | Skip] = {}
        self._prices: dict[tuple[Side, DebitSpread, int, float], SpreadPrice | Skip] = {}
        self._candidates: dict[int, dict[PricingKey, PricedCandidate | Skip]] = {}

    def price(self, candidate: Candidate, dte: int) -> PricedCandidate | Skip:
        """The spread a candidate trades and its opening and closing mid/natural (SPEC 7).

        A Skip (no_strikes, no_quote, no_vol, ...) when it cannot be priced at entry. An
        exit without a usable quote (chain mode) is valued by ``exit_fallback``.
        """
        return self.price_for(dte)(candidate)

    def price_for(self, dte: int) -> Callable[[Candidate], PricedCandidate | Skip]:
        """``price`` with ``dte`` fixed: what an account walk calls once per priced candidate."""
        by_key = self._candidates.get(dte)
        if by_key is None:
            by_key = self._candidates[dte] = {}

        def price(candidate: Candidate) -> PricedCandidate | Skip:
            key = candidate.pricing_key
            priced = by_key.get(key)
            if priced is None:
                priced = by_key[key] = self._price(candidate, (*key[:5], dte))
            return priced

        return price

    def prices_of(self, candidates: Iterable[Candidate], dte: int) -> dict[PricingKey, PricedCandidate | Skip]:
        """Every candidate priced, by its ``pricing_key``: what a streamed run's symbol phase
        hands the account walk (SPEC 13), so the walk only looks prices up.

        The same answers as :meth:`price` one by one, priced together: the spreads one by
        one (strikes), their entries and exits through :meth:`price_held_many`.
        """
        by_key = self._candidates.setdefault(dte, {})
        todo: dict[PricingKey, tuple[Candidate, DebitSpread]] = {}
        answers: dict[PricingKey, PricedCandidate | Skip] = {}
        for candidate in candidates:
            key = candidate.pricing_key
            known = by_key.get(key)
            if known is not None:
                answers[key] = known
                continue
            if key in todo:
                continue
            spread = self._spread_of(candidate, (*key[:5], dte))
            if isinstance(spread, Skip):
                answers[key] = by_key[key] = spread
            else:
                todo[key] = (candidate, spread)
        held = self.price_held_many(HeldTrades(
            [spread for _, spread in todo.values()],
            [c.signal.entry_time_ns for c, _ in todo.values()],
            [c.signal.P for c, _ in todo.values()],
            [c.exit_time_ns for c, _ in todo.values()],
            [c.underlying_exit for c, _ in todo.values()],
        ))
        for key, priced in zip(todo, held, strict=True):
            answers[key] = by_key[key] = priced
        return answers

    def remember(self, dte: int, priced: Mapping[PricingKey, PricedCandidate | Skip]) -> None:
        """Take answers priced elsewhere (:meth:`prices_of` on a pricer over the same quote
        source, schedule and sessions) as this pricer's own: a lookup returns them as is."""
        self._candidates.setdefault(dte, {}).update(priced)

    def spread(self, signal: Signal, trade_date: dt.date, dte: int) -> DebitSpread | Skip:
        """The spread ``signal`` trades with ``dte`` sessions to expiry (SPEC 7 strikes)."""
        key: SpreadKey = (signal.symbol, signal.direction, signal.P, signal.P_target, signal.entry_time_ns, dte)
        found = self._spreads.get(key)
        if found is None:
            found = self._spreads[key] = self._spread(signal, trade_date, dte)
        return found

    def spread_prices(
        self,
        spreads: Sequence[DebitSpread],
        ts_ns: Sequence[int],
        spots: Sequence[float],
        side: Side,
        remember: bool = True,
    ) -> list[SpreadPrice | Skip]:
        """:meth:`spread_price` of many spreads: the remembered ones looked up, the rest
        priced together (``options.spreads.price_spreads``) and remembered.

        ``remember=False``: priced together and not remembered (a pricer that will not be
        asked again, such as model risk's at another vol level).
        """
        if not remember:
            return price_spreads(self.quotes, spreads, ts_ns, spots, side)
        keys = [(side, *row) for row in zip(spreads, ts_ns, spots, strict=True)]
        known = self._prices.get
        found = [known(key) for key in keys]  # one hash per key: a spread's hash is not cached
        missing = [i for i, answer in enumerate(found) if answer is None]
        if missing:
            priced = price_spreads(
                self.quotes, [spreads[i] for i in missing], [ts_ns[i] for i in missing],
                [spots[i] for i in missing], side,
            )
            for i, answer in zip(missing, priced, strict=True):
                self._prices[keys[i]] = found[i] = answer
        return [answer for answer in found if answer is not None]

    def spread_price(self, spread: DebitSpread, ts_ns: int, spot: float, side: Side) -> SpreadPrice | Skip:
        """Mid and natural for opening or closing ``spread`` at ``ts_ns`` with the underlying at ``spot``."""
        key = (side, spread, ts_ns, spot)
        found = self._prices.get(key)
        if found is None:
            found = self._prices[key] = price_spread(self.quotes, spread, ts_ns, spot, side)
        return found

    def expiry(self, symbol: str, trade_date: dt.date, dte: int) -> ExpiryChoice:
        """The listed expiry a trade on ``trade_date`` uses (SPEC 7: first with >= dte sessions)."""
        key = (symbol, trade_date, dte)
        found = self._expiries.get(key)
        if found is None:
            found = self._expiries[key] = self.schedule.expiry_for(
                symbol, trade_date, dte, self.session_dates[symbol]
            )
        return found

    def _spread(self, signal: Signal, trade_date: dt.date, dte: int) -> DebitSpread | Skip:
        choice = self.expiry(signal.symbol, trade_date, dte)
        return spread_at_expiry(
            signal.symbol, signal.direction, signal.P, signal.P_target, signal.entry_time_ns, choice, self.quotes
        )

    def _spread_of(self, candidate: Candidate, spread_key: SpreadKey) -> DebitSpread | Skip:
        spread = self._spreads.get(spread_key)
        if spread is None:
            spread = self._spreads[spread_key] = self._spread(candidate.signal, candidate.session_date, spread_key[-1])
        return spread

    def _price(self, candidate: Candidate, spread_key: SpreadKey) -> PricedCandidate | Skip:
        signal = candidate.signal
        spread = self._spread_of(candidate, spread_key)
        if isinstance(spread, Skip):
            return spread
        return self.price_held(spread, signal.entry_time_ns, signal.P, candidate.exit_time_ns, candidate.underlying_exit)

    def price_held(
        self, spread: DebitSpread, entry_ts_ns: int, entry_spot: float, exit_ts_ns: int, exit_spot: float
    ) -> PricedCandidate | Skip:
        """A given spread bought at the entry and sold at the exit: its opening and closing
        mid/natural (a Skip when the entry cannot be priced). An exit without a usable quote
        is valued by ``exit_fallback`` (SPEC 7 chain mode). Re-pricing a run's trades with
        another source (model risk) goes through here with the trade's own spread."""
        entry = self.spread_price(spread, entry_ts_ns, entry_spot, "open")
        if isinstance(entry, Skip):
            return entry
        exit_price = self.spread_price(spread, exit_ts_ns, exit_spot, "close")
        if isinstance(exit_price, Skip):
            return self._unquoted_exit(spread, entry, exit_ts_ns, exit_spot)
        return PricedCandidate(spread, entry, exit_price)

    def price_held_many(self, held: HeldTrades, remember: bool = True) -> list[PricedCandidate | Skip]:
        """:meth:`price_held` of many trades, row by row the same answers, their legs
        priced together (what pre-pricing a run's candidates and model risk call).
        ``remember`` as in :meth:`spread_prices`."""
        entries = self.spread_prices(held.spreads, held.entry_ts_ns, held.entry_spots, "open", remember)
        opened = [i for i, entry in enumerate(entries) if not isinstance(entry, Skip)]
        exits = self.spread_prices(
            [held.spreads[i] for i in opened], [held.exit_ts_ns[i] for i in opened],
            [held.exit_spots[i] for i in opened], "close", remember,
        )
        exit_of = dict(zip(opened, exits, strict=True))
        answers: list[PricedCandidate | Skip] = []
        for i, entry in enumerate(entries):
            if isinstance(entry, Skip):
                answers.append(entry)
                continue
            exit_price = exit_of[i]
            answers.append(
                self._unquoted_exit(held.spreads[i], entry, held.exit_ts_ns[i], held.exit_spots[i])
                if isinstance(exit_price, Skip) else PricedCandidate(held.spreads[i], entry, exit_price)
            )
        return answers

    def held_prices_at_vol_scales(self, held: HeldTrades, vol_scales: Sequence[float]) -> list[HeldPrices] | None:
        """:meth:`price_held_many` of many trades at each of ``vol_scales`` (SPEC 7.1 model
        risk), as a pricer on this source built with that vol level (and this pricer's exit
        fallback) would answer; nothing remembered. None: the source cannot price at other
        vol levels itself (no ``lookup_many``; ask a source built per scale instead).

        Why: only sigma changes with the scale, so all scales' legs of a symbol are priced
        in one array pass per side (``quote_spreads(vol_scales=)``), their sessions, clock
        times and carry computed once. An exit without a quote falls back as ``price_held``
        does (:meth:`exit_without_quote`, which no vol level changes).
        """
        if getattr(self.quotes, "lookup_many", None) is None:
            return None
        n_scales, n = len(vol_scales), len(held.spreads)
        prices = np.full((4, n_scales, n), np.nan)
        entry_priced = np.ones((n_scales, n), dtype=bool)
        exit_quoted = np.ones((n_scales, n), dtype=bool)
        for rows in rows_by_symbol(held.spreads).values():
            mine, columns = [held.spreads[row] for row in rows], np.asarray(rows)
            sides: tuple[tuple[Side, Sequence[int], Sequence[float], int, np.ndarray], ...] = (
                ("open", held.entry_ts_ns, held.entry_spots, 0, entry_priced),
                ("close", held.exit_ts_ns, held.exit_spots, 2, exit_quoted),
            )
            for side, times, spots, first, quoted in sides:
                answer = quote_spreads(
                    self.quotes, mine, [times[row] for row in rows], [spots[row] for row in rows], side, vol_scales
                )
                prices[first][:, columns] = answer.mid.reshape(n_scales, len(rows))  # rows scale-major
                prices[first + 1][:, columns] = answer.natural.reshape(n_scales, len(rows))
                for skipped in answer.skips:
                    quoted[skipped // len(rows), rows[skipped % len(rows)]] = False
        exit_priced_by = np.full((n_scales, n), EXIT_BY_QUOTE, dtype=object)
        fallbacks: dict[int, tuple[SpreadPrice, ExitPricedBy]] = {}
        for scale, row in zip(*(axis.tolist() for axis in np.nonzero(entry_priced & ~exit_quoted)), strict=True):
            found = fallbacks.get(row)
            if found is None:
                found = fallbacks[row] = self.exit_without_quote(
                    held.spreads[row], held.exit_ts_ns[row], held.exit_spots[row]
                )
            prices[2:, scale, row] = found[0].mid, found[0].natural
            exit_priced_by[scale, row] = found[1]
        prices[:, ~entry_priced] = np.nan
        entry_mid, entry_natural, exit_mid, exit_natural = prices
        return [
            HeldPrices(entry_priced[j], entry_mid[j], entry_natural[j], exit_mid[j], exit_natural[j], exit_priced_by[j])
            for j in range(n_scales)
        ]

    def _unquoted_exit(
        self, spread: DebitSpread, entry: SpreadPrice, exit_ts_ns: int, exit_spot: float
    ) -> PricedCandidate:
        exit_price, priced_by = self.exit_without_quote(spread, exit_ts_ns, exit_spot)
        return PricedCandidate(spread, entry, exit_price, priced_by)

    def exit_without_quote(
        self, spread: DebitSpread, exit_ts_ns: int, exit_spot: float
    ) -> tuple[SpreadPrice, ExitPricedBy]:
        """SPEC 7 chain mode, no quote at the exit: the model's price at that instant (the
        exit is forced by the underlying; a trader still gets a market, not the payoff at
        expiry). Intrinsic only when the model cannot price it either, flagged."""
        if self.exit_fallback is not None:
            modelled = price_spread(self.exit_fallback, spread, exit_ts_ns, exit_spot, "close")
            if not isinstance(modelled, Skip):
                return modelled, EXIT_BY_MODEL
        intrinsic = intrinsic_spread_value(spread, exit_spot)
        return SpreadPrice(intrinsic, intrinsic), EXIT_BY_INTRINSIC
