"""Deterministic packing, and extraction that refuses hostile archives and writes nothing outside."""

from __future__ import annotations

import gzip
import io
import os
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from handler.edge.archive import pack_tree, safe_extract, scan_archive
from handler.errors import UnsafeArchive

Member = tuple[tarfile.TarInfo, bytes | None]


def info(name: str, kind: bytes = tarfile.REGTYPE, *, size: int = 0, linkname: str = "") -> tarfile.TarInfo:
    member = tarfile.TarInfo(name)
    member.type = kind
    member.size = size
    member.linkname = linkname
    member.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    return member


def regular(name: str, data: bytes) -> Member:
    return info(name, size=len(data)), data


def write_tar_gz(path: Path, members: list[Member]) -> Path:
    with gzip.open(path, "wb") as gz, tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for member, data in members:
            tar.addfile(member, io.BytesIO(data) if data is not None else None)
    return path


def make_tree(root: Path) -> Path:
    (root / "assets" / "fonts").mkdir(parents=True)
    (root / "index.html").write_text("<html data-fps='30'></html>")
    (root / "assets" / "fonts" / "Inter Variable é.woff2").write_bytes(os.urandom(3000))
    (root / "assets" / "run.sh").write_text("#!/bin/sh\n")
    (root / "assets" / "run.sh").chmod(0o700)
    (root / ("long-" + "n" * 150 + ".txt")).write_text("long name")
    (root / "empty").mkdir()
    return root


def test_pack_tree_is_byte_identical_for_identical_trees(tmp_path: Path) -> None:
    first = make_tree(tmp_path / "one")
    second = tmp_path / "two"
    second.mkdir()
    old_umask = os.umask(0o077)
    try:
        for path in sorted(first.rglob("*")):
            copy = second / path.relative_to(first)
            if path.is_dir():
                copy.mkdir()
            else:
                copy.write_bytes(path.read_bytes())
                copy.chmod(0o750 if os.access(path, os.X_OK) else 0o600)
            os.utime(copy, (1_000_000, 1_000_000))
    finally:
        os.umask(old_umask)
    digest_one = pack_tree(first, tmp_path / "one.tar.gz")
    digest_two = pack_tree(second, tmp_path / "two.tar.gz")
    assert (tmp_path / "one.tar.gz").read_bytes() == (tmp_path / "two.tar.gz").read_bytes()
    assert digest_one == digest_two


def test_packed_members_are_normalised(tmp_path: Path) -> None:
    pack_tree(make_tree(tmp_path / "tree"), tmp_path / "out.tar.gz")
    with tarfile.open(tmp_path / "out.tar.gz") as tar:
        members = tar.getmembers()
    names = [member.name for member in members]
    assert names == sorted(names, key=lambda name: name.split("/"))
    for member in members:
        assert (member.mtime, member.uid, member.gid, member.uname, member.gname) == (0, 0, 0, "", "")
        assert member.mode in (0o644, 0o755)
    assert {m.name: m.mode for m in members}["assets/run.sh"] == 0o755
    assert (tmp_path / "out.tar.gz").read_bytes()[4:8] == b"\0\0\0\0"  # gzip mtime


def test_pack_refuses_links(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "tree")
    (tree / "link").symlink_to("index.html")
    with pytest.raises(UnsafeArchive, match="only regular files and directories"):
        pack_tree(tree, tmp_path / "out.tar.gz")
    assert not (tmp_path / "out.tar.gz").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["tree"]


def test_round_trip_and_scan_agree(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "tree")
    pack_tree(tree, tmp_path / "plan.tar.gz")
    scanned = scan_archive(tmp_path / "plan.tar.gz")
    written = safe_extract(tmp_path / "plan.tar.gz", tmp_path / "out")
    assert scanned == written
    for entry in written:
        assert (tmp_path / "out" / entry.path).read_bytes() == (tree / entry.path).read_bytes()
    assert (tmp_path / "out" / "assets" / "run.sh").stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "out" / "index.html").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "out" / "empty").is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "plan.tar.gz", "tree"]


def test_accepts_dot_slash_names_as_other_tools_write_them(tmp_path: Path) -> None:
    archive = write_tar_gz(tmp_path / "p.tar.gz", [(info(".", tarfile.DIRTYPE), None), regular("./index.html", b"x")])
    assert [m.path for m in safe_extract(archive, tmp_path / "out")] == ["index.html"]


