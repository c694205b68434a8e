"""Captured frames show exactly frame i / fps, whichever chunk they belong to."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

import pytest

from handler.errors import PageCrashed
from handler.render.chrome.browser import Browser
from handler.render.runtime import Runtime
from tests.chrome.conftest import browser_processes, composition, dark, decode, read_barcode

pytestmark = pytest.mark.chrome


def capture_range(browser: Browser, name: str, frames: range, fps: int, size: tuple[int, int]) -> list[bytes]:
    """A chunk as a worker renders it: fresh page, warm-up at its first frame, then each frame."""
    page = browser.open_page(*size, allowed_root=composition(name))
    page.navigate(composition(name) / "index.html")
    page.warm_up(frames.start, fps)
    images = [page.capture(frame, fps, fmt="png") for frame in frames]
    page.close()
    return images


@pytest.mark.parametrize("name", ["barcode", "raf-barcode"])
def test_barcode_frames_decode_to_their_index(browser: Browser, name: str) -> None:
    frames = capture_range(browser, name, range(40), 30, (320, 64))
    assert [read_barcode(png) for png in frames] == list(range(40))


def test_barcode_chunk_starting_late_decodes_to_its_indices(browser: Browser) -> None:
    frames = capture_range(browser, "barcode", range(45, 60), 30, (320, 64))
    assert [read_barcode(png) for png in frames] == list(range(45, 60))


def block_position(png: bytes) -> int:
    """The css-barcode block moves 8 px per frame: its left edge divided by 8."""
    image = decode(png)
    left = next(x for x in range(320) if dark(image, x, 20))
    return round(left / 8)


def test_css_animation_frames_decode_to_their_index(browser: Browser) -> None:
    frames = capture_range(browser, "css-barcode", range(31), 30, (320, 64))
    assert [block_position(png) for png in frames] == list(range(31))
    late = [decode(png).getpixel((160, 56))[0] for png in frames]
    assert late[:16] == [255] * 16  # not started before its 0.5 s delay
    assert late[15] > late[20] > late[25] > late[30]  # then fades in
    assert late[30] == 0


def test_jpeg_capture(browser: Browser) -> None:
    page = browser.open_page(320, 64, allowed_root=composition("barcode"))
    page.navigate(composition("barcode") / "index.html")
    page.warm_up(0, 30)
    jpeg = page.capture(5, 30, fmt="jpeg", quality=90)
    assert jpeg.startswith(b"\xff\xd8\xff")


@pytest.mark.parametrize("start", [1, 7, 13])
def test_chunk_boundaries_leave_no_trace(runtime: Runtime, tmp_path: Path, start: int) -> None:
    frames = range(0, 20)
    with Browser.launch(runtime, tmp_path) as whole:
        all_frames = capture_range(whole, "mixed", frames, 30, (320, 180))
    with Browser.launch(runtime, tmp_path) as chunk:
        tail = capture_range(chunk, "mixed", range(start, frames.stop), 30, (320, 180))
    assert len(set(all_frames)) == len(all_frames), "every frame of the mixed composition differs"
    for frame, (expected, actual) in enumerate(zip(all_frames[start:], tail, strict=True), start):
        assert expected == actual, f"frame {frame} differs when its chunk starts at {start}"


def test_a_frame_captured_the_moment_a_page_has_loaded_comes_back(browser: Browser) -> None:
    # No warm-up: the renderer may not have drawn yet, and its first beginFrames bring no screenshot.
    project = composition("barcode")
    for frame in range(12):
        page = browser.open_page(320, 64, allowed_root=project)
        page.navigate(project / "index.html")
        assert read_barcode(page.capture(frame, 30, fmt="png")) == frame
        page.close()


def _started_with(browser: Browser, switch: bytes) -> list[int]:
    """The processes of ``browser`` whose command line holds ``switch``."""
    found = []
    for pid in browser_processes(browser):
        with contextlib.suppress(OSError):
            if switch in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
    return found


def _renderers(browser: Browser) -> list[int]:
    """The renderer processes of ``browser``: those of its processes started as ``--type=renderer``."""
    return _started_with(browser, b"--type=renderer")


def test_the_network_service_runs_inside_the_browser_process(browser: Browser) -> None:
    # One process fewer to launch per browser (PROCESS_MODEL_FLAGS), and the page still loads and draws.
    project = composition("barcode")
    page = browser.open_page(320, 64, allowed_root=project)
    page.navigate(project / "index.html")
    assert read_barcode(page.capture(3, 30, fmt="png")) == 3
    assert _renderers(browser)
    assert not _started_with(browser, b"--utility-sub-type=network.")
    page.close()


def test_a_page_whose_renderer_died_fails_its_next_frame_at_once(browser: Browser) -> None:
    project = composition("barcode")
    page = browser.open_page(320, 64, allowed_root=project)
    page.navigate(project / "index.html")
    page.warm_up(0, 30)
    page.capture(0, 30, fmt="png")
    (renderer,) = _renderers(browser)
    os.kill(renderer, signal.SIGKILL)
    started = time.monotonic()
    with pytest.raises(PageCrashed) as raised:
        for frame in range(1, 300):  # until Chrome has reported the crash
            page.capture(frame, 30, fmt="png")
    # Not the seek's 30 s timeout, nor a screenshot asked for again and again.
    assert time.monotonic() - started < 3
    assert raised.value.when.startswith("at frame ")
