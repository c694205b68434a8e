"""Browsers kept between chunks: the same bytes as fresh ones, nothing carried over, nothing left behind."""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from handler import app
from handler.edge.events import RenderConfig
from handler.errors import PageError
from handler.render import engine
from handler.render.chrome import pool as pool_module
from handler.render.chrome.browser import Browser
from handler.render.chrome.pool import BrowserPool
from handler.render.planfile import read_plan_doc
from handler.render.runtime import Runtime

from .conftest import composition

pytestmark = pytest.mark.chrome

# What the page found in its storage when it loaded, painted: black if nothing, red if anything.
REMEMBERS = """<!doctype html><html><body style="margin:0">
<div data-composition-id="root" data-width="64" data-height="48" data-duration="1" id="root"
     style="width:64px;height:48px"></div>
<script>
  const seen = localStorage.getItem("seen") || sessionStorage.getItem("seen") || document.cookie;
  localStorage.setItem("seen", "1");
  sessionStorage.setItem("seen", "1");
  document.cookie = "seen=1";
  document.getElementById("root").style.background = seen ? "rgb(255,0,0)" : "rgb(0,0,0)";
</script></body></html>
"""


def chrome_groups(runtime: Runtime) -> set[int]:
    """The process group of every running process of this Chromium: one per browser."""
    chromium = str(runtime.chromium.resolve())
    groups = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.readlink(entry / "exe") == chromium and "Z" not in (entry / "stat").read_text().split(")")[1][:3]:
                    groups.add(os.getpgid(int(entry.name)))
            except OSError:
                continue
    return groups


def one_page_project(tmp_path: Path, html: str) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    (project / "index.html").write_text(html, encoding="utf-8")
    return project


def planned(runtime: Runtime, project: Path, work: Path, config: RenderConfig) -> tuple[Path, str]:
    plan_dir = work / "plan"
    result = engine.plan(project, plan_dir, config.plan_request(), runtime=runtime, scratch=work)
    return plan_dir, result.plan_hash


def chunk_sha(
    runtime: Runtime, plan: tuple[Path, str], out: Path, *, browsers: BrowserPool | None, pages: int = 2
) -> str:
    plan_dir, plan_hash = plan
    result = engine.render_chunk(
        plan_dir, plan_hash, 0, out, runtime=runtime, scratch=out.parent, pages=pages, browsers=browsers
    )
    return result.sha256


@pytest.fixture
def browsers() -> Iterator[BrowserPool]:
    pool = BrowserPool(keep=2)
    yield pool
    pool.close()


def test_a_warm_chunk_reuses_its_browsers_and_gives_the_same_bytes(
    runtime: Runtime, tmp_path: Path, browsers: BrowserPool
) -> None:
    plan = planned(runtime, composition("barcode"), tmp_path, RenderConfig(chunks=1, capture="png", crf=0))
    before = chrome_groups(runtime)
    fresh = chunk_sha(runtime, plan, tmp_path / "fresh.mp4", browsers=None)
    assert chrome_groups(runtime) == before  # a chunk without a pool leaves nothing running

    cold = chunk_sha(runtime, plan, tmp_path / "cold.mp4", browsers=browsers)
    kept = chrome_groups(runtime) - before
    assert browsers.idle == 2 and len(kept) == 2
    warm = chunk_sha(runtime, plan, tmp_path / "warm.mp4", browsers=browsers)
    assert chrome_groups(runtime) - before == kept  # the same two processes, launched once
    assert fresh == cold == warm


def test_nothing_a_page_stores_reaches_the_next_chunk(runtime: Runtime, tmp_path: Path, browsers: BrowserPool) -> None:
    project = one_page_project(tmp_path, REMEMBERS)
    plan = planned(runtime, project, tmp_path, RenderConfig(chunks=1, capture="png", crf=0))
    shas = {chunk_sha(runtime, plan, tmp_path / f"{n}.mp4", browsers=browsers, pages=1) for n in range(3)}
    assert shas == {chunk_sha(runtime, plan, tmp_path / "fresh.mp4", browsers=None, pages=1)}
    # The page does see its own storage: the same page loaded again in one context turns red.
    assert reloads_until_red(runtime, tmp_path, project) is not None


def reloads_until_red(runtime: Runtime, tmp_path: Path, project: Path, tries: int = 5) -> int | None:
    """How many reloads the page took to see what it stored, or None if it never did.

    A document's storage writes reach the browser asynchronously, so on a loaded machine a reload
    that follows at once can still find nothing (seen once in 150 runs beside three busy loops).
    """
    with Browser.launch(runtime, tmp_path) as browser:
        page = browser.open_page(64, 48, allowed_root=project)
        page.navigate(project / "index.html")
        assert page.evaluate("localStorage.getItem('seen') + sessionStorage.getItem('seen')") == "11"
        for reload in range(1, tries + 1):
            page.navigate(project / "index.html")
            if page.evaluate("document.getElementById('root').style.background") == "rgb(255, 0, 0)":
                return reload
    return None


