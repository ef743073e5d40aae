"""Errors that end a target run. Their messages are safe to print and name what is at fault."""

from __future__ import annotations


class TargetError(Exception):
    """Ends the run with exit code 1 and this message (no traceback)."""


class UnsupportedStreamError(TargetError):
    """A stream this target cannot write."""


class RunAbortedError(TargetError):
    """The run cannot go on: auth failed, retries ran out, or too many records failed."""


class RecordsRejectedError(TargetError):
    """The input was processed, but some records went to the dead letter."""


class Rejected(Exception):
    """A record cannot be written; it goes to the dead letter and the run goes on."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
