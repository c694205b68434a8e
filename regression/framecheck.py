"""The frame-hash manifest beside a fixture's output: whole, of this very output, and against the recorded hashes.

The checkpoints' PSNR decides whether a fixture passes; the recorded hashes say, beyond the
checkpoints, how many frames came out bit for bit as when the baselines were recorded and which
frame was the first to change. A manifest that is missing, lists the wrong number of frames or
belongs to other bytes is a failure: the manifest is what a user diffs two renders with.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from handler.digest import file_sha256
from handler.errors import InvalidPlan
from handler.render.framesfile import FramesManifest, first_difference, manifest_path
from regression.fixtures import Fixture


@dataclass(frozen=True)
class FramesCheck:
    frames: tuple[str, ...]
    """The output's frame hashes from its manifest; empty when it could not be read."""
    identical: int | None = None
    """Frames whose hash equals the recorded one; None without recorded hashes."""
    first_difference: int | None = None
    failures: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.identical is None:
            return "-"
        return f"{self.identical}/{len(self.frames)}"


def read_recorded(path: Path) -> tuple[str, ...] | None:
    """The hashes ``--update-baselines`` recorded, one per line; None when there are none."""
    if not path.is_file():
        return None
    return tuple(line for line in path.read_text(encoding="ascii").splitlines() if line)


def write_recorded(frames: tuple[str, ...], path: Path) -> None:
    path.write_text("".join(f"{frame}\n" for frame in frames), encoding="ascii")


def load_manifest(output: Path) -> FramesManifest:
    return FramesManifest.from_bytes(manifest_path(output).read_bytes(), where=manifest_path(output).name)


def check_frames(fixture: Fixture, output: Path) -> FramesCheck:
    where = manifest_path(output)
    if not where.is_file():
        return FramesCheck((), failures=(f"{fixture.name}: no frame manifest {where.name} beside the output",))
    try:
        manifest = load_manifest(output)
    except InvalidPlan as error:
        return FramesCheck((), failures=(f"{fixture.name}: {error}",))
    failures = []
    if len(manifest.frames) != fixture.total_frames:
        failures.append(
            f"{fixture.name}: the frame manifest lists {len(manifest.frames)} frames, the fixture has"
            f" {fixture.total_frames}"
        )
    if manifest.video_sha256 != file_sha256(output):
        failures.append(f"{fixture.name}: the frame manifest's video_sha256 is not the output's")
    recorded = read_recorded(fixture.baseline_frames)
    if recorded is None:
        return FramesCheck(manifest.frames, failures=tuple(failures))
    same = sum(1 for ours, theirs in zip(manifest.frames, recorded, strict=False) if ours == theirs)
    return FramesCheck(manifest.frames, same, first_difference(manifest.frames, recorded), tuple(failures))
