"""Exchange sessions and the RTH session filter (SPEC 3.2, normative).

Session times come from a maintained calendar library (``exchange_calendars``), never a
hand-written holiday list, so holidays, early closes (13:00 ET) and DST switches are
right for every year the library knows. Storage is UTC; the calendar answers in UTC.

A bar belongs to session D when its START is in ``[open_D, close_D)``. Everything else is
dropped before any computation: extended-hours bars silently (counted, logged at debug),
bars on days that are not sessions at all with a warning, because those usually mean the
input is mislabelled (wrong timezone, a vendor's weekend prints).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import logging
import os
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
from numba import njit

from vwapcli.atomic_write import atomic_write
from vwapcli.cache_dir import user_cache_dir
from vwapcli.core.numpy_sums import pairwise_sum
from vwapcli.core.types import NEW_YORK, SessionedBars, timeframe_ns
from vwapcli.errors import NoSessionsError, StoreError

log = logging.getLogger(__name__)

# The calendar is built once per code with generous bounds: exchange_calendars' default
# window (20 years back) would silently turn older data into "non-session days".
CALENDAR_FIRST_DAY = "1990-01-01"

DateLike: TypeAlias = str | dt.date | dt.datetime | pd.Timestamp


@lru_cache(maxsize=8)
def _exchange_calendar(code: str) -> Any:
    import exchange_calendars as xcals  # ~60 ms to import: only when a table must be built

    try:
        return xcals.get_calendar(code, start=CALENDAR_FIRST_DAY)
    except Exception as error:  # the library raises its own InvalidCalendarName family
        raise StoreError(f"unknown exchange calendar {code!r} ({error})") from None


@lru_cache(maxsize=8)
def _schedule_arrays(code: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(session dates, open ns UTC, close ns UTC) of every session the library knows.

    Building exchange_calendars' NYSE calendar takes ~0.12 s (its holiday rules run in
    pandas), a tenth of a whole backtest, so the table is also kept on disk between runs,
    keyed by the calendar code, the installed library (path and modification time), the
    pandas version and today's date (the library's calendars end a year after the day they
    are built). A table is only ever the library's own answer; an unreadable or unwritable
    cache is ignored. Callers get copies from ``session_arrays``, never these arrays.
    """
    cache_file = _schedule_cache_file(code)
    if cache_file is not None:
        try:
            with np.load(cache_file) as stored:
                return stored["dates"], stored["open_ns"], stored["close_ns"]
        except (OSError, ValueError, KeyError):
            pass  # no table yet (or a broken one): build it
    schedule = _exchange_calendar(code).schedule
    arrays = schedule.index.to_numpy().astype("datetime64[D]"), utc_ns(schedule["open"]), utc_ns(schedule["close"])
    if cache_file is not None:
        _store_schedule(cache_file, code, arrays)
    return arrays


def _schedule_cache_file(code: str) -> Path | None:
    folder = user_cache_dir()
    if folder is None:
        return None
    spec = importlib.util.find_spec("exchange_calendars")
    if spec is None or spec.origin is None:
        return None
    try:
        library = f"{spec.origin}:{os.stat(spec.origin).st_mtime_ns}:{pd.__version__}"
    except OSError:
        return None
    digest = hashlib.sha256(f"{library}:{CALENDAR_FIRST_DAY}".encode()).hexdigest()[:16]
    return folder / f"{_cache_prefix(code)}{digest}-{dt.date.today().isoformat()}.npz"


def _cache_prefix(code: str) -> str:
    # Codes such as "24/7" must not become folders.
    return "sessions-" + "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in code) + "-"


