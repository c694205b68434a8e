"""The system parts the test suite needs, and installing them (``python -m probes provision``).

The suite runs real Docker containers, builds the stand-in image with
debootstrap, pins the clock with faketime, compiles small C programs and
fetches Debian packages with apt-get, which needs fresh package lists. On a fresh machine none of that may be
there. Run as root, this installs what is missing with apt-get and starts the
Docker engine; run as anyone else, it only says what is missing, and the tests
that need it skip with a line naming it (or fail, under ``CI=true``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from probes.errors import ProbeError

APT_LISTS = Path("/var/lib/apt/lists")
# Package lists older than this are refreshed: Debian replaces Chromium's version every few weeks.
APT_LISTS_MAX_AGE_S = 24 * 3600
ENGINE_WAIT_S = 60.0


@dataclass(frozen=True)
class Part:
    """A system part: the command that shows it is there, and the Debian packages that provide it."""

    command: str
    packages: tuple[str, ...]
    needed_by: str


PARTS = (
    Part("dockerd", ("docker.io",), "the probe, the stand-in image and the regression suite"),
    Part("debootstrap", ("debootstrap",), "building the stand-in Lambda image"),
    Part("faketime", ("faketime",), "the reproducibility test (builds under another clock)"),
    Part("gcc", ("gcc", "libc6-dev"), "the ELF checks (compiles small programs)"),
    Part("npm", ("npm",), "fetching @sparticuz/chromium and other npm packages"),
)


class ProvisionFailed(ProbeError):
    """A system part could not be installed or started."""

    hint = "run `python -m probes provision` as root on a machine that reaches Debian's package archive"

    def __init__(self, what: str, detail: str) -> None:
        self.what = what
        self.detail = detail
        super().__init__(f"could not {what}: {detail}")


def missing_parts(which: Callable[[str], str | None] = shutil.which) -> list[Part]:
    return [part for part in PARTS if which(part.command) is None]


def apt_lists_fresh(lists: Path = APT_LISTS, now: float | None = None) -> bool:
    """True when apt has package lists younger than ``APT_LISTS_MAX_AGE_S``."""
    found = list(lists.glob("*_Packages*"))
    if not found:
        return False
    newest = max(path.stat().st_mtime for path in found)
    return (now if now is not None else time.time()) - newest < APT_LISTS_MAX_AGE_S


def _run(command: Sequence[str], what: str) -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    result = subprocess.run(list(command), capture_output=True, text=True, check=False, env=env)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-5:])
        raise ProvisionFailed(what, f"`{' '.join(command)}` exited {result.returncode}: {tail}")


def engine_reachable() -> bool:
    from probes.engine import connect  # noqa: PLC0415 - the SDK is only needed once an engine may run
    from probes.errors import DockerUnavailable  # noqa: PLC0415

    try:
        connect(timeout_s=5)
    except DockerUnavailable:
        return False
    return True


def start_engine(say: Callable[[str], None], wait_s: float = ENGINE_WAIT_S) -> None:
    """Start ``dockerd`` in its own session (it outlives this process) and wait until it answers."""
    log_path = Path(tempfile.mkdtemp(prefix="renderzip-dockerd-")) / "dockerd.log"
    say(f"starting the Docker engine (log: {log_path})")
    with log_path.open("wb") as log:
        process = subprocess.Popen(["dockerd"], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if engine_reachable():
            return
        if process.poll() is not None:
            break
        time.sleep(1.0)
    tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-10:])
    raise ProvisionFailed("start the Docker engine", f"dockerd did not answer within {wait_s:.0f} s:\n{tail}")


def provision(say: Callable[[str], None], *, as_root: bool | None = None) -> list[Part]:
    """Install and start what is missing; returns the parts still missing (only when not root)."""
    root = os.geteuid() == 0 if as_root is None else as_root
    missing = missing_parts()
    if not root:
        for part in missing:
            say(f"missing: {part.command} (Debian: {' '.join(part.packages)}), needed by {part.needed_by}")
        if missing:
            say("the tests that need these skip (and fail under CI=true); run as root to install them")
        return missing
    if missing or not apt_lists_fresh():
        say("updating apt's package lists")
        _run(["apt-get", "update", "-qq"], "update apt's package lists")
    if missing:
        packages = sorted({package for part in missing for package in part.packages})
        say(f"installing {' '.join(packages)}")
        _run(["apt-get", "install", "-y", "-qq", *packages], "install " + ", ".join(packages))
    if not engine_reachable():
        start_engine(say)
    say("system parts ready: " + ", ".join(part.command for part in PARTS) + ", a running Docker engine")
    return []
