"""Hypothesis hunts for hostile stores, configs and arguments the CLI mishandles (issue 12, item 7).

Each property drives ``vwapcli`` in-process (``main()``, argv patched, stdout/stderr
captured) against a copy of one tiny store built once per module (synthetic SPY and QQQ,
2023-12-20 .. 2024-01-10: two year files each, an IV index, meta.json), corrupted the
way the example says. Whatever the input, the CLI must:

- exit 2 with at most 2 printed lines and no traceback when it refuses (exit 0 is
  allowed only where the input may legitimately be valid, said per property);
- never exit 1 ("internal error": an input reached code that did not expect it);
- leave every file of the store byte-identical (sha256 of each file, hidden ones
  included: a read never writes, not even a recovery) and create no output on refusal.

Properties: a corrupt store read by backtest / signals / store info (truncated, garbage
or byte-flipped year files, one naive year among UTC ones, other timestamp units and zone
labels, an IV-index file where bars belong, an overlapping second part, a folder where a
file belongs, a truncated IV index, meta.json deleted / garbage / any JSON / wrong types
at any node, an unfinished or hostile ``.publishing.json``, a stale ``.lock``); a fetch
into such a store (a file beside the store is never touched); a damaged vendor CSV
(garbage cells, dropped columns, duplicated or swapped rows, naive times, random bytes);
configs with NaN/inf/1e400 in any numeric field, a list or mapping for any value, an
unknown key in any block, any scalar (wrong type, huge, negative, odd text) in any
field, YAML alias chains; hostile --start/--end, --symbols, --only/--enable values.

The property bodies never compute an expected value from the code under test: the
expected outcome of each corruption is stated from the rules (SPEC 3.3, issue 12).
Sizes are kept small (max_examples 25-40, no deadline) so the module runs in well
under a minute; a failure hypothesis found is pinned with ``@example``.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from vwapcli.cli import main
from vwapcli.config import MAX_YAML_VALUES
from vwapcli.resources import PROJECT_ROOT

# No shrinking: each example is a CLI run (shrinking one took minutes); the failing
# example is printed as found, and pinned with @example once fixed.
FUZZ = settings(
    max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow],
    database=None, phases=[Phase.explicit, Phase.generate],
)
SYMBOLS = ("SPY", "QQQ")
YEAR_FILES = [f"bars/timeframe=1m/symbol={s}/year={y}/part-0.parquet" for s in SYMBOLS for y in (2023, 2024)]
IV_FILES = [f"iv_index/symbol={s}/part-0.parquet" for s in SYMBOLS]
DEFAULT_CONFIG = PROJECT_ROOT / "configs" / "default.yaml"


# ----- running the CLI ---------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    code: int
    text: str

    @property
    def lines(self) -> list[str]:
        return [line for line in self.text.strip().splitlines() if line.strip()]


def run(args: list[str]) -> Outcome:
    """``vwapcli ARGS`` in this process: exit code and everything printed."""
    out, err = io.StringIO(), io.StringIO()
    saved = sys.argv
    sys.argv = ["vwapcli", *args]
    code: Any = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main()
    except SystemExit as exiting:
        code = exiting.code
    finally:
        sys.argv = saved
    return Outcome(int(code or 0), out.getvalue() + err.getvalue())


def assert_refused(outcome: Outcome) -> None:
    """Exit 2, one line (a long path may soft-wrap once), no traceback."""
    assert outcome.code == 2, outcome.text
    assert "Traceback" not in outcome.text and len(outcome.lines) <= 2, outcome.text


def assert_refused_or_ran(outcome: Outcome) -> None:
    """Either a clean run or a clean refusal: never an internal error or a traceback."""
    assert outcome.code in (0, 2), outcome.text
    assert "Traceback" not in outcome.text and "internal error" not in outcome.text, outcome.text
    if outcome.code == 2:
        assert_refused(outcome)


def snapshot(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root`` (hidden ones too), by relative path."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.fixture(scope="module")
def pristine_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fuzz") / "store"
    outcome = run([
        "--quiet", "fetch", "--source", "synthetic", "--symbols", *SYMBOLS, "--start", "2023-12-20",
        "--end", "2024-01-10", "--store", str(root),
    ])
    assert outcome.code == 0, outcome.text
    assert sorted(snapshot(root)) == sorted([*YEAR_FILES, *IV_FILES, "meta.json"])
    return root


@contextlib.contextmanager
def store_copy(pristine: Path) -> Iterator[tuple[Path, Path]]:
    """A fresh copy of the store and an empty folder for outputs, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="vwapcli-fuzz-") as folder:
        store = Path(folder) / "store"
        shutil.copytree(pristine, store)
        yield store, Path(folder) / "out"


