"""The packaged form of Chromium and ffmpeg inside the zip.

Chromium's 199 MiB binary and ffmpeg's 76 MiB binary are too big to ship as
they are (Lambda's cap is 250 MiB unzipped, layers included), so each is
stored as a run of independent zstd frames (level 19, long-distance
matching), one per 32 MiB of content, and unpacked into /tmp at cold start.
zstd decodes several times faster than the brotli the upstream package uses,
for about the same size, and independent frames let every core decode at
once. Small files (Chromium's bundled libraries, SwiftShader, fonts) ship
uncompressed, so they are ready in /var/task with no cold-start work. The
README records the measurements behind these choices.
"""

from __future__ import annotations

import io
import json
import sys
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import brotli

from bundler.cache import Cache
from bundler.entries import Entry
from bundler.errors import HashMismatch, LockfileError
from bundler.hashing import file_digest, sha256_bytes
from bundler.lockfiles import AnyChromiumPin, ChromiumPin, FfmpegPin
from bundler.progress import Reporter
from bundler.wheels import is_shared_object
from handler.render import artifacts
from handler.render.artifacts import (
    CHROMIUM_DIR,
    CHROMIUM_PACKED,
    FFMPEG_PACKED,
    IDENTITY_PATH,
    RESOURCES_DIR,
    ZSTD_LEVEL,
    ZSTD_WINDOW_LOG,
)

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

RECIPE_VERSION = 2
FRAME_CONTENT_BYTES = 32 << 20

# Upstream package file -> directory its contents ship under ("" for the root, None for the binary).
SPARTICUZ_LAYOUT: dict[str, str | None] = {
    "bin/chromium.br": None,
    "bin/al2023.tar.br": "",
    "bin/swiftshader.tar.br": "swiftshader",
    "bin/fonts.tar.br": "",
}

Frames = list[tuple[int, int]]  # (content bytes, compressed bytes) per frame, in order


@dataclass(frozen=True)
class PackedBinary:
    """A binary shipped as a run of zstd frames."""

    arcname: str
    content_sha256: str
    content_size: int
    frames: Frames


def _compress_options() -> dict[int, int]:
    parameter = zstd.CompressionParameter
    # No worker threads inside zstd: single-threaded frames are byte-identical everywhere.
    return {
        parameter.compression_level: ZSTD_LEVEL,
        parameter.window_log: ZSTD_WINDOW_LOG,
        parameter.enable_long_distance_matching: 1,
        parameter.checksum_flag: 1,
        parameter.content_size_flag: 1,
        parameter.nb_workers: 0,
    }


def compress_frames(data: bytes, out: Path, progress: Callable[[int, int], None]) -> Frames:
    """Write ``data`` to ``out`` as independent frames; frames are compressed in parallel."""
    segments = [data[offset : offset + FRAME_CONTENT_BYTES] for offset in range(0, len(data), FRAME_CONTENT_BYTES)]
    options = _compress_options()
    frames: Frames = []
    with ThreadPoolExecutor(max_workers=2) as pool, out.open("wb") as sink:
        done = 0
        for segment, frame in zip(
            segments, pool.map(lambda s: zstd.compress(s, options=options), segments), strict=True
        ):
            sink.write(frame)
            frames.append((len(segment), len(frame)))
            done += len(segment)
            progress(done, len(data))
    return frames


def decompress_frames(payload: bytes) -> bytes:
    return zstd.decompress(payload, options={zstd.DecompressionParameter.window_log_max: ZSTD_WINDOW_LOG})


def derivation_key(kind: str, identity: dict[str, object]) -> str:
    recipe = {
        "kind": kind,
        "recipe": RECIPE_VERSION,
        "zstd": [ZSTD_LEVEL, ZSTD_WINDOW_LOG, FRAME_CONTENT_BYTES],
        "libzstd": zstd.zstd_version,
        **identity,
    }
    return sha256_bytes(json.dumps(recipe, sort_keys=True).encode())


