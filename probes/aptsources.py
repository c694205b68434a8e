"""The Debian mirror this machine's apt uses, read from its configuration at run time.

Nothing here names a host: the mirror comes from ``RENDERZIP_DEBIAN_MIRROR`` or
from ``/etc/apt/sources.list`` and ``/etc/apt/sources.list.d/*.{list,sources}``
(one-line and deb822 formats).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from probes.errors import MirrorNotFound

MIRROR_ENV = "RENDERZIP_DEBIAN_MIRROR"
APT_DIR = Path("/etc/apt")


@dataclass(frozen=True)
class AptSource:
    uri: str
    suites: tuple[str, ...]
    components: tuple[str, ...]
    origin: str  # the file it came from

    @property
    def is_release_archive(self) -> bool:
        """A main archive of Debian releases: plain suite names, not security or updates."""
        return (
            "main" in self.components
            and any("-" not in suite and "/" not in suite for suite in self.suites)
            and "security" not in self.uri
        )


def _one_line(path: Path) -> Iterator[AptSource]:
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        words = raw.split("#", 1)[0].split()
        if not words or words[0] != "deb":
            continue
        words = words[1:]
        if words and words[0].startswith("["):  # options: [arch=amd64 signed-by=...]
            while words and not words[0].endswith("]"):
                words.pop(0)
            words = words[1:]
        if len(words) >= 3:
            yield AptSource(words[0], (words[1],), tuple(words[2:]), str(path))


def _deb822(path: Path) -> Iterator[AptSource]:
    stanzas = path.read_text(encoding="utf-8", errors="replace").split("\n\n")
    for stanza in stanzas:
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            if line.startswith("#") or ":" not in line or line[:1].isspace():
                continue
            key, value = line.split(":", 1)
            fields[key.strip().lower()] = value.strip()
        if "deb" not in fields.get("types", "").split() or fields.get("enabled", "yes").lower() == "no":
            continue
        for uri in fields.get("uris", "").split():
            yield AptSource(
                uri, tuple(fields.get("suites", "").split()), tuple(fields.get("components", "").split()), str(path)
            )


def apt_sources(apt_dir: Path = APT_DIR) -> list[AptSource]:
    """Every enabled ``deb`` source, in apt's reading order."""
    sources: list[AptSource] = []
    main_list = apt_dir / "sources.list"
    if main_list.is_file():
        sources.extend(_one_line(main_list))
    parts = apt_dir / "sources.list.d"
    if parts.is_dir():
        for path in sorted(parts.iterdir()):
            if path.suffix == ".list":
                sources.extend(_one_line(path))
            elif path.suffix == ".sources":
                sources.extend(_deb822(path))
    return sources


def _host_codename(os_release: Path) -> str:
    try:
        text = os_release.read_text(encoding="utf-8")
    except OSError:
        return ""
    for line in text.splitlines():
        if line.startswith("VERSION_CODENAME="):
            return line.split("=", 1)[1].strip().strip('"')
    return ""


def debian_mirror(
    environ: Mapping[str, str] = os.environ,
    apt_dir: Path = APT_DIR,
    os_release: Path = Path("/etc/os-release"),
) -> str:
    """The mirror to pass to debootstrap: the env var, else the archive apt uses for this release."""
    explicit = environ.get(MIRROR_ENV, "").strip()
    if explicit:
        return explicit
    sources = [source for source in apt_sources(apt_dir) if source.is_release_archive]
    codename = _host_codename(os_release)
    for source in sources:
        if codename and codename in source.suites:
            return source.uri
    if sources and not codename:
        return sources[0].uri
    searched = [str(apt_dir / "sources.list"), str(apt_dir / "sources.list.d")]
    raise MirrorNotFound(searched)
