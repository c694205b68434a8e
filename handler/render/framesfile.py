"""The frame-hash manifest written beside every output: ``out.mp4.frames.json``.

It holds the sha256 of every decoded video frame in order (ffmpeg's ``framehash``, as FATE's
``framecrc`` does with CRCs), with the encoder settings and the runtime identity that made them,
so two renders are compared frame by frame without their videos: the first index where the
lists part is the first frame that differs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from handler.errors import FfmpegFailed, InvalidPlan
from handler.render.ffmpeg import tool

FORMAT = "renderzip-frames/1"
SUFFIX = ".frames.json"


@dataclass(frozen=True)
class FramesManifest:
    frames: tuple[str, ...]  # sha256 of each decoded frame, in presentation order
    width: int
    height: int
    fps: int | str
    video_sha256: str
    encoder: Mapping[str, Any]
    runtime: Mapping[str, str]

    def to_bytes(self) -> bytes:
        doc = {
            "format": FORMAT,
            "width": self.width,
            "height": self.height,
            "fps": self.fps,
            "video_sha256": self.video_sha256,
            "encoder": dict(self.encoder),
            "runtime": dict(self.runtime),
            "frame_count": len(self.frames),
            "frames": list(self.frames),
        }
        return (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode()

    @classmethod
    def from_bytes(cls, raw: bytes, *, where: str) -> FramesManifest:
        try:
            doc = json.loads(raw)
            if doc.get("format") != FORMAT:
                raise InvalidPlan(f"{where}: format {doc.get('format')!r} is not {FORMAT!r}")
            return cls(
                frames=tuple(str(frame) for frame in doc["frames"]),
                width=int(doc["width"]),
                height=int(doc["height"]),
                fps=doc["fps"],
                video_sha256=str(doc["video_sha256"]),
                encoder=dict(doc["encoder"]),
                runtime={str(k): str(v) for k, v in doc["runtime"].items()},
            )
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise InvalidPlan(f"{where} is not a frame manifest: {error}") from error


def manifest_path(video: Path) -> Path:
    return video.with_name(video.name + SUFFIX)


def frame_hashes(ffmpeg: Path, video: Path) -> tuple[str, ...]:
    """The sha256 of every decoded frame of the first video stream, in order."""
    argv = tool.command(ffmpeg, "-i", str(video), "-map", "0:v:0", "-f", "framehash", "-hash", "sha256", "pipe:1")
    listing = tool.run(argv, what=f"hashing the frames of {video.name}", timeout=3600).stdout.decode("ascii", "replace")
    hashes = tuple(line.rsplit(",", 1)[1].strip() for line in listing.splitlines() if line and not line.startswith("#"))
    if not hashes:
        raise FfmpegFailed(f"hashing the frames of {video.name}: ffmpeg listed no frame", None, listing[-400:])
    return hashes


def first_difference(a: tuple[str, ...], b: tuple[str, ...]) -> int | None:
    """The first frame index where the two lists differ (a shorter list differs where it ends); None if equal."""
    for index, (left, right) in enumerate(zip(a, b, strict=False)):
        if left != right:
            return index
    return None if len(a) == len(b) else min(len(a), len(b))