def _verified(item: str, name: str, data: bytes, expected: str) -> bytes:
    actual = sha256_bytes(data)
    if actual != expected:
        raise HashMismatch(f"{item} file {name}", "sha256", expected, actual)
    return data


def tar_members(data: bytes, where: str) -> Iterator[tuple[str, bytes]]:
    """Regular files of a tar held in memory; links, devices and odd paths are refused."""
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
        for member in archive.getmembers():
            name = str(PurePosixPath(member.name))
            if member.isdir():
                continue
            if not member.isfile() or name.startswith("/") or ".." in name.split("/"):
                raise LockfileError(f"{where}: refusing tar member {member.name!r} (type {member.type!r})")
            stream = archive.extractfile(member)
            assert stream is not None
            yield name, stream.read()


def read_package_file(tarball: Path, name: str) -> bytes:
    """One file of an npm tarball (whose members all sit under ``package/``)."""
    with tarfile.open(tarball, mode="r:gz") as archive:
        try:
            stream = archive.extractfile(f"package/{name}")
        except KeyError:
            stream = None
        if stream is None:
            raise LockfileError(f"{tarball.name}: {name} is missing or not a regular file")
        return stream.read()


def sparticuz_contents(item: str, package_files: dict[str, bytes]) -> Iterator[tuple[str, bytes]]:
    """(shipped path, bytes) for every file taken from the upstream package's brotli files."""
    for package_file, directory in SPARTICUZ_LAYOUT.items():
        raw = brotli.decompress(package_files[package_file])
        if directory is None:
            yield "chromium", raw
            continue
        for name, data in tar_members(raw, f"{item} {package_file}"):
            if name == "fonts.conf":
                continue  # the runtime writes its own, pointing at the shipped fonts
            yield (f"{directory}/{name}" if directory else name), data


def write_frames_index(workdir: Path, name: str, frames: Frames) -> None:
    (workdir / f"{name}.frames.json").write_text(json.dumps(frames), encoding="utf-8")


def stage_chromium_file(workdir: Path, shipped: str, data: bytes, reporter: Reporter, *, binary: str) -> None:
    """The binary goes in as zstd frames with their index; every other file as it is, under files/."""
    if shipped == binary:
        frames = compress_frames(
            data, workdir / "chromium.zst", lambda d, t: reporter.progress("compress chromium", d, t)
        )
        write_frames_index(workdir, "chromium", frames)
        return
    out = workdir / "files" / shipped
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)


def _read_frames_index(directory: Path, name: str) -> Frames:
    return [(int(a), int(b)) for a, b in json.loads((directory / f"{name}.frames.json").read_text(encoding="utf-8"))]


def prepare_chromium(cache: Cache, reporter: Reporter, pin: ChromiumPin, tarball: Path) -> Path:
    """The packaged Chromium directory in the cache, derived once per pin."""
    key = derivation_key("chromium", {"item": pin.item, "integrity": pin.integrity, "contents": dict(pin.contents)})
    done = cache.derived(key)
    if done is not None:
        return done
    reporter.step(f"packaging {pin.item} (zstd -{ZSTD_LEVEL} --long={ZSTD_WINDOW_LOG}; once per version)")
    package_files = {
        name: _verified(pin.item, name, read_package_file(tarball, name), pin.package_files.get(name, "(not pinned)"))
        for name in SPARTICUZ_LAYOUT
    }
    workdir = cache.new_derived(key)
    seen: set[str] = set()
    for shipped, data in sparticuz_contents(pin.item, package_files):
        if shipped not in pin.contents:
            raise LockfileError(f"{pin.item}: {shipped} is in the package but not in the lock")
        _verified(pin.item, shipped, data, pin.contents[shipped])
        seen.add(shipped)
        stage_chromium_file(workdir, shipped, data, reporter, binary="chromium")
    missing = sorted(set(pin.contents) - seen)
    if missing:
        raise LockfileError(f"{pin.item}: the lock pins files the package lacks: {', '.join(missing)}")
    return cache.commit_derived(key, workdir)


