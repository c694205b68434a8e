"""Structured logs: one JSON object per line, in a fixed key order.

Each invocation logs a ``start`` line, then an ``end`` line (with
``duration_ms`` and whatever sizes the work reported) or an ``error`` line
(with ``error_code``, ``retryable`` and the message). The Lambda context
(function name, request id, memory) is read once per invocation. Lines go to
stdout (Lambda's log) unless the caller names a stream or a file: the local
runner points its own and its workers' loggers at one file. ``None``
values are dropped, the event itself is never logged, fields whose names look
secret are dropped, and every string passes through `handler.edge.redact.redact`.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from handler.edge.redact import is_secret_key, redact
from handler.errors import RenderzipError

KEY_ORDER = (
    "ts",
    "level",
    "event",
    "action",
    "request_id",
    "function",
    "cold_start",
    "memory_mb",
    "duration_ms",
    "error_code",
    "retryable",
    "message",
)
"""These keys come first, in this order; other fields follow in the order they were given."""
MAX_STRING = 4096


@dataclass
class Invocation:
    """One invocation's context, and the fields its ``end`` line will carry."""

    action: str | None
    request_id: str | None
    function: str | None
    memory_mb: int | None
    cold_start: bool
    started: float
    results: dict[str, object] = field(default_factory=dict)

    def add(self, **fields: object) -> None:
        """Fields for the ``end`` line (sizes, counts)."""
        self.results.update(fields)


class Logger:
    """Writes to ``stream`` when given (tests), else to the file given by `use_file`, else stdout (Lambda's log)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._file: TextIO | None = None
        self._cold = True
        self._current: Invocation | None = None
        self._path: str | None = None

    def use(self, stream: TextIO | None) -> None:
        """Write to ``stream`` from now on; None goes back to the file or stdout."""
        self._stream = stream

    def use_file(self, path: Path | None) -> None:
        """Append lines to ``path`` from now on (None: stdout); the open file is closed when it changes."""
        self._path = str(path) if path is not None else None
        if self._file is not None and self._file.name != self._path:
            self._file.close()
            self._file = None

    @property
    def stream(self) -> TextIO:
        """Where the next line goes."""
        if self._stream is not None:
            return self._stream
        if self._path is None:
            return sys.stdout
        if self._file is None or self._file.name != self._path:
            if self._file is not None:
                self._file.close()
            # Append mode: lines of parallel workers interleave whole, never overwrite each other.
            self._file = Path(self._path).open("a", encoding="utf-8")  # noqa: SIM115 - kept open across invocations
        return self._file

    @contextlib.contextmanager
    def invocation(self, context: object | None, action: str | None, **fields: object) -> Iterator[Invocation]:
        """Log ``start``, then ``end`` or ``error`` (and re-raise) around one invocation."""
        memory = getattr(context, "memory_limit_in_mb", None)
        current = Invocation(
            action=action,
            request_id=_text_or_none(getattr(context, "aws_request_id", None)),
            function=_text_or_none(getattr(context, "function_name", None)),
            memory_mb=int(memory) if isinstance(memory, int | str) and str(memory).isdigit() else None,
            cold_start=self._cold,
            started=time.monotonic(),
        )
        self._cold = False
        self._current = current
        try:
            self.log("INFO", "start", **fields)
            try:
                yield current
            except BaseException as exc:
                self.error(exc, duration_ms=_elapsed_ms(current.started))
                raise
            self.log("INFO", "end", duration_ms=_elapsed_ms(current.started), **current.results)
        finally:
            self._current = None

    def info(self, event: str, **fields: object) -> None:
        self.log("INFO", event, **fields)

    def error(self, exc: BaseException, **fields: object) -> None:
        retryable = exc.retryable if isinstance(exc, RenderzipError) else None
        code = exc.code if isinstance(exc, RenderzipError) else type(exc).__name__
        self.log("ERROR", "error", error_code=code, retryable=retryable, message=str(exc), **fields)

    def log(self, level: str, event: str, **fields: object) -> None:
        record: dict[str, object] = {"ts": _timestamp(), "level": level, "event": event}
        current = self._current
        if current is not None:
            record.update(
                action=current.action,
                request_id=current.request_id,
                function=current.function,
                cold_start=current.cold_start,
                memory_mb=current.memory_mb,
            )
        record.update(fields)
        line = json.dumps(_ordered(record), ensure_ascii=False, separators=(",", ":"), default=str)
        stream = self.stream
        stream.write(line + "\n")
        stream.flush()


def scrub(value: object) -> object:
    """``value`` with secret-looking keys dropped and every string redacted, recursively."""
    if isinstance(value, str):
        text = redact(value)
        return text if len(text) <= MAX_STRING else text[:MAX_STRING] + "...[truncated]"
    if isinstance(value, Mapping):
        return {str(k): scrub(v) for k, v in value.items() if v is not None and not is_secret_key(str(k))}
    if isinstance(value, list | tuple | set | frozenset):
        return [scrub(item) for item in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return scrub(str(value))


def _ordered(record: dict[str, object]) -> dict[str, object]:
    cleaned = scrub(record)
    assert isinstance(cleaned, dict)
    first = {key: cleaned[key] for key in KEY_ORDER if key in cleaned}
    return first | {key: value for key, value in cleaned.items() if key not in first}


def _timestamp() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
