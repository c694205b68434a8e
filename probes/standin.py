"""A stand-in for the Lambda base image, for machines that cannot reach a container registry.

``debootstrap --variant=minbase`` of the Debian release whose python3 has the
runtime's minor version, plus the Lambda layout (``probes.layout``), imported
with ``docker import``. It holds the Python standard library and nothing for
Chrome (no NSS, fonts or X libraries), so an artifact that runs in it brings
everything it needs. The image is tagged by a hash of its inputs and is only
built when no image has that tag.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bundler.progress import Reporter
from bundler.targets import DEFAULT_RUNTIME
from probes import engine, lambda_env
from probes.aptsources import debian_mirror
from probes.errors import NoStandinRelease, StandinBuildError
from probes.layout import Layout, apply_layout, lambda_layout
from probes.runner import RunSpec, run_in_image

# Bump when the build steps below change in a way the recipe's data does not show.
RECIPE_VERSION = 1
REPOSITORY = "renderzip-standin"
INPUTS_LABEL = "renderzip.standin.inputs"

# The python3 each Debian release ships (its default Python).
DEBIAN_PYTHON3 = {"bookworm": "3.11", "trixie": "3.13"}
# The full standard library (ssl, hashlib, sqlite3, ...) and the CA bundle the Lambda image also has.
PACKAGES = ("python3", "ca-certificates")
DEBIAN_ARCH = "amd64"


@dataclass(frozen=True)
class StandinRecipe:
    """Everything the stand-in image is made from; its hash names the image."""

    runtime: str
    suite: str
    python_minor: str
    packages: tuple[str, ...]
    arch: str
    layout: Layout

    @classmethod
    def for_runtime(cls, runtime: str = DEFAULT_RUNTIME) -> StandinRecipe:
        minor = runtime.removeprefix("python")
        suites = [suite for suite, python in DEBIAN_PYTHON3.items() if python == minor]
        if not suites:
            raise NoStandinRelease(runtime, [f"python{python}" for python in DEBIAN_PYTHON3.values()])
        return cls(runtime, suites[0], minor, PACKAGES, DEBIAN_ARCH, lambda_layout(minor))

    def describe(self) -> dict[str, Any]:
        return {
            "recipe": RECIPE_VERSION,
            "runtime": self.runtime,
            "suite": self.suite,
            "variant": "minbase",
            "arch": self.arch,
            "python": self.python_minor,
            "packages": sorted(self.packages),
            "layout": self.layout.describe(),
            "changes": image_changes(),
        }

    @property
    def inputs_hash(self) -> str:
        canonical = json.dumps(self.describe(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    @property
    def tag(self) -> str:
        return f"{REPOSITORY}:{self.runtime}-{self.inputs_hash}"


@dataclass(frozen=True)
class Standin:
    tag: str
    image_id: str
    built: bool  # False: an image with this tag was already present and was reused
    seconds: float


def image_changes() -> list[str]:
    """Dockerfile instructions applied on import: the image's environment, working dir and entry point."""
    env = [f"ENV {key}={value}" for key, value in lambda_env.image_environment().items()]
    return [*env, f"WORKDIR {lambda_env.TASK_ROOT}", f'ENTRYPOINT ["{lambda_env.PYTHON}"]']


def _require_build_tools() -> None:
    if os.geteuid() != 0:
        raise StandinBuildError(
            "debootstrap", "building a root filesystem needs root", hint="run as root, e.g. `sudo nox -s standin`"
        )
    for tool in ("debootstrap", "tar"):
        if shutil.which(tool) is None:
            raise StandinBuildError(tool, f"{tool} is not installed", hint=f"install it: `apt-get install {tool}`")


def _debootstrap(recipe: StandinRecipe, root: Path, mirror: str, reporter: Reporter) -> None:
    command = [
        "debootstrap",
        "--variant=minbase",
        f"--arch={recipe.arch}",
        f"--include={','.join(recipe.packages)}",
        recipe.suite,
        str(root),
        mirror,
    ]
    reporter.step(f"debootstrap {recipe.suite} ({', '.join(recipe.packages)}) from {mirror}")
    lines: list[str] = []
    per_phase: dict[str, int] = {}
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as process:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            words = line.split()
            if len(words) < 2 or words[0] != "I:":
                continue
            # A phase ("I: Retrieving ...", "I: Extracting ...") shows its first line and every 40th after.
            seen = per_phase[words[1]] = per_phase.get(words[1], 0) + 1
            if seen % 40 == 1:
                reporter.step(f"  {line.strip()}" + (f" ({seen})" if seen > 1 else ""))
    if process.returncode != 0:
        raise StandinBuildError(
            "debootstrap",
            "\n".join(lines),
            hint=f"check that the mirror serves {recipe.suite} (set RENDERZIP_DEBIAN_MIRROR to choose another)",
        )


