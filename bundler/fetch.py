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
from collections.abc import Sequence
from pathlib import Path

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


def _single_file(directory: Path, item: str, command: Sequence[str]) -> Path:
    files = [path for path in directory.iterdir() if path.is_file()]
    if len(files) != 1:
        raise FetchError(item, command, f"expected one file, the client produced {sorted(p.name for p in files)}")
    return files[0]


def fetch_wheel(
    cache: Cache,
    reporter: Reporter,
    *,
    item: str,
    name: str,
    version: str,
    filename: str,
    sha256: str,
    target: Target,
) -> Path:
    cached = cache.get(item, sha256, filename)
    if cached is not None:
        return cached
    started = time.monotonic()
    reporter.step(f"fetching {item} with pip")
    workdir = Path(tempfile.mkdtemp(prefix="renderzip-fetch-"))
    try:
        command = pip_download_command(target, f"{name}=={version}", workdir)
        run_client(item, command, workdir)
        downloaded = _single_file(workdir, item, command)
        if downloaded.name != filename:
            raise HashMismatch(
                f"{item} (pip chose {downloaded.name}, the lock pins {filename})",
                "sha256",
                sha256,
                file_digest(downloaded),
            )
        path = cache.put(downloaded, item, sha256, filename)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    reporter.step(f"fetched {item}: {mib(path.stat().st_size)} in {time.monotonic() - started:.1f}s")
    return path


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
    started = time.monotonic()
    reporter.step(f"fetching {item} with npm")
    workdir = Path(tempfile.mkdtemp(prefix="renderzip-fetch-"))
    try:
        tarball = npm_pack(item, f"{package}@{version}", workdir)
        path = cache.put(tarball, item, digest, filename, "sha512")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    reporter.step(f"fetched {item}: {mib(path.stat().st_size)} in {time.monotonic() - started:.1f}s")
    return path
