"""Reference frames from an ordinary screenshot of the pinned Chromium, not from beginFrame.

The handler draws every frame with ``HeadlessExperimental.beginFrame`` on a target under frame
control. The oracle opens the same composition in the same Chromium through Playwright, seeks
through the same contract (``handler/page/shim.js``: ``__renderzip.ready()``, then
``__renderzip.seek(i, fps)``) and takes a plain ``page.screenshot``. A baseline that was wrong
from the start, or frames shifted in time, disagree with it.

Each frame gets a freshly loaded document that starts the way a chunk does: seek, draw once
uncaptured, seek again, capture. Frame i is then what a chunk starting at i shows, which the
handler promises is frame i of every render, however it is split.

A ``<video>`` shows, as in a render, a decoded source frame; the oracle finds that frame its own
way: it decodes the source from its start and keeps the last frame presented at or before the
instant (``trim``), where the handler reads the packet times and decodes only a span.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import operator
import subprocess
from collections.abc import Awaitable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from playwright.async_api import Browser, BrowserContext, Page, Route, WebSocketRoute, async_playwright
from playwright.async_api import Error as PlaywrightError

from handler.errors import InvalidComposition, RuntimeUnavailable
from handler.render.chrome.browser import CHROME_FLAGS, PROCESS_MODEL_FLAGS
from handler.render.chrome.page import init_scripts
from handler.render.chrome.page.netguard import BlockedLog, allowed
from handler.render.composition import ENTRY, read_composition, sub_composition_sources
from handler.render.runtime import load_prepared

__all__ = ["OracleError", "reference_frames"]

LAUNCH_TIMEOUT_S = 30.0
STEP_TIMEOUT_S = 30.0  # one load, one seek or one screenshot
CLOSE_TIMEOUT_S = 5.0

# --deterministic-mode hands frame production to beginFrame, which a screenshot cannot drive. The
# switches headless Chromium derives from it besides that keep each drawn frame complete: every
# compositor stage before a draw, images decoded before they are drawn, animations on the main thread.
BEGIN_FRAME_ONLY = frozenset({"--deterministic-mode"})
# The render engine's process model, which decides no pixel. With the network service inside its
# browser, the oracle's screenshot of a playing <video> timed out in 2 runs of 5; the engine never
# plays one (it draws ffmpeg's decoded frames in the element's box).
ENGINE_ONLY = frozenset(PROCESS_MODEL_FLAGS)
COMPLETE_FRAMES = (
    "--run-all-compositor-stages-before-draw",
    "--disable-checker-imaging",
    "--disable-threaded-animation",
    "--disable-image-animation-resync",
    "--disable-new-content-rendering-timeout",
)
# Playwright passes its own --disable-features list; a second one would replace it, and the
# handler's list only turns off browser services, none of which draws.
FEATURES_PREFIX = "--disable-features="


T = TypeVar("T")


class OracleError(Exception):
    """No reference frame: the message names the composition, the frame and the cause."""

    def __init__(self, composition: Path, frames: Sequence[int], cause: str) -> None:
        self.composition = composition
        self.frames = tuple(frames)
        self.cause = cause
        which = f"frame {self.frames[0]}" if len(self.frames) == 1 else f"frames {list(self.frames)}"
        super().__init__(f"oracle: composition {composition.name} ({composition}), {which}: {cause}")

    def __reduce__(self) -> tuple[type[OracleError], tuple[Path, tuple[int, ...], str]]:
        return (OracleError, (self.composition, self.frames, self.cause))


def oracle_flags() -> list[str]:
    """The handler's Chrome flags that decide pixels, without those that serve beginFrame or the process model."""
    skipped = BEGIN_FRAME_ONLY | ENGINE_ONLY
    kept = [flag for flag in CHROME_FLAGS if flag not in skipped and not flag.startswith(FEATURES_PREFIX)]
    return [*kept, *COMPLETE_FRAMES]


def chromium_env(chrome: Path) -> dict[str, str]:
    """The environment the handler gives ``chrome``: it must be a binary prepared by ``handler.render.runtime``."""
    try:
        return load_prepared(chrome.parent).chromium_env()
    except RuntimeUnavailable as error:
        raise ValueError(f"{chrome} is not a Chromium prepared by handler.render.runtime.prepare ({error})") from error