READERS: dict[str, Callable[[Path, Path], list[str]]] = {
    "backtest": lambda store, out: ["backtest", "--store", str(store), "--symbols", *SYMBOLS, "--out", str(out / "run")],
    "signals": lambda store, out: ["signals", "--store", str(store), "--symbols", *SYMBOLS, "--out", str(out / "s.csv")],
    "store-info": lambda store, out: ["store", "info", "--store", str(store)],
}


def read_store(store: Path, out: Path, command: str, *, must_refuse: bool) -> Outcome:
    """Run a read command; the store must come out byte-identical and, on refusal, no output."""
    before = snapshot(store)
    outcome = run(READERS[command](store, out))
    (assert_refused if must_refuse else assert_refused_or_ran)(outcome)
    assert snapshot(store) == before, outcome.text
    if outcome.code != 0:
        assert not out.exists() or not any(out.iterdir()), outcome.text
    return outcome


# ----- corrupt stores ----------------------------------------------------------------


@dataclass(frozen=True)
class Corruption:
    """One change to the tiny store; ``refused`` says whether every read must fail on it."""

    kind: str
    target: str
    payload: Any
    refused: bool

    def apply(self, store: Path) -> None:
        path = store / self.target
        if self.kind == "truncate":
            data = path.read_bytes()
            path.write_bytes(data[: self.payload % max(len(data), 1)])
        elif self.kind == "garbage":
            path.write_bytes(self.payload)
        elif self.kind == "flip":
            data = bytearray(path.read_bytes())
            for offset, value in self.payload:
                data[offset % len(data)] = value
            path.write_bytes(bytes(data))
        elif self.kind == "timestamps":
            table = pq.read_table(path)
            ts_type = pa.timestamp(self.payload[0], tz=self.payload[1])
            ts = table.column("ts").cast(pa.int64()).cast(pa.timestamp("ns")).cast(ts_type, safe=False)
            pq.write_table(table.set_column(0, pa.field("ts", ts_type), ts), path)
        elif self.kind == "swap_schema":
            shutil.copyfile(store / self.payload, path)
        elif self.kind == "second_part":
            shutil.copyfile(path, path.with_name(self.payload))
        elif self.kind == "folder_for_file":
            path.unlink()
            path.mkdir()
        elif self.kind == "meta_delete":
            path.unlink()
        elif self.kind == "meta_replace":
            path.write_text(self.payload)
        elif self.kind == "meta_node":
            meta = json.loads(path.read_text())
            node = meta
            for key in self.payload[0][:-1]:
                node = node[key]
            node[self.payload[0][-1]] = self.payload[1]
            path.write_text(json.dumps(meta))
        elif self.kind == "journal":  # a hidden file of the store's own: .publishing.json, .lock
            path.write_text(self.payload)
        else:  # pragma: no cover - a typo in a strategy below
            raise AssertionError(self.kind)


# Journals naming files outside the store (``sentinel`` sits beside it): a fetch must refuse
# them, never roll them "forward" onto a file elsewhere.
HOSTILE_JOURNALS = [
    json.dumps([[None, "../sentinel"]]),
    json.dumps([[".sentinel.abcdef12.tmp", "../sentinel"]]),
    json.dumps([["../.sentinel.abcdef12.tmp", "meta.json"]]),
    json.dumps([[None, "/tmp/vwapcli-fuzz-absent/sentinel"]]),
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**20), 10**20) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)

# The META.JSON nodes a read looks at, each given a value of a random (often wrong) type.
META_NODES = [
    ("symbols",), ("symbols", "SPY"), ("symbols", "SPY", "bars"), ("symbols", "SPY", "bars", "1m"),
    ("symbols", "SPY", "iv_index"), ("symbols", "QQQ", "bars", "1m"), ("format",),
]

