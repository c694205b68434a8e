"""``<video>`` clips: which source frame each output frame shows, and decoding just those.

Output frame *i* of a clip placed at ``data-start`` *s* with ``data-media-start`` *m* shows the
source frame whose presentation interval holds *i*/fps - *s* + *m*: the last frame whose
presentation time is at most that instant (the first before it starts, the last once it has
ended). The presentation times come from the container's packets, sorted, so B-frames and long
GOPs change nothing. A chunk decodes only the span of source frames it shows, with the bundled
ffmpeg, into lossless PNG files the page draws in the video element's box.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from handler.errors import FfmpegFailed, InvalidComposition
from handler.render.ffmpeg import tool
from handler.render.settings import FrameRate

_TIME_BASE = re.compile(r"^#tb (\d+): (\d+)/(\d+)$", re.M)
_MEDIA = re.compile(r"^#media_type (\d+): (\w+)$", re.M)
_AUDIO_STREAM = re.compile(r"Stream #\d+:\d+\S*: Audio:")


@dataclass(frozen=True)
class VideoClip:
    """One ``<video>`` element as the plan holds it; ``src`` is a path inside the composition."""

    src: str
    start: float = 0.0
    duration: float | None = None
    media_start: float = 0.0
    muted: bool = False
    volume: float = 1.0

    def source_time(self, frame: int, fps: FrameRate) -> Fraction | None:
        """The source instant output ``frame`` shows, or None outside the clip's window."""
        at = Fraction(frame * fps.den, fps.num)
        start = Fraction(self.start)
        if at < start - Fraction(1, 10**9):
            return None
        if self.duration is not None and at >= start + Fraction(self.duration) - Fraction(1, 10**9):
            return None
        return at - start + Fraction(self.media_start)


@dataclass(frozen=True)
class SourceTiming:
    """Presentation times of a source's video frames in order, in seconds, and whether it has sound."""

    pts: tuple[Fraction, ...]
    has_audio: bool

    def frame_at(self, instant: Fraction) -> int:
        """The index of the frame shown at ``instant``: the last one presented at or before it."""
        return max(0, bisect.bisect_right(self.pts, instant) - 1)


def probe(ffmpeg: Path, source: Path, *, name: str) -> SourceTiming:
    """Read the packets' timestamps without decoding; a source ffmpeg cannot read is named."""
    argv = tool.command(ffmpeg, "-i", str(source), "-map", "0:v:0", "-c", "copy", "-f", "framecrc", "pipe:1")
    argv[argv.index("-loglevel") + 1] = "info"  # the input's streams are listed at this level
    try:
        result = tool.run(argv, what=f"reading the video {name}", timeout=120)
    except FfmpegFailed as error:
        raise InvalidComposition(f"<video src={name!r}>: the bundled ffmpeg cannot read it ({error})") from error
    listing = result.stdout.decode("ascii", "replace")
    kinds = dict(_MEDIA.findall(listing))
    bases = {index: Fraction(int(num), int(den)) for index, num, den in _TIME_BASE.findall(listing)}
    video = next((index for index, kind in kinds.items() if kind == "video"), None)
    if video is None:
        raise InvalidComposition(f"<video src={name!r}>: it holds no video stream")
    pts = sorted(
        int(fields[2]) * bases[video]
        for fields in (line.split(",") for line in listing.splitlines() if line and not line.startswith("#"))
        if len(fields) >= 6 and fields[0].strip() == video
    )
    if not pts:
        raise InvalidComposition(f"<video src={name!r}>: it holds no video frames")
    first = pts[0]
    has_audio = bool(_AUDIO_STREAM.search(result.stderr.decode("utf-8", "replace")))
    return SourceTiming(tuple(p - first for p in pts), has_audio)


def shown_frames(clip: VideoClip, timing: SourceTiming, frames: range, fps: FrameRate) -> list[int | None]:
    """For each output frame of ``frames``: the source frame index shown, or None outside the window."""
    shown: list[int | None] = []
    for frame in frames:
        instant = clip.source_time(frame, fps)
        shown.append(None if instant is None else timing.frame_at(instant))
    return shown


def decode_span(ffmpeg: Path, source: Path, timing: SourceTiming, indices: Sequence[int], out_dir: Path) -> None:
    """Decode source frames ``min(indices)..max(indices)`` into ``out_dir/<index>.png``, and nothing else.

    The input is seeked to half a frame before the first one wanted: ffmpeg decodes from the
    keyframe before it and drops what comes earlier, so the first frame written is that one.
    """
    first, last = min(indices), max(indices)
    before = timing.pts[first - 1] if first > 0 else timing.pts[first] - Fraction(1, 1000)
    seek = (before + timing.pts[first]) / 2
    out_dir.mkdir(parents=True, exist_ok=True)
    argv = tool.command(
        ffmpeg,
        "-ss",
        f"{float(seek):.6f}",
        "-i",
        str(source),
        "-map",
        "0:v:0",
        "-frames:v",
        str(last - first + 1),
        "-fps_mode",
        "passthrough",
        "-c:v",
        "png",
        "-compression_level",
        "1",
        *tool.BITEXACT_OUTPUT,
        "-start_number",
        str(first),
        "-f",
        "image2",
        str(out_dir / "%d.png"),
    )
    tool.run(argv, what=f"decoding frames {first}-{last} of {source.name}", timeout=600)
    missing = [index for index in indices if not (out_dir / f"{index}.png").is_file()]
    if missing:
        raise FfmpegFailed(f"decoding {source.name}: frames {missing[:5]} were not written", None, "")
