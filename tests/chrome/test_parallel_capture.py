"""K browsers capture one chunk: the same bytes as one, and a crash of one fails the chunk."""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from handler.errors import ChromeCrashed
from handler.render import capture, engine
from handler.render.chrome.browser import Browser
from handler.render.chrome.page import Page
from handler.render.runtime import Runtime
from handler.render.settings import EncoderSettings, PlanRequest

from .conftest import composition

pytestmark = pytest.mark.chrome


def _chunk_bytes(runtime: Runtime, plan_dir: Path, plan_hash: str, out: Path, pages: int) -> bytes:
    result = engine.render_chunk(plan_dir, plan_hash, 0, out, runtime=runtime, scratch=out.parent, pages=pages)
    assert result.pages == pages
    return out.read_bytes()


@pytest.mark.parametrize("name", ["mixed", "barcode"])
def test_one_two_or_three_pages_give_the_same_chunk_bytes(runtime: Runtime, tmp_path: Path, name: str) -> None:
    request = PlanRequest(encoder=EncoderSettings(capture_format="png"), chunks=1)
    planned = engine.plan(composition(name), tmp_path / "plan", request, runtime=runtime, scratch=tmp_path)
    one, two, three = (
        _chunk_bytes(runtime, tmp_path / "plan", planned.plan_hash, tmp_path / f"k{k}.mp4", k) for k in (1, 2, 3)
    )
    assert hashlib.sha256(one).hexdigest() == hashlib.sha256(two).hexdigest() == hashlib.sha256(three).hexdigest()


def _opener(runtime: Runtime, project: Path, opened: list[Page]) -> capture.OpenPage:
    @contextlib.contextmanager
    def open_page() -> Iterator[Page]:
        with tempfile.TemporaryDirectory() as scratch, Browser.launch(runtime, Path(scratch)) as browser:
            page = browser.open_page(320, 64, allowed_root=project)
            page.navigate(project / "index.html")
            opened.append(page)
            yield page

    return open_page


def _capture(page: Page, frame: int) -> bytes:
    return page.capture(frame, 30, fmt="png")


def _warm_up(page: Page, frame: int) -> None:
    page.warm_up(frame, 30)


def test_many_small_blocks_on_two_pages_give_the_frames_of_one(runtime: Runtime) -> None:
    project = composition("barcode")
    opened: list[Page] = []
    alone = list(
        capture.capture_in_order(
            capture.BlockPlan(((0, 60),), 1), _opener(runtime, project, opened), _warm_up, _capture, on_page=print
        )
    )
    # Seven blocks of uneven length on two pages: each page takes several, out of step with the other.
    blocks = capture.plan_blocks(0, 60, 2, frame_bytes=100, budget=900)
    assert len(blocks.blocks) == 7 and blocks.pages == 2
    shared = list(
        capture.capture_in_order(blocks, _opener(runtime, project, opened), _warm_up, _capture, on_page=print)
    )
    assert len(shared) == 60
    assert [hashlib.sha256(f).digest() for f in shared] == [hashlib.sha256(f).digest() for f in alone]


def _chrome_pids() -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                command = (entry / "cmdline").read_bytes()
                if b"renderzip-chrome-" in command:
                    found.add(int(entry.name))
    return found


def test_a_browser_killed_mid_chunk_fails_it_as_a_crash_and_leaves_no_process(runtime: Runtime) -> None:
    before = _chrome_pids()
    opened: list[Page] = []
    captured: list[int] = []

    def capture_then_kill(page: Page, frame: int) -> bytes:
        image = _capture(page, frame)
        captured.append(frame)
        if frame == 40:  # the second page's block, a few frames in
            os.kill(page.connection.process.pid, signal.SIGKILL)
        return image

    with pytest.raises(ChromeCrashed):
        list(
            capture.capture_in_order(
                capture.plan_blocks(0, 60, 2, frame_bytes=1),
                _opener(runtime, composition("barcode"), opened),
                _warm_up,
                capture_then_kill,
                on_page=print,
            )
        )
    assert 40 in captured
    assert _chrome_pids() - before == set()
