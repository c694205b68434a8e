"""data-composition-src: a file mounted twice and nested, each on its own host's clock and window, and scoped."""

from __future__ import annotations

from pathlib import Path

import pytest

from handler.edge.events import RenderConfig
from handler.errors import MissingAsset, PageError
from handler.render.runtime import Runtime

from .conftest import ANIME, GSAP, composition, left_edge, with_scripts
from .test_engine import ONE_AND_FOUR_CHUNKS, decoded_renders, render

pytestmark = pytest.mark.chrome

HEIGHT, FRAMES = 96, 60


def expected(first: int, last: int, place: object) -> list[int | None]:
    return [place(k) if first <= k <= last else None for k in range(FRAMES)]  # type: ignore[operator]


@pytest.fixture(scope="module")
def renders(runtime: Runtime, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[bytes]]:
    return decoded_renders(
        runtime, composition("sub-compositions"), tmp_path_factory, ONE_AND_FOUR_CHUNKS, height=HEIGHT
    )


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


# --- scoping: what an instance's scripts see -----------------------------------------

SCOPED_HEIGHT = 112


@pytest.fixture(scope="module")
def scoped(runtime: Runtime, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[bytes]]:
    project = with_scripts("scoped-instances", tmp_path_factory, (GSAP, ANIME))
    configs = {
        **ONE_AND_FOUR_CHUNKS,
        "speed": RenderConfig(frames_per_chunk=17, variables='{"speed":3}', capture="png", crf=0),
    }
    return decoded_renders(runtime, project, tmp_path_factory, configs, height=SCOPED_HEIGHT)


def test_each_instance_reads_its_declared_defaults_under_its_hosts_values(scoped: dict[str, list[bytes]]) -> None:
    frames = scoped["4"]
    # First host: data-variable-values speed 4 over the file's default offset 0.
    assert [left_edge(frame, 6) for frame in frames] == [4 * k for k in range(FRAMES)]
    # Second host: no speed, so the file's default 1, and its own offset 40.
    assert [left_edge(frame, 54) for frame in frames] == [40 + k for k in range(FRAMES)]


def test_the_roots_variables_are_its_declared_defaults_under_config_variables(scoped: dict[str, list[bytes]]) -> None:
    assert [left_edge(frame, 102) for frame in scoped["4"]] == [2 * k for k in range(FRAMES)]
    assert [left_edge(frame, 102) for frame in scoped["speed"]] == [3 * k for k in range(FRAMES)]
    # Config.Variables are the root's: an instance keeps its own speed.
    assert [left_edge(frame, 6) for frame in scoped["speed"]] == [4 * k for k in range(FRAMES)]
    assert [left_edge(frame, 54) for frame in scoped["speed"]] == [40 + k for k in range(FRAMES)]


@pytest.mark.parametrize(("library", "rows"), [("gsap", (22, 70)), ("anime.js", (38, 86))])
def test_string_targets_resolve_inside_each_instance(
    scoped: dict[str, list[bytes]], library: str, rows: tuple[int, int]
) -> None:
    # Each instance's timeline moves its own bar 120 px in 1 s / speed, then holds: speed 4, then 1.
    first, second = rows
    assert [left_edge(frame, first) for frame in scoped["4"]] == [min(16 * k, 120) for k in range(FRAMES)], library
    assert [left_edge(frame, second) for frame in scoped["4"]] == [min(4 * k, 120) for k in range(FRAMES)], library


def test_scoped_instances_give_identical_frames_in_one_chunk_or_four(scoped: dict[str, list[bytes]]) -> None:
    assert len(scoped["1"]) == FRAMES
    assert scoped["1"] == scoped["4"]


@pytest.mark.parametrize(
    ("attribute", "reason"),
    [
        ("data-variable-values='{\"speed\": '", "data-variable-values is not JSON"),
        ("data-variable-values='[1, 2]'", "data-variable-values is not a JSON object"),
    ],
)
def test_host_values_that_are_not_a_json_object_end_in_a_page_error(
    runtime: Runtime, tmp_path: Path, attribute: str, reason: str
) -> None:
    child = (
        '<template><div data-composition-id="child">'
        "<script>window.__hyperframes.getVariables();</script></div></template>"
    )
    project = _project(
        tmp_path,
        ROOT_OPEN + f'<div data-composition-id="child" data-composition-src="child.html" {attribute}></div></div>',
        {"child.html": child},
    )
    with pytest.raises(PageError, match=f"sub-composition child.html: {reason}"):
        render(runtime, project, tmp_path / "work", RenderConfig(chunks=1))


def test_declared_variables_that_are_not_a_json_array_end_in_a_page_error(runtime: Runtime, tmp_path: Path) -> None:
    project = _project(
        tmp_path,
        "<!doctype html><html data-composition-variables='{\"speed\": 1}'>"
        + ROOT_OPEN.removeprefix("<!doctype html>")
        + "</div><script>window.__hyperframes.getVariables();</script></html>",
        {},
    )
    with pytest.raises(PageError, match=r"data-composition-variables is not a JSON array of \{id, default\}"):
        render(runtime, project, tmp_path / "work", RenderConfig(chunks=1))
