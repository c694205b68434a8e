"""Audio checks: duration drift, the onset of every clip, and correlation with the baseline audio."""

from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from regression.fixtures import AudioSpec
from tooling.media import audio_samples, inspect, onset_time

ANALYSIS_RATE = 48000  # onsets: the mix's own rate, 21 us per sample
BASELINE_RATE = 8000  # baseline/audio.wav: mono 16-bit, small enough to commit
ONSET_WINDOW_S = 0.2  # an onset is searched this far either side of where it is expected


@dataclass(frozen=True)
class AudioCheck:
    name: str
    """``duration``, ``clip N onset`` or ``correlation``: what a failure names."""
    value: float | None
    limit: float
    ok: bool
    detail: str


Samples = npt.NDArray[np.float64]


def pcm(samples: bytes) -> Samples:
    return np.frombuffer(samples[: len(samples) - len(samples) % 2], dtype="<i2").astype(np.float64)


def read_wav(path: Path) -> npt.NDArray[np.float64]:
    with wave.open(str(path), "rb") as source:
        if source.getnchannels() != 1 or source.getsampwidth() != 2:
            raise ValueError(f"{path}: expected mono 16-bit audio")
        return pcm(source.readframes(source.getnframes()))


def write_baseline(ffmpeg: Path, video: Path, path: Path) -> None:
    samples = audio_samples(ffmpeg, video, rate=BASELINE_RATE)
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as sink:
        sink.setnchannels(1)
        sink.setsampwidth(2)
        sink.setframerate(BASELINE_RATE)
        sink.writeframes(samples)


def correlation(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> float:
    """Pearson correlation at zero lag over the common length; 0 when either side is silent."""
    n = min(len(a), len(b))
    x, y = a[:n] - a[:n].mean(), b[:n] - b[:n].mean()
    norm = float(np.sqrt(np.sum(x * x) * np.sum(y * y)))
    return float(np.sum(x * y) / norm) if norm > 0 else 0.0


def check_audio(ffmpeg: Path, video: Path, spec: AudioSpec, *, duration: float, baseline: Path) -> list[AudioCheck]:
    checks: list[AudioCheck] = []
    info = inspect(ffmpeg, video)
    if info.audio_duration is None:
        return [AudioCheck("audio stream", None, 0.0, False, "the output has no audio stream")]
    drift_ms = (info.audio_duration - duration) * 1000.0
    checks.append(
        AudioCheck(
            "duration",
            drift_ms,
            spec.max_duration_drift_ms,
            abs(drift_ms) <= spec.max_duration_drift_ms,
            f"{info.audio_duration:.3f} s of audio for {duration:.3f} s of video ({drift_ms:+.1f} ms)",
        )
    )
    samples = audio_samples(ffmpeg, video, rate=ANALYSIS_RATE)
    for number, expected in enumerate(spec.onsets, start=1):
        start = max(0, round((expected - ONSET_WINDOW_S) * ANALYSIS_RATE))
        end = round((expected + ONSET_WINDOW_S) * ANALYSIS_RATE)
        found = onset_time(samples[start * 2 : end * 2], ANALYSIS_RATE, spec.onset_threshold)
        name = f"clip {number} onset"
        if found is None:
            detail = f"expected at {expected:.3f} s: no sound within {ONSET_WINDOW_S * 1000:.0f} ms of it"
            checks.append(AudioCheck(name, None, spec.onset_tolerance_ms, False, detail))
            continue
        at = start / ANALYSIS_RATE + found
        error_ms = (at - expected) * 1000.0
        checks.append(
            AudioCheck(
                name,
                error_ms,
                spec.onset_tolerance_ms,
                abs(error_ms) <= spec.onset_tolerance_ms,
                f"expected at {expected:.3f} s, heard at {at:.4f} s ({error_ms:+.1f} ms)",
            )
        )
    if not baseline.is_file():
        checks.append(
            AudioCheck("correlation", None, spec.min_correlation, False, f"no baseline audio {baseline.name}")
        )
        return checks
    actual = pcm(audio_samples(ffmpeg, video, rate=BASELINE_RATE))
    value = correlation(actual, read_wav(baseline))
    checks.append(
        AudioCheck(
            "correlation",
            value,
            spec.min_correlation,
            value >= spec.min_correlation,
            f"{value:.4f} with {baseline.name} (at least {spec.min_correlation})",
        )
    )
    return checks
