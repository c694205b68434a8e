"""The frozen plan on disk and its hash.

A plan directory holds ``plan.json`` (composition settings, chunk table,
encoder settings, the runtime it was planned for), the composition's files
under ``project/`` and, when the composition has sound, ``audio.m4a``.

``PlanHash`` is ``v1-`` + sha256 over the sorted ``(path, sha256)`` of every
file in the directory, the canonical encoder settings and the identity of the
runtime that renders (Chromium, ffmpeg, renderer version). Verifying
recomputes it with the *current* runtime, so a worker whose binaries differ
from the planner's refuses the plan instead of rendering different pixels.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from handler.errors import InvalidPlan, PlanHashMismatch
from handler.render.ffmpeg.video import VideoClip
from handler.render.settings import FrameRate, canonical_variables

PLAN_FILE = "plan.json"
PLAN_FORMAT = "renderzip-plan/1"
PLAN_HASH_PREFIX = "v1-"
PROJECT_DIR = "project"
AUDIO_FILE = "audio.m4a"
_HASH_DOMAIN = b"renderzip plan hash v1\n"
MAX_PLAN_DOC_BYTES = 4 * 1024 * 1024
"""A plan.json is a few KiB (its chunk table has at most 1000 rows); anything past this is refused unread."""


def canonical_json(value: object) -> bytes:
    """One byte form per value: sorted keys, no spaces, ASCII only."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode()


@dataclass(frozen=True)
class PlanDoc:
    width: int
    height: int
    fps: FrameRate
    total_frames: int
    chunks: tuple[tuple[int, int], ...]
    encoder: Mapping[str, Any]
    runtime: Mapping[str, str]
    has_audio: bool
    entry: str = f"{PROJECT_DIR}/index.html"
    variables: str = "{}"  # canonical JSON of Config.Variables; written only when not empty
    videos: tuple[VideoClip, ...] = ()  # the <video> clips, in document order; written only when there are some

    @property
    def duration_ms(self) -> int:
        return self.fps.ms(self.total_frames)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": PLAN_FORMAT,
            "entry": self.entry,
            "width": self.width,
            "height": self.height,
            "fps": self.fps.to_json(),
            "total_frames": self.total_frames,
            "chunks": [list(chunk) for chunk in self.chunks],
            "encoder": dict(self.encoder),
            "runtime": dict(self.runtime),
            "audio": AUDIO_FILE if self.has_audio else None,
            # Left out when empty, so a plan without variables keeps the bytes (and hash) it always had.
            **({"variables": json.loads(self.variables)} if self.variables != "{}" else {}),
            **({"videos": [asdict(clip) for clip in self.videos]} if self.videos else {}),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PlanDoc:
        if data.get("format") != PLAN_FORMAT:
            raise InvalidPlan(f"{PLAN_FILE}: format {data.get('format')!r} is not {PLAN_FORMAT!r}")
        try:
            chunks = tuple((int(start), int(end)) for start, end in data["chunks"])
            return cls(
                width=int(data["width"]),
                height=int(data["height"]),
                fps=FrameRate.parse(data["fps"]),
                total_frames=int(data["total_frames"]),
                chunks=chunks,
                encoder=dict(data["encoder"]),
                runtime={str(k): str(v) for k, v in data["runtime"].items()},
                has_audio=data["audio"] is not None,
                entry=str(data["entry"]),
                variables=canonical_variables(data.get("variables", {})),
                videos=tuple(VideoClip(**dict(clip)) for clip in data.get("videos", [])),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise InvalidPlan(f"{PLAN_FILE} is malformed: {error!r}") from error


def write_plan_doc(plan_dir: Path, doc: PlanDoc) -> None:
    (plan_dir / PLAN_FILE).write_bytes(canonical_json(doc.to_json()) + b"\n")


def read_plan_doc(plan_dir: Path) -> PlanDoc:
    path = plan_dir / PLAN_FILE
    try:
        return PlanDoc.from_json(json.loads(path.read_bytes()))
    except FileNotFoundError:
        raise InvalidPlan(f"{plan_dir} has no {PLAN_FILE}") from None
    except json.JSONDecodeError as error:
        raise InvalidPlan(f"{path} is not JSON: {error}") from error


def _file_digests(plan_dir: Path) -> list[tuple[str, str]]:
    digests = []
    for path in sorted(plan_dir.rglob("*")):
        relative = path.relative_to(plan_dir).as_posix()
        if path.is_symlink():
            raise InvalidPlan(f"plan file {relative} is a symbolic link")
        if path.is_file():
            with path.open("rb") as handle:
                digests.append((relative, hashlib.file_digest(handle, "sha256").hexdigest()))
    return digests


def plan_hash_of(
    file_digests: Iterable[tuple[str, str]], encoder: Mapping[str, Any], runtime: Mapping[str, str]
) -> str:
    """The hash over (path, sha256) pairs, however they were read: from a directory or an archive."""
    digest = hashlib.sha256(_HASH_DOMAIN)
    for relative, file_sha in sorted(file_digests):
        digest.update(canonical_json([relative, file_sha]) + b"\n")
    digest.update(canonical_json({"encoder": dict(encoder), "runtime": dict(runtime)}))
    return PLAN_HASH_PREFIX + digest.hexdigest()


def compute_plan_hash(plan_dir: Path, encoder: Mapping[str, Any], runtime: Mapping[str, str]) -> str:
    return plan_hash_of(_file_digests(plan_dir), encoder, runtime)


def verify_plan(plan_dir: Path, expected: str, runtime: Mapping[str, str]) -> PlanDoc:
    """The plan's document, once its files and our runtime hash to ``expected``."""
    doc = read_plan_doc(plan_dir)
    actual = compute_plan_hash(plan_dir, doc.encoder, runtime)
    if actual != expected:
        raise PlanHashMismatch(f"for the plan in {plan_dir.name}", expected, actual)
    return doc