HOSTILE: dict[str, Callable[[], list[Member]]] = {
    "absolute path": lambda: [regular("/tmp/renderzip-escaped", b"x")],
    "dot-dot": lambda: [regular("assets/../../escaped", b"x")],
    "dot-dot at the end": lambda: [regular("assets/..", b"x")],
    "symlink escaping": lambda: [
        (info("assets", tarfile.SYMTYPE, linkname="../.."), None),
        regular("assets/escaped", b"x"),
    ],
    "symlink inside": lambda: [regular("a.txt", b"x"), (info("b.txt", tarfile.SYMTYPE, linkname="a.txt"), None)],
    "absolute symlink": lambda: [(info("passwd", tarfile.SYMTYPE, linkname="/etc/passwd"), None)],
    "write through a symlink to /etc/passwd": lambda: [
        (info("passwd", tarfile.SYMTYPE, linkname="/etc/passwd"), None),
        regular("passwd", b"renderzip-was-here::0:0::/:/bin/sh\n"),
    ],
    "hard link": lambda: [(info("passwd", tarfile.LNKTYPE, linkname="/etc/passwd"), None)],
    "character device": lambda: [(info("null", tarfile.CHRTYPE), None)],
    "block device": lambda: [(info("disk", tarfile.BLKTYPE), None)],
    "fifo": lambda: [(info("pipe", tarfile.FIFOTYPE), None)],
    "backslash": lambda: [regular("..\\..\\escaped", b"x")],
    "duplicate member": lambda: [regular("a.txt", b"x"), regular("a.txt", b"y")],
    "file over a directory": lambda: [(info("a", tarfile.DIRTYPE), None), regular("a", b"x")],
    "late bad member after good ones": lambda: (
        [regular(f"f{i}.txt", b"ok") for i in range(20)] + [regular("../late", b"x")]
    ),
}


def assert_nothing_written(tmp_path: Path, before: set[str]) -> None:
    assert {p.name for p in tmp_path.iterdir()} == before
    assert b"renderzip-was-here" not in Path("/etc/passwd").read_bytes()
    assert not Path("/tmp/renderzip-escaped").exists()
    assert not (tmp_path.parent / "escaped").exists()


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_refuses_hostile_archive_and_writes_nothing(tmp_path: Path, case: str) -> None:
    archive = write_tar_gz(tmp_path / "hostile.tar.gz", HOSTILE[case]())
    before = {p.name for p in tmp_path.iterdir()}
    with pytest.raises(UnsafeArchive):
        safe_extract(archive, tmp_path / "out")
    assert_nothing_written(tmp_path, before)
    with pytest.raises(UnsafeArchive):
        scan_archive(archive)


def test_refuses_more_content_than_the_limit(tmp_path: Path) -> None:
    archive = write_tar_gz(
        tmp_path / "big.tar.gz", [regular("a.bin", os.urandom(600_000)), regular("b.bin", os.urandom(600_000))]
    )
    before = {p.name for p in tmp_path.iterdir()}
    with pytest.raises(UnsafeArchive, match="more than 1000000 bytes"):
        safe_extract(archive, tmp_path / "out", max_bytes=1_000_000)
    assert_nothing_written(tmp_path, before)


def test_refuses_too_many_members(tmp_path: Path) -> None:
    archive = write_tar_gz(tmp_path / "many.tar.gz", [regular(f"{i}.txt", b"") for i in range(11)])
    with pytest.raises(UnsafeArchive, match="more than 10 members"):
        safe_extract(archive, tmp_path / "out", max_members=10)
    assert not (tmp_path / "out").exists()


def test_refuses_a_compression_bomb_before_inflating_it(tmp_path: Path) -> None:
    archive = write_tar_gz(tmp_path / "bomb.tar.gz", [regular("zeros.bin", bytes(256 * 1024 * 1024))])
    assert archive.stat().st_size < 1024 * 1024
    before = {p.name for p in tmp_path.iterdir()}
    with pytest.raises(UnsafeArchive, match="compression bomb"):
        safe_extract(archive, tmp_path / "out")
    assert_nothing_written(tmp_path, before)


def test_refuses_a_declared_size_past_the_limit_even_with_little_data(tmp_path: Path) -> None:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        tar.addfile(info("huge.bin", size=0))
    header = bytearray(raw.getvalue())
    liar = tarfile.TarInfo("huge.bin")
    liar.size = 10**9
    header[:512] = liar.tobuf(tarfile.USTAR_FORMAT)
    (tmp_path / "liar.tar.gz").write_bytes(gzip.compress(bytes(header)))
    with pytest.raises(UnsafeArchive):
        safe_extract(tmp_path / "liar.tar.gz", tmp_path / "out", max_bytes=10**6)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("not gzip", b"PK\x03\x04 this is a zip file"),
        ("truncated", None),
        ("trailing data", b"trailer"),
    ],
)
def test_refuses_unreadable_archives(tmp_path: Path, name: str, content: bytes | None) -> None:
    good = write_tar_gz(tmp_path / "good.tar.gz", [regular("a.txt", os.urandom(5000))]).read_bytes()
    data = good[: len(good) // 2] if content is None else (good + content if name == "trailing data" else content)
    (tmp_path / "bad.tar.gz").write_bytes(data)
    with pytest.raises(UnsafeArchive):
        safe_extract(tmp_path / "bad.tar.gz", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_refuses_a_target_that_is_not_empty(tmp_path: Path) -> None:
    archive = write_tar_gz(tmp_path / "p.tar.gz", [regular("a.txt", b"x")])
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep").write_text("mine")
    with pytest.raises(UnsafeArchive, match="not an empty directory"):
        safe_extract(archive, tmp_path / "out")
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["keep"]


def test_extracts_into_an_existing_empty_target(tmp_path: Path) -> None:
    archive = write_tar_gz(tmp_path / "p.tar.gz", [regular("dir/a.txt", b"x")])
    (tmp_path / "out").mkdir()
    safe_extract(archive, tmp_path / "out")
    assert (tmp_path / "out" / "dir" / "a.txt").read_bytes() == b"x"
