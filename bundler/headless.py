"""Debian's chromium-headless-shell in the zip's packed form.

The files the lock names (the binary, the shared libraries it needs, the
resources Chromium opens from beside its binary, and fonts) are taken out of
the pinned .deb files and laid out like the sparticuz build: the binary as
independent zstd frames, everything else uncompressed. The result is cached
under ``derived/`` once per pin, so ``binaries.chromium_entries`` serves both
sources.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from bundler.binaries import derivation_key, stage_chromium_file
from bundler.cache import Cache
from bundler.deb import DebContents, read_deb
from bundler.errors import HashMismatch, LockfileError
from bundler.hashing import sha256_bytes
from bundler.lockfiles import HeadlessShellPin
from bundler.progress import Reporter
from handler.render.artifacts import ZSTD_LEVEL, ZSTD_WINDOW_LOG

BINARY = "chromium"


def split_origin(origin: str) -> tuple[str, str]:
    """ "package:path" -> (package, path)."""
    package, _, path = origin.partition(":")
    return package, path


def taken_files(origins: Mapping[str, str], packages: Mapping[str, DebContents]) -> Iterator[tuple[str, bytes]]:
    """(shipped path, bytes) for every file ``origins`` names, read out of the packages."""
    for shipped in sorted(origins):
        package, path = split_origin(origins[shipped])
        if package not in packages:
            raise LockfileError(f"{shipped}: its package {package} was not read")
        yield shipped, packages[package].read(path)


def read_pinned_debs(pin: HeadlessShellPin, debs: Mapping[str, Path]) -> dict[str, DebContents]:
    """Read only the files the lock takes from each (already verified) .deb."""
    wanted: dict[str, set[str]] = {}
    for origin in pin.origins.values():
        package, path = split_origin(origin)
        wanted.setdefault(package, set()).add(path)
    packages = {}
    for deb in pin.debs:
        paths = wanted.get(deb.name, set())
        packages[deb.name] = read_deb(debs[deb.name].read_bytes(), deb.item, paths.__contains__)
    return packages


def prepare_headless_shell(cache: Cache, reporter: Reporter, pin: HeadlessShellPin, debs: Mapping[str, Path]) -> Path:
    """The packaged chromium-headless-shell directory in the cache, derived once per pin."""
    identity: dict[str, object] = {
        "item": pin.item,
        "debs": {deb.name: deb.sha256 for deb in pin.debs},
        "origins": dict(pin.origins),
        "contents": dict(pin.contents),
    }
    key = derivation_key("chromium-headless-shell", identity)
    done = cache.derived(key)
    if done is not None:
        return done
    reporter.step(f"packaging {pin.item} from {len(pin.debs)} .deb files (zstd -{ZSTD_LEVEL} --long={ZSTD_WINDOW_LOG})")
    packages = read_pinned_debs(pin, debs)
    workdir = cache.new_derived(key)
    for shipped, data in taken_files(pin.origins, packages):
        actual = sha256_bytes(data)
        if actual != pin.contents[shipped]:
            raise HashMismatch(
                f"{pin.item} file {shipped} ({pin.origins[shipped]})", "sha256", pin.contents[shipped], actual
            )
        stage_chromium_file(workdir, shipped, data, reporter, binary=BINARY)
    if BINARY not in pin.contents:
        raise LockfileError(f"{pin.item}: the lock takes no `chromium` binary")
    return cache.commit_derived(key, workdir)
