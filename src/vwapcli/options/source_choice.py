"""The quote source a config names (SPEC 7 and 7.1): where options settings become prices.

* ``pricing_source: chain`` -> :class:`~vwapcli.options.quotes.ChainQuoteSource` on
  ``options.chain_store`` (else the bar store).
* ``pricing_source: model``, ``vol_model: session`` (the default) ->
  :class:`~vwapcli.options.session_model.CalibratedQuoteSource`: per symbol a
  ``SessionVolModel`` from its own bars (variance clock, HAR vol level, smile, tick spread),
  its calibration from ``symbols.<SYM>.calibration_file``, else ``calibration_file``, else
  ``configs/calibration/<SYM>.yaml``, else SPY's (a file fitted on another symbol: one
  warning per symbol), and the event calendar from ``events_file`` (else the shipped one).
* ``vol_model: flat`` -> :class:`~vwapcli.options.quotes.ModelQuoteSource` (the previous
  model, kept for comparison): close-to-close vol of each symbol's daily history, or its
  IV index with ``iv_source: series``.

``vol_scale`` multiplies the vol level of either model (SPEC 7.1 model risk); the
backtest, the sweep, chain mode's exit fallback and ``vwapcli options validate`` all get
their source here (``engine.build_pricer``), so they price alike by construction.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from vwapcli.config import DataConfig, OptionsConfig
from vwapcli.core.daily import daily_bars
from vwapcli.core.types import SessionedBars
from vwapcli.data.sessions import SessionCalendar
from vwapcli.options.calibration_file import CalibrationParams
from vwapcli.options.events import EventCalendar
from vwapcli.options.quotes import ChainQuoteSource, ModelQuoteSource, QuoteSource
from vwapcli.options.session_model import CalibratedQuoteSource, SessionVolModel
from vwapcli.options.volatility import VolatilityModel
from vwapcli.resources import config_setting_path

DEFAULT_CALENDAR = DataConfig.model_fields["calendar"].default


def build_quote_source(
    options: OptionsConfig,
    market_data: Mapping[str, SessionedBars],
    store: Path,
    *,
    calendar_code: str = DEFAULT_CALENDAR,
    vol_scale: float = 1.0,
) -> QuoteSource:
    """The source ``options`` names (module docstring), over ``market_data``'s history.

    ``store`` holds the chain quotes (chain mode without ``chain_store``) or the IV index
    (``vol_model: flat`` with ``iv_source: series``); ``calendar_code`` gives the session
    model its exchange sessions (early closes: T reaches 0 at 13:00, SPEC 7.1).
    """
    if options.pricing_source == "chain":
        return chain_quote_source(options, store)
    if options.vol_model == "flat":
        return flat_quote_source(options, market_data, store, vol_scale)
    return session_quote_source(options, market_data, calendar_code, vol_scale)


def chain_quote_source(options: OptionsConfig, store: Path) -> ChainQuoteSource:
    """Real quotes from ``options.chain_store``, else the bar store's own chain quotes."""
    root = Path(options.chain_store) if options.chain_store else store
    return ChainQuoteSource(root, options.max_quote_age_seconds)


#: One symbol's option model: all a model quote source keeps of that symbol's bars (SPEC 13:
#: a streamed run builds it while the bars are loaded, then frees them).
SymbolModel = SessionVolModel | VolatilityModel


def session_quote_source(
    options: OptionsConfig, market_data: Mapping[str, SessionedBars], calendar_code: str, vol_scale: float = 1.0
) -> CalibratedQuoteSource:
    """The SPEC 7.1 model on each symbol's bars (1- or 5-minute: the history resamples to 5m)."""
    events = load_events(options)
    calendar = SessionCalendar(calendar_code)
    models = {
        symbol: session_model(options, symbol, bars, events, calendar)
        for symbol, bars in market_data.items()
        if bars.n_sessions
    }
    return CalibratedQuoteSource(options, models, vol_scale=vol_scale)


def flat_quote_source(
    options: OptionsConfig, market_data: Mapping[str, SessionedBars], store: Path, vol_scale: float = 1.0
) -> ModelQuoteSource:
    """The previous model (``vol_model: flat``) on each symbol's daily history; ``iv_source:
    series`` reads each symbol's IV index from ``store``."""
    vol_models = {symbol: flat_model(options, symbol, bars, store) for symbol, bars in market_data.items()}
    return ModelQuoteSource(options, vol_models, vol_scale=vol_scale)


def load_events(options: OptionsConfig) -> EventCalendar:
    """The event calendar the session model reads (``events_file``, else the shipped one)."""
    return EventCalendar.load(config_setting_path(options.events_file) if options.events_file else None)


def session_model(
    options: OptionsConfig, symbol: str, bars: SessionedBars, events: EventCalendar, calendar: SessionCalendar
) -> SessionVolModel:
    """One symbol's SPEC 7.1 model from its bars and its calibration (module docstring)."""
    params = CalibrationParams.load_for_symbol(symbol, options.for_symbol(symbol).calibration_file)
    return SessionVolModel.from_bars(params, bars, events, calendar)


def flat_model(options: OptionsConfig, symbol: str, bars: SessionedBars, store: Path) -> VolatilityModel:
    """One symbol's ``vol_model: flat`` vol: its daily closes (and IV index with ``iv_source: series``)."""
    iv_series: pd.Series | None = None
    if options.iv_source == "series":
        from vwapcli.data.store import BarStore

        iv_series = BarStore(store).read_iv_index(symbol)
    return VolatilityModel(daily_bars(bars), iv_series, options)


def symbol_model(
    options: OptionsConfig, symbol: str, bars: SessionedBars, store: Path, *, calendar_code: str = DEFAULT_CALENDAR
) -> SymbolModel | None:
    """The configured model (``vol_model``) of one symbol, whatever ``pricing_source`` says
    (chain mode's exit fallback is this model); None when the session model has no session
    to learn from, as :func:`session_quote_source` leaves such a symbol out.

    The same functions build the all-at-once sources above, so a source assembled from
    these (:func:`model_quote_source`) prices exactly alike.
    """
    if options.vol_model == "flat":
        return flat_model(options, symbol, bars, store)
    if not bars.n_sessions:
        return None
    return session_model(options, symbol, bars, load_events(options), SessionCalendar(calendar_code))


def model_quote_source(
    options: OptionsConfig, models: Mapping[str, SymbolModel], vol_scale: float = 1.0
) -> QuoteSource:
    """The configured model source over per-symbol models already built (:func:`symbol_model`).

    Models carry no vol scale (the source applies it at each quote), so the run's source
    and its model-risk re-pricings (SPEC 7.1) share one set of models.
    """
    if options.vol_model == "flat":
        flat = {symbol: model for symbol, model in models.items() if isinstance(model, VolatilityModel)}
        return ModelQuoteSource(options, flat, vol_scale=vol_scale)
    calibrated = {symbol: model for symbol, model in models.items() if isinstance(model, SessionVolModel)}
    return CalibratedQuoteSource(options, calibrated, vol_scale=vol_scale)
