"""Errors raised by the probes package.

Each error formats its own message from the data it carries and names what to
do next in ``hint``, so the CLI prints ``ERROR <message>`` and ``hint: ...``.
"""

from __future__ import annotations

from collections.abc import Sequence


class ProbeError(Exception):
    """Base of every error the probes package raises on purpose."""

    hint: str = ""


class DockerUnavailable(ProbeError):
    """The Docker engine cannot be reached."""

    hint = "start the engine (`dockerd`, or your desktop's Docker service) and check `docker info`"

    def __init__(self, cause: str) -> None:
        self.cause = cause
        super().__init__(f"cannot reach the Docker engine: {cause}")


class ImageUnavailable(ProbeError):
    """The requested image is not present locally and could not be pulled."""

    hint = "use the stand-in image: `--image standin` (or RENDERZIP_IMAGE=standin)"

    def __init__(self, image: str, cause: str) -> None:
        self.image = image
        self.cause = cause
        super().__init__(f"image {image} is not present locally and could not be pulled: {cause}")


class NoStandinRelease(ProbeError):
    """No Debian release ships the runtime's Python minor version as its python3."""

    def __init__(self, runtime: str, available: Sequence[str]) -> None:
        self.runtime = runtime
        self.available = tuple(available)
        super().__init__(
            f"no Debian release has {runtime.removeprefix('python')} as its python3, so no stand-in image"
            f" can be built for {runtime}"
        )
        self.hint = (
            f"build the stand-in for one of {', '.join(self.available)}, or run with the real image"
            " (`--image public.ecr.aws/lambda/python:...`) on a machine that can pull it"
        )


class MirrorNotFound(ProbeError):
    """No Debian package mirror could be read from the machine's apt configuration."""

    hint = "set RENDERZIP_DEBIAN_MIRROR to the Debian mirror apt should use (e.g. the URI in /etc/apt/sources.list.d)"

    def __init__(self, searched: Sequence[str]) -> None:
        self.searched = tuple(searched)
        where = ", ".join(self.searched) or "no apt source files"
        super().__init__(f"found no Debian mirror in the apt configuration ({where})")


class StandinBuildError(ProbeError):
    """Building the stand-in image failed."""

    def __init__(self, step: str, detail: str, hint: str = "") -> None:
        self.step = step
        self.detail = detail
        tail = "\n".join(detail.strip().splitlines()[-15:])
        super().__init__(f"stand-in image: {step} failed:\n{tail}" if tail else f"stand-in image: {step} failed")
        self.hint = hint or "read the output above; a rerun starts from scratch (nothing partial is kept)"


class ArtifactDirError(ProbeError):
    """The directory to mount at /var/task is missing or unreadable for the function's user."""

    hint = "unzip the artifact into a directory the unprivileged user can read (directories 0755, files 0644/0755)"

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"cannot mount {path} at /var/task: {reason}")


class RunTimedOut(ProbeError):
    """The command did not finish within its time limit; the container was killed and removed."""

    hint = "raise the limit with --timeout, or look at the output above for where it stalled"

    def __init__(self, image: str, command: Sequence[str], timeout_s: float, stderr_tail: str) -> None:
        self.image = image
        self.command = tuple(command)
        self.timeout_s = timeout_s
        self.stderr_tail = stderr_tail
        super().__init__(f"`python3 {' '.join(self.command)}` in {image} did not finish within {timeout_s:g} s")
