"""The HTML tearsheet: one self-contained file, verdict first (SPEC 11, issue 4).

Self-contained means nothing is fetched when the page is built or viewed: no CDN
scripts, fonts, stylesheets, favicons or outbound links. Charts are inline base64 PNGs;
quantstats' tearsheet is rendered from a cleaned copy of its template and embedded in an
``<iframe srcdoc>`` so its global CSS cannot restyle this page. ``strip_external_references``
runs over the final text as a last line of defence, and the tests scan for leftovers.

matplotlib and quantstats are imported inside the functions that need them, so
importing :mod:`vwapcli.report` stays cheap for every other command. On Linux quantstats
is never imported by the report process at all: its tearsheet is drawn by forked processes
while the report computes everything else (issue 6; see the quantstats section).
"""

from __future__ import annotations

import base64
import contextlib
import html
import io
import logging
import math
import multiprocessing
import os
import re
import signal
import sys
import tempfile
import threading
import warnings
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from vwapcli.atomic_write import atomic_write_text
from vwapcli.errors import ReportError
from vwapcli.report.acceptance import (
    Assessment,
    Verdict,
    format_interval,
    format_threshold,
    format_value,
)

# Any attribute or CSS construct that would make a browser fetch something remote.
EXTERNAL_REFERENCE = re.compile(
    r"""(?:\b(?:src|href|srcset|action|poster|data)\s*=\s*["']?\s*(?:https?:)?//)"""
    r"""|(?:url\(\s*["']?\s*(?:https?:)?//)"""
    r"""|(?:@import\s+(?:url\()?\s*["']?\s*(?:https?:)?//)""",
    re.IGNORECASE,
)


def external_references(text: str) -> list[str]:
    """Every construct in ``text`` that would load something from the network."""
    return [match.group(0) for match in EXTERNAL_REFERENCE.finditer(text)]


def strip_external_references(text: str) -> str:
    """Remove or neutralise remote loads and outbound links, keeping visible text.

    ``<link>`` tags to remote files are dropped, remote ``<script src>`` elements are
    dropped, outbound ``<a href>`` become their plain text, remote ``url(...)`` becomes
    ``none`` and remote ``@import`` rules are removed.
    """
    remote = r"""["']?\s*(?:https?:)?//"""
    text = re.sub(rf"<link\b[^>]*\bhref\s*=\s*{remote}[^>]*>", "", text, flags=re.I)
    text = re.sub(
        rf"<script\b[^>]*\bsrc\s*=\s*{remote}[^>]*>.*?</script\s*>", "", text, flags=re.I | re.S
    )
    text = re.sub(
        rf"<a\b[^>]*\bhref\s*=\s*{remote}[^>]*>(.*?)</a\s*>", r"\1", text, flags=re.I | re.S
    )
    text = re.sub(rf"@import\s+(?:url\()?\s*{remote}[^;]*;", "", text, flags=re.I)
    text = re.sub(rf"url\(\s*{remote}[^)]*\)", "none", text, flags=re.I)
    # Whatever is left (an <img src=//...>, a form action): blank the address itself.
    return re.sub(
        rf"""\b(src|href|srcset|action|poster|data)\s*=\s*{remote}[^"'\s>]*["']?""",
        r'\1=""',
        text,
        flags=re.I,
    )


@dataclass(frozen=True)
class TableBlock:
    """A titled breakdown table, or a note saying why it is absent."""

    title: str
    table: pd.DataFrame | None
    note: str = ""


@dataclass(frozen=True)
class ReportPage:
    """Everything the page shows, computed elsewhere; this module only lays it out."""

    title: str
    headline: Assessment  # the verdict the banner and --check follow
    strategies: list[Assessment]  # per-strategy sections
    facts: list[tuple[str, str]]  # run facts: symbols, range, provenance, ...
    synthetic_sources: list[str]  # provenance strings that say "synthetic"
    tables: list[TableBlock]
    fill_sensitivity: TableBlock
    tearsheet_returns: pd.Series
    benchmark: pd.Series | None
    benchmark_note: str
    notes: list[str] = field(default_factory=list)
    # Started by the caller (start_tearsheet) with these returns already submitted; None
    # builds it here, in-process, from tearsheet_returns and benchmark.
    tearsheet: TearsheetJob | None = None


