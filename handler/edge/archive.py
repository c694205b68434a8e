"""Deterministic ``.tar.gz`` packing and extraction that refuses anything unsafe.

`pack_tree` writes the same bytes for the same tree: members sorted by path,
mtime 0, owner 0/0 with empty names, modes 0644/0755, and a gzip header with
no name and mtime 0.

`safe_extract` accepts regular files and directories only. It refuses, with
`UnsafeArchive`: absolute names, ``..`` segments, backslashes and control
characters in names; every symbolic link and hard link (whether or not it
escapes: a composition never needs one, and refusing all of them leaves no
case to get wrong); devices, FIFOs and other special members; duplicates;
more than ``max_members`` members or ``max_bytes`` of content; and a stream
that inflates more than ``max_ratio`` times its compressed size. It extracts
into a fresh directory beside the target, creating files with ``O_EXCL`` and
``O_NOFOLLOW``, and renames that directory onto the target only when the whole
archive has passed; on refusal the staging directory is removed and the target
is not created.

`stream_archive` applies the same checks while handing each file's stream to
a callback, without writing anything, so a plan can be hashed before it is
unpacked; `scan_archive` uses it to return each file's sha256.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import shutil
import stat
import tarfile
import tempfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from handler.digest import file_sha256
from handler.errors import UnsafeArchive

MiB = 1024 * 1024
DEFAULT_MAX_BYTES = 1024 * MiB
DEFAULT_MAX_MEMBERS = 10_000
DEFAULT_MAX_RATIO = 100
_RATIO_FLOOR = 4 * MiB
"""Below this much inflated data the ratio is not judged: tar's zero padding makes tiny archives compress well."""
_BLOCK = 64 * 1024


@dataclass(frozen=True)
class MemberDigest:
    path: str
    size: int
    sha256: str
    executable: bool


# --- packing ----------------------------------------------------------------------


def pack_tree(src_dir: Path, out_tar_gz: Path) -> str:
    """Pack the regular files and directories under ``src_dir`` deterministically; returns the sha256.

    Symbolic links and special files are refused (`UnsafeArchive`), since extraction would refuse them.
    """
    entries = sorted(_walk(src_dir), key=lambda item: item[0].split("/"))
    fd, name = tempfile.mkstemp(prefix=f".{out_tar_gz.name}.", suffix=".part", dir=out_tar_gz.parent)
    tmp = Path(name)
    try:
        with (
            os.fdopen(fd, "wb") as raw,
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz,
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
        ):
            for rel, path in entries:
                _add(tar, rel, path)
        tmp.chmod(0o644)
        tmp.replace(out_tar_gz)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return file_sha256(out_tar_gz)


