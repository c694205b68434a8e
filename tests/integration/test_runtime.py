"""Preparing the packed binaries: the layout Chromium needs, the sentinel, and two processes at once."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from bundler.binaries import compress_frames
from handler.errors import RuntimeUnavailable
from handler.render.runtime import SENTINEL, prepare

ROOT = Path(__file__).resolve().parents[2]


def _packed(task: Path, arcname: str, content: bytes) -> dict[str, object]:
    frames = compress_frames(content, task / arcname, lambda done, total: None)
    return {"packed": arcname, "frames": [list(f) for f in frames], "sha256": hashlib.sha256(content).hexdigest()}


@pytest.fixture
def artifact(tmp_path: Path) -> Path:
    """An unzipped artifact with the headless-shell layout: small, real zstd frames, every kind of side file."""
    task = tmp_path / "task"
    chromium_dir = task / "bin" / "chromium"
    for relative, data in {
        "lib/libnss3.so": b"nss",
        "fonts/Sans.ttf": b"font",
        "swiftshader/libvk_swiftshader.so": b"vk",
        "resources/icudtl.dat": b"icu",
        "resources/v8_context_snapshot.bin": b"v8",
    }.items():
        (chromium_dir / relative).parent.mkdir(parents=True, exist_ok=True)
        (chromium_dir / relative).write_bytes(data)
    chromium = _packed(task, "bin/chromium/chromium.zst", b"\x7fELF chromium " * 5000)
    ffmpeg = _packed(task, "bin/ffmpeg.zst", b"\x7fELF ffmpeg " * 3000)
    identity = {
        "chromium": {**chromium, "dir": "bin/chromium", "source": "headless-shell", "version": "1.2.3"},
        "ffmpeg": {**ffmpeg, "version": "7.0"},
        "format": {"compression": "zstd", "window_log": 27},
    }
    (task / "bin" / "artifacts.json").write_text(json.dumps(identity), encoding="utf-8")
    return task


def test_side_files_land_where_chromium_looks_for_them(artifact: Path, tmp_path: Path) -> None:
    runtime = prepare(artifact, tmp_path / "runtime")
    beside = runtime.chromium.parent
    # ICU data, the V8 snapshot and SwiftShader are loaded from the binary's own directory.
    assert (beside / "icudtl.dat").read_bytes() == b"icu"
    assert (beside / "v8_context_snapshot.bin").read_bytes() == b"v8"
    assert (beside / "libvk_swiftshader.so").read_bytes() == b"vk"
    assert (beside / "lib" / "libnss3.so").read_bytes() == b"nss"
    assert (beside / "fonts" / "Sans.ttf").read_bytes() == b"font"
    assert runtime.chromium.read_bytes() == b"\x7fELF chromium " * 5000
    assert os.access(runtime.chromium, os.X_OK) and os.access(runtime.ffmpeg, os.X_OK)
    assert runtime.identity.chromium_version == "1.2.3"
    assert runtime.chromium_env({})["LD_LIBRARY_PATH"] == str(beside / "lib")


def test_prepared_binaries_are_reused_while_the_sentinel_stands(artifact: Path, tmp_path: Path) -> None:
    first = prepare(artifact, tmp_path / "runtime")
    stamp = first.chromium.stat().st_mtime_ns
    again = prepare(artifact, tmp_path / "runtime")
    assert again.root == first.root
    assert again.chromium.stat().st_mtime_ns == stamp


def test_a_missing_sentinel_means_a_broken_attempt_and_is_redone(artifact: Path, tmp_path: Path) -> None:
    first = prepare(artifact, tmp_path / "runtime")
    (first.root / SENTINEL).unlink()
    first.chromium.write_bytes(b"half written")
    redone = prepare(artifact, tmp_path / "runtime")
    assert redone.root == first.root
    assert redone.chromium.read_bytes() == b"\x7fELF chromium " * 5000
    assert (redone.root / SENTINEL).is_file()


def test_two_processes_preparing_at_once_share_one_result(artifact: Path, tmp_path: Path) -> None:
    root = tmp_path / "runtime"
    script = (
        "import sys; from pathlib import Path; from handler.render.runtime import prepare; "
        "print(prepare(Path(sys.argv[1]), Path(sys.argv[2])).chromium)"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(artifact), str(root)], stdout=subprocess.PIPE, text=True, env=env
        )
        for _ in range(4)
    ]
    paths = {racer.communicate(timeout=60)[0].strip() for racer in racers}
    assert [racer.returncode for racer in racers] == [0, 0, 0, 0]
    assert len(paths) == 1
    assert Path(paths.pop()).read_bytes() == b"\x7fELF chromium " * 5000
    assert not [p for p in root.iterdir() if p.name.startswith(".preparing-")]


def test_a_corrupt_frame_is_a_typed_error_and_leaves_nothing_ready(artifact: Path, tmp_path: Path) -> None:
    packed = artifact / "bin" / "chromium" / "chromium.zst"
    payload = bytearray(packed.read_bytes())
    payload[len(payload) // 2] ^= 0xFF
    packed.write_bytes(bytes(payload))
    with pytest.raises(RuntimeUnavailable, match="chromium"):
        prepare(artifact, tmp_path / "runtime")
    assert not [p for p in (tmp_path / "runtime").rglob(SENTINEL)]


def test_copies_of_one_zip_share_their_prepared_binaries(artifact: Path, tmp_path: Path) -> None:
    def zipped(name: str) -> Path:
        path = tmp_path / name / "handler.zip"
        path.parent.mkdir()
        with zipfile.ZipFile(path, "w") as archive:
            for file in sorted(artifact.rglob("*")):
                if file.is_file():
                    archive.write(file, file.relative_to(artifact).as_posix())
        return path

    first, copy = zipped("a"), zipped("b")
    assert prepare(first, tmp_path / "runtime").root == prepare(copy, tmp_path / "runtime").root
    # Another byte anywhere under bin/ is another runtime.
    with zipfile.ZipFile(copy, "a") as archive:
        archive.writestr("bin/chromium/fonts/Extra.ttf", b"more")
    assert prepare(copy, tmp_path / "runtime").root != prepare(first, tmp_path / "runtime").root


def test_building_a_runtime_removes_those_unused_for_a_month(artifact: Path, tmp_path: Path) -> None:
    root = tmp_path / "runtime"
    old = prepare(artifact, root)
    identity = artifact / "bin" / "artifacts.json"
    recent_artifact = tmp_path / "recent"
    shutil.copytree(artifact, recent_artifact)
    (recent_artifact / "bin" / "artifacts.json").write_text(identity.read_text().replace("1.2.3", "1.2.4"))
    recent = prepare(recent_artifact, root)
    month_ago = time.time() - 31 * 86400
    os.utime(old.root / SENTINEL, (month_ago, month_ago))
    os.utime(recent.root / SENTINEL, (month_ago + 2 * 86400, month_ago + 2 * 86400))
    dead_build = root / ".preparing-dead"
    dead_build.mkdir()
    os.utime(dead_build, (month_ago, month_ago))
    # Using a runtime marks it as used: the recent one is used again now.
    assert prepare(recent_artifact, root).root == recent.root
    newest_artifact = tmp_path / "newest"
    shutil.copytree(artifact, newest_artifact)
    (newest_artifact / "bin" / "artifacts.json").write_text(identity.read_text().replace("1.2.3", "1.2.5"))
    newest = prepare(newest_artifact, root)
    assert not old.root.exists()
    assert not dead_build.exists()
    assert recent.root.is_dir() and newest.root.is_dir()
