"""Ask apt about Debian packages and fetch exact versions with ``apt-get download``.

apt does the downloading, so the machine's own sources, mirrors and proxies
apply; the lockfile records names, versions and hashes only.
"""

from __future__ import annotations

import contextlib
import functools
import os
import pwd
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from debian.deb822 import Deb822, PkgRelation

from bundler.cache import Cache
from bundler.errors import DebVersionGone, FetchError, HashMismatch
from bundler.fetch import fetch_with_client, run_client
from bundler.hashing import file_digest
from bundler.lockfiles import PinnedDeb
from bundler.progress import Reporter

# A source apt uses instead of the machine's: "URL SUITE COMPONENT...", several separated by ";".
# For pins Debian has since replaced, a snapshot archive of the day they were locked.
MIRROR_ENV = "RENDERZIP_DEBIAN_MIRROR"


@dataclass(frozen=True)
class AptPackage:
    """One version of a package as apt knows it."""

    name: str
    version: str
    arch: str
    # (name, exact version when the relation is "= version"); the first of each alternative
    depends: tuple[tuple[str, str | None], ...]
    # the .deb's sha256 in apt's signed index, when it gives one
    sha256: str = ""


def parse_relations(text: str) -> tuple[tuple[str, str | None], ...]:
    """``Depends`` as (name, exact version or None); for ``a | b`` only ``a`` is kept."""
    out = []
    for alternatives in PkgRelation.parse_relations(text):
        if not alternatives or not alternatives[0].get("name"):
            continue
        first = alternatives[0]
        version = first.get("version")
        exact = version[1] if version is not None and version[0] == "=" else None
        out.append((str(first["name"]), exact))
    return tuple(out)


def _fields(record: str) -> dict[str, str]:
    """The first record of ``apt-cache show`` output, as Debian's control-file format defines it."""
    return {str(key): str(value) for key, value in Deb822(record).items()}


def mirror_sources(value: str) -> list[str]:
    """One-line apt sources from ``RENDERZIP_DEBIAN_MIRROR``; each entry is ``URL SUITE COMPONENT...``."""
    lines = []
    for entry in value.split(";"):
        words = entry.split()
        if not words:
            continue
        if len(words) < 3 or "://" not in words[0]:
            raise FetchError(
                MIRROR_ENV, ["apt-get"], f"expected 'URL SUITE COMPONENT...' entries separated by ';', got {entry!r}"
            )
        lines.append("deb [check-valid-until=no] " + " ".join(words))
    return lines


@functools.cache
def _mirror_options(value: str) -> tuple[str, ...]:
    """apt options that read only the mirror's lists, fetched once per process into a private directory."""
    root = Path(tempfile.mkdtemp(prefix="renderzip-apt-"))
    (root / "lists" / "partial").mkdir(parents=True)
    (root / "parts").mkdir()
    (root / "sources.list").write_text("\n".join(mirror_sources(value)) + "\n", encoding="utf-8")
    _open_to_apt_sandbox(root / "lists" / "partial")
    options = (
        "-o",
        f"Dir::Etc::SourceList={root / 'sources.list'}",
        "-o",
        f"Dir::Etc::SourceParts={root / 'parts'}",
        "-o",
        f"Dir::State::Lists={root / 'lists'}",
    )
    run_client(MIRROR_ENV, ["apt-get", *options, "update", "-q"], root)
    return options


def apt_options() -> tuple[str, ...]:
    value = os.environ.get(MIRROR_ENV, "").strip()
    return _mirror_options(value) if value else ()


def served_versions(name: str) -> list[str]:
    """Every version of ``name`` the apt sources serve, newest first (``apt-cache madison``)."""
    command = ["apt-cache", *apt_options(), "madison", name]
    output = run_client(f"deb:{name}", command, Path.cwd())
    versions = []
    for line in output.splitlines():
        fields = [field.strip() for field in line.split("|")]
        if len(fields) >= 3 and fields[0] == name and fields[1] not in versions:
            versions.append(fields[1])
    return versions


