"""Read the lockfiles: every input of the zip, pinned by version and hash.

The lockfiles hold names, versions and hashes only; where a file is fetched
from is left to the package clients (pip, npm, apt-get) and their mirrors.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bundler.errors import LockfileError
from bundler.targets import Target

LOCK_DIR = Path(__file__).resolve().parent.parent / "lockfiles"
CHROME_SOURCES = ("sparticuz", "headless-shell")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_NAME_SEPARATORS = re.compile(r"[-_.]+")


def normalise_name(name: str) -> str:
    """A distribution name as the lock records it (PEP 503)."""
    return _NAME_SEPARATORS.sub("-", name).lower()


@dataclass(frozen=True)
class PinnedWheel:
    """One wheel vendored into the zip."""

    name: str
    version: str
    filename: str
    sha256: str
    record_sha256: str
    # fnmatch globs over installed paths left out of the zip; `keep` wins over `prune`.
    prune: tuple[str, ...] = ()
    keep: tuple[str, ...] = ()

    @property
    def item(self) -> str:
        return f"wheel:{self.name}=={self.version}"

    def is_pruned(self, path: str) -> bool:
        return any(fnmatch.fnmatchcase(path, g) for g in self.prune) and not any(
            fnmatch.fnmatchcase(path, g) for g in self.keep
        )


@dataclass(frozen=True)
class RuntimeLock:
    target: Target
    wheels: tuple[PinnedWheel, ...]


@dataclass(frozen=True)
class ChromiumPin:
    """A Chromium build: the package it comes from and every file taken from it."""

    source: str
    package: str
    version: str
    chromium_version: str
    integrity: str
    # path inside the package -> sha256 of that (compressed) file
    package_files: Mapping[str, str]
    # path as shipped (e.g. "chromium", "lib/libnss3.so") -> sha256 of its bytes
    contents: Mapping[str, str]

    @property
    def item(self) -> str:
        return f"chromium:{self.package}@{self.version}"


@dataclass(frozen=True)
class PinnedDeb:
    """One Debian package, fetched with apt-get by exact version."""

    name: str
    version: str
    arch: str
    sha256: str

    @property
    def item(self) -> str:
        return f"deb:{self.name}={self.version}"

    @property
    def filename(self) -> str:
        """The name apt gives the file (an epoch's colon is written %3a)."""
        return f"{self.name}_{self.version.replace(':', '%3a')}_{self.arch}.deb"


@dataclass(frozen=True)
class HeadlessShellPin:
    """Debian's chromium-headless-shell, the library packages it needs, and every file taken from them."""

    source: str
    package: str
    version: str
    chromium_version: str
    debs: tuple[PinnedDeb, ...]
    # path as shipped -> "package:path inside its data.tar" (a regular file, links already followed)
    origins: Mapping[str, str]
    # path as shipped -> sha256 of its bytes
    contents: Mapping[str, str]

    @property
    def item(self) -> str:
        return f"chromium:{self.package}={self.version}"


AnyChromiumPin = ChromiumPin | HeadlessShellPin


@dataclass(frozen=True)
class FfmpegPin:
    package: str
    version: str
    filename: str
    sha256: str
    binary: str
    binary_sha256: str
    ffmpeg_version: str

    @property
    def name(self) -> str:
        return self.package

    @property
    def item(self) -> str:
        return f"ffmpeg:{self.package}=={self.version}"


@dataclass(frozen=True)
class ImagePin:
    reference: str
    digest: str

    @property
    def pinned(self) -> str:
        return f"{self.reference}@{self.digest}" if self.digest else self.reference


@dataclass(frozen=True)
class ArtifactsLock:
    chromium: Mapping[str, AnyChromiumPin]
    ffmpeg: FfmpegPin
    images: Mapping[str, ImagePin]

    def chromium_for(self, source: str) -> AnyChromiumPin:
        if source not in CHROME_SOURCES:
            raise LockfileError(f"unknown chrome source {source!r}; choose one of {', '.join(CHROME_SOURCES)}")
        try:
            return self.chromium[source]
        except KeyError:
            raise LockfileError(
                f"the artifacts lock has no [chromium.{source}] entry, so the {source!r} Chrome source"
                " cannot be built; pin it in lockfiles/inputs.toml and run `nox -s lock`"
            ) from None


def runtime_lock_path(target: Target, lock_dir: Path = LOCK_DIR) -> Path:
    return lock_dir / f"runtime-{target.slug}.toml"


def artifacts_lock_path(lock_dir: Path = LOCK_DIR) -> Path:
    return lock_dir / "artifacts.toml"


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as stream:
            return tomllib.load(stream)
    except FileNotFoundError:
        raise LockfileError(f"lockfile {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise LockfileError(f"lockfile {path} is not valid TOML: {exc}") from None


def _text(table: Mapping[str, Any], key: str, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value:
        raise LockfileError(f"{where}: `{key}` must be a non-empty string")
    return value


def _sha256(table: Mapping[str, Any], key: str, where: str) -> str:
    value = _text(table, key, where)
    if not _HEX64.match(value):
        raise LockfileError(f"{where}: `{key}` is not a lowercase hex sha256: {value!r}")
    return value


def _hash_map(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or not value:
        raise LockfileError(f"{where} must be a non-empty table of path = sha256")
    return {path: _sha256(value, path, where) for path in sorted(value)}


def _globs(table: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise LockfileError(f"{where}: `{key}` must be a list of glob strings")
    return tuple(value)


def load_runtime_lock(target: Target, lock_dir: Path = LOCK_DIR) -> RuntimeLock:
    path = runtime_lock_path(target, lock_dir)
    data = _load_toml(path)
    if data.get("runtime") != target.runtime or data.get("arch") != target.arch:
        raise LockfileError(
            f"{path} is for {data.get('runtime')}/{data.get('arch')}, not {target.runtime}/{target.arch}"
        )
    wheels = []
    for index, raw in enumerate(data.get("wheel", [])):
        where = f"{path.name} wheel #{index + 1}"
        wheels.append(
            PinnedWheel(
                name=_text(raw, "name", where),
                version=_text(raw, "version", where),
                filename=_text(raw, "filename", where),
                sha256=_sha256(raw, "sha256", where),
                record_sha256=_sha256(raw, "record_sha256", where),
                prune=_globs(raw, "prune", where),
                keep=_globs(raw, "keep", where),
            )
        )
    if not wheels:
        raise LockfileError(f"{path} pins no wheels")
    return RuntimeLock(target, tuple(sorted(wheels, key=lambda w: w.name)))


def _chromium_pin(source: str, raw: Mapping[str, Any], where: str) -> ChromiumPin:
    files = raw.get("package_files")
    return ChromiumPin(
        source=source,
        package=_text(raw, "package", where),
        version=_text(raw, "version", where),
        chromium_version=_text(raw, "chromium_version", where),
        integrity=_text(raw, "integrity", where),
        package_files=_hash_map(files, f"{where}.package_files"),
        contents=_hash_map(raw.get("contents"), f"{where}.contents"),
    )


def _deb_pins(value: Any, where: str) -> tuple[PinnedDeb, ...]:
    if not isinstance(value, dict) or not value:
        raise LockfileError(f"{where} must be a non-empty table of package = {{ version, arch, sha256 }}")
    debs = []
    for name in sorted(value):
        raw = value[name]
        if not isinstance(raw, dict):
            raise LockfileError(f"{where}: {name} must be a table of version, arch and sha256")
        at = f"{where} {name}"
        debs.append(PinnedDeb(name, _text(raw, "version", at), _text(raw, "arch", at), _sha256(raw, "sha256", at)))
    return tuple(debs)


def _headless_shell_pin(raw: Mapping[str, Any], where: str) -> HeadlessShellPin:
    contents = _hash_map(raw.get("contents"), f"{where}.contents")
    origins = raw.get("origins")
    if not isinstance(origins, dict) or set(origins) != set(contents):
        raise LockfileError(f"{where}.origins must name the package of every file in {where}.contents")
    debs = _deb_pins(raw.get("debs"), f"{where}.debs")
    names = {deb.name for deb in debs}
    for shipped in sorted(origins):
        package, sep, path = str(origins[shipped]).partition(":")
        if not sep or not path or package not in names:
            raise LockfileError(f"{where}.origins: {shipped} = {origins[shipped]!r} names no pinned package")
    return HeadlessShellPin(
        source="headless-shell",
        package=_text(raw, "package", where),
        version=_text(raw, "version", where),
        chromium_version=_text(raw, "chromium_version", where),
        debs=debs,
        origins={k: str(origins[k]) for k in sorted(origins)},
        contents=contents,
    )


def load_artifacts_lock(lock_dir: Path = LOCK_DIR) -> ArtifactsLock:
    path = artifacts_lock_path(lock_dir)
    data = _load_toml(path)
    chromium_tables = data.get("chromium", {})
    chromium: dict[str, AnyChromiumPin] = {}
    if "sparticuz" in chromium_tables:
        chromium["sparticuz"] = _chromium_pin(
            "sparticuz", chromium_tables["sparticuz"], f"{path.name} [chromium.sparticuz]"
        )
    if "headless-shell" in chromium_tables:
        where = f"{path.name} [chromium.headless-shell]"
        chromium["headless-shell"] = _headless_shell_pin(chromium_tables["headless-shell"], where)
    unknown = set(chromium_tables) - set(CHROME_SOURCES)
    if unknown:
        raise LockfileError(f"{path.name}: unknown chromium source(s) {sorted(unknown)}")
    raw_ffmpeg = data.get("ffmpeg")
    if not isinstance(raw_ffmpeg, dict):
        raise LockfileError(f"{path.name} has no [ffmpeg] table")
    where = f"{path.name} [ffmpeg]"
    ffmpeg = FfmpegPin(
        package=_text(raw_ffmpeg, "package", where),
        version=_text(raw_ffmpeg, "version", where),
        filename=_text(raw_ffmpeg, "filename", where),
        sha256=_sha256(raw_ffmpeg, "sha256", where),
        binary=_text(raw_ffmpeg, "binary", where),
        binary_sha256=_sha256(raw_ffmpeg, "binary_sha256", where),
        ffmpeg_version=_text(raw_ffmpeg, "ffmpeg_version", where),
    )
    images = {
        runtime: ImagePin(
            reference=_text(raw, "reference", f"{path.name} [image.{runtime}]"),
            digest=str(raw.get("digest", "")),
        )
        for runtime, raw in data.get("image", {}).items()
    }
    return ArtifactsLock(chromium=chromium, ffmpeg=ffmpeg, images=images)