corruptions = st.one_of(
    st.builds(Corruption, st.just("truncate"), st.sampled_from(YEAR_FILES), st.integers(0, 10**6), st.just(True)),
    st.builds(
        Corruption, st.just("garbage"), st.sampled_from(YEAR_FILES),
        st.binary(max_size=300) | st.binary(max_size=300).map(lambda b: b"PAR1" + b + b"PAR1"), st.just(True),
    ),
    # Random bytes overwritten: Parquet pages carry no checksum by default, so a flip may
    # decode to other valid bars (a clean run) or break the file (a clean refusal).
    st.builds(
        Corruption, st.just("flip"), st.sampled_from(YEAR_FILES),
        st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=8), st.just(False),
    ),
    # One year file naive among UTC ones: local-time bars would be shifted silently.
    st.builds(
        Corruption, st.just("timestamps"), st.sampled_from(YEAR_FILES),
        st.tuples(st.sampled_from(["s", "ms", "us", "ns"]), st.none()), st.just(True),
    ),
    # The same instants, another unit or zone label: may be read (same bars) or refused.
    st.builds(
        Corruption, st.just("timestamps"), st.sampled_from(YEAR_FILES),
        st.tuples(st.sampled_from(["ms", "us"]), st.sampled_from(["UTC", "America/New_York", "+05:00"])), st.just(False),
    ),
    # The IV index is read by some commands only: refused when read, else unused.
    st.builds(Corruption, st.just("truncate"), st.sampled_from(IV_FILES), st.integers(0, 10**6), st.just(False)),
    # A stale lock of a killed fetch: readers never look at it.
    st.builds(Corruption, st.just("journal"), st.just(".lock"), st.text(max_size=12), st.just(False)),
    st.builds(Corruption, st.just("swap_schema"), st.sampled_from(YEAR_FILES), st.sampled_from(IV_FILES), st.just(True)),
    st.builds(Corruption, st.just("second_part"), st.sampled_from(YEAR_FILES), st.just("part-1.parquet"), st.just(True)),
    st.builds(Corruption, st.just("folder_for_file"), st.sampled_from(YEAR_FILES), st.none(), st.just(True)),
    st.builds(Corruption, st.just("meta_delete"), st.just("meta.json"), st.none(), st.just(False)),
    st.builds(
        Corruption, st.just("meta_replace"), st.just("meta.json"),
        st.text(max_size=40) | json_values.map(json.dumps), st.just(False),
    ),
    st.builds(Corruption, st.just("meta_node"), st.just("meta.json"), st.tuples(st.sampled_from(META_NODES), json_values),
              st.just(False)),
    # What a fetch SIGKILLed between its renames leaves: reads refuse until a fetch finishes it.
    st.builds(
        Corruption, st.just("journal"), st.just(".publishing.json"),
        st.sampled_from(["[]", "[[null, \"meta.json\"]]", "{", "", *HOSTILE_JOURNALS]) | st.text(max_size=20),
        st.just(True),
    ),
)


@settings(FUZZ, max_examples=40)
@given(corruption=corruptions, command=st.sampled_from(sorted(READERS)))
# Found by this property (each was an internal error or a silent read before the fix):
@example(corruption=Corruption("meta_node", "meta.json", (("symbols", "SPY"), "text"), False), command="backtest")
@example(corruption=Corruption("meta_node", "meta.json", (("symbols", "SPY", "bars", "1m"), 5), False), command="backtest")
@example(corruption=Corruption("timestamps", YEAR_FILES[1], ("ns", None), True), command="backtest")
@example(corruption=Corruption("folder_for_file", YEAR_FILES[1], None, True), command="store-info")
def test_a_corrupt_store_is_refused_in_one_line_or_read_and_never_changed(
    pristine_store: Path, corruption: Corruption, command: str
) -> None:
    with store_copy(pristine_store) as (store, out):
        corruption.apply(store)
        read_store(store, out, command, must_refuse=corruption.refused)