def prepare_ffmpeg(cache: Cache, reporter: Reporter, pin: FfmpegPin, wheel: Path) -> Path:
    key = derivation_key("ffmpeg", {"item": pin.item, "sha256": pin.binary_sha256})
    done = cache.derived(key)
    if done is not None:
        return done
    reporter.step(f"packaging {pin.item} (zstd -{ZSTD_LEVEL}; once per version)")
    with zipfile.ZipFile(wheel) as archive:
        data = _verified(pin.item, pin.binary, archive.read(pin.binary), pin.binary_sha256)
    workdir = cache.new_derived(key)
    frames = compress_frames(data, workdir / "ffmpeg.zst", lambda d, t: reporter.progress("compress ffmpeg", d, t))
    write_frames_index(workdir, "ffmpeg", frames)
    return cache.commit_derived(key, workdir)


def _packed(arcname: str, directory: Path, name: str, expected_sha256: str) -> tuple[PackedBinary, bytes]:
    """Decode a cached packed binary to check it still yields the pinned bytes."""
    frame_file = directory / f"{name}.zst"
    raw = decompress_frames(frame_file.read_bytes())
    actual = sha256_bytes(raw)
    if actual != expected_sha256:
        raise HashMismatch(f"packaged {arcname} (cached at {frame_file})", "sha256", expected_sha256, actual)
    return PackedBinary(arcname, actual, len(raw), _read_frames_index(directory, name)), raw


def chromium_entries(pin: AnyChromiumPin, packaged: Path) -> tuple[list[Entry], PackedBinary, bytes]:
    """Entries for Chromium, the packed binary's identity, and its raw bytes (for the ELF check)."""
    packed, raw = _packed(CHROMIUM_PACKED, packaged, "chromium", pin.contents["chromium"])
    entries = [Entry(packed.arcname, pin.item, "chromium", path=packaged / "chromium.zst")]
    for shipped in sorted(pin.contents):
        if shipped == "chromium":
            continue
        path = packaged / "files" / shipped
        actual = file_digest(path) if path.is_file() else "(missing)"
        if actual != pin.contents[shipped]:
            raise HashMismatch(f"{pin.item} file {shipped} (cached at {path})", "sha256", pin.contents[shipped], actual)
        executable = is_shared_object(shipped)
        entries.append(Entry(f"{CHROMIUM_DIR}/{shipped}", pin.item, "chromium", executable=executable, path=path))
    return entries, packed, raw


def ffmpeg_entries(pin: FfmpegPin, packaged: Path) -> tuple[list[Entry], PackedBinary, bytes]:
    packed, raw = _packed(FFMPEG_PACKED, packaged, "ffmpeg", pin.binary_sha256)
    return [Entry(packed.arcname, pin.item, "ffmpeg", path=packaged / "ffmpeg.zst")], packed, raw


def _artifact_binary(packed: PackedBinary) -> artifacts.PackedBinary:
    return artifacts.PackedBinary(packed.arcname, packed.content_sha256, packed.content_size, tuple(packed.frames))


def resources(pin: AnyChromiumPin) -> list[str]:
    """Files the runtime must place beside the unpacked binary (Chromium opens them from there)."""
    return [f"{CHROMIUM_DIR}/{path}" for path in sorted(pin.contents) if path.startswith(f"{RESOURCES_DIR}/")]


def identity_entry(
    chromium: AnyChromiumPin, chromium_bin: PackedBinary, ffmpeg: FfmpegPin, ffmpeg_bin: PackedBinary
) -> Entry:
    """``bin/artifacts.json``: what the runtime needs to unpack and name the binaries."""
    doc = artifacts.ArtifactsDoc(
        chromium=artifacts.ChromiumArtifact(
            source=chromium.source,
            item=chromium.item,
            version=chromium.chromium_version,
            resources=tuple(resources(chromium)),
            binary=_artifact_binary(chromium_bin),
        ),
        ffmpeg=artifacts.FfmpegArtifact(
            item=ffmpeg.item, version=ffmpeg.ffmpeg_version, binary=_artifact_binary(ffmpeg_bin)
        ),
    )
    return Entry(IDENTITY_PATH, "renderzip", "other", data=doc.to_bytes())
