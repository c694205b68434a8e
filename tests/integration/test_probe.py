"""The BeginFrame probe in the stand-in image, on the real artifact and on broken copies of it."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from probes.probe import run_probe, unzip_artifact

from .conftest import Built, StandinImage

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def task_dir(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("probe")
    root.chmod(0o755)
    unzip_artifact(built.zip_path, root / "task")
    return root / "task"


def broken_copy(task_dir: Path, tmp_path: Path) -> Path:
    tmp_path.chmod(0o755)
    copy = tmp_path / "task"
    shutil.copytree(task_dir, copy, symlinks=True)
    return copy


def test_probe_passes_on_the_built_artifact(task_dir: Path, standin_image: StandinImage) -> None:
    outcome = run_probe(task_dir, standin_image.tag)
    assert outcome.exit_code == 0, outcome.stderr_tail
    result = outcome.result
    assert result is not None and result["ok"] is True
    assert result["chrome_version"].endswith("153.0.8010.0")
    assert {check["name"] for check in result["checks"]} >= {
        "valid image data",
        "expected size",
        "expected pixel colours",
        "animation advances between frames",
        "two launches give identical frames",
    }
    assert set(result["timings"]) == {"unpack_s", "launch_s", "first_frame_s"}


def test_missing_bundled_libraries_fail_with_the_loader_message(
    task_dir: Path, standin_image: StandinImage, tmp_path: Path
) -> None:
    copy = broken_copy(task_dir, tmp_path)
    (copy / "bin/chromium/lib/libnss3.so").unlink()
    outcome = run_probe(copy, standin_image.tag)
    assert outcome.exit_code == 1
    assert outcome.result is not None and outcome.result["error"]["code"] == "ChromeCrashed"
    assert "libnss3.so" in outcome.result["error"]["message"]


def test_chrome_that_exits_at_once_fails_with_its_status(
    task_dir: Path, standin_image: StandinImage, tmp_path: Path
) -> None:
    copy = broken_copy(task_dir, tmp_path)
    fake = b"#!/bin/sh\necho 'this is not Chromium' >&2\nexit 3\n"
    (copy / "bin/chromium/chromium.zst").write_bytes(zstd.compress(fake))
    identity_path = copy / "bin/artifacts.json"
    identity = json.loads(identity_path.read_text(encoding="utf-8"))
    identity["chromium"]["frames"] = [[len(fake), (copy / "bin/chromium/chromium.zst").stat().st_size]]
    identity_path.write_text(json.dumps(identity), encoding="utf-8")
    outcome = run_probe(copy, standin_image.tag)
    assert outcome.exit_code == 1
    assert outcome.result is not None and outcome.result["error"]["code"] == "ChromeCrashed"
    message = outcome.result["error"]["message"]
    assert "exit status 3" in message and "this is not Chromium" in message


def test_writing_under_the_task_root_fails_clearly(task_dir: Path, standin_image: StandinImage) -> None:
    outcome = run_probe(task_dir, standin_image.tag, extra_env={"RENDERZIP_RUNTIME_DIR": "/var/task/runtime"})
    assert outcome.exit_code == 1
    assert outcome.result is not None and outcome.result["error"]["code"] == "RuntimeUnavailable"
    assert "Read-only file system" in outcome.result["error"]["message"]