@settings(FUZZ, max_examples=25)
@given(corruption=corruptions)
@example(corruption=Corruption("journal", ".publishing.json", HOSTILE_JOURNALS[0], True))  # found: removed ../sentinel
def test_a_fetch_into_a_corrupt_store_runs_or_refuses_and_never_touches_a_file_outside_it(
    pristine_store: Path, corruption: Corruption
) -> None:
    """A re-fetch of the same synthetic SPY into the corrupt store: a clean run, or one line,
    exit 2 and the store byte-identical; the file beside the store is never touched."""
    with store_copy(pristine_store) as (store, _out):
        sentinel = store.parent / "sentinel"
        sentinel.write_text("outside the store")
        corruption.apply(store)
        before = snapshot(store)
        outcome = run([
            "fetch", "--source", "synthetic", "--symbols", "SPY", "--start", "2023-12-20", "--end", "2024-01-10",
            "--store", str(store),
        ])
        assert_refused_or_ran(outcome)
        if outcome.code == 2:
            assert snapshot(store) == before, outcome.text
        assert sentinel.read_text() == "outside the store"
        assert not (store / ".lock").exists()


# ----- hostile configs ---------------------------------------------------------------


def default_document() -> dict[str, Any]:
    return yaml.safe_load(DEFAULT_CONFIG.read_text())


def leaves(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from leaves(value, (*path, key))
    else:
        yield path, node


def mappings(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, dict):
        yield path
        for key, value in node.items():
            yield from mappings(value, (*path, key))


DOCUMENT = default_document()
LEAVES = [path for path, _ in leaves(DOCUMENT)]
NUMERIC_LEAVES = [path for path, value in leaves(DOCUMENT) if isinstance(value, int | float) and not isinstance(value, bool)]
# Where an unknown key is a mistake: every block except the per-symbol table (keyed by symbol).
BLOCKS = [path for path in mappings(DOCUMENT) if path != ("options", "symbols")]


def with_leaf(document: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    node = document
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return document


def config_run(config_text: str, command: str = "backtest", *, must_refuse: bool, store: Path) -> Outcome:
    with tempfile.TemporaryDirectory(prefix="vwapcli-fuzz-") as folder:
        config = Path(folder) / "config.yaml"
        config.write_text(config_text)
        out = Path(folder) / "out"
        before = snapshot(store)
        args = [*READERS[command](store, out), "--config", str(config)]
        outcome = run(args)
        (assert_refused if must_refuse else assert_refused_or_ran)(outcome)
        assert snapshot(store) == before
        if outcome.code != 0:
            assert not out.exists(), outcome.text
        return outcome


@settings(FUZZ, max_examples=20)
@given(path=st.sampled_from(NUMERIC_LEAVES), value=st.sampled_from([".nan", ".inf", "-.inf", "nan", "-inf", "1e400"]))
def test_nan_and_infinity_in_any_numeric_field_are_refused(pristine_store: Path, path: tuple[Any, ...], value: str) -> None:
    """YAML ``.nan``/``.inf`` are floats, ``nan``/``-inf`` strings pydantic would parse, and
    ``1e400`` overflows to inf: every one is refused (issue 12, item 3)."""
    document = with_leaf(default_document(), path, "__VALUE__")
    text = yaml.safe_dump(document).replace("__VALUE__", value)
    outcome = config_run(text, must_refuse=True, store=pristine_store)
    assert ".".join(str(p) for p in path) in outcome.text or path[-1] in outcome.text, outcome.text


@settings(FUZZ, max_examples=20)
@given(path=st.sampled_from(LEAVES), value=st.one_of(
    st.lists(st.integers(), min_size=0, max_size=3), st.dictionaries(st.text(min_size=1, max_size=3), st.integers(), max_size=2),
))
def test_a_list_or_mapping_where_a_value_belongs_is_refused(
    pristine_store: Path, path: tuple[Any, ...], value: Any
) -> None:
    outcome = config_run(yaml.safe_dump(with_leaf(default_document(), path, value)), must_refuse=True, store=pristine_store)
    assert str(path[-1]) in outcome.text, outcome.text


@settings(FUZZ, max_examples=20)
@given(block=st.sampled_from(BLOCKS), key=st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=1, max_size=10))
def test_an_unknown_key_in_any_block_is_refused(pristine_store: Path, block: tuple[Any, ...], key: str) -> None:
    document = default_document()
    node = document
    for part in block:
        node = node[part]
    if key in node:  # an existing key is not unknown
        key = key + "_unknown"
    node[key] = 1
    outcome = config_run(yaml.safe_dump(document), must_refuse=True, store=pristine_store)
    assert key in outcome.text, outcome.text


hostile_scalars = st.one_of(
    st.text(max_size=12),
    st.booleans(),
    st.none(),
    st.integers(-(10**30), 10**30),
    st.integers(-5, 100_000),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["2024-13-45", "25:61", "10min", "-1min", "1e9min", "0", "", "~", "null", "yes"]),
)


