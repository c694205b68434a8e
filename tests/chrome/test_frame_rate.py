"""Fractional frame rates: Config.Fps over data-fps, exact in the chunk table, the clock and the video."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from handler.edge.events import RenderConfig
from handler.render.runtime import Runtime
from handler.render.settings import FrameRate
from tests.integration.conftest import barcode_values
from tooling import media

from .conftest import composition
from .test_engine import render

pytestmark = pytest.mark.chrome

NTSC = FrameRate(30000, 1001)


def _ntsc_barcode(tmp_path: Path, data_fps: str) -> Path:
    """The barcode composition painting round(t * 30000/1001): the frame index at 29.97 frames a second."""
    project = tmp_path / "ntsc-barcode"
    project.mkdir()
    html = (composition("barcode") / "index.html").read_text(encoding="utf-8")
    assert "Math.round(t * 30)" in html and 'data-fps="30"' in html
    html = html.replace("Math.round(t * 30)", "Math.round(t * 30000 / 1001)").replace('data-fps="30"', data_fps)
    (project / "index.html").write_text(html, encoding="utf-8")
    return project


@pytest.mark.parametrize(
    ("data_fps", "config"),
    [('data-fps="30"', RenderConfig(chunks=3, fps=NTSC)), ('data-fps="29.97"', RenderConfig(chunks=3))],
    ids=["config-over-data-fps", "data-fps"],
)
def test_29_97_frames_a_second_land_once_each_on_their_own_time(
    runtime: Runtime, tmp_path: Path, data_fps: str, config: RenderConfig
) -> None:
    planned, output = render(runtime, _ntsc_barcode(tmp_path, data_fps), tmp_path / "work", config)
    # 2 s at 30000/1001 is 59.94 frames: 60 are shown, the last one partly.
    assert planned.fps == NTSC and planned.total_frames == 60 and planned.duration_ms == 2002
    assert barcode_values(runtime.ffmpeg, output) == list(range(60))
    info = media.inspect(runtime.ffmpeg, output)
    assert info.fps == Fraction(30000, 1001) and info.frame_count == 60
