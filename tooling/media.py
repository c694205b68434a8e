"""What is in a media file, read with ffmpeg alone (the zip ships no ffprobe).

``inspect`` runs ffmpeg once: the video is stream-copied and the audio decoded into the
``framecrc`` muxer, whose per-packet lines give exact frame counts, timestamps, key flags and
sample counts; the stream lines ffmpeg prints for its input give the codecs and colour tags.
"""

from __future__ import annotations

import array
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from handler.errors import FfmpegFailed
from handler.render.ffmpeg import tool as _ffmpeg

_COLOR_NAMES = frozenset(
    [
        "bt709",
        "bt470bg",
        "bt470m",
        "smpte170m",
        "smpte240m",
        "bt2020nc",
        "bt2020c",
        "bt2020",
        "fcc",
        "ycgco",
        "gbr",
        "srgb",
        "iec61966-2-1",
        "smpte2084",
        "arib-std-b67",
        "linear",
        "smpte428",
        "smpte431",
        "smpte432",
    ]
)
_RANGES = frozenset(["tv", "pc"])


@dataclass(frozen=True)
class MediaInfo:
    duration: float | None = None
    video_codec: str | None = None
    width: int | None = None
    height: int | None = None
    fps: Fraction | None = None
    frame_count: int = 0
    video_duration: float | None = None
    keyframes: tuple[int, ...] = ()
    video_extradata_crc: str | None = None
    pix_fmt: str | None = None
    color_range: str | None = None
    color_space: str | None = None
    color_primaries: str | None = None
    color_trc: str | None = None
    audio_codec: str | None = None
    sample_rate: int | None = None
    channels: int | None = None
    audio_samples: int = 0
    audio_duration: float | None = None
    streams: tuple[str, ...] = field(default=(), repr=False)


def inspect(ffmpeg: Path, path: Path) -> MediaInfo:
    argv = _ffmpeg.command(
        ffmpeg,
        "-i",
        str(path),
        *("-map", "0:v:0?", "-map", "0:a:0?", "-c:v", "copy", "-c:a", "pcm_s16le", "-f", "framecrc", "pipe:1"),
        loglevel="info",
    )
    result = _ffmpeg.run(argv, what=f"inspecting {path.name}")
    stderr = result.stderr.decode("utf-8", "replace")
    return parse(stderr, result.stdout.decode("ascii", "replace"))


def parse(stderr: str, framecrc: str) -> MediaInfo:
    """A ``MediaInfo`` from ffmpeg's log of the input and the ``framecrc`` lines of its streams."""
    header = _input_section(stderr)
    values: dict[str, object] = {"streams": tuple(header)}
    duration = re.search(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)", stderr)
    if duration:
        hours, minutes, seconds = duration.groups()
        values["duration"] = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    for line in header:
        kind = re.search(r"Stream #\d+:\d+\S*: (Video|Audio): (.*)$", line)
        if kind and kind.group(1) == "Video" and "video_codec" not in values:
            values.update(_video_line(kind.group(2)))
        elif kind and kind.group(1) == "Audio" and "audio_codec" not in values:
            values["audio_codec"] = kind.group(2).split()[0].rstrip(",")
    values.update(_packets(framecrc))
    return MediaInfo(**values)  # type: ignore[arg-type]


def _input_section(stderr: str) -> list[str]:
    lines: list[str] = []
    inside = False
    for line in stderr.splitlines():
        if line.startswith("Input #"):
            inside = True
        elif inside and not line.startswith(" "):
            break
        elif inside:
            lines.append(line.strip())
    return lines


