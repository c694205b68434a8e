"""Render settings: the one place for their defaults, allowed values and ranges.

The event parser (``Config``), the encoder's settings (hashed into the plan) and
the page's capture all read these, so a default or a limit is written once.
"""

from __future__ import annotations

from typing import Literal

CaptureFormat = Literal["jpeg", "png"]
CAPTURE_FORMATS: tuple[CaptureFormat, ...] = ("jpeg", "png")
DEFAULT_CAPTURE_FORMAT: CaptureFormat = "jpeg"

X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
DEFAULT_PRESET = "veryfast"

CRF_RANGE = (0, 51)
DEFAULT_CRF = 18

JPEG_QUALITY_RANGE = (1, 100)
DEFAULT_JPEG_QUALITY = 90

# Browsers capturing one chunk at once; 0 chooses one per usable core (Lambda has at most 6 vCPUs).
PAGES_RANGE = (0, 16)


def in_range(value: int, bounds: tuple[int, int]) -> bool:
    return bounds[0] <= value <= bounds[1]
