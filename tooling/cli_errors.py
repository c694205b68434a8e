"""How every command line of the project ends on an error: one `ERROR` line, a hint, an exit status.

``python -m bundler``, ``python -m probes``, ``python -m probes.probe``, ``python -m regression``,
``python -m deploy`` and ``python -m runner`` all end through `run_command`, with the same exit
statuses:

- `EXIT_OK` (0): done;
- `EXIT_FAILED` (1): a check ran and failed (a size gate, lock drift, the probe, a fixture);
- `EXIT_ERROR` (2): the command could not do its work (a bad hash, a missing lock or file, a render
  error, no Docker engine, an AWS error, a bad argument);
- `EXIT_INTERRUPTED` (130): Ctrl-C.

Known errors print ``ERROR <message>`` (``ERROR <code>: <message>`` for the function's own errors,
whose class name is their error code), then the error's ``detail`` and ``hint:`` lines when it has
them, and no traceback. Known are the classes each command passes, `CommandLineError`, and
`OSError` (a path that is missing or unreadable is the machine's state, not a bug). Anything else
is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from typing import TextIO

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130

OS_ERROR_HINT = "check that the path exists and that you may read (or write) it"


class CommandLineError(Exception):
    """A command line that cannot run as given: options that do not go together, nothing to do."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


def error_lines(error: BaseException) -> list[str]:
    """What the user reads for a known ``error``: the ``ERROR`` line, its detail, then its hint."""
    if isinstance(error, OSError) and error.filename is not None:
        message = f"{error.filename}: {error.strerror or error}"
    else:
        message = str(error) or type(error).__name__
    code = getattr(error, "code", None)
    lines = [f"ERROR {code}: {message}" if isinstance(code, str) else f"ERROR {message}"]
    detail = getattr(error, "detail_lines", "")
    if isinstance(detail, str) and detail:
        lines.append(detail)
    hint = OS_ERROR_HINT if isinstance(error, OSError) else getattr(error, "hint", "")
    if isinstance(hint, str) and hint:
        lines.append(f"hint: {hint}")
    return lines


def report_error(error: BaseException, stream: TextIO | None = None) -> None:
    out = stream or sys.stderr
    out.write("".join(line + "\n" for line in error_lines(error)))
    out.flush()


def known_errors(*families: type[Exception]) -> tuple[type[Exception], ...]:
    """The classes a command reports without a traceback: its own ``families``, `CommandLineError`, `OSError`."""
    return (*families, CommandLineError, OSError)


def run_command(
    command: Callable[[], int],
    known: tuple[type[Exception], ...],
    *,
    after_error: Callable[[Exception], None] | None = None,
) -> int:
    """Run ``command`` and turn what it raises into an exit status; ``after_error`` runs after the lines."""
    try:
        return command()
    except known_errors(*known) as error:
        report_error(error)
        if after_error is not None:
            after_error(error)
        return EXIT_ERROR
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return EXIT_INTERRUPTED
    except Exception:
        traceback.print_exc()
        return EXIT_ERROR
