"""Launch the pinned headless Chromium with deterministic software rendering, and open pages."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

from handler.errors import ChromeCrashed, ChromeTimeout
from handler.render.chrome.cdp import CdpConnection
from handler.render.chrome.page import Page
from handler.render.chrome.shm import shared_memory_dir
from handler.render.runtime import Runtime

# The network service runs as a thread of the browser process, not a process of its own: about
# 0.01 s less start-up CPU a browser, and the same pixels. (The GPU process would save as much
# again with --in-process-gpu, but with it Chrome segfaulted in 37 of 2,000 launches.) The
# regression oracle, which plays <video> elements, leaves it out (see regression.oracle).
PROCESS_MODEL_FLAGS: tuple[str, ...] = ("--enable-features=NetworkServiceInProcess2",)

# The one list of flags: the render engine and the BeginFrame probe both launch with it.
CHROME_FLAGS: tuple[str, ...] = (
    # Frames only when we ask for them (beginFrame), each one complete: compositor stages all run
    # before a draw, no animation or scrolling on the compositor thread, no image checkerboarding.
    "--deterministic-mode",
    # Software everywhere, the same pixels on every machine: the compositor draws with Skia on
    # the CPU (2.5x the frame rate of compositing through SwiftShader), and WebGL, which has no
    # GPU here, runs on the bundled SwiftShader through ANGLE (refused without "unsafe").
    "--disable-gpu-compositing",
    "--use-gl=angle",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    # Lambda: no user namespaces for the sandbox, no zygote fork, no /dev/shm (Chrome's shared
    # memory goes to $TMPDIR instead: see handler.render.chrome.shm).
    "--no-sandbox",
    "--no-zygote",
    "--disable-dev-shm-usage",
    # Pixels that depend on nothing but the page.
    "--hide-scrollbars",
    "--mute-audio",
    "--font-render-hinting=none",
    "--force-color-profile=srgb",
    "--force-device-scale-factor=1",
    "--disable-lcd-text",
    # No traffic, no background work, nothing written but the profile we remove.
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-breakpad",
    "--disable-crash-reporter",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
    "--disable-features=Translate,MediaRouter,OptimizationHints,PaintHolding,BackForwardCache",
    *PROCESS_MODEL_FLAGS,
)

LAUNCH_TIMEOUT = 30.0


class Browser:
    """One Chrome process, talking over its debugging pipe; a context manager."""

    def __init__(self, connection: CdpConnection, user_data_dir: Path, version: str) -> None:
        self.connection = connection
        self.user_data_dir = user_data_dir
        self.version = version
        self._pages: list[Page] = []
        self.pages_opened = 0  # over the browser's life

    @classmethod
    def launch(
        cls, runtime: Runtime, scratch: Path, *, timeout: float = LAUNCH_TIMEOUT, shm_dir: Path | None = None
    ) -> Browser:
        """Start Chrome with :data:`CHROME_FLAGS` and a fresh profile under ``scratch``; ready when it answers.

        ``scratch`` is the caller's directory (the invocation's workspace on Lambda), so a profile
        left by a timed-out invocation is swept with it. Shared memory goes to ``shm_dir``, by
        default the one :func:`shared_memory_dir` picks.
        """
        user_data_dir = Path(tempfile.mkdtemp(prefix="renderzip-chrome-", dir=scratch))
        # No startup window: its about:blank would start a renderer the chunk never uses. Incognito:
        # the profile's databases and caches stay in memory, which saves a fifth of a launch's CPU.
        args = [
            *CHROME_FLAGS,
            f"--user-data-dir={user_data_dir}",
            "--remote-debugging-pipe",
            "--no-startup-window",
            "--incognito",
        ]
        env = runtime.chromium_env()
        env["TMPDIR"] = str(shm_dir or shared_memory_dir(scratch))
        try:
            connection = CdpConnection.spawn(runtime.chromium, args, env)
        except OSError as error:
            shutil.rmtree(user_data_dir, ignore_errors=True)
            raise ChromeCrashed(f"cannot start {runtime.chromium}: {error}") from error
        try:
            version = connection.send("Browser.getVersion", timeout=timeout)
        except (ChromeCrashed, ChromeTimeout):
            connection.close(timeout=2.0)
            shutil.rmtree(user_data_dir, ignore_errors=True)
            raise
        return cls(connection, user_data_dir, str(version.get("product", "")))

    def open_page(
        self,
        width: int,
        height: int,
        *,
        allowed_root: Path,
        variables: str = "{}",
        sources: Mapping[str, str] | None = None,
        transparent: bool = False,
    ) -> Page:
        """A blank page of exactly ``width`` x ``height`` CSS pixels, under our frame control."""
        page = Page.open(
            self.connection,
            width,
            height,
            allowed_root=allowed_root,
            variables=variables,
            sources=sources,
            transparent=transparent,
        )
        self._pages.append(page)
        self.pages_opened += 1
        return page

    def close_pages(self) -> None:
        """Close every open page with its browser context; the browser stays up for more."""
        pages, self._pages = self._pages, []
        for page in pages:
            page.close()

    def close(self) -> None:
        # Killed, not shut down, pages and all: incognito, its profile deleted next, this Chrome
        # keeps nothing worth the CPU a shutdown takes from the pages and the encoder still at work.
        for page in self._pages:
            page.abandon()
        self._pages.clear()
        self.connection.close(graceful=False)
        shutil.rmtree(self.user_data_dir, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()
