"""Errors a user can see: each carries one plain sentence and a CLI exit code."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_FLAGGED = 3


class GaitanonError(Exception):
    """A failure explained in one plain sentence (never shown as a traceback)."""

    exit_code = EXIT_FAILED


class UsageError(GaitanonError):
    """The user asked for something invalid (bad option, output exists, ...)."""

    exit_code = EXIT_USAGE


class InputError(GaitanonError):
    """The input file cannot be used (not a video, damaged, absurd header, ...)."""


class Cancelled(GaitanonError):
    """The user cancelled; whatever was being written has been removed."""
