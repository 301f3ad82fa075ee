"""``run_report`` end to end on hand-built run folders (quantstats stubbed out for speed).

The real quantstats tearsheet (and the forked process that draws it) is exercised in
test_report_tearsheet.py; here it is built in-process by a stub that records what it was
given, so each report takes well under a second and the tests can check the exit code,
metrics.json, the page layout and what the tearsheet is fed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from rich.console import Console

from builders.report import build_run, sessions_from, trade
from vwapcli.env import Env
from vwapcli.errors import VwapcliError
from vwapcli.report import ReportError, ReportRequest, run_report
from vwapcli.report import run as report_run
from vwapcli.report import tearsheet as report_tearsheet
from vwapcli.report.run_folder import load_run
from vwapcli.report.store_reads import read_daily_closes

# Config key -> display name, as the CLI passes it from the strategy catalogue.
STRATEGY_KEYS = {"orb": "ORB"}
NEW_YORK = ZoneInfo("America/New_York")
EASY = {"min_trades": 20, "min_years": 0.1, "bootstrap_samples": 400}


@pytest.fixture
def tearsheet_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Build the tearsheet in-process with a stub; the list records each call."""
    calls: list[dict[str, Any]] = []

    def stub(returns: pd.Series, benchmark: pd.Series | None, title: str) -> str:
        calls.append({"returns": returns, "benchmark": benchmark, "title": title})
        return "<html><body><p>stub tearsheet</p></body></html>"

    monkeypatch.setattr(report_tearsheet, "quantstats_tearsheet", stub)
    monkeypatch.setattr(report_run, "start_tearsheet", report_tearsheet.InlineTearsheet)
    return calls


def _quiet() -> Console:
    return Console(file=io.StringIO(), width=120)


def _two_strategy_trades(days: list[dt.date]) -> list[dict[str, Any]]:
    """ORB: 45 wins of +200 and 15 losses of -100 (strong). FADE: 12 wins of +100, 28 of -100."""
    rows = []
    for i, day in enumerate(days[:60]):
        rows.append(trade(day, 200.0 if i % 4 else -100.0, "ORB", "SPY"))
    for i, day in enumerate(days[:40]):
        rows.append(trade(day, 100.0 if i % 10 < 3 else -100.0, "FADE", "QQQ", "SHORT", "stop",
                          entry_clock=dt.time(13, 5), exit_clock=dt.time(15, 50)))
    return rows


@pytest.fixture
def mixed_run(tmp_path: Path) -> tuple[Path, list[dt.date]]:
    days = sessions_from("2023-01-03", 70)
    folder = build_run(tmp_path / "mixed", _two_strategy_trades(days), days, acceptance=EASY,
                       strategies=["ORB", "FADE"],
                       provenance={"SPY": "synthetic (seed 7)", "QQQ": "synthetic (seed 7)"})
    return folder, days


def _recompute_from_csv(path: Path, days: list[dt.date], start: float) -> dict[str, dict]:
    """Independent method: csv module and plain loops, no pandas, no report code."""
    by_strategy: dict[str, list[tuple[dt.date, float]]] = {"all": []}
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            exit_day = dt.datetime.fromisoformat(row["exit_time"]).astimezone(NEW_YORK).date()
            item = (exit_day, float(row["pnl"]))
            by_strategy["all"].append(item)
            by_strategy.setdefault(row["strategy_name"], []).append(item)
    results = {}
    for name, items in by_strategy.items():
        wins = sum(1 for _, pnl in items if pnl > 0)
        gain = sum(pnl for _, pnl in items if pnl > 0)
        loss = -sum(pnl for _, pnl in items if pnl < 0)
        equity, peak, worst = start, start, 0.0
        for day in days:
            equity += sum(pnl for exit_day, pnl in items if exit_day == day)
            peak = max(peak, equity)
            worst = max(worst, (peak - equity) / peak * 100.0)
        results[name] = {
            "trades": len(items),
            "win_rate": wins / len(items),
            "profit_factor": gain / loss if loss else math.inf,
            "max_drawdown_pct": worst,
        }
    return results


