"""Progress and status output for long bundler work.

Library code reports through a ``Reporter``; only the CLI decides how it is
shown. On a terminal, progress redraws one line; elsewhere (CI logs) each
step is one plain line.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Protocol, TextIO

MIB = 1024 * 1024


def mib(size: int) -> str:
    return f"{size / MIB:,.1f} MiB"


class Reporter(Protocol):
    def step(self, message: str) -> None: ...

    def progress(self, label: str, done: int, total: int) -> None: ...

    def warn(self, message: str) -> None: ...


class SilentReporter:
    def step(self, message: str) -> None:
        pass

    def progress(self, label: str, done: int, total: int) -> None:
        pass

    def warn(self, message: str) -> None:
        pass


class ConsoleReporter:
    """Writes to stderr; redraws a progress line only when stderr is a TTY."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() and not os.environ.get("CI")
        self.colour = self.tty and "NO_COLOR" not in os.environ
        self._started = time.monotonic()
        self._last_plain: tuple[str, int] | None = None

    def _elapsed(self) -> str:
        return f"{time.monotonic() - self._started:6.1f}s"

    def step(self, message: str) -> None:
        if self.tty:
            self.stream.write("\r\x1b[2K")
        self.stream.write(f"[{self._elapsed()}] {message}\n")
        self.stream.flush()
        self._last_plain = None

    def progress(self, label: str, done: int, total: int) -> None:
        percent = 100 if total <= 0 else min(100, done * 100 // total)
        if self.tty:
            width = 30
            filled = width * percent // 100
            bar = "#" * filled + "-" * (width - filled)
            self.stream.write(f"\r\x1b[2K  {label} [{bar}] {percent:3d}%")
            if done >= total:
                self.stream.write("\n")
            self.stream.flush()
            return
        # Plain logs: one line per quarter, so CI output stays short.
        quarter = (label, percent // 25)
        if quarter != self._last_plain:
            self._last_plain = quarter
            self.stream.write(f"  {label}: {percent}%\n")
            self.stream.flush()

    def warn(self, message: str) -> None:
        prefix = "\x1b[33mWARNING\x1b[0m" if self.colour else "WARNING"
        self.stream.write(f"{prefix} {message}\n")
        self.stream.flush()
