"""A HyperFrames-style composition: GSAP (pinned, from a local file) in window.__timelines, data-start windows."""

from __future__ import annotations

from pathlib import Path

import pytest

from handler.edge.events import RenderConfig
from handler.errors import InvalidComposition
from handler.render.runtime import Runtime
from handler.render.settings import FrameRate
from tooling import media

from .test_engine import render

pytestmark = pytest.mark.chrome

WIDTH, HEIGHT, FRAMES = 320, 96, 60
BOX_ROW = 56  # the GSAP-tweened box: 20 px wide, x = 240 px * t / 2 s, so 4 px a frame
LATE = (290, 84)  # inside the element with data-start="1" data-duration="0.5": frames 30..44
# crf 0 is lossless: equal decoded frames mean equal captured frames.
LOSSLESS = {"capture": "png", "crf": 0}


def pixel(frame: bytes, x: int, y: int) -> tuple[int, int, int]:
    offset = (y * WIDTH + x) * 3
    red, green, blue = frame[offset : offset + 3]
    return red, green, blue


def dark(frame: bytes, x: int, y: int) -> bool:
    return sum(pixel(frame, x, y)) < 3 * 128


def barcode(frame: bytes) -> int:
    """16 blocks of 20 px along y = 20, most significant bit first, black is 1."""
    value = 0
    for bit in range(16):
        value = (value << 1) | int(dark(frame, bit * 20 + 10, 20))
    return value


def box_left(frame: bytes) -> int | None:
    return next((x for x in range(WIDTH) if dark(frame, x, BOX_ROW)), None)


def late_shown(frame: bytes) -> bool:
    red, green, blue = pixel(frame, *LATE)
    return red > 200 and green < 80 and blue < 80


@pytest.fixture(scope="module")
def renders(
    runtime: Runtime, gsap_composition: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, list[bytes]]:
    """Decoded frames of the composition rendered as 1 chunk and as 4 uneven ones."""
    frames = {}
    for name, config in (
        ("1", RenderConfig(chunks=1, **LOSSLESS)),  # type: ignore[arg-type]
        ("4-uneven", RenderConfig(frames_per_chunk=17, **LOSSLESS)),  # type: ignore[arg-type]
    ):
        planned, output = render(runtime, gsap_composition, tmp_path_factory.mktemp(f"gsap-{name}"), config)
        assert (planned.width, planned.height, planned.fps, planned.total_frames) == (
            WIDTH,
            HEIGHT,
            FrameRate(30),
            FRAMES,
        )
        assert len(planned.chunks) == (1 if name == "1" else 4)
        frames[name] = list(media.decode_frames(runtime.ffmpeg, output, width=WIDTH, height=HEIGHT))
    return frames


def test_the_gsap_timeline_paints_every_frame_once_in_order(renders: dict[str, list[bytes]]) -> None:
    frames = renders["4-uneven"]
    assert [barcode(frame) for frame in frames] == list(range(FRAMES))


def test_a_gsap_tween_moves_the_box_with_the_frame_time(renders: dict[str, list[bytes]]) -> None:
    frames = renders["4-uneven"]
    assert [box_left(frame) for frame in frames] == [4 * k for k in range(FRAMES)]


def test_a_data_start_element_shows_only_inside_its_window(renders: dict[str, list[bytes]]) -> None:
    frames = renders["4-uneven"]
    assert [k for k, frame in enumerate(frames) if late_shown(frame)] == list(range(30, 45))


def test_one_chunk_or_four_capture_identical_frames(renders: dict[str, list[bytes]]) -> None:
    assert len(renders["1"]) == len(renders["4-uneven"]) == FRAMES
    assert renders["1"] == renders["4-uneven"]


def test_without_data_duration_the_root_timeline_gives_the_length(
    runtime: Runtime, timeline_duration_composition: Path, tmp_path: Path
) -> None:
    planned, output = render(runtime, timeline_duration_composition, tmp_path, RenderConfig(chunks=3))
    assert planned.total_frames == FRAMES and len(planned.chunks) == 3
    frames = list(media.decode_frames(runtime.ffmpeg, output, width=WIDTH, height=HEIGHT))
    assert [barcode(frame) for frame in frames] == list(range(FRAMES))


def test_without_data_duration_or_a_timeline_the_error_names_both(runtime: Runtime, tmp_path: Path) -> None:
    project = tmp_path / "no-length"
    project.mkdir()
    (project / "index.html").write_text(
        '<!doctype html><div data-composition-id="main" data-width="64" data-height="64"></div>', encoding="utf-8"
    )
    with pytest.raises(InvalidComposition, match=r"no data-duration, no timeline registered in window\.__timelines"):
        render(runtime, project, tmp_path / "work", RenderConfig(chunks=1))
