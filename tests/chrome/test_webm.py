"""WebM (VP9) output: chunks without alternate references join as they are; its sound is Opus."""

from __future__ import annotations

from pathlib import Path

import pytest

from handler.edge.events import RenderConfig
from handler.render import engine
from handler.render.runtime import Runtime
from tests.integration.conftest import barcode_values
from tooling import media

from .conftest import assert_same_frames, composition
from .test_engine import render

pytestmark = pytest.mark.chrome


def test_a_webm_keeps_every_frame_in_order_and_the_same_chunk_gives_the_same_bytes(
    runtime: Runtime, tmp_path: Path
) -> None:
    planned, output = render(runtime, composition("barcode"), tmp_path, RenderConfig(chunks=3, format="webm"))
    assert output.read_bytes()[:4] == b"\x1a\x45\xdf\xa3"  # EBML: a Matroska/WebM file
    info = media.inspect(runtime.ffmpeg, output)
    assert info.video_codec == "vp9" and info.frame_count == 60
    assert barcode_values(runtime.ffmpeg, output) == list(range(60))
    again = tmp_path / "again.webm"
    engine.render_chunk(tmp_path / "plan", planned.plan_hash, 2, again, runtime=runtime, scratch=tmp_path)
    assert again.read_bytes() == (tmp_path / "chunks" / "0002.mp4").read_bytes()


def test_lossless_vp9_in_one_chunk_or_three_decodes_to_the_same_frames(runtime: Runtime, tmp_path: Path) -> None:
    lossless = {"capture": "png", "crf": 0, "format": "webm"}
    _, one = render(runtime, composition("mixed"), tmp_path / "one", RenderConfig(chunks=1, **lossless))  # type: ignore[arg-type]
    _, three = render(runtime, composition("mixed"), tmp_path / "three", RenderConfig(chunks=3, **lossless))  # type: ignore[arg-type]
    assert_same_frames(one, three)


def test_a_webm_carries_the_sound_as_opus(runtime: Runtime, tmp_path: Path) -> None:
    _, output = render(runtime, composition("tone"), tmp_path, RenderConfig(chunks=2, format="webm"))
    info = media.inspect(runtime.ffmpeg, output)
    assert info.audio_codec == "opus"
    assert info.audio_duration is not None and info.video_duration is not None
    assert abs(info.audio_duration - info.video_duration) <= 0.05
