"""`vwapcli paper --source replay --speed max` against `vwapcli backtest` on the same range.

The independent method is the backtest itself: a batch pass that sees every session whole
(signals per session, exits planned over the full day, the account walked afterwards).
Paper trading sees one close at a time and must arrive at the same trades, byte for byte
(all SPEC 10 columns of trades.csv and trades.parquet, skipped.csv and equity.parquet),
with both strategies on (ORB and VWAP_MEANREV).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from builders.cli import assert_one_line_failure, invoke, run_cli, sample_store
from vwapcli.resources import find_config_file

SYMBOLS = ["--symbols", "SPY", "QQQ"]
WEEKS = ["--start", "2024-12-02", "--end", "2024-12-13"]  # ten sessions
TABLES = ("trades.csv", "trades.parquet", "skipped.csv", "equity.parquet")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_store(tmp_path_factory.mktemp("store"))


@pytest.fixture(scope="module")
def tight_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped config with tighter SPEC 8 limits, so the account refuses entries too
    (position_open, max_open_positions and the daily loss limit all come into play)."""
    config = yaml.safe_load(find_config_file("default.yaml").read_text())
    config["risk"].update({"max_open_positions": 1, "daily_loss_limit_pct": 0.5, "risk_per_trade_pct": 2.0})
    path = tmp_path_factory.mktemp("config") / "tight.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _pair(store: Path, root: Path, *extra: str) -> tuple[Path, Path]:
    backtest, paper = root / "backtest", root / "paper"
    invoke(["backtest", "--store", str(store), *SYMBOLS, *WEEKS, *extra, "--out", str(backtest)])
    invoke(["--quiet", "paper", "--source", "replay", "--store", str(store), *SYMBOLS, *WEEKS, *extra,
            "--speed", "max", "--out", str(paper)])
    return backtest, paper


@pytest.fixture(scope="module")
def both_on(store: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return _pair(store, tmp_path_factory.mktemp("both"), "--enable", "vwap_meanrev")


def test_replaying_ten_sessions_gives_the_backtests_trades_byte_for_byte(both_on: tuple[Path, Path]) -> None:
    backtest, paper = both_on
    trades = pd.read_csv(backtest / "trades.csv")
    assert set(trades["strategy_name"]) == {"ORB", "VWAP_MEANREV"}  # both strategies traded
    assert trades["entry_time"].str[:10].nunique() >= 5  # over several sessions
    for name in TABLES:
        assert (paper / name).read_bytes() == (backtest / name).read_bytes(), name


def test_with_tight_risk_limits_the_skips_match_too(store: Path, tight_config: Path, tmp_path: Path) -> None:
    backtest, paper = _pair(store, tmp_path, "--config", str(tight_config), "--enable", "vwap_meanrev")
    skipped = pd.read_csv(backtest / "skipped.csv")
    assert {"position_open", "max_open_positions"} & set(skipped["reason"])  # the limits did refuse entries
    for name in TABLES:
        assert (paper / name).read_bytes() == (backtest / name).read_bytes(), name


def test_the_journal_has_a_header_and_every_trade_opened_and_closed_once(both_on: tuple[Path, Path]) -> None:
    _, paper = both_on
    records = [json.loads(line) for line in (paper / "journal.jsonl").read_text().splitlines()]
    header = records[0]
    assert header["kind"] == "header" and header["symbols"] == ["QQQ", "SPY"] and header["source"] == "replay"
    assert len(header["config_hash"]) == 64
    assert [r["seq"] for r in records] == list(range(len(records)))
    opened = [r["trade_id"] for r in records if r["kind"] == "open"]
    closed = [r["trade_id"] for r in records if r["kind"] == "close"]
    trades = pd.read_csv(paper / "trades.csv")
    assert sorted(opened) == sorted(closed) == trades["trade_id"].tolist()
    assert {r["strategy"] for r in records if r["kind"] == "signal"} == {"ORB", "VWAP_MEANREV"}
    assert records[-1]["kind"] == "end"
    # every bar consumed: ten sessions of 390 bars for two symbols
    assert sum(len(r["bars"]) for r in records if r["kind"] == "bars") == 10 * 390 * 2


def test_report_reads_a_paper_run_folder(both_on: tuple[Path, Path], capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    _, paper = both_on
    code, text = run_cli(["report", str(paper)], capsys, monkeypatch)
    assert code == 0, text
    assert (paper / "report.html").is_file()
    record = json.loads((paper / "run.json").read_text())
    assert record["paper"]["complete"] is True and record["start"] == "2024-12-02" and record["end"] == "2024-12-13"


def test_running_the_finished_session_again_adds_no_trade(store: Path, both_on: tuple[Path, Path]) -> None:
    _, paper = both_on
    before = (paper / "trades.csv").read_bytes()
    invoke(["--quiet", "paper", "--source", "replay", "--store", str(store), *SYMBOLS, *WEEKS,
            "--enable", "vwap_meanrev", "--out", str(paper)])
    assert (paper / "trades.csv").read_bytes() == before


def test_resuming_with_another_config_is_refused_in_one_line(
    store: Path, both_on: tuple[Path, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, paper = both_on
    code, text = run_cli(["paper", "--source", "replay", "--store", str(store), *SYMBOLS, *WEEKS, "--only", "orb",
                          "--out", str(paper)], capsys, monkeypatch)
    assert_one_line_failure(code, text, "config_hash")


def test_resuming_with_other_symbols_is_refused_in_one_line(
    store: Path, both_on: tuple[Path, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, paper = both_on
    code, text = run_cli(["paper", "--source", "replay", "--store", str(store), "--symbols", "SPY", *WEEKS,
                          "--enable", "vwap_meanrev", "--out", str(paper)], capsys, monkeypatch)
    assert_one_line_failure(code, text, "symbols")


def test_a_folder_without_a_journal_is_never_taken_over(
    store: Path, both_on: tuple[Path, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    backtest, _ = both_on
    code, text = run_cli(["paper", "--source", "replay", "--store", str(store), *SYMBOLS, *WEEKS,
                          "--out", str(backtest)], capsys, monkeypatch)
    assert_one_line_failure(code, text, "no paper journal")


def test_a_live_source_without_its_feed_module_fails_in_one_line(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "vwapcli.paper.provider_feed", None)  # import fails, as on a build without it
    code, text = run_cli(["paper", "--source", "alpaca", "--store", str(store), *SYMBOLS, "--out",
                          str(tmp_path / "live")], capsys, monkeypatch)
    assert_one_line_failure(code, text, "--source alpaca")
    assert not (tmp_path / "live").exists()  # refused before the folder was made
