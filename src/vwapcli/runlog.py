"""JSON-lines logging into a run folder; strategy records carry ``strategy=<NAME>``."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_ENCODER = json.JSONEncoder(sort_keys=True)


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, strategy (when set), message.

    A backtest writes one record per decision (thousands a run), so the time text is made
    once per second and the encoder is built once.
    """

    _second: int | None = None
    _stamp = ""

    def format(self, record: logging.LogRecord) -> str:
        second = int(record.created)
        if second != self._second:
            self._second, self._stamp = second, self.formatTime(record, "%Y-%m-%dT%H:%M:%S")
        payload = {
            "time": self._stamp,
            "level": record.levelname,
            "logger": record.name,
            "strategy": getattr(record, "strategy", None),
            "message": record.getMessage(),
        }
        return _ENCODER.encode(payload)


class RunLogHandler(logging.FileHandler):
    """A file handler written through Python's buffer, not flushed after every record.

    A backtest logs one line per decision (thousands a run); ``StreamHandler`` flushes each,
    a system call per line. ``close`` closes the file, which writes the buffer out, and a
    backtest's run folder is published only after that, so nothing reads it half-written.
    """

    def flush(self) -> None:
        """Nothing per record (see the class docstring)."""


@contextmanager
def run_log(path: Path, level: int = logging.INFO, *, live: bool = False) -> Iterator[None]:
    """Send every ``vwapcli.*`` record at ``level`` or above to ``path`` while the block runs.

    ``live``: each record is on disk as soon as it is logged (paper trading, which a user
    follows while it runs); otherwise the file is written when the block ends.
    """
    handler = logging.FileHandler(path, encoding="utf-8") if live else RunLogHandler(path, encoding="utf-8")
    # Nothing here reads a record's thread or process: skip looking them up while the block runs.
    looked_up = logging.logThreads, logging.logProcesses, logging.logMultiprocessing
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    handler.setFormatter(JsonLinesFormatter())
    handler.setLevel(level)
    logger = logging.getLogger("vwapcli")
    previous = logger.level
    logger.addHandler(handler)
    if logger.level == logging.NOTSET or logger.level > level:
        logger.setLevel(level)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
        logging.logThreads, logging.logProcesses, logging.logMultiprocessing = looked_up
        handler.close()
