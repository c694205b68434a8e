"""Every animation registry HyperFrames seeks moves with the frame's time, the same in 1 chunk or 4."""

from __future__ import annotations

from pathlib import Path

import pytest

from handler.edge.events import RenderConfig
from handler.errors import PageError
from handler.render.runtime import Runtime

from .conftest import ANIME, LOTTIE, WIDTH, left_edge, with_scripts
from .test_engine import ONE_AND_FOUR_CHUNKS, decoded_renders, render

pytestmark = pytest.mark.chrome

HEIGHT, FRAMES = 96, 60
ROWS = {"anime": 6, "legacy": 22, "lottie": 38, "render": 54, "three": 70, "procedural": 86}


@pytest.fixture(scope="module")
def renders(runtime: Runtime, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[bytes]]:
    project = with_scripts("registries", tmp_path_factory, (ANIME, LOTTIE))
    return decoded_renders(runtime, project, tmp_path_factory, ONE_AND_FOUR_CHUNKS, height=HEIGHT)


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


# --- WebGPU and TypeGPU: the frame waits for the work registered with window.__hfWebGpu -------

GPU_HEIGHT = 16


def _gpu_project(tmp_path: Path, script: str) -> Path:
    project = tmp_path / "gpu"
    project.mkdir(parents=True)
    (project / "index.html").write_text(
        '<!doctype html><html><body style="margin: 0">'
        f'<div data-composition-id="gpu" data-width="{WIDTH}" data-height="{GPU_HEIGHT}" data-duration="2"'
        f' style="width: {WIDTH}px; height: {GPU_HEIGHT}px; background: #fff">'
        f'<canvas id="canvas" width="{WIDTH}" height="{GPU_HEIGHT}"></canvas></div>'
        f"<script>{script}</script></body></html>",
        encoding="utf-8",
    )
    return project


# Each seek's drawing finishes 40 ms of real time after the seek returns, as a GPU queue's work
# finishes later: a frame drawn before its work is done would show the previous position. (Event
# timestamps are the one clock the page's virtual time leaves real.)
LATE_DRAWING = """
  const context = document.getElementById("canvas").getContext("2d");
  const later = (ms) => new Promise((resolve) => {
    const channel = new MessageChannel();
    const until = new Event("now").timeStamp + ms;
    channel.port1.onmessage = (event) => (event.timeStamp >= until ? resolve() : channel.port2.postMessage(0));
    channel.port2.postMessage(0);
  });
  window.addEventListener("hf-seek", () => {
    const x = Math.round(window.__hfTypegpuTime * 120);
    window.__hfWebGpu.registerFrame(later(40).then(() => {
      context.clearRect(0, 0, 320, 16);
      context.fillRect(x, 2, 20, 12);
    }));
  });
"""


@pytest.fixture(scope="module")
def gpu_renders(runtime: Runtime, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[bytes]]:
    project = _gpu_project(tmp_path_factory.mktemp("gpu-project"), LATE_DRAWING)
    return decoded_renders(runtime, project, tmp_path_factory, ONE_AND_FOUR_CHUNKS, height=GPU_HEIGHT)


def test_a_frame_waits_for_the_work_registered_with_hf_webgpu(gpu_renders: dict[str, list[bytes]]) -> None:
    assert [left_edge(frame, 6) for frame in gpu_renders["4"]] == [4 * k for k in range(FRAMES)]


def test_registered_gpu_work_gives_identical_frames_in_one_chunk_or_four(gpu_renders: dict[str, list[bytes]]) -> None:
    assert len(gpu_renders["1"]) == FRAMES
    assert gpu_renders["1"] == gpu_renders["4"]


def test_gpu_work_that_fails_fails_the_frame(runtime: Runtime, tmp_path: Path) -> None:
    script = """
      window.addEventListener("hf-seek", () => {
        if (window.__hfTypegpuTime <= 0.1) return;
        const lost = Promise.reject(new Error("device lost at 0.1 s"));
        lost.catch(() => {}); // handled by the page: only the frame's wait can tell
        window.__hfWebGpu.registerFrame(lost);
      });
    """
    with pytest.raises(PageError, match=r"device lost at 0\.1 s"):
        render(runtime, _gpu_project(tmp_path, script), tmp_path / "work", RenderConfig(chunks=1))


def test_a_webgpu_canvas_is_refused_by_name_not_drawn_blank(runtime: Runtime, tmp_path: Path) -> None:
    # Caught by the page, the refusal still ends the render: the canvas would otherwise be blank.
    script = 'try { document.getElementById("canvas").getContext("webgpu"); } catch (error) {}'
    with pytest.raises(PageError, match='asked for a "webgpu" context'):
        render(runtime, _gpu_project(tmp_path, script), tmp_path / "work", RenderConfig(chunks=1))
