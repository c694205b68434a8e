"""The pinned Chromium, prepared from the built zip, and helpers to read captured frames."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from handler.browser import Browser
from handler.errors import RuntimeUnavailable
from handler.runtime import Runtime, prepare
from tests.conftest import in_ci

ROOT = Path(__file__).resolve().parents[2]
COMPOSITIONS = ROOT / "tests" / "compositions"
BUILT_ZIP = ROOT / "dist" / "handler.zip"


def _unavailable(message: str) -> None:
    if in_ci():
        pytest.fail(f"{message}; CI must provide it (see .ci/run)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def runtime() -> Runtime:
    """Chromium and ffmpeg decoded from dist/handler.zip, built from the lockfiles if missing."""
    if not BUILT_ZIP.is_file():
        result = subprocess.run(
            [sys.executable, "-m", "bundler", "build", "-o", str(BUILT_ZIP)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            timeout=1800,
        )
        if result.returncode != 0:
            _unavailable(f"cannot build {BUILT_ZIP}: {result.stderr.strip()[-2000:]}")
    try:
        return prepare(BUILT_ZIP)
    except RuntimeUnavailable as error:
        _unavailable(str(error))
        raise


@pytest.fixture
def browser(runtime: Runtime) -> Iterator[Browser]:
    with Browser.launch(runtime) as launched:
        yield launched


def composition(name: str) -> Path:
    return COMPOSITIONS / name


def decode(png: bytes) -> Image.Image:
    assert png.startswith(b"\x89PNG\r\n\x1a\n"), "not a PNG"
    return Image.open(io.BytesIO(png)).convert("RGB")


def dark(image: Image.Image, x: int, y: int) -> bool:
    red, green, blue = image.getpixel((x, y))
    return red + green + blue < 3 * 128


def read_barcode(png: bytes) -> int:
    """16 blocks of 20 px, most significant bit first, black is 1."""
    image = decode(png)
    value = 0
    for bit in range(16):
        value = (value << 1) | int(dark(image, bit * 20 + 10, 20))
    return value
