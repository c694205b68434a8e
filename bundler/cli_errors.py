"""The project's one error-to-message mapper, `tooling.cli_errors`, under the name the bundler's code has used."""

from __future__ import annotations

from tooling.cli_errors import (
    EXIT_ERROR,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    CommandLineError,
    error_lines,
    known_errors,
    report_error,
    run_command,
)

__all__ = [
    "EXIT_ERROR",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "CommandLineError",
    "error_lines",
    "known_errors",
    "report_error",
    "run_command",
]
