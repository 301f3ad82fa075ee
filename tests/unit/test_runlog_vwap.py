"""run.log (``vwapcli.runlog``): one JSON line per record, each record exactly once.

A backtest's run log is buffered (one line per decision, thousands a run) while its
per-symbol tasks may run in forked pool workers that inherit the handler. A worker ends
with ``os._exit`` (no buffer is written out then), and a buffer copied into a child at the
fork holds the parent's pending lines: the tests below fork real workers.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vwapcli.runlog import JsonLinesFormatter, run_log

log = logging.getLogger("vwapcli.test_runlog")


def _log_in_worker(text: str) -> int:
    log.warning("from the worker: %s", text, extra={"strategy": "ORB"})
    return 0


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.skipif(sys.platform == "win32", reason="fork start method")
def test_records_of_forked_workers_reach_the_run_log_once_and_the_parent_s_are_not_repeated(tmp_path: Path) -> None:
    path = tmp_path / "run.log"
    with run_log(path):
        log.info("before the pool")  # pending in the parent's buffer when the workers fork
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
            assert list(pool.map(_log_in_worker, ["a", "b", "c"])) == [0, 0, 0]
        log.info("after the pool")
    messages = [str(line["message"]) for line in _lines(path)]
    assert messages[0] == "before the pool"
    assert messages[-1] == "after the pool"
    assert sorted(messages[1:-1]) == ["from the worker: a", "from the worker: b", "from the worker: c"]


def test_the_parent_s_records_are_in_the_file_when_the_block_ends(tmp_path: Path) -> None:
    path = tmp_path / "run.log"
    with run_log(path):
        for i in range(3):
            log.info("decision %d", i, extra={"strategy": "VWAP_MEANREV"})
    lines = _lines(path)
    assert [line["message"] for line in lines] == ["decision 0", "decision 1", "decision 2"]
    assert {line["strategy"] for line in lines} == {"VWAP_MEANREV"}
    assert {line["level"] for line in lines} == {"INFO"}


_TEXT = st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(['"', "\\", "\n", "\x00", "\u2028"]))


@given(message=_TEXT, strategy=st.none() | _TEXT, name=st.sampled_from(["vwapcli.engine", "vwapcli.é"]),
       level=st.sampled_from([logging.INFO, logging.WARNING]))
def test_a_line_is_the_json_encoder_s_own_bytes(message: str, strategy: str | None, name: str, level: int) -> None:
    """Independent reference: ``json.dumps(..., sort_keys=True)`` of the record's fields."""
    record = logging.LogRecord(name, level, __file__, 1, "%s", (message,), None)
    if strategy is not None:
        record.strategy = strategy
    formatter = JsonLinesFormatter()
    line = formatter.format(record)
    expected = json.dumps(
        {"time": formatter.formatTime(record, "%Y-%m-%dT%H:%M:%S"), "level": logging.getLevelName(level),
         "logger": name, "strategy": strategy, "message": message},
        sort_keys=True,
    )
    assert line == expected


def test_a_strategy_that_is_not_text_is_encoded_as_json_would() -> None:
    record = logging.LogRecord("vwapcli.x", logging.INFO, __file__, 1, "n=%d", (3,), None)
    record.strategy = 7
    line = JsonLinesFormatter().format(record)
    assert json.loads(line)["strategy"] == 7
    assert '"strategy": 7' in line
