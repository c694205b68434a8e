"""data-composition-src: a file mounted twice and nested, each on its own host's clock and window."""

from __future__ import annotations

from pathlib import Path

import pytest

from handler.edge.events import RenderConfig
from handler.errors import MissingAsset, PageError
from handler.render.runtime import Runtime
from tooling import media

from .conftest import WIDTH, composition, left_edge
from .test_engine import render

pytestmark = pytest.mark.chrome

HEIGHT, FRAMES = 96, 60
LOSSLESS = {"capture": "png", "crf": 0}


def expected(first: int, last: int, place: object) -> list[int | None]:
    return [place(k) if first <= k <= last else None for k in range(FRAMES)]  # type: ignore[operator]


@pytest.fixture(scope="module")
def renders(runtime: Runtime, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[bytes]]:
    frames = {}
    for name, config in (
        ("1", RenderConfig(chunks=1, **LOSSLESS)),  # type: ignore[arg-type]
        ("4", RenderConfig(frames_per_chunk=17, **LOSSLESS)),  # type: ignore[arg-type]
    ):
        _, output = render(runtime, composition("sub-compositions"), tmp_path_factory.mktemp(f"sub-{name}"), config)
        frames[name] = list(media.decode_frames(runtime.ffmpeg, output, width=WIDTH, height=HEIGHT))
    return frames


def test_each_instance_runs_on_its_hosts_clock_inside_its_window(renders: dict[str, list[bytes]]) -> None:
    frames = renders["4"]
    # First instance: data-start 0.5, data-duration 1; its bar moves 4 px a frame from its start.
    assert [left_edge(frame, 6) for frame in frames] == expected(15, 44, lambda k: 4 * (k - 15))
    # Second instance of the same file: data-start 1, its own timeline, its own window.
    assert [left_edge(frame, 38) for frame in frames] == expected(30, 59, lambda k: 4 * (k - 30))


def test_a_nested_sub_composition_counts_from_its_parents_start(renders: dict[str, list[bytes]]) -> None:
    frames = renders["4"]
    # The dot starts 0.25 s into each slider and lasts 0.5 s: 0.75..1.25 s and 1.25..1.75 s.
    assert [left_edge(frame, 22) for frame in frames] == expected(23, 37, lambda k: 8 * k - 180)
    assert [left_edge(frame, 54) for frame in frames] == expected(38, 52, lambda k: 8 * k - 300)


def test_one_chunk_or_four_give_identical_frames(renders: dict[str, list[bytes]]) -> None:
    assert len(renders["1"]) == FRAMES
    assert renders["1"] == renders["4"]


def _project(tmp_path: Path, index: str, files: dict[str, str]) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    (project / "index.html").write_text(index, encoding="utf-8")
    for name, text in files.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text, encoding="utf-8")
    return project


ROOT_OPEN = '<!doctype html><div data-composition-id="main" data-width="64" data-height="64" data-duration="0.2">'


def test_a_sub_composition_file_that_is_not_there_is_a_missing_asset(runtime: Runtime, tmp_path: Path) -> None:
    project = _project(tmp_path, ROOT_OPEN + '<div data-composition-src="scenes/gone.html"></div></div>', {})
    with pytest.raises(MissingAsset) as raised:
        render(runtime, project, tmp_path / "work", RenderConfig(chunks=1))
    assert raised.value.paths == ["scenes/gone.html"]


def test_a_sub_composition_that_mounts_itself_ends_in_a_page_error(runtime: Runtime, tmp_path: Path) -> None:
    loop = (
        '<template><div class="frame"><div data-composition-id="loop" data-composition-src="loop.html"></div></div>'
        "</template>"
    )
    project = _project(
        tmp_path,
        ROOT_OPEN + '<div data-composition-id="loop" data-composition-src="loop.html"></div></div>',
        {"loop.html": loop},
    )
    with pytest.raises(PageError, match="nest deeper than 8"):
        render(runtime, project, tmp_path / "work", RenderConfig(chunks=1))
