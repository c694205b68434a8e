"""The local runner retries as the state machine does: a real crash is retried, a permanent error is not."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from handler.errors import PageError, retryable_codes
from handler.render.chrome.browser import Browser
from handler.render.composition import read_composition
from handler.render.runtime import Runtime
from handler.render.settings import DEFAULT_JPEG_QUALITY
from runner import local
from runner.local import LocalRender
from tests.integration.conftest import BARCODE, ROOT, barcode_values
from tooling.retry import DEFAULT_POLICY

pytestmark = pytest.mark.chrome


def _parents() -> dict[int, int]:
    """pid -> parent pid of every process we can read."""
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            table[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return table


def _exe(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return None


def _bytes_read(pid: int) -> int:
    """What a process has read so far (``rchar``): for the chunk's ffmpeg, the frames piped into it."""
    try:
        for line in Path(f"/proc/{pid}/io").read_text().splitlines():
            if line.startswith("rchar:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _frame_bytes(runtime: Runtime, scratch: Path) -> int:
    """The size of one captured frame of the barcode composition, as a chunk pipes it to ffmpeg."""
    spec = read_composition(BARCODE)
    with Browser.launch(runtime, scratch) as browser:
        page = browser.open_page(spec.width, spec.height, allowed_root=BARCODE)
        page.navigate(BARCODE / "index.html")
        page.warm_up(0, float(spec.fps))
        return len(page.capture(0, float(spec.fps), fmt="jpeg", quality=DEFAULT_JPEG_QUALITY))


class ChromeKiller(threading.Thread):
    """Kills, once, a Chrome of a chunk whose ffmpeg has already been given ``after_bytes`` of frames."""

    def __init__(self, runtime: Runtime, after_bytes: int) -> None:
        super().__init__(daemon=True)
        self.chromium = str(runtime.chromium.resolve())
        self.ffmpeg = str(runtime.ffmpeg.resolve())
        self.after_bytes = after_bytes
        self.killed: list[int] = []
        self.read_at_kill = 0
        self.done = threading.Event()

    def run(self) -> None:
        me = os.getpid()
        while not self.done.is_set():
            table = _parents()
            for worker in [pid for pid, parent in table.items() if parent == me]:
                children = {pid: _exe(pid) for pid, parent in table.items() if parent == worker}
                chrome = [pid for pid, exe in children.items() if exe == self.chromium]
                encoders = [pid for pid, exe in children.items() if exe == self.ffmpeg]
                read = max((_bytes_read(pid) for pid in encoders), default=0)
                if chrome and read >= self.after_bytes:
                    os.killpg(chrome[0], signal.SIGKILL)  # Chrome leads its own process group
                    self.killed.append(chrome[0])
                    self.read_at_kill = read
                    return
            time.sleep(0.002)


def test_a_chunk_whose_chrome_is_killed_mid_render_is_retried_and_gives_the_same_bytes(
    packaged_runtime: Runtime, barcode_local_render: LocalRender, tmp_path: Path
) -> None:
    frame = _frame_bytes(packaged_runtime, tmp_path)
    frames_first = 5
    killer = ChromeKiller(packaged_runtime, after_bytes=frames_first * frame)
    progress = io.StringIO()
    temp_root = tmp_path / "tmp"
    temp_root.mkdir()
    killer.start()
    try:
        with _temp_dir(temp_root):
            result = local.render(
                BARCODE, tmp_path / "out.mp4", chunks=3, workers=2, stream=progress, retry=DEFAULT_POLICY
            )
    finally:
        killer.done.set()
        killer.join()
    assert len(killer.killed) == 1, "no chunk's Chrome was caught after its first frames were encoded"
    # Killed mid-chunk: at least the first frames were piped to ffmpeg, not yet all 20 of the chunk.
    assert frames_first * frame <= killer.read_at_kill < 20 * frame * 2

    assert len(result.retries) == 1, result.retries
    step, retried = result.retries[0]
    assert step.startswith("chunk ") and retried.retry == 1
    assert retried.code == "ChromeCrashed" and retried.code in retryable_codes()
    assert 0 <= retried.wait_seconds <= DEFAULT_POLICY.delay(0)
    assert f"{step} done after 1 retry (ChromeCrashed)" in progress.getvalue()

    # The failed attempt's partial chunk and its Chrome profile went with its workspace.
    assert sorted(path.name for path in temp_root.iterdir()) == []
    reference = barcode_local_render
    assert [chunk["Sha256"] for chunk in result.chunks] == [chunk["Sha256"] for chunk in reference.chunks]
    assert result.assembled["Sha256"] == reference.assembled["Sha256"]
    assert barcode_values(packaged_runtime.ffmpeg, result.output) == list(range(60))


@contextlib.contextmanager
def _temp_dir(path: Path) -> Iterator[None]:
    """The runner and its workers make their temporary directories under ``path`` while it is set."""
    before = tempfile.tempdir
    tempfile.tempdir = str(path)
    try:
        yield
    finally:
        tempfile.tempdir = before


def _log_lines(captured: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in captured.splitlines() if line.startswith('{"ts"')]


def test_a_permanent_error_is_raised_at_once_without_a_retry(
    packaged_runtime: Runtime, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """seek-error throws from t = 1 s: its second chunk fails with PageError, which no retry can mend."""
    with pytest.raises(PageError, match="composition broke at t=1") as raised:
        local.render(ROOT / "tests" / "compositions" / "seek-error", tmp_path / "out.mp4", chunks=2, workers=2)
    assert raised.value.code == "PageError" and not raised.value.retryable
    # One log line per invocation, workers included: the failing chunk ran exactly once.
    lines = _log_lines(capfd.readouterr().out)
    chunk_starts = [line for line in lines if line["action"] == "renderChunk" and line["event"] == "start"]
    errors = [line for line in lines if line["event"] == "error"]
    assert len(chunk_starts) == 2
    assert [line["error_code"] for line in errors] == ["PageError"]
    assert not (tmp_path / "out.mp4").exists()