@settings(FUZZ, max_examples=40)
@given(path=st.sampled_from(LEAVES), value=hostile_scalars)
def test_any_scalar_in_any_field_runs_or_is_refused_in_one_line(
    pristine_store: Path, path: tuple[Any, ...], value: Any
) -> None:
    """Wrong types, huge or negative numbers, odd strings: the config is valid or refused in
    one line; never an internal error. Run through ``signals`` (every field is validated
    when the config loads; the strategy fields are then used)."""
    config_run(yaml.safe_dump(with_leaf(default_document(), path, value)), "signals", must_refuse=False,
               store=pristine_store)


@settings(FUZZ, max_examples=25)
@given(width=st.integers(2, 12), depth=st.integers(1, 12))
def test_yaml_aliases_run_or_are_refused_quickly_and_never_echo_the_expansion(
    pristine_store: Path, width: int, depth: int
) -> None:
    """A chain of anchors each listing the previous one ``width`` times expands to
    ``width ** depth`` values, placed at an unknown top-level key: refused either way
    (the bomb past MAX_YAML_VALUES, else the unknown key)."""
    lines = ["bomb0: &a0 [x]"]
    for level in range(1, depth + 1):
        lines.append(f"bomb{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * width) + "]")
    outcome = config_run("\n".join(lines) + "\n", must_refuse=True, store=pristine_store)
    assert len(outcome.text) < 400, outcome.text
    if width ** depth > MAX_YAML_VALUES:
        assert "aliases" in outcome.text, outcome.text


# ----- hostile arguments --------------------------------------------------------------

date_texts = st.one_of(
    st.text(max_size=12),
    st.dates().map(str),
    st.sampled_from(["2024-02-30", "2024-13-01", "0000-01-01", "9999-12-31", "1900-01-01", "2024-01-06", " ",
                     "2024/01/02", "20240102", "nan", "NaT", "today", "-1", "2024-01-02T25:00"]),
)


@settings(FUZZ, max_examples=40)
@given(start=date_texts | st.none(), end=date_texts | st.none(), command=st.just("signals"))
@example(start="2024-01-06", end="2024-01-07", command="signals")  # a weekend: no session
@example(start="0309-06-17", end="0309-06-17", command="signals")  # found: OverflowError deep in pandas
@example(start="9999-12-31", end=None, command="backtest")
@example(start="", end="", command="backtest")  # found: a usage box, not one line
def test_any_start_and_end_run_or_are_refused_in_one_line(
    pristine_store: Path, start: str | None, end: str | None, command: str
) -> None:
    with store_copy(pristine_store) as (store, out):
        args = READERS[command](store, out)
        args += ["--start", start] if start is not None else []
        args += ["--end", end] if end is not None else []
        before = snapshot(store)
        outcome = run(args)
        assert_refused_or_ran(outcome)
        assert snapshot(store) == before
        unparseable = [text for text in (start, end) if text is not None and not _is_iso_date(text)]
        if unparseable:
            assert outcome.code == 2, outcome.text


def _is_iso_date(text: str) -> bool:
    import datetime as dt

    try:
        dt.date.fromisoformat(text.strip())
    except ValueError:
        return False
    return True


@settings(FUZZ, max_examples=25)
@given(symbol=st.text(max_size=12), command=st.sampled_from(["signals", "backtest"]))
@example(symbol="spy/../QQQ", command="backtest")  # found: a usage box, not one line
@example(symbol="IWM", command="signals")
def test_a_symbol_the_store_does_not_hold_is_refused_in_one_line(pristine_store: Path, symbol: str, command: str) -> None:
    if not set(symbol.upper().replace(",", " ").split()) - set(SYMBOLS):
        symbol = f"{symbol}X!"  # the store holds it (or it names nothing: the default): make it something else
    with store_copy(pristine_store) as (store, out):
        args = [arg if arg != "QQQ" else symbol for arg in READERS[command](store, out)]
        read_outcome = run(args)
        assert_refused(read_outcome)
        assert snapshot(store) == snapshot(pristine_store)


