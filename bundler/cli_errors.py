"""How every command line of the project ends on an error: one `ERROR` line, a hint, an exit status.

Known errors (the package's own, which carry a ``hint``) print no traceback;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable

EXIT_ERROR = 2  # the command could not do its work (bad hash, missing lock, no engine, bad arguments)
EXIT_INTERRUPTED = 130


def report_error(error: Exception) -> None:
    sys.stderr.write(f"ERROR {error}\n")
    hint = getattr(error, "hint", "")
    if hint:
        sys.stderr.write(f"hint: {hint}\n")


def run_command(command: Callable[[], int], known: tuple[type[Exception], ...]) -> int:
    """Run ``command`` and turn what it raises into an exit status."""
    try:
        return command()
    except known as error:
        report_error(error)
        return EXIT_ERROR
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return EXIT_INTERRUPTED
    except Exception:
        traceback.print_exc()
        return EXIT_ERROR
