"""Option-quote import (SPEC 7 chain mode, SPEC 3.3 standard): mapping, time, rules, drops.

Time arithmetic used below: 2024-03-14 and 2024-03-15 are after the 2024-03-10 DST change,
so New York is EDT = UTC-4: 15:00 New York is 19:00Z, 09:31 is 13:31Z.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from vwapcli.data.option_quote_import import parse_column_map, read_option_quotes
from vwapcli.errors import DataValidationError

# A vendor export in Cboe DataShop's naming: naive New York times, rights spelled out.
VENDOR_CSV = """underlying_symbol,quote_datetime,root,expiration,strike,option_type,bid,ask,bid_size,ask_size,active_underlying_price
SPY,2024-03-14 15:00:00,SPY,2024-03-15,500,call,1.00,1.10,10,12,500.25
SPY,2024-03-14 15:00:00,SPY,2024-03-15,500,PUT,0.80,0.85,5,6,500.25
SPY,2024-03-14 15:01:00,SPY,2024-03-15,501,c,0.55,0.50,1,1,500.30
SPY,2024-03-14 15:01:00,SPY,2024-03-15,502,P,0.00,0.01,0,100,500.30
SPY,2024-03-15 09:31:00,SPY,2024-03-15,500,Call,1.20,1.25,3,4,500.40
"""
VENDOR_MAP = {
    "quote_datetime": "ts",
    "underlying_symbol": "underlying",
    "option_type": "right",
    "active_underlying_price": "underlying_price",
}
# The native layout (the real files' columns), tz-aware ISO times.
NATIVE_CSV = """ts,underlying,expiration,strike,right,bid,ask,underlying_price
2024-03-14T19:00:00Z,SPY,2024-03-15,500,C,1.00,1.10,500.25
2024-03-14T19:00:00Z,SPY,2024-03-15,500,P,0.80,0.85,500.25
2024-03-14T19:01:00Z,SPY,2024-03-15,501,C,0.60,0.65,500.30
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_a_vendor_export_is_mapped_localized_and_crossed_rows_dropped(tmp_path: Path) -> None:
    """By hand: 5 rows read; row 2 (bid 0.55 > ask 0.50) is crossed and dropped; 4 kept.
    15:00 New York on 2024-03-14 = 19:00Z, 09:31 on 03-15 = 13:31Z; call/PUT/c/P/Call -> C/P/C/P/C."""
    quotes, report = read_option_quotes(
        write(tmp_path / "export.csv", VENDOR_CSV), VENDOR_MAP, tz="America/New_York"
    )
    assert list(quotes.columns[:8]) == [
        "ts", "underlying", "expiration", "strike", "right", "bid", "ask", "underlying_price",
    ]
    assert list(quotes["ts"]) == [
        pd.Timestamp("2024-03-14 19:00", tz="UTC"),
        pd.Timestamp("2024-03-14 19:00", tz="UTC"),
        pd.Timestamp("2024-03-14 19:01", tz="UTC"),
        pd.Timestamp("2024-03-15 13:31", tz="UTC"),
    ]
    assert list(quotes["right"]) == ["C", "P", "P", "C"]
    assert list(quotes["strike"]) == [500.0, 500.0, 502.0, 500.0]
    assert list(quotes["bid"]) == [1.00, 0.80, 0.00, 1.20]
    assert list(quotes["ask"]) == [1.10, 0.85, 0.01, 1.25]
    assert list(quotes["underlying_price"]) == [500.25, 500.25, 500.30, 500.40]
    assert list(quotes["bid_size"]) == [10, 5, 0, 3]
    assert set(quotes["expiration"]) == {dt.date(2024, 3, 15)}
    assert "root" not in quotes.columns  # unknown vendor columns are left out
    (spy,) = report.underlyings
    assert (report.rows_read, spy.rows, spy.crossed, spy.one_sided) == (5, 4, 1, 0)
    # contracts: 500 C, 500 P, 502 P (501 C was dropped); days: 03-14 and 03-15
    assert (spy.contracts, spy.days, spy.first_day, spy.last_day) == (3, 2, dt.date(2024, 3, 14), dt.date(2024, 3, 15))
    assert (spy.zero_bid, spy.locked) == (1, 0)
    assert report.timezone_notes == ("naive timestamps read as America/New_York (--tz)",)
    assert report.line() == (
        "1 file, 5 rows read, 4 quotes kept (1 crossed and 0 one-sided dropped), 3 contracts, 2 underlying-days"
    )


def test_the_native_layout_needs_no_map_and_expiry_is_accepted_for_expiration(tmp_path: Path) -> None:
    path = write(tmp_path / "q.csv", NATIVE_CSV.replace("expiration", "Expiry"))
    quotes, report = read_option_quotes(path)
    assert len(quotes) == 3
    assert report.timezone_notes == ("timestamps with UTC offsets kept",)
    assert quotes["ts"].iloc[2] == pd.Timestamp("2024-03-14 19:01", tz="UTC")


def test_parquet_with_tz_aware_times_reads_like_the_csv(tmp_path: Path) -> None:
    from_csv, _ = read_option_quotes(write(tmp_path / "q.csv", NATIVE_CSV))
    path = tmp_path / "q.parquet"
    frame = pd.read_csv(tmp_path / "q.csv")
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    frame.to_parquet(path)
    from_parquet, _ = read_option_quotes(path)
    pd.testing.assert_frame_equal(from_csv, from_parquet)


