"""Test frames made without Chrome: a colour that changes with the index, and the index as a barcode.

The barcode is a row of 12 black or white blocks, big enough to survive lossy compression; it is
read back from decoded RGB frames by averaging each block's centre.
"""

from __future__ import annotations

import colorsys
import io

import numpy as np
from PIL import Image, ImageDraw

BITS = 12


def _geometry(width: int, height: int) -> tuple[int, int, int]:
    block = width // (BITS + 2)
    return block, block, min(block, height // 3)  # left margin, block width, block height


def make_frame(index: int, width: int, height: int) -> Image.Image:
    hue = (index * 0.037) % 1.0
    r, g, b = (int(c * 255) for c in colorsys.hsv_to_rgb(hue, 0.6, 0.8))
    image = Image.new("RGB", (width, height), (r, g, b))
    draw = ImageDraw.Draw(image)
    left, block, tall = _geometry(width, height)
    top = height // 2 - tall // 2
    for bit in range(BITS):
        on = (index >> (BITS - 1 - bit)) & 1
        x = left + bit * block
        draw.rectangle([x, top, x + block - 1, top + tall - 1], fill=(255, 255, 255) if on else (0, 0, 0))
    # a moving square, so the encoder has motion to predict
    x = (index * 7) % max(1, width - 40)
    draw.rectangle([x, 4, x + 31, 35], fill=(255 - r, 255 - g, 255 - b))
    return image


def encode(image: Image.Image, capture_format: str, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    if capture_format == "jpeg":
        image.save(buffer, format="JPEG", quality=quality)
    else:
        image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def frames(start: int, end: int, width: int, height: int, capture_format: str = "png") -> list[bytes]:
    return [encode(make_frame(i, width, height), capture_format) for i in range(start, end)]


def read_barcode(rgb: bytes, width: int, height: int) -> int:
    pixels = np.frombuffer(rgb, dtype=np.uint8).reshape(height, width, 3).astype(np.float64)
    left, block, tall = _geometry(width, height)
    top = height // 2 - tall // 2
    value = 0
    for bit in range(BITS):
        x = left + bit * block
        centre = pixels[top + tall // 4 : top + 3 * tall // 4, x + block // 4 : x + 3 * block // 4]
        value = (value << 1) | int(centre.mean() > 127)
    return value
