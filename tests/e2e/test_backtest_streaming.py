"""SPEC 13 / issue 17: `vwapcli backtest` streams symbol by symbol and fans the per-symbol
phase out over executors, and none of it changes a byte of the run's tables.

Independent reference: the all-at-once pipeline that predates streaming and still serves
the sweep (``load_market_data`` -> ``execute_backtest``: every symbol's bars in memory, one
pricer built from all of them by ``build_engine``; model risk through
``scaled_quote_sources``, which rebuilds each scale's models from the bars), written with
the run folder's own table writer. The streamed command never calls that path: it loads,
signals, plans and builds pricing inputs one symbol at a time (``symbol_phase``) and
prices from those (``universe_pricer``). Three symbols and both shipped strategies, so
the merge meets same-minute signals of different symbols and strategies.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from builders.cli import invoke
from vwapcli.app_config import StrategyChoice
from vwapcli.backtest import execute_backtest, scaled_quote_sources
from vwapcli.data.loading import load_market_data
from vwapcli.engine import MODEL_RISK_FILE, build_engine, reprice_trades
from vwapcli.run_folder import write_table

SYMBOLS = ("SPY", "QQQ", "IWM")
TABLES = ("trades.csv", "skipped.csv", "equity.parquet")
START, END = "2023-03-01", "2023-12-29"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("universe") / "store"
    invoke([
        "fetch", "--source", "synthetic", "--symbols", *SYMBOLS, "--start", "2023-01-03", "--end", END,
        "--store", str(root),
    ])
    return root


def _config_file(folder: Path, options: str) -> Path:
    path = folder / "config.yaml"
    path.write_text(f"options:\n{options}" if options else "{}\n")
    return path


def _streamed(store: Path, out: Path, config: Path, *executor: str) -> Path:
    invoke([
        "backtest", "--store", str(store), "--symbols", *SYMBOLS, "--start", START, "--end", END,
        "--enable", "orb", "--config", str(config), "--out", str(out), *executor,
    ])
    return out


def _all_at_once(store: Path, out: Path, config_path: Path) -> Path:
    """The reference: every symbol's bars loaded together, one engine over all of them."""
    import datetime as dt

    config = StrategyChoice(config_path, enable=("orb",)).load()
    start, end = dt.date.fromisoformat(START), dt.date.fromisoformat(END)
    market = load_market_data(store, list(SYMBOLS), start, end, config.data.timeframe, config.data.calendar)
    result = execute_backtest(config, market, start, end, store)
    out.mkdir()
    write_table(result.trades, out / "trades.csv", None)
    write_table(result.skipped, out / "skipped.csv", None)
    write_table(result.equity, None, out / "equity.parquet")
    if config.options.pricing_source == "model":
        engine = build_engine(config, market, store)
        sources = scaled_quote_sources(config, market, store)
        write_table(reprice_trades(result.trades, engine, sources), None, out / MODEL_RISK_FILE)
    return out


@pytest.mark.parametrize(
    "options",
    ["", "  vol_model: flat\n", "  pricing_source: chain\n"],
    ids=["session model", "flat model", "chain mode"],
)
def test_a_streamed_run_writes_the_same_tables_byte_for_byte_as_the_all_at_once_pipeline(
    store: Path, tmp_path: Path, options: str
) -> None:
    """In this process (the walk prices lazily) and on a pool of two (each symbol priced in
    its worker, the walk looks prices up)."""
    config = _config_file(tmp_path, options)
    reference = _all_at_once(store, tmp_path / "reference", config)
    for workers in ("1", "2"):
        streamed = _streamed(store, tmp_path / f"streamed-{workers}", config, "--workers", workers)
        for name in TABLES:
            assert (streamed / name).read_bytes() == (reference / name).read_bytes(), (workers, name)
        assert (streamed / MODEL_RISK_FILE).exists() == (reference / MODEL_RISK_FILE).exists()
        if (reference / MODEL_RISK_FILE).exists():
            assert (streamed / MODEL_RISK_FILE).read_bytes() == (reference / MODEL_RISK_FILE).read_bytes()
    if not options:  # the default config trades: the comparison is about real trades
        assert len((reference / "trades.csv").read_text().splitlines()) > 20


