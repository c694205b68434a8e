"""What a page can do to a worker ends in a typed error within one timeout, and no process is left behind."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from handler.edge.events import RenderConfig
from handler.errors import InvalidComposition, PageCrashed, PageError
from handler.render import engine
from handler.render.runtime import Runtime

pytestmark = pytest.mark.chrome


def _render(runtime: Runtime, tmp_path: Path, root: str, body: str = "") -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "index.html").write_text(f"<!doctype html><body>{root}{body}</body>", encoding="utf-8")
    planned = engine.plan(
        project, tmp_path / "plan", RenderConfig(chunks=1).plan_request(), runtime=runtime, scratch=tmp_path
    )
    engine.render_chunk(
        tmp_path / "plan", planned.plan_hash, 0, tmp_path / "chunk.mp4", runtime=runtime, scratch=tmp_path, pages=1
    )


ROOT = '<div data-width="64" data-height="64" data-duration="0.5"></div>'


def _chrome_processes(runtime: Runtime) -> list[int]:
    chromium = str(runtime.chromium.resolve())
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.readlink(entry / "exe") == chromium:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("<script>alert('hi')</script>", r"opened a dialog \(alert: 'hi'\)"),
        (
            "<script>window.__hf = {duration: 0.5, seek(t) { if (t > 0.1) confirm('sure?'); }};</script>",
            r"\(confirm: 'sure\?'\)",
        ),
        (
            "<script>window.__hf = {duration: 0.5, seek(t) { if (t > 0.1) prompt('name'); }};</script>",
            r"\(prompt: 'name'\)",
        ),
        (
            "<script>function f() { return f() + 1; } window.__hf = {duration: 0.5, seek(t) { f(); }};</script>",
            "Maximum call stack",
        ),
        ("<script>window.__hf = {duration: 0.5, seek(t) { throw new Error('every seek'); }};</script>", "every seek"),
    ],
    ids=["alert", "confirm", "prompt", "stack-overflow", "throws-every-seek"],
)
def test_a_page_that_stops_itself_fails_at_once_with_a_page_error(
    runtime: Runtime, tmp_path: Path, body: str, message: str
) -> None:
    started = time.monotonic()
    with pytest.raises(PageError, match=message) as raised:
        _render(runtime, tmp_path, ROOT, body)
    assert not raised.value.retryable
    assert time.monotonic() - started < 15
    assert _chrome_processes(runtime) == []


def test_window_close_changes_nothing(runtime: Runtime, tmp_path: Path) -> None:
    _render(runtime, tmp_path, ROOT, "<script>window.close()</script>")
    assert (tmp_path / "chunk.mp4").stat().st_size > 0


@pytest.mark.parametrize(
    ("root", "field"),
    [
        ('<div data-width="20000" data-height="64" data-duration="1"></div>', "data-width"),
        ('<div data-width="64" data-height="64" data-duration="0"></div>', "data-duration"),
        ('<div data-width="64" data-height="64" data-duration="-1"></div>', "data-duration"),
        ('<div data-width="64" data-height="64" data-duration="NaN"></div>', "data-duration"),
        ('<div data-width="64" data-height="64" data-duration="1e9"></div>', "data-duration"),
        ('<div data-width="64" data-height="64" data-duration="1" data-fps="0"></div>', "data-fps"),
        ('<div data-width="64" data-height="64" data-duration="1" data-fps="1000"></div>', "data-fps"),
    ],
)
def test_sizes_lengths_and_rates_out_of_bounds_are_refused_before_chrome_starts(
    runtime: Runtime, tmp_path: Path, root: str, field: str
) -> None:
    with pytest.raises(InvalidComposition, match=field):
        _render(runtime, tmp_path, root)


ALLOCATE_FOREVER = "const hoard = []; for (;;) hoard.push(new Array(1e6).fill(1.5));"


@pytest.mark.parametrize(
    ("body", "when"),
    [
        (f"<script>{ALLOCATE_FOREVER}</script>", "while the composition loaded"),
        (
            f"<script>window.__hf = {{duration: 0.5, seek(t) {{ if (t > 0.1) {{ {ALLOCATE_FOREVER} }} }}}};</script>",
            "at frame 4 (t = 0.133 s)",
        ),
    ],
    ids=["at-load", "in-a-seek"],
)
def test_a_memory_bomb_ends_in_one_page_crash_not_retried(
    runtime: Runtime, tmp_path: Path, body: str, when: str
) -> None:
    # V8 stops the renderer at its heap limit; the browser lives on and reports the crash.
    started = time.monotonic()
    with pytest.raises(PageCrashed) as raised:
        _render(runtime, tmp_path, ROOT, body)
    assert raised.value.when == when
    assert not raised.value.retryable
    assert time.monotonic() - started < 20  # the crash ends it, not the seek's 30 s timeout
    assert _chrome_processes(runtime) == []
    assert not list(tmp_path.glob("**/renderzip-chrome-*"))


def test_a_canvas_of_16384_squared_renders_without_harm(runtime: Runtime, tmp_path: Path) -> None:
    # 1 GiB of pixels, if Chrome backed it: it caps the canvas instead, and the render goes on.
    body = (
        "<script>const canvas = document.createElement('canvas'); canvas.width = canvas.height = 16384;"
        " const context = canvas.getContext('2d'); if (context) context.fillRect(0, 0, 16384, 16384);"
        " document.body.append(canvas);</script>"
    )
    _render(runtime, tmp_path, ROOT, body)
    assert (tmp_path / "chunk.mp4").stat().st_size > 0
    assert _chrome_processes(runtime) == []
