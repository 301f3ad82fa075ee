"""What a command needs from its surroundings, as one value: where to print, how loud, how to
show progress (httpie's ``Environment``).

Commands take an ``Env`` instead of consoles, flags and globals, so a test or a library
caller swaps the whole surroundings at once. The default is silent about progress
(``NoProgress``, like httpie's ``DummyDisplay``); the CLI builds ``Env.for_terminal``,
whose progress bars are Rich's, transient, and absent under ``--quiet``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Protocol

from rich.console import Console

#: Called with how many units of work just finished.
Advance = Callable[[int], None]


class ProgressBars(Protocol):
    """Makes progress bars: ``with env.progress.bar("backtest", 1510, "sessions") as advance:``."""

    def bar(self, label: str, total: int, unit: str = "") -> AbstractContextManager[Advance]: ...


def _ignore(done: int) -> None:
    """Progress nobody watches."""


class NoProgress:
    """The do-nothing default: tests, ``--quiet``, library callers."""

    @contextmanager
    def bar(self, label: str, total: int, unit: str = "") -> Iterator[Advance]:
        yield _ignore


class RichProgress:
    """One transient Rich bar per call: label, bar, done/total, unit, elapsed time."""

    def __init__(self, console: Console) -> None:
        self.console = console

    @contextmanager
    def bar(self, label: str, total: int, unit: str = "") -> Iterator[Advance]:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        columns = [TextColumn(f"[bold]{label}[/bold]"), BarColumn(), MofNCompleteColumn()]
        if unit:
            columns.append(TextColumn(unit))
        with Progress(*columns, TimeElapsedColumn(), console=self.console, transient=True) as progress:
            task = progress.add_task(label, total=total)
            yield lambda done: progress.advance(task, done)


def _stdout_console() -> Console:
    return Console(stderr=False, highlight=False)


def _stderr_console() -> Console:
    return Console(stderr=True, highlight=False)


@dataclass(frozen=True)
class Env:
    """A command's surroundings: ``console`` for results, ``error_console`` for the one
    error line, ``quiet`` (results only, no progress), ``debug`` (tracebacks)."""

    console: Console = field(default_factory=_stdout_console)
    error_console: Console = field(default_factory=_stderr_console)
    quiet: bool = False
    debug: bool = False
    progress: ProgressBars = field(default_factory=NoProgress)

    @classmethod
    def for_terminal(cls, quiet: bool = False, debug: bool = False) -> Env:
        """What the CLI runs with: Rich progress bars unless ``quiet``."""
        console = _stdout_console()
        console.quiet = quiet
        progress: ProgressBars = NoProgress() if quiet else RichProgress(console)
        return cls(console, _stderr_console(), quiet, debug, progress)
