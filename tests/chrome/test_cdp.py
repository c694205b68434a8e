"""The DevTools pipe client against the real Chromium: replies, events, timeouts, crashes, clean exit."""

from __future__ import annotations

import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from handler.errors import ChromeCrashed, ChromeTimeout, ProtocolError
from handler.render.chrome.browser import CHROME_FLAGS, Browser
from handler.render.chrome.cdp import CdpConnection
from handler.render.chrome.shm import shared_memory_dir
from handler.render.runtime import Runtime

from .conftest import WIDTH, browser_processes, composition

pytestmark = pytest.mark.chrome

HERE = Path(__file__).parent
NEVER = "new Promise(() => {})"


def open_fds() -> set[int]:
    return {int(name) for name in os.listdir("/proc/self/fd")}


def test_round_trip_and_version(browser: Browser) -> None:
    assert browser.version.startswith("HeadlessChrome/")
    reply = browser.connection.send("Target.getTargets")
    assert isinstance(reply["targetInfos"], list)


def test_error_reply_raises_protocol_error(browser: Browser) -> None:
    with pytest.raises(ProtocolError) as caught:
        browser.connection.send("Nope.notACommand")
    assert caught.value.method == "Nope.notACommand"
    assert "wasn't found" in caught.value.protocol_message


def test_events_reach_subscribers_by_method(browser: Browser) -> None:
    connection = browser.connection
    with connection.subscribe("Target.targetCreated") as created:
        connection.send("Target.setDiscoverTargets", {"discover": True})
        target = connection.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        params = created.wait(lambda event: event["targetInfo"]["targetId"] == target, timeout=10)
    assert params["targetInfo"]["type"] == "page"


def test_concurrent_sends_each_get_their_own_reply(browser: Browser) -> None:
    page = browser.open_page(64, 64, allowed_root=HERE)

    def square(n: int) -> int:
        return int(page.evaluate(f"{n} * {n}"))

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(square, range(200))) == [n * n for n in range(200)]


def test_command_without_answer_times_out_and_the_connection_lives_on(browser: Browser) -> None:
    page = browser.open_page(64, 64, allowed_root=HERE)
    with pytest.raises(ChromeTimeout, match=r"Runtime\.evaluate got no answer within 0\.5 s"):
        page.evaluate(NEVER, timeout=0.5)
    assert page.evaluate("1 + 1") == 2


def test_killed_chrome_fails_every_waiter_with_status_and_stderr(runtime: Runtime) -> None:
    # Logging to stderr guarantees lines to capture.
    connection = CdpConnection.spawn(
        runtime.chromium,
        [*CHROME_FLAGS, "--enable-logging=stderr", "--v=1", "--remote-debugging-pipe", "about:blank"],
        runtime.chromium_env(),
    )
    try:
        connection.send("Browser.getVersion")
        target = connection.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = connection.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        waiting = connection.post("Runtime.evaluate", {"expression": NEVER, "awaitPromise": True}, session_id=session)
        os.kill(connection.process.pid, signal.SIGKILL)
        with pytest.raises(ChromeCrashed) as caught:
            connection.result("Runtime.evaluate", waiting, timeout=10)
        assert caught.value.exit_status == -signal.SIGKILL
        assert caught.value.stderr_tail.strip()
        assert len(caught.value.stderr_tail.splitlines()) <= 20
        assert "exit status -9" in str(caught.value)
        with pytest.raises(ChromeCrashed):
            connection.send("Browser.getVersion")
    finally:
        connection.close(timeout=2)


def test_close_reaps_chrome_and_leaks_no_fd_or_thread(runtime: Runtime, tmp_path: Path) -> None:
    fds, threads = open_fds(), set(threading.enumerate())
    browser = Browser.launch(runtime, tmp_path)
    pid, profile = browser.connection.process.pid, browser.user_data_dir
    browser.open_page(64, 64, allowed_root=profile)
    browser.close()
    assert browser.connection.process.returncode is not None
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # already reaped: no zombie
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)  # no helper process left in Chrome's group
    assert not profile.exists()
    assert open_fds() == fds
    assert set(threading.enumerate()) == threads


def test_an_event_handler_that_raises_fails_every_waiter_at_once(browser: Browser) -> None:
    connection = browser.connection

    def handler(params: dict[str, object]) -> None:
        raise KeyError("targetInfo")

    page = browser.open_page(64, 64, allowed_root=HERE)
    waiting = page.connection.post(
        "Runtime.evaluate", {"expression": NEVER, "awaitPromise": True}, session_id=page.session_id
    )
    connection.send("Target.setDiscoverTargets", {"discover": True})
    connection.on("Target.targetCreated", handler)
    started = time.monotonic()
    reason = r"the Target\.targetCreated event handler raised KeyError\('targetInfo'\); the connection is closed"
    with pytest.raises(ProtocolError, match=reason):
        connection.send("Target.createTarget", {"url": "about:blank"}, timeout=20)
    with pytest.raises(ProtocolError, match=reason):
        connection.result("Runtime.evaluate", waiting, timeout=20)
    with pytest.raises(ProtocolError, match=reason):
        connection.send("Browser.getVersion", timeout=20)
    assert time.monotonic() - started < 5.0


def shared_memory_files(browser: Browser) -> set[Path]:
    """The shared-memory files (unlinked, still mapped) of every process of ``browser``."""
    found: set[Path] = set()
    for pid in browser_processes(browser):
        try:
            maps = Path(f"/proc/{pid}/maps").read_text(encoding="utf-8")
        except OSError:
            continue
        for line in maps.splitlines():
            name = line.split(None, 5)[-1]
            if ".org.chromium." in name and name.endswith(" (deleted)"):
                found.add(Path(name.removesuffix(" (deleted)")))
    return found


@pytest.mark.parametrize("chosen", ["default", "given"])
def test_frames_pass_through_the_chosen_shared_memory_directory(runtime: Runtime, tmp_path: Path, chosen: str) -> None:
    given = tmp_path / "shm"
    given.mkdir()
    expected = shared_memory_dir(tmp_path) if chosen == "default" else given
    with Browser.launch(runtime, tmp_path, shm_dir=given if chosen == "given" else None) as browser:
        project = composition("clock")
        page = browser.open_page(WIDTH, 48, allowed_root=project)
        page.navigate(project / "index.html")
        page.capture(0, 30.0, fmt="png")
        files = shared_memory_files(browser)
    assert files, "Chrome mapped no shared memory"
    assert {file.parent for file in files} == {expected}
