"""A refused request that keeps the page from loading ends the plan at once, naming it; no listener is reached."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from handler.edge.events import RenderConfig
from handler.errors import NetworkBlocked
from handler.render import engine
from handler.render.runtime import Runtime

pytestmark = pytest.mark.chrome


@pytest.fixture
def listener() -> Iterator[tuple[int, list[bytes]]]:
    """A TCP listener on loopback that records every connection: it must see none."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    seen: list[bytes] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            seen.append(connection.recv(64))
            connection.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], seen
    stop.set()
    thread.join()
    server.close()


def _plan(runtime: Runtime, tmp_path: Path, body: str) -> float:
    project = tmp_path / "project"
    project.mkdir()
    (project / "index.html").write_text(
        f'<!doctype html><div data-width="64" data-height="64" data-duration="0.2">{body}</div>', encoding="utf-8"
    )
    started = time.monotonic()
    with pytest.raises(NetworkBlocked) as raised:
        engine.plan(project, tmp_path / "plan", RenderConfig().plan_request(), runtime=runtime, scratch=tmp_path)
    assert raised.value.urls
    return time.monotonic() - started


def test_an_svg_use_of_a_loopback_file_ends_the_plan_at_once(
    runtime: Runtime, tmp_path: Path, listener: tuple[int, list[bytes]]
) -> None:
    port, seen = listener
    elapsed = _plan(runtime, tmp_path, f'<svg><use href="http://127.0.0.1:{port}/x.svg#x"/></svg>')
    assert elapsed < 10  # it used to wait 30 s for a load event, four times over
    assert seen == []


def test_a_path_no_file_can_have_is_refused_at_once(runtime: Runtime, tmp_path: Path) -> None:
    assert _plan(runtime, tmp_path, '<img src="a%00b.png">') < 10