def test_metrics_json_equals_an_independent_recomputation_from_trades_csv(
    mixed_run: tuple[Path, list[dt.date]], tearsheet_calls: list[dict[str, Any]]
) -> None:
    folder, days = mixed_run
    assert run_report(ReportRequest(folder, None, None, False, STRATEGY_KEYS), Env(console=_quiet())) == 0
    document = json.loads((folder / "metrics.json").read_text())
    expected = _recompute_from_csv(folder / "trades.csv", days, 100_000.0)
    assert sorted(document) == ["FADE", "ORB", "all"]
    for name, values in expected.items():
        for key, value in values.items():
            assert document[name][key] == pytest.approx(value), (name, key)
        assert document[name]["verdict"] in {"PASS", "FAIL"}


def test_metrics_json_is_byte_identical_on_a_second_run(
    mixed_run: tuple[Path, list[dt.date]], tearsheet_calls: list[dict[str, Any]]
) -> None:
    folder, _ = mixed_run
    run_report(ReportRequest(folder, None, None, False, STRATEGY_KEYS), Env(console=_quiet()))
    first = (folder / "metrics.json").read_bytes()
    run_report(ReportRequest(folder, None, None, False, STRATEGY_KEYS), Env(console=_quiet()))
    assert (folder / "metrics.json").read_bytes() == first


def test_check_exit_code_follows_the_selected_strategys_verdict(
    mixed_run: tuple[Path, list[dt.date]], tearsheet_calls: list[dict[str, Any]]
) -> None:
    """ORB wins 75 % with PF 9000/1500 = 6 -> PASS; FADE wins 30 % -> FAIL.

    The strategy may be named by display name or config key, in any case.
    """
    folder, _ = mixed_run
    assert run_report(ReportRequest(folder, "orb", None, True, STRATEGY_KEYS), Env(console=_quiet())) == 0
    assert json.loads((folder / "metrics.json").read_text())["ORB"]["verdict"] == "PASS"
    assert run_report(ReportRequest(folder, "FADE", None, True, STRATEGY_KEYS), Env(console=_quiet())) == 1
    assert run_report(ReportRequest(folder, "fade", None, False, STRATEGY_KEYS), Env(console=_quiet())) == 0  # no --check: always 0


def test_a_strategy_filter_reports_that_strategys_trades_only(
    mixed_run: tuple[Path, list[dt.date]], tearsheet_calls: list[dict[str, Any]]
) -> None:
    folder, _ = mixed_run
    out = folder / "only-orb" / "orb.html"
    run_report(ReportRequest(folder, "ORB", out, False, STRATEGY_KEYS), Env(console=_quiet()))
    page = out.read_text()
    assert (out.parent / "metrics.json").is_file()
    assert "<h3>ORB: PASS</h3>" in page and "<h3>FADE" not in page
    assert tearsheet_calls[-1]["returns"].name == "ORB"


def test_an_unknown_strategy_is_one_line_naming_the_run_and_its_strategies(
    mixed_run: tuple[Path, list[dt.date]], tearsheet_calls: list[dict[str, Any]]
) -> None:
    folder, _ = mixed_run
    with pytest.raises(ReportError) as raised:
        run_report(ReportRequest(folder, "nope", None, False, STRATEGY_KEYS), Env(console=_quiet()))
    message = str(raised.value)
    assert "\n" not in message and "'nope'" in message and "ORB, FADE" in message


def test_a_missing_run_folder_is_a_one_line_user_error(tmp_path: Path) -> None:
    with pytest.raises(VwapcliError) as raised:
        run_report(ReportRequest(tmp_path / "absent", None, None, True, STRATEGY_KEYS), Env(console=_quiet()))
    assert "run folder not found" in str(raised.value) and "\n" not in str(raised.value)


