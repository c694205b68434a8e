"""Fetch pinned files through the ordinary package clients into the cache.

pip, npm and apt-get do the downloading, so each user's mirrors and
credentials apply; this module only asks for exact versions, checks the
bytes against the lockfile and files them in the content-addressed cache.
A file already in the cache is verified and used without any network.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from bundler.cache import Cache
from bundler.errors import FetchError, HashMismatch
from bundler.hashing import file_digest, integrity_hex
from bundler.progress import Reporter, mib
from bundler.targets import Target


def run_client(item: str, command: Sequence[str], cwd: Path) -> str:
    """Run a package client with its output captured; shown only on failure."""
    try:
        completed = subprocess.run(
            list(command), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False
        )
    except FileNotFoundError as exc:
        raise FetchError(item, command, f"{command[0]} is not installed: {exc}") from None
    if completed.returncode != 0:
        raise FetchError(item, command, completed.stdout)
    return completed.stdout


def pip_download_command(target: Target, requirement: str, dest: Path) -> list[str]:
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--dest", str(dest)]
    for platform in target.pip_platforms:
        command += ["--platform", platform]
    command += ["--implementation", "cp", "--python-version", target.python_version, "--abi", target.abi]
    command += ["--abi", "abi3", "--abi", "none", "--progress-bar", "off", requirement]
    return command


def pip_download(item: str, target: Target, requirement: str, dest: Path) -> Path:
    """Download the one wheel of ``requirement`` for ``target`` into ``dest``."""
    command = pip_download_command(target, requirement, dest)
    run_client(item, command, dest)
    return _single_file(dest, item, command)


def _single_file(directory: Path, item: str, command: Sequence[str]) -> Path:
    files = [path for path in directory.iterdir() if path.is_file()]
    if len(files) != 1:
        raise FetchError(item, command, f"expected one file, the client produced {sorted(p.name for p in files)}")
    return files[0]


class WheelPin(Protocol):
    """What fetching a wheel needs to know of its pin."""

    @property
    def item(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def version(self) -> str: ...

    @property
    def filename(self) -> str: ...

    @property
    def sha256(self) -> str: ...


def fetch_with_client(reporter: Reporter, item: str, client: str, download: Callable[[Path], Path]) -> Path:
    """Run ``download`` in a private temp dir, reporting time and size; it returns the cached file."""
    started = time.monotonic()
    reporter.step(f"fetching {item} with {client}")
    workdir = Path(tempfile.mkdtemp(prefix="renderzip-fetch-"))
    try:
        path = download(workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    reporter.step(f"fetched {item}: {mib(path.stat().st_size)} in {time.monotonic() - started:.1f}s")
    return path


def fetch_wheel(cache: Cache, reporter: Reporter, pin: WheelPin, target: Target) -> Path:
    cached = cache.get(pin.item, pin.sha256, pin.filename)
    if cached is not None:
        return cached

    def download(workdir: Path) -> Path:
        downloaded = pip_download(pin.item, target, f"{pin.name}=={pin.version}", workdir)
        if downloaded.name != pin.filename:
            chose = f"{pin.item} (pip chose {downloaded.name}, the lock pins {pin.filename})"
            raise HashMismatch(chose, "sha256", pin.sha256, file_digest(downloaded))
        return cache.put(downloaded, pin.item, pin.sha256, pin.filename)

    return fetch_with_client(reporter, pin.item, "pip", download)


def npm_pack(item: str, spec: str, dest: Path) -> Path:
    """`npm pack` one exact package version into ``dest``; returns the tarball."""
    command = ["npm", "pack", spec, "--pack-destination", str(dest), "--json", "--ignore-scripts"]
    output = run_client(item, command, dest)
    try:
        start = output.index("[")
        filename = json.loads(output[start:])[0]["filename"]
    except (ValueError, LookupError, TypeError):
        raise FetchError(item, command, f"unexpected npm output:\n{output}") from None
    return dest / str(filename)


def npm_tarball_name(package: str, version: str) -> str:
    return f"{package.lstrip('@').replace('/', '-')}-{version}.tgz"


def fetch_npm_tarball(
    cache: Cache, reporter: Reporter, *, item: str, package: str, version: str, integrity: str
) -> Path:
    algorithm = integrity.partition("-")[0]
    if algorithm != "sha512":
        raise HashMismatch(item, "integrity", integrity, "(only sha512 integrity is accepted)")
    digest = integrity_hex(integrity)
    filename = npm_tarball_name(package, version)
    cached = cache.get(item, digest, filename, "sha512")
    if cached is not None:
        return cached
    return fetch_with_client(
        reporter,
        item,
        "npm",
        lambda workdir: cache.put(npm_pack(item, f"{package}@{version}", workdir), item, digest, filename, "sha512"),
    )
