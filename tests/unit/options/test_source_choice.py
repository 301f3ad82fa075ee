"""build_quote_source: the config chooses the option model (SPEC 7, 7.1), its calibration,
its events and the model-risk vol scale."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest
import yaml

from builders.option_model import new_york_ns, random_walk_bars
from vwapcli.config import OptionsConfig
from vwapcli.data.sessions import resample_to_5m
from vwapcli.options.calibration_file import CalibrationParams
from vwapcli.options.pricing import bs_price, year_fraction
from vwapcli.options.quotes import ChainQuoteSource, ModelQuoteSource
from vwapcli.options.session_model import CalibratedQuoteSource
from vwapcli.options.source_choice import build_quote_source
from vwapcli.resources import config_setting_path

BARS = random_walk_bars("2024-03-01", "2024-06-28", "5m", seed=5)
DAY = dt.date(2024, 6, 21)
TS = new_york_ns("2024-06-21", "13:00")
# r = 0.04, q = 0 (no per-symbol override) so the forward below is S·e^{r t_cal}.
NO_OVERRIDES = {"symbols": {}}


def options(**fields: object) -> OptionsConfig:
    return OptionsConfig.model_validate({**NO_OVERRIDES, **fields})


def test_the_session_model_is_the_default_and_flat_and_chain_are_chosen_by_name(tmp_path: Path) -> None:
    market = {"SPY": BARS}
    assert isinstance(build_quote_source(options(), market, tmp_path), CalibratedQuoteSource)
    assert isinstance(build_quote_source(options(vol_model="flat"), market, tmp_path), ModelQuoteSource)
    assert isinstance(build_quote_source(options(pricing_source="chain"), market, tmp_path), ChainQuoteSource)


def test_vol_scale_multiplies_the_flat_models_vol_and_the_price_follows(tmp_path: Path) -> None:
    """Flat model: iv(s) = s · iv(1) (iv_multiplier and floor applied first), and the mid is
    bs_price at that vol (the vectorised pricer, an independent code path)."""
    flat = options(vol_model="flat")
    one = build_quote_source(flat, {"SPY": BARS}, tmp_path).quote("SPY", TS, DAY, 502.0, "C", 500.0)
    scaled = build_quote_source(flat, {"SPY": BARS}, tmp_path, vol_scale=1.5).quote("SPY", TS, DAY, 502.0, "C", 500.0)
    assert one is not None and scaled is not None and one.iv is not None
    assert scaled.iv == pytest.approx(1.5 * one.iv, rel=1e-15)
    expected = bs_price(500.0, 502.0, year_fraction(TS, DAY), 0.04, 0.0, 1.5 * one.iv, "C")
    assert scaled.mid == pytest.approx(float(expected), rel=1e-12)


def test_vol_scale_multiplies_the_session_models_vol_level(tmp_path: Path) -> None:
    """Session model at the forward (z = 0, smile ratio 1): iv(s) = s · sigma, so 1.5x."""
    forward = 500 * math.exp(0.04 * 180 / (365 * 24 * 60))
    one = build_quote_source(options(), {"SPY": BARS}, tmp_path).quote("SPY", TS, DAY, forward, "C", 500.0)
    scaled = build_quote_source(options(), {"SPY": BARS}, tmp_path, vol_scale=1.5).quote("SPY", TS, DAY, forward, "C", 500.0)
    assert one is not None and scaled is not None and one.iv is not None
    assert scaled.iv == pytest.approx(1.5 * one.iv, rel=1e-12)
    assert scaled.mid > one.mid


def test_a_symbol_priced_with_spys_calibration_warns_once_however_often_sources_are_built(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """XLE (a symbol no other test prices) with the default calibration_file (SPY's): one warning
    for two builds, as a sweep or a chain run's fallback builds sources again and again."""
    xle = random_walk_bars("2024-03-01", "2024-06-28", "5m", seed=6, symbol="XLE")
    with caplog.at_level("WARNING", logger="vwapcli.options"):
        first = build_quote_source(options(), {"XLE": xle}, tmp_path)
        build_quote_source(options(), {"XLE": xle}, tmp_path)
    warnings = [r for r in caplog.records if "no option-model calibration for XLE" in r.getMessage()]
    assert len(warnings) == 1
    assert isinstance(first, CalibratedQuoteSource) and first.models["XLE"].params.symbol == "SPY"


def test_a_per_symbol_calibration_file_wins_and_a_matching_symbol_does_not_warn(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    own = tmp_path / "QQQ.yaml"
    CalibrationParams(symbol="QQQ", level={"premium": 2.0}).dump(own)
    config = options(symbols={"QQQ": {"calibration_file": str(own)}})
    qqq = random_walk_bars("2024-03-01", "2024-06-28", "5m", seed=8, symbol="QQQ")
    with caplog.at_level("WARNING", logger="vwapcli.options"):
        source = build_quote_source(config, {"QQQ": qqq, "SPY": BARS}, tmp_path)
    assert isinstance(source, CalibratedQuoteSource)
    assert source.models["QQQ"].params.level.premium == 2.0
    assert source.models["SPY"].params == CalibrationParams.load_for_symbol("SPY")
    assert not caplog.records


def test_without_a_calibration_file_a_symbol_gets_its_own_from_configs_calibration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """calibration_file: null -> ./configs/calibration/<SYM>.yaml (found before the shipped files)."""
    (tmp_path / "configs" / "calibration").mkdir(parents=True)
    CalibrationParams(symbol="DIA", overnight_share=0.42).dump(tmp_path / "configs" / "calibration" / "DIA.yaml")
    monkeypatch.chdir(tmp_path)
    dia = random_walk_bars("2024-03-01", "2024-06-28", "5m", seed=9, symbol="DIA")
    source = build_quote_source(options(calibration_file=None), {"DIA": dia}, tmp_path)
    assert isinstance(source, CalibratedQuoteSource)
    assert source.models["DIA"].params.overnight_share == 0.42


def test_the_shipped_calibration_setting_is_found_from_any_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """configs/default.yaml says configs/calibration/SPY.yaml: from a folder without configs/
    it resolves to the shipped file (package data, or the checkout in an editable install)."""
    monkeypatch.chdir(tmp_path)
    found = config_setting_path("configs/calibration/SPY.yaml")
    assert found.is_file() and found.parts[-2:] == ("calibration", "SPY.yaml")
    assert CalibrationParams.load(found).symbol == "SPY"


def test_an_events_file_setting_replaces_the_shipped_calendar(tmp_path: Path) -> None:
    """An FOMC decision on 2024-06-21 (not one in the shipped file) reaches the SPY model's
    clock with the shipped calibration's FOMC effect."""
    events = tmp_path / "events.yaml"
    events.write_text(yaml.safe_dump({
        "types": {"fomc": {"time": "14:00"}},
        "events": [{"date": "2024-06-21", "type": "fomc", "source": "https://example.org/made-up-for-a-test"}],
    }))
    default = build_quote_source(options(), {"SPY": BARS}, tmp_path)
    custom = build_quote_source(options(events_file=str(events)), {"SPY": BARS}, tmp_path)
    assert isinstance(default, CalibratedQuoteSource) and isinstance(custom, CalibratedQuoteSource)
    assert default.models["SPY"].clock_events(DAY) == ()
    (event,) = custom.models["SPY"].clock_events(DAY)
    fomc = CalibrationParams.load_for_symbol("SPY").events["fomc"]
    assert (event.ts_ns, event.jump, event.after_multiplier) == (
        new_york_ns("2024-06-21", "14:00"), fomc.jump, fomc.after_multiplier,
    )


def test_one_minute_and_five_minute_bars_give_the_same_session_model_price(tmp_path: Path) -> None:
    """The history resamples 1m bars to 5m (SPEC 7.1 via data.sessions): a 1-minute store and
    its 5-minute resample price a leg alike (the vol level, profile and gap agree)."""
    one_minute = random_walk_bars("2024-03-01", "2024-06-28", "1m", seed=5, bar_vol=0.00045)
    five_minute = resample_to_5m(one_minute)
    on_1m = build_quote_source(options(), {"SPY": one_minute}, tmp_path).quote("SPY", TS, DAY, 502.0, "C", 500.0)
    on_5m = build_quote_source(options(), {"SPY": five_minute}, tmp_path).quote("SPY", TS, DAY, 502.0, "C", 500.0)
    assert on_1m is not None and on_5m is not None
    assert on_1m.mid == pytest.approx(on_5m.mid, rel=1e-9)
    assert (on_1m.bid, on_1m.ask) == (on_5m.bid, on_5m.ask)
