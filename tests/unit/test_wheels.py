"""Tests for bundler.wheels on a small wheel built in tmp_path."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from bundler.errors import HashMismatch, LockfileError, ZipLayoutError
from bundler.lockfiles import PinnedWheel
from bundler.wheels import installed_name, wheel_entries

DIST_INFO = "demo-1.0.dist-info"
RECORD = (
    b"demo/__init__.py,sha256=AAAA,10\n"
    b"demo/mod.py,sha256=BBBB,20\n"
    b"demo-1.0.dist-info/METADATA,sha256=CCCC,30\n"
    b"demo-1.0.dist-info/RECORD,,\n"
)
# name -> (bytes, unix mode or None for zipfile's default)
MEMBERS: dict[str, tuple[bytes, int | None]] = {
    "demo/__init__.py": (b"from demo.mod import VALUE\n", None),
    "demo/mod.py": (b"VALUE = 1\n", None),
    "demo/__pycache__/mod.cpython-313.pyc": (b"\xf3\r\r\nbytecode", None),
    "demo/stale.pyc": (b"\xf3\r\r\nbytecode", None),
    "demo/_speedups.cpython-313-x86_64-linux-gnu.so": (b"\x7fELF fake", None),
    "demo/libs/libfoo.so.1": (b"\x7fELF fake lib", None),
    "demo/bin/helper": (b"#!/bin/sh\n", 0o755),
    "demo/data/big/table.json": (b"{}", None),
    "demo/data/keep/small.json": (b"[]", None),
    "demo-1.0.data/purelib/demo_extra.py": (b"EXTRA = 2\n", None),
    "demo-1.0.data/scripts/demo-cli": (b"#!python\n", 0o755),
    f"{DIST_INFO}/METADATA": (b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n", None),
    f"{DIST_INFO}/WHEEL": (b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n", None),
    f"{DIST_INFO}/RECORD": (RECORD, None),
}


def _build_wheel(path: Path, members: dict[str, tuple[bytes, int | None]] = MEMBERS) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("demo/"), b"")  # a directory entry, as some wheels have
        for name, (data, mode) in members.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = ((0o100000 | mode) << 16) if mode is not None else 0
            archive.writestr(info, data)
    return path


def _pin(record: bytes = RECORD, prune: tuple[str, ...] = (), keep: tuple[str, ...] = ()) -> PinnedWheel:
    return PinnedWheel(
        name="demo",
        version="1.0",
        filename="demo-1.0-py3-none-any.whl",
        sha256="0" * 64,
        record_sha256=hashlib.sha256(record).hexdigest(),
        prune=prune,
        keep=keep,
    )


@pytest.fixture
def wheel(tmp_path: Path) -> Path:
    return _build_wheel(tmp_path / "demo-1.0-py3-none-any.whl")


# --- installed_name ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("member", "installed"),
    [
        ("demo/mod.py", "demo/mod.py"),
        ("demo-1.0.dist-info/RECORD", "demo-1.0.dist-info/RECORD"),
        ("demo/mod.pyc", None),
        ("demo/__pycache__/mod.cpython-313.pyc", None),
        ("__pycache__/top.cpython-313.pyc", None),
        ("demo/__pycache__/notes.txt", None),
        ("demo-1.0.data/purelib/x.py", "x.py"),
        ("demo-1.0.data/platlib/pkg/_c.so", "pkg/_c.so"),
        ("demo-1.0.data/scripts/demo-cli", None),
        ("demo-1.0.data/headers/demo.h", None),
        ("demo-1.0.data/data/share/doc.txt", None),
        ("demo-1.0.data/purelib/", None),
        ("demo/", None),
        ("demo/sub/", None),
    ],
)
def test_installed_name(member: str, installed: str | None) -> None:
    assert installed_name(member) == installed


# --- wheel_entries -----------------------------------------------------------------------------------------------


def test_entries_exclude_bytecode_scripts_and_directories(wheel: Path) -> None:
    names = {e.arcname for e in wheel_entries(_pin(), wheel)}
    assert not any(n.endswith(".pyc") or "__pycache__" in n for n in names)
    assert not any(n.endswith("/") for n in names)
    assert "demo-cli" not in {n.rsplit("/", 1)[-1] for n in names}
    assert names == {
        "demo/__init__.py",
        "demo/mod.py",
        "demo/_speedups.cpython-313-x86_64-linux-gnu.so",
        "demo/libs/libfoo.so.1",
        "demo/bin/helper",
        "demo/data/big/table.json",
        "demo/data/keep/small.json",
        "demo_extra.py",
        f"{DIST_INFO}/METADATA",
        f"{DIST_INFO}/WHEEL",
        f"{DIST_INFO}/RECORD",
    }


def test_entries_keep_the_dist_info_bytes(wheel: Path) -> None:
    entries = {e.arcname: e for e in wheel_entries(_pin(), wheel)}
    for name in ("METADATA", "WHEEL", "RECORD"):
        assert entries[f"{DIST_INFO}/{name}"].data == MEMBERS[f"{DIST_INFO}/{name}"][0]


def test_entries_carry_the_wheel_item_and_python_deps_component(wheel: Path) -> None:
    entries = wheel_entries(_pin(), wheel)
    assert {e.item for e in entries} == {"wheel:demo==1.0"}
    assert {e.component for e in entries} == {"python-deps"}
    by_name = {e.arcname: e for e in entries}
    assert by_name["demo/mod.py"].data == b"VALUE = 1\n"
    assert by_name["demo_extra.py"].data == b"EXTRA = 2\n"


def test_shared_objects_and_executable_members_are_marked_executable(wheel: Path) -> None:
    executable = {e.arcname for e in wheel_entries(_pin(), wheel) if e.executable}
    assert executable == {
        "demo/_speedups.cpython-313-x86_64-linux-gnu.so",
        "demo/libs/libfoo.so.1",
        "demo/bin/helper",
    }


def test_names_merely_containing_dot_so_are_not_executable(tmp_path: Path) -> None:
    members = {
        **MEMBERS,
        "demo/templates/page.source.html": (b"<html></html>", None),
        "demo/data/keep/data.sorted.json": (b"[]", None),
    }
    path = _build_wheel(tmp_path / "demo-1.0-py3-none-any.whl", members)
    executable = {e.arcname for e in wheel_entries(_pin(), path) if e.executable}
    assert "demo/templates/page.source.html" not in executable
    assert "demo/data/keep/data.sorted.json" not in executable


def test_prune_drops_matching_files_and_keep_wins(wheel: Path) -> None:
    pin = _pin(prune=("demo/data/*",), keep=("demo/data/keep/*",))
    names = {e.arcname for e in wheel_entries(pin, wheel)}
    assert "demo/data/big/table.json" not in names
    assert "demo/data/keep/small.json" in names
    assert "demo/mod.py" in names


def test_prune_applies_to_installed_names_of_data_members(wheel: Path) -> None:
    names = {e.arcname for e in wheel_entries(_pin(prune=("demo_extra.py",)), wheel)}
    assert "demo_extra.py" not in names


def test_record_differing_from_the_pin_raises_hash_mismatch(wheel: Path) -> None:
    pin = _pin(record=b"another RECORD\n")
    with pytest.raises(HashMismatch) as caught:
        wheel_entries(pin, wheel)
    error = caught.value
    assert error.expected == pin.record_sha256
    assert error.actual == hashlib.sha256(RECORD).hexdigest()
    assert "wheel:demo==1.0" in str(error)
    assert f"{DIST_INFO}/RECORD" in str(error)


def test_wheel_without_dist_info_is_refused(tmp_path: Path) -> None:
    members = {k: v for k, v in MEMBERS.items() if not k.startswith(DIST_INFO)}
    path = _build_wheel(tmp_path / "broken.whl", members)
    with pytest.raises(LockfileError, match="dist-info"):
        wheel_entries(_pin(), path)


def test_wheel_with_an_unsafe_member_path_is_refused(tmp_path: Path) -> None:
    members = {**MEMBERS, "demo/../../escape.py": (b"x", None)}
    path = _build_wheel(tmp_path / "evil.whl", members)
    with pytest.raises(ZipLayoutError, match="unsafe path"):
        wheel_entries(_pin(), path)