def test_a_browser_that_died_while_idle_is_replaced(runtime: Runtime, tmp_path: Path, browsers: BrowserPool) -> None:
    plan = planned(runtime, composition("barcode"), tmp_path, RenderConfig(chunks=1))
    before = chrome_groups(runtime)
    first = chunk_sha(runtime, plan, tmp_path / "first.mp4", browsers=browsers)
    for group in chrome_groups(runtime) - before:
        os.killpg(group, signal.SIGKILL)
    assert chunk_sha(runtime, plan, tmp_path / "second.mp4", browsers=browsers) == first
    assert browsers.idle == 2


def test_prewarmed_browsers_are_the_ones_the_chunk_uses(
    runtime: Runtime, tmp_path: Path, browsers: BrowserPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = planned(runtime, composition("barcode"), tmp_path, RenderConfig(chunks=1))
    launches = []
    launch = Browser.launch

    def counted(*args: object, **kwargs: object) -> Browser:
        launches.append(1)
        return launch(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Browser, "launch", counted)
    browsers.prewarm(runtime, 2)
    browsers.prewarm(runtime, 2)  # already on their way: no more
    chunk_sha(runtime, plan, tmp_path / "chunk.mp4", browsers=browsers)
    assert len(launches) == 2 and browsers.idle == 2


def test_a_browser_is_replaced_after_its_pages_allowance(
    runtime: Runtime, tmp_path: Path, browsers: BrowserPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = planned(runtime, composition("barcode"), tmp_path, RenderConfig(chunks=1))
    monkeypatch.setattr(pool_module, "MAX_PAGES", 1)
    before = chrome_groups(runtime)
    chunk_sha(runtime, plan, tmp_path / "chunk.mp4", browsers=browsers)
    assert browsers.idle == 0 and chrome_groups(runtime) == before


def test_a_failed_invocation_leaves_no_browser_running(runtime: Runtime, tmp_path: Path) -> None:
    before = chrome_groups(runtime)
    project = one_page_project(
        tmp_path,
        '<!doctype html><body><div data-width="64" data-height="48" data-duration="1"></div><script>'
        "window.__hf = {duration: 1, seek(t) { if (t > 0.5) throw new Error('late'); }};</script></body>",
    )
    plan = planned(runtime, project, tmp_path, RenderConfig(chunks=1))
    with pytest.raises(PageError, match="late"), app._browsers_warming(runtime, 2) as browsers:
        chunk_sha(runtime, plan, tmp_path / "chunk.mp4", browsers=browsers)
    assert app.BROWSERS.idle == 0
    assert chrome_groups(runtime) == before


def _idle_in_child(pool: BrowserPool, answer: multiprocessing.connection.Connection) -> None:
    answer.send(pool.idle)


def test_a_forked_process_does_not_use_its_parents_browsers(
    runtime: Runtime, tmp_path: Path, browsers: BrowserPool
) -> None:
    plan = planned(runtime, composition("barcode"), tmp_path, RenderConfig(chunks=1))
    chunk_sha(runtime, plan, tmp_path / "chunk.mp4", browsers=browsers, pages=1)
    assert browsers.idle == 1
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_idle_in_child, args=(browsers, send))
    child.start()
    child.join(30)
    assert receive.recv() == 0
    assert browsers.idle == 1
    chunk_sha(runtime, plan, tmp_path / "again.mp4", browsers=browsers, pages=1)  # still the parent's, still working


def test_the_pages_launched_ahead_are_the_pages_the_chunk_opens(runtime: Runtime, tmp_path: Path) -> None:
    # 60 frames: a short chunk of 20 frames (one page) and a long one of 40 (two, on two cores).
    plan_dir, plan_hash = planned(runtime, composition("barcode"), tmp_path, RenderConfig(frames_per_chunk=40))
    doc = read_plan_doc(plan_dir)
    assert [end - start for start, end in doc.chunks] == [40, 20]
    for index in range(len(doc.chunks)):
        for pages in (None, 1, 3):
            rendered = engine.render_chunk(
                plan_dir,
                plan_hash,
                index,
                tmp_path / f"{index}-{pages}.mp4",
                runtime=runtime,
                scratch=tmp_path,
                pages=pages,
            )
            assert engine.chunk_pages(doc, index, pages) == rendered.pages
    assert engine.chunk_pages(doc, 2) == 0
