"""What the comparison found, per checkpoint and per fixture."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from regression.sound import AudioCheck


@dataclass
class CheckpointResult:
    frame: int
    psnr: float | None
    """Against the baseline, in dB (infinity when identical); None without a baseline."""
    ok: bool
    oracle_actual: float | None = None
    """The output against the oracle's reference frame."""
    oracle_baseline: float | None = None
    """The baseline against the oracle's reference frame."""
    oracle_ok: bool | None = None
    """None when the oracle did not run."""
    images: dict[str, str] = field(default_factory=dict)
    """``baseline``, ``actual``, ``diff``, ``reference``: paths relative to the report directory."""


@dataclass
class FixtureResult:
    name: str
    title: str
    min_psnr_required: float
    allowed_failures: int
    oracle_floor: float
    render_seconds: float | None = None
    compare_seconds: float = 0.0
    checkpoints: list[CheckpointResult] = field(default_factory=list)
    audio: list[AudioCheck] = field(default_factory=list)
    oracle: str = "not run"
    """``ran``, or why the oracle did not run."""
    failures: list[str] = field(default_factory=list)
    """One line each, naming the fixture and the checkpoint (or clip)."""
    error: str | None = None
    frames_identical: str = "-"
    """``k/n``: frames whose hash equals the recorded one (``frames.sha256``); ``-`` without a record."""
    first_changed_frame: int | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and not self.failures

    @property
    def min_psnr(self) -> float | None:
        values = [c.psnr for c in self.checkpoints if c.psnr is not None]
        return min(values) if values else None

    @property
    def min_oracle_psnr(self) -> float | None:
        """The lowest PSNR of the output or the baseline against the oracle's reference frames."""
        values = [v for c in self.checkpoints for v in (c.oracle_actual, c.oracle_baseline) if v is not None]
        return min(values) if values else None

    @property
    def oracle_summary(self) -> str:
        """The lowest oracle PSNR when it ran, else the first word of why not (``unavailable``, ``failed``)."""
        if self.oracle == "ran" and self.min_oracle_psnr is not None:
            return f"{self.min_oracle_psnr:.2f}" if not math.isinf(self.min_oracle_psnr) else "inf"
        return self.oracle.split(":")[0]

    @property
    def failing_frames(self) -> list[int]:
        return [c.frame for c in self.checkpoints if not c.ok or c.oracle_ok is False]


def psnr_json(value: float | None) -> float | str | None:
    """JSON has no infinity: identical frames are written as the string ``"inf"``; not measured is null."""
    if value is None:
        return None
    return "inf" if math.isinf(value) else round(value, 4)
