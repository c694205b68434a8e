"""One composition page: blocked network, virtual time, seeking and frame capture."""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import time
from collections.abc import Iterator, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from handler.errors import (
    CaptureFailed,
    ChromeTimeout,
    InvalidComposition,
    MissingAsset,
    NetworkBlocked,
    PageCrashed,
    PageError,
    PageTimeout,
    RenderzipError,
)
from handler.render.chrome.cdp import CdpConnection, EventHandler, Message
from handler.render.chrome.page.netguard import BlockedLog, allowed, missing
from handler.render.settings import DEFAULT_CAPTURE_FORMAT, DEFAULT_JPEG_QUALITY, CaptureFormat

ImageFormat = CaptureFormat

# beginFrame ticks (ms) of frame i at fps: TICKS_ORIGIN + i * 1000 / fps. Any origin will do
# as long as it is fixed, so the same frame always gets the same ticks.
TICKS_ORIGIN = 1_000_000.0
# Frames drawn without a screenshot before the first captured one, at that frame's time: lets
# layout, fonts, image decoding and the compositor settle the same way wherever a chunk starts.
WARM_UP_TICKS = 3
WARM_UP_STEP = 0.25  # ms between warm-up ticks, all before the frame's own ticks
# A beginFrame brings no screenshot until the page's renderer has handed the display its first
# frame, which a loaded machine can hold back: a frame is tried again after pauses that double,
# up to the longest, for as long as the patience lasts.
CAPTURE_PATIENCE_S = 5.0
CAPTURE_FIRST_PAUSE_S = 0.002
CAPTURE_LONGEST_PAUSE_S = 0.1
# Fast zlib settings for PNG: about 3x the frame rate for 4x the bytes, which only cross a pipe.
OPTIMIZE_FOR_SPEED = True
COMMAND_TIMEOUT = 30.0

_SHIM = resources.files("handler.render.chrome.page").joinpath("shim.js").read_text(encoding="utf-8")
# The binding reach.js names each way out of the page through (Runtime.bindingCalled).
REACH_BINDING = "__renderzipReach"
_REACH = (
    resources.files("handler.render.chrome.page").joinpath("reach.js").read_text(encoding="utf-8").rstrip()
    + f"({json.dumps(REACH_BINDING)});"
)


def retry_pauses(
    patience: float = CAPTURE_PATIENCE_S, first: float = CAPTURE_FIRST_PAUSE_S, longest: float = CAPTURE_LONGEST_PAUSE_S
) -> Iterator[float]:
    """The pauses before each retry of a frame: doubling from ``first`` to ``longest``, ``patience`` in all."""
    pause, spent = first, 0.0
    while spent + pause <= patience:
        yield pause
        spent += pause
        pause = min(pause * 2, longest)


def frame_ticks(frame_index: int, fps: float) -> float:
    return TICKS_ORIGIN + frame_index * 1000.0 / fps


def _variables_script(variables: str) -> str:
    """``Config.Variables`` as ``window.__renderzipVariables``, which the shim lays over the declared defaults."""
    return (
        "Object.defineProperty(window, '__renderzipVariables', "
        "{ value: " + json.dumps(variables) + ", enumerable: false });"
    )


def _sources_script(sources: dict[str, str]) -> str:
    """The sub-composition files, as ``window.__renderzipSources``: a file:// page may not fetch them itself."""
    literal = json.dumps(json.dumps(sources, sort_keys=True))
    return (
        "Object.defineProperty(window, '__renderzipSources', "
        "{ value: Object.freeze(JSON.parse(" + literal + ")), enumerable: false });"
    )


MAX_TRACKED_REQUESTS = 100_000  # request id -> URL, for the requests Chrome refuses itself
SEEK_TIMEOUT_S = 30.0  # a frame's seek that takes longer is the page's fault if Chrome still answers
BROWSER_PING_S = 5.0
LOAD_POLL_S = 0.1  # how often a loading page is checked for refused requests
TRANSPARENT = {"r": 0, "g": 0, "b": 0, "a": 0}


