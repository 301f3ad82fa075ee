"""One exception type per user-facing failure.

The CLI catches :class:`VwapcliError` once, at the top, and prints ``str(error)`` as a
single red line with exit code 2 (``ExitStatus.USER_ERROR``). Messages must therefore be complete sentences that
name the file, the row or timestamp, and the rule that was broken.
"""

from __future__ import annotations

from enum import IntEnum


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


class OutputExistsError(VwapcliError):
    """A command would replace a file the user did not ask to replace (or write into a store it reads)."""


class ProviderError(VwapcliError):
    """A market-data provider refused or failed (missing key, 401, exhausted retries)."""


class NotBuiltError(VwapcliError):
    """A command whose engine is not built yet."""


class ExecutorError(VwapcliError):
    """A sweep executor could not start (dask missing, scheduler unreachable)."""


class ReportError(VwapcliError):
    """A run folder cannot be reported on (missing/unreadable file, column, strategy, mismatch)."""
