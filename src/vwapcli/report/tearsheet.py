"""quantstats' tearsheet of the daily returns, drawn beside the report, never inside it.

quantstats and matplotlib are imported inside the functions that need them, so importing
:mod:`vwapcli.report` stays cheap for every other command. On Linux quantstats is never
imported by the report process at all: its tearsheet is drawn by a forked process while
the report computes everything else, or read back from the tearsheet cache when these
returns were drawn before (issues 6 and 17; see the section comment below).
The page embeds the result in an ``<iframe srcdoc>`` so its global CSS cannot restyle
the report, after :func:`vwapcli.report.self_contained.strip_external_references`.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import re
import signal
import sys
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from vwapcli.report.self_contained import strip_external_references
from vwapcli.report.tearsheet_cache import TearsheetCache, library_version, tearsheet_key

log = logging.getLogger(__name__)
#: What ``matplotlib.use`` is given (vwapcli.report.quiet_backend; named here so that
#: importing this module does not import matplotlib).
QUIET_BACKEND = "module://vwapcli.report.quiet_backend"

# ------------------------------------------------------------------------ quantstats
#
# quantstats is most of the report's time: importing it (seaborn, scipy.stats) takes about
# a second and drawing its fourteen figures about three seconds of CPU. It needs nothing
# but the daily returns, so (issue 6) on Linux it runs in a child process forked as soon
# as the returns are known (about 0.2 s into the report): quantstats' import and drawing
# overlap the bootstrap, the model-risk verdicts and the report's own charts.
# Issue 17: the child calls quantstats' public ``qs.reports.html`` whole, with its own
# template, and draws on the quiet Agg backend (:mod:`.quiet_backend`, no redraw after
# each save); the finished page is kept in a content-addressed cache
# (:mod:`.tearsheet_cache`), so a report of returns already drawn never imports quantstats.
# Nothing here names a quantstats template placeholder or plot function: an upgrade
# changes the cache key (a fresh drawing once), never the path taken.

#: quantstats release the tearsheet checks (tests/unit/report/test_tearsheet.py) last
#: passed against; another one is named on the page and in the log (see quantstats_note).
TESTED_QUANTSTATS = "0.0.86"
#: Longest wait for the tearsheet process before the page goes without it.
TEARSHEET_TIMEOUT_S = 600.0


class TearsheetError(RuntimeError):
    """quantstats' tearsheet could not be built; the page says why and goes on without it."""


def clean_quantstats_page(text: str) -> str:
    """quantstats' page without its remote favicon, outbound link, onload hook and
    compatibility meta tag: nothing a browser would fetch, nothing run on load."""
    text = re.sub(r"<meta\s+http-equiv[^>]*>", "", text, flags=re.I)
    text = text.replace('onload="save()"', "")
    return strip_external_references(text)


def _import_quantstats() -> None:
    """Import quantstats for a child process that will draw with it (warm-up, no drawing).

    Outside any ``rc_context`` on purpose: quantstats sets its style (seaborn theme,
    font) at import, and the figures must be drawn with it, as on a first in-process call.
    """
    import matplotlib

    matplotlib.use(QUIET_BACKEND)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import matplotlib.pyplot
        import quantstats  # noqa: F401