# ---------------------------------------------------------------------------- charts


def _png_base64(figure: Any) -> str:
    buffer = io.BytesIO()
    # No "Software" text chunk: keeps the bytes free of URLs and identical across runs.
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight", metadata={"Software": None})
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def equity_drawdown_png(headline: Assessment, others: Sequence[Assessment]) -> str:
    """Equity (headline bold, each strategy alone thin) above the headline's drawdown %."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    figure = Figure(figsize=(12, 6.5))
    top, bottom = figure.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [2, 1]})
    start = headline.summary.starting_equity
    dates = headline.daily["session_date"].to_numpy(dtype="datetime64[D]")
    equity = headline.daily["equity"].to_numpy(dtype=float)
    top.plot(dates, equity, color="#1f4e79", linewidth=1.6, label=_display(headline.name))
    for other in others:
        top.plot(
            other.daily["session_date"].to_numpy(dtype="datetime64[D]"),
            other.daily["equity"].to_numpy(dtype=float),
            linewidth=0.9,
            alpha=0.8,
            label=f"{other.name} alone",
        )
    top.axhline(start, color="#888888", linewidth=0.8, linestyle="--")
    top.set_ylabel("equity ($)")
    top.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
    top.set_title("Daily closing equity")
    top.legend(loc="upper left", fontsize=8)
    top.grid(alpha=0.3)
    path = np.concatenate([[start], equity])
    drawdown = (path / np.maximum.accumulate(path) - 1.0)[1:] * 100.0
    bottom.fill_between(dates, drawdown, 0.0, color="#c0392b", alpha=0.45, step="post")
    bottom.set_ylabel("drawdown (%)")
    bottom.set_title(f"Drawdown from peak (max {headline.summary.max_drawdown_pct:.1f}%)")
    bottom.grid(alpha=0.3)
    figure.tight_layout()
    return _png_base64(figure)


def pnl_histogram_png(pnl: np.ndarray) -> str:
    """Histogram of net trade P&L (dollars), winners and losers coloured apart."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(12, 3.6))
    axis = figure.subplots()
    pnl = np.asarray(pnl, dtype=float)
    if pnl.size:
        bins = min(60, max(10, int(math.sqrt(pnl.size))))
        edges = np.histogram_bin_edges(pnl, bins=bins).tolist()
        axis.hist(pnl[pnl <= 0], bins=edges, color="#c0392b", alpha=0.75, label="loss / scratch")
        axis.hist(pnl[pnl > 0], bins=edges, color="#1e8449", alpha=0.75, label="win")
        axis.axvline(float(pnl.mean()), color="black", linewidth=1, label="mean")
        axis.legend(fontsize=8, loc="best")
    axis.set_xlabel("net P&L per trade ($)")
    axis.set_ylabel("trades")
    axis.set_title("Trade P&L distribution")
    axis.grid(alpha=0.3)
    figure.tight_layout()
    return _png_base64(figure)


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


# ------------------------------------------------------------------------ formatting


def _display(name: str) -> str:
    return "All strategies" if name == "all" else name


def _money(value: float) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    return f"-${abs(value):,.2f}" if value < 0 else f"${value:,.2f}"


