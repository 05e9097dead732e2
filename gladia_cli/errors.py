"""One exception hierarchy; each error carries the exit code the CLI returns for it."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Documented in the README; asserted by the tests."""

    OK = 0
    UNEXPECTED = 1
    USAGE = 2
    AUTH = 3
    NETWORK = 4
    API = 5
    BATCH_FAILED = 6
    ABORTED = 130


class GladiaError(Exception):
    """An error the user can act on: `cli` prints its message as one line and exits with `exit_code`."""

    exit_code: ExitCode = ExitCode.UNEXPECTED

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}; {self.hint}" if self.hint else self.message


class UsageError(GladiaError):
    """Bad flag, bad file, audio that cannot match the session config."""

    exit_code = ExitCode.USAGE


class AuthError(GladiaError):
    exit_code = ExitCode.AUTH


class NetworkError(GladiaError):
    exit_code = ExitCode.NETWORK


class ApiError(GladiaError):
    """Gladia answered, but not with what we asked for (422, 404, 5xx after retries...)."""

    exit_code = ExitCode.API

    def __init__(self, message: str, *, hint: str | None = None, status: int | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status


class Aborted(GladiaError):
    exit_code = ExitCode.ABORTED
