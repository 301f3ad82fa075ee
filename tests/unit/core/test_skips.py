"""Skip reasons are named values whose text is the skipped.csv vocabulary (SPEC 10)."""

from __future__ import annotations

from vwapcli.core.skips import RISK_REASONS, Skip, SkipReason


def test_the_reason_texts_are_the_run_folder_vocabulary() -> None:
    """Listed by hand from the SPEC 7-9 rules (and SPEC 12's stale_bar for paper trading);
    skipped.csv files written before the enum carry exactly these strings."""
    assert [reason.value for reason in SkipReason] == [
        "too_late", "no_bar", "stale_bar", "daily_loss_limit", "position_open", "max_open_positions", "size_zero",
        "no_strikes", "no_quote", "stale_quote", "crossed_quote", "locked_quote", "no_vol", "debit_too_high",
    ]
    assert f"{SkipReason.NO_QUOTE}" == "no_quote" and SkipReason("size_zero") is SkipReason.SIZE_ZERO


def test_only_the_four_spec_8_limits_are_risk_reasons() -> None:
    assert RISK_REASONS == (
        SkipReason.DAILY_LOSS_LIMIT, SkipReason.POSITION_OPEN, SkipReason.MAX_OPEN_POSITIONS, SkipReason.SIZE_ZERO,
    )
    assert not SkipReason.NO_QUOTE.is_risk and not SkipReason.TOO_LATE.is_risk


def test_a_skip_reads_as_its_reason_and_detail() -> None:
    assert str(Skip(SkipReason.SIZE_ZERO, "debit 0.55")) == "size_zero: debit 0.55"
    assert str(Skip(SkipReason.POSITION_OPEN)) == "position_open"
