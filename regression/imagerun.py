"""Host side of rendering in the Lambda image: mounts, the job list, and the driver's results.

The unzipped artifact is ``/var/task`` (read-only), the project archives and
the job list are ``INPUT_ROOT`` (read-only), and one host directory is
``OUTPUT_ROOT``, the only writable mount, owned by the function's user.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import tooling
from handler.edge.archive import pack_tree
from probes import lambda_env
from probes.errors import ProbeError
from probes.probe import unzip_artifact
from probes.runner import Mount, RunResult, RunSpec, run_in_image
from regression import driver
from regression.errors import RenderFailed

INPUT_ROOT = PurePosixPath("/mnt/regression-in")
OUTPUT_ROOT = PurePosixPath("/mnt/regression-out")
MEMORY_MB = 3072  # two Chromes, ffmpeg and the prepared runtime in /tmp (tmpfs counts as memory)
TMP_SIZE = "1280m"
SECONDS_PER_JOB = 120.0


@dataclass(frozen=True)
class ImageContext:
    """Where and how the driver runs: the image, the unzipped artifact and the host's output directory."""

    image: str
    task_dir: Path
    out_dir: Path
    runtime: str

    def container_path(self, host_path: Path) -> str:
        """``host_path`` under ``out_dir`` as the container sees it."""
        return str(OUTPUT_ROOT / host_path.resolve().relative_to(self.out_dir.resolve()).as_posix())

    def host_path(self, container_path: str) -> Path:
        relative = PurePosixPath(container_path).relative_to(OUTPUT_ROOT)
        return self.out_dir / relative


def prepare_task_dir(zip_path: Path, work: Path, *, zip_sha256: str) -> Path:
    """The artifact unzipped the way Lambda unpacks it, readable by the function's user.

    A kept ``--work`` directory is reused only while it holds this very zip (``zip_sha256``): a
    zip rebuilt since is unzipped again, so a render never runs yesterday's handler.
    """
    task_dir = work / "task"
    marker = work / "task.sha256"
    if task_dir.is_dir() and (not marker.is_file() or marker.read_text(encoding="utf-8").strip() != zip_sha256):
        shutil.rmtree(task_dir)
    if not task_dir.is_dir():
        task_dir.mkdir(parents=True)
        unzip_artifact(zip_path, task_dir)
        marker.write_text(zip_sha256 + "\n", encoding="utf-8")
    work.chmod(0o755)
    return task_dir


def writable_output(directory: Path) -> Path:
    """A directory the function's user may write and nobody else but its owner: chowned as root, else 0777."""
    directory.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        os.chown(directory, lambda_env.USER_ID, lambda_env.GROUP_ID)
        directory.chmod(0o755)
    else:
        directory.chmod(0o777)
    return directory


def pack_project(composition: Path, inputs: Path, name: str) -> str:
    """Pack ``composition`` into the input directory; returns its path inside the container."""
    archive = inputs / f"{name}.tar.gz"
    pack_tree(composition, archive)
    return str(INPUT_ROOT / archive.name)


def run_jobs(
    context: ImageContext, inputs: Path, jobs: Sequence[dict[str, Any]], *, verbose: bool = False
) -> list[dict[str, Any]]:
    """Run the driver on ``jobs`` in one container; returns one record per job, in order."""
    (inputs / "jobs.json").write_text(json.dumps(list(jobs), indent=1), encoding="utf-8")
    for path in [inputs, *inputs.iterdir()]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    source = Path(driver.__file__).read_text(encoding="utf-8")
    spec = RunSpec(
        image=context.image,
        task_dir=context.task_dir,
        command=("-c", source, str(INPUT_ROOT / "jobs.json")),
        runtime=context.runtime,
        memory_mb=MEMORY_MB,
        tmp_size=TMP_SIZE,
        timeout_s=60.0 + SECONDS_PER_JOB * len(jobs),
        mounts=(
            Mount(inputs, str(INPUT_ROOT)),
            Mount(Path(tooling.__file__).resolve().parent, f"{driver.TOOLS_ROOT}/tooling"),
            Mount(context.out_dir, str(OUTPUT_ROOT), read_only=False),
        ),
    )

    def show(stream: str, line: str) -> None:
        if stream == "stderr" and (verbose or line.startswith("regression: ")):
            sys.stderr.write(line + "\n")

    outcome: RunResult = run_in_image(spec, on_output=show)
    records = (outcome.result or {}).get("jobs")
    if not isinstance(records, list) or len(records) != len(jobs):
        tail = "\n".join(outcome.stderr_tail[-30:])
        raise RenderFailed(f"the driver gave no result for its {len(jobs)} jobs: {outcome.reason}", tail)
    return [dict(record) for record in records]


def fresh_dir(path: Path) -> Path:
    if path.exists():
        try:
            shutil.rmtree(path)
        except OSError as error:
            raise ProbeError(f"cannot clear {path}: {error}") from error
    path.mkdir(parents=True)
    return path
