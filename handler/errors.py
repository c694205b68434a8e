"""Every error the function raises on purpose.

The class name is the error code: Lambda reports it as ``errorType`` and the
state machine's Retry and Catch match on it, so names never change once
released. ``retryable`` says whether running the same event again may succeed
(a crashed Chrome, S3 throttling) or cannot (a bad hash, a malformed event).
The state machine's retry policy and the local runner's are both derived from
``retryable_codes()``; nothing else lists these names.
"""

from __future__ import annotations

from typing import Any


class RenderzipError(Exception):
    """Base of every error raised on purpose; never raised itself."""

    retryable: bool = False

    @property
    def code(self) -> str:
        return type(self).__name__

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickling re-calls __init__ with the message alone by default, which breaks every class
        # with its own fields; the local runner's errors cross a process pool and must arrive
        # as the same class, message and fields.
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))


def _rebuild(cls: type[RenderzipError], args: tuple[Any, ...], fields: dict[str, Any]) -> RenderzipError:
    error = cls.__new__(cls, *args)
    error.args = args
    error.__dict__.update(fields)
    return error


# --- input: the event, the project, the plan --------------------------------


class InvalidEvent(RenderzipError):
    """The event is malformed: unknown action, missing, extra or mistyped field."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


class InvalidUri(RenderzipError):
    """A URI is not a well-formed s3:// or file:// URI."""

    def __init__(self, uri: str, problem: str, field: str | None = None) -> None:
        self.uri = uri
        self.problem = problem
        self.field = field
        where = f"{field}: " if field else ""
        super().__init__(f"{where}{uri!r} is not a valid URI: {problem}")


class BucketNotAllowed(RenderzipError):
    """The bucket is not in RENDERZIP_BUCKET_ALLOWLIST."""

    def __init__(self, bucket: str, allowed: list[str], field: str | None = None) -> None:
        self.bucket = bucket
        self.allowed = list(allowed)
        self.field = field
        where = f"{field}: " if field else ""
        super().__init__(
            f"{where}bucket {bucket!r} is not in RENDERZIP_BUCKET_ALLOWLIST ({', '.join(self.allowed) or 'empty'})"
        )


class InvalidComposition(RenderzipError):
    """The composition breaks its contract (missing index.html, bad data-* attributes...)."""


class NetworkBlocked(RenderzipError):
    """The composition requested a URL outside its own directory."""

    def __init__(self, urls: list[str]) -> None:
        self.urls = list(urls)
        shown = ", ".join(self.urls[:5]) + (f" and {len(self.urls) - 5} more" if len(self.urls) > 5 else "")
        super().__init__(f"the composition requested {len(self.urls)} URL(s) outside its directory: {shown}")


class MissingAsset(RenderzipError):
    """The composition asked for files inside its directory that do not exist: an image, a font, a script."""

    def __init__(self, paths: list[str]) -> None:
        self.paths = list(paths)
        shown = ", ".join(self.paths[:5]) + (f" and {len(self.paths) - 5} more" if len(self.paths) > 5 else "")
        super().__init__(f"the composition asked for {len(self.paths)} file(s) its directory does not hold: {shown}")


class PlanHashMismatch(RenderzipError):
    """The plan's files do not hash to the PlanHash the event carries."""

    def __init__(self, where: str, expected: str, actual: str) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(f"plan hash mismatch {where}: expected {expected}, got {actual}")


class InvalidPlan(RenderzipError):
    """A plan directory is incomplete or its plan.json is malformed."""


class ChunkOutOfRange(RenderzipError):
    """A chunk index outside the plan's chunk table."""


class UnsafeArchive(RenderzipError):
    """An archive member would escape its target, is a link or device, or the archive is too large.

    ``unreadable`` marks an archive that is only broken (truncated, not gzip), not hostile.
    """

    def __init__(self, message: str, *, unreadable: bool = False) -> None:
        self.unreadable = unreadable
        super().__init__(message)


class IntegrityError(RenderzipError):
    """Downloaded or produced bytes do not match their recorded checksum."""

    retryable = True


# --- runtime: binaries, Chrome, ffmpeg ---------------------------------------


class RuntimeUnavailable(RenderzipError):
    """The packaged Chromium or ffmpeg is missing or cannot be prepared."""