def _ratio(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "∞"
    return f"{value:.2f}"


def _percent(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value * 100:.1f}%"


COLUMN_FORMATS: dict[str, tuple[str, Callable[[Any], str]]] = {
    "slippage": ("Slippage", lambda v: f"{v:g}"),
    "trades": ("Trades", lambda v: f"{int(v):,}"),
    "win_rate": ("Win rate", _percent),
    "profit_factor": ("Profit factor", _ratio),
    "net_pnl": ("Net P&L", _money),
    "expectancy": ("Expectancy / trade", _money),
}


def _table_html(table: pd.DataFrame, index_label: str | None, css_class: str = "data") -> str:
    headers = ([index_label] if index_label is not None else []) + [
        COLUMN_FORMATS.get(column, (column, str))[0] for column in table.columns
    ]
    rows = []
    for key, row in table.iterrows():
        cells = [f"<th>{html.escape(str(key))}</th>"] if index_label is not None else []
        for column in table.columns:
            formatter = COLUMN_FORMATS.get(column, (column, str))[1]
            cells.append(f"<td>{html.escape(formatter(row[column]))}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    return (
        f'<table class="{css_class}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def verdict_table_html(
    verdict: Verdict, table_id: str | None = None, value_header: str = "Value"
) -> str:
    """criterion | value | threshold | result | bootstrap 95 % interval."""
    rows = []
    for criterion in verdict.criteria:
        status = criterion.status
        css = {"PASS": "pass", "FAIL": "fail", "NOT PROVEN": "unproven"}[status]
        rows.append(
            "<tr>"
            f"<th>{html.escape(criterion.label)}</th>"
            f"<td>{html.escape(format_value(criterion.key, criterion.value))}</td>"
            f"<td>{html.escape(format_threshold(criterion))}</td>"
            f'<td class="{css}">{status}</td>'
            f"<td>{html.escape(format_interval(criterion))}</td>"
            "</tr>"
        )
    identity = f' id="{table_id}"' if table_id else ""
    return (
        f'<table class="verdict"{identity}><thead><tr><th>Criterion</th>'
        f"<th>{html.escape(value_header)}</th>"
        "<th>Threshold</th><th>Result</th><th>Bootstrap 95% interval</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _verdict_sentence(verdict: Verdict) -> str:
    if not verdict.passed:
        return "Failed: " + ", ".join(verdict.failed) + "."
    if verdict.not_proven:
        return (
            "Passed, but NOT PROVEN (the 95% interval crosses the threshold): "
            + ", ".join(verdict.not_proven)
            + "."
        )
    return "Passed every criterion, each with its 95% interval clear of the threshold."


def key_metrics_table(assessments: Sequence[Assessment]) -> str:
    """One column per strategy (and "all"): the headline numbers side by side."""
    rows: list[tuple[str, Callable[[Assessment], str]]] = [
        ("Trades", lambda a: f"{a.summary.trades:,}"),
        ("Win rate", lambda a: _percent(a.summary.win_rate)),
        ("Profit factor", lambda a: _ratio(a.summary.profit_factor)),
        ("Expectancy / trade", lambda a: _money(a.summary.expectancy)),
        ("Average win", lambda a: _money(a.summary.avg_win)),
        ("Average loss", lambda a: _money(a.summary.avg_loss)),
        ("Payoff (avg win / avg loss)", lambda a: _ratio(a.summary.payoff)),
        ("Net P&L", lambda a: _money(a.summary.net_pnl)),
        ("Total return", lambda a: _percent(a.summary.total_return)),
        ("Annual return (CAGR, 252 sessions)", lambda a: _percent(a.summary.annual_return)),
        ("Sharpe (daily, rf 0)", lambda a: _ratio(a.summary.sharpe)),
        ("Sortino (daily, rf 0)", lambda a: _ratio(a.summary.sortino)),
        ("Max drawdown", lambda a: f"{a.summary.max_drawdown_pct:.1f}%"),
        (
            "Max drawdown duration",
            lambda a: f"{a.summary.max_drawdown_duration_sessions} sessions"
            + ("" if a.summary.max_drawdown_recovered else " (not recovered)"),
        ),
        ("Exposure (sessions with a trade open)", lambda a: _percent(a.summary.exposure)),
        ("Trades per year", lambda a: _ratio(a.summary.trades_per_year)),
        ("Years covered", lambda a: f"{a.summary.years_covered:.2f}"),
        ("Sessions", lambda a: f"{a.summary.sessions:,}"),
    ]
    head = "".join(f"<th>{html.escape(_display(a.name))}</th>" for a in assessments)
    body = "".join(
        f"<tr><th>{html.escape(label)}</th>"
        + "".join(f"<td>{html.escape(cell(a))}</td>" for a in assessments)
        + "</tr>"
        for label, cell in rows
    )
    return (
        f'<table class="data"><thead><tr><th>Metric</th>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


STYLE = """
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:0;color:#1b1b1b;
background:#f4f5f7}
main{max-width:1180px;margin:0 auto;padding:24px 28px 60px;background:#fff}
h1{font-size:22px;margin:0 0 12px}h2{font-size:18px;margin:34px 0 10px;border-bottom:2px solid
#e3e5e8;padding-bottom:4px}h3{font-size:15px;margin:20px 0 6px}
.banner{font-size:44px;font-weight:800;letter-spacing:2px;color:#fff;padding:14px 24px;
border-radius:6px;display:inline-block;margin:4px 0 10px}
.banner.pass{background:#1e8449}.banner.fail{background:#b03a2e}
.synthetic{display:inline-block;margin-left:16px;vertical-align:top;margin-top:10px;
background:#f39c12;color:#000;font-weight:800;font-size:20px;padding:8px 14px;border-radius:6px;
border:3px dashed #000}
.sentence{font-size:15px;margin:4px 0 14px}
table{border-collapse:collapse;margin:6px 0 14px;font-size:13px}
th,td{border:1px solid #d9dce0;padding:5px 10px;text-align:right}
thead th{background:#eef0f3;text-align:center}tbody th{text-align:left;font-weight:600}
table.verdict{font-size:15px}table.verdict td,table.verdict th{padding:7px 14px}
td.pass{background:#d5f5e3;font-weight:700;color:#145a32;text-align:center}
td.fail{background:#fadbd8;font-weight:700;color:#922b21;text-align:center}
td.unproven{background:#fdebd0;font-weight:700;color:#7e5109;text-align:center}
.facts th{background:#fafafa}.note{color:#555;font-size:13px;margin:4px 0 12px}
img.chart{width:100%;max-width:1120px;display:block;margin:8px 0}
.tables{display:flex;flex-wrap:wrap;gap:6px 28px}.tables>div{flex:0 1 auto}
iframe.tearsheet{width:100%;border:1px solid #d9dce0;height:5200px}
footer{color:#777;font-size:12px;margin-top:30px}
"""

# Grow the iframe to its content once loaded (same-origin srcdoc; no network involved).
# Shrink first: a document is never shorter than its viewport, so measuring at the
# fallback height would just return the fallback height.
_RESIZE = (
    "try{var d=this.contentWindow.document;this.style.height='50px';"
    "this.style.height=(d.documentElement.scrollHeight+30)+'px'}catch(e){}"
)


def render_page(page: ReportPage) -> str:
    """The whole report as one HTML string: verdict, strategies, charts, tables, tearsheet."""
    headline = page.headline
    verdict = headline.verdict
    parts: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # An empty data: favicon stops browsers from requesting /favicon.ico.
        '<link rel="icon" href="data:,">',
        f"<title>{html.escape(page.title)}</title>",
        f"<style>{STYLE}</style></head><body><main>",
        f"<h1>{html.escape(page.title)}</h1>",
        # 1. Verdict first.
        '<section id="verdict">',
        f'<div class="banner {verdict.label.lower()}">{verdict.label}</div>',
    ]
    if page.synthetic_sources:
        parts.append(
            '<div class="synthetic" title="'
            + html.escape("; ".join(page.synthetic_sources))
            + '">SYNTHETIC DATA</div>'
        )
    parts += [
        f'<p class="sentence"><b>{html.escape(_display(headline.name))}</b>: '
        f"{html.escape(_verdict_sentence(verdict))}</p>",
        verdict_table_html(verdict, table_id="verdict-table"),
    ]
    if page.synthetic_sources:
        parts.append(
            '<p class="note"><b>Synthetic data:</b> '
            + html.escape("; ".join(page.synthetic_sources))
            + ". These results say nothing about real markets.</p>"
        )
    parts.append(
        '<p class="note">Win rate and profit factor intervals: trade-level bootstrap; '
        "max drawdown interval: stationary block bootstrap of daily returns "
        "(Politis-Romano). NOT PROVEN = passes, but the interval crosses the threshold.</p>"
    )
    parts.append('<table class="facts">')
    parts += [
        f"<tr><th>{html.escape(k)}</th><td style='text-align:left'>{html.escape(v)}</td></tr>"
        for k, v in page.facts
    ]
    parts.append("</table></section>")

    # 2. Per-strategy sections.
    parts.append('<section id="strategies"><h2>Strategies</h2>')
    for assessment in page.strategies:
        parts += [
            f"<h3>{html.escape(_display(assessment.name))}: {assessment.verdict.label}</h3>",
            f'<p class="note">{html.escape(_verdict_sentence(assessment.verdict))}</p>',
            verdict_table_html(assessment.verdict),
        ]
    columns = [headline, *[a for a in page.strategies if a.name != headline.name]]
    parts += ["<h3>Key metrics</h3>", key_metrics_table(columns), "</section>"]

    # 3. Charts.
    others = [a for a in page.strategies if a.name != headline.name]
    parts += [
        '<section id="charts"><h2>Equity and drawdown</h2>',
        f'<img class="chart" alt="equity and drawdown" '
        f'src="data:image/png;base64,{equity_drawdown_png(headline, others)}">',
        "<h2>Trade P&amp;L</h2>",
        f'<img class="chart" alt="trade P&amp;L histogram" '
        f'src="data:image/png;base64,{pnl_histogram_png(headline.trades["pnl"].to_numpy())}">',
        "</section>",
    ]

    # 4. Breakdown tables.
    parts.append('<section id="tables"><h2>Breakdowns</h2><div class="tables">')
    for block in page.tables:
        parts.append(f"<div><h3>{html.escape(block.title)}</h3>")
        if block.note:
            parts.append(f'<p class="note">{html.escape(block.note)}</p>')
        if block.table is not None:
            parts.append(_table_html(block.table, block.title.split(" (")[0]))
        parts.append("</div>")
    parts.append("</div></section>")

    # 5. Fill sensitivity.
    fills = page.fill_sensitivity
    parts.append('<section id="fills"><h2>Fill sensitivity</h2>')
    if fills.note:
        parts.append(f'<p class="note">{html.escape(fills.note)}</p>')
    if fills.table is not None:
        parts.append(_table_html(fills.table.set_index("slippage"), "Slippage"))
    parts.append("</section>")

    # 6. quantstats tearsheet.
    parts.append('<section id="tearsheet"><h2>QuantStats tearsheet (daily returns)</h2>')
    parts.append(f'<p class="note">{html.escape(page.benchmark_note)}</p>')
    try:
        if page.tearsheet is not None:
            tearsheet = page.tearsheet.result()
        else:
            tearsheet = quantstats_tearsheet(page.tearsheet_returns, page.benchmark, page.title)
    except Exception as error:  # a broken third-party tearsheet must not sink the verdict
        reason = str(error) if isinstance(error, TearsheetError) else (
            f"{type(error).__name__}: {error}"
        )
        parts.append(
            f'<p class="note">QuantStats tearsheet unavailable: {html.escape(reason)}</p>'
        )
    else:
        parts.append(
            f'<iframe class="tearsheet" title="QuantStats tearsheet" '
            f'srcdoc="{html.escape(tearsheet, quote=True)}" onload="{_RESIZE}"></iframe>'
        )
    parts.append("</section>")

    if page.notes:
        parts.append('<section id="notes"><h2>Notes</h2><ul>')
        parts += [f"<li>{html.escape(note)}</li>" for note in page.notes]
        parts.append("</ul></section>")
    parts.append("<footer>Generated by vwapcli report. Self-contained: no network needed.</footer>")
    parts.append("</main></body></html>")
    return strip_external_references("\n".join(parts))


def write_page(html_path: Path, html: str, json_name: str, json_text: str, what: str) -> None:
    """Write the page and its JSON companion beside it; a write failure is one ReportError line."""
    try:
        atomic_write_text(html_path, html)
        atomic_write_text(html_path.parent / json_name, json_text)
    except OSError as error:
        raise ReportError(f"{html_path}: cannot write {what} ({error.strerror})") from None
