"""Tests for bundler.deb: .deb files built here, byte by byte, including hostile ones."""

from __future__ import annotations

import io
import lzma
import tarfile

import pytest

from bundler.deb import ar_members, read_deb
from bundler.errors import BundlerError, PackageError


def ar_archive(members: list[tuple[str, bytes]]) -> bytes:
    out = bytearray(b"!<arch>\n")
    for name, data in members:
        header = f"{name:<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(data):<10}`\n".encode()
        assert len(header) == 60
        out += header + data + (b"\n" if len(data) % 2 else b"")
    return bytes(out)


def tar_xz(build: list[tarfile.TarInfo | tuple[str, bytes]]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as archive:
        for item in build:
            if isinstance(item, tuple):
                info = tarfile.TarInfo(item[0])
                info.size = len(item[1])
                archive.addfile(info, io.BytesIO(item[1]))
            else:
                archive.addfile(item)
    return lzma.compress(raw.getvalue())


def link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


def deb(build: list[tarfile.TarInfo | tuple[str, bytes]]) -> bytes:
    return ar_archive([("debian-binary", b"2.0\n"), ("control.tar.xz", tar_xz([])), ("data.tar.xz", tar_xz(build))])


def test_reads_files_and_follows_soname_links_to_the_real_file() -> None:
    data = deb(
        [
            ("./usr/lib/x86_64-linux-gnu/libfoo.so.1.2.3", b"\x7fELF real"),
            link("./usr/lib/x86_64-linux-gnu/libfoo.so.1", "libfoo.so.1.2.3"),
            link("./usr/lib/libfoo.so", "/usr/lib/x86_64-linux-gnu/libfoo.so.1"),
            ("./usr/share/doc/foo/copyright", b"text"),
        ]
    )
    contents = read_deb(data, "deb:foo=1", lambda path: path.startswith("usr/lib/"))
    assert contents.regular == {"usr/lib/x86_64-linux-gnu/libfoo.so.1.2.3", "usr/share/doc/foo/copyright"}
    assert contents.resolve("usr/lib/x86_64-linux-gnu/libfoo.so.1") == "usr/lib/x86_64-linux-gnu/libfoo.so.1.2.3"
    assert contents.read("usr/lib/libfoo.so") == b"\x7fELF real"
    assert "usr/share/doc/foo/copyright" not in contents.files, "only wanted files are kept in memory"


def test_hard_links_resolve_to_their_target() -> None:
    contents = read_deb(deb([("./a/real", b"x"), link("./a/hard", "./a/real", tarfile.LNKTYPE)]), "deb:h=1")
    assert contents.read("a/hard") == b"x"


def test_reads_the_odd_sized_members_ar_pads() -> None:
    archive = ar_archive([("one", b"abc"), ("two", b"defg")])
    assert list(ar_members(archive, "x")) == [("one", b"abc"), ("two", b"defg")]


@pytest.mark.parametrize(
    ("member", "words"),
    [
        (("/etc/passwd", b"x"), "absolute member path"),
        (("./usr/../../etc/passwd", b"x"), "'..'"),
        (link("./usr/lib/evil.so", "../../../etc/shadow"), "points outside the package"),
        (link("./evil", "/../etc/shadow"), "points outside the package"),
        (link("./usr/hard", "../etc/passwd", tarfile.LNKTYPE), "'..'"),
        (tarfile.TarInfo("./dev/sda"), None),
        (tarfile.TarInfo("./run/fifo"), None),
    ],
)
def test_refuses_hostile_members(member: tarfile.TarInfo | tuple[str, bytes], words: str | None) -> None:
    if isinstance(member, tarfile.TarInfo) and words is None:
        member.type = tarfile.BLKTYPE if "dev" in member.name else tarfile.FIFOTYPE
        words = "refusing member"
    with pytest.raises(PackageError, match=words):
        read_deb(deb([member]), "deb:evil=1")


def test_refuses_a_link_loop_when_resolving() -> None:
    contents = read_deb(deb([link("./a", "b"), link("./b", "a")]), "deb:loop=1")
    with pytest.raises(PackageError, match="too many links"):
        contents.resolve("a")


def test_a_dangling_link_is_not_a_file() -> None:
    contents = read_deb(deb([link("./usr/lib/libgone.so.1", "libgone.so.1.0")]), "deb:d=1")
    with pytest.raises(PackageError, match="not a regular file"):
        contents.read("usr/lib/libgone.so.1")


def test_a_member_twice_is_refused() -> None:
    with pytest.raises(PackageError, match="twice"):
        read_deb(deb([("./a", b"1"), ("./a", b"2")]), "deb:twice=1")


@pytest.mark.parametrize(
    ("archive", "words"),
    [
        (b"PK\x03\x04", "not an ar archive"),
        (ar_archive([("debian-binary", b"2.0\n")])[:-3], "runs past the end|truncated"),
        (ar_archive([("../escape", b"x")]), "refusing ar member"),
        (ar_archive([("#1/20", b"x" * 20)]), "refusing ar member"),
        (ar_archive([("a", b"1"), ("a", b"2")]), "appears twice"),
        (b"!<arch>\n" + b"debian-binary   0           0     0     100644  12x       `\n", "bad size field"),
        (b"!<arch>\n" + b"x" * 59 + b"\n", "malformed ar header"),
    ],
)
def test_refuses_malformed_ar_archives(archive: bytes, words: str) -> None:
    with pytest.raises(PackageError, match=words):
        list(ar_members(archive, "deb:bad=1"))


def test_refuses_a_package_without_one_data_tarball() -> None:
    no_data = ar_archive([("debian-binary", b"2.0\n"), ("control.tar.xz", tar_xz([]))])
    with pytest.raises(PackageError, match=r"one data\.tar"):
        read_deb(no_data, "deb:x=1")
    with pytest.raises(PackageError, match="not a Debian binary package"):
        read_deb(ar_archive([("data.tar.xz", tar_xz([]))]), "deb:x=1")


def test_a_corrupt_data_tarball_is_a_package_error() -> None:
    broken = ar_archive([("debian-binary", b"2.0\n"), ("data.tar.xz", b"\xfd7zXZ\x00garbage")])
    with pytest.raises(PackageError, match=r"cannot read data\.tar\.xz"):
        read_deb(broken, "deb:x=1")


def test_package_error_is_a_bundler_error_with_a_hint() -> None:
    assert issubclass(PackageError, BundlerError)
    assert PackageError.hint
