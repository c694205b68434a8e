"""GIF and PNG-sequence outputs: made from lossless chunks at once, the same bytes from 1 chunk or 3."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest
from PIL import Image

from handler.edge.events import parse_event
from handler.errors import InvalidEvent
from handler.render.runtime import Runtime
from runner import local
from tests.integration.conftest import barcode_values
from tooling import media

from .conftest import composition

pytestmark = pytest.mark.chrome


def test_a_gif_has_one_palette_for_the_render_so_one_chunk_or_three_give_the_same_bytes(
    runtime: Runtime, tmp_path: Path
) -> None:
    one = local.render(composition("barcode"), tmp_path / "one.gif", chunks=1, config={"Format": "gif"})
    three = local.render(composition("barcode"), tmp_path / "three.gif", chunks=3, config={"Format": "gif"})
    assert one.output.read_bytes()[:6] == b"GIF89a"
    assert one.output.read_bytes() == three.output.read_bytes()
    assert media.inspect(runtime.ffmpeg, three.output).frame_count == 60
    assert barcode_values(runtime.ffmpeg, three.output) == list(range(60))
    assert "Warnings" not in three.assembled


def test_sound_in_a_gif_is_left_out_with_a_warning_not_in_silence(tmp_path: Path) -> None:
    result = local.render(composition("tone"), tmp_path / "tone.gif", chunks=2, config={"Format": "gif"})
    assert result.assembled["Warnings"] == ["the composition has sound, and gif carries none: it was left out"]


def test_a_png_sequence_is_a_fixed_tar_of_lossless_frames(runtime: Runtime, tmp_path: Path) -> None:
    config = {"Format": "png-sequence", "Capture": "png"}
    one = local.render(composition("mixed"), tmp_path / "one.tar", chunks=1, config=config)
    three = local.render(composition("mixed"), tmp_path / "three.tar", chunks=3, config=config)
    assert one.output.read_bytes() == three.output.read_bytes()
    with tarfile.open(three.output) as archive:
        members = archive.getmembers()
        assert [m.name for m in members] == [f"{i:06d}.png" for i in range(int(three.plan["TotalFrames"]))]
        assert {(m.mtime, m.uid, m.gid, m.mode) for m in members} == {(0, 0, 0, 0o644)}
        first = archive.extractfile(members[0])
        assert first is not None
        with Image.open(io.BytesIO(first.read())) as image:
            assert image.size == (int(three.plan["Width"]), int(three.plan["Height"]))
    assert int(three.assembled["Frames"]) == len(members)


def test_a_codec_for_a_format_without_one_names_the_field() -> None:
    with pytest.raises(InvalidEvent) as raised:
        parse_event(
            {
                "Action": "plan",
                "ProjectUri": "s3://bucket/p.tar.gz",
                "OutputPrefix": "s3://bucket/r",
                "Config": {"Format": "gif", "Codec": "h265"},
            },
            allowlist=None,
        )
    assert raised.value.field == "Config.Codec"
