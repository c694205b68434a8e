"""Resolve chromium-headless-shell into exact packages and files, for the artifacts lock.

Starting from the pinned shell package, the libraries the binary really
loads are found by following ELF ``DT_NEEDED`` entries transitively
(``sonames.needed_closure``). Each soname is looked up in the packages
already read; when it is not there, the ``Depends`` of the package that
needs it are fetched, breadth first, which is where Debian's shlibs
guarantee it lives. Only packages a file is taken from are pinned.
"""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bundler.apt import AptPackage, apt_show, pin_deb
from bundler.cache import Cache
from bundler.deb import DebContents, read_deb
from bundler.elf import read_elf_info
from bundler.errors import LockfileError
from bundler.headless import BINARY
from bundler.lockfiles import PinnedDeb
from bundler.progress import Reporter
from bundler.sonames import GLIBC_SONAMES, needed_closure
from handler.render.artifacts import RESOURCES_DIR

# Where Debian puts shared libraries for x86_64 (NSS keeps its dlopen'd modules in nss/).
_TRIPLET = "x86_64-linux-gnu"
LIBRARY_DIRS = (f"usr/lib/{_TRIPLET}", f"lib/{_TRIPLET}", f"usr/lib/{_TRIPLET}/nss", "usr/lib", "lib")
# glibc itself: the target provides it, so its package is never read.
_SKIP_PACKAGES = frozenset({"libc6"})


@dataclass(frozen=True)
class ResolvedShell:
    package: str
    version: str
    debs: tuple[PinnedDeb, ...]
    origins: Mapping[str, str]
    files: Mapping[str, bytes]


def _is_library_path(path: str) -> bool:
    """A library the loader finds by soname on the default search path."""
    return posixpath.dirname(path) in LIBRARY_DIRS and ".so" in posixpath.basename(path)


def _is_shared_object_path(path: str) -> bool:
    """Any shared object under a lib directory (also ones found through a DT_RUNPATH)."""
    return path.startswith(("usr/lib/", "lib/")) and ".so" in posixpath.basename(path)


@dataclass
class _Resolver:
    cache: Cache
    reporter: Reporter
    globs: Mapping[str, tuple[str, ...]]
    read: dict[str, tuple[AptPackage, PinnedDeb, DebContents]] = field(default_factory=dict)
    index: dict[str, tuple[str, str]] = field(default_factory=dict)
    expanded: set[str] = field(default_factory=set)
    # shipped name (a soname, "chromium", a resource) -> (package, path) it came from
    origin: dict[str, tuple[str, str]] = field(default_factory=dict)

    def load(self, name: str, version: str | None = None) -> DebContents:
        if name not in self.read:
            record = apt_show(name, version)
            self.reporter.step(f"reading {record.name}={record.version}")
            pin, path = pin_deb(self.cache, record)
            globs = self.globs.get(name, ())

            def want(member: str) -> bool:
                return _is_shared_object_path(member) or any(fnmatch.fnmatchcase(member, g) for g in globs)

            contents = read_deb(path.read_bytes(), pin.item, want)
            self.read[name] = (record, pin, contents)
            for member in sorted(contents.regular | set(contents.links)):
                if _is_library_path(member):
                    self.index.setdefault(posixpath.basename(member), (name, member))
        return self.read[name][2]

    def matches(self, package: str, globs: tuple[str, ...]) -> list[str]:
        contents = self.load(package, self.exact_version(package))
        names = sorted(contents.regular | set(contents.links))
        found = [n for n in names if any(fnmatch.fnmatchcase(n, g) for g in globs)]
        if not found:
            raise LockfileError(f"{package}: nothing matches {list(globs)}")
        return found

    def exact_version(self, package: str) -> str | None:
        """The version a package already read requires with "(= version)", if any."""
        for record, _, _ in self.read.values():
            for name, exact in record.depends:
                if name == package and exact:
                    return exact
        return None

    def _in_runpath(self, soname: str, wanted_by: str) -> tuple[str, str] | None:
        """The library in the requester's own DT_RUNPATH, searched first as ld.so would."""
        if wanted_by not in self.origin:
            return None
        package, path = self.origin[wanted_by]
        contents = self.read[package][2]
        for directory in read_elf_info(contents.read(path)).runpath:
            base = directory.replace("$ORIGIN", "/" + posixpath.dirname(path)).strip("/")
            candidate = posixpath.normpath(f"{base}/{soname}")
            if candidate in contents.regular or candidate in contents.links:
                return package, candidate
        return None

    def find(self, soname: str, wanted_by: str) -> bytes | None:
        local = self._in_runpath(soname, wanted_by)
        if local is not None:
            self.origin[soname] = local
            return self.read[local[0]][2].read(local[1])
        queue = [self.origin[wanted_by][0] if wanted_by in self.origin else next(iter(self.read))]
        while soname not in self.index and queue:
            package = queue.pop(0)
            if package in self.expanded:
                continue
            self.expanded.add(package)
            for name, exact in self.read[package][0].depends:
                if name not in _SKIP_PACKAGES:
                    self.load(name, exact)
                    queue.append(name)
        if soname not in self.index:
            return None
        self.origin[soname] = self.index[soname]
        package, path = self.index[soname]
        return self.read[package][2].read(path)


