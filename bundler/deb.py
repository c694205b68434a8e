"""Read Debian packages (.deb) in pure Python, without dpkg.

A .deb is an ar archive: ``debian-binary``, ``control.tar.*`` and
``data.tar.*``. Only the data tarball is read, as a stream, and nothing is
ever written to disk: members come back as bytes. Every member is checked
first: absolute or ``..`` paths, devices and FIFOs are refused, and links are
kept as paths inside the package, to be followed by ``DebContents.resolve``,
which refuses a chain that leaves the package.
"""

from __future__ import annotations

import gzip
import io
import lzma
import posixpath
import sys
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from bundler.errors import PackageError

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

AR_MAGIC = b"!<arch>\n"
_AR_HEADER = 60
_MAX_LINK_HOPS = 40


def ar_members(data: bytes, where: str) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of each member of an ar archive, refusing anything a .deb never holds."""
    if not data.startswith(AR_MAGIC):
        raise PackageError(f"{where}: not an ar archive (no {AR_MAGIC!r} magic)")
    offset = len(AR_MAGIC)
    seen: set[str] = set()
    while offset < len(data):
        header = data[offset : offset + _AR_HEADER]
        if len(header) < _AR_HEADER or header[58:60] != b"`\n":
            raise PackageError(f"{where}: truncated or malformed ar header at offset {offset}")
        raw_name = header[:16].decode("ascii", "replace").rstrip(" ")
        name = raw_name.removesuffix("/")
        size_text = header[48:58].decode("ascii", "replace").strip()
        if not size_text.isdigit():
            raise PackageError(f"{where}: ar member {raw_name!r} has a bad size field {size_text!r}")
        size = int(size_text)
        start = offset + _AR_HEADER
        if start + size > len(data):
            raise PackageError(f"{where}: ar member {raw_name!r} runs past the end of the archive")
        if not name or "/" in name or name in (".", "..") or name.startswith("#1/"):
            raise PackageError(f"{where}: refusing ar member {raw_name!r}")
        if name in seen:
            raise PackageError(f"{where}: ar member {name!r} appears twice")
        seen.add(name)
        yield name, data[start : start + size]
        offset = start + size + (size & 1)


def _decompressor(name: str, payload: bytes, where: str) -> io.BufferedIOBase:
    stream = io.BytesIO(payload)
    if name.endswith(".xz"):
        return lzma.LZMAFile(stream)
    if name.endswith(".zst"):
        return zstd.ZstdFile(stream)
    if name.endswith(".gz"):
        return gzip.GzipFile(fileobj=stream)
    if name.endswith(".tar"):
        return stream
    raise PackageError(f"{where}: unsupported compression for {name}")


def _member_path(name: str, where: str) -> str:
    """A tar member name as a path relative to the package root ("./usr/x" -> "usr/x")."""
    if name.startswith("/"):
        raise PackageError(f"{where}: refusing absolute member path {name!r}")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise PackageError(f"{where}: refusing member path with '..': {name!r}")
    return "/".join(parts)


def _inside(path: str, where: str, link: str) -> str:
    """Normalise a link target already joined to its directory; refuse one above the root."""
    normal = posixpath.normpath(path)
    if normal == ".." or normal.startswith("../"):
        raise PackageError(f"{where}: link {link!r} points outside the package")
    return "" if normal == "." else normal


@dataclass
class DebContents:
    """What a package holds: regular files (bytes only for the ones asked for) and links."""

    where: str
    files: dict[str, bytes] = field(default_factory=dict)
    regular: set[str] = field(default_factory=set)
    # link path -> target path, both relative to the package root
    links: dict[str, str] = field(default_factory=dict)

    def resolve(self, path: str) -> str:
        """The regular file ``path`` names once every link on the way is followed."""
        hops = 0
        parts = path.split("/")
        current = ""
        while parts:
            current = posixpath.join(current, parts.pop(0)) if current else parts.pop(0)
            if current in self.links:
                hops += 1
                if hops > _MAX_LINK_HOPS:
                    raise PackageError(f"{self.where}: too many links resolving {path!r}")
                target = self.links[current]
                parts = [p for p in target.split("/") if p] + parts
                current = ""
        if current not in self.regular:
            raise PackageError(f"{self.where}: {path!r} is not a regular file in the package")
        return current

    def read(self, path: str) -> bytes:
        """The bytes of the file ``path`` leads to; it must have been asked for when reading."""
        real = self.resolve(path)
        if real not in self.files:
            raise PackageError(f"{self.where}: {real!r} was not read from the package")
        return self.files[real]


def _add_member(contents: DebContents, member: tarfile.TarInfo, want: Callable[[str], bool]) -> bool:
    """Record one member's kind; return True when its bytes should be read."""
    where = contents.where
    path = _member_path(member.name, where)
    if member.isdir():
        return False
    if path in contents.regular or path in contents.links:
        raise PackageError(f"{where}: member {path!r} appears twice")
    if member.issym():
        target = member.linkname
        joined = target.lstrip("/") if target.startswith("/") else posixpath.join(posixpath.dirname(path), target)
        contents.links[path] = _inside(joined, where, path)
        return False
    if member.islnk():
        contents.links[path] = _member_path(member.linkname, where)
        return False
    if not member.isreg():
        raise PackageError(f"{where}: refusing member {member.name!r} (type {member.type!r})")
    contents.regular.add(path)
    return want(path)


def read_deb(data: bytes, where: str, want: Callable[[str], bool] = lambda _path: True) -> DebContents:
    """Read a .deb's data tarball; keep the bytes of the regular files ``want`` accepts."""
    members = dict(ar_members(data, where))
    if not members.get("debian-binary", b"").startswith(b"2."):
        raise PackageError(f"{where}: not a Debian binary package (debian-binary is missing or not 2.x)")
    names = [n for n in members if n.startswith("data.tar")]
    if len(names) != 1:
        raise PackageError(f"{where}: expected one data.tar member, found {names or 'none'}")
    contents = DebContents(where)
    try:
        with (
            _decompressor(names[0], members[names[0]], where) as raw,
            tarfile.open(fileobj=raw, mode="r|") as archive,
        ):
            for member in archive:
                if _add_member(contents, member, want):
                    stream = archive.extractfile(member)
                    assert stream is not None
                    contents.files[_member_path(member.name, where)] = stream.read()
    except (tarfile.TarError, lzma.LZMAError, EOFError, OSError, zstd.ZstdError) as exc:
        raise PackageError(f"{where}: cannot read {names[0]}: {exc}") from None
    return contents
