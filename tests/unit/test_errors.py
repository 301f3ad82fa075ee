"""Exit statuses are named (scripts and CI read the numbers)."""

from __future__ import annotations

import pytest

from vwapcli.errors import ConfigError, ExitStatus


def test_exit_statuses_keep_their_numbers() -> None:
    assert (ExitStatus.SUCCESS, ExitStatus.CHECK_FAILED, ExitStatus.USER_ERROR, ExitStatus.INTERRUPTED) == (0, 1, 2, 130)
    assert ExitStatus.INTERNAL_ERROR == 1


def test_every_user_facing_error_exits_with_the_user_error_status() -> None:
    assert ConfigError("x").exit_code is ExitStatus.USER_ERROR


def _raised_from(cause: BaseException) -> SystemError:
    """What CPython builds when a C function (a numba kernel) returns with an exception set:
    a SystemError whose cause is the pending exception."""
    try:
        try:
            raise cause
        except BaseException as pending:
            raise SystemError("CPUDispatcher(kernel) returned a result with an exception set") from pending
    except SystemError as error:
        return error


def test_a_ctrl_c_wrapped_by_a_compiled_kernel_is_still_a_ctrl_c() -> None:
    from vwapcli.errors import caused_by_ctrl_c

    assert caused_by_ctrl_c(KeyboardInterrupt())
    assert caused_by_ctrl_c(_raised_from(KeyboardInterrupt()))
    assert not caused_by_ctrl_c(_raised_from(ValueError("a real bug")))
    assert not caused_by_ctrl_c(ValueError("no chain"))


def test_the_cli_turns_a_wrapped_ctrl_c_into_the_interrupted_line_and_exit_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CI failure of the paper SIGINT test: numba's SystemError around the interrupt
    printed 'internal error' with exit 1. Driven through ``main()`` with a command that raises it."""
    import sys

    import vwapcli.cli as cli
    import vwapcli.data.store_info as store_info

    def interrupted_inside_a_kernel(*_args: object, **_kwargs: object) -> None:
        raise _raised_from(KeyboardInterrupt())

    monkeypatch.setattr(store_info, "run_store_info", interrupted_inside_a_kernel)
    monkeypatch.setattr(sys, "argv", ["vwapcli", "store", "info", "--store", "nowhere"])
    with pytest.raises(SystemExit) as exiting:
        cli.main()
    assert exiting.value.code == ExitStatus.INTERRUPTED
    err = capsys.readouterr().err
    assert "interrupted" in err and "internal error" not in err