class ChromeCrashed(RenderzipError):
    """Chrome exited or closed its pipe while we were talking to it."""

    retryable = True

    def __init__(self, message: str, exit_status: int | None = None, stderr_tail: str = "") -> None:
        self.exit_status = exit_status
        self.stderr_tail = stderr_tail
        detail = f" (exit status {exit_status})" if exit_status is not None else ""
        tail = f"\nlast Chrome output:\n{stderr_tail}" if stderr_tail else ""
        super().__init__(f"{message}{detail}{tail}")


class ChromeTimeout(RenderzipError):
    """A DevTools command got no answer in time."""

    retryable = True


class PageTimeout(RenderzipError):
    """The composition did not finish a frame's seek in time while Chrome itself still answered.

    A page that hangs (a seek that loops forever) hangs the same way on every attempt: it is the
    page's fault, and retrying it would only bill the same timeout again.
    """

    def __init__(self, frame: int, seconds: float, timeout: float) -> None:
        self.frame = frame
        self.seconds = seconds
        super().__init__(
            f"frame {frame} (t = {seconds:.3f} s): the page did not finish seeking within {timeout:g} s, "
            "while Chrome still answered"
        )


class PageCrashed(RenderzipError):
    """The page's renderer process died while the browser lived on: most often out of memory.

    A composition that allocates without bound (arrays until the heap is full) kills its renderer
    the same way on every attempt, so it is not retried; a browser that dies is ``ChromeCrashed``.
    """

    def __init__(self, when: str) -> None:
        self.when = when
        super().__init__(
            f"the page's renderer crashed {when} (out of memory, most often: a composition that allocates "
            "without bound)"
        )


class ProtocolError(RenderzipError):
    """Chrome answered a DevTools command with an error, or the DevTools conversation broke.

    The second case is a message that is not a JSON object or an event handler that raised: the
    reader cannot go on, so every waiting and later command on that connection fails with it at
    once. Not retryable: both are a renderer bug or a corrupt stream, not a passing fault.
    """

    def __init__(self, method: str, message: str, code: int | None = None) -> None:
        self.method = method
        self.protocol_message = message
        self.protocol_code = code
        super().__init__(f"{method} failed: {message}" + (f" (code {code})" if code is not None else ""))


class PageError(RenderzipError):
    """The composition's own script threw while loading or seeking."""


class CaptureFailed(RenderzipError):
    """A frame came back without screenshot data after every retry."""

    retryable = True


class FfmpegFailed(RenderzipError):
    """ffmpeg exited non-zero or made the wrong output; the message carries its last lines of output."""

    retryable = True

    def __init__(self, message: str, exit_status: int | None = None, stderr_tail: str = "") -> None:
        self.exit_status = exit_status
        self.stderr_tail = stderr_tail
        detail = f" (exit status {exit_status})" if exit_status is not None else ""
        tail = f"\nlast ffmpeg output:\n{stderr_tail}" if stderr_tail else ""
        super().__init__(f"{message}{detail}{tail}")


class FrameCountMismatch(RenderzipError):
    """A chunk was given more or fewer frames than its range holds: a renderer bug, not worth a retry."""

    def __init__(self, what: str, expected: int, actual: int) -> None:
        self.what = what
        self.expected = expected
        self.actual = actual
        super().__init__(f"{what}: expected {expected} frames, got {actual}")


# --- transport ---------------------------------------------------------------


class ObjectNotFound(RenderzipError):
    """An input object (project, plan, chunk), or a local file to upload, does not exist."""


class TransportThrottled(RenderzipError):
    """S3 kept throttling after our own retries."""

    retryable = True


class TransportError(RenderzipError):
    """Any other failure moving bytes to or from storage."""

    retryable = True


def all_error_types() -> list[type[RenderzipError]]:
    """Every concrete error class, in definition order."""
    return [cls for cls in RenderzipError.__subclasses__() if cls.__module__ == __name__]


def retryable_codes() -> list[str]:
    return [cls.__name__ for cls in all_error_types() if cls.retryable]


def permanent_codes() -> list[str]:
    return [cls.__name__ for cls in all_error_types() if not cls.retryable]