def init_scripts(variables: str = "{}", sources: Mapping[str, str] | None = None) -> list[str]:
    """What runs before any script of the composition, in order.

    The clock, the reach report, the variables, the sub-compositions.
    """
    return [_SHIM, _REACH, _variables_script(variables), _sources_script(dict(sources or {}))]


class Page:
    """A target created with beginFrame control, attached over a flat session."""

    def __init__(
        self,
        connection: CdpConnection,
        target_id: str,
        session_id: str,
        *,
        size: tuple[int, int],
        allowed_root: Path,
        context_id: str,
    ) -> None:
        self.connection = connection
        self.target_id = target_id
        self.session_id = session_id
        self.context_id = context_id
        self.width, self.height = size
        self.allowed_root = allowed_root.resolve()
        self._extra_roots: list[Path] = []
        self._request_urls: dict[str, str] = {}
        self._blocked = BlockedLog()
        self._missing = BlockedLog()
        self._errors: list[str] = []
        self._crashed = False
        self._last_ticks = 0.0
        self._closed = False

    @classmethod
    def open(
        cls,
        connection: CdpConnection,
        width: int,
        height: int,
        *,
        allowed_root: Path,
        variables: str = "{}",
        sources: Mapping[str, str] | None = None,
        transparent: bool = False,
    ) -> Page:
        """A blank page under frame control.

        ``variables`` (canonical JSON) is what the composition reads; ``sources`` are the files its
        ``data-composition-src`` hosts mount, by path inside the composition directory.
        """
        # A browser context of its own: no storage, cookie or cache of an earlier page in the same
        # browser can reach this one, so a browser may serve one chunk after another.
        context_id = str(connection.send("Target.createBrowserContext")["browserContextId"])
        try:
            target = connection.send(
                "Target.createTarget",
                {
                    "url": "about:blank",
                    "enableBeginFrameControl": True,
                    "width": width,
                    "height": height,
                    "browserContextId": context_id,
                },
            )
            target_id = str(target["targetId"])
            attached = connection.send("Target.attachToTarget", {"targetId": target_id, "flatten": True})
        except BaseException:
            with contextlib.suppress(RenderzipError):
                connection.send("Target.disposeBrowserContext", {"browserContextId": context_id}, timeout=5.0)
            raise
        page = cls(
            connection,
            target_id,
            str(attached["sessionId"]),
            size=(width, height),
            allowed_root=allowed_root,
            context_id=context_id,
        )
        try:
            page._set_up(variables, dict(sources or {}), transparent)
        except BaseException:
            page.close()
            raise
        return page

    def _set_up(self, variables: str, sources: dict[str, str], transparent: bool) -> None:
        session = self.session_id
        for method, handler in self._handlers():
            self.connection.on(method, handler, session_id=session)
        # Sent together, awaited together: one round trip's worth of waiting.
        setup: list[tuple[str, dict[str, Any]]] = [
            ("Page.enable", {}),
            ("Inspector.enable", {}),
            ("Runtime.enable", {}),
            ("Runtime.addBinding", {"name": REACH_BINDING}),
            ("Network.enable", {}),
            ("Network.setBlockedURLs", {"urls": ["ws://*", "wss://*"]}),
            ("Fetch.enable", {"patterns": [{"urlPattern": "*"}]}),
            (
                "Emulation.setDeviceMetricsOverride",
                {"width": self.width, "height": self.height, "deviceScaleFactor": 1, "mobile": False},
            ),
            # Transparent where the composition paints nothing, for outputs that keep alpha.
            ("Emulation.setDefaultBackgroundColorOverride", {"color": TRANSPARENT} if transparent else {}),
            *(
                ("Page.addScriptToEvaluateOnNewDocument", {"source": script})
                for script in init_scripts(variables, sources)
            ),
        ]
        futures = [(method, self.connection.post(method, params, session_id=session)) for method, params in setup]
        for method, future in futures:
            self.connection.result(method, future, timeout=COMMAND_TIMEOUT)

    # --- events (reader thread: post, never wait) --------------------------------

    def _handlers(self) -> list[tuple[str, EventHandler]]:
        return [
            ("Fetch.requestPaused", self._on_request),
            ("Network.requestWillBeSent", self._on_request_sent),
            ("Network.loadingFailed", self._on_loading_failed),
            ("Page.javascriptDialogOpening", self._on_dialog),
            ("Network.webSocketCreated", self._on_websocket),
            ("Runtime.bindingCalled", self._on_reach),
            ("Inspector.targetCrashed", self._on_crashed),
            ("Runtime.exceptionThrown", self._on_exception),
        ]

    def _on_request(self, params: Message) -> None:
        request_id = params["requestId"]
        url = str(params.get("request", {}).get("url", ""))
        with contextlib.suppress(RenderzipError):
            extra = any(allowed(url, root) for root in self._extra_roots)
            inside = extra or allowed(url, self.allowed_root)
            # Chrome would draw a broken image or skip a font without a word: the plan names the file instead.
            absent = None if extra or not inside else missing(url, self.allowed_root)
            if inside and absent is None:
                self.connection.post("Fetch.continueRequest", {"requestId": request_id}, session_id=self.session_id)
                return
            if absent is not None:
                self._missing.add(absent)
            else:
                self._blocked.add(url)
            reason = "Failed" if absent is not None else "BlockedByClient"
            self.connection.post(
                "Fetch.failRequest", {"requestId": request_id, "errorReason": reason}, session_id=self.session_id
            )

    def _on_request_sent(self, params: Message) -> None:
        if len(self._request_urls) < MAX_TRACKED_REQUESTS:
            self._request_urls[str(params.get("requestId", ""))] = str(params.get("request", {}).get("url", ""))

    def _on_loading_failed(self, params: Message) -> None:
        # Chrome refuses some requests itself (an SVG <use> of another origin) before they are
        # paused for the guard: they are refused requests all the same, and are named.
        if params.get("blockedReason"):
            url = self._request_urls.get(str(params.get("requestId", "")))
            if url:
                self._blocked.add(url)

    def _on_dialog(self, params: Message) -> None:
        # alert(), confirm(), prompt() and beforeunload stop the page until someone answers: it is
        # answered at once (dismissed) and the frame fails naming it, instead of a 30 s wait.
        kind, message = str(params.get("type", "dialog")), str(params.get("message", ""))[:200]
        self._errors.append(f"the page opened a dialog ({kind}: {message!r}); a render has no one to answer it")
        with contextlib.suppress(RenderzipError):
            self.connection.post("Page.handleJavaScriptDialog", {"accept": False}, session_id=self.session_id)

    def _on_websocket(self, params: Message) -> None:
        self._blocked.add(str(params.get("url", "")))

    def _on_reach(self, params: Message) -> None:
        # A way out Chrome gives no request for (reach.js): refused like a request outside the directory.
        if params.get("name") != REACH_BINDING:
            return
        url = str(params.get("payload", ""))[:2000]
        if not any(allowed(url, root) for root in (self.allowed_root, *self._extra_roots)):
            self._blocked.add(url)

    def _on_crashed(self, params: Message) -> None:
        self._crashed = True
        # Its renderer is gone: what the page was asked will never be answered, so nothing waits for a timeout.
        self.connection.fail_session(self.session_id, PageCrashed("while a command waited for it"))

    def _on_exception(self, params: Message) -> None:
        self._errors.append(_describe(params.get("exceptionDetails", {})))

    # --- the composition -------------------------------------------------------------

    def send(self, method: str, params: Message | None = None, *, timeout: float = COMMAND_TIMEOUT) -> Message:
        return self.connection.send(method, params, session_id=self.session_id, timeout=timeout)

    def evaluate(self, expression: str, *, timeout: float = COMMAND_TIMEOUT) -> Any:
        """The value of ``expression`` (awaited if a promise); a thrown error becomes :class:`PageError`."""
        reply = self.send(
            "Runtime.evaluate",
            {"expression": expression, "awaitPromise": True, "returnByValue": True},
            timeout=timeout,
        )
        details = reply.get("exceptionDetails")
        if details is not None:
            raise PageError(_describe(details))
        return reply.get("result", {}).get("value")

    def navigate(self, index_html: Path, *, timeout: float = COMMAND_TIMEOUT) -> None:
        """Load the composition; returns once it has loaded, with its fonts and images ready."""
        try:
            self._load(index_html.resolve().as_uri(), timeout)
        except PageCrashed:
            raise PageCrashed("while the composition loaded") from None

    def _load(self, url: str, timeout: float) -> None:
        with self.connection.subscribe("Page.loadEventFired", session_id=self.session_id) as loaded:
            reply = self.send("Page.navigate", {"url": url}, timeout=timeout)
            if reply.get("errorText"):
                self.raise_refused()
                raise PageError(f"cannot load {url}: {reply['errorText']}")
            # A refused request can keep the load event from ever firing (an SVG <use> of a
            # remote file does): it ends the load at once, naming what was refused.
            give_up = time.monotonic() + timeout
            while True:
                self.raise_refused()
                if self._crashed:
                    raise PageCrashed("while it loaded")
                try:
                    loaded.wait(timeout=max(0.0, min(LOAD_POLL_S, give_up - time.monotonic())))
                    break
                except ChromeTimeout:
                    if time.monotonic() >= give_up:
                        raise ChromeTimeout(f"no Page.loadEventFired event within {timeout:g} s") from None
        self.evaluate("window.__renderzip.ready().then(() => true)", timeout=timeout)
        self._raise_page_errors()

    def composition_info(self) -> dict[str, Any]:
        """The root element's data-* values as the page reads them, and ``__hf.duration`` if set."""
        info: dict[str, Any] = self.evaluate("window.__renderzip.info()")
        if not info.get("found"):
            raise InvalidComposition("no root element: none has data-composition-id, or data-width and data-height")
        return info

    def blocked_urls(self) -> list[str]:
        """Every URL the page tried to reach outside its directory, once each, in order."""
        return self._blocked.urls()

    def raise_refused(self) -> None:
        """``NetworkBlocked`` for any request outside the directory, else ``MissingAsset`` for files it lacks."""
        if self._blocked.urls():
            raise NetworkBlocked(self._blocked.urls())
        if self._missing.urls():
            raise MissingAsset(self._missing.urls())

    def missing_files(self) -> list[str]:
        """Every file inside the directory the page asked for and that does not exist, once each, in order."""
        return self._missing.urls()

    def _raise_page_errors(self) -> None:
        if self._errors:
            first, count = self._errors[0], len(self._errors)
            self._errors.clear()
            raise PageError(first if count == 1 else f"{first}\n(and {count - 1} more errors)")

    # --- frames ---------------------------------------------------------------------

    def seek(self, frame_index: int, fps: float, video_frames: Sequence[Path | None] = ()) -> None:
        """Put the page at frame ``frame_index`` (time ``frame_index / fps``), ready to draw.

        ``video_frames`` holds, for each ``<video>`` in document order, the decoded image it shows
        at this frame (None: none, outside its window); the files must be under an allowed root.
        """
        urls = json.dumps([None if path is None else path.resolve().as_uri() for path in video_frames])
        with self._at_frame(frame_index, fps):
            try:
                self.evaluate(
                    f"window.__renderzip.seek({int(frame_index)}, {float(fps)!r}, {urls})", timeout=SEEK_TIMEOUT_S
                )
            except ChromeTimeout:
                if not self._browser_answers():
                    raise  # Chrome itself stopped answering: a crash-like failure, worth a retry
                if self._crashed:
                    raise PageCrashed("in the seek") from None
                raise PageTimeout(int(frame_index), frame_index / fps, SEEK_TIMEOUT_S) from None
        self._raise_page_errors()

    @contextlib.contextmanager
    def _at_frame(self, frame_index: int, fps: float) -> Iterator[None]:
        """Work on one frame: a crashed renderer, found before or during it, is reported at that frame."""
        try:
            if self._crashed:
                raise PageCrashed("before it")  # a crashed page answers nothing: no waiting for a timeout
            yield
        except PageCrashed:
            raise PageCrashed(f"at frame {int(frame_index)} (t = {frame_index / fps:.3f} s)") from None

    def _browser_answers(self) -> bool:
        """Whether the browser process still answers, though this page does not."""
        try:
            self.connection.send("Browser.getVersion", timeout=BROWSER_PING_S)
        except RenderzipError:
            return False
        return True

    def allow_root(self, root: Path) -> None:
        """Let the page read files under ``root`` too (a chunk's decoded video frames)."""
        self._extra_roots.append(root.resolve())

    def _ticks(self, wanted: float) -> float:
        ticks = wanted if wanted > self._last_ticks else self._last_ticks + 0.001
        self._last_ticks = ticks
        return ticks

    def warm_up(self, frame_index: int, fps: float, video_frames: Sequence[Path | None] = ()) -> None:
        """Seek to the chunk's first frame and draw it a fixed number of times, uncaptured."""
        self.seek(frame_index, fps, video_frames)
        base = frame_ticks(frame_index, fps)
        with self._at_frame(frame_index, fps):
            for step in range(WARM_UP_TICKS, 0, -1):
                self.send(
                    "HeadlessExperimental.beginFrame",
                    {"frameTimeTicks": self._ticks(base - step * WARM_UP_STEP), "interval": 1000.0 / fps},
                )

    def capture(
        self,
        frame_index: int,
        fps: float,
        *,
        fmt: ImageFormat = DEFAULT_CAPTURE_FORMAT,
        quality: int = DEFAULT_JPEG_QUALITY,
        video_frames: Sequence[Path | None] = (),
    ) -> bytes:
        """Seek, draw one frame and return its encoded image."""
        self.seek(frame_index, fps, video_frames)
        screenshot: dict[str, Any] = {"format": fmt, "optimizeForSpeed": OPTIMIZE_FOR_SPEED}
        if fmt == "jpeg":
            screenshot["quality"] = quality
        wanted = frame_ticks(frame_index, fps)
        attempts = 0
        with self._at_frame(frame_index, fps):
            for pause in itertools.chain((0.0,), retry_pauses()):  # lazily: most frames take one attempt
                if pause:
                    time.sleep(pause)
                reply = self.send(
                    "HeadlessExperimental.beginFrame",
                    {"frameTimeTicks": self._ticks(wanted), "interval": 1000.0 / fps, "screenshot": screenshot},
                )
                attempts += 1
                data = reply.get("screenshotData")
                if data:
                    return base64.b64decode(data)
                if self._crashed:  # a crashed page answers at once, without a screenshot, however long it is asked
                    raise PageCrashed("in beginFrame")
        raise CaptureFailed(
            f"frame {frame_index}: no screenshot after {attempts} beginFrame attempts in {CAPTURE_PATIENCE_S:g} s"
        )

    def close(self) -> None:
        """Close the page with its browser context (and everything the page stored in it)."""
        if self.abandon() and self.connection.alive:
            self.connection.send("Target.disposeBrowserContext", {"browserContextId": self.context_id}, timeout=5.0)

    def abandon(self) -> bool:
        """Stop listening to the page and leave its target to go with the browser; False if closed before."""
        if self._closed:
            return False
        self._closed = True
        for method, handler in self._handlers():
            self.connection.off(method, handler, session_id=self.session_id)
        return True


def _describe(details: Message) -> str:
    """The thrown value's message with the page's stack, as Chrome formats it."""
    exception = details.get("exception") or {}
    description = exception.get("description") or exception.get("value")
    if description:
        return str(description)
    text = str(details.get("text", "Uncaught error"))
    where = f" at {details.get('url', '')}:{details.get('lineNumber', 0) + 1}:{details.get('columnNumber', 0) + 1}"
    return text + where