def reference_frames(
    composition_dir: Path,
    frames: Sequence[int],
    *,
    chrome: Path,
    out_dir: Path,
    width: int | None = None,
    height: int | None = None,
    fps: float | None = None,
    variables: str = "{}",
) -> list[Path]:
    """Screenshot each frame of the composition as ``out_dir/frame-{index:05d}.png``; the paths, in order.

    ``width``, ``height`` and ``fps`` default to the composition's ``data-width``,
    ``data-height`` and ``data-fps``; ``variables`` is ``Config.Variables`` as JSON.
    """
    composition_dir = composition_dir.resolve()
    wanted = [_frame_index(composition_dir, index) for index in frames]
    if not wanted:
        return []
    if not (composition_dir / ENTRY).is_file():
        raise OracleError(composition_dir, wanted, f"no {ENTRY} in {composition_dir}")
    if width is None or height is None or fps is None:
        try:
            spec = read_composition(composition_dir)
        except InvalidComposition as error:
            raise OracleError(composition_dir, wanted, str(error)) from error
        width, height, fps = width or spec.width, height or spec.height, fps or float(spec.fps)
    try:
        env = chromium_env(chrome)
        ffmpeg = load_prepared(chrome.parent).ffmpeg
    except (ValueError, RuntimeUnavailable) as error:
        raise OracleError(composition_dir, wanted, str(error)) from error
    out_dir.mkdir(parents=True, exist_ok=True)
    job = _Job(composition_dir, (width, height), float(fps), out_dir, ffmpeg=ffmpeg, variables=variables)
    asyncio.run(job.run(wanted, chrome, env))
    return [job.path(index) for index in wanted]


def _frame_index(composition: Path, index: int) -> int:
    """``index`` as an int (NumPy integers too); negatives, floats and booleans are refused."""
    try:
        number = operator.index(index)
    except TypeError:
        number = -1
    if isinstance(index, bool) or number < 0:
        raise OracleError(composition, [index], "frame indices are whole numbers from 0")
    return number


