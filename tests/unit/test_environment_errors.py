"""What the system refuses (a path, an optional package) becomes one user-facing line."""

from __future__ import annotations

import errno

import pytest

from vwapcli.errors import ExitStatus, MissingExtraError, PathAccessError, short_path


@pytest.mark.parametrize(
    ("error", "needles"),
    [
        (PermissionError(errno.EACCES, "Permission denied", "/data/store"), ["/data/store: Permission denied", "permission"]),
        (OSError(errno.ENAMETOOLONG, "File name too long", "x" * 300), ["File name too long", "255 bytes"]),
        (IsADirectoryError(errno.EISDIR, "Is a directory", "cfg"), ["cfg: Is a directory", "not a folder"]),
        (OSError(errno.ENOSPC, "No space left on device"), ["No space left", "nothing half-written"]),
        (PermissionError("Failed to open local file 'a.parquet'"), ["Failed to open local file", "permission"]),
    ],
)
def test_a_refused_path_becomes_one_line_with_its_rule(error: OSError, needles: list[str]) -> None:
    line = str(PathAccessError.from_os_error(error))
    assert "\n" not in line and len(line) < 300
    for needle in needles:
        assert needle in line


def test_an_os_error_that_is_not_the_environment_stays_internal() -> None:
    assert PathAccessError.from_os_error(OSError(errno.EBADF, "Bad file descriptor")) is None
    assert PathAccessError.from_os_error(OSError("no errno at all")) is None


def test_a_long_path_is_elided_in_the_middle() -> None:
    """96 characters kept: (96 - 3) // 2 = 46 from each end around '...'."""
    text = short_path("a" * 100 + "b" * 100)
    assert text == "a" * 46 + "..." + "b" * 46
    assert short_path("short/path") == "short/path"


def test_a_missing_optional_module_names_its_extra() -> None:
    error = MissingExtraError.from_import_error(ModuleNotFoundError("No module named 'databento'", name="databento"))
    assert error is not None and error.exit_code is ExitStatus.USER_ERROR
    assert "pip install 'vwapcli[providers]'" in str(error) and "databento" in str(error)
    dask = MissingExtraError.from_import_error(ModuleNotFoundError("x", name="distributed.client"))
    assert dask is not None and "vwapcli[sweep]" in str(dask)


def test_a_missing_core_module_is_a_broken_install_not_a_user_error() -> None:
    assert MissingExtraError.from_import_error(ModuleNotFoundError("x", name="numpy")) is None
    assert MissingExtraError.from_import_error(ImportError("cannot import name", name="alpaca")) is None
