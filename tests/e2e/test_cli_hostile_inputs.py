"""Hostile inputs against the CLI (issue 12 items 4, 5 and 6): each fails with exit 2, one
line, no traceback, and leaves the store and any run folder byte-identical, or runs and
says what it did.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from builders.cli import (
    assert_clean_failure,
    assert_one_line_failure,
    backtest_args,
    good_bars,
    invoke,
    run_cli,
    synthetic_store,
    write_store,
)
from builders.hostile import scaled_store, tree_digest

LONG_NAME = "n" * 300  # past the 255-byte name limit of every POSIX file system
# Root passes every permission check through two capabilities; dropping them (util-linux
# setpriv) makes root obey file modes like any user, so these cases run as root too.
DROP_OVERRIDE = ["--inh-caps=-dac_override,-dac_read_search", "--bounding-set=-dac_override,-dac_read_search"]
POSIX_ONLY = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


def run_cli_obeying_file_modes(args: list[str]) -> tuple[int, str]:
    """The CLI in a subprocess that file permissions apply to: as is for a user, without
    the override capabilities for root (skipped where setpriv cannot drop them)."""
    command = [sys.executable, "-m", "vwapcli.cli", *args]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("root ignores file permissions and setpriv is not installed")
        probe = subprocess.run([setpriv, *DROP_OVERRIDE, "true"], capture_output=True, check=False)
        if probe.returncode != 0:
            pytest.skip("root ignores file permissions and setpriv cannot drop the override here")
        command = [setpriv, *DROP_OVERRIDE, *command]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)
    return done.returncode, done.stdout + done.stderr


@pytest.fixture(scope="module")
def two_months(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Seeded synthetic SPY + QQQ, January-February 2024: enough sessions for signals."""
    return synthetic_store(tmp_path_factory.mktemp("two-months"), "2024-01-02", "2024-02-29")


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """Three sessions of SPY 1m bars (builders.cli.good_bars)."""
    root = tmp_path / "store"
    write_store(root, good_bars())
    return root


# ----------------------------------------------------------------- item 4: bounded resources