def test_a_trade_log_without_pnl_names_the_file_and_column(tmp_path: Path) -> None:
    days = sessions_from("2024-01-02", 3)
    folder = build_run(tmp_path / "run", [trade(days[0], 10.0)], days)
    pd.read_csv(folder / "trades.csv").drop(columns="pnl").to_csv(folder / "trades.csv")
    (folder / "trades.parquet").unlink()
    with pytest.raises(ReportError, match=r"trades\.csv: missing column\(s\) pnl"):
        run_report(ReportRequest(folder, None, None, False, STRATEGY_KEYS), Env(console=_quiet()))


def test_a_pass_with_a_wide_interval_is_not_proven_exits_zero_and_fails_only_under_strict(
    tmp_path: Path, tearsheet_calls: list[dict[str, Any]]
) -> None:
    """40 trades, 22 wins of +100 and 18 losses of -100: win rate 0.55 >= 0.50 and
    PF 2200/1800 = 1.22 >= 1.0 pass, but with 40 trades the 95 % intervals reach well
    below both thresholds (win-rate std error = sqrt(.55 x .45 / 40) = 0.079)."""
    days = sessions_from("2024-01-02", 40)
    rows = [trade(day, 100.0 if i < 22 else -100.0) for i, day in enumerate(days)]
    acceptance = {**EASY, "min_win_rate": 0.5, "min_profit_factor": 1.0}
    folder = build_run(tmp_path / "run", rows, days, acceptance=acceptance)
    console = _quiet()
    assert run_report(ReportRequest(folder, None, None, True, STRATEGY_KEYS), Env(console=console)) == 0
    document = json.loads((folder / "metrics.json").read_text())["all"]
    assert document["verdict"] == "NOT PROVEN"
    assert document["not_proven"] == ["win_rate", "profit_factor"]
    assert document["criteria"]["win_rate"]["status"] == "NOT PROVEN"
    assert "NOT PROVEN" in (folder / "report.html").read_text()
    assert "NOT PROVEN" in console.file.getvalue()  # type: ignore[attr-defined]
    assert '<div class="banner unproven">NOT PROVEN</div>' in (folder / "report.html").read_text()
    strict = ReportRequest(folder, None, tmp_path / "strict.html", True, STRATEGY_KEYS, strict=True)
    assert run_report(strict, Env(console=_quiet())) == 1


def test_page_sections_come_in_order_with_the_verdict_table_first(
    mixed_run: tuple[Path, list[dt.date]], tearsheet_calls: list[dict[str, Any]]
) -> None:
    folder, _ = mixed_run
    run_report(ReportRequest(folder, None, None, False, STRATEGY_KEYS), Env(console=_quiet()))
    page = (folder / "report.html").read_text()
    assert page.index("<table") == page.index('<table class="verdict" id="verdict-table"')
    order = ['id="verdict"', 'id="strategies"', 'id="charts"', 'id="tables"', 'id="fills"',
             'id="tearsheet"']
    positions = [page.index(marker) for marker in order]
    assert positions == sorted(positions)
    assert "SYNTHETIC DATA" in page
    for title in ("Year", "Symbol", "Direction", "Exit reason", "Entry hour (New York)",
                  "Regime (daily expiries)", "IV-index tercile"):
        assert f"<h3>{title}</h3>" in page


