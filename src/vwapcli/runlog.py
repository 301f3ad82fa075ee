"""JSON-lines logging into a run folder; strategy records carry ``strategy=<NAME>``."""

from __future__ import annotations

import json
import logging
import os
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_ENCODER = json.JSONEncoder(sort_keys=True)
# The string encoder ``_ENCODER`` applies to every str value (ensure_ascii: the C one when
# the interpreter has it).
_ENCODE_TEXT = json.encoder.encode_basestring_ascii


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, strategy (when set), message.

    A backtest writes one record per decision (77,000 for 100 symbols x 10 years), so the
    time text is made once per second and the line is assembled from its encoded strings
    in the encoder's own layout (keys sorted, ``", "`` and ``": "``): the bytes of
    ``JSONEncoder(sort_keys=True).encode`` of the record's dict, which is still what any
    value that is not a plain string (or a missing strategy) goes through.
    """

    _second: int | None = None
    _stamp = ""

    def format(self, record: logging.LogRecord) -> str:
        second = int(record.created)
        if second != self._second:
            self._second, self._stamp = second, self.formatTime(record, "%Y-%m-%dT%H:%M:%S")
        strategy = getattr(record, "strategy", None)
        message = record.getMessage()
        level, name = record.levelname, record.name
        if type(message) is str and type(level) is str and type(name) is str and (
            strategy is None or type(strategy) is str
        ):
            return (
                f'{{"level": {_ENCODE_TEXT(level)}, "logger": {_ENCODE_TEXT(name)}, '
                f'"message": {_ENCODE_TEXT(message)}, '
                f'"strategy": {"null" if strategy is None else _ENCODE_TEXT(strategy)}, '
                f'"time": {_ENCODE_TEXT(self._stamp)}}}'
            )
        payload = {"time": self._stamp, "level": level, "logger": name, "strategy": strategy, "message": message}
        return _ENCODER.encode(payload)


class RunLogHandler(logging.FileHandler):
    """A file handler written through Python's buffer, not flushed after every record.

    A backtest logs one line per decision (thousands a run); ``StreamHandler`` flushes each,
    a system call per line. ``close`` closes the file, which writes the buffer out, and a
    backtest's run folder is published only after that, so nothing reads it half-written.

    Forked processes (the local pool's workers) inherit the handler, buffer included. So
    the buffer is written out before every fork (else each child would hold, and might
    write again, the parent's pending lines), and a child writes each record through: a
    pool worker ends with ``os._exit``, which writes out no buffer.
    """

    def __init__(self, filename: Path, encoding: str) -> None:
        super().__init__(filename, encoding=encoding)
        self._opened_by = os.getpid()
        _BUFFERED.add(self)

    def flush(self) -> None:
        """Nothing per record in the process that opened the file (see the class docstring)."""
        if os.getpid() != self._opened_by:
            self.write_out()

    def write_out(self) -> None:
        """Write the buffered lines to the file now."""
        super().flush()


_BUFFERED: weakref.WeakSet[RunLogHandler] = weakref.WeakSet()


def _write_out_before_fork() -> None:
    for handler in list(_BUFFERED):
        handler.write_out()


if hasattr(os, "register_at_fork"):  # POSIX; elsewhere nothing forks
    os.register_at_fork(before=_write_out_before_fork)


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
