"""Frames as arrays: checkpoints decoded from a video, PNGs read and written, PSNR and the difference heatmap."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image

from regression.errors import ComparisonFailed
from tooling.media import decode_frames

Frame = npt.NDArray[np.uint8]
"""height x width x 3, RGB."""

HEATMAP_GAIN = 8
"""A difference of 32 levels (of 255) already shows at full heat."""


def psnr(a: Frame, b: Frame) -> float:
    """Peak signal-to-noise ratio in dB over every RGB sample; identical frames give infinity."""
    if a.shape != b.shape:
        raise ComparisonFailed(f"frames of different shapes: {a.shape} and {b.shape}")
    difference = a.astype(np.float64) - b.astype(np.float64)
    mse = float(np.mean(difference * difference))
    if mse == 0.0:
        return math.inf
    return 10.0 * math.log10(255.0 * 255.0 / mse)


def extract(ffmpeg: Path, video: Path, frames: Sequence[int], *, width: int, height: int) -> dict[int, Frame]:
    """The frames ``frames`` of ``video`` (decoded with the packaged ffmpeg) by index."""
    wanted = sorted(set(frames))
    decoded = [
        np.frombuffer(raw, dtype=np.uint8).reshape(height, width, 3)
        for raw in decode_frames(ffmpeg, video, width=width, height=height, select=wanted)
    ]
    if len(decoded) != len(wanted):
        missing = wanted[len(decoded) :]
        raise ComparisonFailed(f"{video.name} has no frame {missing[0]} (decoded {len(decoded)} of {len(wanted)})")
    return dict(zip(wanted, decoded, strict=True))


def read_png(path: Path) -> Frame:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()


def write_png(frame: Frame, path: Path, *, small: bool = False) -> None:
    """A lossless PNG without metadata (the same pixels give the same bytes); ``small`` spends time to save bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    options = {"optimize": True} if small else {"compress_level": 1}
    Image.fromarray(frame, "RGB").save(path, format="PNG", **options)


def heatmap(a: Frame, b: Frame, gain: int = HEATMAP_GAIN) -> Frame:
    """The largest per-channel difference, amplified: red, yellow, then white; a dimmed grey ``b`` where equal."""
    difference = np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=2).astype(np.float64)
    heat = np.clip(difference * gain / 255.0, 0.0, 1.0)
    grey = 40.0 + b.astype(np.float64).mean(axis=2) * 0.3  # context: the baseline, dimmed, never black
    red = np.clip(heat * 3.0, 0.0, 1.0)
    green = np.clip(heat * 3.0 - 1.0, 0.0, 1.0)
    blue = np.clip(heat * 3.0 - 2.0, 0.0, 1.0)
    out = np.stack([red, green, blue], axis=2) * 255.0
    out = np.where(heat[..., None] > 0, out, grey[..., None])
    return np.clip(out, 0, 255).astype(np.uint8)


def format_psnr(value: float | None) -> str:
    if value is None:
        return "-"
    return "inf" if math.isinf(value) else f"{value:.2f}"
