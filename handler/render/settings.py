"""Render settings: the one place for their defaults, allowed values and ranges.

The event parser (``Config``), the encoder's settings (hashed into the plan) and
the page's capture all read these, so a default or a limit is written once.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from handler.errors import InvalidPlan

CaptureFormat = Literal["jpeg", "png"]
CAPTURE_FORMATS: tuple[CaptureFormat, ...] = ("jpeg", "png")
DEFAULT_CAPTURE_FORMAT: CaptureFormat = "jpeg"

X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
DEFAULT_PRESET = "veryfast"

CRF_RANGE = (0, 51)
DEFAULT_CRF = 18

JPEG_QUALITY_RANGE = (1, 100)
DEFAULT_JPEG_QUALITY = 90

# Config.Variables: a JSON object the composition reads through window.__hyperframes.getVariables().
MAX_VARIABLES_BYTES = 64 * 1024  # of its canonical JSON; it travels in every plan.json


def canonical_variables(value: object) -> str:
    """The one byte form of a variables object (sorted keys, no spaces); ValueError when it is not one."""
    if not isinstance(value, dict):
        raise ValueError(f"must be a JSON object, not {type(value).__name__}")
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    size = len(text.encode())
    if size > MAX_VARIABLES_BYTES:
        raise ValueError(f"is {size} bytes as JSON; at most {MAX_VARIABLES_BYTES} are allowed")
    return text


# Browsers capturing one chunk at once; 0 chooses one per usable core (Lambda has at most 6 vCPUs).
PAGES_RANGE = (0, 16)


CODECS = ("libx264",)
PIX_FMTS = ("yuv420p",)
COLORS = ("bt709",)
ENCODER_THREADS_RANGE = (1, 16)


def in_range(value: int, bounds: tuple[int, int]) -> bool:
    return bounds[0] <= value <= bounds[1]


@dataclass(frozen=True)
class EncoderSettings:
    """How every chunk of a plan is encoded; its canonical form is part of the plan hash."""

    codec: str = "libx264"
    crf: int = DEFAULT_CRF
    preset: str = DEFAULT_PRESET
    pix_fmt: str = "yuv420p"
    color: str = "bt709"
    threads: int = 2
    capture_format: CaptureFormat = DEFAULT_CAPTURE_FORMAT
    jpeg_quality: int = DEFAULT_JPEG_QUALITY

    def __post_init__(self) -> None:
        problems = []
        if self.codec not in CODECS:
            problems.append(f"codec {self.codec!r} is not one of {', '.join(CODECS)}")
        if not in_range(self.crf, CRF_RANGE):
            problems.append(f"crf {self.crf} is outside {CRF_RANGE[0]}..{CRF_RANGE[1]}")
        if self.preset not in X264_PRESETS:
            problems.append(f"preset {self.preset!r} is not an x264 preset")
        if self.pix_fmt not in PIX_FMTS:
            problems.append(f"pix_fmt {self.pix_fmt!r} is not one of {', '.join(PIX_FMTS)}")
        if self.color not in COLORS:
            problems.append(f"color {self.color!r} is not one of {', '.join(COLORS)}")
        if not in_range(self.threads, ENCODER_THREADS_RANGE):
            low, high = ENCODER_THREADS_RANGE
            problems.append(f"threads {self.threads} is outside {low}..{high}")
        if self.capture_format not in CAPTURE_FORMATS:
            problems.append(f"capture_format {self.capture_format!r} is not jpeg or png")
        if not in_range(self.jpeg_quality, JPEG_QUALITY_RANGE):
            low, high = JPEG_QUALITY_RANGE
            problems.append(f"jpeg_quality {self.jpeg_quality} is outside {low}..{high}")
        if problems:
            raise InvalidPlan("encoder settings: " + "; ".join(problems))

    def canonical(self) -> dict[str, Any]:
        """JSON-safe and key-sorted: the form hashed into the plan."""
        return dict(sorted(asdict(self).items()))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EncoderSettings:
        """Read settings back from a plan; unknown keys and wrong types are refused."""
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise InvalidPlan(f"encoder settings: unknown key(s) {', '.join(unknown)}")
        for name, value in data.items():
            wanted = str if known[name].type in ("str", "CaptureFormat") else int
            if type(value) is not wanted:
                raise InvalidPlan(f"encoder settings: {name} must be {wanted.__name__}, not {value!r}")
        return cls(**data)


@dataclass(frozen=True)
class PlanRequest:
    """What a plan is asked for: the encoder settings and how the frames are cut into chunks.

    ``chunks`` and ``frames_per_chunk`` both None leave the cut to the planner's default.
    """

    encoder: EncoderSettings = field(default_factory=EncoderSettings)
    chunks: int | None = None
    frames_per_chunk: int | None = None
    variables: str = "{}"  # canonical JSON (`canonical_variables`): part of plan.json, so of the plan hash
