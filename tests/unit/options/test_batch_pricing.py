"""The array paths of the session-vol model equal its per-leg paths bit for bit (issue 17).

A backtest prices its candidates and model risk through ``lookup_many`` / ``price_spreads``
/ ``SpreadPricer.prices_of``; the per-leg ``lookup`` stays the reference (it is what the
independent Black-76 tests in test_session_model.py check). "Equal" here is ``==`` on
floats (and equal Skips), never approx: the trade log must not move by one bit.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builders.option_model import new_york_ns, random_walk_bars, session_table
from vwapcli.config import OptionsConfig
from vwapcli.core.skips import Skip
from vwapcli.options.calibration_file import CalibrationParams
from vwapcli.options.events import EventCalendar, ScheduledEvent
from vwapcli.options.leg_spread import LegSpreadModel
from vwapcli.options.session_model import CalibratedQuoteSource, SessionVolModel
from vwapcli.options.spreads import DebitSpread, price_spread, price_spreads, quote_spreads
from vwapcli.options.vol_forecast import ForecastSettings, SessionForecaster, SessionHistory

BARS = random_walk_bars("2024-01-02", "2024-04-30", "5m", seed=11)
HISTORY = SessionHistory.from_bars(BARS)
PARAMS = CalibrationParams(
    overnight_share=0.6,
    level={"premium": 1.2, "gap_weight": 0.3},
    smile={"skew": -0.08, "curvature": 0.04, "bound": 4.0},
    events={"FOMC": {"jump": 0.5, "after_multiplier": 1.5}},
)
# One FOMC afternoon inside the bars: the clock's event terms go through both paths too.
EVENTS = EventCalendar(
    [ScheduledEvent(dt.date(2024, 3, 20), "FOMC", dt.time(14, 0), "test")], {"FOMC": dt.time(14, 0)}, "test"
)
OPTIONS = OptionsConfig.model_validate({"symbols": {}})
SESSION_DATES = [d.astype(dt.date) for d in BARS.session_date]


def model() -> SessionVolModel:
    """A fresh model (nothing remembered) with events, sessions to a month past the bars."""
    return SessionVolModel(PARAMS, HISTORY, session_table("2023-12-20", "2024-06-28"), EVENTS)


def legs_from(draw_rows: list[tuple[int, int, int, float, str, float]]) -> tuple[np.ndarray, ...]:
    """(session index, minute of day, dte, strike offset, right, spot) rows as lookup arrays."""
    ts, expiry, strike, right, spot = [], [], [], [], []
    for session, minute, dte, offset, side, price in draw_rows:
        day = SESSION_DATES[session]
        ts.append(new_york_ns(day.isoformat(), "00:00") + minute * 60_000_000_000)
        expiry.append(SESSION_DATES[min(session + dte, len(SESSION_DATES) - 1)])
        strike.append(round(price + offset))
        right.append(side)
        spot.append(price)
    return (np.array(ts, dtype=np.int64), expiry, np.array(strike, dtype=np.float64), np.array(right),
            np.array(spot, dtype=np.float64))


LEG_ROWS = st.lists(
    st.tuples(
        st.integers(0, len(SESSION_DATES) - 1),  # includes the first days: no vol yet (Skip)
        st.integers(0, 24 * 60 - 1),  # before the open, in the session, after the close
        st.integers(0, 4),
        st.floats(-40.0, 40.0),
        st.sampled_from(["C", "P"]),
        st.floats(350.0, 650.0),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(rows=LEG_ROWS, vol_scale=st.sampled_from([1.0, 0.8, 2.0]))
def test_lookup_many_gives_every_leg_the_bits_or_the_skip_of_lookup(rows, vol_scale) -> None:
    ts, expiry, strike, right, spot = legs_from(rows)
    per_leg = CalibratedQuoteSource(OPTIONS, {"SPY": model()}, vol_scale=vol_scale)
    batched = CalibratedQuoteSource(OPTIONS, {"SPY": model()}, vol_scale=vol_scale)
    legs = batched.lookup_many("SPY", ts, expiry, strike, right, spot)
    for i in range(len(rows)):
        expected = per_leg.lookup("SPY", int(ts[i]), expiry[i], float(strike[i]), str(right[i]), float(spot[i]))
        if isinstance(expected, Skip):
            assert legs.skips.get(i) == expected
            continue
        assert i not in legs.skips
        got = (legs.bid[i], legs.ask[i], legs.mid[i], legs.iv[i])
        assert got == (expected.bid, expected.ask, expected.mid, expected.iv)


@settings(max_examples=40, deadline=None)
@given(rows=LEG_ROWS, vol_scales=st.lists(st.sampled_from([0.8, 1.0, 1.25, 1.5, 2.0, 0.37]), min_size=1, max_size=4))
def test_lookup_many_at_several_vol_scales_gives_each_row_the_bits_of_a_source_built_with_that_scale(
    rows, vol_scales
) -> None:
    """Model risk's one pass (SPEC 7.1): row j·n + i is leg i as ``lookup`` prices it on a
    source built with ``vol_scales[j]`` (the source's own scale, 1.3, is not used)."""
    ts, expiry, strike, right, spot = legs_from(rows)
    n = len(rows)
    legs = CalibratedQuoteSource(OPTIONS, {"SPY": model()}, vol_scale=1.3).lookup_many(
        "SPY", ts, expiry, strike, right, spot, vol_scales=vol_scales
    )
    assert legs.mid.shape == (n * len(vol_scales),)
    for j, scale in enumerate(vol_scales):
        per_leg = CalibratedQuoteSource(OPTIONS, {"SPY": model()}, vol_scale=scale)
        for i in range(n):
            expected = per_leg.lookup("SPY", int(ts[i]), expiry[i], float(strike[i]), str(right[i]), float(spot[i]))
            if isinstance(expected, Skip):
                assert legs.skips.get(j * n + i) == expected
                continue
            assert j * n + i not in legs.skips
            got = (legs.bid[j * n + i], legs.ask[j * n + i], legs.mid[j * n + i], legs.iv[j * n + i])
            assert got == (expected.bid, expected.ask, expected.mid, expected.iv)


@settings(max_examples=30, deadline=None)
@given(rows=LEG_ROWS, side=st.sampled_from(["open", "close"]))
def test_quote_spreads_at_several_vol_scales_gives_each_row_price_spread_on_that_scales_source(rows, side) -> None:
    ts, expiry, strike, right, spot = legs_from(rows)
    spreads = [
        DebitSpread("SPY", str(right[i]), expiry[i], float(strike[i]),
                    float(strike[i] + 2.0 if right[i] == "C" else strike[i] - 2.0), 2.0)
        for i in range(len(rows))
    ]
    scales = (0.8, 1.25, 2.0)
    quoted = quote_spreads(CalibratedQuoteSource(OPTIONS, {"SPY": model()}), spreads, ts.tolist(), spot.tolist(),
                           side, vol_scales=scales)
    n = len(spreads)
    for j, scale in enumerate(scales):
        source = CalibratedQuoteSource(OPTIONS, {"SPY": model()}, vol_scale=scale)
        for i, spread in enumerate(spreads):
            expected = price_spread(source, spread, int(ts[i]), float(spot[i]), side)
            row = j * n + i
            if isinstance(expected, Skip):
                assert quoted.skips.get(row) == expected and np.isnan(quoted.mid[row])
            else:
                assert row not in quoted.skips
                got = (quoted.mid[row], quoted.natural[row], quoted.iv_long[row])
                assert got == (expected.mid, expected.natural, expected.iv_long)


def test_lookup_many_of_a_symbol_without_a_model_is_lookups_skip_for_every_leg() -> None:
    ts, expiry, strike, right, spot = legs_from([(60, 600, 0, 1.0, "C", 500.0), (61, 700, 1, -2.0, "P", 480.0)])
    source = CalibratedQuoteSource(OPTIONS, {"SPY": model()})
    legs = source.lookup_many("QQQ", ts, expiry, strike, right, spot)
    for i in range(2):
        assert legs.skips[i] == source.lookup("QQQ", int(ts[i]), expiry[i], float(strike[i]), str(right[i]),
                                              float(spot[i]))
        assert np.isnan(legs.mid[i])
    scaled = source.lookup_many("QQQ", ts, expiry, strike, right, spot, vol_scales=(0.8, 2.0))
    assert [scaled.skips[row] for row in range(4)] == [legs.skips[0], legs.skips[1]] * 2


@settings(max_examples=40, deadline=None)
@given(rows=LEG_ROWS, side=st.sampled_from(["open", "close"]))
def test_price_spreads_prices_each_spread_as_price_spread_does(rows, side) -> None:
    """Legs drawn as above, paired into spreads of one right, strikes one to five dollars apart."""
    ts, expiry, strike, right, spot = legs_from(rows)
    spreads = []
    for i in range(len(rows)):
        width = 1.0 + i % 5
        k_short = strike[i] + width if right[i] == "C" else strike[i] - width
        spreads.append(DebitSpread("SPY", str(right[i]), expiry[i], float(strike[i]), float(k_short), width))
    per_leg = CalibratedQuoteSource(OPTIONS, {"SPY": model()})
    batched = CalibratedQuoteSource(OPTIONS, {"SPY": model()})
    got = price_spreads(batched, spreads, ts.tolist(), spot.tolist(), side)
    expected = [price_spread(per_leg, s, int(t), float(p), side) for s, t, p in zip(spreads, ts, spot, strict=True)]
    assert got == expected


def test_leg_spread_quotes_equal_quote_on_every_kind_of_leg() -> None:
    """Zero, negative and NaN-free mids, tiny and zero and NaN scales, u far past the
    logistic's overflow, on two spread models (the shipped one and a steep, wide one)."""
    rng = np.random.default_rng(3)
    mids = np.concatenate([rng.uniform(0, 30, 3000), rng.uniform(0, 0.05, 500), [0.0, -0.0, -0.3, 1e-320, 5e-3]])
    scales = np.concatenate([rng.uniform(0, 5, 3000), rng.uniform(0, 1e-6, 500), [0.0, np.nan, 1e-300, 2.0, -1.0]])
    for spread in (LegSpreadModel(), LegSpreadModel(tick=0.05, wide=0.9, half_point=0.7, steepness=9.0)):
        bid, ask = spread.quotes(mids, scales)
        expected = [spread.quote(float(m), float(s)) for m, s in zip(mids, scales, strict=True)]
        assert list(zip(bid.tolist(), ask.tolist(), strict=True)) == expected
        assert not np.signbit(bid).any()  # a scalar's int tick count has no -0.0


@pytest.mark.parametrize(
    "settings_",
    [ForecastSettings(), ForecastSettings(profile_window=3, profile_prior_sessions=0.0),
     ForecastSettings(profile_window=500, profile_prior_sessions=25.0)],
)
def test_profiles_of_many_days_are_profile_of_each_day(settings_: ForecastSettings) -> None:
    """Every session of the bars plus days before and after them (built-in profile)."""
    days = [dt.date(2023, 12, 1), *SESSION_DATES, dt.date(2024, 5, 20)]
    forecaster = SessionForecaster(HISTORY, settings_)
    batched = forecaster.profiles(days)
    for day, profile in zip(days, batched, strict=True):
        expected = SessionForecaster(HISTORY, settings_).profile(day)
        assert np.array_equal(profile.minute_shares, expected.minute_shares)
        assert np.array_equal(profile.cumulative, expected.cumulative)


@pytest.mark.parametrize(
    "settings_",
    [ForecastSettings(), ForecastSettings(lags=(1, 2, 30), min_sessions=1), ForecastSettings(method="ewma")],
)
def test_prior_variances_of_many_days_are_prior_variance_of_each_day(settings_: ForecastSettings) -> None:
    days = [dt.date(2023, 12, 1), *SESSION_DATES, dt.date(2024, 5, 20)]
    forecaster = SessionForecaster(HISTORY, settings_)
    got = forecaster.prior_variances(days).tolist()
    expected = [forecaster.prior_variance(day) for day in days]
    assert len(got) == len(expected)
    for value, reference in zip(got, expected, strict=True):
        assert value == reference or (np.isnan(value) and np.isnan(reference))


def test_t_years_many_remembers_what_t_years_computes() -> None:
    """Same T per (instant, expiry) whether asked one at a time, together, or again."""
    pairs = [(new_york_ns(day.isoformat(), "11:15"), SESSION_DATES[min(i + 2, len(SESSION_DATES) - 1)])
             for i, day in enumerate(SESSION_DATES[::4])]
    together = model()
    first = together.t_years_many(pairs)
    assert first == [model().t_years(t, expiry) for t, expiry in pairs]
    assert together.t_years_many(pairs[::-1]) == first[::-1]


def test_the_compiled_batch_kernels_load_back_from_numbas_cache(tmp_path: Path) -> None:
    """Compiled once, then loaded from the on-disk cache in a second process: both exit 0.

    A cached kernel calling the recursive pairwise sum with a literal argument used to
    crash (segfault) on exactly that second load.
    """
    script = textwrap.dedent(
        """
        import datetime as dt, sys
        sys.path.insert(0, sys.argv[1])
        from builders.option_model import random_walk_bars
        from vwapcli.options.vol_forecast import SessionForecaster, SessionHistory
        forecaster = SessionForecaster(SessionHistory.from_bars(random_walk_bars("2024-01-02", "2024-02-28")))
        days = [dt.date(2024, 2, 26), dt.date(2024, 2, 27)]
        print(len(forecaster.profiles(days)), forecaster.prior_variances(days).shape[0])
        """
    )
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba"), "VWAPCLI_CACHE_DIR": str(tmp_path)}
    tests_dir = str(Path(__file__).resolve().parents[2])
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", script, tests_dir], env=env, capture_output=True, text=True,
                              timeout=300, check=False)
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.split() == ["2", "2"]
