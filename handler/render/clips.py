"""The composition's ``<video>`` clips: read from the page at plan time, decoded per chunk.

The plan records each clip (source, window, media offset, sound); a chunk decodes the span of
source frames it shows and hands the page, for every frame, the image each clip shows.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

from handler.errors import InvalidComposition
from handler.render.composition import ENTRY, AudioClip, resolve_local
from handler.render.ffmpeg import video
from handler.render.ffmpeg.video import SourceTiming, VideoClip
from handler.render.settings import FrameRate

FramesAt = Callable[[int], list[Path | None]]


def _number(raw: object, name: str, where: str, *, default: float | None) -> float | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return default
    try:
        value = float(str(raw).strip().removesuffix("s"))
    except ValueError:
        raise InvalidComposition(f"{where}: {name}={raw!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise InvalidComposition(f"{where}: {name}={raw!r} must be a finite number >= 0")
    return value


def from_page(info: dict[str, object], project: Path) -> list[VideoClip]:
    """The page's ``<video>`` elements as clips, each source checked to lie inside the composition."""
    raw = info.get("videos")
    clips = []
    for index, entry in enumerate(raw if isinstance(raw, list) else []):
        where = f"{ENTRY}: <video> #{index + 1}"
        if not isinstance(entry, dict) or not entry.get("src"):
            raise InvalidComposition(f"{where} has no src")
        source = resolve_local(project, str(entry["src"]), where)
        duration = _number(entry.get("duration"), "data-duration", where, default=None)
        if duration == 0:
            raise InvalidComposition(f"{where}: data-duration must be > 0")
        clips.append(
            VideoClip(
                src=source.relative_to(project.resolve()).as_posix(),
                start=_number(entry.get("start"), "data-start", where, default=0.0) or 0.0,
                duration=duration,
                media_start=_number(entry.get("media_start"), "data-media-start", where, default=0.0) or 0.0,
                muted=bool(entry.get("muted")),
                volume=_number(entry.get("volume"), "data-volume", where, default=1.0) or 0.0,
            )
        )
    return clips


def check_and_time(ffmpeg: Path, project: Path, clips: list[VideoClip], scratch: Path) -> list[SourceTiming]:
    """Each clip's frame times; its first frame is decoded once, so a source ffmpeg cannot decode fails the plan."""
    timings = []
    for index, clip in enumerate(clips):
        timing = video.probe(ffmpeg, project / clip.src, name=clip.src)
        try:
            video.decode_span(ffmpeg, project / clip.src, timing, [0], scratch / f"check-{index}")
        except Exception as error:
            raise InvalidComposition(
                f"<video src={clip.src!r}>: the bundled ffmpeg cannot decode it ({error})"
            ) from error
        timings.append(timing)
    return timings


def sound_of(clips: list[VideoClip], timings: list[SourceTiming], project: Path) -> list[AudioClip]:
    """The clips whose sound is mixed into the plan's audio: not muted, with an audio stream."""
    return [
        AudioClip(
            src=project / clip.src,
            start=clip.start,
            duration=clip.duration,
            volume=clip.volume,
            media_start=clip.media_start,
        )
        for clip, timing in zip(clips, timings, strict=True)
        if not clip.muted and timing.has_audio and clip.volume > 0
    ]


def decode_for_chunk(
    ffmpeg: Path, project: Path, clips: tuple[VideoClip, ...], frames: range, *, fps: FrameRate, out_dir: Path
) -> FramesAt:
    """Decode what ``frames`` show of each clip under ``out_dir``; returns frame -> image per clip."""
    shown: list[list[int | None]] = []
    for index, clip in enumerate(clips):
        timing = video.probe(ffmpeg, project / clip.src, name=clip.src)
        indices = video.shown_frames(clip, timing, frames, fps)
        wanted = sorted({k for k in indices if k is not None})
        if wanted:
            video.decode_span(ffmpeg, project / clip.src, timing, wanted, out_dir / str(index))
        shown.append(indices)

    def frames_at(frame: int) -> list[Path | None]:
        offset = frame - frames.start
        return [None if ks[offset] is None else out_dir / str(i) / f"{ks[offset]}.png" for i, ks in enumerate(shown)]

    return frames_at
