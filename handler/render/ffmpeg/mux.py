"""Assemble: chunks joined in order without re-encoding, the plan's audio muxed in, ``+faststart``."""

from __future__ import annotations

import shutil
import tarfile
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


def concat_chunks(
    ffmpeg: Path, chunk_paths: Sequence[Path], out: Path, *, audio: Path | None, scratch: Path, output: str = "mp4"
) -> None:
    """Write ``out``: the chunks' video stream-copied in order, plus ``audio`` (already trimmed to length).

    Every chunk is a closed GOP with the same encoder headers, so the concat demuxer can copy
    packets; it offsets each chunk's timestamps by the durations before it. The audio is copied
    too; it was mixed to the video's exact length, so it needs no ``-shortest``, which can drop
    the last video frame depending on how ffmpeg's threads interleave the two streams;
    in a WebM the AAC mix becomes Opus, the codec WebM carries.
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
            maps += ["-map", "1:a:0"]
        what = f"joining {len(chunk_paths)} chunk(s) into {out.name}"
        if output == "webm":
            args = (*inputs, *maps, "-c:v", "copy", "-c:a", "libopus", "-b:a", "128k")
            _ffmpeg.write_container(ffmpeg, args, out, container="webm", what=what)
        else:
            args = (*inputs, *maps, "-c", "copy", "-movflags", "+faststart")
            _ffmpeg.write_container(ffmpeg, args, out, container="mov" if output == "mov" else "mp4", what=what)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def assemble_whole(ffmpeg: Path, chunk_paths: Sequence[Path], out: Path, *, output: str, scratch: Path) -> Path:
    """Make a GIF or a PNG sequence from lossless chunks at once; returns what its frames are read from.

    The chunks are joined as they are, then: a GIF gets one palette made from every frame of the
    render, so colours cannot jump at a seam; a PNG sequence is an uncompressed tar of
    ``000000.png``, ``000001.png``, ... with fixed metadata, so the same frames give the same bytes.
    """
    joined = scratch / "joined.mkv"
    listing = scratch / "chunks.ffconcat"
    listing.write_text(concat_list(chunk_paths), encoding="utf-8")
    _ffmpeg.run(
        _ffmpeg.command(
            ffmpeg, "-f", "concat", "-safe", "0", "-i", str(listing), "-map", "0:v:0", "-c", "copy",
            *_ffmpeg.BITEXACT_OUTPUT, "-f", "matroska", "-y", str(joined),
        ),
        what=f"joining {len(chunk_paths)} chunk(s)",
    )  # fmt: skip
    if output == "gif":
        graph = "[0:v]split[a][b];[a]palettegen=stats_mode=full[p];[b][p]paletteuse=dither=bayer:bayer_scale=3"
        argv = _ffmpeg.command(ffmpeg, "-i", str(joined), "-filter_complex", graph, *_ffmpeg.BITEXACT_OUTPUT)
        _ffmpeg.run([*argv, "-f", "gif", "-y", str(out)], what=f"making {out.name}")
        return out
    frames = scratch / "frames"
    frames.mkdir()
    _ffmpeg.run(
        _ffmpeg.command(
            ffmpeg, "-i", str(joined), "-fps_mode", "passthrough", "-c:v", "png",
            *_ffmpeg.BITEXACT_OUTPUT, "-start_number", "0", "-f", "image2", str(frames / "%06d.png"),
        ),
        what=f"writing the frames of {out.name}",
    )  # fmt: skip
    _write_tar(sorted(frames.iterdir()), out)
    return frames / "%06d.png"  # read back from 0 by the image2 demuxer's default start


def _write_tar(files: Sequence[Path], out: Path) -> None:
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as archive:
        for path in files:
            info = tarfile.TarInfo(path.name)
            info.size, info.mode, info.mtime, info.uid, info.gid = path.stat().st_size, 0o644, 0, 0, 0
            with path.open("rb") as handle:
                archive.addfile(info, handle)
