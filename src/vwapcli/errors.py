"""One exception type per user-facing failure.

The CLI catches :class:`VwapcliError` once, at the top, and prints ``str(error)`` as a
single red line with exit code 2 (``ExitStatus.USER_ERROR``). Messages must therefore be complete sentences that
name the file, the row or timestamp, and the rule that was broken.
"""

from __future__ import annotations

import errno
import os
from enum import IntEnum
from typing import ClassVar


class ExitStatus(IntEnum):
    """What ``vwapcli`` exits with: scripts and CI gates read these numbers."""

    SUCCESS = 0
    CHECK_FAILED = 1  # `report --check`: the verdict (or a portfolio criterion) FAILs
    INTERNAL_ERROR = 1  # a bug, not the user's input: one line, rerun with --debug
    USER_ERROR = 2  # a VwapcliError: one line naming the file, row or rule
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), nothing half-written kept


class VwapcliError(Exception):
    """Base of every error the user is meant to read (no traceback)."""

    exit_code: ExitStatus = ExitStatus.USER_ERROR


class ArgumentError(VwapcliError):
    """A command-line value breaks a rule (the option, the value and the rule), in one line
    rather than a usage box."""


class ConfigError(VwapcliError):
    """A config file is unreadable or a value breaks a rule (field path + reason)."""


class DataValidationError(VwapcliError):
    """Input bars break a SPEC 3.3 rule (file, row/timestamp, rule)."""


class StoreError(VwapcliError):
    """The bar store is missing, empty for the request, or unreadable."""


class RunFolderExistsError(VwapcliError):
    """A run would overwrite an earlier run's folder."""


class NoSessionsError(VwapcliError):
    """A date range holds no trading session (a weekend, a holiday, before or after the calendar)."""


class OutputExistsError(VwapcliError):
    """A command would replace a file the user did not ask to replace (or write into a store it reads)."""


class ProviderError(VwapcliError):
    """A market-data provider refused or failed (missing key, 401, exhausted retries)."""


class BrokerError(VwapcliError):
    """A paper broker refused or failed an order (missing key, 401/403, rejected, unreachable)."""


class NotBuiltError(VwapcliError):
    """A command whose engine is not built yet."""


class ExecutorError(VwapcliError):
    """A sweep executor could not start (dask missing, scheduler unreachable)."""


class ReportError(VwapcliError):
    """A run folder cannot be reported on (missing/unreadable file, column, strategy, mismatch)."""


class PathAccessError(VwapcliError):
    """The system refused a path the user gave: permission denied, a name too long, a folder
    where a file should be (or the reverse), a full or read-only disk.

    Checks before any work raise it directly (``output_paths``); :func:`from_os_error` turns
    the same refusal met later (a store file made unreadable) into the same one line.
    """

    _RULES: ClassVar[dict[int, str]] = {
        errno.EACCES: "the user running vwapcli needs permission to read inputs and write outputs there",
        errno.EPERM: "the user running vwapcli needs permission to read inputs and write outputs there",
        errno.ENAMETOOLONG: "a file or folder name is at most 255 bytes",
        errno.EISDIR: "a file is expected there, not a folder",
        errno.ENOTDIR: "a folder is expected there, not a file",
        errno.ENOSPC: "free some disk space and rerun; nothing half-written was kept",
        errno.EDQUOT: "free some disk space and rerun; nothing half-written was kept",
        errno.EROFS: "the file system is read-only",
    }

    @classmethod
    def from_os_error(cls, error: OSError) -> PathAccessError | None:
        """The one-line form of ``error``, or None when its errno is not one of the above
        (then it is a bug, not the user's environment)."""
        code = error.errno or _ERRNO_OF_CLASS.get(type(error), 0)
        rule = cls._RULES.get(code)
        if rule is None:
            return None
        reason = error.strerror or str(error) or os.strerror(code)
        where = f"{short_path(error.filename)}: " if error.filename else ""
        return cls(f"{where}{reason} (rule: {rule})")


# pyarrow and some libraries raise these without an errno.
_ERRNO_OF_CLASS: dict[type[OSError], int] = {
    PermissionError: errno.EACCES,
    IsADirectoryError: errno.EISDIR,
    NotADirectoryError: errno.ENOTDIR,
}


def short_path(path: object, limit: int = 96) -> str:
    """``path`` as text, its middle elided past ``limit`` characters: an error line never
    echoes a 4,000-character name."""
    text = str(path)
    if len(text) <= limit:
        return text
    keep = (limit - 3) // 2
    return f"{text[:keep]}...{text[-keep:]}"


class MissingExtraError(VwapcliError):
    """An optional dependency a command needs is not installed: names the pip extra to add."""

    # Top-level module -> (PyPI package, vwapcli extra that installs it); pyproject.toml.
    EXTRAS: ClassVar[dict[str, tuple[str, str]]] = {
        "alpaca": ("alpaca-py", "providers"),
        "databento": ("databento", "providers"),
        "requests": ("requests", "providers"),
        "yfinance": ("yfinance", "providers"),
        "dask": ("dask[distributed]", "sweep"),
        "distributed": ("dask[distributed]", "sweep"),
    }

    @classmethod
    def from_import_error(cls, error: ImportError) -> MissingExtraError | None:
        """The one-line form of a missing optional module, or None for any other import
        failure (a missing core dependency is a broken install, not a user error)."""
        module = (error.name or "").split(".")[0]
        known = cls.EXTRAS.get(module)
        if not isinstance(error, ModuleNotFoundError) or known is None:
            return None
        package, extra = known
        return cls(f"this needs the optional package {package} (module {module!r}), not installed: pip install 'vwapcli[{extra}]'")


def caused_by_ctrl_c(error: BaseException) -> bool:
    """True when a KeyboardInterrupt is the error or in its cause/context chain.

    A Ctrl-C can surface as another exception: numba reports a SIGINT that lands inside a
    compiled kernel as ``SystemError(... returned a result with an exception set)`` caused
    by the KeyboardInterrupt, and a command may ``sys.exit`` while handling one. Both must
    still stop as an interruption (the one line, exit 130), never as an internal error.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
