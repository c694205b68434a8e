"""H.265 output: closed-GOP chunks that join without re-encoding, the same bytes twice, every frame in place."""

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


def test_lossless_h265_in_one_chunk_or_three_decodes_to_the_same_frames(runtime: Runtime, tmp_path: Path) -> None:
    lossless = {"capture": "png", "crf": 0, "codec": "h265"}
    one_plan, one = render(runtime, composition("mixed"), tmp_path / "one", RenderConfig(chunks=1, **lossless))  # type: ignore[arg-type]
    three_plan, three = render(runtime, composition("mixed"), tmp_path / "three", RenderConfig(chunks=3, **lossless))  # type: ignore[arg-type]
    info = media.inspect(runtime.ffmpeg, three)
    assert info.video_codec == "hevc" and info.frame_count == three_plan.total_frames
    assert one_plan.total_frames == three_plan.total_frames
    assert_same_frames(one, three)


def test_an_h265_barcode_render_keeps_every_frame_and_the_same_chunk_gives_the_same_bytes(
    runtime: Runtime, tmp_path: Path
) -> None:
    planned, output = render(runtime, composition("barcode"), tmp_path, RenderConfig(chunks=3, codec="h265"))
    assert barcode_values(runtime.ffmpeg, output) == list(range(60))
    again = tmp_path / "again.mp4"
    engine.render_chunk(tmp_path / "plan", planned.plan_hash, 1, again, runtime=runtime, scratch=tmp_path)
    assert again.read_bytes() == (tmp_path / "chunks" / "0001.mp4").read_bytes()
