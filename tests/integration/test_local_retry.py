"""The local runner retries as the state machine does: a real crash is retried, a permanent error is not."""

from __future__ import annotations

import io
import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from handler import local
from handler.errors import PageError, retryable_codes
from handler.local import LocalRender
from handler.retry import DEFAULT_POLICY
from handler.runtime import Runtime
from tests.integration.conftest import BARCODE, ROOT, barcode_values

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


class ChromeKiller(threading.Thread):
    """Kills, once, the Chrome of a chunk that is being encoded: a pool worker whose children are Chrome and ffmpeg."""

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(daemon=True)
        self.chromium = str(runtime.chromium.resolve())
        self.ffmpeg = str(runtime.ffmpeg.resolve())
        self.killed: list[int] = []
        self.done = threading.Event()

    def run(self) -> None:
        me = os.getpid()
        while not self.done.is_set():
            table = _parents()
            for worker in [pid for pid, parent in table.items() if parent == me]:
                children = {pid: _exe(pid) for pid, parent in table.items() if parent == worker}
                chrome = [pid for pid, exe in children.items() if exe == self.chromium]
                if chrome and self.ffmpeg in children.values():
                    os.killpg(chrome[0], signal.SIGKILL)  # Chrome leads its own process group
                    self.killed.append(chrome[0])
                    return
            time.sleep(0.005)


def test_a_chunk_whose_chrome_is_killed_mid_render_is_retried_and_gives_the_same_bytes(
    packaged_runtime: Runtime, barcode_local_render: LocalRender, tmp_path: Path
) -> None:
    killer = ChromeKiller(packaged_runtime)
    progress = io.StringIO()
    killer.start()
    try:
        result = local.render(BARCODE, tmp_path / "out.mp4", chunks=3, workers=2, stream=progress, retry=DEFAULT_POLICY)
    finally:
        killer.done.set()
        killer.join()
    assert len(killer.killed) == 1, "no chunk's Chrome was caught while encoding"

    assert len(result.retries) == 1, result.retries
    step, retried = result.retries[0]
    assert step.startswith("chunk ") and retried.retry == 1
    assert retried.code == "ChromeCrashed" and retried.code in retryable_codes()
    assert 0 <= retried.wait_seconds <= DEFAULT_POLICY.delay(0)
    assert f"{step} done after 1 retry (ChromeCrashed)" in progress.getvalue()

    reference = barcode_local_render
    assert [chunk["Sha256"] for chunk in result.chunks] == [chunk["Sha256"] for chunk in reference.chunks]
    assert result.assembled["Sha256"] == reference.assembled["Sha256"]
    assert barcode_values(packaged_runtime.ffmpeg, result.output) == list(range(60))


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
