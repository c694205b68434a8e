"""``--update-baselines``: write a fixture's baselines from a fresh render and say what changed."""

from __future__ import annotations

import io
import math
import wave
from dataclasses import dataclass
from pathlib import Path

from handler.render.framesfile import first_difference
from regression.fixtures import BASELINE_AUDIO, BASELINE_FRAMES, Fixture, frame_name
from regression.framecheck import load_manifest, read_recorded, write_recorded
from regression.frames import extract, format_psnr, psnr, read_png, write_png
from regression.sound import Samples, correlation, pcm, read_wav, write_baseline


@dataclass(frozen=True)
class Change:
    fixture: str
    item: str
    """``frame N`` or ``audio``."""
    old_vs_new: float | None
    """PSNR in dB for a frame, correlation for the audio; None when there was no old baseline."""
    changed: bool
    note: str = ""
    """Said instead of the figure, for items that have none (the frame hashes)."""

    def describe(self) -> str:
        verdict = "changed" if self.changed else "unchanged"
        if self.note:
            return f"{self.fixture}: {self.item}: {self.note}"
        if self.old_vs_new is None:
            return f"{self.fixture}: {self.item}: new"
        if self.item == "audio":
            return f"{self.fixture}: audio: correlation old/new {self.old_vs_new:.4f} ({verdict})"
        return f"{self.fixture}: {self.item}: old vs new PSNR {format_psnr(self.old_vs_new)} dB ({verdict})"


def update(fixture: Fixture, output: Path, *, ffmpeg: Path) -> list[Change]:
    """Replace ``fixture``'s baselines by the checkpoints of ``output``; stale frame files are removed."""
    frames = extract(
        ffmpeg,
        output,
        fixture.checkpoints,
        width=fixture.width,
        height=fixture.height,
        over_white=fixture.alpha is not None,
    )
    changes: list[Change] = []
    fixture.baseline_dir.mkdir(parents=True, exist_ok=True)
    for frame, pixels in frames.items():
        path = fixture.baseline_frame(frame)
        old = psnr(read_png(path), pixels) if path.is_file() else None
        write_png(pixels, path, small=True)
        changes.append(Change(fixture.name, f"frame {frame}", old, old is None or not math.isinf(old)))
    changes.append(_update_frame_hashes(fixture, output))
    wanted = {frame_name(frame) for frame in fixture.checkpoints} | {BASELINE_AUDIO, BASELINE_FRAMES}
    for stale in sorted(fixture.baseline_dir.iterdir()):
        if stale.name not in wanted:
            stale.unlink()
            changes.append(Change(fixture.name, f"removed {stale.name}", None, True))
    if fixture.audio is not None:
        previous = fixture.baseline_audio.read_bytes() if fixture.baseline_audio.is_file() else None
        write_baseline(ffmpeg, output, fixture.baseline_audio)
        value = None
        if previous is not None:
            value = correlation(_samples(previous), read_wav(fixture.baseline_audio))
        changes.append(Change(fixture.name, "audio", value, previous != fixture.baseline_audio.read_bytes()))
    return changes


def _samples(wav_bytes: bytes) -> Samples:
    with wave.open(io.BytesIO(wav_bytes), "rb") as source:
        return pcm(source.readframes(source.getnframes()))


def _update_frame_hashes(fixture: Fixture, output: Path) -> Change:
    """Record the output's frame hashes from its manifest, saying how many frames changed and where first."""
    old, new = read_recorded(fixture.baseline_frames), load_manifest(output).frames
    write_recorded(new, fixture.baseline_frames)
    if old is None:
        return Change(fixture.name, "frame hashes", None, True, note=f"new ({len(new)} frames)")
    first = first_difference(old, new)
    if first is None:
        return Change(fixture.name, "frame hashes", None, False, note=f"all {len(new)} frames unchanged")
    changed = sum(1 for a, b in zip(old, new, strict=False) if a != b) + abs(len(old) - len(new))
    return Change(
        fixture.name, "frame hashes", None, True, note=f"{changed} of {len(new)} frames changed, the first is {first}"
    )
