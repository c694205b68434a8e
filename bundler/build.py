"""Build ``dist/handler.zip`` from the lockfiles: fetch, verify, package, check, write."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from bundler import binaries, elf
from bundler.apt import fetch_deb
from bundler.cache import Cache, default_cache_root
from bundler.closure import check_closure
from bundler.entries import Entry
from bundler.errors import ElfCheckError
from bundler.fetch import fetch_npm_tarball, fetch_wheel
from bundler.hashing import file_digest
from bundler.headless import prepare_headless_shell
from bundler.lockfiles import LOCK_DIR, ArtifactsLock, HeadlessShellPin, load_artifacts_lock, load_runtime_lock
from bundler.manifest import Manifest, build_manifest, manifest_path_for, write_manifest
from bundler.progress import Reporter, mib
from bundler.targets import Target
from bundler.wheels import wheel_entries
from bundler.zipwriter import write_zip
from handler.render.runtime import is_source

PROJECT_ROOT = Path(__file__).resolve().parent.parent
HANDLER_ITEM = "renderzip:handler"


@dataclass(frozen=True)
class BuildOptions:
    target: Target = field(default_factory=Target.parse)
    chrome_source: str = "sparticuz"
    cache_root: Path = field(default_factory=default_cache_root)
    out: Path = PROJECT_ROOT / "dist" / "handler.zip"
    lock_dir: Path = LOCK_DIR
    source_root: Path = PROJECT_ROOT
    # Check ELF files against this glibc instead of the runtime's: only for images with a newer glibc.
    glibc_override: tuple[int, int] | None = None

    @property
    def max_glibc(self) -> tuple[int, int]:
        return self.glibc_override or self.target.glibc


@dataclass(frozen=True)
class BuildResult:
    zip_path: Path
    manifest_path: Path
    manifest: Manifest
    seconds: float


HANDLER_ENTRY = "handler.app"


def _tracked(source_root: Path, package: str) -> set[str] | None:
    """The package's files git tracks, or None outside a git work tree (an unpacked source archive)."""
    try:
        listed = subprocess.run(
            ["git", "-C", str(source_root), "ls-files", "-z", "--", package],
            capture_output=True,
            check=False,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if listed.returncode != 0:
        return None
    return {name for name in listed.stdout.decode().split("\0") if name}


def belongs(relative: str, tracked: set[str] | None) -> bool:
    """A handler file ships when it matches the patterns and, in a git work tree, git tracks it."""
    parts = PurePosixPath(relative).parts
    if "__pycache__" in parts or any(part.startswith(".") for part in parts):
        return False
    if not is_source(parts[-1]):
        return False
    return tracked is None or relative in tracked


def handler_entries(source_root: Path) -> list[Entry]:
    """The source files of the ``handler`` package, all reached from `HANDLER_ENTRY`.

    Editor files, bytecode and untracked files stay out; a module the entry point never imports
    is refused, so what ships is exactly what Lambda runs.
    """
    package = source_root / "handler"
    tracked = _tracked(source_root, "handler")
    shipped = [
        path.relative_to(source_root).as_posix()
        for path in sorted(package.rglob("*"))
        if path.is_file() and belongs(path.relative_to(source_root).as_posix(), tracked)
    ]
    check_closure(source_root, HANDLER_ENTRY, shipped)
    return [
        Entry(relative, HANDLER_ITEM, "handler", data=(source_root / relative).read_bytes()) for relative in shipped
    ]


def glibc_text(version: tuple[int, ...]) -> str:
    return ".".join(map(str, version))


def check_elves(
    target: Target, files: Iterable[tuple[str, bytes]], *, max_glibc: tuple[int, int] | None = None, source: str = ""
) -> None:
    """Refuse any ELF built for another architecture or a newer glibc than ``max_glibc`` (the runtime's)."""
    problems: list[tuple[str, str]] = []
    needs: list[tuple[int, ...]] = []
    for name, data in files:
        if elf.is_elf(data[:4]):
            found = elf.check_elf(name, data, arch=target.arch, max_glibc=max_glibc or target.glibc)
            problems += found
            if found and (required := elf.read_elf_info(data).glibc_required):
                needs.append(required)
    if problems:
        raise ElfCheckError(problems, _elf_hint(target, source, needs, max_glibc))


def _elf_hint(target: Target, source: str, needs: list[tuple[int, ...]], max_glibc: tuple[int, int] | None) -> str:
    if source != "headless-shell" or not needs:
        return ""
    return (
        "Debian bookworm's chromium-headless-shell and the libraries it needs require glibc up to"
        f" {glibc_text(max(needs))}, and {target.runtime} has glibc {glibc_text(max_glibc or target.glibc)},"
        " so it cannot run on Lambda; use --chrome-source sparticuz (built for Amazon Linux). --glibc X.Y overrides the"
        " check only for a container image of your own with that glibc or newer"
    )


def _fetch_and_package(
    options: BuildOptions, artifacts: ArtifactsLock, cache: Cache, reporter: Reporter
) -> tuple[list[Entry], list[tuple[str, bytes]]]:
    """Fetch and verify every pinned input, then turn it into zip entries.

    Everything is verified before any entry exists, so a bad hash stages nothing.
    """
    runtime = load_runtime_lock(options.target, options.lock_dir)
    chromium_pin = artifacts.chromium_for(options.chrome_source)
    ffmpeg_pin = artifacts.ffmpeg
    wheel_paths = [(wheel, fetch_wheel(cache, reporter, wheel, options.target)) for wheel in runtime.wheels]
    ffmpeg_wheel = fetch_wheel(cache, reporter, ffmpeg_pin, options.target)
    if isinstance(chromium_pin, HeadlessShellPin):
        debs = {deb.name: fetch_deb(cache, reporter, deb) for deb in chromium_pin.debs}
        reporter.step(f"verified {len(wheel_paths) + 1 + len(debs)} pinned downloads")
        chromium_dir = prepare_headless_shell(cache, reporter, chromium_pin, debs)
    else:
        tarball = fetch_npm_tarball(
            cache,
            reporter,
            item=chromium_pin.item,
            package=chromium_pin.package,
            version=chromium_pin.version,
            integrity=chromium_pin.integrity,
        )
        reporter.step(f"verified {len(wheel_paths) + 2} pinned downloads")
        chromium_dir = binaries.prepare_chromium(cache, reporter, chromium_pin, tarball)
    ffmpeg_dir = binaries.prepare_ffmpeg(cache, reporter, ffmpeg_pin, ffmpeg_wheel)
    chromium_list, chromium_bin, chromium_raw = binaries.chromium_entries(chromium_pin, chromium_dir)
    ffmpeg_list, ffmpeg_bin, ffmpeg_raw = binaries.ffmpeg_entries(ffmpeg_pin, ffmpeg_dir)

    entries = handler_entries(options.source_root)
    for wheel, path in wheel_paths:
        entries += wheel_entries(wheel, path)
    entries += chromium_list + ffmpeg_list
    entries.append(binaries.identity_entry(chromium_pin, chromium_bin, ffmpeg_pin, ffmpeg_bin))
    packed = [
        (f"{chromium_bin.arcname} (decompressed)", chromium_raw),
        (f"{ffmpeg_bin.arcname} (decompressed)", ffmpeg_raw),
    ]
    return entries, packed


def build(options: BuildOptions, reporter: Reporter) -> BuildResult:
    started = time.monotonic()
    cache = Cache(options.cache_root)
    artifacts = load_artifacts_lock(options.lock_dir)
    if options.glibc_override:
        _warn_override(options, reporter)
    entries, packed = _fetch_and_package(options, artifacts, cache, reporter)

    reporter.step(f"checking ELF files for {options.target.arch}, glibc <= {glibc_text(options.max_glibc)}")
    check_elves(
        options.target,
        [*((e.arcname, e.read()) for e in entries), *packed],
        max_glibc=options.max_glibc,
        source=options.chrome_source,
    )

    reporter.step(f"writing {options.out} ({len(entries)} entries)")
    written = write_zip(entries, options.out, lambda done, total: reporter.progress("zip", done, total))
    zip_sha256 = file_digest(options.out)
    override = glibc_text(options.glibc_override) if options.glibc_override else None
    manifest = build_manifest(
        options.out, zip_sha256, written, options.target, options.chrome_source, glibc_override=override
    )
    manifest_path = manifest_path_for(options.out)
    write_manifest(manifest, manifest_path)
    seconds = time.monotonic() - started
    reporter.step(
        f"built {options.out.name}: {mib(manifest['zip']['bytes'])} zipped,"
        f" {mib(manifest['totals']['unzipped_bytes'])} unzipped, sha256 {zip_sha256}"
        f" (CodeSha256 {manifest['zip']['code_sha256']}) in {seconds:.1f}s"
    )
    if options.glibc_override:
        _warn_override(options, reporter)
    return BuildResult(options.out, manifest_path, manifest, seconds)


def _warn_override(options: BuildOptions, reporter: Reporter) -> None:
    reporter.warn(
        f"--glibc {glibc_text(options.max_glibc)}: ELF files are checked against glibc"
        f" {glibc_text(options.max_glibc)}, not {options.target.runtime}'s {options.target.glibc_text}."
        " This zip will NOT run on AWS Lambda's managed runtime; deploy it only in a container image"
        " with that glibc or newer. The manifest records the override."
    )
