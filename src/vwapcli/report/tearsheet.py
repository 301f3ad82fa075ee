"""quantstats' tearsheet of the daily returns, drawn beside the report, never inside it.

quantstats and matplotlib are imported inside the functions that need them, so importing
:mod:`vwapcli.report` stays cheap for every other command. On Linux quantstats is never
imported by the report process at all: its tearsheet is drawn by forked processes while
the report computes everything else (issue 6; see the section comment below).
The page embeds the result in an ``<iframe srcdoc>`` so its global CSS cannot restyle
the report, after :func:`vwapcli.report.self_contained.strip_external_references`.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import re
import signal
import sys
import tempfile
import threading
import warnings
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from vwapcli.report.self_contained import strip_external_references

# ------------------------------------------------------------------------ quantstats
#
# quantstats is most of the report's time: importing it (seaborn, scipy.stats) takes about
# a second and drawing its fourteen figures about three. It needs nothing but the daily
# returns, so on Linux it runs in a child process forked when the report starts (fork, not
# spawn: the child inherits pandas and vwapcli already imported, and quantstats' import
# overlaps the parent loading the run). Once the returns arrive the child forks a helper
# and the two draw half the figures each, while the parent computes the bootstrap verdict
# and its own charts. The page waits for the tearsheet only when it is laid out.

#: quantstats.plots functions the helper process draws, each with the template
#: placeholders its figures fill (quantstats 0.0.86 ``reports.html``). The first process
#: computes the metric tables and draws every other figure. Chosen to split the drawing
#: time roughly in half; any mismatch with quantstats falls back to one process.
HELPER_FIGURES: dict[str, tuple[str, ...]] = {
    "rolling_beta": ("rolling_beta",),
    "rolling_volatility": ("rolling_vol",),
    "rolling_sharpe": ("rolling_sharpe",),
    "rolling_sortino": ("rolling_sortino",),
    "drawdown": ("dd_plot",),
    "monthly_heatmap": ("monthly_heatmap",),
    "distribution": ("returns_dist",),
}
#: The quantstats.plots functions the first process draws; the helper skips them. (A
#: figure function in neither list is drawn by both: wasted time, never a wrong page.)
FIRST_FIGURES = (
    "returns", "log_returns", "yearly_returns", "histogram", "daily_returns", "drawdowns_periods",
)
#: Longest wait for the tearsheet process before the page goes without it.
TEARSHEET_TIMEOUT_S = 600.0
_FIGURE_MARKER = "<!--vwapcli-figure:{}-->"
_HELPER_FIGURE = re.compile(r"<!--vwapcli-figure:(\w+)-->(.*?)(?=<!--vwapcli-figure:)", re.S)
_PNG_IMAGE = re.compile(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]+" />')


class TearsheetError(RuntimeError):
    """quantstats' tearsheet could not be built; the page says why and goes on without it."""


def _clean_quantstats_template(template: str) -> str:
    """quantstats' template without its remote favicon, outbound link and onload hook."""
    template = re.sub(r"<meta\s+http-equiv[^>]*>", "", template, flags=re.I)
    template = template.replace('onload="save()"', "")
    return strip_external_references(template)


def _import_quantstats() -> None:
    """Import quantstats for a child process that will draw with it (warm-up, no drawing).

    Outside any ``rc_context`` on purpose: quantstats sets its style (seaborn theme,
    font) at import, and the figures must be drawn with it, as on a first in-process call.
    """
    import matplotlib

    matplotlib.use("Agg")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import matplotlib.pyplot
        import quantstats  # noqa: F401


@contextlib.contextmanager
def _quantstats_session() -> Iterator[Any]:
    """quantstats, ready to draw on Agg; rc changes, warnings and font noise contained."""
    import matplotlib

    matplotlib.use("Agg")
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


def _draw_nothing(*args: Any, **kwargs: Any) -> None:
    """Stands in for a quantstats figure another process draws."""


def _no_metrics(*args: Any, **kwargs: Any) -> pd.DataFrame:
    """Stands in for quantstats' metric table in the helper (its template has no table)."""
    return pd.DataFrame({"skipped": [0.0, 0.0, 0.0]})


@contextlib.contextmanager
def _skipping(qs: Any, figures: Collection[str], metrics: bool = False) -> Iterator[None]:
    """quantstats with the named ``quantstats.plots`` functions (and the metric table)
    doing nothing, restored afterwards."""
    replaced = [(qs.plots, name, _draw_nothing) for name in figures]
    if metrics:
        replaced.append((qs.reports, "metrics", _no_metrics))
    saved = [(module, name, getattr(module, name)) for module, name, _ in replaced]
    try:
        for module, name, stand_in in replaced:
            setattr(module, name, stand_in)
        yield
    finally:
        for module, name, original in saved:
            setattr(module, name, original)


def _run_quantstats(
    qs: Any,
    returns: pd.Series,
    benchmark: pd.Series | None,
    title: str,
    template: str,
    skip_figures: Collection[str] = (),
    skip_metrics: bool = False,
) -> str:
    """``qs.reports.html`` on ``template`` (text); the raw HTML it writes."""
    with tempfile.TemporaryDirectory(prefix="vwapcli-qs-") as folder, _skipping(
        qs, skip_figures, skip_metrics
    ):
        template_path = Path(folder) / "template.html"
        template_path.write_text(template, "utf-8")
        output = Path(folder) / "tearsheet.html"
        kwargs: dict[str, Any] = {}
        if benchmark is not None:
            kwargs["benchmark_title"] = str(benchmark.name or "Benchmark")
        qs.reports.html(
            returns,
            benchmark=benchmark,
            output=str(output),
            title=title,
            figfmt="png",
            template_path=str(template_path),
            strategy_title=str(returns.name or "Strategy"),
            **kwargs,
        )
        return output.read_text("utf-8")


