"""One sample chunk rendered in the Lambda image, at the function's memory size, for a cost estimate.

The built zip is unpacked as ``/var/task`` and the function's own handler gets
a ``plan`` and one ``renderChunk`` event with ``file://`` URIs, as in
production; the chunk prepares its runtime afresh, as a new Lambda container
does. The container gets the vCPUs Lambda gives the memory size (one per
1,769 MB, at most 6), or this machine's cores when it has fewer: then the
sample is slower than Lambda and the estimate errs high.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bundler.progress import Reporter
from deploy.cost import Sample
from deploy.errors import DeployError
from handler.edge.archive import pack_tree
from handler.render.capture import LAMBDA_MAX_VCPUS, LAMBDA_MB_PER_VCPU
from probes.images import resolve_image
from probes.probe import unzip_artifact
from probes.runner import Mount, RunSpec, run_in_image
from regression.imagerun import writable_output

INPUT = "/mnt/sample-in"
OUTPUT = "/mnt/sample-out"
TMP_SIZE = "2048m"

# Runs as ``python3 -c`` in the image: the standard library and the artifact's handler only.
DRIVER = """
import json, os, sys, time
sys.path.insert(0, os.environ.get("LAMBDA_TASK_ROOT", "/var/task"))
from handler.app import handler
project, out, config = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
prefix = "file://" + out + "/work"
os.environ["RENDERZIP_RUNTIME_DIR"] = "/tmp/runtime-plan"
started = time.monotonic()
plan = handler({"Action": "plan", "ProjectUri": "file://" + project, "OutputPrefix": prefix, "Config": config}, None)
plan_s = time.monotonic() - started
os.environ["RENDERZIP_RUNTIME_DIR"] = "/tmp/runtime-chunk"
started = time.monotonic()
chunk = handler({"Action": "renderChunk", "PlanUri": plan["PlanUri"], "PlanHash": plan["PlanHash"], "ChunkIndex": 0,
                 "OutputPrefix": prefix, "Pages": plan["Pages"]}, None)
chunk_s = time.monotonic() - started
print(json.dumps({"plan": plan, "chunk": chunk, "plan_s": plan_s, "chunk_s": chunk_s}))
"""


def lambda_vcpus(memory_mb: int) -> int:
    return max(1, min(LAMBDA_MAX_VCPUS, math.ceil(memory_mb / LAMBDA_MB_PER_VCPU)))


def sample_chunk(
    project: Path,
    config: Mapping[str, Any],
    *,
    zip_path: Path,
    runtime: str,
    memory_mb: int,
    image: str | None,
    reporter: Reporter,
) -> tuple[Sample, dict[str, Any]]:
    """The sample and the plan's result (its chunk table is the render's)."""
    if not zip_path.is_file():
        raise DeployError(f"{zip_path}: no such file", "build it first: nox -s build_zip")
    reference = resolve_image(runtime, image, reporter)
    cores = float(min(lambda_vcpus(memory_mb), len(os.sched_getaffinity(0))))
    work = Path(tempfile.mkdtemp(prefix="renderzip-sample-"))
    try:
        task, inputs, out = work / "task", work / "in", writable_output(work / "out")
        task.mkdir()
        inputs.mkdir()
        unzip_artifact(zip_path, task)
        pack_tree(project, inputs / "project.tar.gz")
        for path in (work, inputs, inputs / "project.tar.gz"):
            path.chmod(0o755 if path.is_dir() else 0o644)
        reporter.step(f"rendering a sample chunk in {reference} at {memory_mb} MB ({cores:g} vCPUs)")
        spec = RunSpec(
            image=reference,
            task_dir=task,
            command=("-c", DRIVER, f"{INPUT}/project.tar.gz", OUTPUT, json.dumps(dict(config))),
            runtime=runtime,
            memory_mb=memory_mb,
            tmp_size=TMP_SIZE,
            cpus=cores,
            timeout_s=900.0,
            mounts=(Mount(inputs, INPUT), Mount(out, OUTPUT, read_only=False)),
        )
        outcome = run_in_image(spec)
        result = outcome.result or {}
        if not outcome.ok or "chunk" not in result:
            tail = " | ".join(line.strip() for line in outcome.stderr_tail[-3:])
            raise DeployError(f"the sample chunk failed in {reference}: {outcome.reason}", f"its last lines: {tail}")
        sample = Sample(
            frames=int(result["chunk"]["Frames"]),
            seconds=float(result["chunk_s"]),
            plan_seconds=float(result["plan_s"]),
            cores=cores,
        )
        return sample, dict(result["plan"])
    finally:
        shutil.rmtree(work, ignore_errors=True)
