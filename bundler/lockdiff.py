"""Compare what a built zip really vendors with what the lockfiles pin.

Nothing is taken on trust from the build manifest: versions come from each
``.dist-info/METADATA``, file hashes from the bytes in the zip checked
against each RECORD (and each RECORD against the lock), and the packed
Chromium and ffmpeg are decoded and hashed.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import platform
import re
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import Path
from typing import TextIO

from bundler import binaries
from bundler.build import check_elves
from bundler.errors import ArtifactError, ElfCheckError
from bundler.hashing import sha256_bytes
from bundler.lockfiles import ArtifactsLock, PinnedWheel, load_artifacts_lock, load_runtime_lock, normalise_name
from bundler.targets import Target
from bundler.wheels import installed_name
from handler.errors import RuntimeUnavailable
from handler.render.artifacts import CHROMIUM_DIR, CHROMIUM_PACKED, FFMPEG_PACKED, IDENTITY_PATH, ArtifactsDoc


@dataclass(frozen=True)
class Difference:
    item: str
    path: str
    problem: str
    expected: str = ""
    actual: str = ""


def _record_rows(record: bytes) -> Iterable[tuple[str, str]]:
    for row in csv.reader(io.StringIO(record.decode("utf-8"))):
        if len(row) >= 2:
            yield row[0], row[1]


def _record_digest(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _vendored_dists(names: Iterable[str], archive: zipfile.ZipFile) -> dict[str, tuple[str, str, str]]:
    """normalised name -> (dist-info dir, name, version), from METADATA in the zip."""
    found = {}
    for name in names:
        top, _, rest = name.partition("/")
        if top.endswith(".dist-info") and rest == "METADATA":
            headers = HeaderParser().parsestr(archive.read(name).decode("utf-8", "replace"))
            found[normalise_name(headers["Name"] or top)] = (top, headers["Name"] or "", headers["Version"] or "")
    return found


def diff_wheels(archive: zipfile.ZipFile, wheels: Iterable[PinnedWheel], claimed: set[str]) -> list[Difference]:
    names = set(archive.namelist())
    vendored = _vendored_dists(names, archive)
    differences: list[Difference] = []
    for wheel in wheels:
        found = vendored.pop(wheel.name, None)
        if found is None:
            differences.append(Difference(wheel.item, "", "missing from the zip", wheel.version, "(absent)"))
            continue
        dist_info, _, version = found
        if version != wheel.version:
            differences.append(
                Difference(wheel.item, f"{dist_info}/METADATA", "different version", wheel.version, version)
            )
        record_name = f"{dist_info}/RECORD"
        if record_name not in names:
            differences.append(Difference(wheel.item, record_name, "RECORD missing"))
            continue
        record = archive.read(record_name)
        claimed.add(record_name)
        if sha256_bytes(record) != wheel.record_sha256:
            differences.append(
                Difference(
                    wheel.item,
                    record_name,
                    "RECORD differs from the locked wheel",
                    wheel.record_sha256[:16],
                    sha256_bytes(record)[:16],
                )
            )
        for member, digest in _record_rows(record):
            path = installed_name(member)
            if path is None or wheel.is_pruned(path) or path == record_name:
                continue
            claimed.add(path)
            if path not in names:
                differences.append(Difference(wheel.item, path, "file missing"))
                continue
            actual = _record_digest(archive.read(path))
            if digest and actual != digest:
                differences.append(Difference(wheel.item, path, "different bytes", digest[7:23], actual[7:23]))
    for _normal, (dist_info, name, version) in sorted(vendored.items()):
        differences.append(Difference(f"wheel:{name}=={version}", dist_info, "not in the lock", "(absent)", version))
    return differences


def _identity(archive: zipfile.ZipFile) -> ArtifactsDoc:
    try:
        return ArtifactsDoc.from_bytes(archive.read(IDENTITY_PATH))
    except KeyError:
        raise ArtifactError(f"the zip has no {IDENTITY_PATH}; it was not built by renderzip") from None
    except RuntimeUnavailable as error:
        raise ArtifactError(str(error)) from error


def _ffmpeg_version_line(raw: bytes, target: Target) -> str | None:
    """Run the vendored ffmpeg for its version, when this machine can run it."""
    if platform.machine() not in (target.arch, target.lambda_architecture):
        return None
    workdir = Path(tempfile.mkdtemp(prefix="renderzip-lockdiff-"))
    try:
        exe = workdir / "ffmpeg"
        exe.write_bytes(raw)
        exe.chmod(0o700)
        output = subprocess.run([str(exe), "-version"], capture_output=True, text=True, timeout=60, check=False)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    match = re.match(r"ffmpeg version (\S+)", output.stdout)
    return match.group(1) if match else output.stdout[:60]


def diff_binaries(
    archive: zipfile.ZipFile, artifacts: ArtifactsLock, target: Target, claimed: set[str]
) -> tuple[list[Difference], list[tuple[str, bytes]]]:
    identity = _identity(archive)
    claimed.add(IDENTITY_PATH)
    names = set(archive.namelist())
    differences: list[Difference] = []
    decoded: list[tuple[str, bytes]] = []

    chromium = identity.chromium
    pin = artifacts.chromium_for(chromium.source)
    if chromium.item != pin.item:
        differences.append(Difference(pin.item, IDENTITY_PATH, "different package version", pin.item, chromium.item))
    if chromium.version != pin.chromium_version:
        differences.append(
            Difference(
                pin.item,
                IDENTITY_PATH,
                "different Chromium version",
                pin.chromium_version,
                chromium.version,
            )
        )
    expected_resources = binaries.resources(pin)
    if list(chromium.resources) != expected_resources:
        differences.append(
            Difference(
                pin.item,
                IDENTITY_PATH,
                "different resources list",
                f"{len(expected_resources)} files",
                f"{len(chromium.resources)} files",
            )
        )
    shipped = {f"{CHROMIUM_DIR}/{path}": digest for path, digest in pin.contents.items() if path != "chromium"}
    shipped[CHROMIUM_PACKED] = pin.contents["chromium"]
    shipped[FFMPEG_PACKED] = artifacts.ffmpeg.binary_sha256
    for path, expected in sorted(shipped.items()):
        item = artifacts.ffmpeg.item if path.endswith("ffmpeg.zst") else pin.item
        claimed.add(path)
        if path not in names:
            differences.append(Difference(item, path, "file missing"))
            continue
        data = archive.read(path)
        if path.endswith(".zst"):
            try:
                data = binaries.decompress_frames(data)
            except Exception as exc:
                differences.append(Difference(item, path, f"cannot be decoded: {exc}"))
                continue
            decoded.append((f"{path} (decompressed)", data))
        actual = sha256_bytes(data)
        if actual != expected:
            differences.append(Difference(item, path, "different bytes", expected[:16], actual[:16]))
    if identity.ffmpeg.item != artifacts.ffmpeg.item:
        differences.append(
            Difference(
                artifacts.ffmpeg.item,
                IDENTITY_PATH,
                "different package version",
                artifacts.ffmpeg.item,
                identity.ffmpeg.item,
            )
        )
    ffmpeg_raw = next((data for name, data in decoded if name.startswith(FFMPEG_PACKED)), None)
    if ffmpeg_raw is not None:
        line = _ffmpeg_version_line(ffmpeg_raw, target)
        if line is not None and line != artifacts.ffmpeg.ffmpeg_version:
            differences.append(
                Difference(
                    artifacts.ffmpeg.item,
                    FFMPEG_PACKED,
                    "different ffmpeg version",
                    artifacts.ffmpeg.ffmpeg_version,
                    line,
                )
            )
    return differences, decoded


def diff_zip(
    zip_path: Path, target: Target, lock_dir: Path, max_glibc: tuple[int, int] | None = None
) -> list[Difference]:
    if not zip_path.is_file():
        raise ArtifactError(f"no zip at {zip_path}")
    runtime = load_runtime_lock(target, lock_dir)
    artifacts = load_artifacts_lock(lock_dir)
    claimed: set[str] = set()
    with zipfile.ZipFile(zip_path) as archive:
        differences = diff_wheels(archive, runtime.wheels, claimed)
        binary_differences, decoded = diff_binaries(archive, artifacts, target, claimed)
        source = _identity(archive).chromium.source
        differences += binary_differences
        for name in sorted(set(archive.namelist()) - claimed):
            if not name.startswith("handler/"):
                differences.append(Difference("(none)", name, "extra file, not in any lock"))
        try:
            files = [*((n, archive.read(n)) for n in archive.namelist()), *decoded]
            check_elves(target, files, max_glibc=max_glibc, source=source)
        except ElfCheckError as error:
            differences += [Difference("(elf)", path, reason) for path, reason in error.problems]
    return differences


def format_differences(differences: Iterable[Difference]) -> list[str]:
    rows = [("item", "path", "difference", "lock", "zip")]
    rows += [(d.item, d.path, d.problem, d.expected, d.actual) for d in differences]
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]


def run_lock_diff(
    zip_path: Path, target: Target, lock_dir: Path, out: TextIO, max_glibc: tuple[int, int] | None = None
) -> int:
    differences = diff_zip(zip_path, target, lock_dir, max_glibc)
    if not differences:
        checked = f" (ELF files checked against glibc {'.'.join(map(str, max_glibc))})" if max_glibc else ""
        out.write(f"{zip_path.name} matches the lockfiles for {target.runtime} on {target.arch}{checked}\n")
        return 0
    out.write("\n".join(format_differences(differences)) + "\n")
    out.write(f"FAILED: {len(differences)} difference(s) between {zip_path.name} and the lockfiles\n")
    return 1
