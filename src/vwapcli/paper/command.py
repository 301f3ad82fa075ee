"""``vwapcli paper`` (SPEC 12): the request, the run folder and its journal, start or resume.

``run_paper(request, env)`` opens (or continues) the run folder, builds the clock, feed,
engine and broker the request names, and runs the session until the replay ends, the
``--end`` session closes, or Ctrl-C. The folder is the one place an existing run is
continued: the same command with the same ``--out`` resumes from the journal, and is
refused when anything that decides trades (config, symbols, source, range, bar age)
differs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vwapcli.app_config import AppConfig, StrategyChoice
from vwapcli.core.types import SessionedBars, new_york_date, timeframe_ns
from vwapcli.data.loading import BarRequest, MarketData
from vwapcli.env import Env
from vwapcli.errors import ConfigError, RunFolderExistsError, caused_by_ctrl_c
from vwapcli.output_paths import check_output_folder
from vwapcli.paper.clocks import RealClock, SimulatedClock
from vwapcli.paper.incremental import IncrementalEngine, PricerForSession
from vwapcli.paper.journal import JOURNAL_FILE, Journal
from vwapcli.paper.panel import live_panel
from vwapcli.paper.replay_feed import ReplayFeed
from vwapcli.paper.run_files import publish_record, publish_tables
from vwapcli.paper.seams import BarFeed, Broker, Clock, NoBroker
from vwapcli.paper.session import PaperSession
from vwapcli.paper.tape import sessions_before
from vwapcli.runlog import run_log

SOURCES = ("replay", "alpaca", "polygon", "databento", "yfinance")
BROKERS = ("none", "alpaca-paper")
DEFAULT_MAX_BAR_AGE = dt.timedelta(minutes=2)
NOT_REPRICED = "paper trading: trades are not re-priced (run `vwapcli backtest` on the same range for model risk)"


@dataclass(frozen=True)
class PaperRequest:
    """`vwapcli paper`: where bars come from, which strategies, how fast, where the run goes.

    ``speed`` None is ``--speed max`` (replay only); ``max_bar_age``: no entry on a bar seen
    later than this after its close (exits are still taken).
    """

    source: str
    bars: BarRequest
    out: Path
    strategies: StrategyChoice = field(default_factory=StrategyChoice)
    speed: float | None = None
    broker: str = "none"
    max_bar_age: dt.timedelta = DEFAULT_MAX_BAR_AGE
    command: tuple[str, ...] = ()


@dataclass(frozen=True)
class PaperParts:
    """What a session runs with; tests pass their own clock, feed and broker."""

    clock: Clock | None = None
    feed: BarFeed | None = None
    broker: Broker | None = None


def config_hash(config: AppConfig) -> str:
    """sha256 of the resolved config (run.json's ``config``): equal hashes trade alike."""
    text = json.dumps(config.resolved_dict(), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def identity(request: PaperRequest, config: AppConfig, symbols: list[str]) -> dict[str, Any]:
    """Everything that decides a session's trades; a resume must match it field for field."""
    bars = request.bars
    return {
        "config_hash": config_hash(config),
        "symbols": symbols,
        "source": request.source,
        "start": bars.start.isoformat() if bars.start else None,
        "end": bars.end.isoformat() if bars.end else None,
        "timeframe": config.data.timeframe,
        "max_bar_age_seconds": request.max_bar_age.total_seconds(),
    }


def _check_resume(journal_path: Path, header: Mapping[str, Any], wanted: Mapping[str, Any]) -> None:
    for key, value in wanted.items():
        if header.get(key) != value:
            raise RunFolderExistsError(
                f"{journal_path}: this session was started with {key} {header.get(key)!r}, not {value!r} "
                "(rule: a paper run resumes only with the same config, symbols, source and range; choose another --out)"
            )


def _open_folder(out: Path) -> bool:
    """Check ``--out``; True when it holds a journal to resume."""
    check_output_folder(out)
    if (out / JOURNAL_FILE).is_file():
        return True
    if out.exists() and any(out.iterdir()):
        raise RunFolderExistsError(
            f"{out}: folder exists and holds no paper journal; choose another --out (runs are never overwritten)"
        )
    return False


def _live_feed(request: PaperRequest, symbols: tuple[str, ...], clock: Clock, env: Env) -> BarFeed:
    try:
        from vwapcli.paper.provider_feed import build_provider_feed
    except ImportError as error:
        raise ConfigError(f"--source {request.source}: live bar feeds are not available in this build ({error})") from None
    return build_provider_feed(request.source, symbols, clock, store_path=request.bars.store, console=env.console)


def _broker(name: str) -> Broker:
    if name == "none":
        return NoBroker()
    if name != "alpaca-paper":
        raise ConfigError(f"--broker {name}: unknown broker (choose from {', '.join(BROKERS)})")
    try:
        from vwapcli.paper.alpaca_broker import build_alpaca_paper_broker
    except ImportError as error:
        raise ConfigError(f"--broker alpaca-paper: the Alpaca paper broker is not available in this build ({error})") from None
    return build_alpaca_paper_broker()


def _pricers(config: AppConfig, market_data: MarketData, replay: bool) -> PricerForSession:
    """Replay prices with the backtest's own pricer (built once on the stored bars, as
    ``backtest`` builds it: the quote source reads only history before each instant);
    live sessions build one per session on the bars known when it is first needed."""
    from vwapcli.engine import build_pricer

    store = market_data.store
    if replay:
        pricer = build_pricer(config, market_data, store)
        return lambda day, known: pricer

    def per_session(day: dt.date, known: Mapping[str, SessionedBars]) -> Any:
        return build_pricer(config, known, store)

    return per_session


def run_paper(request: PaperRequest, env: Env, parts: PaperParts | None = None) -> Path:
    """Start or resume a paper session in ``request.out``; returns the run folder.

    Ctrl-C journals an ``interrupted`` record, publishes the tables and re-raises (the CLI
    prints the one 'interrupted' line and exits 130).
    """
    parts = parts or PaperParts()
    if request.source not in SOURCES:
        raise ConfigError(f"--source {request.source}: unknown source (choose from {', '.join(SOURCES)})")
    replay = request.source == "replay"
    if replay and request.bars.start is None:
        raise ConfigError("--source replay needs --start (the first stored session to replay)")
    out = request.out
    resuming = _open_folder(out)
    config = request.strategies.load()
    bar_ns = timeframe_ns(config.data.timeframe)
    bars = request.bars
    # Replay: the stored range (history before --start warms the ATR). Live: the store's
    # history, today's bars come from the provider.
    market_data = bars.load(config.data, env.console) if replay else BarRequest(
        bars.store, bars.symbols, None, None, bars.store_is_default
    ).load(config.data, env.console)
    symbols = sorted(market_data)
    wanted = identity(request, config, symbols)
    # Everything that can refuse is built before the folder is touched.
    broker = parts.broker or _broker(request.broker)
    clock, feed = parts.clock, parts.feed
    if not replay:
        clock = clock or RealClock()
        feed = feed or _live_feed(request, tuple(symbols), clock, env)
    out.mkdir(parents=True, exist_ok=True)
    journal_path = out / JOURNAL_FILE
    journal, records = Journal.open(journal_path)
    with journal, run_log(out / "run.log", live=True):
        resumed = bool(resuming and records)
        if resumed:
            _check_resume(journal_path, records[0], wanted)
            header = records[0]
            first_day = dt.date.fromisoformat(str(header["first_day"]))
            from vwapcli.atomic_write import remove_leftovers

            remove_leftovers(out)
        else:
            # The first session this run trades: history is everything stored before it
            # (a resume on a later day re-feeds the journaled days, never the store's).
            first_day = bars.start if replay and bars.start else new_york_date(clock.now_ns())  # type: ignore[union-attr]
            created = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            run_id = "vp" + hashlib.sha256(json.dumps([wanted, created], sort_keys=True).encode()).hexdigest()[:10]
            header = journal.append("header", {**wanted, "run_id": run_id, "created_at": created,
                                               "first_day": first_day.isoformat(), "broker": request.broker,
                                               "store": str(market_data.store)})
            records = [header]
        history = {s: sessions_before(b, first_day) for s, b in market_data.items()}
        engine = IncrementalEngine(config, history, _pricers(config, market_data, replay),
                                   int(request.max_bar_age.total_seconds() * 1e9))
        grace = 0 if replay else int(request.max_bar_age.total_seconds() * 1e9)
        session = PaperSession(engine, journal, broker, str(header["run_id"]), bar_ns, grace)
        session.resume(records)
        if replay:
            after = {s: tape.last_ts_ns for s, tape in engine.tapes.items()}
            replay_feed = ReplayFeed(market_data, bars.start, bars.end, config.data.timeframe, after_ns=after)
            feed = feed or replay_feed
            start_ns = session.last_now_ns or replay_feed.first_close_ns() or 0
            clock = clock or SimulatedClock(start_ns, request.speed)
        elif resumed:
            _mark_consumed(feed, engine, bar_ns)
        assert clock is not None and feed is not None
        record = _run_record(config, market_data, request, header)
        stop_ns = _stop_ns(engine, bars.end, replay)

        def finished(now_ns: int) -> bool:
            if replay:
                return bool(getattr(feed, "exhausted", False)) and engine.day is None
            return stop_ns is not None and now_ns >= stop_ns and engine.day is None

        with live_panel(env.console, not env.quiet) as draw:

            def publish(current: PaperSession) -> None:
                if current.changed:
                    _publish(out, current, record, complete=False)
                    current.changed = False
                draw(current)

            try:
                session.run(feed, clock, finished, publish)
            except BaseException as error:
                # A Ctrl-C inside a compiled kernel reaches us as numba's SystemError.
                if not caused_by_ctrl_c(error):
                    raise
                journal.append("interrupted", {"now": session.last_now_ns})
                _publish(out, session, record, complete=False)
                env.error_console.print(f"paper: journal {journal_path} is consistent; run the same command to resume")
                if isinstance(error, KeyboardInterrupt):
                    raise
                raise KeyboardInterrupt from error
            finally:
                # A live feed batches its store writes: store what it has not stored yet.
                close_feed = getattr(feed, "close", None)
                if close_feed is not None:
                    close_feed()
        journal.append("end", {"now": session.last_now_ns})
        _publish(out, session, record, complete=True)
    _summary(env, session, out)
    return out


def _mark_consumed(feed: object, engine: IncrementalEngine, bar_ns: int) -> None:
    """A resumed live session: the provider feed must not hand over today's journaled bars again.

    The journal replay left each tape at its last consumed bar; every start on the bar grid
    up to it (one session's worth back) is marked handed, starts outside the session being
    polled are forgotten by the feed at its first poll.
    """
    mark = getattr(feed, "mark_handed", None)
    if mark is None:
        return
    session_bars = 24 * 60 * 60 * 1_000_000_000 // bar_ns
    for symbol, tape in engine.tapes.items():
        if tape.last_ts_ns >= 0:
            mark(symbol, range(tape.last_ts_ns - session_bars * bar_ns, tape.last_ts_ns + 1, bar_ns))


def _stop_ns(engine: IncrementalEngine, end: dt.date | None, replay: bool) -> int | None:
    """Live: the close of the ``--end`` session (None: run until Ctrl-C)."""
    if replay or end is None:
        return None
    _, _, closes = engine.calendar.session_arrays(end - dt.timedelta(days=10), end)
    return int(closes[-1]) if len(closes) else None


def _run_record(config: AppConfig, market_data: MarketData, request: PaperRequest, header: Mapping[str, Any]) -> dict[str, Any]:
    from vwapcli.run_record import pricing_record, run_record

    record = run_record(config, market_data, [], request.command or tuple(sys.argv))
    record["pricing"] = pricing_record(config.options, market_data, NOT_REPRICED)
    record["created_at"] = header["created_at"]
    record["paper"] = {
        "run_id": header["run_id"], "source": header["source"], "broker": header.get("broker", "none"),
        "journal": JOURNAL_FILE, "complete": False,
    }
    return record


def _publish(out: Path, session: PaperSession, record: dict[str, Any], complete: bool) -> None:
    trades, skipped, equity = session.engine.tables()
    publish_tables(out, trades, skipped, equity)
    engine = session.engine
    days = [*engine.book.session_dates, *([engine.day.date] if engine.day else [])]
    record = {**record, "start": days[0].isoformat() if days else record["start"],
              "end": days[-1].isoformat() if days else record["end"],
              "paper": {**record["paper"], "complete": complete, "sessions": len(days),
                        "session_in_progress": engine.day.date.isoformat() if engine.day else None}}
    publish_record(out, record)


def _summary(env: Env, session: PaperSession, out: Path) -> None:
    from vwapcli.run_record import summary_table

    trades, skipped, _ = session.engine.tables()
    table = summary_table(trades, skipped)
    table.title = "Paper summary"
    env.console.print(table)
    env.console.print(f"run folder: [bold]{out}[/bold] (journal: {JOURNAL_FILE})")