def _split_templates(template: str) -> tuple[str, str] | None:
    """(first process's template, helper's template), or None if the placeholders moved.

    The first template keeps quantstats' placeholders except the helper's, which become
    markers quantstats leaves alone; the helper's holds only its placeholders, each after
    a marker, so its figures can be cut out of its output and dropped in at the markers.
    """
    names = [name for names in HELPER_FIGURES.values() for name in names]
    if any(template.count("{{" + name + "}}") != 1 for name in names):
        return None
    first = template
    for name in names:
        first = first.replace("{{" + name + "}}", _FIGURE_MARKER.format(name))
    helper = "".join(_FIGURE_MARKER.format(name) + "{{" + name + "}}" for name in names)
    return first, helper + _FIGURE_MARKER.format("end")


def _merge_helper_figures(first: str, helper_output: str) -> str | None:
    """The first process's page with the helper's figures at their markers, or None when
    anything is off (a figure missing, malformed or left empty): the caller then draws
    the whole tearsheet in one process instead."""
    figures = {name: image.strip() for name, image in _HELPER_FIGURE.findall(helper_output)}
    for names in HELPER_FIGURES.values():
        for name in names:
            marker = _FIGURE_MARKER.format(name)
            image = figures.get(name, "")
            if first.count(marker) != 1 or not _PNG_IMAGE.fullmatch(image):
                return None
            first = first.replace(marker, image)
    # A helper function quantstats called for a placeholder not listed above would have
    # left an empty image in the first process's page.
    return None if 'base64," />' in first else first


def _helper_main(
    connection: Any,
    qs: Any,
    returns: pd.Series,
    benchmark: pd.Series | None,
    title: str,
    template: str,
) -> None:
    """Helper process: draw only HELPER_FIGURES into ``template``; send back the text."""
    try:
        text = _run_quantstats(
            qs, returns, benchmark, title, template, FIRST_FIGURES, skip_metrics=True
        )
    except Exception:  # the first process notices the missing figures and draws them itself
        text = ""
    with contextlib.suppress(OSError):  # the first process is gone: nobody to tell
        connection.send(text)
    connection.close()


def _end_helper(pid: int) -> None:
    """Reap the helper process, ending it first if it is still drawing."""
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG) == (0, 0):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


def _split_tearsheet(
    qs: Any, returns: pd.Series, benchmark: pd.Series | None, title: str, template: str
) -> str:
    """quantstats' page drawn by this process and a forked helper, half the figures each."""
    templates = _split_templates(template)
    if templates is None:
        return _run_quantstats(qs, returns, benchmark, title, template)
    first_template, helper_template = templates
    receiver, sender = multiprocessing.Pipe(duplex=False)
    # A plain fork: this process is a daemonic multiprocessing child (so the report can
    # never wait on it at exit), and those may not start multiprocessing children.
    pid = os.fork()
    if pid == 0:
        try:
            receiver.close()  # else a send to a vanished first process blocks, not fails
            _helper_main(sender, qs, returns, benchmark, title, helper_template)
        finally:
            os._exit(0)
    sender.close()
    try:
        first = _run_quantstats(qs, returns, benchmark, title, first_template, HELPER_FIGURES)
        try:
            helper_output = receiver.recv() if receiver.poll(TEARSHEET_TIMEOUT_S) else ""
        except (EOFError, OSError):
            helper_output = ""
    finally:
        receiver.close()
        _end_helper(pid)
    merged = _merge_helper_figures(first, helper_output)
    if merged is None:
        return _run_quantstats(qs, returns, benchmark, title, template)
    return merged


def quantstats_tearsheet(
    returns: pd.Series, benchmark: pd.Series | None, title: str, split: bool = False
) -> str:
    """quantstats' HTML tearsheet of daily returns, cleaned of every remote reference.

    ``benchmark`` must be a Series of daily returns (never a ticker string: quantstats
    would download it). Charts are PNG so the text holds no SVG namespace URLs. With
    ``split`` (Linux, in the tearsheet process) a forked helper draws half the figures;
    the text is the same either way.
    """
    with _quantstats_session() as qs:
        source = Path(qs.__file__).with_name("report.html").read_text("utf-8")
        template = _clean_quantstats_template(source)
        if split:
            text = _split_tearsheet(qs, returns, benchmark, title, template)
        else:
            text = _run_quantstats(qs, returns, benchmark, title, template)
    return strip_external_references(text)


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
        connection.send(("ok", quantstats_tearsheet(returns, benchmark, title, split=True)))
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


def start_tearsheet() -> TearsheetJob:
    """Start building quantstats' tearsheet: call first, submit the returns when known.

    A forked child on Linux (so its imports and drawing overlap the report's own work);
    elsewhere, inside a daemonic worker (which may not have children) or when no process
    can be started, it is built in-process at the end.
    """
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