class _Job:
    """One browser and one page for all the frames; the composition loaded afresh for each."""

    def __init__(
        self, composition: Path, size: tuple[int, int], fps: float, out_dir: Path, *, ffmpeg: Path, variables: str
    ) -> None:
        self.composition = composition
        self.width, self.height = size
        self.fps = fps
        self.out_dir = out_dir
        self.ffmpeg = ffmpeg
        self.variables = variables
        self.video_dir = out_dir / "video-frames"
        self.blocked = BlockedLog()
        self.errors: list[str] = []  # thrown by the page since its frame began

    def path(self, index: int) -> Path:
        return self.out_dir / f"frame-{index:05d}.png"

    async def run(self, frames: list[int], chrome: Path, env: dict[str, str]) -> None:
        unique = list(dict.fromkeys(frames))
        browser_env: dict[str, str | float | bool] = dict(env)
        async with async_playwright() as playwright:
            try:
                browser = await playwright.chromium.launch(
                    executable_path=chrome,
                    args=oracle_flags(),
                    env=browser_env,
                    headless=True,
                    timeout=LAUNCH_TIMEOUT_S * 1000,
                )
            except PlaywrightError as error:
                raise OracleError(self.composition, unique, f"cannot start {chrome}: {_describe(error)}") from error
            try:
                page = await (await self._context(browser)).new_page()
                page.on("pageerror", lambda error: self.errors.append(f"{error.name}: {error.message}"))
                for index in unique:
                    await self._frame(page, index)
            except PlaywrightError as error:
                raise OracleError(self.composition, unique, _describe(error)) from error
            finally:
                await _quietly(browser.close())

    async def _context(self, browser: Browser) -> BrowserContext:
        context = await browser.new_context(
            viewport={"width": self.width, "height": self.height},
            device_scale_factor=1,
            is_mobile=False,
            has_touch=False,
            service_workers="block",
            accept_downloads=False,
        )
        context.set_default_timeout(STEP_TIMEOUT_S * 1000)
        # The same scripts a worker's page runs first: the clock, and the sub-composition files.
        for script in init_scripts(self.variables, sources=sub_composition_sources(self.composition)):
            await context.add_init_script(script=script)
        await context.route(lambda _url: True, self._guard)
        await context.route_web_socket(lambda _url: True, self._refuse_socket)
        return context

    async def _guard(self, route: Route) -> None:
        url = route.request.url
        if allowed(url, self.composition) or allowed(url, self.video_dir):
            await route.continue_()
        else:
            self.blocked.add(url)
            await route.abort("blockedbyclient")

    async def _refuse_socket(self, socket: WebSocketRoute) -> None:
        self.blocked.add(socket.url)
        await socket.close()

    async def _frame(self, page: Page, index: int) -> None:
        """Load the composition afresh, so no state of an earlier frame leaks into this one."""
        errors = self.errors
        errors.clear()

        async def step(awaitable: Awaitable[T], what: str) -> T:
            try:
                result = await asyncio.wait_for(awaitable, STEP_TIMEOUT_S)
            except (PlaywrightError, TimeoutError) as error:
                raise OracleError(self.composition, [index], f"{what}: {_describe(error)}") from error
            blocked = self.blocked.urls()
            if blocked:
                raise OracleError(self.composition, [index], f"network blocked while {what}: {', '.join(blocked)}")
            if errors:
                more = f" (and {len(errors) - 1} more errors)" if len(errors) > 1 else ""
                raise OracleError(self.composition, [index], f"the page threw while {what}: {errors[0]}{more}")
            return result

        seek = "([index, fps, frames]) => window.__renderzip.seek(index, fps, frames)"
        await step(page.goto((self.composition / ENTRY).as_uri(), wait_until="load"), "loading")
        await step(page.evaluate("() => window.__renderzip.ready()"), "loading")
        clips = await step(page.evaluate("() => window.__renderzip.info().videos || []"), "reading the videos")
        try:
            frames = [self._video_frame(clip, number, index) for number, clip in enumerate(clips)]
        except (OSError, ValueError, subprocess.SubprocessError) as error:
            raise OracleError(self.composition, [index], f"decoding a <video> source: {error}") from error
        # As a chunk starts: seek, draw once, then seek again and draw the captured frame.
        await step(page.evaluate(seek, [index, self.fps, frames]), "seeking")
        await step(page.screenshot(type="png", animations="allow"), "drawing")
        await step(page.evaluate(seek, [index, self.fps, frames]), "seeking")
        await step(page.screenshot(path=self.path(index), type="png", animations="allow"), "capturing")

    def _video_frame(self, clip: dict[str, Any], number: int, index: int) -> str | None:
        """The source frame ``clip`` shows at output frame ``index`` as a file URL, or None outside its window."""
        start = _seconds(clip.get("start"), 0.0)
        duration = _seconds(clip.get("duration"), math.inf)
        at = index / self.fps
        if at < start - 1e-9 or at >= start + duration - 1e-9:
            return None
        instant = at - start + _seconds(clip.get("media_start"), 0.0)
        out = self.video_dir / f"{number}-{index}.png"
        out.parent.mkdir(parents=True, exist_ok=True)
        source = (self.composition / str(clip["src"])).resolve()
        # Frames presented at or before the instant, counted from the first; the last one written stays.
        # trim rounds its end to the stream's time base, so the margin must outlast one tick of it.
        argv = [str(self.ffmpeg), "-v", "error", "-nostdin", "-y", "-i", str(source), "-map", "0:v:0",
                "-vf", f"setpts=PTS-STARTPTS,trim=end={instant + 1e-4:.6f}", "-fps_mode", "passthrough",
                "-update", "1", "-c:v", "png", str(out)]  # fmt: skip
        subprocess.run(argv, check=True, capture_output=True, timeout=STEP_TIMEOUT_S)
        return out.as_uri()


def _seconds(raw: object, default: float) -> float:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return default
    return float(str(raw).strip().removesuffix("s"))


def _describe(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return f"timed out after {STEP_TIMEOUT_S:g} s"
    if isinstance(error, PlaywrightError):
        # Playwright appends a call log after the first line; the first line is the cause.
        return error.message.strip().splitlines()[0] if error.message.strip() else type(error).__name__
    return f"{type(error).__name__}: {error}"


async def _quietly(closing: Awaitable[None]) -> None:
    """Closing what may already be gone or stuck: bounded, and never the error that matters."""
    with contextlib.suppress(PlaywrightError, TimeoutError):
        await asyncio.wait_for(closing, CLOSE_TIMEOUT_S)
