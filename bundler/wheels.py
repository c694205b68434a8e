"""Vendor wheels into the zip the way an installer would, minus bytecode.

Members are read straight from each verified wheel: no extraction to disk,
no compiled ``.pyc``, and the ``.dist-info`` directory (with its RECORD)
kept intact so ``lock_diff`` can check every vendored file later.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from bundler.entries import Entry, check_arcname
from bundler.errors import HashMismatch, LockfileError
from bundler.hashing import sha256_bytes
from bundler.lockfiles import PinnedWheel

# Wheel `.data/<scheme>/` directories that belong on sys.path; the others
# (scripts, headers, data) have no use inside a Lambda function.
_IMPORTABLE_SCHEMES = ("purelib", "platlib")
_SHARED_OBJECT = re.compile(r"\.so(\.\d+)*$")


def installed_name(member: str) -> str | None:
    """Where a wheel member lands in the task root, or None when it is dropped."""
    if member.endswith("/") or member.endswith(".pyc") or "/__pycache__/" in f"/{member}":
        return None
    first, _, rest = member.partition("/")
    if first.endswith(".data"):
        scheme, _, inner = rest.partition("/")
        return inner if scheme in _IMPORTABLE_SCHEMES and inner else None
    return member


def is_shared_object(path: str) -> bool:
    """`x.so`, `x.cpython-313-x86_64-linux-gnu.so`, `libfoo.so.1.2`: loaded by the dynamic linker."""
    return _SHARED_OBJECT.search(path.rsplit("/", 1)[-1]) is not None


def dist_info_dir(label: str, names: list[str]) -> str:
    candidates = sorted({n.split("/", 1)[0] for n in names if n.split("/", 1)[0].endswith(".dist-info")})
    if len(candidates) != 1:
        raise LockfileError(f"{label}: expected one .dist-info directory, found {candidates}")
    return candidates[0]


def wheel_entries(wheel: PinnedWheel, path: Path) -> list[Entry]:
    entries: list[Entry] = []
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        record_name = f"{dist_info_dir(wheel.item, names)}/RECORD"
        record = archive.read(record_name)
        actual = sha256_bytes(record)
        if actual != wheel.record_sha256:
            raise HashMismatch(f"{wheel.item} {record_name}", "sha256", wheel.record_sha256, actual)
        for info in archive.infolist():
            target = installed_name(info.filename)
            if target is None or wheel.is_pruned(target):
                continue
            executable = bool((info.external_attr >> 16) & 0o111) or is_shared_object(target)
            entries.append(
                Entry(
                    check_arcname(target),
                    wheel.item,
                    "python-deps",
                    executable=executable,
                    data=archive.read(info),
                )
            )
    return entries