@settings(FUZZ, max_examples=20)
@given(name=st.text(max_size=16), flag=st.sampled_from(["--only", "--enable"]), command=st.sampled_from(["signals", "backtest"]))
@example(name="orb_", flag="--only", command="signals")  # one character from a known name
def test_an_unknown_strategy_name_is_refused_in_one_line(pristine_store: Path, name: str, flag: str, command: str) -> None:
    from vwapcli.strategies import catalogue

    known = set(catalogue().keys())
    if name.strip().lower() in known:
        name = name + "_x"
    with store_copy(pristine_store) as (store, out):
        outcome = run([*READERS[command](store, out), flag, name])
        assert_refused(outcome)
        assert snapshot(store) == snapshot(pristine_store)
        assert not out.exists()


def test_the_fuzz_store_holds_what_the_corruptions_target(pristine_store: Path) -> None:
    """Guard: the corruptions above name files that exist, and the clean store reads (exit 0)."""
    files = snapshot(pristine_store)
    assert all(name in files for name in [*YEAR_FILES, *IV_FILES, "meta.json"])
    with store_copy(pristine_store) as (store, out):
        for command in READERS:
            outcome = run(READERS[command](store, out))
            assert outcome.code == 0, (command, outcome.text)


# ----- hostile fetch inputs -----------------------------------------------------------


@dataclass(frozen=True)
class CsvDamage:
    """One change to a clean vendor CSV of SPY bars (three 2024 sessions)."""

    kind: str
    payload: Any

    def apply(self, frame: Any, path: Path) -> None:
        frame = frame.copy()
        if self.kind == "cell":
            row, column, text = self.payload
            frame[frame.columns[column % len(frame.columns)]] = frame[frame.columns[column % len(frame.columns)]].astype(object)
            frame.iat[row % len(frame), column % len(frame.columns)] = text
        elif self.kind == "drop_column":
            frame = frame.drop(columns=[frame.columns[self.payload % len(frame.columns)]])
        elif self.kind == "duplicate_row":
            frame = pd.concat([frame, frame.iloc[[self.payload % len(frame)]]]).sort_index(kind="stable")
        elif self.kind == "swap_rows":
            first, second = (i % len(frame) for i in self.payload)
            frame.iloc[[first, second]] = frame.iloc[[second, first]].to_numpy()
        elif self.kind == "naive":
            frame["ts"] = frame["ts"].dt.tz_localize(None)
        if self.kind == "bytes":
            path.write_bytes(self.payload)
        else:
            frame.to_csv(path, index=False)


csv_damage = st.one_of(
    st.builds(CsvDamage, st.just("cell"), st.tuples(
        st.integers(0, 10**4), st.integers(0, 5),
        st.text(max_size=10) | st.sampled_from(["nan", "inf", "-1", "1e308", "", "2024-03-11 25:00:00+00:00"]),
    )),
    st.builds(CsvDamage, st.just("drop_column"), st.integers(0, 5)),
    st.builds(CsvDamage, st.just("duplicate_row"), st.integers(0, 10**4)),
    st.builds(CsvDamage, st.just("swap_rows"), st.tuples(st.integers(0, 10**4), st.integers(0, 10**4))),
    st.builds(CsvDamage, st.just("naive"), st.none()),
    st.builds(CsvDamage, st.just("bytes"), st.binary(max_size=200)),
)


@settings(FUZZ, max_examples=25)
@given(damage=csv_damage)
def test_a_damaged_vendor_file_is_imported_whole_or_refused_with_the_store_untouched(
    pristine_store: Path, damage: CsvDamage
) -> None:
    """``fetch --source csv`` of a damaged SPY file into the store: a clean import, or one
    line, exit 2 and every store file byte-identical (nothing half-written, no lock left)."""
    from builders.cli import good_bars

    with store_copy(pristine_store) as (store, out):
        out.mkdir()
        damage.apply(good_bars(), out / "SPY.csv")
        before = snapshot(store)
        outcome = run(["fetch", "--source", "csv", "--path", str(out / "SPY.csv"), "--store", str(store)])
        assert_refused_or_ran(outcome)
        if outcome.code == 2:
            assert snapshot(store) == before, outcome.text
        assert not (store / ".lock").exists()
