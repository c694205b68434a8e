"""Browsers kept between chunks, so a warm worker does not launch Chrome for every chunk.

Launching Chrome is a third of a chunk's start-up CPU. A pool keeps the browsers a chunk
used, idle, for the next chunk of the same process (a warm Lambda container, a local
runner's worker), and can launch them ahead, while other work goes on. Pages are never
kept: each chunk opens its own, each in a browser context of its own, so nothing one
composition stores reaches another's frames, and the frames are those of a fresh browser.

A browser goes back to the pool only after its chunk ended without error and it still
answers; any error closes it. Each serves at most :data:`MAX_PAGES` pages before it is
replaced, so a slow leak in Chrome cannot grow for the life of a container.
"""

from __future__ import annotations

import contextlib
import functools
import multiprocessing.util
import os
import shutil
import tempfile
import threading
import weakref
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path

from handler.errors import RenderzipError
from handler.render.chrome.browser import Browser
from handler.render.runtime import Runtime

MAX_PAGES = 64
PING_TIMEOUT_S = 2.0
HOME_PREFIX = "renderzip-browsers-"


def _launch_in_background(runtime: Runtime, home: Path) -> Future[Browser]:
    future: Future[Browser] = Future()

    def launch() -> None:
        try:
            future.set_result(Browser.launch(runtime, home))
        except BaseException as error:  # handed to whoever takes the browser
            future.set_exception(error)

    threading.Thread(target=launch, name="browser-launch", daemon=True).start()
    return future


def _answers(browser: Browser) -> bool:
    if not browser.connection.alive:
        return False
    try:
        browser.connection.send("Browser.getVersion", timeout=PING_TIMEOUT_S)
    except RenderzipError:
        return False
    return True


def _owner_alive(home: Path) -> bool:
    """Whether the process named in ``home`` still runs; a name without a pid is not ours to judge."""
    pid = home.name.removeprefix(HOME_PREFIX).split("-", 1)[0]
    if not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, another user's
    return True


def _forget_parent(pool: weakref.ref[BrowserPool]) -> None:
    forked = pool()
    if forked is not None:
        forked._forget_parent()


class BrowserPool:
    """At most ``keep`` idle browsers of one runtime, for the chunks of this process; thread-safe."""

    def __init__(self, *, keep: int) -> None:
        self.keep = max(0, keep)
        self._lock = threading.Lock()
        self._idle: list[Browser] = []
        self._launching: list[Future[Browser]] = []
        self._runtime_key: tuple[str, str] | None = None
        self._home: Path | None = None
        os.register_at_fork(after_in_child=functools.partial(_forget_parent, weakref.ref(self)))

    # --- handing browsers out ---------------------------------------------------

    @contextlib.contextmanager
    def browser(self, runtime: Runtime) -> Iterator[Browser]:
        """A browser of ``runtime`` for one page's work: idle, being launched, or launched now."""
        browser = self._take(runtime)
        try:
            yield browser
        except BaseException:
            browser.close()
            raise
        self._give_back(browser)

    def prewarm(self, runtime: Runtime, count: int) -> None:
        """Launch browsers in the background until ``count`` are idle or on their way."""
        self._use_runtime(runtime)
        with self._lock:
            home = self._home_dir()
            for _ in range(min(count, self.keep) - len(self._idle) - len(self._launching)):
                self._launching.append(_launch_in_background(runtime, home))

    def close(self) -> None:
        """Close every idle browser and every one still launching; the pool can be used again."""
        with self._lock:
            idle, self._idle = self._idle, []
            launching, self._launching = self._launching, []
            home, self._home = self._home, None
        for future in launching:
            with contextlib.suppress(BaseException):
                idle.append(future.result())
        for browser in idle:
            browser.close()
        if home is not None:
            shutil.rmtree(home, ignore_errors=True)

    @property
    def idle(self) -> int:
        with self._lock:
            return len(self._idle)

    # --- inside the lock ---------------------------------------------------------

    def _forget_parent(self) -> None:
        """In a forked child: the parent's browsers and lock are not this process's to use or close."""
        self._lock = threading.Lock()
        self._idle, self._launching, self._home = [], [], None

    def _home_dir(self) -> Path:
        """Where the pool's browsers keep their profiles: outside any invocation's workspace."""
        if self._home is None:
            base = Path(tempfile.gettempdir())
            for stale in base.glob(HOME_PREFIX + "*"):
                if stale.is_dir() and not stale.is_symlink() and not _owner_alive(stale):
                    shutil.rmtree(stale, ignore_errors=True)
            self._home = Path(tempfile.mkdtemp(prefix=f"{HOME_PREFIX}{os.getpid()}-", dir=base))
            # The processes of a multiprocessing pool leave with os._exit, past atexit; this runs in both.
            multiprocessing.util.Finalize(None, self.close, exitpriority=0)
        return self._home

    # --- outside the lock -------------------------------------------------------

    def _use_runtime(self, runtime: Runtime) -> None:
        """Browsers of another runtime, idle or still launching, are of no use: close them all."""
        key = (str(runtime.chromium), runtime.identity.chromium_sha256)
        with self._lock:
            switched = self._runtime_key not in (None, key)
            self._runtime_key = key
        if switched:
            self.close()

    def _take(self, runtime: Runtime) -> Browser:
        self._use_runtime(runtime)
        while True:
            with self._lock:
                home = self._home_dir()
                browser = self._idle.pop() if self._idle else None
                future = self._launching.pop(0) if browser is None and self._launching else None
            if future is not None:
                return future.result()  # a failed launch fails the chunk as a direct one would
            if browser is None:
                return Browser.launch(runtime, home)
            if _answers(browser):
                return browser
            browser.close()  # died or hung while idle: the next one, or a new one

    def _give_back(self, browser: Browser) -> None:
        try:
            browser.close_pages()
        except RenderzipError:
            browser.close()
            return
        with self._lock:
            keep = browser.pages_opened < MAX_PAGES and len(self._idle) < self.keep and browser.connection.alive
            if keep:
                self._idle.append(browser)
        if not keep:
            browser.close()
