"""Reading a composition's contract from its ``index.html``, without a browser.

The root element carries ``data-width``, ``data-height``, ``data-fps`` (default
30) and ``data-duration`` (seconds); in HyperFrames-style compositions the root
is the element with ``data-composition-id``. ``<audio>`` elements with
``data-start``/``data-duration``/``data-volume``/``data-media-start`` are mixed
once at plan time. The page itself may refine the duration (``__hf.duration``);
the plan reconciles both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from handler.errors import InvalidComposition, MissingAsset
from handler.render.settings import FrameRate

ENTRY = "index.html"
DEFAULT_FPS = 30
MAX_FPS = 120
MAX_SIDE = 7680
MAX_DURATION_S = 3600.0


@dataclass(frozen=True)
class AudioClip:
    """One ``<audio>`` element, its source resolved inside the composition directory.

    It plays ``src`` from ``media_start`` for ``duration`` s (to its end when None), at ``start`` s.
    """

    src: Path
    start: float = 0.0
    duration: float | None = None
    volume: float = 1.0
    media_start: float = 0.0

    def __post_init__(self) -> None:
        for name in ("start", "volume", "media_start"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise InvalidComposition(f"{self.src.name}: {name} must be a finite number >= 0, not {value}")
        if self.duration is not None and (not math.isfinite(self.duration) or self.duration <= 0):
            raise InvalidComposition(f"{self.src.name}: duration must be a finite number > 0, not {self.duration}")


@dataclass(frozen=True)
class CompositionSpec:
    width: int
    height: int
    fps: FrameRate
    duration: float | None
    audio: tuple[AudioClip, ...]


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.roots: list[dict[str, str]] = []
        self.audio: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "audio":
            self.audio.append(values)
        if "data-composition-id" in values or ("data-width" in values and "data-height" in values):
            self.roots.append(values)


def _number(values: dict[str, str], name: str, where: str) -> float | None:
    raw = values.get(name)
    if raw is None or raw.strip() == "":
        return None
    try:
        number = float(raw.strip().removesuffix("s"))
    except ValueError:
        raise InvalidComposition(f"{where}: {name}={raw!r} is not a number") from None
    if not math.isfinite(number):
        raise InvalidComposition(f"{where}: {name}={raw!r} is not finite")
    return number


def _positive_int(values: dict[str, str], name: str, where: str, limit: int) -> int:
    number = _number(values, name, where)
    if number is None:
        raise InvalidComposition(f"{where}: the root element has no {name}")
    if number != int(number) or not 1 <= number <= limit:
        raise InvalidComposition(f"{where}: {name}={values[name]!r} must be a whole number from 1 to {limit}")
    return int(number)


def _pick_root(roots: list[dict[str, str]]) -> dict[str, str]:
    for values in roots:
        if "data-composition-id" in values:
            return values
    if not roots:
        raise InvalidComposition(f"{ENTRY}: no root element with data-width and data-height (or data-composition-id)")
    return roots[0]


def resolve_local(project_dir: Path, reference: str, where: str) -> Path:
    """A relative reference resolved inside the project; anything else is refused."""
    parts = urlsplit(reference)
    if parts.scheme or parts.netloc or reference.startswith("/"):
        raise InvalidComposition(f"{where}: {reference!r} is not a path inside the composition directory")
    relative = PurePosixPath(unquote(parts.path))
    root = project_dir.resolve()
    target = (root / relative).resolve()
    if not target.is_relative_to(root):
        raise InvalidComposition(f"{where}: {reference!r} points outside the composition directory")
    if not target.is_file():
        raise InvalidComposition(f"{where}: {reference!r} does not exist")
    return target


def _audio_element(project_dir: Path, values: dict[str, str], index: int) -> AudioClip:
    where = f"{ENTRY}: <audio> #{index + 1}"
    src = values.get("src", "")
    if not src:
        raise InvalidComposition(f"{where} has no src")
    start = _number(values, "data-start", where) or 0.0
    duration = _number(values, "data-duration", where)
    volume = _number(values, "data-volume", where)
    media_start = _number(values, "data-media-start", where) or 0.0
    if start < 0 or media_start < 0 or (duration is not None and duration <= 0):
        raise InvalidComposition(f"{where}: start and media start must be >= 0 and duration > 0")
    if volume is not None and not 0 <= volume <= 10:
        raise InvalidComposition(f"{where}: data-volume must be between 0 and 10")
    return AudioClip(
        src=resolve_local(project_dir, src, where),
        start=start,
        duration=duration,
        volume=1.0 if volume is None else volume,
        media_start=media_start,
    )


def read_composition(project_dir: Path) -> CompositionSpec:
    entry = project_dir / ENTRY
    if not entry.is_file():
        raise InvalidComposition(f"{project_dir}: no {ENTRY}")
    collector = _Collector()
    collector.feed(entry.read_text(encoding="utf-8", errors="replace"))
    root = _pick_root(collector.roots)
    fps = _frame_rate(root.get("data-fps"))
    duration = _number(root, "data-duration", ENTRY)
    if duration is not None and not 0 < duration <= MAX_DURATION_S:
        raise InvalidComposition(f"{ENTRY}: data-duration={duration} must be in (0, {MAX_DURATION_S:g}] seconds")
    width = _positive_int(root, "data-width", ENTRY, MAX_SIDE)
    height = _positive_int(root, "data-height", ENTRY, MAX_SIDE)
    if width % 2 or height % 2:
        # yuv420p subsamples chroma 2x2: odd sides cannot be encoded exactly.
        raise InvalidComposition(f"{ENTRY}: data-width and data-height must be even, got {width}x{height}")
    return CompositionSpec(
        width=width,
        height=height,
        fps=fps,
        duration=duration,
        audio=tuple(_audio_element(project_dir, values, i) for i, values in enumerate(collector.audio)),
    )


def _frame_rate(raw: str | None) -> FrameRate:
    if raw is None or not raw.strip():
        return FrameRate(DEFAULT_FPS)
    try:
        return FrameRate.parse(raw)
    except ValueError as error:
        raise InvalidComposition(f"{ENTRY}: data-fps={raw!r}: {error}") from None


def total_frames(duration: float, fps: FrameRate) -> int:
    """Frames shown for ``duration`` seconds: frame i covers [i/fps, (i+1)/fps)."""
    return fps.frames_in(duration)


# --- sub-compositions -----------------------------------------------------------------
MAX_SUB_COMPOSITIONS = 256
MAX_SUB_COMPOSITION_BYTES = 8 * 1024 * 1024  # all files together: they travel into every page
MAX_NESTING = 8


class _SourceCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.references: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "data-composition-src" and value:
                self.references.append(value)


def _sub_reference(project_dir: Path, reference: str, naming_file: str) -> str:
    """The file a data-composition-src names, relative to the composition directory.

    A bare path is relative to the directory (as HyperFrames reads it); ``./`` and ``../`` are
    relative to the file that names it. Nothing outside the directory is reachable.
    """
    where = f"{naming_file}: data-composition-src={reference!r}"
    parts = urlsplit(reference)
    if parts.scheme or parts.netloc or reference.startswith("/"):
        raise InvalidComposition(f"{where} is not a path inside the composition directory")
    path = unquote(parts.path)
    base = PurePosixPath(naming_file).parent if path.startswith(("./", "../")) else PurePosixPath()
    root = project_dir.resolve()
    target = (root / base / path).resolve()
    if not target.is_relative_to(root):
        raise InvalidComposition(f"{where} points outside the composition directory")
    return target.relative_to(root).as_posix()


def sub_composition_sources(project_dir: Path) -> dict[str, str]:
    """Every file reached through data-composition-src from index.html, by its path: what the page mounts."""
    found: dict[str, str] = {}
    missing: list[str] = []
    pending = [(ENTRY, 0)]
    total = 0
    while pending:
        naming, depth = pending.pop(0)
        text = (
            found.get(naming)
            if naming != ENTRY
            else (project_dir / ENTRY).read_text(encoding="utf-8", errors="replace")
        )
        collector = _SourceCollector()
        collector.feed(text or "")
        for reference in collector.references:
            relative = _sub_reference(project_dir, reference, naming)
            if relative in found or relative in missing:
                continue
            if depth + 1 > MAX_NESTING:
                raise InvalidComposition(f"{naming}: sub-compositions nest deeper than {MAX_NESTING} at {relative}")
            path = project_dir / relative
            if not path.is_file():
                missing.append(relative)
                continue
            found[relative] = path.read_text(encoding="utf-8", errors="replace")
            total += len(found[relative].encode())
            if len(found) > MAX_SUB_COMPOSITIONS or total > MAX_SUB_COMPOSITION_BYTES:
                raise InvalidComposition(
                    f"more than {MAX_SUB_COMPOSITIONS} sub-composition files, "
                    f"or more than {MAX_SUB_COMPOSITION_BYTES} bytes of them"
                )
            pending.append((relative, depth + 1))
    if missing:
        raise MissingAsset(missing)
    return found
