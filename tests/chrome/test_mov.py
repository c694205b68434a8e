"""MOV (ProRes 4444) output: every frame intra, so any chunking gives the same frames; alpha kept; sound AAC."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from handler.edge.events import RenderConfig
from handler.render.runtime import Runtime
from runner import local
from tooling import media

from .conftest import assert_same_frames, composition
from .test_alpha import SIZE, _alpha, _project
from .test_engine import render

pytestmark = pytest.mark.chrome


def test_prores_in_one_chunk_or_three_gives_the_same_frames_and_keeps_the_sound(
    runtime: Runtime, tmp_path: Path
) -> None:
    _, one = render(runtime, composition("tone"), tmp_path / "one", RenderConfig(chunks=1, format="mov"))
    _, three = render(runtime, composition("tone"), tmp_path / "three", RenderConfig(chunks=3, format="mov"))
    info = media.inspect(runtime.ffmpeg, three)
    assert info.video_codec == "prores" and info.audio_codec == "aac"
    assert_same_frames(one, three)


def test_prores_4444_keeps_transparency_where_nothing_is_painted(runtime: Runtime, tmp_path: Path) -> None:
    config = {"Format": "mov", "Capture": "png"}
    video = local.render(_project(tmp_path, ""), tmp_path / "clear.mov", chunks=1, config=config).output
    command = [str(runtime.ffmpeg), "-v", "error", "-i", str(video), "-frames:v", "1", "-pix_fmt", "rgba",
               "-f", "rawvideo", "pipe:1"]  # fmt: skip
    frame = subprocess.run(command, capture_output=True, check=True).stdout
    assert len(frame) == SIZE * SIZE * 4
    assert _alpha(frame, 10, 10) == 255 and _alpha(frame, 48, 48) == 0