@contextlib.contextmanager
def _quantstats_session() -> Iterator[Any]:
    """quantstats, ready to draw on the quiet Agg backend; rc changes, warnings and font
    noise contained."""
    import matplotlib

    matplotlib.use(QUIET_BACKEND)
    font_logger = logging.getLogger("matplotlib.font_manager")
    previous_level = font_logger.level
    font_logger.setLevel(logging.ERROR)  # quantstats asks for Arial, absent on servers
    try:
        with matplotlib.rc_context(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import matplotlib.pyplot as plt
            import quantstats as qs

            try:
                yield qs
            finally:
                plt.close("all")
    finally:
        font_logger.setLevel(previous_level)


def quantstats_tearsheet(returns: pd.Series, benchmark: pd.Series | None, title: str) -> str:
    """quantstats' HTML tearsheet of daily returns (``qs.reports.html``), cleaned of every
    remote reference.

    ``benchmark`` must be a Series of daily returns (never a ticker string: quantstats
    would download it). Charts are PNG so the text holds no SVG namespace URLs.
    """
    kwargs: dict[str, Any] = {"strategy_title": str(returns.name or "Strategy")}
    if benchmark is not None:
        kwargs["benchmark_title"] = str(benchmark.name or "Benchmark")
    with _quantstats_session() as qs, tempfile.TemporaryDirectory(prefix="vwapcli-qs-") as folder:
        output = Path(folder) / "tearsheet.html"
        qs.reports.html(returns, benchmark=benchmark, output=str(output), title=title,
                        figfmt="png", **kwargs)
        text = output.read_text("utf-8")
    return clean_quantstats_page(text)


def quantstats_note() -> str:
    """Which quantstats draws the tearsheet, and whether the tearsheet checks ran on it.

    Read from the installed distribution, without importing quantstats.
    """
    version = library_version("quantstats")
    if version == TESTED_QUANTSTATS:
        return f"Drawn by QuantStats {version} (qs.reports.html), as it comes."
    return (f"Drawn by QuantStats {version} (qs.reports.html), as it comes; vwapcli's tearsheet "
            f"checks last ran on {TESTED_QUANTSTATS}, so look it over.")


class TearsheetJob(Protocol):
    """A tearsheet being built: given the returns once known, asked for the text at the end."""

    def submit(self, returns: pd.Series, benchmark: pd.Series | None, title: str) -> None: ...

    def result(self) -> str: ...

    def close(self) -> None: ...


class InlineTearsheet:
    """Builds the tearsheet in this process when the result is asked for (no fork)."""

    def __init__(self) -> None:
        self._request: tuple[pd.Series, pd.Series | None, str] | None = None

    def submit(self, returns: pd.Series, benchmark: pd.Series | None, title: str) -> None:
        self._request = (returns, benchmark, title)

    def result(self) -> str:
        if self._request is None:
            raise TearsheetError("no returns were submitted")
        return quantstats_tearsheet(*self._request)

    def close(self) -> None:
        self._request = None


def _tearsheet_child(connection: Any, parent_end: Any) -> None:
    """Tearsheet process: import quantstats at once, then build the page it is sent."""
    parent_end.close()  # so a vanished parent reads as end-of-file, not a hang
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's; it ends us
    try:
        _import_quantstats()  # meanwhile the parent loads the run and computes returns
        returns, benchmark, title = connection.recv()
        connection.send(("ok", quantstats_tearsheet(returns, benchmark, title)))
    except EOFError:  # the parent closed without submitting (it failed early)
        pass
    except Exception as error:
        with contextlib.suppress(OSError):
            connection.send(("error", f"{type(error).__name__}: {error}"))
    finally:
        connection.close()


class ForkedTearsheet:
    """Builds the tearsheet in a forked child started now (see the section comment)."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("fork")
        self._connection, child_end = context.Pipe()
        # Daemonic: should the report stop anywhere (Ctrl-C included) before close(),
        # multiprocessing ends the child at exit instead of waiting for it.
        self._process = context.Process(
            target=_tearsheet_child,
            args=(child_end, self._connection),
            name="vwapcli-tearsheet",
            daemon=True,
        )
        self._process.start()
        child_end.close()
        self._sender: threading.Thread | None = None
        self._finished = False

    def submit(self, returns: pd.Series, benchmark: pd.Series | None, title: str) -> None:
        # Sent from a thread: the payload can outgrow the pipe buffer while the child is
        # still importing quantstats, and the report must not wait for that.
        def send() -> None:
            with contextlib.suppress(OSError, ValueError):  # child gone: result() says why
                self._connection.send((returns, benchmark, title))

        self._sender = threading.Thread(target=send, name="vwapcli-tearsheet-send", daemon=True)
        self._sender.start()

    def result(self) -> str:
        if self._sender is None:
            raise TearsheetError("no returns were submitted")
        self._sender.join()
        try:
            if not self._connection.poll(TEARSHEET_TIMEOUT_S):
                raise TearsheetError(f"no tearsheet after {TEARSHEET_TIMEOUT_S:.0f} s")
            message = self._connection.recv()
        except (EOFError, OSError):
            self._process.join(timeout=5.0)
            raise TearsheetError(
                f"the tearsheet process ended without a result (exit code {self._process.exitcode})"
            ) from None
        self._finished = True
        status, text = message
        if status != "ok":
            raise TearsheetError(text)
        return str(text)

    def close(self) -> None:
        if self._finished:  # it has sent its page and is exiting on its own
            self._process.join(timeout=5.0)
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()
        if self._sender is not None:  # with the child gone its send ends at once
            self._sender.join(timeout=5.0)
        self._connection.close()


class CachedTearsheet:
    """The tearsheet behind the tearsheet cache (issue 17): the drawing job is started
    only on a miss, once the returns (hence the key) are known, and its page is kept.

    Starting the child at submit rather than at once delays quantstats' import by the
    time it takes to load the run (about 0.2 s); a hit then costs no process, no import.
    """

    def __init__(self, start: Callable[[], TearsheetJob], cache: TearsheetCache) -> None:
        self._start = start
        self._cache = cache
        self._job: TearsheetJob | None = None
        self._key: str | None = None
        self._text: str | None = None

    def submit(self, returns: pd.Series, benchmark: pd.Series | None, title: str) -> None:
        self._key = tearsheet_key(returns, benchmark, title)
        self._text = self._cache.read(self._key)
        if self._text is not None:
            log.info("quantstats tearsheet read from the cache (%s)", self._cache.path(self._key))
            return
        log.info("quantstats tearsheet not in the cache: drawing it (key %s)", self._key[:16])
        self._job = self._start()
        self._job.submit(returns, benchmark, title)

    def result(self) -> str:
        if self._text is None:
            if self._job is None:
                raise TearsheetError("no returns were submitted")
            text = self._job.result()
            if self._key is not None:
                self._cache.write(self._key, text)
            self._text = text
        return self._text

    def close(self) -> None:
        if self._job is not None:
            self._job.close()


def start_tearsheet(cache: TearsheetCache | None = None) -> TearsheetJob:
    """Start building quantstats' tearsheet: call first, submit the returns when known.

    Behind ``cache`` (by default the user's tearsheet cache), the drawing starts at submit
    and only when the cache has no page for those returns; without a cache (caching
    turned off) it starts now. The drawing is a forked child on Linux (so its imports and
    drawing overlap the report's own work); elsewhere, inside a daemonic worker (which may
    not have children) or when no process can be started, it is built in-process at the end.
    """
    if library_version("quantstats") != TESTED_QUANTSTATS:
        log.warning(quantstats_note())
    cache = cache if cache is not None else TearsheetCache.default()
    return _start_drawing() if cache is None else CachedTearsheet(_start_drawing, cache)


def _start_drawing() -> TearsheetJob:
    if sys.platform.startswith("linux") and not multiprocessing.current_process().daemon:
        # The report draws its own charts with these too: imported before the fork they
        # are imported once for both processes (about 0.3 s of CPU).
        import matplotlib.backends.backend_agg
        import matplotlib.figure  # noqa: F401

        try:
            return ForkedTearsheet()
        except OSError:
            pass
    return InlineTearsheet()
