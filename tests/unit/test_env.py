"""The Env a command runs in: do-nothing progress by default, none at all under --quiet."""

from __future__ import annotations

import io

from rich.console import Console

from vwapcli.env import Env, NoProgress, RichProgress


def test_the_default_env_shows_no_progress_and_advancing_it_is_harmless() -> None:
    env = Env(console=Console(file=io.StringIO()))
    assert isinstance(env.progress, NoProgress)
    with env.progress.bar("backtest", 3, "sessions") as advance:
        advance(1)
        advance(2)
    assert env.console.file.getvalue() == ""  # type: ignore[attr-defined]


def test_quiet_terminals_get_a_quiet_console_and_no_progress_bars() -> None:
    quiet = Env.for_terminal(quiet=True, debug=True)
    assert quiet.console.quiet and quiet.quiet and quiet.debug
    assert isinstance(quiet.progress, NoProgress)
    assert isinstance(Env.for_terminal().progress, RichProgress)


def test_rich_bars_are_transient_so_piped_output_holds_only_the_results() -> None:
    """Off a terminal Rich draws no live bar; a transient bar leaves one blank line behind."""
    console = Console(file=io.StringIO(), width=80)
    with RichProgress(console).bar("sweep", 4, "configurations") as advance:
        for _ in range(4):
            advance(1)
    console.print("results")
    assert console.file.getvalue() == "\nresults\n"  # type: ignore[attr-defined]
