"""The Lambda runtimes and architectures the artifact can be built for."""

from __future__ import annotations

from dataclasses import dataclass

from bundler.errors import BundlerError

DEFAULT_RUNTIME = "python3.13"
DEFAULT_ARCH = "x86_64"

# Amazon Linux 2023 (python3.12 and newer) ships glibc 2.34; Amazon Linux 2 ships 2.26.
# The handler needs Python 3.11 (hashlib.file_digest, tomllib...), as pyproject's requires-python says.
_GLIBC_BY_RUNTIME: dict[str, tuple[int, int]] = {
    "python3.11": (2, 26),
    "python3.12": (2, 34),
    "python3.13": (2, 34),
    "python3.14": (2, 34),
}
_TOO_OLD = ("python3.8", "python3.9", "python3.10")
"""Lambda runtimes that exist (or did) but are older than the handler's Python."""
_ARCHES = ("x86_64", "aarch64")
# manylinux tags uv can resolve for; the newest one not above the runtime's glibc is used.
_UV_MANYLINUX = ((2, 17), (2, 28), (2, 31), (2, 32), (2, 33), (2, 34))


class UnknownTarget(BundlerError):
    """The runtime or architecture is not one Lambda offers."""

    hint = f"use --runtime one of {', '.join(_GLIBC_BY_RUNTIME)} and --arch one of {', '.join(_ARCHES)}"


@dataclass(frozen=True)
class Target:
    """A Lambda runtime on one architecture, with the glibc its image provides."""

    runtime: str
    arch: str

    @classmethod
    def parse(cls, runtime: str = DEFAULT_RUNTIME, arch: str = DEFAULT_ARCH) -> Target:
        arch = {"amd64": "x86_64", "arm64": "aarch64"}.get(arch, arch)
        if runtime not in _GLIBC_BY_RUNTIME:
            if runtime in _TOO_OLD:
                raise UnknownTarget(f"runtime {runtime!r} is too old: the handler needs Python 3.11 or newer")
            raise UnknownTarget(f"unknown runtime {runtime!r}")
        if arch not in _ARCHES:
            raise UnknownTarget(f"unknown architecture {arch!r}")
        return cls(runtime, arch)

    @property
    def python_version(self) -> str:
        return self.runtime.removeprefix("python")

    @property
    def glibc(self) -> tuple[int, int]:
        return _GLIBC_BY_RUNTIME[self.runtime]

    @property
    def glibc_text(self) -> str:
        major, minor = self.glibc
        return f"{major}.{minor}"

    @property
    def abi(self) -> str:
        return "cp" + self.python_version.replace(".", "")

    @property
    def pip_platforms(self) -> tuple[str, ...]:
        """Every manylinux tag a wheel may carry and still load here, newest first."""
        major, minor = self.glibc
        tags = [f"manylinux_{major}_{m}_{self.arch}" for m in range(minor, 16, -1)]
        return (*tags, f"manylinux2014_{self.arch}")

    @property
    def uv_platform(self) -> str:
        usable = [tag for tag in _UV_MANYLINUX if tag <= self.glibc]
        major, minor = usable[-1]
        return f"{self.arch}-manylinux_{major}_{minor}"

    @property
    def lambda_architecture(self) -> str:
        """The name Lambda uses in `Architectures`."""
        return "arm64" if self.arch == "aarch64" else "x86_64"

    @property
    def slug(self) -> str:
        return f"{self.runtime}-{self.arch}"