def test_every_executor_writes_byte_identical_trades(store: Path, tmp_path: Path) -> None:
    """In this process, a local pool of two, and an existing Dask cluster (threads, for speed)."""
    distributed = pytest.importorskip("dask.distributed")
    config = _config_file(tmp_path, "")
    inline = _streamed(store, tmp_path / "inline", config, "--workers", "1")
    pool = _streamed(store, tmp_path / "pool", config, "--executor", "local", "--workers", "2")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        on_dask = _streamed(
            store, tmp_path / "dask", config, "--executor", "dask", "--scheduler", cluster.scheduler_address
        )
    for run in (pool, on_dask):
        for name in (*TABLES, MODEL_RISK_FILE):
            assert (run / name).read_bytes() == (inline / name).read_bytes(), (run.name, name)


def test_a_symbols_share_of_the_run_keeps_a_small_fraction_of_its_bars(store: Path) -> None:
    """What streaming rests on: after a symbol's phase only candidates, pricing inputs and
    session dates remain. Measured by pickling (what a worker sends back): a year of
    1-minute bars is six arrays of ~98,000 values (~4.7 MB in arrays alone); the result
    must be under a tenth of that, so it holds no copy or view of the bars."""
    import datetime as dt
    import pickle

    from vwapcli.data.loading import load_market_data
    from vwapcli.symbol_phase import SymbolPhase, run_symbol

    config = StrategyChoice(None, enable=("orb",)).load()
    start, end = dt.date.fromisoformat(START), dt.date.fromisoformat(END)
    bars = load_market_data(store, ["SPY"], start, end)["SPY"]
    bar_bytes = sum(getattr(bars, name).nbytes for name in ("ts", "open", "high", "low", "close", "volume"))
    result = run_symbol(SymbolPhase(config, store, start, end), "SPY")
    assert len(result.candidates) > 50 and result.pricing.model is not None
    assert len(pickle.dumps(result)) < bar_bytes / 10


def test_a_failure_inside_a_worker_is_the_users_one_line_error(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pool re-raises a worker's StoreError in the command: exit 2, one line, no folder."""
    from builders.cli import assert_one_line_failure, run_cli

    out = tmp_path / "late"
    # Inside the exchange calendar (a range with no session at all is refused before any
    # worker starts), after the stored bars: the worker's own read is what fails.
    code, text = run_cli([
        "backtest", "--store", str(store), "--symbols", *SYMBOLS, "--start", "2027-06-01",
        "--workers", "2", "--out", str(out),
    ], capsys, monkeypatch)
    assert_one_line_failure(code, text, "on or after 2027-06-01")
    assert not out.exists()


@pytest.mark.parametrize(
    "executor",
    [("--workers", "1"), ("--executor", "local", "--workers", "2"), ("--executor", "dask", "--workers", "1")],
    ids=["this process", "local pool", "dask worker process"],
)
def test_a_symbols_warning_is_in_run_log_once_wherever_its_phase_ran(
    store: Path, tmp_path: Path, executor: tuple[str, ...]
) -> None:
    """QQQ and IWM ship no calibration (SPEC 7.1: SPY's is used, with a warning). The warning
    is given where the symbol's model is built: this process, a forked pool worker (whose
    buffered log used to die with it) or a Dask worker process (its records forwarded).
    The run record describes the calibration without saying it again."""
    import json

    from vwapcli.options.calibration_file import warn_foreign_calibration

    if executor[1] == "dask":
        pytest.importorskip("dask.distributed")
    warn_foreign_calibration.cache_clear()  # once per process: an earlier test may have said it here
    run = _streamed(store, tmp_path / "run", _config_file(tmp_path, ""), *executor)
    messages = [json.loads(line)["message"] for line in (run / "run.log").read_text().splitlines()]
    for symbol in ("QQQ", "IWM"):
        said = [m for m in messages if m.startswith(f"no option-model calibration for {symbol}:")]
        assert len(said) == 1, (symbol, said)
    assert not any(m.startswith("no option-model calibration for SPY") for m in messages)


def test_a_dask_cluster_in_this_process_logs_each_warning_once(store: Path, tmp_path: Path) -> None:
    """Workers that share this process log into its run.log directly: nothing is forwarded
    on top (a second copy of every warning)."""
    import json

    from vwapcli.options.calibration_file import warn_foreign_calibration

    distributed = pytest.importorskip("dask.distributed")
    warn_foreign_calibration.cache_clear()
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        run = _streamed(
            store, tmp_path / "dask", _config_file(tmp_path, ""), "--executor", "dask",
            "--scheduler", cluster.scheduler_address,
        )
    messages = [json.loads(line)["message"] for line in (run / "run.log").read_text().splitlines()]
    assert sum(m.startswith("no option-model calibration for QQQ:") for m in messages) == 1
