"""Mix a composition's audio clips, once, into ``audio.m4a``: 48 kHz stereo AAC, exactly the video's length.

Every clip is cut from its source (``media_start``, ``duration``), scaled by its volume and
delayed to its start. The clips are summed onto a silent bed of the composition's length: the
bed sets the output's length, and the sum is a plain sum, whatever the number of clips
(``amix`` with ``normalize=0``).
"""

from __future__ import annotations

import math
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from handler.render.composition import AudioClip
from handler.render.ffmpeg import tool as _ffmpeg

SAMPLE_RATE = 48000
CHANNELS = 2
BITRATE = "192k"
# A mono source plays at full level on both sides, as a browser plays it; ffmpeg's own
# conversion would put it 3 dB lower. Other layouts take ffmpeg's standard down-mix.
_UPMIX = "pan=stereo|c0=c0|c1=c0,"


@dataclass(frozen=True)
class AudioResult:
    path: Path
    duration: float
    sample_rate: int


def _samples(seconds: float) -> int:
    return round(seconds * SAMPLE_RATE)


def _is_mono(ffmpeg: Path, src: Path) -> bool:
    """Whether the first audio stream of ``src`` is mono, from ffmpeg's description of its input."""
    argv = _ffmpeg.command(ffmpeg, "-i", str(src), loglevel="info")
    result = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, check=False)
    described = re.search(r"Stream #\d+:\d+\S*: Audio: (.*)", result.stderr.decode("utf-8", "replace"))
    return described is not None and "mono" in (part.strip() for part in described.group(1).split(","))


def _clip_chain(index: int, clip: AudioClip, mono: bool) -> str:
    """The filter chain of clip ``index``: ffmpeg input ``index``, output label ``c<index>``."""
    trim = f"atrim=start={clip.media_start:.6f}"
    if clip.duration is not None:
        trim += f":duration={clip.duration:.6f}"
    return (
        f"[{index}:a:0]{trim},asetpts=PTS-STARTPTS,"
        f"aresample={SAMPLE_RATE},{_UPMIX if mono else ''}aformat=sample_fmts=fltp:channel_layouts=stereo,"
        f"volume=volume={clip.volume:.6f}:precision=float,"
        f"adelay=delays={_samples(clip.start)}S:all=1[c{index}]"
    )


def filter_graph(clips: list[AudioClip], duration: float, mono: list[bool] | None = None) -> str:
    total = _samples(duration)
    chains = [
        f"anullsrc=r={SAMPLE_RATE}:cl=stereo,atrim=end_sample={total},aformat=sample_fmts=fltp[bed]",
        *(_clip_chain(i, clip, bool(mono and mono[i])) for i, clip in enumerate(clips)),
    ]
    labels = "[bed]" + "".join(f"[c{i}]" for i in range(len(clips)))
    mix = f"{labels}amix=inputs={len(clips) + 1}:duration=first:dropout_transition=0:normalize=0[mix]"
    return ";".join([*chains, mix])


def mix_audio(ffmpeg: Path, clips: list[AudioClip], duration: float, out: Path) -> AudioResult:
    """Write the mix of ``clips`` to ``out`` (MP4/AAC), ``duration`` seconds long.

    A composition without clips has no audio stream at all: the caller skips this step, so an
    empty ``clips`` is refused rather than turned into silence.
    """
    if not clips:
        raise ValueError("mix_audio needs at least one clip; a composition without audio gets no audio stream")
    if not math.isfinite(duration) or duration <= 0:
        raise ValueError(f"duration must be a finite number > 0, not {duration}")
    inputs: list[str] = []
    for clip in clips:
        inputs += ["-i", str(clip.src)]
    args = (
        *inputs,
        "-filter_complex",
        filter_graph(clips, duration, [_is_mono(ffmpeg, clip.src) for clip in clips]),
        "-map",
        "[mix]",
        "-c:a",
        "aac",
        "-b:a",
        BITRATE,
        "-ar",
        str(SAMPLE_RATE),
        "-ac",
        str(CHANNELS),
    )
    _ffmpeg.write_mp4(ffmpeg, args, out, what=f"mixing {len(clips)} audio clip(s) into {out.name}")
    return AudioResult(out, _samples(duration) / SAMPLE_RATE, SAMPLE_RATE)
