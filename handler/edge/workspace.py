"""A private scratch directory per invocation, removed when the invocation ends, errors included.

Directories are made with `tempfile.mkdtemp` under ``TMPDIR`` (``/tmp`` on
Lambda) and named ``renderzip-ws-*``. A timed-out invocation never reaches its
cleanup, so on Lambda, where one container runs one invocation at a time, the
entry point passes ``sweep_stale=True`` to remove what earlier invocations
left. The prepared binaries live elsewhere and are never touched. The local
runner, whose workers share ``/tmp``, leaves ``sweep_stale`` off.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

PREFIX = "renderzip-ws-"


@contextlib.contextmanager
def workspace(*, root: Path | None = None, sweep_stale: bool = False) -> Iterator[Path]:
    """A fresh, empty directory (mode 0700) that is removed when the block exits."""
    base = root if root is not None else Path(tempfile.gettempdir())
    if sweep_stale:
        sweep(base)
    path = Path(tempfile.mkdtemp(prefix=PREFIX, dir=base))
    try:
        yield path
    finally:
        remove_tree(path)


def sweep(base: Path) -> list[Path]:
    """Remove every ``renderzip-ws-*`` directory directly under ``base``; returns what was removed."""
    removed = []
    for entry in sorted(base.glob(PREFIX + "*")):
        if entry.is_dir() and not entry.is_symlink():
            remove_tree(entry)
            removed.append(entry)
    return removed


def remove_tree(path: Path) -> None:
    """Remove ``path`` even when some of its directories were made read-only."""
    try:
        shutil.rmtree(path)
    except FileNotFoundError:
        return
    except OSError:
        for dirpath, _, _ in os.walk(path):
            with contextlib.suppress(OSError):
                Path(dirpath).chmod(stat.S_IRWXU)
        shutil.rmtree(path)
