"""Render settings: the one place for their defaults, allowed values and ranges.

The event parser (``Config``), the encoder's settings (hashed into the plan) and
the page's capture all read these, so a default or a limit is written once.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from fractions import Fraction
from typing import Any, Literal

from handler.errors import InvalidPlan

CaptureFormat = Literal["jpeg", "png"]
CAPTURE_FORMATS: tuple[CaptureFormat, ...] = ("jpeg", "png")
DEFAULT_CAPTURE_FORMAT: CaptureFormat = "jpeg"

# The output: a container and, inside it, a codec. Config.Format names the container, Config.Codec the codec.
OUTPUT_FORMATS = ("mp4", "webm", "mov", "gif", "png-sequence")
# The file name suffix of each output: a PNG sequence is one tar archive of PNGs.
OUTPUT_SUFFIXES = {"mp4": ".mp4", "webm": ".webm", "mov": ".mov", "gif": ".gif", "png-sequence": ".tar"}
WEBM_CODEC = "libvpx-vp9"
MOV_CODEC = "prores_ks"  # ProRes 4444: intra-only, 10-bit 4:4:4, with an alpha channel
# Outputs that keep transparency when frames are captured as PNG: the page background is then
# left transparent, and what the composition leaves unpainted stays so.
ALPHA_FORMATS = ("webm", "mov", "png-sequence")
# Formats that are not a stream of chunks joined as they are: their chunks are lossless FFV1, and
# assemble makes the output from all of them at once (one GIF palette; one archive of PNGs).
ASSEMBLED_FORMATS = ("gif", "png-sequence")
INTERMEDIATE_CODEC = "ffv1"
DEFAULT_OUTPUT_FORMAT = "mp4"
CODECS_BY_NAME = {"h264": "libx264", "h265": "libx265"}  # Config.Codec -> the ffmpeg encoder
DEFAULT_CODEC = "h264"

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


FPS_RANGE = (1, 120)  # frames per second, whole or not
# Video's NTSC rates are N * 1000/1001: 29.97 means 30000/1001, not 2997/100.
_NTSC_BASES = (24, 30, 48, 60, 120)


@dataclass(frozen=True)
class FrameRate:
    """Frames per second as an exact fraction: frame i shows t = i * den / num seconds."""

    num: int
    den: int = 1

    def __post_init__(self) -> None:
        if self.num < 1 or self.den < 1 or math.gcd(self.num, self.den) != 1:
            raise ValueError(f"{self.num}/{self.den} is not a reduced positive fraction")
        if not FPS_RANGE[0] <= self.num / self.den <= FPS_RANGE[1]:
            raise ValueError(f"{self.text} is outside {FPS_RANGE[0]}..{FPS_RANGE[1]} frames per second")

    @classmethod
    def parse(cls, value: object) -> FrameRate:
        """30, 29.97, "25", "29.97" or "30000/1001"; ValueError saying why for anything else."""
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError(f"must be a number or a fraction like 30000/1001, not {type(value).__name__}")
        text = str(value).strip()
        try:
            exact = Fraction(text)
        except (ValueError, ZeroDivisionError):
            raise ValueError(f"{text!r} is not a number or a fraction like 30000/1001") from None
        if exact <= 0:
            raise ValueError(f"{text} frames per second is not positive")
        if exact.denominator != 1 and "/" not in text:
            for base in _NTSC_BASES:
                if abs(exact - Fraction(base * 1000, 1001)) < Fraction(1, 1000):
                    exact = Fraction(base * 1000, 1001)
                    break
            else:
                if exact.limit_denominator(1001) != exact:
                    raise ValueError(
                        f"{text} is not a whole rate or an NTSC one; give it as a fraction like 30000/1001"
                    )
        return cls(exact.numerator, exact.denominator)

    @property
    def text(self) -> str:
        return str(self.num) if self.den == 1 else f"{self.num}/{self.den}"

    def to_json(self) -> int | str:
        """A whole rate stays a number, so plans and results without a fractional rate read as before."""
        return self.num if self.den == 1 else self.text

    def __float__(self) -> float:
        return self.num / self.den

    def seconds(self, frames: int) -> float:
        return frames * self.den / self.num

    def ms(self, frames: int) -> int:
        return round(Fraction(frames * 1000 * self.den, self.num))

    def frames_in(self, seconds: float) -> int:
        """Frames shown for ``seconds``: frame i covers [i/fps, (i+1)/fps)."""
        # A tolerance keeps 2.0 s at 30 fps at 60 frames despite float error.
        return max(1, math.ceil(seconds * self.num / self.den - 1e-6))


CODECS = (*CODECS_BY_NAME.values(), WEBM_CODEC, MOV_CODEC, INTERMEDIATE_CODEC)
PIX_FMTS = ("yuv420p", "rgb24", "yuva420p", "rgba", "yuv444p10le", "yuva444p10le")
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
    output: str = DEFAULT_OUTPUT_FORMAT

    @classmethod
    def for_output(cls, output: str, codec: str, **given: Any) -> EncoderSettings:
        """The settings of a chunk of ``output``: the codec itself, or the lossless intermediate."""
        alpha = output in ALPHA_FORMATS and given.get("capture_format") == "png"
        if output in ASSEMBLED_FORMATS:
            return cls(codec=INTERMEDIATE_CODEC, pix_fmt="rgba" if alpha else "rgb24", output=output, **given)
        if output == "webm":
            return cls(codec=WEBM_CODEC, pix_fmt="yuva420p" if alpha else "yuv420p", output=output, **given)
        if output == "mov":
            return cls(codec=MOV_CODEC, pix_fmt="yuva444p10le" if alpha else "yuv444p10le", output=output, **given)
        return cls(codec=CODECS_BY_NAME[codec], output=output, **given)

    def __post_init__(self) -> None:
        problems = []
        if self.output not in OUTPUT_FORMATS:
            problems.append(f"output {self.output!r} is not one of {', '.join(OUTPUT_FORMATS)}")
        if (
            (self.codec == INTERMEDIATE_CODEC) != (self.output in ASSEMBLED_FORMATS)
            or ((self.codec == WEBM_CODEC) != (self.output == "webm"))
            or ((self.codec == MOV_CODEC) != (self.output == "mov"))
        ):
            problems.append(f"codec {self.codec!r} does not go with output {self.output!r}")
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

    @property
    def alpha(self) -> bool:
        """Whether frames keep their transparency: the page is captured over a transparent background."""
        return self.pix_fmt in ("yuva420p", "rgba", "yuva444p10le")

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
    fps: FrameRate | None = None  # Config.Fps: overrides the root's data-fps
    variables: str = "{}"  # canonical JSON (`canonical_variables`): part of plan.json, so of the plan hash