def _walk(root: Path) -> list[tuple[str, Path]]:
    found: list[tuple[str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        base = Path(dirpath)
        for entry in (*dirnames, *filenames):
            path = base / entry
            mode = path.lstat().st_mode
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                raise UnsafeArchive(f"refusing to pack {path}: only regular files and directories are packed")
            found.append((path.relative_to(root).as_posix(), path))
    return found


def _add(tar: tarfile.TarFile, rel: str, path: Path) -> None:
    mode = path.lstat().st_mode
    info = tarfile.TarInfo(rel)
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    if stat.S_ISDIR(mode):
        info.type = tarfile.DIRTYPE
        info.mode = 0o755
        tar.addfile(info)
        return
    info.mode = 0o755 if mode & 0o111 else 0o644
    info.size = path.stat().st_size
    with path.open("rb") as handle:
        tar.addfile(info, handle)


# --- reading ----------------------------------------------------------------------


class _Inflater(io.RawIOBase):
    """The decompressed stream of a gzip file, refused as soon as it grows too large or too dense.

    Input is fed in small blocks and output taken in small pieces, so a bomb is
    caught after inflating a few MiB, never held in memory whole.
    """

    def __init__(self, raw: IO[bytes], *, max_out: int, max_ratio: float) -> None:
        self._raw = raw
        self._inflate = zlib.decompressobj(zlib.MAX_WBITS | 16)
        self._pending = b""
        self._finished = False
        self.read_in = 0
        self.given_out = 0
        self._max_out = max_out
        self._max_ratio = max_ratio

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if not self._pending and not self._finished:
            self._pending = self._inflate_some()
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    def _inflate_some(self) -> bytes:
        while not self._inflate.eof:
            data = self._inflate.unconsumed_tail
            if not data:
                data = self._raw.read(_BLOCK)
                if not data:
                    raise UnsafeArchive("the archive is truncated: the gzip stream ends early", unreadable=True)
                self.read_in += len(data)
            try:
                out = self._inflate.decompress(data, _BLOCK)
            except zlib.error as exc:
                raise UnsafeArchive(f"the archive is not a readable gzip stream: {exc}", unreadable=True) from None
            if out:
                self._account(len(out))
                return out
        self._finished = True
        trailing = self._inflate.unused_data
        while trailing:
            if trailing.strip(b"\0"):
                raise UnsafeArchive("the archive has data after its gzip stream", unreadable=True)
            trailing = self._raw.read(_BLOCK)
        return b""

    def _account(self, size: int) -> None:
        self.given_out += size
        if self.given_out > self._max_out:
            raise UnsafeArchive(f"the archive inflates past {self._max_out} bytes")
        if self.given_out > _RATIO_FLOOR and self.given_out > self._max_ratio * self.read_in:
            raise UnsafeArchive(
                f"the archive inflates {self.given_out // max(self.read_in, 1)} times its compressed size "
                f"(the limit is {self._max_ratio}): a compression bomb"
            )


def _member_path(member: tarfile.TarInfo) -> str | None:
    """The member's clean relative path, None for the root itself; `UnsafeArchive` for a bad name."""
    name = member.name
    if name.startswith("/") or "\\" in name or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in name):
        raise UnsafeArchive(f"member {name!r}: absolute names, backslashes and control characters are refused")
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise UnsafeArchive(f"member {name!r}: '..' would leave the target")
    return "/".join(parts) or None


def _check_type(member: tarfile.TarInfo) -> None:
    if member.issym() or member.islnk():
        raise UnsafeArchive(f"member {member.name!r} is a link to {member.linkname!r}; links are refused")
    if member.type not in (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.DIRTYPE):
        raise UnsafeArchive(f"member {member.name!r} is a device, FIFO, sparse or other special member")


def _walk_archive(
    tar_gz: Path,
    *,
    max_bytes: int,
    max_members: int,
    max_ratio: float,
    on_dir: Callable[[str], None],
    on_file: Callable[[str, tarfile.TarInfo, IO[bytes]], None],
) -> None:
    """Check every member of ``tar_gz`` and hand the safe ones to ``on_dir`` and ``on_file``."""
    # Headers, PAX records and padding add to the stream; allow for them when bounding it.
    overhead = 3 * 512 * (max_members + 2) + 10240
    seen: set[str] = set()
    total = 0
    with tar_gz.open("rb") as raw:
        inflater = _Inflater(raw, max_out=max_bytes + overhead, max_ratio=max_ratio)
        stream = io.BufferedReader(inflater, _BLOCK)
        try:
            with tarfile.open(fileobj=stream, mode="r|") as tar:
                for count, member in enumerate(tar, start=1):
                    if count > max_members:
                        raise UnsafeArchive(f"the archive has more than {max_members} members")
                    _check_type(member)
                    rel = _member_path(member)
                    if rel is None:
                        continue
                    if rel in seen:
                        raise UnsafeArchive(f"member {rel!r} appears twice")
                    seen.add(rel)
                    if member.isdir():
                        on_dir(rel)
                        continue
                    total += member.size
                    if total > max_bytes:
                        raise UnsafeArchive(f"the archive holds more than {max_bytes} bytes")
                    handle = tar.extractfile(member)
                    assert handle is not None  # a regular file always has data
                    on_file(rel, member, handle)
                # Read to the end, so the gzip checksum and anything after the tar are checked too.
                while stream.read(_BLOCK):
                    pass
        except tarfile.TarError as exc:
            raise UnsafeArchive(f"the archive is not a readable tar: {exc}") from None


def stream_archive(
    tar_gz: Path,
    on_file: Callable[[str, tarfile.TarInfo, IO[bytes]], None],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_members: int = DEFAULT_MAX_MEMBERS,
    max_ratio: float = DEFAULT_MAX_RATIO,
) -> None:
    """Hand each file of ``tar_gz`` to ``on_file`` (clean path, header, stream), checked as `safe_extract` checks.

    Nothing is written and memory stays bounded whatever the archive holds, as long as
    ``on_file`` reads its stream in blocks: ``member.size`` is known before any of it is read.
    """
    _walk_archive(
        tar_gz,
        max_bytes=max_bytes,
        max_members=max_members,
        max_ratio=max_ratio,
        on_dir=lambda _: None,
        on_file=on_file,
    )


def scan_archive(
    tar_gz: Path,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_members: int = DEFAULT_MAX_MEMBERS,
    max_ratio: float = DEFAULT_MAX_RATIO,
) -> list[MemberDigest]:
    """Every file in ``tar_gz`` with its size and sha256, sorted by path, checked as `safe_extract` checks."""
    found: list[MemberDigest] = []

    def on_file(rel: str, member: tarfile.TarInfo, handle: IO[bytes]) -> None:
        found.append(MemberDigest(rel, member.size, stream_sha256(handle), bool(member.mode & 0o111)))

    stream_archive(tar_gz, on_file, max_bytes=max_bytes, max_members=max_members, max_ratio=max_ratio)
    return sorted(found, key=lambda item: item.path.split("/"))


def stream_sha256(handle: IO[bytes]) -> str:
    """The sha256 of what is left in ``handle``, read in blocks."""
    digest = hashlib.sha256()
    while block := handle.read(_BLOCK):
        digest.update(block)
    return digest.hexdigest()


def safe_extract(
    tar_gz: Path,
    target_dir: Path,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_members: int = DEFAULT_MAX_MEMBERS,
    max_ratio: float = DEFAULT_MAX_RATIO,
) -> list[MemberDigest]:
    """Unpack ``tar_gz`` into ``target_dir`` (which must not exist yet, or be empty); returns what it wrote."""
    if target_dir.exists() and (not target_dir.is_dir() or any(target_dir.iterdir())):
        raise UnsafeArchive(f"refusing to extract into {target_dir}: it exists and is not an empty directory")
    target_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target_dir.name[:60]}.", suffix=".extract", dir=target_dir.parent))
    found: list[MemberDigest] = []

    def place(rel: str) -> Path:
        path = staging.joinpath(*rel.split("/"))
        # Nothing in staging can be a link, so a clean relative path stays inside; check anyway.
        if not os.path.realpath(path).startswith(os.path.realpath(staging) + os.sep):
            raise UnsafeArchive(f"member {rel!r} resolves outside the target")
        path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        return path

    def on_dir(rel: str) -> None:
        place(rel).mkdir(mode=0o755, exist_ok=True)

    def on_file(rel: str, member: tarfile.TarInfo, handle: IO[bytes]) -> None:
        _check_data_filter(member, staging)
        mode = 0o755 if member.mode & 0o111 else 0o644
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        path = place(rel)
        try:
            fd = os.open(path, flags, mode)
        except FileExistsError:
            raise UnsafeArchive(f"member {rel!r} collides with another member") from None
        digest = hashlib.sha256()
        written = 0
        with os.fdopen(fd, "wb") as out:
            while block := handle.read(_BLOCK):
                out.write(block)
                digest.update(block)
                written += len(block)
        path.chmod(mode)  # the umask may have narrowed it
        found.append(MemberDigest(rel, written, digest.hexdigest(), mode == 0o755))

    try:
        _walk_archive(
            tar_gz, max_bytes=max_bytes, max_members=max_members, max_ratio=max_ratio, on_dir=on_dir, on_file=on_file
        )
        if target_dir.exists():
            target_dir.rmdir()
        staging.chmod(0o755)
        staging.replace(target_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return sorted(found, key=lambda item: item.path.split("/"))


def _check_data_filter(member: tarfile.TarInfo, dest: Path) -> None:
    """Python's own "data" extraction filter, where this Python has it, as a second opinion."""
    data_filter = getattr(tarfile, "data_filter", None)
    if data_filter is None:
        return
    try:
        data_filter(member, str(dest))
    except tarfile.FilterError as exc:
        raise UnsafeArchive(f"member {member.name!r}: {exc}") from None
