"""Audio mix and assembly against the packaged ffmpeg: seamless joins, audio placement and length."""

from __future__ import annotations

import hashlib
import itertools
import math
import subprocess
from array import array
from pathlib import Path

import pytest

from handler.render.composition import AudioClip
from handler.render.ffmpeg.audio import mix_audio
from handler.render.ffmpeg.encode import ChunkEncoder
from handler.render.ffmpeg.mux import concat_chunks
from handler.render.settings import EncoderSettings
from tests.integration.frames import frames, read_barcode
from tooling.media import audio_samples, decode_frames, inspect, onset_time

pytestmark = pytest.mark.ffmpeg

W, H, FPS = 320, 240, 30
FRAME = 1 / FPS
BOUNDS = [0, 7, 17, 18, 45]  # four uneven chunks, one of a single frame


def encode(ffmpeg: Path, out: Path, start: int, end: int, capture_format: str = "jpeg") -> Path:
    settings = EncoderSettings(capture_format=capture_format)  # type: ignore[arg-type]
    with ChunkEncoder(ffmpeg, out, width=W, height=H, fps=FPS, frame_count=end - start, settings=settings) as enc:
        for image in frames(start, end, W, H, capture_format):
            enc.write(image)
    return out


def chunks(ffmpeg: Path, where: Path, bounds: list[int] = BOUNDS) -> list[Path]:
    return [encode(ffmpeg, where / f"{i:04d}.mp4", a, b) for i, (a, b) in enumerate(itertools.pairwise(bounds))]


def tone(ffmpeg: Path, out: Path, seconds: float, *, silence_first: float = 0.0) -> Path:
    graph = f"sine=frequency=440:sample_rate=48000:duration={seconds}"
    if silence_first:
        graph += f",adelay={int(silence_first * 1000)}"
    subprocess.run([str(ffmpeg), "-v", "error", "-f", "lavfi", "-i", graph, "-y", str(out)], check=True)
    return out


def rms(pcm: bytes, start: float, end: float, rate: int = 48000) -> float:
    values = array("h")
    values.frombytes(pcm)
    window = values[int(start * rate) : int(end * rate)]
    return math.sqrt(sum(v * v for v in window) / len(window))


def test_uneven_chunks_join_without_a_seam(ffmpeg: Path, tmp_path: Path) -> None:
    parts = chunks(ffmpeg, tmp_path)
    out = tmp_path / "out.mp4"
    concat_chunks(ffmpeg, parts, out, audio=None, scratch=tmp_path)

    info = inspect(ffmpeg, out)
    assert info.frame_count == BOUNDS[-1]
    assert info.keyframes == tuple(BOUNDS[:-1])
    assert info.video_duration == pytest.approx(BOUNDS[-1] / FPS)
    assert info.audio_codec is None, "no clips, no audio stream"

    joined = list(decode_frames(ffmpeg, out, width=W, height=H))
    assert [read_barcode(f, W, H) for f in joined] == list(range(BOUNDS[-1]))
    alone = [f for part in parts for f in decode_frames(ffmpeg, part, width=W, height=H)]
    assert len(alone) == len(joined)
    different = [i for i, (a, b) in enumerate(zip(joined, alone, strict=True)) if a != b]
    assert different == [], "the joined video decodes to exactly the chunks' frames"

    whole = encode(ffmpeg, tmp_path / "whole.mp4", 0, BOUNDS[-1])
    single = [read_barcode(f, W, H) for f in decode_frames(ffmpeg, whole, width=W, height=H)]
    assert single == list(range(BOUNDS[-1]))


def test_decode_frames_selects_indexes(ffmpeg: Path, tmp_path: Path) -> None:
    out = encode(ffmpeg, tmp_path / "c.mp4", 0, 12)
    picked = [read_barcode(f, W, H) for f in decode_frames(ffmpeg, out, width=W, height=H, select=[11, 0, 5])]
    assert picked == [0, 5, 11]


