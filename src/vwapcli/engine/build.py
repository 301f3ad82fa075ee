"""The one place a run's config becomes an engine (backtest, sweep, and next paper trading).

``build_engine(config, market_data, store)`` chooses the quote source the config names
(``configured_quote_source`` -> ``vwapcli.options.source_choice.build_quote_source``: the
SPEC 7.1 session-vol model or the flat model on the bars' own history, or the chain
store), loads the listing schedule, and takes exchange sessions from the calendar. Callers that re-price a run with another quote source pass ``quote_source``;
the sweep passes a ``pricer`` it shares between configurations that price alike.

A streamed run (SPEC 13) never holds every symbol's bars at once: ``symbol_pricing`` keeps
what pricing needs from one symbol's bars (its option model and its first and last
session) while they are loaded, and ``universe_pricer`` / ``universe_quote_source`` build
the same pricer and sources from those, by the same functions, so prices are identical.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from vwapcli.app_config import AppConfig
from vwapcli.core.types import SessionedBars
from vwapcli.engine.engine import Engine
from vwapcli.engine.pricing import SpreadPricer
from vwapcli.options.expirations import ExpirySchedule, SessionDates
from vwapcli.options.quotes import QuoteSource
from vwapcli.options.source_choice import (
    SymbolModel,
    build_quote_source,
    chain_quote_source,
    model_quote_source,
    symbol_model,
)


def build_engine(
    config: AppConfig,
    market_data: Mapping[str, SessionedBars],
    store: Path,
    *,
    quote_source: QuoteSource | None = None,
    pricer: SpreadPricer | None = None,
) -> Engine:
    """An engine for ``config`` on ``market_data``; ``store`` holds the IV index or chain quotes."""
    if pricer is None:
        pricer = build_pricer(config, market_data, store, quote_source=quote_source)
    return Engine(config, pricer)


def build_pricer(
    config: AppConfig,
    market_data: Mapping[str, SessionedBars],
    store: Path,
    *,
    quote_source: QuoteSource | None = None,
) -> SpreadPricer:
    """The configured quote source, listing schedule and exchange sessions, priced together.

    In chain mode the configured model stands behind the chain for exits it has no quote
    for (SPEC 7).
    """
    return _pricer(
        config,
        quote_source if quote_source is not None else configured_quote_source(config, market_data, store),
        lambda: configured_quote_source(config, market_data, store, model=True),
        exchange_sessions(config.data.calendar, market_data),
    )


def _pricer(
    config: AppConfig,
    source: QuoteSource,
    model_source: Callable[[], QuoteSource],
    sessions: Mapping[str, SessionDates],
) -> SpreadPricer:
    """``source`` with the listing schedule and ``sessions``; in chain mode the configured
    model (built only then) prices the exits the chain has no quote for (SPEC 7)."""
    expirations = config.options.expirations_file
    return SpreadPricer(
        source,
        ExpirySchedule.load(Path(expirations) if expirations else None),
        sessions,
        exit_fallback=model_source() if config.options.pricing_source == "chain" else None,
    )


def configured_quote_source(
    config: AppConfig,
    market_data: Mapping[str, SessionedBars],
    store: Path,
    *,
    model: bool = False,
    vol_scale: float = 1.0,
) -> QuoteSource:
    """The quote source a run with ``config`` prices with: the one object every caller
    (backtest, sweep, ``vwapcli options validate``, model-risk re-pricing) gets.

    ``model=True`` gives the configured model even in chain mode (chain mode's exit
    fallback; what ``validate`` judges); ``vol_scale`` multiplies its vol (SPEC 7.1 model risk).
    """
    options = config.options
    if model and options.pricing_source != "model":
        options = options.model_copy(update={"pricing_source": "model"})
    return build_quote_source(
        options, market_data, store, calendar_code=config.data.calendar, vol_scale=vol_scale
    )


def exchange_sessions(calendar_code: str, market_data: Mapping[str, SessionedBars]) -> dict[str, SessionDates]:
    """Exchange sessions (not just days with bars) from each symbol's first day to the
    calendar's last, prepared for expiry look-ups."""
    return exchange_sessions_spanning(calendar_code, {symbol: _span(bars) for symbol, bars in market_data.items()})


SessionSpan = tuple[dt.date, dt.date]


def _span(bars: SessionedBars) -> SessionSpan | None:
    if not bars.n_sessions:
        return None
    first, last = bars.session_date[[0, -1]].astype("datetime64[D]").tolist()
    return first, last


def exchange_sessions_spanning(
    calendar_code: str, spans: Mapping[str, SessionSpan | None]
) -> dict[str, SessionDates]:
    """:func:`exchange_sessions` from each symbol's first session (None: no sessions),
    which is all it reads of the bars.

    Every list runs to the calendar's last session (about a year past today), not to a
    margin past the data: an expiry chosen near the data's end counts real sessions (SPEC 7
    dte) and sees real listings, and a symbol's expiries never depend on which other
    symbols share the run. So each symbol's candidates can be priced in its own task
    (SPEC 13), before the universe is known, with the walk's very answers.
    """
    from vwapcli.data.sessions import SessionCalendar

    firsts = {symbol: span[0] for symbol, span in spans.items() if span is not None}
    if not firsts:
        return {}
    calendar = SessionCalendar(calendar_code)
    start = min(firsts.values())
    sessions = SessionDates.of(calendar.session_arrays(start, calendar.last_session)[0])
    return dict.fromkeys(spans, sessions)


@dataclass(frozen=True)
class SymbolPricing:
    """What pricing needs from one symbol's bars, without the bars (SPEC 13 streaming).

    ``model`` is the configured option model (``vol_model``), also chain mode's exit
    fallback; ``span`` the first and last session (the exchange sessions and expiries are
    taken from the universe's span). Option prices read the underlying's level from the
    candidate (P at entry, the planned exit level), never from the bars, so this is all.
    """

    symbol: str
    model: SymbolModel | None
    span: SessionSpan | None


def symbol_pricing(config: AppConfig, symbol: str, bars: SessionedBars, store: Path) -> SymbolPricing:
    """``symbol``'s pricing inputs from its bars (chain mode: the model behind its exits)."""
    model = symbol_model(config.options, symbol, bars, store, calendar_code=config.data.calendar)
    return SymbolPricing(symbol, model, _span(bars))


def universe_quote_source(
    config: AppConfig,
    universe: Sequence[SymbolPricing],
    store: Path,
    *,
    model: bool = False,
    vol_scale: float = 1.0,
) -> QuoteSource:
    """:func:`configured_quote_source` from per-symbol pricing inputs (the same source)."""
    options = config.options
    if options.pricing_source == "chain" and not model:
        return chain_quote_source(options, store)
    models = {entry.symbol: entry.model for entry in universe if entry.model is not None}
    return model_quote_source(options, models, vol_scale=vol_scale)


def universe_pricer(config: AppConfig, universe: Sequence[SymbolPricing], store: Path) -> SpreadPricer:
    """:func:`build_pricer` from per-symbol pricing inputs: the pricer a streamed run walks
    with, and each symbol's task prices with (on its own entry: the same answers, since a
    symbol's exchange sessions do not depend on the others')."""
    return _pricer(
        config,
        universe_quote_source(config, universe, store),
        lambda: universe_quote_source(config, universe, store, model=True),
        exchange_sessions_spanning(config.data.calendar, {entry.symbol: entry.span for entry in universe}),
    )
