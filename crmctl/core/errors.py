"""Errors as values, the one fatal-error type, and the exit codes.

Like beancount, problems found in data are collected as :class:`Problem`
values carrying ``file:line``; like pre-commit, anything that must stop a
command is a :class:`CrmError`, which the CLI maps to one line on stderr and
exit code 1 in a single place, and any other exception is a bug: exit 3.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass


class ExitCode(enum.IntEnum):
    """What a crmctl process exits with; pre-commit's codes, so scripts can tell a bug from bad data."""

    OK = 0
    USER_ERROR = 1      # bad input or data (a CrmError): one line says what to do; nothing written
    USAGE = 2           # a command line Click cannot parse (unknown option, missing argument)
    INTERNAL_ERROR = 3  # a bug in crmctl: the trace is saved, see crmctl.cli.internal_error
    INTERRUPTED = 130   # Ctrl-C (128 + SIGINT, as shells report it)


class CrmError(Exception):
    """A user or data error: the message says what went wrong and what to do."""

    exit_code = ExitCode.USER_ERROR


class NotFound(CrmError):
    """An id or prefix that matches no record."""


class Ambiguous(CrmError):
    """A prefix that matches more than one record."""


class ValidationError(CrmError):
    """A value that breaks a record's schema or a business rule."""


class LockTimeout(CrmError):
    """Another process holds the book's lock for too long."""


class PolicyError(CrmError):
    """A change forbidden by the book's policy (stage gates, discounts, ...)."""


WARNING = "warning"  # a Problem with this code is reported by `check` but does not fail it (something to look at)
NOTE = "note"        # a Problem with this code is listed by `check` but does not fail it (work still to do)
PASSING = frozenset({WARNING, NOTE})


@dataclass(frozen=True)
class Problem:
    """One problem in the book, located at ``path:line``."""

    path: str
    line: int
    message: str
    code: str = "error"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.code + ': ' if self.code in PASSING else ''}{self.message}"

    def as_dict(self) -> dict[str, object]:
        return {"path": self.path, "line": self.line, "code": self.code, "message": self.message}


class LoadError(CrmError):
    """A file that cannot be loaded; carries the :class:`Problem` that says where."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem
