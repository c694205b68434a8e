"""Fixtures: ``tests/regression/fixtures/<name>/`` holds ``composition/``, ``fixture.toml`` and ``baseline/``.

``fixture.toml`` keys (defaults in brackets)::

    title = "what the fixture exercises"
    width = 640            # checked against the plan
    height = 360
    fps = 30               # or a rational string, "30000/1001"; the plan must agree
    duration = 3.0         # seconds
    chunks = 3             # at least 3: seams must be crossed
    checkpoints = [0, 29, 30, 59, 60, 89]   # frame indexes compared
    min_psnr = 40.0        # [40] dB against the baseline
    allowed_failures = 0   # [0] checkpoints allowed under min_psnr
    oracle_min_psnr = 30.0 # [30] dB of output and baseline against the independent reference

    [audio]                # only for fixtures with sound
    onsets = [0.4, 1.3]    # seconds: where each clip starts, in order
    onset_tolerance_ms = 15.0
    onset_threshold = 0.05 # fraction of full scale that counts as sound
    max_duration_drift_ms = 25.0
    min_correlation = 0.98 # against baseline/audio.wav
    codec = "aac"          # [none] the audio codec the container must carry

    [config]               # [none] handed to the plan event as its Config (Format, Codec, Capture, Fps, Variables)
    Format = "webm"        # the output is output.<extension of the format>

    [alpha]                # only for formats with transparency: [frame, x, y] samples of the decoded alpha
    transparent = [[0, 600, 20]]
    opaque = [[0, 20, 20]]

    warnings = ["sound"]   # [none] text each expected entry of the assemble result's Warnings contains

A fixture with [alpha] is compared as it looks over white, the way a screenshot of the
page shows it, so its baselines and the oracle's reference frames are opaque RGB too.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from handler.render.settings import OUTPUT_SUFFIXES, FrameRate
from regression.errors import FixtureError

DEFAULT_MIN_PSNR = 40.0
DEFAULT_ORACLE_MIN_PSNR = 30.0
MIN_CHUNKS = 3
FIXTURES_DIR = Path(__file__).resolve().parent.parent / "tests" / "regression" / "fixtures"
COMPOSITION = "composition"
BASELINE = "baseline"
BASELINE_AUDIO = "audio.wav"
BASELINE_FRAMES = "frames.sha256"  # the sha256 of every decoded frame, one a line, from the frame manifest
OUTPUT_NAMES = {fmt: f"output{suffix}" for fmt, suffix in OUTPUT_SUFFIXES.items()}


@dataclass(frozen=True)
class AudioSpec:
    onsets: tuple[float, ...]
    onset_tolerance_ms: float = 15.0
    onset_threshold: float = 0.05
    max_duration_drift_ms: float = 25.0
    min_correlation: float = 0.98
    codec: str | None = None


@dataclass(frozen=True)
class AlphaSpec:
    transparent: tuple[tuple[int, int, int], ...]
    """``(frame, x, y)`` samples whose decoded alpha must be 0."""
    opaque: tuple[tuple[int, int, int], ...]
    """``(frame, x, y)`` samples whose decoded alpha must be 255."""


@dataclass(frozen=True)
class Fixture:
    name: str
    root: Path
    title: str
    width: int
    height: int
    fps: FrameRate
    duration: float
    chunks: int
    checkpoints: tuple[int, ...]
    min_psnr: float = DEFAULT_MIN_PSNR
    allowed_failures: int = 0
    oracle_min_psnr: float = DEFAULT_ORACLE_MIN_PSNR
    audio: AudioSpec | None = None
    config: dict[str, Any] = field(default_factory=dict)
    alpha: AlphaSpec | None = None
    warnings: tuple[str, ...] = ()
    staged: Path | None = None
    """A copy of the composition with its Google Fonts made local (``bundler.fonts``), when it has any."""

    @property
    def output_format(self) -> str:
        return str(self.config.get("Format", "mp4"))

    @property
    def output_name(self) -> str:
        return OUTPUT_NAMES[self.output_format]

    @property
    def composition(self) -> Path:
        """What is rendered: the staged copy when there is one, else the fixture's own directory."""
        return self.staged or self.root / COMPOSITION

    @property
    def baseline_dir(self) -> Path:
        return self.root / BASELINE

    @property
    def total_frames(self) -> int:
        return self.fps.frames_in(self.duration)

    def baseline_frame(self, frame: int) -> Path:
        return self.baseline_dir / frame_name(frame)

    @property
    def baseline_audio(self) -> Path:
        return self.baseline_dir / BASELINE_AUDIO

    @property
    def baseline_frames(self) -> Path:
        return self.baseline_dir / BASELINE_FRAMES


def frame_name(frame: int) -> str:
    return f"frame-{frame:04d}.png"


def _get(table: dict[str, Any], key: str, kind: type | tuple[type, ...], name: str, default: Any = None) -> Any:
    if key not in table:
        if default is None:
            raise FixtureError(name, f"fixture.toml has no {key}")
        return default
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, kind):
        raise FixtureError(name, f"{key} = {value!r} has the wrong type")
    return value