def _store_schedule(path: Path, code: str, arrays: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    """Write the table atomically and drop this install's tables of earlier days (another
    environment's tables, with another library path in their key, are its own to keep:
    two virtual environments sharing the cache must not rebuild each other's every run);
    never fail the run."""
    try:
        def save(temporary: Path) -> None:
            with temporary.open("wb") as handle:  # a handle: np.savez would append ".npz" to a name
                np.savez(handle, dates=arrays[0], open_ns=arrays[1], close_ns=arrays[2])

        atomic_write(path, save)
        same_install = path.name[: -len("YYYY-MM-DD.npz")]
        for old in path.parent.glob(f"{same_install}*.npz"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError as error:
        log.debug("session table not cached at %s (%s)", path, error)


def as_date(value: DateLike) -> dt.date:
    """A plain date from a string, date, datetime or Timestamp (tz-aware -> its New York date)."""
    if isinstance(value, pd.Timestamp):
        if value.tzinfo is not None:
            return value.tz_convert(NEW_YORK).date()
        return value.date()
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            return value.astimezone(NEW_YORK).date()
        return value.date()
    if isinstance(value, dt.date):
        return value
    return pd.Timestamp(value).date()


def utc_ns(values: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """int64 nanoseconds UTC of tz-aware timestamps (NaT becomes int64 min)."""
    index = pd.DatetimeIndex(values)
    if index.tz is not None:
        index = index.tz_convert("UTC").tz_localize(None)
    return index.as_unit("ns").asi8.copy()


def new_york_dates(ts_ns: np.ndarray) -> np.ndarray:
    """New York calendar date (datetime64[D]) of each UTC nanosecond timestamp."""
    if ts_ns.shape[0] == 0:
        return np.empty(0, dtype="datetime64[D]")
    local = pd.DatetimeIndex(ts_ns.astype("datetime64[ns]")).tz_localize("UTC").tz_convert(NEW_YORK)
    return local.tz_localize(None).to_numpy().astype("datetime64[D]")


class SessionCalendar:
    """NYSE (or another exchange_calendars code) regular sessions, open/close in UTC.

    >>> cal = SessionCalendar()
    >>> row = cal.sessions("2024-12-24", "2024-12-24").iloc[0]
    >>> str(row.close_utc)  # 13:00 ET early close
    '2024-12-24 18:00:00+00:00'
    """

    def __init__(self, code: str = "XNYS") -> None:
        self.code = code
        self._dates, self._open_ns, self._close_ns = _schedule_arrays(code)

    @property
    def first_session(self) -> dt.date:
        first: dt.date = self._dates[0].astype(dt.date)
        return first

    @property
    def last_session(self) -> dt.date:
        last: dt.date = self._dates[-1].astype(dt.date)
        return last

    def _slice(self, start: DateLike, end: DateLike) -> slice:
        first, last = np.datetime64(as_date(start), "D"), np.datetime64(as_date(end), "D")
        if last > self._dates[-1]:
            raise StoreError(
                f"calendar {self.code} only knows sessions up to {self.last_session}; "
                f"data runs to {as_date(end)}"
            )
        a = int(np.searchsorted(self._dates, first, side="left"))
        b = int(np.searchsorted(self._dates, last, side="right"))
        return slice(a, b)

    def require_sessions(self, start: DateLike | None, end: DateLike | None) -> None:
        """Refuse, in one line, a range with no session in it: a weekend, a holiday, or
        dates before the calendar's first session (a missing bound is the calendar's edge).

        Checked before any read or write, so such a range is named for what it is rather
        than met later as an empty table or a dtype error.
        """
        first = as_date(start) if start is not None else self.first_session
        last = as_date(end) if end is not None else self.last_session
        lo = int(np.searchsorted(self._dates, np.datetime64(first, "D"), side="left"))
        hi = int(np.searchsorted(self._dates, np.datetime64(last, "D"), side="right"))
        if hi <= lo:
            span = (
                f"between {first} and {last}" if start is not None and end is not None
                else f"up to {last}" if start is None else f"from {first}"
            )
            raise NoSessionsError(
                f"no sessions {span} (calendar {self.code}: sessions from "
                f"{self.first_session} to {self.last_session}, none on weekends or holidays)"
            )

    def session_arrays(self, start: DateLike, end: DateLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(session_date datetime64[D], open int64 ns UTC, close int64 ns UTC) for sessions in [start, end]."""
        s = self._slice(start, end)
        return self._dates[s].copy(), self._open_ns[s].copy(), self._close_ns[s].copy()

    def sessions(self, start: DateLike, end: DateLike) -> pd.DataFrame:
        """Sessions with ``start <= date <= end``: columns session_date (datetime.date), open_utc, close_utc."""
        dates, open_ns, close_ns = self.session_arrays(start, end)
        return pd.DataFrame(
            {
                "session_date": [d.astype(dt.date) for d in dates],
                "open_utc": pd.to_datetime(open_ns, utc=True).as_unit("ns"),
                "close_utc": pd.to_datetime(close_ns, utc=True).as_unit("ns"),
            }
        )

    def is_session(self, day: DateLike) -> bool:
        """True when ``day`` is a regular trading session."""
        d = np.datetime64(as_date(day), "D")
        i = int(np.searchsorted(self._dates, d))
        return i < self._dates.shape[0] and self._dates[i] == d


def resolve_calendar(calendar: SessionCalendar | str | None) -> SessionCalendar:
    """Accept a SessionCalendar, an exchange code ("XNYS") or None (NYSE)."""
    if isinstance(calendar, SessionCalendar):
        return calendar
    return SessionCalendar(calendar or "XNYS")


def _empty_sessioned(symbol: str, bar_ns: int) -> SessionedBars:
    f = np.empty(0, dtype=np.float64)
    return SessionedBars(
        symbol=symbol, bar_ns=bar_ns, ts=np.empty(0, dtype=np.int64),
        open=f, high=f.copy(), low=f.copy(), close=f.copy(), volume=f.copy(),
        session_date=np.empty(0, dtype="datetime64[D]"),
        session_open_ns=np.empty(0, dtype=np.int64), session_close_ns=np.empty(0, dtype=np.int64),
        session_start=np.zeros(1, dtype=np.int64),
    )


def assign_sessions(
    df: pd.DataFrame,
    symbol: str,
    timeframe: str,
    calendar: SessionCalendar | str | None = None,
) -> SessionedBars:
    """Group validated bars (sorted, tz-aware UTC ``ts`` = bar start) into exchange sessions.

    Keeps bars whose start is in ``[open_D, close_D)`` (SPEC 3.2); only sessions with at
    least one bar appear in the result. Missing bars are not filled.
    """
    if len(df) == 0:
        return _empty_sessioned(symbol, timeframe_ns(timeframe))

    def column(name: str) -> np.ndarray:
        return df[name].to_numpy(dtype=np.float64)

    return assign_session_arrays(
        utc_ns(df["ts"]), column("open"), column("high"), column("low"), column("close"), column("volume"),
        symbol, timeframe, calendar,
    )


def assign_session_arrays(
    ts: np.ndarray,
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    volume: np.ndarray,
    symbol: str,
    timeframe: str,
    calendar: SessionCalendar | str | None = None,
    copy: bool = True,
) -> SessionedBars:
    """``assign_sessions`` on arrays (ts int64 ns UTC, strictly increasing; prices float64).

    Each session's bars are found by two binary searches of its open and close into the
    sorted bar starts; New York dates are computed only for the first and last bar (the
    calendar window) and for dropped bars (the non-session-day warning). With
    ``copy=False`` the caller hands its arrays over: when no bar is dropped they become
    the result's arrays as they are (the loader's arrays are fresh from the file).
    """
    cal = resolve_calendar(calendar)
    bar_ns = timeframe_ns(timeframe)
    if ts.shape[0] == 0:
        return _empty_sessioned(symbol, bar_ns)
    first_day, last_day = new_york_dates(np.array([ts[0], ts[-1]], dtype=np.int64))
    first = max(first_day - np.timedelta64(1, "D"), np.datetime64(cal.first_session, "D"))
    dates, open_ns, close_ns = cal.session_arrays(first.astype(dt.date), last_day.astype(dt.date))

    if ts.shape[0] > 1 and not bool((ts[1:] > ts[:-1]).all()):
        raise ValueError(f"{symbol}: bars must be strictly increasing in ts (validate them first)")
    # SPEC 3.2: bar belongs to D when open_D <= start < close_D (sessions never overlap), so
    # session D holds the sorted bars from the first start >= open_D to the first >= close_D.
    first_bar = np.searchsorted(ts, open_ns, side="left")
    counts = np.searchsorted(ts, close_ns, side="left") - first_bar
    present = np.flatnonzero(counts > 0)
    n_inside = int(counts[present].sum())
    if n_inside == 0:
        _warn_dropped(symbol, ts, dates)
        return _empty_sessioned(symbol, bar_ns)
    session_start = np.concatenate([[0], np.cumsum(counts[present])]).astype(np.int64)
    if n_inside == ts.shape[0]:
        inside = None  # every bar is in a session: nothing to drop, nothing to copy
    else:
        edges = np.zeros(ts.shape[0] + 1, dtype=np.int64)
        np.add.at(edges, first_bar[present], 1)
        np.add.at(edges, first_bar[present] + counts[present], -1)
        inside = np.cumsum(edges[:-1]) > 0
        _warn_dropped(symbol, ts[~inside], dates)

    def column(values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, dtype=np.float64)
        if inside is None:
            return np.array(values, dtype=np.float64, order="C", copy=True if copy else None)
        return np.ascontiguousarray(values[inside])

    return SessionedBars(
        symbol=symbol,
        bar_ns=bar_ns,
        ts=np.array(ts, dtype=np.int64, copy=True if copy else None) if inside is None else np.ascontiguousarray(ts[inside]),
        open=column(open_),
        high=column(high),
        low=column(low),
        close=column(close),
        volume=column(volume),
        session_date=dates[present],
        session_open_ns=open_ns[present],
        session_close_ns=close_ns[present],
        session_start=session_start,
    )


def _warn_dropped(symbol: str, dropped_ts: np.ndarray, session_dates: np.ndarray) -> None:
    """Log what SPEC 3.2 drops: extended-hours bars (debug), bars on non-session days (warning)."""
    if dropped_ts.shape[0] == 0:
        return
    dropped_dates = new_york_dates(dropped_ts)
    off_day = ~np.isin(dropped_dates, session_dates)
    n_off_day = int(off_day.sum())
    n_extended = int(dropped_ts.shape[0]) - n_off_day
    if n_extended:
        log.debug("%s: dropped %d extended-hours bars outside [open, close)", symbol, n_extended)
    if n_off_day:
        days = np.unique(dropped_dates[off_day])
        shown = ", ".join(str(d) for d in days[:5]) + (" ..." if days.shape[0] > 5 else "")
        log.warning("%s: dropped %d bars on %d non-session days (%s)", symbol, n_off_day, days.shape[0], shown)


@njit(cache=True)
def _resample_kernel(
    ts: np.ndarray, open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray,
    volume: np.ndarray, session_start: np.ndarray, session_open_ns: np.ndarray, bar_ns: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Two passes over the bars: count the (session, bucket) groups, then fill them.

    No bar-length temporaries (a per-bar session index, bucket and group mask cost ~0.1 s
    of fresh memory per symbol-decade of 1-minute bars). Same bits as numpy's reductions:
    ``np.maximum``/``np.minimum`` keep a NaN, the volume is ``np.add.reduceat``'s first +
    pairwise sum of the rest.
    """
    n_sessions = session_start.shape[0] - 1
    out_start = np.zeros(n_sessions + 1, dtype=np.int64)
    for i in range(n_sessions):
        groups = 0
        previous = np.int64(-1)
        for k in range(session_start[i], session_start[i + 1]):
            bucket = (ts[k] - session_open_ns[i]) // bar_ns
            if k == session_start[i] or bucket != previous:
                groups += 1
            previous = bucket
        out_start[i + 1] = out_start[i] + groups
    m = out_start[n_sessions]
    out_ts = np.empty(m, dtype=np.int64)
    o = np.empty(m, dtype=np.float64)
    h = np.empty(m, dtype=np.float64)
    lo = np.empty(m, dtype=np.float64)
    c = np.empty(m, dtype=np.float64)
    v = np.empty(m, dtype=np.float64)
    g = 0
    for i in range(n_sessions):
        a, b = session_start[i], session_start[i + 1]
        first = a
        previous = np.int64(-1)
        for k in range(a, b + 1):
            bucket = (ts[k] - session_open_ns[i]) // bar_ns if k < b else previous
            if k > a and (k == b or bucket != previous):  # bars first..k-1 are one group
                out_ts[g] = session_open_ns[i] + previous * bar_ns
                o[g], c[g] = open_[first], close[k - 1]
                top, bottom = high[first], low[first]
                for j in range(first + 1, k):
                    if not (top >= high[j] or top != top):  # np.maximum: a NaN wins
                        top = high[j]
                    if not (bottom <= low[j] or bottom != bottom):
                        bottom = low[j]
                h[g], lo[g] = top, bottom
                v[g] = volume[first] if k - first == 1 else volume[first] + pairwise_sum(volume, first + 1, k - first - 1)
                g += 1
                first = k
            previous = bucket
    return out_ts, o, h, lo, c, v, out_start


def resample_sessioned(sessioned: SessionedBars, bar_ns: int) -> SessionedBars:
    """Aggregate to a coarser bar, buckets anchored at each session's open (SPEC 3.2).

    Bucket k of session D covers starts in ``[open_D + k*bar_ns, open_D + (k+1)*bar_ns)``:
    open = first open, high = max, low = min, close = last close, volume = sum of the bars
    present. Buckets with no bars are not created (missing bars are not filled).
    """
    if bar_ns % sessioned.bar_ns:
        raise ValueError(f"cannot resample {sessioned.bar_ns} ns bars to {bar_ns} ns")
    if sessioned.ts.shape[0] == 0:
        return _empty_sessioned(sessioned.symbol, bar_ns)
    def floats(values: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(values, dtype=np.float64)

    ts, o, h, lo, c, v, session_start = _resample_kernel(
        np.ascontiguousarray(sessioned.ts, dtype=np.int64),
        floats(sessioned.open), floats(sessioned.high), floats(sessioned.low), floats(sessioned.close),
        floats(sessioned.volume),
        np.ascontiguousarray(sessioned.session_start, dtype=np.int64),
        np.ascontiguousarray(sessioned.session_open_ns, dtype=np.int64),
        bar_ns,
    )
    return SessionedBars(
        symbol=sessioned.symbol,
        bar_ns=bar_ns,
        ts=ts,
        open=o,
        high=h,
        low=lo,
        close=c,
        volume=v,
        session_date=sessioned.session_date.copy(),
        session_open_ns=sessioned.session_open_ns.copy(),
        session_close_ns=sessioned.session_close_ns.copy(),
        session_start=session_start,
    )


def resample_to_5m(sessioned: SessionedBars) -> SessionedBars:
    """5-minute bars from 1-minute bars, anchored at the session open (SPEC 3.2)."""
    return resample_sessioned(sessioned, timeframe_ns("5m"))
