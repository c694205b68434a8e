"""Assemble: chunks joined in order without re-encoding, the plan's audio muxed in, ``+faststart``."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from handler.errors import InvalidPlan, InvalidUri, ObjectNotFound
from handler.render.ffmpeg import tool as _ffmpeg


def concat_list(paths: Sequence[Path]) -> str:
    """An ffconcat script naming ``paths``; each is quoted, a quote inside written as ``'\\''``."""
    lines = ["ffconcat version 1.0"]
    for path in paths:
        text = str(path.resolve())
        if "\n" in text or "\r" in text:
            raise InvalidUri(text, "a line break cannot be written in an ffmpeg concat list")
        quoted = "'" + text.replace("'", "'\\''") + "'"
        lines.append(f"file {quoted}")
    return "\n".join(lines) + "\n"


def concat_chunks(ffmpeg: Path, chunk_paths: Sequence[Path], out: Path, *, audio: Path | None, scratch: Path) -> None:
    """Write ``out``: the chunks' video stream-copied in order, plus ``audio`` (already trimmed to length).

    Every chunk is a closed GOP with the same encoder headers, so the concat demuxer can copy
    packets; it offsets each chunk's timestamps by the durations before it. The audio is copied
    too and cut with ``-shortest``, so it never outlasts the video by more than one AAC frame.
    The concat list is written under ``scratch``, the caller's directory.
    """
    if not chunk_paths:
        raise InvalidPlan("assemble needs at least one chunk")
    for path in chunk_paths:
        if not path.is_file():
            raise ObjectNotFound(f"chunk {path} does not exist")
    work = Path(tempfile.mkdtemp(prefix="concat-", dir=scratch))
    try:
        listing = work / "chunks.ffconcat"
        listing.write_text(concat_list(chunk_paths), encoding="utf-8")
        inputs = ["-f", "concat", "-safe", "0", "-i", str(listing)]
        maps = ["-map", "0:v:0"]
        if audio is not None:
            inputs += ["-i", str(audio)]
            maps += ["-map", "1:a:0", "-shortest"]
        args = (
            *inputs,
            *maps,
            "-c",
            "copy",
            "-movflags",
            "+faststart",
        )
        _ffmpeg.write_mp4(ffmpeg, args, out, what=f"joining {len(chunk_paths)} chunk(s) into {out.name}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
