"""Render settings chosen at plan time (the ``Config`` of a plan event)."""

from __future__ import annotations

from dataclasses import dataclass

from handler import encode


@dataclass(frozen=True)
class RenderConfig:
    chunks: int | None = None
    frames_per_chunk: int | None = None
    capture_format: str = "jpeg"
    jpeg_quality: int = 90
    crf: int | None = None
    preset: str | None = None

    def encoder_settings(self) -> encode.EncoderSettings:
        defaults = encode.EncoderSettings()
        return encode.EncoderSettings(
            capture_format=self.capture_format,
            jpeg_quality=self.jpeg_quality,
            crf=defaults.crf if self.crf is None else self.crf,
            preset=defaults.preset if self.preset is None else self.preset,
        )