def test_naive_times_without_tz_are_refused_not_guessed(tmp_path: Path) -> None:
    path = write(tmp_path / "export.csv", VENDOR_CSV)
    with pytest.raises(DataValidationError, match=r"export.csv: row 0 \(2024-03-14 15:00:00\): timestamp without timezone"):
        read_option_quotes(path, VENDOR_MAP)


def test_one_sided_quotes_are_dropped_and_counted_but_zero_bids_kept(tmp_path: Path) -> None:
    """Row 1 has no bid (empty cell): dropped as one-sided; row 2 bids 0: kept."""
    text = NATIVE_CSV.replace("500,P,0.80,0.85", "500,P,,0.85").replace("501,C,0.60,0.65", "501,C,0,0.05")
    quotes, report = read_option_quotes(write(tmp_path / "q.csv", text))
    (spy,) = report.underlyings
    assert (spy.rows, spy.one_sided, spy.zero_bid) == (2, 1, 1)
    assert list(quotes["bid"]) == [1.00, 0.0]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("500,C,1.00,1.10", "500,C,-0.05,1.10", r"row 0 \(2024-03-14T19:00:00Z\): negative price: bid '-0.05'"),
        ("500,P,0.80,0.85", "500,P,0.80,abc", r"row 1 \(.*\): ask 'abc' is not a price"),
        ("501,C,0.60", "0,C,0.60", r"row 2 \(.*\): strike '0' is not > 0 \(rule: strike > 0\)"),
        ("500,P,", "500,X,", r"row 1 \(.*\): unknown right 'X' \(rule: right is C, P, call or put"),
        ("2024-03-15,501", "2024-03-13,501", r"row 2 .*expiration '2024-03-13' is before the quote's New York date 2024-03-14"),
        ("2024-03-15,501", "someday,501", r"row 2 .*cannot parse expiration 'someday'"),
        ("SPY,2024-03-15,500,P", "S P Y,2024-03-15,500,P", r"row 1 .*underlying 'S P Y' is not a ticker"),
    ],
)
def test_a_bad_row_names_file_row_and_rule(tmp_path: Path, old: str, new: str, message: str) -> None:
    path = write(tmp_path / "bad.csv", NATIVE_CSV.replace(old, new, 1))
    with pytest.raises(DataValidationError, match=r"bad.csv: " + message):
        read_option_quotes(path)


def test_the_first_offending_row_is_reported_with_the_total(tmp_path: Path) -> None:
    text = NATIVE_CSV.replace("1.00,1.10", "1.00,-1").replace("0.60,0.65", "-0.60,0.65")
    with pytest.raises(DataValidationError, match=r"row 0 .*negative price: ask '-1.*; 2 offending rows in total"):
        read_option_quotes(write(tmp_path / "bad.csv", text))


def test_an_unparseable_timestamp_names_its_row(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.csv", VENDOR_CSV.replace("2024-03-14 15:01:00", "yesterday", 1))
    with pytest.raises(DataValidationError, match=r"bad.csv: row 2: cannot parse timestamp 'yesterday'"):
        read_option_quotes(path, VENDOR_MAP, tz="America/New_York")


def test_missing_columns_are_named_with_what_was_found(tmp_path: Path) -> None:
    text = "\n".join(",".join(line.split(",")[:6] + line.split(",")[7:]) for line in NATIVE_CSV.splitlines())
    with pytest.raises(DataValidationError, match=r"bad.csv: missing column\(s\) ask \(rule: option quotes need .*found ts, underlying"):
        read_option_quotes(write(tmp_path / "bad.csv", text))


def test_a_duplicate_quote_in_a_second_file_names_both_places(tmp_path: Path) -> None:
    folder = tmp_path / "quotes"
    folder.mkdir()
    write(folder / "a.csv", NATIVE_CSV)
    lines = NATIVE_CSV.splitlines()
    write(folder / "b.csv", "\n".join([lines[0], lines[3].replace("501", "503"), lines[2]]) + "\n")
    with pytest.raises(
        DataValidationError,
        match=r"b.csv: row 1 \(2024-03-14 19:00:00\+00:00\): duplicate quote of SPY 2024-03-15 500 P "
        r"\(also .*a.csv row 1; rule: one quote per ts",
    ):
        read_option_quotes(folder)


def test_a_column_map_is_parsed_case_insensitively_and_checked() -> None:
    assert parse_column_map(["Quote Datetime=TS", "option-type=right"]) == {"quote_datetime": "ts", "option_type": "right"}
    with pytest.raises(DataValidationError, match="--map 'a=price': expected VENDOR_COLUMN=NAME"):
        parse_column_map(["a=price"])
    with pytest.raises(DataValidationError, match="ts is mapped twice"):
        parse_column_map(["a=ts", "b=ts"])


def test_two_columns_giving_one_field_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "q.csv", NATIVE_CSV.replace("underlying_price", "Bid"))
    with pytest.raises(DataValidationError, match=r"q.csv: columns 'bid', 'Bid' all give bid"):
        read_option_quotes(path)


def test_a_mapped_column_wins_over_a_native_one_of_the_same_name(tmp_path: Path) -> None:
    """The file's own 'underlying_price' (500.25) is set aside for the mapped 'mark' (600)."""
    text = NATIVE_CSV.replace("underlying_price", "underlying_price,mark").replace("500.25", "500.25,600")
    text = text.replace("500.30", "500.30,600")
    quotes, _ = read_option_quotes(write(tmp_path / "q.csv", text), {"mark": "underlying_price"})
    assert list(quotes["underlying_price"]) == [600.0, 600.0, 600.0]
