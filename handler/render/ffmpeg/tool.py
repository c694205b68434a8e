"""Running the packaged ffmpeg: one argument-list prefix, and failures turned into ``FfmpegFailed``."""

from __future__ import annotations

import subprocess
import threading
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from handler.errors import FfmpegFailed

TAIL_LINES = 20

BITEXACT_OUTPUT = ("-fflags", "+bitexact", "-flags", "+bitexact", "-map_metadata", "-1")
"""Output options that keep version strings, dates and input metadata out of the bytes."""


def command(ffmpeg: Path, *args: str, loglevel: str = "error") -> list[str]:
    """ffmpeg's argument list: no banner, no stats line, no reading of the terminal."""
    return [str(ffmpeg), "-hide_banner", "-nostats", "-loglevel", loglevel, *args]


def tail(text: str, lines: int = TAIL_LINES) -> str:
    return "\n".join(line.rstrip() for line in text.splitlines()[-lines:] if line.strip())


def run(argv: Sequence[str], *, what: str, timeout: float | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run ffmpeg to completion, stdout and stderr captured; non-zero exit raises ``FfmpegFailed``."""
    try:
        result = subprocess.run(list(argv), stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as error:
        stderr = error.stderr.decode("utf-8", "replace") if isinstance(error.stderr, bytes) else ""
        raise FfmpegFailed(f"{what}: ffmpeg took longer than {timeout} s", None, tail(stderr)) from error
    except OSError as error:
        raise FfmpegFailed(f"{what}: cannot run {argv[0]}: {error}") from error
    if result.returncode != 0:
        raise FfmpegFailed(what, result.returncode, tail(result.stderr.decode("utf-8", "replace")))
    return result


def write_mp4(ffmpeg: Path, args: Sequence[str], out: Path, *, what: str) -> None:
    """Run ffmpeg with ``args`` into the MP4 ``out``, bit-exact; a failed run leaves no partial file."""
    write_container(ffmpeg, args, out, container="mp4", what=what)


def write_container(ffmpeg: Path, args: Sequence[str], out: Path, *, container: str, what: str) -> None:
    """Run ffmpeg with ``args`` into ``out`` as ``container``, bit-exact; a failed run leaves no partial file."""
    argv = command(ffmpeg, *args, *BITEXACT_OUTPUT, "-f", container, "-y", str(out))
    try:
        run(argv, what=what)
    except BaseException:
        out.unlink(missing_ok=True)
        raise


class LineTail:
    """Drains a pipe on a thread, keeping its last lines, so the writer never blocks on it."""

    def __init__(self, stream: IO[bytes], lines: int = TAIL_LINES) -> None:
        self._lines: deque[str] = deque(maxlen=lines)
        self._thread = threading.Thread(target=self._drain, args=(stream,), daemon=True)
        self._thread.start()

    def _drain(self, stream: IO[bytes]) -> None:
        with stream:
            for raw in stream:
                line = raw.decode("utf-8", "replace").rstrip()
                if line:
                    self._lines.append(line)

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    @property
    def lines(self) -> list[str]:
        return list(self._lines)

    def text(self) -> str:
        return "\n".join(self._lines)
