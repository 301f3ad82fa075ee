"""JSON-lines logging into a run folder; strategy records carry ``strategy=<NAME>``."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, strategy (when set), message."""

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "strategy": getattr(record, "strategy", None),
            "message": record.getMessage(),
        }
        return json.dumps(payload, sort_keys=True)


@contextmanager
def run_log(path: Path, level: int = logging.INFO) -> Iterator[None]:
    """Send every ``vwapcli.*`` record at ``level`` or above to ``path`` while the block runs."""
    handler = logging.FileHandler(path, encoding="utf-8")
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
        handler.close()