@pytest.mark.parametrize(
    ("factor", "needles"),
    [
        # SPY ~470 x 2e9 ~ 9.4e11: 0.25 x 9.4e11 / $1 ~ 2.4e11 strikes a side, past 10,000.
        (2e9, ["SPY", "model strikes either side", "limit 10,000", "strike_increment to at least"]),
        # SPY ~470 x 1e-9 ~ 4.7e-7: below one $1 strike step, no strike lies near spot.
        (1e-9, ["SPY", "below one strike step", "strike_increment to at most"]),
    ],
)
def test_prices_on_a_wrong_scale_fail_in_one_line_without_allocating_a_strike_grid(
    factor: float, needles: list[str], two_months: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    store = scaled_store(two_months, tmp_path / "scaled", factor)
    before, out = tree_digest(store), tmp_path / "run"
    code, text = run_cli(backtest_args(store, out, "--only", "orb"), capsys, monkeypatch)
    assert_clean_failure(code, text, out, *needles)
    assert tree_digest(store) == before


@pytest.mark.parametrize(
    ("yaml_text", "needle"),
    [
        ("options:\n  dte: 46\n", "options.dte"),  # one past the 45 sessions the calendar answers
        ("options:\n  dte: 100000000\n", "options.dte"),
        ("options:\n  rate: 1.0e300\n", "options.rate"),  # exp(-rT) overflowed: an internal error before
        ("options:\n  symbols:\n    SPY: {div_yield: 2.0}\n", "options.symbols.SPY.div_yield"),
    ],
)
def test_options_values_outside_their_domain_are_refused_in_one_line(
    yaml_text: str, needle: str, store: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    config, out = tmp_path / "bad.yaml", tmp_path / "run"
    config.write_text(yaml_text)
    code, text = run_cli(backtest_args(store, out, "--config", str(config)), capsys, monkeypatch)
    assert_clean_failure(code, text, out, needle)


# ----------------------------------------------------------- item 5: every failure is one line


def test_a_negative_seed_is_one_line_not_a_usage_box(tmp_path: Path, capsys, monkeypatch) -> None:
    target = tmp_path / "new-store"
    args = ["fetch", "--source", "synthetic", "--symbols", "SPY", "--seed", "-1", "--store", str(target)]
    code, text = run_cli(args, capsys, monkeypatch)
    assert_clean_failure(code, text, target, "--seed", "greater than or equal to 0")
    assert "╭" not in text and "Usage:" not in text


@pytest.mark.parametrize(
    "args",
    [
        ["fetch", "--source", "nowhere"],  # not one of the choices
        ["backtest", "--slippage", "3"],  # outside [0, 1]
        ["fetch"],  # a required option missing
        ["no-such-command"],
    ],
)
def test_usage_errors_are_one_line_naming_where_help_is(args: list[str], capsys, monkeypatch) -> None:
    code, text = run_cli(args, capsys, monkeypatch)
    assert_one_line_failure(code, text, "-h")
    assert "╭" not in text


@pytest.mark.parametrize(
    ("command", "start", "end", "span"),
    [
        ("backtest", "2024-06-08", "2024-06-09", "between 2024-06-08 and 2024-06-09"),  # Saturday, Sunday
        ("signals", "2024-03-16", "2024-03-17", "between 2024-03-16 and 2024-03-17"),  # a weekend inside the data's year
        # Before the calendar's first session (1990-01-02); within the dates the CLI parses.
        ("backtest", "1950-01-03", "1950-01-09", "between 1950-01-03 and 1950-01-09"),
        ("backtest", None, "1989-12-29", "up to 1989-12-29"),
        ("fetch", "2024-06-08", "2024-06-09", "between 2024-06-08 and 2024-06-09"),
        ("fetch", "1950-01-03", "1950-01-09", "between 1950-01-03 and 1950-01-09"),
    ],
)
def test_a_range_without_sessions_says_so_in_one_line(
    command: str, start: str | None, end: str, span: str, store: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    before = tree_digest(store)
    dates = [*(["--start", start] if start else []), "--end", end]
    if command == "fetch":
        out = tmp_path / "fresh-store"
        args = ["fetch", "--source", "synthetic", "--symbols", "SPY", "--store", str(out), *dates]
    elif command == "signals":
        out = tmp_path / "signals.csv"
        args = ["signals", "--store", str(store), "--symbols", "SPY", "--out", str(out), *dates]
    else:
        out = tmp_path / "run"
        args = backtest_args(store, out, *dates)
    code, text = run_cli(args, capsys, monkeypatch)
    assert_clean_failure(code, text, out, f"no sessions {span}")
    assert tree_digest(store) == before


@pytest.mark.parametrize("option", ["--out", "--store", "--config"])
def test_a_file_name_too_long_is_one_line_that_never_echoes_the_whole_name(
    option: str, store: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    long = tmp_path / LONG_NAME
    args = {
        "--out": backtest_args(store, long),
        "--store": backtest_args(long, tmp_path / "run"),
        "--config": [*backtest_args(store, tmp_path / "run"), "--config", f"{long}.yaml"],
    }[option]
    before = tree_digest(store)
    code, text = run_cli(args, capsys, monkeypatch)
    assert_one_line_failure(code, text, "too long")
    assert LONG_NAME not in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store"]
    assert tree_digest(store) == before


def test_signals_out_under_a_long_name_is_refused_before_any_work(store: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    out = tmp_path / f"{LONG_NAME}.csv"
    code, text = run_cli(["signals", "--store", str(store), "--out", str(out)], capsys, monkeypatch)
    assert_one_line_failure(code, text, "--out", "too long")


@pytest.mark.parametrize(
    ("case", "needle"),
    [
        ("config_is_a_folder", "cannot read config (Is a directory)"),
        ("grid_is_a_folder", "cannot read grid (Is a directory)"),
        ("store_is_a_file", "is a file, not a store folder"),
        ("out_parent_is_a_file", "is a file, not a folder"),
        ("run_folder_is_a_file", "is a file, not a run folder"),
    ],
)
def test_a_folder_where_a_file_should_be_and_the_reverse_are_one_line(
    case: str, needle: str, store: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    folder, a_file, out = tmp_path / "a-folder", tmp_path / "a-file", tmp_path / "run"
    folder.mkdir()
    a_file.write_text("not a store")
    args = {
        "config_is_a_folder": [*backtest_args(store, out), "--config", str(folder)],
        "grid_is_a_folder": ["sweep", "--config", str(folder.parent / "none.yaml"), "--grid", str(folder),
                             "--store", str(store), "--out", str(out)],
        "store_is_a_file": backtest_args(a_file, out),
        "out_parent_is_a_file": ["signals", "--store", str(store), "--out", str(a_file / "signals.csv")],
        "run_folder_is_a_file": ["report", str(a_file)],
    }[case]
    if case == "grid_is_a_folder":
        (folder.parent / "none.yaml").write_text("{}\n")
    before = tree_digest(store)
    code, text = run_cli(args, capsys, monkeypatch)
    assert_clean_failure(code, text, out, needle)
    assert a_file.read_text() == "not a store" and tree_digest(store) == before


@POSIX_ONLY
@pytest.mark.parametrize(
    ("locked", "needle"),
    [
        ("bars/timeframe=1m/symbol=SPY", "symbol=SPY: Permission denied"),  # a folder it cannot list
        ("bars/timeframe=1m/symbol=SPY/year=2024/part-0.parquet", "part-0.parquet: unreadable Parquet"),  # a file
    ],
)
def test_a_store_the_user_may_not_read_is_one_line(locked: str, needle: str, store: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    before = tree_digest(store)
    (store / locked).chmod(0)
    try:
        code, text = run_cli_obeying_file_modes(backtest_args(store, out))
    finally:
        (store / locked).chmod(0o755)
    assert_clean_failure(code, text, out, needle, "ermission denied")
    assert tree_digest(store) == before


@POSIX_ONLY
@pytest.mark.parametrize("command", ["backtest", "signals", "fetch"])
def test_an_output_folder_the_user_may_not_write_is_refused_before_any_work(
    command: str, store: Path, tmp_path: Path
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    out = locked / {"backtest": "run", "signals": "signals.csv", "fetch": "new-store"}[command]
    args = {
        "backtest": backtest_args(store, out),
        "signals": ["signals", "--store", str(store), "--out", str(out)],
        "fetch": ["fetch", "--source", "synthetic", "--symbols", "SPY", "--start", "2024-01-02", "--end", "2024-01-05",
                  "--store", str(out)],
    }[command]
    try:
        code, text = run_cli_obeying_file_modes(args)
    finally:
        locked.chmod(0o755)
    assert_clean_failure(code, text, out, "ermission denied", "locked")
    assert list(locked.iterdir()) == []


def test_a_permission_refused_mid_run_is_one_line_naming_the_file(
    store: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    """What a non-root user meets when a bar file is unreadable, simulated for root too:
    the system's PermissionError (errno 13) becomes one line, exit 2, no run folder."""
    import errno

    from vwapcli.data.store import BarStore

    denied = store / "bars" / "timeframe=1m" / "symbol=SPY" / "year=2024" / "part-0.parquet"

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", str(denied))

    monkeypatch.setattr(BarStore, "read_bar_arrays", refuse)
    out = tmp_path / "run"
    code, text = run_cli(backtest_args(store, out), capsys, monkeypatch)
    assert_clean_failure(code, text, out, "part-0.parquet", "Permission denied")


def test_a_missing_provider_sdk_names_the_extra_to_install(tmp_path: Path, capsys, monkeypatch) -> None:
    """yfinance serves the last 30 days of 1m bars: the two latest sessions before today are
    fetched, so the SDK is imported (and found missing) before any download or write."""
    import datetime as dt

    from vwapcli.data.sessions import SessionCalendar

    calendar, today = SessionCalendar(), dt.date.today()
    if today > calendar.last_session:
        pytest.skip("the exchange calendar ends before today")
    recent = calendar.sessions(today - dt.timedelta(days=10), today - dt.timedelta(days=1))["session_date"].tolist()
    monkeypatch.setitem(sys.modules, "yfinance", None)  # `import yfinance` now fails as if absent
    target = tmp_path / "store"
    args = ["fetch", "--source", "yfinance", "--symbols", "SPY", "--start", str(recent[-2]), "--end", str(recent[-1]),
            "--store", str(target)]
    code, text = run_cli(args, capsys, monkeypatch)
    assert_one_line_failure(code, text, "yfinance", "pip install 'vwapcli[providers]'")
    assert tree_digest(target) == {}


# The first data row of the run's trades.csv is edited: (column, new value, what the line says).
TRADE_EDITS = [
    ("pnl", "abc", "row 1, column pnl: 'abc' is not a finite number"),
    ("pnl", "inf", "row 1, column pnl: 'inf' is not a finite number"),
    ("direction", "SIDEWAYS", "row 1, column direction: 'SIDEWAYS' is not LONG or SHORT"),
    ("strategy_name", "", "row 1, column strategy_name: empty"),
    ("entry_time", "2024-13-45", "row 1, column entry_time: '2024-13-45' is not a timestamp"),
    ("exit_time", "2000-01-03T15:00:00Z", "row 1, column exit_time: '2000-01-03T15:00:00Z' is before the entry_time"),
    ("contracts", "many", "row 1, column contracts: 'many' is not a finite number"),
]


@pytest.fixture(scope="module")
def finished_run(two_months: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("runs") / "orb"
    invoke(["--quiet", *backtest_args(two_months, run, "--only", "orb")])
    return run


def _edit_first_trade(trades_csv: Path, column: str, value: str) -> None:
    import csv

    with trades_csv.open(newline="") as handle:
        rows = list(csv.reader(handle))
    rows[1][rows[0].index(column)] = value
    with trades_csv.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)


@pytest.mark.parametrize("keep_parquet", [True, False], ids=["beside-parquet", "csv-only"])
@pytest.mark.parametrize(("column", "value", "needle"), TRADE_EDITS)
def test_a_bad_value_in_a_hand_edited_trades_csv_names_file_row_and_column(
    column: str, value: str, needle: str, keep_parquet: bool, finished_run: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    if not keep_parquet:
        (run / "trades.parquet").unlink()
    _edit_first_trade(run / "trades.csv", column, value)
    before = tree_digest(run)
    code, text = run_cli(["report", str(run)], capsys, monkeypatch)
    assert_one_line_failure(code, text, "trades.csv", needle)
    assert tree_digest(run) == before  # no report.html, no metrics.json


def test_a_trades_csv_edited_beside_its_parquet_is_not_silently_ignored(
    finished_run: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    """A well-formed edit the report would not read (it reads trades.parquet) is refused."""
    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    _edit_first_trade(run / "trades.csv", "pnl", "123456.78")
    code, text = run_cli(["report", str(run)], capsys, monkeypatch)
    assert_one_line_failure(code, text, "trades.csv", "row 1, column pnl", "differs from trades.parquet")


# --------------------------------------------------------------- item 6: silent acceptance ends


@pytest.mark.parametrize("source", ["synthetic", "sample"])
def test_timeframe_given_to_a_source_that_writes_1m_bars_is_refused(
    source: str, tmp_path: Path, capsys, monkeypatch
) -> None:
    target = tmp_path / "store"
    args = ["fetch", "--source", source, "--symbols", "SPY", "--timeframe", "5m", "--store", str(target),
            "--start", "2024-01-02", "--end", "2024-01-05"]
    code, text = run_cli(args, capsys, monkeypatch)
    assert_clean_failure(code, text, target, f"fetch {source}: --timeframe 5m does not apply", "drop --timeframe")


def test_a_config_that_enables_no_strategy_warns_once_and_the_run_records_none(
    store: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    config, out = tmp_path / "none.yaml", tmp_path / "run"
    config.write_text("strategies:\n  orb: {enabled: false}\n")
    for key in _catalogue_keys():
        if key != "orb":
            config.write_text(config.read_text() + f"  {key}: {{enabled: false}}\n")
    code, text = run_cli(backtest_args(store, out, "--config", str(config)), capsys, monkeypatch)
    assert code == 0, text
    warnings = [line for line in text.splitlines() if "enables no strategy" in line]
    assert len(warnings) == 1 and "--only NAME" in warnings[0]
    assert json.loads((out / "run.json").read_text())["strategies"] == []
    # Its report renders (it crashed on the empty model-risk table) and says why there is none.
    code, text = run_cli(["report", str(out)], capsys, monkeypatch)
    assert code == 0, text
    assert "the run has no trades to re-price" in text and (out / "report.html").is_file()


def _catalogue_keys() -> list[str]:
    from vwapcli.strategies import catalogue

    return list(catalogue())


def test_a_sweep_over_a_disabled_strategy_is_refused_naming_it_and_the_fix(
    store: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    config, grid, out = tmp_path / "base.yaml", tmp_path / "grid.yaml", tmp_path / "sweep"
    config.write_text("strategies:\n  orb: {enabled: false}\n")
    grid.write_text("strategies.orb.range_minutes: [15, 30]\n")
    before = tree_digest(store)
    args = ["sweep", "--config", str(config), "--grid", str(grid), "--store", str(store), "--out", str(out)]
    code, text = run_cli(args, capsys, monkeypatch)
    assert_clean_failure(
        code, text, out, "strategies.orb.range_minutes is swept but strategies.orb is disabled",
        "strategies.orb.enabled: true",
    )
    assert tree_digest(store) == before and not (tmp_path / "trials").exists()


def test_a_sweep_whose_base_config_enables_no_strategy_is_refused(store: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    config, grid, out = tmp_path / "base.yaml", tmp_path / "grid.yaml", tmp_path / "sweep"
    config.write_text("strategies:\n" + "".join(f"  {key}: {{enabled: false}}\n" for key in _catalogue_keys()))
    grid.write_text("options.slippage: [0.25, 0.75]\n")
    args = ["sweep", "--config", str(config), "--grid", str(grid), "--store", str(store), "--out", str(out)]
    code, text = run_cli(args, capsys, monkeypatch)
    assert_clean_failure(code, text, out, "base.yaml: enables no strategy", "every trial of")
    assert not (tmp_path / "trials").exists()
