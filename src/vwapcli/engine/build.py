"""The one place a run's config becomes an engine (backtest, sweep, and next paper trading).

``build_engine(config, market_data, store)`` chooses the quote source the config names
(``configured_quote_source`` -> ``vwapcli.options.source_choice.build_quote_source``: the
SPEC 7.1 session-vol model or the flat model on the bars' own history, or the chain
store), loads the listing schedule, and takes exchange sessions from the calendar. Callers that re-price a run with another quote source pass ``quote_source``;
the sweep passes a ``pricer`` it shares between configurations that price alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path

from vwapcli.app_config import AppConfig
from vwapcli.core.types import SessionedBars
from vwapcli.engine.engine import Engine
from vwapcli.engine.pricing import SpreadPricer
from vwapcli.options.expirations import ExpirySchedule, SessionDates
from vwapcli.options.quotes import QuoteSource
from vwapcli.options.source_choice import build_quote_source

# Exchange sessions are taken this far past the data's last day, so an expiry chosen near
# the end still counts real sessions (SPEC 7 dte) and sees listings after the last trade.
SESSIONS_PAST_DATA = dt.timedelta(days=60)


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
    options = config.options
    expirations = options.expirations_file
    fallback = None
    if options.pricing_source == "chain":
        fallback = configured_quote_source(config, market_data, store, model=True)
    return SpreadPricer(
        quote_source if quote_source is not None else configured_quote_source(config, market_data, store),
        ExpirySchedule.load(Path(expirations) if expirations else None),
        exchange_sessions(config.data.calendar, market_data),
        exit_fallback=fallback,
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
    """Exchange sessions (not just days with bars) from the data's first day to ~2 months
    past its last, per symbol, prepared for expiry look-ups."""
    from vwapcli.data.sessions import SessionCalendar

    days = [
        day for bars in market_data.values() if bars.n_sessions
        for day in bars.session_date[[0, -1]].astype("datetime64[D]").tolist()
    ]
    if not days:
        return {}
    calendar = SessionCalendar(calendar_code)
    last = min(max(days) + SESSIONS_PAST_DATA, calendar.last_session)
    sessions = SessionDates.of(calendar.session_arrays(min(days), last)[0])
    return dict.fromkeys(market_data, sessions)