def test_audio_starts_on_time_and_lasts_as_long_as_the_video(ffmpeg: Path, tmp_path: Path) -> None:
    bounds = [0, 20, 45, 60]
    parts = chunks(ffmpeg, tmp_path, bounds)
    duration = bounds[-1] / FPS
    mix = mix_audio(
        ffmpeg, [AudioClip(tone(ffmpeg, tmp_path / "tone.wav", 3.0), start=1.0)], duration, tmp_path / "a.m4a"
    )
    assert (mix.duration, mix.sample_rate) == (duration, 48000)
    out = tmp_path / "out.mp4"
    concat_chunks(ffmpeg, parts, out, audio=mix.path, scratch=tmp_path)

    info = inspect(ffmpeg, out)
    assert (info.audio_codec, info.sample_rate, info.channels) == ("aac", 48000, 2)
    assert info.frame_count == 60
    assert info.audio_duration is not None and info.video_duration is not None
    assert abs(info.audio_duration - info.video_duration) <= FRAME
    onset = onset_time(audio_samples(ffmpeg, out), 48000, 0.02)
    assert onset is not None and abs(onset - 1.0) <= FRAME


def test_volume_scales_the_amplitude(ffmpeg: Path, tmp_path: Path) -> None:
    source = tone(ffmpeg, tmp_path / "tone.wav", 2.0)
    loudness = []
    for volume in (1.0, 0.5):
        mix = mix_audio(ffmpeg, [AudioClip(source, volume=volume)], 1.0, tmp_path / f"v{volume}.m4a")
        loudness.append(rms(audio_samples(ffmpeg, mix.path), 0.2, 0.8))
    assert loudness[1] / loudness[0] == pytest.approx(0.5, rel=0.03)


def test_media_start_skips_into_the_source(ffmpeg: Path, tmp_path: Path) -> None:
    source = tone(ffmpeg, tmp_path / "late.wav", 2.0, silence_first=0.5)  # sound from 0.5 s
    plain = mix_audio(ffmpeg, [AudioClip(source, start=0.2)], 2.0, tmp_path / "plain.m4a")
    skipped = mix_audio(ffmpeg, [AudioClip(source, start=0.2, media_start=0.5)], 2.0, tmp_path / "skip.m4a")
    assert onset_time(audio_samples(ffmpeg, plain.path), 48000, 0.02) == pytest.approx(0.7, abs=FRAME)
    assert onset_time(audio_samples(ffmpeg, skipped.path), 48000, 0.02) == pytest.approx(0.2, abs=FRAME)


def test_clip_duration_cuts_the_clip_and_long_clips_stop_at_the_end(ffmpeg: Path, tmp_path: Path) -> None:
    source = tone(ffmpeg, tmp_path / "long.wav", 10.0)
    mix = mix_audio(ffmpeg, [AudioClip(source, start=0.1, duration=0.5)], 1.5, tmp_path / "cut.m4a")
    pcm = audio_samples(ffmpeg, mix.path)
    assert rms(pcm, 0.2, 0.5) > 1000
    assert rms(pcm, 0.7, 1.4) < 30, "silence after the clip's 0.5 s"

    longer = mix_audio(ffmpeg, [AudioClip(source)], 1.5, tmp_path / "long.m4a")
    info = inspect(ffmpeg, longer.path)
    assert info.audio_duration is not None and abs(info.audio_duration - 1.5) <= FRAME


def test_two_mixes_are_byte_identical_and_clips_add_up(ffmpeg: Path, tmp_path: Path) -> None:
    source = tone(ffmpeg, tmp_path / "tone.wav", 1.0)
    clips = [AudioClip(source, start=0.0), AudioClip(source, start=0.5, volume=0.5)]
    digests = [
        hashlib.sha256(mix_audio(ffmpeg, clips, 2.0, tmp_path / f"m{i}.m4a").path.read_bytes()).hexdigest()
        for i in range(2)
    ]
    assert digests[0] == digests[1]
    pcm = audio_samples(ffmpeg, tmp_path / "m0.m4a")
    alone = rms(audio_samples(ffmpeg, source), 0.1, 0.4)
    # A plain sum: amix would divide by its three inputs (bed and two clips) if it normalised.
    assert rms(pcm, 0.1, 0.4) == pytest.approx(alone, rel=0.03)
    assert rms(pcm, 1.1, 1.4) == pytest.approx(alone * 0.5, rel=0.03)


def test_mix_without_clips_is_refused(ffmpeg: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one clip"):
        mix_audio(ffmpeg, [], 1.0, tmp_path / "a.m4a")