def _unmount_below(directory: Path) -> None:
    """debootstrap mounts /proc and /sys in the target; a failed run can leave them mounted."""
    prefix = str(directory.resolve()) + "/"
    mounts = Path("/proc/self/mounts").read_text(encoding="utf-8").splitlines()
    targets = [line.split()[1] for line in mounts if len(line.split()) > 1 and line.split()[1].startswith(prefix)]
    for target in sorted(targets, key=len, reverse=True):
        subprocess.run(["umount", "--lazy", target], check=False, capture_output=True)


def _pack(root: Path, tarball: Path) -> None:
    command = [
        "tar",
        "--numeric-owner",
        "--xattrs",
        "--exclude=./proc/*",
        "--exclude=./sys/*",
        "--exclude=./dev/*",
        "-C",
        str(root),
        "-cf",
        str(tarball),
        ".",
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise StandinBuildError("tar", result.stderr)


def _import(client: Any, recipe: StandinRecipe, tarball: Path) -> str:
    repository, tag = recipe.tag.split(":", 1)
    changes = [
        *image_changes(),
        f"LABEL {INPUTS_LABEL}={recipe.inputs_hash}",
        f"LABEL renderzip.standin.runtime={recipe.runtime} renderzip.standin.suite={recipe.suite}",
    ]
    try:
        client.api.import_image_from_file(str(tarball), repository=repository, tag=tag, changes=changes)
    except Exception as error:  # the SDK raises several unrelated types here
        raise StandinBuildError("docker import", str(error)) from error
    found = engine.image_id(client, recipe.tag)
    if found is None:
        raise StandinBuildError("docker import", f"no image tagged {recipe.tag} after the import")
    return found


def _check_python(client: Any, recipe: StandinRecipe, reporter: Reporter) -> None:
    """The imported image must run /var/lang/bin/python3 of the runtime's version with a full stdlib."""
    check = (
        "import json, ssl, hashlib, sqlite3, concurrent.futures, subprocess, sys;"
        "print(json.dumps({'python': '%d.%d' % sys.version_info[:2]}))"
    )
    task_dir = Path(tempfile.mkdtemp(prefix="renderzip-standin-check-"))
    try:
        task_dir.chmod(0o755)
        spec = RunSpec(image=recipe.tag, task_dir=task_dir, command=("-c", check), runtime=recipe.runtime)
        outcome = run_in_image(spec, client=client)
    finally:
        task_dir.rmdir()
    found = (outcome.result or {}).get("python")
    if not outcome.ok or found != recipe.python_minor:
        client.images.remove(recipe.tag, force=True)
        raise StandinBuildError(
            "python check", f"expected Python {recipe.python_minor}, got {found!r}: {outcome.reason}"
        )
    reporter.step(f"checked: {lambda_env.PYTHON} is Python {found} with ssl, hashlib and sqlite3")


def build_standin(client: Any, recipe: StandinRecipe, reporter: Reporter) -> str:
    """Build and tag the image; returns its id. Nothing partial is kept on failure."""
    _require_build_tools()
    mirror = debian_mirror()
    workdir = Path(tempfile.mkdtemp(prefix="renderzip-standin-"))
    try:
        root = workdir / "root"
        _debootstrap(recipe, root, mirror, reporter)
        reporter.step("adding the Lambda layout (/var/task, /var/runtime, /var/lang/bin/python3, uid 993)")
        try:
            apply_layout(root, recipe.layout)
        except OSError as error:
            raise StandinBuildError("layout", str(error)) from error
        reporter.step("packing the root filesystem")
        tarball = workdir / "rootfs.tar"
        _pack(root, tarball)
        reporter.step(f"docker import as {recipe.tag}")
        image_id = _import(client, recipe, tarball)
    finally:
        _unmount_below(workdir)
        shutil.rmtree(workdir, ignore_errors=True)
    _check_python(client, recipe, reporter)
    return image_id


def ensure_standin(runtime: str, reporter: Reporter, *, client: Any = None, rebuild: bool = False) -> Standin:
    """The stand-in image for ``runtime``: reused when its tag exists, else built (minutes)."""
    recipe = StandinRecipe.for_runtime(runtime)
    client = client or engine.connect()
    started = time.monotonic()
    existing = engine.image_id(client, recipe.tag)
    if existing is not None and not rebuild:
        reporter.step(f"stand-in image {recipe.tag} is present (cached, not rebuilt)")
        return Standin(recipe.tag, existing, built=False, seconds=time.monotonic() - started)
    reporter.step(f"building stand-in image {recipe.tag} (Debian {recipe.suite}, Python {recipe.python_minor})")
    image_id = build_standin(client, recipe, reporter)
    seconds = time.monotonic() - started
    reporter.step(f"built {recipe.tag} in {seconds:.0f} s")
    return Standin(recipe.tag, image_id, built=True, seconds=seconds)
