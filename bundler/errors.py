"""Errors raised by the bundler.

Each error formats its own message from the data it carries, so the CLI can
print ``ERROR <message>`` and a hint without knowing the error's internals.
"""

from __future__ import annotations

from collections.abc import Sequence


class BundlerError(Exception):
    """Base of every error the bundler raises on purpose."""

    hint: str = ""


class LockfileError(BundlerError):
    """A lockfile is missing, malformed or inconsistent."""

    hint = "regenerate the lockfiles with `nox -s lock`"


class HashMismatch(BundlerError):
    """Bytes on disk do not match the hash a lockfile pins."""

    hint = "the download or the cache is corrupt or was tampered with; remove the cache entry and retry"

    def __init__(self, item: str, algorithm: str, expected: str, actual: str) -> None:
        self.item = item
        self.algorithm = algorithm
        self.expected = expected
        self.actual = actual
        super().__init__(f"hash mismatch for {item}: expected {algorithm}:{expected}, got {algorithm}:{actual}")


class FetchError(BundlerError):
    """A package client (pip, npm, apt-get) failed to fetch a pinned item."""

    hint = "check the package index configuration (pip/uv, npm, apt) or warm the cache on a connected machine"

    def __init__(self, item: str, command: Sequence[str], output: str) -> None:
        self.item = item
        self.command = tuple(command)
        self.output = output
        tail = "\n".join(output.strip().splitlines()[-15:])
        super().__init__(f"could not fetch {item} with `{' '.join(command)}`:\n{tail}")


class PackageError(BundlerError):
    """A Debian package is malformed, holds a member renderzip refuses, or lacks a pinned file."""

    hint = "the .deb is corrupt or hostile; check the apt sources, remove the cache entry and retry"


class ElfCheckError(BundlerError):
    """One or more ELF files do not fit the target runtime."""

    hint = "pin a build of the component made for the target runtime, or choose another --runtime"

    def __init__(self, problems: Sequence[tuple[str, str]], hint: str = "") -> None:
        self.problems = tuple(problems)
        if hint:
            self.hint = hint
        lines = "\n".join(f"  {path}: {reason}" for path, reason in self.problems)
        super().__init__(f"{len(self.problems)} ELF file(s) do not fit the target:\n{lines}")


class ZipLayoutError(BundlerError):
    """An entry of the zip has an unsafe path, or two inputs claim the same path."""

    hint = "a lock item or a prune rule places files where they cannot go; check lockfiles/inputs.toml"


class HandlerLayoutError(BundlerError):
    """The handler package holds a module its entry point never imports: it would ship and never run."""

    hint = "the local runner and the tools live outside handler/ (runner/, tooling/, deploy/); see the README's layout"


class ArtifactError(BundlerError):
    """A built zip or its manifest is missing or unreadable."""

    hint = "build it first with `nox -s build_zip`"


class DebVersionGone(BundlerError):
    """The pinned version of a Debian package is no longer served by the configured apt sources."""

    hint = (
        "re-pin to what Debian serves now with `nox -s lock -- --only artifacts --repin-debian` and commit the lock,"
        " or keep the pin and point apt at a snapshot mirror that still has it:"
        " RENDERZIP_DEBIAN_MIRROR='URL SUITE COMPONENT' (see the README)"
    )

    def __init__(self, name: str, pinned: str, served: Sequence[str]) -> None:
        self.name = name
        self.pinned = pinned
        self.served = tuple(served)
        now = ", ".join(self.served) if self.served else "no version at all"
        super().__init__(f"apt no longer serves {name}={pinned} (the lock's pin); it serves {now}")