def check_served(name: str, version: str) -> None:
    """Raise ``DebVersionGone`` when the apt sources no longer serve ``name=version``."""
    served = served_versions(name)
    if version not in served:
        raise DebVersionGone(name, version, served)


def apt_show(name: str, version: str | None = None) -> AptPackage:
    """The named version of a package (apt's candidate when no version is given)."""
    spec = f"{name}={version}" if version else name
    command = ["apt-cache", *apt_options(), "show", "--no-all-versions", spec]
    try:
        output = run_client(f"deb:{spec}", command, Path.cwd())
    except FetchError:
        if version:
            check_served(name, version)
        raise
    fields = _fields(output.strip().split("\n\n")[0])
    if fields.get("Package") != name or "Version" not in fields:
        if version:
            check_served(name, version)
        raise FetchError(f"deb:{spec}", command, f"apt-cache printed no record for {spec}:\n{output}")
    relations = ", ".join(t for t in (fields.get("Pre-Depends", ""), fields.get("Depends", "")) if t)
    return AptPackage(
        name, fields["Version"], fields.get("Architecture", ""), parse_relations(relations), fields.get("SHA256", "")
    )


def _open_to_apt_sandbox(directory: Path) -> None:
    """As root, apt downloads as the unprivileged ``_apt`` user; let it write here."""
    if os.geteuid() != 0:
        return
    # Without that user, apt falls back to root and only warns.
    with contextlib.suppress(KeyError, OSError):
        os.chown(directory, pwd.getpwnam("_apt").pw_uid, -1)


def apt_download(item: str, name: str, version: str, dest: Path) -> Path:
    """``apt-get download name=version`` into ``dest``; returns the .deb."""
    _open_to_apt_sandbox(dest)
    command = ["apt-get", *apt_options(), "download", "-q", f"{name}={version}"]
    try:
        run_client(item, command, dest)
    except FetchError:
        check_served(name, version)  # a replaced version says so; anything else is a fetch failure
        raise
    debs = [path for path in dest.iterdir() if path.is_file() and path.suffix == ".deb"]
    if len(debs) != 1:
        raise FetchError(item, command, f"expected one .deb, apt-get produced {sorted(p.name for p in debs)}")
    return debs[0]


def fetch_deb(cache: Cache, reporter: Reporter, deb: PinnedDeb) -> Path:
    """The pinned .deb from the cache, or else from apt; verified either way."""
    cached = cache.get(deb.item, deb.sha256, deb.filename)
    if cached is not None:
        return cached

    def download(workdir: Path) -> Path:
        path = apt_download(deb.item, deb.name, deb.version, workdir)
        actual = file_digest(path)
        if actual != deb.sha256:
            raise HashMismatch(deb.item, "sha256", deb.sha256, actual)
        return cache.put(path, deb.item, deb.sha256, deb.filename)

    return fetch_with_client(reporter, deb.item, "apt-get", download)


def pin_deb(cache: Cache, package: AptPackage) -> tuple[PinnedDeb, Path]:
    """At lock time: fetch one version, hash it, file it in the cache; its pin and cached path."""
    item = f"deb:{package.name}={package.version}"
    if package.sha256:
        # Already fetched (say, by an earlier lock): the cache verifies it against apt's hash.
        known = PinnedDeb(package.name, package.version, package.arch, package.sha256)
        cached = cache.get(item, known.sha256, known.filename)
        if cached is not None:
            return known, cached
    workdir = Path(tempfile.mkdtemp(prefix="renderzip-lock-"))
    try:
        path = apt_download(item, package.name, package.version, workdir)
        pin = PinnedDeb(package.name, package.version, package.arch, file_digest(path))
        if package.sha256 and pin.sha256 != package.sha256:
            raise HashMismatch(f"{item} (against apt's index)", "sha256", package.sha256, pin.sha256)
        return pin, cache.put(path, item, pin.sha256, pin.filename)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