def test_benchmark_and_iv_terciles_come_from_the_runs_store(
    tmp_path: Path, tearsheet_calls: list[dict[str, Any]]
) -> None:
    """SPY 15:59 bars close 100 (day before the run), 101, 99.99, 99.99:
    benchmark returns 101/100 - 1 = 1 %, 99.99/101 - 1 = -1 %, then 0 %.
    IV index 15 (day before), 20, 25, 30 over the run's sessions."""
    from vwapcli.data.store import BarStore

    days = sessions_from("2024-01-02", 3)
    prior = dt.date(2023, 12, 29)
    closes = [100.0, 101.0, 99.99, 99.99]
    stamps = [pd.Timestamp(dt.datetime.combine(d, dt.time(15, 59), tzinfo=NEW_YORK))
              for d in [prior, *days]]
    bars = pd.DataFrame({"ts": pd.DatetimeIndex(stamps).tz_convert("UTC"), "open": closes,
                         "high": closes, "low": closes, "close": closes,
                         "volume": [1000.0] * 4})
    store = BarStore(tmp_path / "store")
    store.write_bars("SPY", bars, provenance="hand-built")
    store.write_iv_index("SPY", pd.Series([15.0, 20.0, 25.0, 30.0],
                                          index=pd.DatetimeIndex([prior, *days])))
    rows = [trade(day, 50.0) for day in days]
    folder = build_run(tmp_path / "run", rows, days, store=str(tmp_path / "store"))
    run_report(ReportRequest(folder, None, None, False, STRATEGY_KEYS), Env(console=_quiet()))
    benchmark = tearsheet_calls[-1]["benchmark"]
    assert benchmark.tolist() == pytest.approx([0.01, -0.01, 0.0])
    # IV terciles: edges over the run's values 20, 25, 30 are 23.3 and 26.7; the trades
    # read the prior close 15 (low), 20 (low) and 25 (mid).
    page = (folder / "report.html").read_text()
    assert "tercile edges over the run&#x27;s sessions: SPY 23.3 / 26.7" in page
    assert "<tr><th>low</th><td>2</td>" in page and "<tr><th>mid</th><td>1</td>" in page


