"""Transparency: a composition that paints nothing somewhere stays transparent there in webm and PNG sequences."""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path

import pytest
from PIL import Image

from handler.render.runtime import Runtime
from runner import local

pytestmark = pytest.mark.chrome

SIZE = 64


def _project(tmp_path: Path, background: str) -> Path:
    project = tmp_path / f"alpha-{background.strip('#') or 'none'}"
    project.mkdir()
    style = f"background: {background};" if background else ""
    (project / "index.html").write_text(
        f'<!doctype html><html><body style="margin:0"><div data-width="{SIZE}" data-height="{SIZE}"'
        f' data-duration="0.1" style="width:{SIZE}px;height:{SIZE}px;{style}">'
        '<div style="width:32px;height:32px;background:#f00"></div></div></body></html>',
        encoding="utf-8",
    )
    return project


def _webm_first_frame(runtime: Runtime, video: Path) -> bytes:
    # libvpx decodes VP9's alpha plane; ffmpeg's own VP9 decoder drops it.
    command = [str(runtime.ffmpeg), "-v", "error", "-c:v", "libvpx-vp9", "-i", str(video), "-frames:v", "1",
               "-pix_fmt", "rgba", "-f", "rawvideo", "pipe:1"]  # fmt: skip
    return subprocess.run(command, capture_output=True, check=True).stdout


def _alpha(rgba: bytes, x: int, y: int) -> int:
    return rgba[(y * SIZE + x) * 4 + 3]


def test_webm_keeps_transparency_where_nothing_is_painted(runtime: Runtime, tmp_path: Path) -> None:
    config = {"Format": "webm", "Capture": "png"}
    clear = local.render(_project(tmp_path, ""), tmp_path / "clear.webm", chunks=1, config=config).output
    frame = _webm_first_frame(runtime, clear)
    assert _alpha(frame, 10, 10) == 255 and _alpha(frame, 48, 48) == 0
    opaque = local.render(_project(tmp_path, "#fff"), tmp_path / "opaque.webm", chunks=1, config=config).output
    assert _alpha(_webm_first_frame(runtime, opaque), 48, 48) == 255


def test_a_png_sequence_keeps_transparency_where_nothing_is_painted(tmp_path: Path) -> None:
    config = {"Format": "png-sequence", "Capture": "png"}
    result = local.render(_project(tmp_path, ""), tmp_path / "clear.tar", chunks=1, config=config)
    with tarfile.open(result.output) as archive:
        member = archive.extractfile("000000.png")
        assert member is not None
        with Image.open(io.BytesIO(member.read())) as image:
            assert image.mode == "RGBA"
            assert image.getpixel((10, 10)) == (255, 0, 0, 255)
            assert image.getpixel((48, 48))[3] == 0  # type: ignore[index]
