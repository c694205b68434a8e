"""Write a zip whose bytes depend only on its entries.

Entries are sorted by name; every timestamp is the same (SOURCE_DATE_EPOCH,
else 1980-01-01); modes are 0644, or 0755 for executables; the creating
system is Unix; compression is fixed per entry: already-compressed payloads
(zstd frames) are stored, everything else is deflated at one level. No
extra fields, comments or directory entries are written.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bundler.entries import Entry
from bundler.errors import ZipLayoutError

DEFLATE_LEVEL = 9
_STORED_SUFFIXES = (".zst", ".br", ".gz", ".zip", ".whl", ".png", ".jpg", ".woff2")
_UNIX = 3
_ZIP_EPOCH = 315532800  # 1980-01-01T00:00:00Z, the earliest time a zip can hold


@dataclass(frozen=True)
class WrittenEntry:
    entry: Entry
    size: int
    compressed_size: int
    sha256: str


def zip_timestamp() -> tuple[int, int, int, int, int, int]:
    """The one timestamp every entry carries, as a UTC date-time tuple."""
    raw = os.environ.get("SOURCE_DATE_EPOCH", "")
    seconds = int(raw) if raw.isdigit() else _ZIP_EPOCH
    stamp = time.gmtime(max(seconds, _ZIP_EPOCH))
    # Zip stores seconds in 2-second units; rounding down keeps the value exact.
    return (stamp.tm_year, stamp.tm_mon, stamp.tm_mday, stamp.tm_hour, stamp.tm_min, stamp.tm_sec - stamp.tm_sec % 2)


def compression_for(name: str) -> int:
    return zipfile.ZIP_STORED if name.endswith(_STORED_SUFFIXES) else zipfile.ZIP_DEFLATED


def _zip_info(entry: Entry, size: int, stamp: tuple[int, int, int, int, int, int]) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(entry.arcname, date_time=stamp)
    info.create_system = _UNIX
    mode = 0o755 if entry.executable else 0o644
    info.external_attr = (0o100000 | mode) << 16
    info.compress_type = compression_for(entry.arcname)
    info.file_size = size
    # zipfile only applies the archive's level to names, not ZipInfo objects.
    info._compresslevel = DEFLATE_LEVEL if info.compress_type == zipfile.ZIP_DEFLATED else None  # type: ignore[attr-defined]
    return info


def write_zip(
    entries: Sequence[Entry],
    out: Path,
    progress: Callable[[int, int], None] | None = None,
) -> list[WrittenEntry]:
    """Write ``entries`` to ``out`` atomically and deterministically."""
    ordered = sorted(entries, key=lambda e: e.arcname)
    names = [e.arcname for e in ordered]
    duplicates = sorted({n for n in names if names.count(n) > 1}) if len(set(names)) != len(names) else []
    if duplicates:
        raise ZipLayoutError(f"two inputs claim the same path in the zip: {', '.join(duplicates)}")
    stamp = zip_timestamp()
    out.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".zip-", dir=out.parent))
    written: list[WrittenEntry] = []
    try:
        partial = scratch / out.name
        with zipfile.ZipFile(partial, "w", allowZip64=True) as archive:
            for index, entry in enumerate(ordered):
                written.append(_write_entry(archive, entry, stamp))
                if progress is not None:
                    progress(index + 1, len(ordered))
        partial.replace(out)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return written


def _write_entry(archive: zipfile.ZipFile, entry: Entry, stamp: tuple[int, int, int, int, int, int]) -> WrittenEntry:
    digest = hashlib.sha256()
    if entry.data is not None:
        size = len(entry.data)
        info = _zip_info(entry, size, stamp)
        with archive.open(info, "w") as sink:
            sink.write(entry.data)
        digest.update(entry.data)
    else:
        assert entry.path is not None
        size = entry.path.stat().st_size
        info = _zip_info(entry, size, stamp)
        with entry.path.open("rb") as source, archive.open(info, "w") as sink:
            while chunk := source.read(1 << 20):
                digest.update(chunk)
                sink.write(chunk)
    return WrittenEntry(entry, size, info.compress_size, digest.hexdigest())
