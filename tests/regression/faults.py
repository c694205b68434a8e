"""Faults made from real renders with the packaged ffmpeg: what a timing bug would have produced."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

from handler.digest import file_sha256
from handler.render.framesfile import FramesManifest, frame_hashes, manifest_path
from tooling.media import inspect


def shift_one_frame_late(ffmpeg: Path, video: Path, out: Path) -> Path:
    """``video`` with every frame shown one frame late (frame 0 repeated), losslessly re-encoded.

    The decoded pictures are the source's own (x264 at qp 0, same pixel format and colour tags),
    so a frame that did not move compares as identical.
    """
    info = inspect(ffmpeg, video)
    assert info.fps is not None and info.frame_count > 1
    fps = f"{info.fps.numerator}/{info.fps.denominator}"
    argv = [
        str(ffmpeg),
        *("-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-i", str(video)),
        *("-vf", f"tpad=start=1:start_mode=clone,trim=end_frame={info.frame_count},setpts=N/({fps})/TB"),
        *("-an", "-c:v", "libx264", "-qp", "0", "-preset", "ultrafast", "-pix_fmt", str(info.pix_fmt)),
        *("-color_range", str(info.color_range), "-colorspace", str(info.color_space)),
        *("-color_primaries", str(info.color_primaries), "-color_trc", str(info.color_trc)),
        *("-r", fps, str(out)),
    ]
    subprocess.run(argv, check=True, capture_output=True, timeout=120)
    # Its own manifest, as a renderer with that timing bug would have written beside it.
    source = FramesManifest.from_bytes(manifest_path(video).read_bytes(), where=video.name)
    shifted = dataclasses.replace(source, frames=frame_hashes(ffmpeg, out), video_sha256=file_sha256(out))
    manifest_path(out).write_bytes(shifted.to_bytes())
    return out
