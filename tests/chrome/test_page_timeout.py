"""A seek that never returns is the page's fault: one PageTimeout, not retried, naming the frame and the time."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from handler.edge.events import RenderConfig
from handler.errors import PageTimeout, retryable_codes
from handler.render import engine
from handler.render.chrome.page import _page
from handler.render.runtime import Runtime

pytestmark = pytest.mark.chrome

HANGS = """<!doctype html><div data-width="64" data-height="64" data-duration="1"></div><script>
window.__hf = { duration: 1, seek(t) { if (t > 0.2) { for (;;) {} } } };
</script>"""


def test_a_seek_that_loops_forever_ends_in_one_page_timeout(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_page, "SEEK_TIMEOUT_S", 3.0)
    project = tmp_path / "hangs"
    project.mkdir()
    (project / "index.html").write_text(HANGS, encoding="utf-8")
    request = RenderConfig(chunks=1).plan_request()
    planned = engine.plan(project, tmp_path / "plan", request, runtime=runtime, scratch=tmp_path)
    started = time.monotonic()
    with pytest.raises(PageTimeout) as raised:
        engine.render_chunk(
            tmp_path / "plan", planned.plan_hash, 0, tmp_path / "chunk.mp4", runtime=runtime, scratch=tmp_path, pages=1
        )
    assert time.monotonic() - started < 20
    assert raised.value.frame == 7 and abs(raised.value.seconds - 7 / 30) < 1e-9
    assert "frame 7 (t = 0.233 s)" in str(raised.value)
    assert "PageTimeout" not in retryable_codes()
