"""A refused request ends the plan at once, naming it; no listener on loopback is reached.

That holds for the ways out Chrome gives no request event for too (link hints, window.open,
WebRTC ICE servers, WebTransport, a caught file:// fetch): the page's reach report names them.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from handler.edge.events import RenderConfig
from handler.errors import NetworkBlocked, PageError
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
    return _refused(runtime, tmp_path, body)[0]


def _refused(runtime: Runtime, tmp_path: Path, body: str) -> tuple[float, list[str]]:
    project = tmp_path / "project"
    project.mkdir()
    (project / "index.html").write_text(
        f'<!doctype html><div data-width="64" data-height="64" data-duration="0.2">{body}</div>', encoding="utf-8"
    )
    started = time.monotonic()
    with pytest.raises(NetworkBlocked) as raised:
        engine.plan(project, tmp_path / "plan", RenderConfig().plan_request(), runtime=runtime, scratch=tmp_path)
    assert raised.value.urls
    return time.monotonic() - started, raised.value.urls


def test_an_svg_use_of_a_loopback_file_ends_the_plan_at_once(
    runtime: Runtime, tmp_path: Path, listener: tuple[int, list[bytes]]
) -> None:
    port, seen = listener
    elapsed = _plan(runtime, tmp_path, f'<svg><use href="http://127.0.0.1:{port}/x.svg#x"/></svg>')
    assert elapsed < 10  # it used to wait 30 s for a load event, four times over
    assert seen == []


def test_a_path_no_file_can_have_is_refused_at_once(runtime: Runtime, tmp_path: Path) -> None:
    assert _plan(runtime, tmp_path, '<img src="a%00b.png">') < 10


SILENT_CHANNELS = {
    "preconnect": ('<link rel="preconnect" href="http://127.0.0.1:{port}">', "http://127.0.0.1:{port}/"),
    "dns-prefetch": ('<link rel="dns-prefetch" href="http://127.0.0.1:{port}">', "http://127.0.0.1:{port}/"),
    "prefetch": ('<link rel="prefetch" href="http://127.0.0.1:{port}/p">', "http://127.0.0.1:{port}/p"),
    "window.open": ('<script>window.open("http://127.0.0.1:{port}/w")</script>', "http://127.0.0.1:{port}/w"),
    "webrtc-ice": (
        "<script>const pc = new RTCPeerConnection({{iceServers: [{{urls: 'stun:127.0.0.1:{port}'}}]}});"
        " pc.createDataChannel('x'); pc.createOffer().then((o) => pc.setLocalDescription(o));</script>",
        "stun:127.0.0.1:{port}",
    ),
    "webtransport": (
        '<script>new WebTransport("https://127.0.0.1:{port}/x").ready.catch(() => {{}})</script>',
        "https://127.0.0.1:{port}/x",
    ),
    "service-worker": (
        '<script>navigator.serviceWorker.register("http://127.0.0.1:{port}/sw.js").catch(() => {{}})</script>',
        "http://127.0.0.1:{port}/sw.js",
    ),
    "caught-file-fetch": ('<script>fetch("file:///etc/passwd").catch(() => {{}})</script>', "file:///etc/passwd"),
}


@pytest.mark.parametrize("channel", sorted(SILENT_CHANNELS))
def test_a_way_out_without_a_request_event_is_named_and_reaches_nothing(
    runtime: Runtime, tmp_path: Path, listener: tuple[int, list[bytes]], channel: str
) -> None:
    port, seen = listener
    body, expected = (text.format(port=port) for text in SILENT_CHANNELS[channel])
    elapsed, urls = _refused(runtime, tmp_path, body)
    assert urls == [expected]
    assert elapsed < 10
    time.sleep(0.5)  # a socket opened late would still reach the listener
    assert seen == []


def test_a_service_worker_of_the_directory_is_refused_in_the_page(runtime: Runtime, tmp_path: Path) -> None:
    # Nothing outside is asked for, but a render registers no worker that could answer its
    # requests: the registration is rejected, and a page that does not catch that fails the plan.
    page = '<script>navigator.serviceWorker.register("sw.js")</script>'
    with pytest.raises(PageError, match="a render registers no service worker"):
        _plan_files(runtime, tmp_path, page, {"sw.js": "self.onfetch = () => {};"})


def test_files_inside_the_directory_stay_reachable(runtime: Runtime, tmp_path: Path) -> None:
    # The reach report refuses only what is outside: a same-directory link hint and fetch pass.
    page = '<link rel="prefetch" href="data.json"><script>fetch("data.json").catch(() => {})</script>'
    _plan_files(runtime, tmp_path, page, {"data.json": "{}"})


def _plan_files(runtime: Runtime, tmp_path: Path, body: str, files: dict[str, str]) -> None:
    project = tmp_path / "project"
    project.mkdir()
    for name, text in files.items():
        (project / name).write_text(text, encoding="utf-8")
    (project / "index.html").write_text(
        f'<!doctype html><div data-width="64" data-height="64" data-duration="0.2"></div>{body}', encoding="utf-8"
    )
    engine.plan(project, tmp_path / "plan", RenderConfig().plan_request(), runtime=runtime, scratch=tmp_path)
