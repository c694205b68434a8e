"""``python -m runner diff A B``: the first frame where two renders part, and how far apart it is.

A and B are videos or their ``.frames.json`` manifests. The manifests' frame hashes find the first
differing frame without decoding anything; when both videos are at hand, that frame is decoded
from each and its PSNR printed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

from handler.render.framesfile import SUFFIX, FramesManifest, first_difference, frame_hashes, manifest_path
from handler.render.runtime import prepare
from regression.frames import Frame, psnr
from tooling.cli_errors import CommandLineError
from tooling.media import decode_frames


@dataclass(frozen=True)
class Side:
    frames: tuple[str, ...]
    video: Path | None
    size: tuple[int, int] | None


def _side(path: Path, ffmpeg: Path) -> Side:
    if not path.is_file():
        raise CommandLineError(f"{path} does not exist", "give two rendered videos or their .frames.json manifests")
    if path.name.endswith(SUFFIX):
        manifest = FramesManifest.from_bytes(path.read_bytes(), where=str(path))
        video = path.with_name(path.name.removesuffix(SUFFIX))
        return Side(manifest.frames, video if video.is_file() else None, (manifest.width, manifest.height))
    beside = manifest_path(path)
    if beside.is_file():
        manifest = FramesManifest.from_bytes(beside.read_bytes(), where=str(beside))
        return Side(manifest.frames, path, (manifest.width, manifest.height))
    return Side(frame_hashes(ffmpeg, path), path, None)


def _frame(ffmpeg: Path, video: Path, index: int, size: tuple[int, int]) -> Frame:
    width, height = size
    (raw,) = list(decode_frames(ffmpeg, video, width=width, height=height, select=[index]))
    return np.frombuffer(raw, dtype=np.uint8).reshape(height, width, 3)


def diff(a: Path, b: Path, out: TextIO) -> bool:
    """Print where the renders part; True when every frame is the same."""
    ffmpeg = prepare().ffmpeg
    left, right = _side(a, ffmpeg), _side(b, ffmpeg)
    index = first_difference(left.frames, right.frames)
    if index is None:
        print(f"identical: {len(left.frames)} frames, every one the same", file=out)
        return True
    print(f"first differing frame: {index} (of {len(left.frames)} and {len(right.frames)})", file=out)
    size = left.size or right.size
    if index < min(len(left.frames), len(right.frames)) and left.video and right.video and size:
        value = psnr(_frame(ffmpeg, left.video, index, size), _frame(ffmpeg, right.video, index, size))
        print(f"PSNR at frame {index}: {'inf' if math.isinf(value) else f'{value:.2f}'} dB", file=out)
    return False