def _audio(raw: object, name: str) -> AudioSpec | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise FixtureError(name, "[audio] must be a table")
    onsets = _get(raw, "onsets", list, name)
    if not onsets or not all(isinstance(t, int | float) and t >= 0 for t in onsets):
        raise FixtureError(name, "audio.onsets must be a non-empty list of seconds")
    return AudioSpec(
        onsets=tuple(float(t) for t in onsets),
        onset_tolerance_ms=float(_get(raw, "onset_tolerance_ms", (int, float), name, 15.0)),
        onset_threshold=float(_get(raw, "onset_threshold", (int, float), name, 0.05)),
        max_duration_drift_ms=float(_get(raw, "max_duration_drift_ms", (int, float), name, 25.0)),
        min_correlation=float(_get(raw, "min_correlation", (int, float), name, 0.98)),
        codec=str(raw["codec"]) if "codec" in raw else None,
    )


def _fps(raw: object, name: str) -> FrameRate:
    """The rate read as the handler reads ``Config.Fps``, so the fixture and the plan count frames alike."""
    try:
        return FrameRate.parse(raw)
    except ValueError as error:
        raise FixtureError(name, f"fps = {raw!r}: {error}") from None


def _samples(raw: dict[str, Any], key: str, name: str) -> tuple[tuple[int, int, int], ...]:
    samples = raw.get(key, [])
    if not isinstance(samples, list) or not all(
        isinstance(s, list) and len(s) == 3 and all(isinstance(v, int) and v >= 0 for v in s) for s in samples
    ):
        raise FixtureError(name, f"alpha.{key} must be a list of [frame, x, y]")
    return tuple((s[0], s[1], s[2]) for s in samples)


def _alpha(raw: object, name: str) -> AlphaSpec | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise FixtureError(name, "[alpha] must be a table")
    spec = AlphaSpec(_samples(raw, "transparent", name), _samples(raw, "opaque", name))
    if not spec.transparent and not spec.opaque:
        raise FixtureError(name, "[alpha] names no sample")
    return spec


def _config(raw: object, name: str) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise FixtureError(name, "[config] must be a table")
    if "Chunks" in raw:
        raise FixtureError(name, "[config] may not set Chunks: the fixture's chunks key does")
    format_ = raw.get("Format", "mp4")
    if format_ not in OUTPUT_NAMES:
        raise FixtureError(name, f"config.Format = {format_!r} is not one of {', '.join(OUTPUT_NAMES)}")
    return dict(raw)


def load_fixture(root: Path) -> Fixture:
    name = root.name
    path = root / "fixture.toml"
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise FixtureError(name, f"cannot read {path}: {error.strerror}") from error
    except tomllib.TOMLDecodeError as error:
        raise FixtureError(name, f"{path}: {error}") from error
    if not (root / COMPOSITION / "index.html").is_file():
        raise FixtureError(name, f"{root / COMPOSITION / 'index.html'} is missing")
    fixture = Fixture(
        name=name,
        root=root,
        title=str(_get(table, "title", str, name)),
        width=int(_get(table, "width", int, name)),
        height=int(_get(table, "height", int, name)),
        fps=_fps(_get(table, "fps", (int, str), name), name),
        duration=float(_get(table, "duration", (int, float), name)),
        chunks=int(_get(table, "chunks", int, name)),
        checkpoints=tuple(int(f) for f in _get(table, "checkpoints", list, name)),
        min_psnr=float(_get(table, "min_psnr", (int, float), name, DEFAULT_MIN_PSNR)),
        allowed_failures=int(_get(table, "allowed_failures", int, name, 0)),
        oracle_min_psnr=float(_get(table, "oracle_min_psnr", (int, float), name, DEFAULT_ORACLE_MIN_PSNR)),
        audio=_audio(table.get("audio"), name),
        config=_config(table.get("config"), name),
        alpha=_alpha(table.get("alpha"), name),
        warnings=tuple(str(w) for w in _get(table, "warnings", list, name, [])),
    )
    if fixture.chunks < MIN_CHUNKS:
        raise FixtureError(name, f"chunks = {fixture.chunks}: at least {MIN_CHUNKS}, so seams are crossed")
    bad = [f for f in fixture.checkpoints if not 0 <= f < fixture.total_frames]
    if not fixture.checkpoints or bad or len(set(fixture.checkpoints)) != len(fixture.checkpoints):
        raise FixtureError(name, f"checkpoints must be distinct frames in [0, {fixture.total_frames}), got {bad}")
    return fixture


def discover(fixtures_dir: Path = FIXTURES_DIR, only: Sequence[str] = ()) -> list[Fixture]:
    """Every fixture under ``fixtures_dir`` in name order, or those named in ``only``."""
    available = {path.name: path for path in sorted(fixtures_dir.iterdir()) if (path / "fixture.toml").is_file()}
    unknown = [name for name in only if name not in available]
    if unknown:
        known = ", ".join(available) or "none"
        raise FixtureError(unknown[0], f"no such fixture under {fixtures_dir} (known: {known})")
    return [load_fixture(available[name]) for name in (only or list(available))]
