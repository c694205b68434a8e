"""`lock_diff` reads what the zip really vendors and names every drift from the lock."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from bundler.binaries import compress_frames
from bundler.lockfiles import load_artifacts_lock, load_runtime_lock
from bundler.targets import Target
from tests.conftest import require_tool
from tests.integration.conftest import Built, run_bundler

pytestmark = pytest.mark.slow

Edit = Callable[[dict[str, bytes]], None]


def _rewrite(source: Path, out: Path, edit: Edit) -> Path:
    """A copy of the zip with its members edited (the manifest is not consulted)."""
    with zipfile.ZipFile(source) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    edit(members)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    shutil.copy(source.with_name(source.name + ".manifest.json"), out.with_name(out.name + ".manifest.json"))
    return out


def _pin(name: str) -> str:
    return next(w.version for w in load_runtime_lock(Target.parse()).wheels if w.name == name)


def _lock_diff(zip_path: Path) -> subprocess.CompletedProcess[str]:
    return run_bundler("lock-diff", "--zip", str(zip_path))


def test_built_zip_matches_the_lock(built: Built) -> None:
    result = _lock_diff(built.zip_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "matches the lockfiles for python3.13 on x86_64" in result.stdout


def _flip_byte(name: str) -> Edit:
    def edit(members: dict[str, bytes]) -> None:
        data = bytearray(members[name])
        data[len(data) // 2] ^= 0x01
        members[name] = bytes(data)

    return edit


def _set_version(dist: str, version: str) -> Edit:
    def edit(members: dict[str, bytes]) -> None:
        (metadata,) = [n for n in members if n.startswith(f"{dist}-") and n.endswith(".dist-info/METADATA")]
        text = members[metadata].decode()
        lines = [f"Version: {version}" if line.startswith("Version: ") else line for line in text.splitlines()]
        members[metadata] = "\n".join(lines).encode()

    return edit


@pytest.mark.parametrize(
    ("label", "edit", "expected_words"),
    [
        (
            "one byte of a vendored file",
            _flip_byte("boto3/session.py"),
            ["wheel:boto3==", "boto3/session.py", "different bytes"],
        ),
        ("a dist-info version", _set_version("six", "9.9.9"), ["wheel:six==", "different version", "9.9.9"]),
        (
            "an added file",
            lambda m: m.__setitem__("boto3/backdoor.py", b"import os\n"),
            ["boto3/backdoor.py", "extra file, not in any lock"],
        ),
        (
            "a removed file",
            lambda m: m.pop("botocore/client.py"),
            ["wheel:botocore==", "botocore/client.py", "file missing"],
        ),
        (
            "one byte of a Chromium library",
            _flip_byte("bin/chromium/lib/libnss3.so"),
            ["chromium:@sparticuz/chromium@153.0.0", "bin/chromium/lib/libnss3.so", "different bytes"],
        ),
        (
            "a removed font",
            lambda m: m.pop("bin/chromium/fonts/Open_Sans/OpenSans-Bold.ttf"),
            ["OpenSans-Bold.ttf", "file missing"],
        ),
    ],
)
def test_drift_fails_naming_the_item(
    built: Built, tmp_path: Path, label: str, edit: Edit, expected_words: list[str]
) -> None:
    result = _lock_diff(_rewrite(built.zip_path, tmp_path / "handler.zip", edit))
    assert result.returncode == 1, f"{label}: {result.stdout}{result.stderr}"
    assert "FAILED" in result.stdout
    row = next((line for line in result.stdout.splitlines() if expected_words[-1] in line), "")
    for word in expected_words:
        assert word in row, f"{label}: {word!r} not in {row!r}\n{result.stdout}"


def test_swapped_ffmpeg_binary_is_caught_by_its_decoded_hash(built: Built, tmp_path: Path) -> None:
    other = tmp_path / "other.zst"
    compress_frames(Path("/bin/true").read_bytes(), other, lambda _d, _t: None)

    def edit(members: dict[str, bytes]) -> None:
        members["bin/ffmpeg.zst"] = other.read_bytes()

    result = _lock_diff(_rewrite(built.zip_path, tmp_path / "handler.zip", edit))
    assert result.returncode == 1
    ffmpeg_item = load_artifacts_lock().ffmpeg.item
    assert any(ffmpeg_item in line and "different bytes" in line for line in result.stdout.splitlines()), result.stdout


def test_elf_needing_a_newer_glibc_is_refused(built: Built, tmp_path: Path) -> None:
    gcc = require_tool("gcc")
    source = tmp_path / "new.c"
    source.write_text("#include <stdlib.h>\nint main(void) { return (int)(arc4random() & 1); }\n")
    binary = tmp_path / "new"
    subprocess.run([gcc, "-O1", "-o", str(binary), str(source)], check=True)

    def edit(members: dict[str, bytes]) -> None:
        members["bin/chromium/lib/libextra.so"] = binary.read_bytes()

    result = _lock_diff(_rewrite(built.zip_path, tmp_path / "handler.zip", edit))
    assert result.returncode == 1
    assert any(
        "libextra.so" in line and "needs GLIBC_2.36, target runtime has glibc 2.34" in line
        for line in result.stdout.splitlines()
    ), result.stdout


def test_missing_zip_is_a_clear_error(tmp_path: Path) -> None:
    result = _lock_diff(tmp_path / "nothing.zip")
    assert result.returncode == 2
    assert "ERROR no zip at" in result.stderr
    assert "nox -s build_zip" in result.stderr
