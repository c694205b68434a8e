"""Start Chrome with its DevTools pipe on fds 3 and 4, in its own process group, and end it cleanly.

``os.posix_spawn`` moves the pipe ends onto fds 3 and 4 inside the child with
``dup2`` file actions: the parent's own fds 3 and 4 are never touched and no
Python code runs between fork and exec (``preexec_fn`` is not thread-safe).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

_FIRST_FREE_FD = 10  # pipe ends are parked above the fds they are moved onto

_PR_SET_CHILD_SUBREAPER = 36


def _become_subreaper() -> None:
    """Adopt our orphaned descendants (Linux), so Chrome's helpers are reaped by us, not left as zombies.

    Chrome may exit before its helper processes; they are then re-parented to the nearest
    subreaper, which is PID 1 otherwise: an init that may never reap them (Lambda, containers).
    """
    with contextlib.suppress(OSError, AttributeError):
        import ctypes  # noqa: PLC0415 - only where it is needed

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


class ChromeProcess:
    """A spawned child leading its own process group: wait with a timeout, signal, reap."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._lock = threading.Lock()

    def poll(self) -> int | None:
        with self._lock:
            if self.returncode is None:
                try:
                    pid, status = os.waitpid(self.pid, os.WNOHANG)
                except ChildProcessError:
                    self.returncode = -255  # reaped elsewhere; its status is lost
                else:
                    if pid:
                        self.returncode = os.waitstatus_to_exitcode(status)
            return self.returncode

    def wait(self, timeout: float) -> int | None:
        deadline = time.monotonic() + timeout
        delay = 0.001
        while self.poll() is None:
            if time.monotonic() >= deadline:
                return None
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
        return self.returncode

    def signal_group(self, signum: int) -> None:
        """Signal Chrome's whole process group (it was spawned as a group leader)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signum)

    def reap_group(self, timeout: float) -> None:
        """Kill and reap what is left of the group once the leader has been reaped."""
        if self.returncode is None:
            return
        self.signal_group(signal.SIGKILL)
        deadline = time.monotonic() + timeout
        while True:
            try:
                pid, _ = os.waitpid(-self.pid, os.WNOHANG)
            except ChildProcessError:
                return  # none of the group is our child any more
            if pid == 0:
                if time.monotonic() >= deadline:
                    return
                time.sleep(0.01)


def _parked(fd: int) -> int:
    """A close-on-exec copy of ``fd`` numbered above the child's target fds."""
    copy = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, _FIRST_FREE_FD)
    os.close(fd)
    return copy


def spawn_with_pipe(executable: Path, args: Sequence[str], env: dict[str, str]) -> tuple[ChromeProcess, int, int, int]:
    """Start Chrome with the debugging pipe on its fds 3/4.

    Returns the process, the fd we write commands to, the fd we read messages
    from, and the fd we read its stderr from.
    """
    cmd_read, cmd_write = (_parked(fd) for fd in os.pipe())
    msg_read, msg_write = (_parked(fd) for fd in os.pipe())
    err_read, err_write = (_parked(fd) for fd in os.pipe())
    actions: list[tuple[Any, ...]] = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
        (os.POSIX_SPAWN_DUP2, err_write, 2),
        (os.POSIX_SPAWN_DUP2, cmd_read, 3),
        (os.POSIX_SPAWN_DUP2, msg_write, 4),
    ]
    _become_subreaper()
    closefrom = getattr(os, "POSIX_SPAWN_CLOSEFROM", None)
    if closefrom is not None:
        actions.append((closefrom, 5))
    try:
        pid = os.posix_spawn(str(executable), [str(executable), *args], env, file_actions=actions, setpgroup=0)
    except BaseException:
        for fd in (cmd_write, msg_read, err_read):
            os.close(fd)
        raise
    finally:
        for fd in (cmd_read, msg_write, err_write):
            os.close(fd)
    return ChromeProcess(pid), cmd_write, msg_read, err_read