def _top_level_parts(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in text:
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    return [*parts, current.strip()]


def _video_line(text: str) -> dict[str, object]:
    parts = _top_level_parts(text)
    values: dict[str, object] = {"video_codec": parts[0].split()[0]}
    if len(parts) > 1:
        pix = re.match(r"([\w]+)(?:\((.*)\))?", parts[1])
        if pix:
            values["pix_fmt"] = pix.group(1)
            for token in (t.strip() for t in (pix.group(2) or "").split(",")):
                if token in _RANGES:
                    values["color_range"] = token
                elif "/" in token and len(token.split("/")) == 3:
                    space, primaries, trc = token.split("/")
                    values.update(color_space=space, color_primaries=primaries, color_trc=trc)
                elif token in _COLOR_NAMES:
                    values.update(color_space=token, color_primaries=token, color_trc=token)
    for part in parts[2:]:
        size = re.match(r"(\d+)x(\d+)", part)
        if size:
            values["width"], values["height"] = int(size.group(1)), int(size.group(2))
            break
    return values


def _packets(framecrc: str) -> dict[str, object]:
    media: dict[int, str] = {}
    time_base: dict[int, Fraction] = {}
    rates: dict[int, int] = {}
    extradata: dict[int, str] = {}
    packets: dict[int, list[tuple[int, int, int, bool]]] = {}
    for line in framecrc.splitlines():
        if line.startswith("#"):
            key, _, value = line[1:].partition(":")
            name, _, index_text = key.partition(" ")
            if not index_text.strip().isdigit():
                continue
            index, value = int(index_text), value.strip()
            if name == "media_type":
                media[index] = value
            elif name == "tb":
                num, den = value.split("/")
                time_base[index] = Fraction(int(num), int(den))
            elif name == "sample_rate":
                rates[index] = int(value)
            elif name == "extradata":
                extradata[index] = value.split(",")[-1].strip()
            continue
        fields = [f.strip() for f in line.split(",")]
        if len(fields) < 6 or not fields[0].isdigit():
            continue
        flags = next((int(f[2:], 16) for f in fields[6:] if f.startswith("F=")), 1)
        packets.setdefault(int(fields[0]), []).append((int(fields[2]), int(fields[3]), int(fields[4]), bool(flags & 1)))
    values: dict[str, object] = {}
    for index, kind in media.items():
        mine = packets.get(index, [])
        if kind == "video" and "frame_count" not in values:
            values.update(_video_packets(mine, time_base[index]))
            values["video_extradata_crc"] = extradata.get(index)
        elif kind == "audio" and "audio_samples" not in values:
            samples = sum(duration for _, duration, _, _ in mine)
            rate = rates.get(index) or int(1 / time_base[index])
            values["audio_samples"] = samples
            values["sample_rate"] = rate
            values["audio_duration"] = samples / rate
            if samples:
                values["channels"] = sum(size for _, _, size, _ in mine) // (samples * 2)
    return values


def _video_packets(packets: list[tuple[int, int, int, bool]], time_base: Fraction) -> dict[str, object]:
    values: dict[str, object] = {"frame_count": len(packets)}
    if not packets:
        return values
    in_order = sorted(packets)  # by presentation time
    values["keyframes"] = tuple(i for i, packet in enumerate(in_order) if packet[3])
    common = Counter(duration for _, duration, _, _ in packets).most_common(1)[0][0]
    if common > 0:
        values["fps"] = 1 / (time_base * common)
    end = max(pts + duration for pts, duration, _, _ in packets)
    values["video_duration"] = float((end - in_order[0][0]) * time_base)
    return values


# --- decoded frames and samples ----------------------------------------------


def decode_frames(
    ffmpeg: Path,
    path: Path,
    *,
    width: int,
    height: int,
    pix_fmt: str = "rgb24",
    select: Iterable[int] | None = None,
    decoder: str | None = None,
) -> Iterator[bytes]:
    """Raw frames of the first video stream, in order; only the ``select`` indexes when given.

    Frames are scaled to ``width``x``height`` (a no-op at the video's own size) and converted to
    ``pix_fmt`` with the colour matrix the stream is tagged with. ``decoder`` forces one (VP9's
    alpha plane needs ``libvpx-vp9``: ffmpeg's own VP9 decoder drops it).
    """
    bytes_per_pixel = {"rgb24": 3, "bgr24": 3, "gray": 1, "rgba": 4}
    if pix_fmt not in bytes_per_pixel:
        raise ValueError(f"pix_fmt {pix_fmt!r} is not one of {', '.join(bytes_per_pixel)}")
    filters = []
    if select is not None:
        wanted = sorted(set(select))
        if not wanted:
            return
        filters.append("select='" + "+".join(f"eq(n,{i})" for i in wanted) + "'")
    filters.append(f"scale={width}:{height}:flags=bicubic+accurate_rnd+full_chroma_int,format={pix_fmt}")
    argv = _ffmpeg.command(
        ffmpeg,
        *(("-c:v", decoder) if decoder else ()),
        "-i",
        str(path),
        *("-map", "0:v:0", "-vf", ",".join(filters), "-fps_mode", "passthrough"),
        *("-f", "rawvideo", "-pix_fmt", pix_fmt, "pipe:1"),
    )
    size = width * height * bytes_per_pixel[pix_fmt]
    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    stderr = _ffmpeg.LineTail(process.stderr)
    finished = False
    try:
        while True:
            frame = process.stdout.read(size)
            if len(frame) < size:
                if frame:
                    raise FfmpegFailed(f"decoding {path.name}: a partial frame of {len(frame)} bytes at the end")
                break
            yield frame
        finished = True
    finally:
        if not finished and process.poll() is None:
            process.kill()
        process.stdout.close()
        status = process.wait()
        stderr.join()
    if status != 0:
        raise FfmpegFailed(f"decoding {path.name}", status, stderr.text())


def audio_samples(ffmpeg: Path, path: Path, rate: int = 48000) -> bytes:
    """The first audio stream as mono signed 16-bit little-endian PCM at ``rate``."""
    argv = _ffmpeg.command(
        ffmpeg,
        "-i",
        str(path),
        *("-map", "0:a:0", "-ac", "1", "-ar", str(rate), "-c:a", "pcm_s16le", "-f", "s16le", "pipe:1"),
    )
    return _ffmpeg.run(argv, what=f"decoding the audio of {path.name}").stdout


def onset_time(samples: bytes, rate: int, threshold: float) -> float | None:
    """Seconds to the first sample whose magnitude reaches ``threshold`` of full scale (s16le mono)."""
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold {threshold} is outside (0, 1]")
    values = array.array("h")
    values.frombytes(samples[: len(samples) - len(samples) % 2])
    if sys.byteorder == "big":
        values.byteswap()
    limit = threshold * 32767
    for index, value in enumerate(values):
        if abs(value) >= limit:
            return index / rate
    return None
