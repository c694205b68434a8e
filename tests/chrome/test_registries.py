"""Every animation registry HyperFrames seeks moves with the frame's time, the same in 1 chunk or 4."""

from __future__ import annotations

from pathlib import Path

import pytest

from handler.edge.events import RenderConfig
from handler.errors import PageError
from handler.render.runtime import Runtime
from tooling import media

from .conftest import ANIME, LOTTIE, WIDTH, left_edge, with_scripts
from .test_engine import render

pytestmark = pytest.mark.chrome

HEIGHT, FRAMES = 96, 60
ROWS = {"anime": 6, "legacy": 22, "lottie": 38, "render": 54, "three": 70, "procedural": 86}
LOSSLESS = {"capture": "png", "crf": 0}


@pytest.fixture(scope="module")
def renders(runtime: Runtime, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[bytes]]:
    project = with_scripts("registries", tmp_path_factory, (ANIME, LOTTIE))
    frames = {}
    for name, config in (
        ("1", RenderConfig(chunks=1, **LOSSLESS)),  # type: ignore[arg-type]
        ("4", RenderConfig(frames_per_chunk=17, **LOSSLESS)),  # type: ignore[arg-type]
    ):
        _, output = render(runtime, project, tmp_path_factory.mktemp(f"registries-{name}"), config)
        frames[name] = list(media.decode_frames(runtime.ffmpeg, output, width=WIDTH, height=HEIGHT))
    return frames


@pytest.mark.parametrize("layer", list(ROWS))
def test_each_registry_moves_its_box_four_pixels_a_frame(renders: dict[str, list[bytes]], layer: str) -> None:
    frames = renders["4"]
    assert [left_edge(frame, ROWS[layer]) for frame in frames] == [4 * k for k in range(FRAMES)]


def test_one_chunk_or_four_give_identical_frames(renders: dict[str, list[bytes]]) -> None:
    assert len(renders["1"]) == FRAMES
    assert renders["1"] == renders["4"]


def test_an_expression_that_is_not_arithmetic_fails_the_frame(runtime: Runtime, tmp_path: Path) -> None:
    project = tmp_path / "bad-expression"
    project.mkdir()
    (project / "index.html").write_text(
        '<!doctype html><div data-width="64" data-height="64" data-duration="0.2">'
        '<div data-animate-x="alert(frame)"></div></div>',
        encoding="utf-8",
    )
    with pytest.raises(PageError, match=r'data-animate-x="alert\(frame\)" is not an arithmetic expression'):
        render(runtime, project, tmp_path / "work", RenderConfig(chunks=1))
