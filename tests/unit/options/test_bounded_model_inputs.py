"""Nothing sized by the data is unbounded (issue 12 item 4), and the domain bounds of the
option inputs hold (dte within the listed calendar, finite rates)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from vwapcli.config import MAX_DTE_SESSIONS, OptionsConfig
from vwapcli.data.sessions import SessionCalendar
from vwapcli.errors import ConfigError
from vwapcli.options.expirations import ExpirySchedule, SessionDates
from vwapcli.options.quotes import MAX_MODEL_SPOT, MAX_MODEL_STRIKES_PER_SIDE, SymbolTerms


def test_a_spot_of_twenty_thousand_on_a_one_dollar_grid_lists_every_strike_within_a_quarter() -> None:
    """n = ceil(0.25 * 20,000 / 1) + 1 = 5,001 steps a side of the centre 20,000:
    strikes 14,999 .. 25,001, i.e. 2 * 5,001 + 1 = 10,003 strikes, under the 10,000-a-side bound."""
    strikes = SymbolTerms(OptionsConfig()).listed_strikes("NDX", 20_000.0)
    assert strikes.shape == (10_003,)
    assert (strikes[0], strikes[-1]) == (14_999.0, 25_001.0)


def test_a_spot_needing_more_strikes_than_the_bound_is_refused_before_any_allocation() -> None:
    """SPY ~500 priced x2e9 = 1e12 on a $1 grid needs ceil(0.25e12) + 1 = 250,000,000,001
    strikes a side (2 TB of float64): refused, naming the increment that fits:
    0.25 * 1e12 / (10,000 - 1) = 2.50025e7 -> "2.5e+07" at three significant digits."""
    with pytest.raises(ConfigError) as refused:
        SymbolTerms(OptionsConfig()).listed_strikes("SPY", 1e12)
    message = str(refused.value)
    assert "250,000,000,001 model strikes either side" in message
    assert f"limit {MAX_MODEL_STRIKES_PER_SIDE:,}" in message
    assert "options.symbols.SPY.strike_increment to at least 2.5e+07" in message


def test_a_spot_past_what_int64_micro_dollars_hold_is_refused_whatever_the_increment() -> None:
    """1e13 dollars = 1e19 micro-dollars > 2**63 ~ 9.22e18: strike comparisons would wrap,
    so even an increment wide enough for the strike bound (1e13 / 4 / 9,999 ~ 2.5e8) is refused."""
    config = OptionsConfig(strike_increment=1e9)
    with pytest.raises(ConfigError, match=r"past the 2e\+12 dollars"):
        SymbolTerms(config).listed_strikes("SPY", 1e13)
    assert MAX_MODEL_SPOT * 1e6 < 2**63
    assert SymbolTerms(config).listed_strikes("SPY", MAX_MODEL_SPOT).shape[0] > 0


def test_the_largest_spot_the_bound_allows_is_listed() -> None:
    """spot 39,996 on $1: n = ceil(9,999) + 1 = 10,000 = the bound, so 20,001 strikes are listed."""
    assert SymbolTerms(OptionsConfig()).listed_strikes("SPY", 39_996.0).shape == (20_001,)


def test_a_spot_below_one_strike_step_is_refused() -> None:
    """SPY ~500 priced x1e-9 = 5e-7 on a $1 grid: the nearest positive strike ($1) is two
    million times spot; refused, suggesting spot / 100 = 5e-9."""
    with pytest.raises(ConfigError, match=r"below one strike step \(1\).*at most 5e-09"):
        SymbolTerms(OptionsConfig()).listed_strikes("SPY", 5e-7)


@pytest.mark.parametrize("field", ["rate", "div_yield", "strike_increment"])
def test_a_non_finite_term_built_in_code_is_refused_not_priced_at_zero(field: str) -> None:
    """The config refuses NaN on load; a config built without validation (model_construct)
    is re-validated per symbol (``for_symbol``) before any leg is priced."""
    config = OptionsConfig.model_construct(**{**OptionsConfig().model_dump(), field: float("nan"), "symbols": {}})
    with pytest.raises(ValueError, match=rf"{field}[\s\S]*finite number"):
        SymbolTerms(config)("QQQ")


@pytest.mark.parametrize(("field", "value"), [("rate", 1.5), ("rate", -1.5), ("div_yield", 1.5), ("dte", MAX_DTE_SESSIONS + 1)])
def test_option_inputs_outside_their_domain_fail_validation(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        OptionsConfig.model_validate({field: value})


@pytest.mark.parametrize("trade_date", [dt.date(2024, 3, 28), None])
def test_the_largest_dte_allowed_is_answered_even_on_the_calendars_last_session(trade_date: dt.date | None) -> None:
    """The engine lists exchange sessions to 60 days past the data (engine/build.py), then
    weekdays: on the calendar's last session (the worst case) only the weekdays are left,
    and a 45-session expiry must still be found among them."""
    calendar = SessionCalendar()
    day = trade_date or calendar.last_session
    last_listed = min(day + dt.timedelta(days=60), calendar.last_session)
    sessions = SessionDates.of(calendar.session_arrays(day - dt.timedelta(days=10), last_listed)[0])
    choice = ExpirySchedule.load().expiry_for("SPY", day, MAX_DTE_SESSIONS, sessions)
    assert choice.expiry > day
    assert np.busday_count(day, choice.expiry) >= MAX_DTE_SESSIONS  # weekdays >= sessions to go
