"""Frames as arrays: checkpoints decoded from a video, PNGs read and written, PSNR and the difference heatmap."""

from __future__ import annotations

import io
import math
import tarfile
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


RGBA = npt.NDArray[np.uint8]
"""height x width x 4, straight (not premultiplied) alpha."""

SEQUENCE_SUFFIX = ".tar"
"""A PNG sequence: a tar of ``000000.png``, ``000001.png``, ..."""


def extract(
    ffmpeg: Path, video: Path, frames: Sequence[int], *, width: int, height: int, over_white: bool = False
) -> dict[int, Frame]:
    """The frames ``frames`` of ``video`` (decoded with the packaged ffmpeg) by index, as RGB.

    ``over_white`` composites a transparent output over white, the way a screenshot of the page
    shows it; otherwise the colour under the alpha is taken as it is.
    """
    if over_white:
        rgba_frames = extract_rgba(ffmpeg, video, frames, width=width, height=height)
        return {index: composite_over_white(rgba) for index, rgba in rgba_frames.items()}
    wanted = sorted(set(frames))
    if video.suffix == SEQUENCE_SUFFIX:
        return {index: rgba[..., :3].copy() for index, rgba in _sequence_frames(video, wanted).items()}
    decoded = [
        np.frombuffer(raw, dtype=np.uint8).reshape(height, width, 3)
        for raw in decode_frames(ffmpeg, video, width=width, height=height, select=wanted)
    ]
    _check_count(video, wanted, len(decoded))
    return dict(zip(wanted, decoded, strict=True))


def extract_rgba(ffmpeg: Path, video: Path, frames: Sequence[int], *, width: int, height: int) -> dict[int, RGBA]:
    """The frames ``frames`` of a webm, mov or PNG sequence with its alpha plane."""
    wanted = sorted(set(frames))
    if video.suffix == SEQUENCE_SUFFIX:
        return _sequence_frames(video, wanted)
    # The outputs' webm is VP9, whose alpha plane only libvpx decodes: ffmpeg's own decoder drops it.
    decoder = "libvpx-vp9" if video.suffix == ".webm" else None
    decoded = [
        np.frombuffer(raw, dtype=np.uint8).reshape(height, width, 4)
        for raw in decode_frames(
            ffmpeg, video, width=width, height=height, pix_fmt="rgba", select=wanted, decoder=decoder
        )
    ]
    _check_count(video, wanted, len(decoded))
    return dict(zip(wanted, decoded, strict=True))


def composite_over_white(rgba: RGBA) -> Frame:
    alpha = rgba[..., 3:4].astype(np.float64) / 255.0
    mixed = rgba[..., :3].astype(np.float64) * alpha + 255.0 * (1.0 - alpha)
    return np.clip(np.rint(mixed), 0, 255).astype(np.uint8)


def _sequence_frames(archive: Path, wanted: Sequence[int]) -> dict[int, RGBA]:
    frames: dict[int, RGBA] = {}
    with tarfile.open(archive) as tar:
        for index in wanted:
            try:
                member = tar.extractfile(f"{index:06d}.png")
            except KeyError:
                member = None
            if member is None:
                raise ComparisonFailed(f"{archive.name} has no frame {index:06d}.png")
            with Image.open(io.BytesIO(member.read())) as image:
                frames[index] = np.asarray(image.convert("RGBA"), dtype=np.uint8).copy()
    return frames


def _check_count(video: Path, wanted: Sequence[int], decoded: int) -> None:
    if decoded != len(wanted):
        raise ComparisonFailed(f"{video.name} has no frame {wanted[decoded]} (decoded {decoded} of {len(wanted)})")


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