def _place(origins: dict[str, str], files: dict[str, bytes], shipped: str, origin: str, data: bytes) -> None:
    if shipped in origins and origins[shipped] != origin:
        raise LockfileError(f"{shipped} would come from both {origins[shipped]} and {origin}")
    origins[shipped] = origin
    files[shipped] = data


def resolve_headless_shell(spec: Mapping[str, Any], cache: Cache, reporter: Reporter) -> ResolvedShell:
    package, version, binary = str(spec["package"]), str(spec["version"]), str(spec["binary"])
    resources: dict[str, list[str]] = {str(k): list(v) for k, v in spec.get("resources", {}).items()}
    fonts: dict[str, list[str]] = {str(k): list(v) for k, v in spec.get("fonts", {}).items()}
    globs = {name: tuple(resources.get(name, []) + fonts.get(name, [])) for name in {*resources, *fonts}}
    globs[package] = (*globs.get(package, ()), binary)
    resolver = _Resolver(cache, reporter, globs)
    shell = resolver.load(package, version)
    origins: dict[str, str] = {}
    files: dict[str, bytes] = {}
    real = shell.resolve(binary)
    _place(origins, files, BINARY, f"{package}:{real}", shell.read(real))
    resolver.origin[BINARY] = (package, real)
    for kind, table in ((RESOURCES_DIR, resources), ("fonts", fonts)):
        for name, patterns in sorted(table.items()):
            for member in resolver.matches(name, tuple(patterns)):
                contents = resolver.read[name][2]
                real = contents.resolve(member)
                shipped = f"{kind}/{posixpath.basename(member)}"
                _place(origins, files, shipped, f"{name}:{real}", contents.read(real))
                resolver.origin[shipped] = (name, real)
    roots = {k: v for k, v in files.items() if k == BINARY or v.startswith(b"\x7fELF")}
    extra = tuple(str(s) for s in spec.get("dlopen", []))
    closure = needed_closure(roots, resolver.find, GLIBC_SONAMES, extra)
    if closure.missing:
        lines = ", ".join(f"{s} (needed by {', '.join(by)})" for s, by in sorted(closure.missing.items()))
        raise LockfileError(f"{package}: no pinned package provides {lines}")
    for soname in closure.found:
        owner, path = resolver.origin[soname]
        real = resolver.read[owner][2].resolve(path)
        _place(origins, files, f"lib/{soname}", f"{owner}:{real}", resolver.read[owner][2].read(real))
    taken = {split for split, _, _ in (o.partition(":") for o in origins.values())}
    debs = tuple(sorted((resolver.read[name][1] for name in taken), key=lambda d: d.name))
    return ResolvedShell(package, version, debs, origins, files)
