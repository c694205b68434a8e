"""Composition pages: blocked network, virtual time, data-start windows, page errors."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image

from handler.errors import PageError
from handler.render.chrome.browser import Browser
from handler.render.chrome.page import Page
from handler.render.runtime import Runtime
from tests.chrome.conftest import composition

pytestmark = pytest.mark.chrome

EPOCH_MS = 946_684_800_000  # 2000-01-01T00:00:00Z


def load(browser: Browser, name: str, width: int = 320, height: int = 64) -> Page:
    page = browser.open_page(width, height, allowed_root=composition(name))
    page.navigate(composition(name) / "index.html")
    return page


def clock_at(page: Page, frame: int, fps: int = 30) -> dict[str, object]:
    page.seek(frame, fps)
    state: dict[str, object] = json.loads(page.evaluate("document.getElementById('out').textContent"))
    return state


def test_requests_outside_the_composition_are_blocked_and_listed(browser: Browser) -> None:
    page = load(browser, "network")
    blocked = page.blocked_urls()
    assert "http://example.invalid/x.png" in blocked
    assert "file:///etc/passwd" in blocked
    assert "file:///etc/hostname" in blocked  # ".." cannot climb out
    assert not any(url.endswith("dot.svg") or url.startswith("data:") for url in blocked)
    widths = page.evaluate("[...document.images].map(image => [image.id, image.naturalWidth])")
    assert dict(widths) == {"own": 32, "remote": 0, "outside": 0, "escape": 0, "inline": 4}


def test_symlink_out_of_the_composition_is_blocked(browser: Browser, tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "index.html").write_text('<img id="link" src="link.svg">', encoding="utf-8")
    (tmp_path / "link.svg").symlink_to(composition("network") / "dot.svg")
    page = browser.open_page(64, 64, allowed_root=tmp_path)
    page.navigate(tmp_path / "index.html")
    assert page.blocked_urls() == [(tmp_path / "link.svg").as_uri()]


def test_composition_info_reads_the_root(browser: Browser) -> None:
    info = load(browser, "barcode").composition_info()
    assert info["composition_id"] == "barcode"
    assert (info["width"], info["height"], info["fps"], info["duration"]) == ("320", "64", "30", "2")
    assert info["hf_duration"] == 2
    plain = load(browser, "css-barcode").composition_info()
    assert plain["composition_id"] is None
    assert plain["duration"] == "1"
    assert plain["hf_duration"] is None


def test_clocks_show_exactly_the_frame_time(browser: Browser) -> None:
    page = load(browser, "clock")
    state = clock_at(page, 7)
    assert state["perf"] == 7 * 1000 / 30
    assert state["date"] == state["newDate"] == EPOCH_MS + 233
    assert state["dateString"] == "2000-01-01T00:00:00.233Z"
    atLoad = state["atLoad"]
    assert isinstance(atLoad, dict)
    assert (atLoad["date"], atLoad["perf"]) == (EPOCH_MS, 0)


def test_timers_fire_in_due_order_at_their_own_time(browser: Browser) -> None:
    page = load(browser, "clock")
    state = clock_at(page, 6)  # 200 ms
    assert state["fired"] == [
        ["interval 40", 40],
        ["timeout 50", 50],
        ["interval 40", 80],
        ["timeout 100", 100],
        ["interval 40", 120],
    ]


def test_same_frame_same_clock_and_randoms_however_it_is_reached(runtime: Runtime, tmp_path: Path) -> None:
    with Browser.launch(runtime, tmp_path) as first, Browser.launch(runtime, tmp_path) as second:
        stepped = load(first, "clock")
        for frame in range(7):
            clock_at(stepped, frame)
        after_earlier = clock_at(stepped, 7)
        direct = clock_at(load(second, "clock"), 7)
    assert after_earlier == direct
    randoms = direct["random"]
    assert isinstance(randoms, list)
    assert len(set(randoms)) == 3
    assert all(0 <= value < 1 for value in randoms)


def test_randoms_differ_between_frames(browser: Browser) -> None:
    page = load(browser, "clock")
    assert clock_at(page, 1)["random"] != clock_at(page, 2)["random"]


@pytest.mark.parametrize(
    ("frame", "first", "second", "open_ended"),
    [
        (0, True, False, False),
        (2, True, False, False),
        (3, True, False, True),
        (9, True, False, True),
        (10, False, True, True),
        (14, False, True, True),
        (15, False, False, True),
        (29, False, False, True),
    ],
)
def test_data_start_windows(browser: Browser, frame: int, first: bool, second: bool, open_ended: bool) -> None:
    page = load(browser, "windows")
    page.seek(frame, 10)
    shown = page.evaluate(
        "Object.fromEntries(['first', 'second', 'open'].map(id => "
        "[id, getComputedStyle(document.getElementById(id)).visibility === 'visible']))"
    )
    assert shown == {"first": first, "second": second, "open": open_ended}


def test_error_in_hf_seek_is_a_page_error_with_message_and_stack(browser: Browser) -> None:
    page = load(browser, "seek-error")
    page.seek(29, 30)
    with pytest.raises(PageError) as caught:
        page.seek(30, 30)
    assert "composition broke at t=1" in str(caught.value)
    assert "checkTime" in str(caught.value)  # the page's stack


def test_error_while_loading_is_a_page_error(browser: Browser, tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "index.html").write_text("<script>throw new TypeError('bad load')</script>", encoding="utf-8")
    page = browser.open_page(64, 64, allowed_root=tmp_path)
    with pytest.raises(PageError, match="TypeError: bad load"):
        page.navigate(tmp_path / "index.html")


@pytest.mark.parametrize(("frame", "left"), [(0, 0), (15, 100), (30, 200), (45, 200)])
def test_svg_animations_follow_the_frame_time(browser: Browser, tmp_path, frame: int, left: int) -> None:  # type: ignore[no-untyped-def]
    # A SMIL <animate> runs on its <svg>'s own clock: 200 px in 1 s, then it holds (fill="freeze").
    (tmp_path / "index.html").write_text(
        '<body style="margin:0;background:#fff"><svg width="320" height="64">'
        '<rect id="bar" x="0" y="0" width="20" height="64" fill="#000">'
        '<animate attributeName="x" from="0" to="200" dur="1s" fill="freeze"/></rect></svg></body>',
        encoding="utf-8",
    )
    page = browser.open_page(320, 64, allowed_root=tmp_path)
    page.navigate(tmp_path / "index.html")
    image = Image.open(io.BytesIO(page.capture(frame, 30, fmt="png"))).convert("L")
    dark = [x for x in range(320) if image.getpixel((x, 32)) < 128]
    assert (dark[0], dark[-1]) == (left, left + 19)
