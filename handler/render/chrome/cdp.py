"""A DevTools Protocol client over Chrome's ``--remote-debugging-pipe``.

Chrome reads commands from its fd 3 and writes replies and events to its fd 4,
each message one JSON object followed by a NUL byte (see :mod:`handler.render.chrome.chromeproc`
for how the pipes get there).

One reader thread parses messages: replies complete the future waiting for
their id, events go to subscribers (by method and session). One drain thread
keeps the last lines of Chrome's stderr for error messages. When the pipe
closes or Chrome exits, every waiter gets :class:`ChromeCrashed` with the exit
status and that tail. When the reader cannot go on (a message that is not a
JSON object, an event handler that raised), every waiter, and every later
command, gets :class:`ProtocolError` saying why, at once: the connection is
closed rather than left without a reader.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import queue
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any

from handler.errors import ChromeCrashed, ChromeTimeout, ProtocolError
from handler.render.chrome.chromeproc import ChromeProcess, spawn_with_pipe

Message = dict[str, Any]
EventHandler = Callable[[Message], None]

DEFAULT_TIMEOUT = 30.0
STDERR_LINES = 20
_READ_SIZE = 1 << 20


_READER = "the DevTools reader"
_SHOWN_BYTES = 120


class _ReaderStopped(Exception):
    """The reader cannot go on; the message says why."""


def _parse(raw: bytes) -> Message:
    try:
        message = json.loads(raw)
    except ValueError:
        message = None
    if not isinstance(message, dict):
        shown = raw[:_SHOWN_BYTES] + (b"..." if len(raw) > _SHOWN_BYTES else b"")
        raise _ReaderStopped(f"Chrome sent a message that is not a JSON object ({len(raw)} bytes): {shown!r}")
    return message


class Subscription:
    """Events of one method (and session) queued until taken; use as a context manager."""

    def __init__(self, connection: CdpConnection, method: str, session_id: str | None) -> None:
        self._connection = connection
        self.method = method
        self.session_id = session_id
        self._queue: queue.Queue[Message | None] = queue.Queue()

    def _put(self, message: Message | None) -> None:
        self._queue.put(message)

    def wait(self, predicate: Callable[[Message], bool] | None = None, *, timeout: float = DEFAULT_TIMEOUT) -> Message:
        """The params of the next event matching ``predicate``; earlier non-matching ones are dropped."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                message = self._queue.get(timeout=max(remaining, 0))
            except queue.Empty:
                raise ChromeTimeout(f"no {self.method} event within {timeout:g} s") from None
            if message is None:
                raise self._connection.crash_error()
            params: Message = message.get("params", {})
            if predicate is None or predicate(params):
                return params

    def close(self) -> None:
        self._connection._unsubscribe(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class CdpConnection:
    """Commands, replies and events over one Chrome's debugging pipe."""

    def __init__(self, process: ChromeProcess, write_fd: int, read_fd: int, stderr_fd: int) -> None:
        self.process = process
        self._write_fd = write_fd
        self._read_fd = read_fd
        self._ids = itertools.count(1)
        self._write_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._pending: dict[int, tuple[str, Future[Message], str | None]] = {}
        self._subscriptions: dict[tuple[str, str | None], list[Subscription]] = {}
        self._handlers: dict[tuple[str, str | None], list[EventHandler]] = {}
        self._closed: ChromeCrashed | ProtocolError | None = None
        self._closing = False
        self._stderr: deque[str] = deque(maxlen=STDERR_LINES)
        self._stderr_thread = threading.Thread(target=self._drain_stderr, args=(stderr_fd,), daemon=True)
        self._reader = threading.Thread(target=self._read_loop, name="cdp-reader", daemon=True)
        self._stderr_thread.start()
        self._reader.start()

    @classmethod
    def spawn(cls, executable: Path, args: Sequence[str], env: dict[str, str]) -> CdpConnection:
        return cls(*spawn_with_pipe(executable, args, env))

    # --- sending --------------------------------------------------------------

    def post(self, method: str, params: Message | None = None, *, session_id: str | None = None) -> Future[Message]:
        """Send a command; the future gets the result or the error. Never blocks on Chrome's answer."""
        future: Future[Message] = Future()
        message: Message = {"id": next(self._ids), "method": method, "params": params or {}}
        if session_id is not None:
            message["sessionId"] = session_id
        data = json.dumps(message, separators=(",", ":")).encode() + b"\0"
        with self._state_lock:
            if self._closed is not None:
                raise self._closed
            self._pending[message["id"]] = (method, future, session_id)
        try:
            with self._write_lock:
                view = memoryview(data)
                while view:
                    view = view[os.write(self._write_fd, view) :]
        except OSError:
            with self._state_lock:
                self._pending.pop(message["id"], None)
            self._shut("Chrome closed its DevTools pipe")
            raise self.crash_error() from None
        return future

    def send(
        self,
        method: str,
        params: Message | None = None,
        *,
        session_id: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Message:
        """Send a command and wait for its result."""
        return self.result(method, self.post(method, params, session_id=session_id), timeout=timeout)

    def result(self, method: str, future: Future[Message], *, timeout: float = DEFAULT_TIMEOUT) -> Message:
        try:
            return future.result(timeout=timeout)
        except FutureTimeout:
            future.cancel()
            raise ChromeTimeout(f"{method} got no answer within {timeout:g} s") from None

    # --- events -----------------------------------------------------------------

    def subscribe(self, method: str, *, session_id: str | None = None) -> Subscription:
        """A queue of ``method`` events from now on; close it when done."""
        subscription = Subscription(self, method, session_id)
        with self._state_lock:
            if self._closed is not None:
                raise self._closed
            self._subscriptions.setdefault((method, session_id), []).append(subscription)
        return subscription

    def _unsubscribe(self, subscription: Subscription) -> None:
        with self._state_lock:
            subs = self._subscriptions.get((subscription.method, subscription.session_id), [])
            if subscription in subs:
                subs.remove(subscription)

    def on(self, method: str, handler: EventHandler, *, session_id: str | None = None) -> None:
        """Call ``handler(params)`` on the reader thread for each event; it must not wait for replies."""
        with self._state_lock:
            self._handlers.setdefault((method, session_id), []).append(handler)

    def off(self, method: str, handler: EventHandler, *, session_id: str | None = None) -> None:
        with self._state_lock:
            handlers = self._handlers.get((method, session_id), [])
            if handler in handlers:
                handlers.remove(handler)

    # --- reading ------------------------------------------------------------------

    def _read_loop(self) -> None:
        buffer = bytearray()
        try:
            while True:
                chunk = os.read(self._read_fd, _READ_SIZE)
                if not chunk:
                    break
                start = len(buffer)
                buffer += chunk
                end = buffer.find(b"\0", start)
                begin = 0
                while end != -1:
                    self._dispatch(_parse(bytes(buffer[begin:end])))
                    begin = end + 1
                    end = buffer.find(b"\0", begin)
                if begin:
                    del buffer[:begin]
        except OSError:
            pass
        except _ReaderStopped as stop:
            self._fail(ProtocolError(_READER, f"{stop}; the connection is closed"), stop.__cause__)
            return
        except Exception as error:  # anything else must reach the waiters too, not end the thread silently
            reason = f"{error!r} while dispatching a message; the connection is closed"
            self._fail(ProtocolError(_READER, reason), error)
            return
        self._shut("Chrome closed its DevTools pipe")

    def _dispatch(self, message: Message) -> None:
        if "id" in message:
            with self._state_lock:
                entry = self._pending.pop(message["id"], None)
            if entry is None:
                return
            method, future, _ = entry
            error = message.get("error")
            if error is not None:
                exc = ProtocolError(method, str(error.get("message", error)), error.get("code"))
                with contextlib.suppress(Exception):
                    future.set_exception(exc)
            else:
                with contextlib.suppress(Exception):
                    future.set_result(message.get("result", {}))
            return
        key = (str(message.get("method")), message.get("sessionId"))
        with self._state_lock:
            subs = list(self._subscriptions.get(key, ()))
            handlers = list(self._handlers.get(key, ()))
        for subscription in subs:
            subscription._put(message)
        for handler in handlers:
            try:
                handler(message.get("params", {}))
            except Exception as error:
                raise _ReaderStopped(f"the {key[0]} event handler raised {error!r}") from error

    def _drain_stderr(self, fd: int) -> None:
        with os.fdopen(fd, "rb") as stream:
            for line in stream:
                self._stderr.append(line.decode("utf-8", "replace").rstrip())

    # --- ending -------------------------------------------------------------------

    def stderr_tail(self) -> str:
        return "\n".join(self._stderr)

    def crash_error(self) -> ChromeCrashed | ProtocolError:
        return self._closed or ChromeCrashed("Chrome is not running")

    def _shut(self, message: str) -> None:
        """Fail every waiter once the pipe is gone; idempotent."""
        with self._state_lock:
            if self._closed is not None:
                return
            closing = self._closing
        status = self.process.wait(2.0 if not closing else 0.0)
        self._stderr_thread.join(timeout=1.0)
        self._fail(ChromeCrashed(message, status, self.stderr_tail()))

    def _fail(self, error: ChromeCrashed | ProtocolError, cause: BaseException | None = None) -> None:
        """Close the connection with ``error``: every waiter, and every later command, gets it; idempotent."""
        error.__cause__ = cause
        with self._state_lock:
            if self._closed is not None:
                return
            self._closed = error
            pending = list(self._pending.values())
            self._pending.clear()
            subs = [s for group in self._subscriptions.values() for s in group]
        for _, future, _ in pending:
            with contextlib.suppress(Exception):
                future.set_exception(error)
        for subscription in subs:
            subscription._put(None)

    def fail_session(self, session_id: str, error: BaseException) -> None:
        """Give ``error`` to every command of one session still waiting: its target will never answer them.

        Safe on the reader thread (an event handler): it waits for nothing.
        """
        with self._state_lock:
            ids = [key for key, (_, _, session) in self._pending.items() if session == session_id]
            futures = [self._pending.pop(key)[1] for key in ids]
        for future in futures:
            with contextlib.suppress(Exception):
                future.set_exception(error)

    @property
    def alive(self) -> bool:
        return self._closed is None and self.process.poll() is None

    def close(self, *, timeout: float = 5.0, graceful: bool = True) -> int | None:
        """``Browser.close``, then SIGTERM, then SIGKILL; reaps Chrome and joins both threads.

        Not ``graceful``: SIGKILL at once, for a Chrome that keeps nothing worth a shutdown.
        """
        self._closing = True
        if not graceful:
            self.process.signal_group(signal.SIGKILL)
            status = self.process.wait(timeout)
        elif self.alive:
            with contextlib.suppress(ChromeCrashed, ChromeTimeout, ProtocolError):
                self.send("Browser.close", timeout=timeout)
            status = self.process.wait(timeout)
        else:
            status = self.process.poll()  # no one reads its pipe: no Browser.close, no waiting for one
        if status is None:
            self.process.signal_group(signal.SIGTERM)
            status = self.process.wait(timeout)
        if status is None:
            self.process.signal_group(signal.SIGKILL)
            status = self.process.wait(timeout)
        # Helpers (renderer, GPU process) share the group; none may outlive the browser.
        self.process.reap_group(timeout)
        with contextlib.suppress(OSError):
            os.close(self._write_fd)
        self._reader.join(timeout)
        self._stderr_thread.join(timeout)
        with contextlib.suppress(OSError):
            os.close(self._read_fd)
        return status

    def threads(self) -> Iterator[threading.Thread]:
        yield self._reader
        yield self._stderr_thread
