"""The live loop on a fake clock and a scripted provider: no test sleeps in real time.

The reference for every expectation is a replay of the same stored session through
``run_paper --source replay`` (itself equal to the backtest: tests/e2e/test_paper_replay_vwap.py).
The scripted feed delivers that session's bars as a provider would, one poll per minute,
with the faults of SPEC 12: a late bar, a missing minute, three minutes of errors; and the
session is stopped mid-position and restarted. The default config trades ORB only.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from builders.cli import run_cli, sample_store
from vwapcli.app_config import StrategyChoice
from vwapcli.data.loading import BarRequest, load_market_data
from vwapcli.env import Env
from vwapcli.paper.clocks import SimulatedClock
from vwapcli.paper.command import PaperParts, PaperRequest, run_paper
from vwapcli.paper.replay_feed import bars_frame
from vwapcli.paper.seams import BrokerAck, FeedPoll, SpreadOrder

DAY = dt.date(2024, 12, 10)
MINUTE = 60_000_000_000
SYMBOLS = ("QQQ", "SPY")


def no_real_sleep(seconds: float) -> None:
    raise AssertionError(f"a test tried to sleep {seconds} real seconds")


@dataclass
class ScriptedFeed:
    """A provider as the loop sees it: each poll hands over the bars closed by then and not
    handed over before, except for the script's faults."""

    day_bars: dict[str, pd.DataFrame]
    late_ns: dict[tuple[str, int], int] = field(default_factory=dict)  # (symbol, bar start) -> extra delay
    missing: set[tuple[str, int]] = field(default_factory=set)
    outage: tuple[int, int] | None = None  # polls in [a, b) fail
    symbols: tuple[str, ...] = SYMBOLS
    timeframe: str = "1m"
    delivered: set[tuple[str, int]] = field(default_factory=set)
    polls: list[int] = field(default_factory=list)

    def poll(self, now_ns: int) -> FeedPoll:
        self.polls.append(now_ns)
        if self.outage is not None and self.outage[0] <= now_ns < self.outage[1]:
            return FeedPoll({}, errors=("provider: HTTP 503 Service Unavailable",), retry_at_ns=now_ns + MINUTE)
        out = {}
        for symbol, frame in self.day_bars.items():
            ts = frame["ts"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
            keep = [
                k for k, start in enumerate(ts.tolist())
                if (symbol, start) not in self.delivered and (symbol, start) not in self.missing
                and start + MINUTE + self.late_ns.get((symbol, start), 0) <= now_ns
            ]
            if keep:
                self.delivered.update((symbol, int(ts[k])) for k in keep)
                out[symbol] = frame.iloc[keep].reset_index(drop=True)
        return FeedPoll(out)


class RecordingBroker:
    """Accepts every order, remembers it, and answers a reconcile with what it holds."""

    name = "recording"

    def __init__(self) -> None:
        self.orders: list[SpreadOrder] = []
        self.acks: dict[str, BrokerAck] = {}

    def submit(self, order: SpreadOrder) -> BrokerAck:
        self.orders.append(order)
        ack = BrokerAck(order.client_order_id, f"b-{len(self.orders)}", "filled", order.limit_price, order.contracts)
        self.acks[order.client_order_id] = ack
        return ack

    def reconcile(self, client_order_ids: Any) -> dict[str, BrokerAck]:
        return {i: self.acks[i] for i in client_order_ids if i in self.acks}


class InterruptingClock(SimulatedClock):
    """A simulated clock whose user presses Ctrl-C when it is asked to wait past ``at_ns``."""

    def __init__(self, start_ns: int, at_ns: int) -> None:
        super().__init__(start_ns, None, no_real_sleep)
        self.at_ns = at_ns

    def sleep_until(self, t_ns: int) -> None:
        if t_ns > self.at_ns:
            raise KeyboardInterrupt
        super().sleep_until(t_ns)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_store(tmp_path_factory.mktemp("store"))


@pytest.fixture(scope="module")
def day_bars(store: Path) -> dict[str, pd.DataFrame]:
    config = StrategyChoice().load()
    data = load_market_data(store, list(SYMBOLS), DAY, DAY, calendar=config.data.calendar)
    frames = {}
    for symbol in SYMBOLS:
        bars = data[symbol]
        i = int(np.flatnonzero(bars.session_date.astype("datetime64[D]") == np.datetime64(DAY))[0])
        a, b = int(bars.session_start[i]), int(bars.session_start[i + 1])
        frames[symbol] = bars_frame(bars.ts[a:b], bars.open[a:b], bars.high[a:b], bars.low[a:b], bars.close[a:b],
                                    bars.volume[a:b])
    return frames


def _request(store: Path, out: Path, source: str, end: dt.date = DAY) -> PaperRequest:
    return PaperRequest(source=source, bars=BarRequest(store, SYMBOLS, DAY if source == "replay" else None, end),
                        out=out)


@pytest.fixture(scope="module")
def replayed(store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("replay") / "paper"
    run_paper(_request(store, out, "replay"), Env(quiet=True))
    return out


def _open_ns(day_bars: dict[str, pd.DataFrame]) -> int:
    return int(day_bars["SPY"]["ts"].iloc[0].value)


def _live(store: Path, out: Path, feed: ScriptedFeed, clock: SimulatedClock | None = None,
          broker: RecordingBroker | None = None, end: dt.date = DAY) -> Path:
    clock = clock or SimulatedClock(_open_ns(feed.day_bars), None, no_real_sleep)
    run_paper(_request(store, out, "alpaca", end), Env(quiet=True), PaperParts(clock, feed, broker or RecordingBroker()))
    return out


def _records(run: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run / "journal.jsonl").read_text().splitlines()]


def _same_tables(a: Path, b: Path) -> None:
    for name in ("trades.csv", "skipped.csv", "equity.parquet"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_a_clean_provider_on_a_fake_clock_trades_exactly_like_the_replay(
    store: Path, day_bars: dict[str, pd.DataFrame], replayed: Path, tmp_path: Path
) -> None:
    """Live pricing is built on the bars known at the first entry; the replay's on the
    whole store: equal trades prove the quote source reads no bar from the future."""
    feed = ScriptedFeed(day_bars)
    run = _live(store, tmp_path / "live", feed)
    assert len(pd.read_csv(replayed / "trades.csv")) >= 1
    _same_tables(run, replayed)
    assert len(feed.polls) >= 390  # one poll a minute through the session, none slept for real


def test_a_bar_a_minute_late_is_consumed_in_order_and_changes_nothing(
    store: Path, day_bars: dict[str, pd.DataFrame], replayed: Path, tmp_path: Path
) -> None:
    late = int(day_bars["SPY"]["ts"].iloc[60].value)  # 10:30 bar, seen one minute after its close
    run = _live(store, tmp_path / "live", ScriptedFeed(day_bars, late_ns={("SPY", late): MINUTE}))
    _same_tables(run, replayed)  # 60 s is within --max-bar-age 2m: every decision stands
    record = next(r for r in _records(run) if r["kind"] == "bars" and r["t"] == late + MINUTE and "SPY" in r["bars"])
    assert record["now"] - record["t"] == MINUTE


def test_a_missing_minute_never_arrives_and_the_session_still_closes(
    store: Path, day_bars: dict[str, pd.DataFrame], tmp_path: Path
) -> None:
    gone = int(day_bars["QQQ"]["ts"].iloc[200].value)
    run = _live(store, tmp_path / "live", ScriptedFeed(day_bars, missing={("QQQ", gone)}))
    records = _records(run)
    qqq = [r["bars"]["QQQ"][0] for r in records if r["kind"] == "bars" and "QQQ" in r["bars"]]
    assert len(qqq) == 389 and gone not in qqq  # 390 bars in the session, one never sent
    days = [r for r in records if r["kind"] == "day"]
    assert [d["session_date"] for d in days] == [DAY.isoformat()]
    assert records[-1]["kind"] == "end"


def test_three_minutes_of_provider_errors_are_journaled_and_the_stale_signal_is_skipped(
    store: Path, day_bars: dict[str, pd.DataFrame], replayed: Path, tmp_path: Path
) -> None:
    """The replay's first signal fires at the close T of its bar. The provider fails at the
    polls at T, T+1m and T+2m (three errors) and delivers at T+3m: the bar is then 180 s
    old, more than --max-bar-age 2m, so its entry is skipped as stale_bar."""
    first = next(r for r in _records(replayed) if r["kind"] == "signal")
    t = first["entry_time_ns"]
    run = _live(store, tmp_path / "live", ScriptedFeed(day_bars, outage=(t, t + 3 * MINUTE)))
    records = _records(run)
    errors = [r for r in records if r["kind"] == "feed_error"]
    assert [r["now"] for r in errors] == [t, t + MINUTE, t + 2 * MINUTE]
    skip = next(r for r in records if r["kind"] == "skip" and r["entry_time_ns"] == t)
    assert skip["reason"] == "stale_bar" and skip["strategy"] == first["strategy"]
    skipped = pd.read_csv(run / "skipped.csv")
    assert "stale_bar" in set(skipped["reason"])
    caught_up = [r for r in records if r["kind"] == "bars" and r["now"] == t + 3 * MINUTE]
    assert [r["t"] for r in caught_up] == [t, t + MINUTE, t + 2 * MINUTE, t + 3 * MINUTE]


def test_ctrl_c_mid_position_then_a_restart_ends_with_the_uninterrupted_trades_and_orders(
    store: Path, day_bars: dict[str, pd.DataFrame], replayed: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    first_open = next(r for r in _records(replayed) if r["kind"] == "open")
    stop_at = first_open["time_ns"] + 2 * MINUTE  # the trade is open (ORB exits are never this quick here)
    assert not any(r["kind"] == "close" and r["exit_time_ns"] <= stop_at for r in _records(replayed))
    out = tmp_path / "live"
    broker = RecordingBroker()
    with pytest.raises(KeyboardInterrupt):
        _live(store, out, ScriptedFeed(day_bars), InterruptingClock(_open_ns(day_bars), stop_at), broker)
    records = _records(out)
    assert records[-1]["kind"] == "interrupted"
    assert any(r["kind"] == "open" for r in records) and not any(r["kind"] == "close" for r in records)
    # The folder reads as a run mid-session: no closed trade yet, today's provisional row.
    code, text = run_cli(["report", str(out)], capsys, monkeypatch)
    assert code == 0, text
    assert json.loads((out / "run.json").read_text())["paper"]["session_in_progress"] == DAY.isoformat()
    # Restart where it stopped, with a fresh provider connection (it re-sends the day so far).
    _live(store, out, ScriptedFeed(day_bars), SimulatedClock(stop_at, None, no_real_sleep), broker)
    _same_tables(out, replayed)
    ids = [o.client_order_id for o in broker.orders]
    assert len(ids) == len(set(ids))  # no order sent twice across the restart
    trades = pd.read_csv(out / "trades.csv")
    assert len(ids) == 2 * len(trades)
    opens = {o.client_order_id.rsplit("-", 2)[1]: o for o in broker.orders if o.action == "open"}
    closes = {o.client_order_id.rsplit("-", 2)[1]: o for o in broker.orders if o.action == "close"}
    for trade in trades.itertuples():
        assert opens[str(trade.trade_id)].limit_price == trade.entry_debit
        assert closes[str(trade.trade_id)].limit_price == trade.exit_credit
        assert opens[str(trade.trade_id)].contracts == trade.contracts
    acks = [r for r in _records(out) if r["kind"] == "ack"]
    assert sorted(a["client_order_id"] for a in acks) == sorted(ids)


def test_the_live_panel_shows_clock_bars_open_positions_and_the_loss_limit(
    store: Path, day_bars: dict[str, pd.DataFrame], replayed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The panel is drawn from the session's state on a terminal; here each frame is
    rendered into a recording console, and the frame taken while the replay's first trade
    is open must show it marked to the model."""
    from contextlib import contextmanager

    from rich.console import Console

    import vwapcli.paper.command as command
    from vwapcli.paper.panel import panel

    first_open = next(r for r in _records(replayed) if r["kind"] == "open")
    frames: dict[int, str] = {}

    @contextmanager
    def recording_panel(console: Any, enabled: bool):  # type: ignore[no-untyped-def]
        def draw(session: Any) -> None:
            screen = Console(record=True, width=140)
            screen.print(panel(session))
            frames[session.last_now_ns] = screen.export_text()

        yield draw

    monkeypatch.setattr(command, "live_panel", recording_panel)
    _live(store, tmp_path / "live", ScriptedFeed(day_bars))
    frame = frames[first_open["time_ns"] + MINUTE]
    assert "open positions" in frame and "daily loss limit: ok" in frame
    row = next(line for line in frame.splitlines() if f"{first_open['k_long']:g}/{first_open['k_short']:g}" in line)
    assert first_open["symbol"] in row and first_open["strategy"] in row and f"{first_open['entry_debit']:.2f}" in row
    assert "2024-12-10" in frame  # the clock, in New York time


def test_a_bar_arriving_after_its_session_was_booked_is_ignored(
    store: Path, day_bars: dict[str, pd.DataFrame], replayed: Path, tmp_path: Path
) -> None:
    """The last SPY bar (15:59) comes 10 minutes late, after the day was booked at
    16:00 + 2m (the session runs on to the next day's close, so the feed is polled again,
    at the next open): the bar is journaled as received but books nothing, and no second
    equity row appears for the day."""
    last = int(day_bars["SPY"]["ts"].iloc[-1].value)
    feed = ScriptedFeed(day_bars, late_ns={("SPY", last): 10 * MINUTE})
    run = _live(store, tmp_path / "live", feed, end=DAY + dt.timedelta(days=1))
    records = _records(run)
    received = [r for r in records if r["kind"] == "bars" and r["bars"].get("SPY", [0])[0] == last]
    assert len(received) == 1 and received[0]["now"] > max(r["now"] for r in records if r["kind"] == "close_day")
    assert [r["session_date"] for r in records if r["kind"] == "day"] == [DAY.isoformat()]
    equity = pd.read_parquet(run / "equity.parquet")
    assert equity["session_date"].tolist() == [DAY]


@dataclass
class ClosableFeed(ScriptedFeed):
    """A scripted provider with the ProviderFeed's two extras: resume marks and close()."""

    marked: dict[str, set[int]] = field(default_factory=dict)
    closed: int = 0

    def mark_handed(self, symbol: str, starts: Any) -> None:
        self.marked.setdefault(symbol, set()).update(int(t) for t in starts)
        self.delivered.update((symbol, int(t)) for t in starts)

    def close(self) -> None:
        self.closed += 1


def test_a_resumed_live_run_marks_the_journaled_bars_handed_and_closes_its_feed_every_time(
    store: Path, day_bars: dict[str, pd.DataFrame], replayed: Path, tmp_path: Path,
) -> None:
    """Wiring of the live feed (p13b's contract): ``close()`` stores the batched bars at the
    end and on Ctrl-C; on resume every bar start the journal consumed is marked handed, so
    the provider never hands today's bars over twice. Expected starts come from the journal."""
    first_open = next(r for r in _records(replayed) if r["kind"] == "open")
    stop_at = first_open["time_ns"] + 2 * MINUTE
    out = tmp_path / "live"
    first = ClosableFeed(day_bars)
    with pytest.raises(KeyboardInterrupt):
        _live(store, out, first, InterruptingClock(_open_ns(day_bars), stop_at))
    assert first.closed == 1 and first.marked == {}  # a fresh run marks nothing
    consumed = {r["t"] - MINUTE for r in _records(out) if r["kind"] == "bars"}  # journal: close times
    second = ClosableFeed(day_bars)
    _live(store, out, second, SimulatedClock(stop_at, None, no_real_sleep))
    assert second.closed == 1
    for symbol in SYMBOLS:
        assert consumed <= second.marked[symbol]
        assert max(second.marked[symbol]) == max(consumed)  # nothing not yet consumed is marked
    _same_tables(out, replayed)
