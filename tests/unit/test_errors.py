"""Exit statuses are named (scripts and CI read the numbers)."""

from __future__ import annotations

from vwapcli.errors import ConfigError, ExitStatus


def test_exit_statuses_keep_their_numbers() -> None:
    assert (ExitStatus.SUCCESS, ExitStatus.CHECK_FAILED, ExitStatus.USER_ERROR, ExitStatus.INTERRUPTED) == (0, 1, 2, 130)
    assert ExitStatus.INTERNAL_ERROR == 1


def test_every_user_facing_error_exits_with_the_user_error_status() -> None:
    assert ConfigError("x").exit_code is ExitStatus.USER_ERROR
