"""<video>: each output frame shows the source frame of its instant, decoded per chunk, in the element's box."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from PIL import Image

from handler.edge.events import RenderConfig
from handler.errors import InvalidComposition
from handler.render.planfile import read_plan_doc
from handler.render.runtime import Runtime
from tests.integration.conftest import barcode_values

from .test_engine import render

pytestmark = pytest.mark.chrome

SOURCE_FPS, SOURCE_FRAMES = 25, 100
LOSSLESS = {"capture": "png", "crf": 0}


def _barcode_clip(runtime: Runtime, out: Path, *, with_sound: bool = False) -> Path:
    """A 25 fps H.264 clip with B-frames and a long GOP whose frame k paints k in 16 blocks."""
    frames = out.parent / "source-frames"
    frames.mkdir(parents=True)
    for k in range(SOURCE_FRAMES):
        image = Image.new("RGB", (320, 64), "white")
        for bit in range(16):
            if (k >> (15 - bit)) & 1:
                image.paste((0, 0, 0), (bit * 20, 0, bit * 20 + 20, 40))
        image.save(frames / f"{k:04d}.png")
    sound = ["-f", "lavfi", "-i", "sine=frequency=440:duration=4"] if with_sound else []
    command = [
        str(runtime.ffmpeg), "-v", "error", "-y", "-framerate", str(SOURCE_FPS), "-i", str(frames / "%04d.png"), *sound,
        "-c:v", "libx264", "-bf", "3", "-g", "250", "-pix_fmt", "yuv420p",
        *(["-c:a", "aac", "-shortest"] if with_sound else []), str(out),
    ]  # fmt: skip
    subprocess.run(command, check=True)
    return out


def _project(runtime: Runtime, tmp_path: Path, video_attributes: str, *, with_sound: bool = False) -> Path:
    project = tmp_path / "video-project"
    project.mkdir(parents=True)
    _barcode_clip(runtime, project / "clip.mp4", with_sound=with_sound)
    (project / "index.html").write_text(
        '<!doctype html><html><body style="margin:0">'
        '<div data-composition-id="main" data-width="320" data-height="64" data-duration="2" style="background:#fff">'
        f'<video src="clip.mp4" style="position:absolute;left:0;top:0;width:320px;height:64px" {video_attributes}>'
        "</video></div></body></html>",
        encoding="utf-8",
    )
    return project


def _expected() -> list[int | None]:
    """data-start 0.5, data-duration 1.2, data-media-start 1: output frame i at 30 fps shows source frame
    floor((i/30 - 0.5 + 1) * 25) while 0.5 <= i/30 < 1.7, and nothing (white) outside."""
    return [(((i - 15) * SOURCE_FPS + 30 * SOURCE_FPS) // 30) if 15 <= i < 51 else 0 for i in range(60)]


@pytest.fixture(scope="module")
def renders(runtime: Runtime, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[int]]:
    attributes = 'data-start="0.5" data-duration="1.2" data-media-start="1" muted'
    values = {}
    for name, config in (
        ("1", RenderConfig(chunks=1, **LOSSLESS)),  # type: ignore[arg-type]
        ("4", RenderConfig(frames_per_chunk=17, **LOSSLESS)),  # type: ignore[arg-type]
    ):
        work = tmp_path_factory.mktemp(f"video-{name}")
        _, output = render(runtime, _project(runtime, work, attributes), work / "render", config)
        values[name] = barcode_values(runtime.ffmpeg, output)
    return values


def test_each_frame_shows_the_source_frame_of_its_instant_and_nothing_outside_its_window(
    renders: dict[str, list[int]],
) -> None:
    assert renders["4"] == _expected()


def test_one_chunk_or_four_show_the_same_frames(renders: dict[str, list[int]]) -> None:
    assert renders["1"] == renders["4"]


def test_the_clips_sound_is_mixed_unless_it_is_muted(runtime: Runtime, tmp_path: Path) -> None:
    audible = _project(runtime, tmp_path / "audible", 'data-start="0"', with_sound=True)
    planned, _ = render(runtime, audible, tmp_path / "audible" / "render", RenderConfig(chunks=1))
    assert planned.has_audio
    (clip,) = read_plan_doc(tmp_path / "audible" / "render" / "plan").videos
    assert (clip.src, clip.start, clip.muted) == ("clip.mp4", 0.0, False)
    muted = _project(runtime, tmp_path / "muted", 'data-start="0" muted', with_sound=True)
    planned, _ = render(runtime, muted, tmp_path / "muted" / "render", RenderConfig(chunks=1))
    assert not planned.has_audio


def test_a_source_the_bundled_ffmpeg_cannot_read_is_named(runtime: Runtime, tmp_path: Path) -> None:
    project = _project(runtime, tmp_path, 'data-start="0"')
    (project / "clip.mp4").write_bytes(b"not a video at all" * 100)
    with pytest.raises(InvalidComposition, match=r"<video src='clip\.mp4'>: the bundled ffmpeg cannot read it"):
        render(runtime, project, tmp_path / "render", RenderConfig(chunks=1))