@pytest.fixture
def tearsheet_log(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """Replace the tearsheet job by one that logs (event, detail) and draws nothing."""
    log: list[tuple[str, Any]] = []

    class RecordingTearsheet:
        def __init__(self) -> None:
            log.append(("start", None))

        def submit(self, returns: pd.Series, benchmark: pd.Series | None, title: str) -> None:
            log.append(("submit", (returns, benchmark, title)))

        def result(self) -> str:
            log.append(("result", None))
            return "<p>recorded</p>"

        def close(self) -> None:
            log.append(("close", None))

    monkeypatch.setattr(report_run, "start_tearsheet", RecordingTearsheet)
    return log


def test_the_tearsheet_starts_first_and_gets_the_headline_returns_before_the_bootstrap(
    mixed_run: tuple[Path, list[dt.date]],
    tearsheet_log: list[tuple[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The returns sent ahead are exactly the assessment's (same values, dates, name)."""
    folder, _ = mixed_run
    assess_run = report_run.assess_run

    def logged_assess_run(*args: Any, **kwargs: Any) -> Any:
        tearsheet_log.append(("bootstrap", None))
        return assess_run(*args, **kwargs)

    monkeypatch.setattr(report_run, "assess_run", logged_assess_run)
    run_report(ReportRequest(folder, "FADE", None, False, STRATEGY_KEYS), Env(console=_quiet()))
    events = [event for event, _ in tearsheet_log]
    assert events == ["start", "submit", "bootstrap", "result", "close"]
    returns, _, title = tearsheet_log[1][1]
    expected = assess_run(load_run(folder))["FADE"].returns
    pd.testing.assert_series_equal(returns, expected)
    assert title == "vwapcli report: mixed (FADE)"


def test_the_tearsheet_job_is_closed_when_the_report_fails(
    tmp_path: Path, tearsheet_log: list[tuple[str, Any]]
) -> None:
    with pytest.raises(ReportError):
        run_report(ReportRequest(tmp_path / "absent", None, None, False, STRATEGY_KEYS), Env(console=_quiet()))
    assert [event for event, _ in tearsheet_log] == ["start", "close"]


def _write_minute_closes(store_root: Path, closes_by_local_time: dict[dt.datetime, float]) -> None:
    from vwapcli.data.store import BarStore

    stamps = pd.DatetimeIndex([pd.Timestamp(t) for t in closes_by_local_time]).tz_convert("UTC")
    values = list(closes_by_local_time.values())
    BarStore(store_root).write_bars("SPY", pd.DataFrame({
        "ts": stamps, "open": values, "high": values, "low": values, "close": values,
        "volume": [100.0] * len(values),
    }), provenance="hand-built")


def _new_york(day: dt.date, hour: int, minute: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=NEW_YORK)


def test_daily_closes_are_each_new_york_dates_last_regular_hours_bar(tmp_path: Path) -> None:
    """Winter (UTC-5) and summer (UTC-4) days, with bars before 09:30, at 16:00 and at
    19:59 New York (00:59 UTC the next day in winter). By hand: 2024-01-05 -> 11 (the
    15:59 bar; 16:00 and 19:59 are after hours), 2024-07-05 -> 21 (15:59), 2024-07-08 ->
    30 (its only regular bar, 09:30); 2023-12-29 is before the requested window."""
    from vwapcli.data.store import BarStore

    winter, summer, monday = dt.date(2024, 1, 5), dt.date(2024, 7, 5), dt.date(2024, 7, 8)
    _write_minute_closes(tmp_path / "store", {
        _new_york(dt.date(2023, 12, 29), 15, 59): 5.0,
        _new_york(winter, 9, 29): 9.0, _new_york(winter, 9, 30): 10.0,
        _new_york(winter, 15, 59): 11.0, _new_york(winter, 16, 0): 12.0,
        _new_york(winter, 19, 59): 13.0,
        _new_york(summer, 9, 30): 20.0, _new_york(summer, 15, 59): 21.0,
        _new_york(summer, 16, 0): 22.0,
        _new_york(monday, 8, 0): 29.0, _new_york(monday, 9, 30): 30.0,
    })
    closes = read_daily_closes(
        BarStore(tmp_path / "store"), "SPY", dt.date(2024, 1, 2), dt.date(2024, 7, 8), "1m"
    )
    assert closes.to_dict() == {
        pd.Timestamp("2024-01-05"): 11.0, pd.Timestamp("2024-07-05"): 21.0,
        pd.Timestamp("2024-07-08"): 30.0,
    }


def test_a_daily_store_is_preferred_to_intraday_bars(tmp_path: Path) -> None:
    """Daily bars stamped 09:30 New York close at 101 and 102; the 1m bars say 1 and 2."""
    from vwapcli.data.store import BarStore

    days = [dt.date(2024, 3, 4), dt.date(2024, 3, 5)]
    _write_minute_closes(tmp_path / "store", {_new_york(d, 15, 59): c for d, c in zip(days, [1.0, 2.0], strict=True)})
    stamps = pd.DatetimeIndex([pd.Timestamp(_new_york(d, 9, 30)) for d in days]).tz_convert("UTC")
    store = BarStore(tmp_path / "store")
    store.write_bars("SPY", pd.DataFrame({
        "ts": stamps, "open": [100.0, 101.0], "high": [102.0, 103.0], "low": [99.0, 100.0],
        "close": [101.0, 102.0], "volume": [1e6, 1e6],
    }), timeframe="1d", provenance="hand-built")
    closes = read_daily_closes(store, "SPY", days[0], days[1], "1m")
    assert closes.tolist() == [101.0, 102.0]


def test_a_store_with_a_non_finite_close_gives_a_page_without_benchmark(
    tmp_path: Path, tearsheet_calls: list[dict[str, Any]]
) -> None:
    """A hand-placed Parquet file (the store's own writer would refuse it) with a NaN close."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from vwapcli.data.store import BarStore

    days = sessions_from("2024-01-02", 3)
    store = BarStore(tmp_path / "store")
    path = store.partition_path("SPY", "1m", 2024)
    path.parent.mkdir(parents=True)
    stamps = pd.DatetimeIndex([pd.Timestamp(_new_york(d, 15, 59)) for d in days])
    pq.write_table(pa.table({
        "ts": pa.array(stamps.tz_convert("UTC"), type=pa.timestamp("ns", tz="UTC")),
        **{name: [100.0, math.nan, 101.0] for name in ("open", "high", "low", "close")},
        "volume": [1.0, 1.0, 1.0],
    }), path)
    folder = build_run(tmp_path / "run", [trade(d, 50.0) for d in days], days,
                       store=str(tmp_path / "store"))
    assert run_report(ReportRequest(folder, None, None, False, STRATEGY_KEYS), Env(console=_quiet())) == 0
    assert tearsheet_calls[-1]["benchmark"] is None
    assert "No benchmark: SPY closes unreadable (ValueError)." in (folder / "report.html").read_text()
