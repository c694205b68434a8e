"""Run inside the Lambda image: render fixtures through the artifact's own handler.

The host passes this file's source to ``python3 -c`` with the path of a job
list; nothing of the suite is installed into the image. Every step is a real
event for ``handler.app.handler`` (imported from ``/var/task``) with
``file://`` URIs, the way a production render runs: plan, every chunk (each
in its own process, with its own ``/tmp`` scratch space, as separate Lambda
containers would), then assemble. Plans, chunks and outputs are written
straight into the writable output mount, so the host can reuse them.

Jobs (a JSON list):

- ``{"kind": "render", "name", "project", "out", "chunks", "workers", "config"?, "output_name"?,
  "reuse_chunks"?}``: plan the project archive with ``config`` as the plan's Config, render its
  chunks (or take the chunk files of ``reuse_chunks``, in order, when given), assemble
  ``<out>/<output_name>`` (``output.mp4`` by default) and write ``<out>/render.json``.
- ``{"kind": "assemble", "name", "plan", "chunk_uris", "output"}``: assemble
  ``output`` from a plan result and chunk URIs in the order given.

The last stdout line is one JSON object: ``{"ok", "jobs": [...]}``. Standard
library only, plus the artifact and the events of ``tooling.requests`` (the host
mounts the project's ``tooling/`` read-only at `TOOLS_ROOT`; it does not ship in the zip).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import tempfile
import time
import traceback
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

TOOLS_ROOT = "/mnt/regression-tools"  # the project's tooling/ package, mounted read-only by the host
if Path(TOOLS_ROOT).is_dir():
    sys.path.append(TOOLS_ROOT)

from tooling.requests import assemble_event, chunk_event, plan_event  # noqa: E402 - from the mount above

RUNTIME_DIR = "/tmp/renderzip-runtime"  # noqa: S108 - shared by every worker, like one warm container's /tmp


def _scratch(name: str) -> None:
    """A private TMPDIR: each worker sweeps its own stale workspaces, never another's."""
    path = Path("/tmp") / f"regression-{name}"  # noqa: S108 - inside the container
    path.mkdir(exist_ok=True)
    os.environ["TMPDIR"] = str(path)
    tempfile.tempdir = str(path)


def _worker_init(counter: Any) -> None:
    with counter.get_lock():
        counter.value += 1
        number = counter.value
    _scratch(f"worker{number}")


def _invoke(event: dict[str, Any]) -> dict[str, Any]:
    from handler.app import handler  # noqa: PLC0415 - the artifact's own entry point

    result: dict[str, Any] = handler(event, None)
    return result


def render(job: dict[str, Any]) -> dict[str, Any]:
    out = Path(job["out"])
    out.mkdir(parents=True, exist_ok=True)
    prefix = (out / "work").as_uri()
    timings: dict[str, float] = {}
    started = time.monotonic()
    config = {**job.get("config", {}), "Chunks": int(job["chunks"])}
    plan = _invoke(plan_event(Path(job["project"]).as_uri(), prefix, config))
    timings["plan_s"] = time.monotonic() - started
    count = int(plan["ChunkCount"])
    started = time.monotonic()
    plan_dir = Path(plan["PlanUri"].removeprefix("file://")).parent
    if job.get("reuse_chunks"):
        chunk_uris = [Path(path).as_uri() for path in job["reuse_chunks"]]
        chunks: list[dict[str, Any]] = []
    else:
        workers = max(1, min(int(job.get("workers", 2)), count))
        context = multiprocessing.get_context("fork")
        counter = context.Value("i", 0)
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_init, initargs=(counter,)) as pool:
            chunks = list(pool.map(_invoke, [chunk_event(plan, prefix, index) for index in range(count)]))
        chunk_uris = [(plan_dir / chunk["ChunkUri"]).as_uri() for chunk in chunks]
    timings["chunks_s"] = time.monotonic() - started
    started = time.monotonic()
    output = out / job.get("output_name", "output.mp4")
    assembled = _invoke(assemble_event(plan, chunks or chunk_uris, output.as_uri()))
    timings["assemble_s"] = time.monotonic() - started
    record = {
        "name": job["name"],
        "plan": plan,
        "chunks": chunks,
        "chunk_paths": [uri.removeprefix("file://") for uri in chunk_uris],
        "assembled": assembled,
        "output": str(output),
        "timings": {key: round(value, 3) for key, value in timings.items()},
    }
    (out / "render.json").write_text(json.dumps(record, indent=2, sort_keys=True), encoding="utf-8")
    return record


def assemble(job: dict[str, Any]) -> dict[str, Any]:
    plan = job["plan"]
    started = time.monotonic()
    assembled = _invoke(assemble_event(plan, list(job["chunk_uris"]), Path(job["output"]).as_uri()))
    return {
        "name": job["name"],
        "assembled": assembled,
        "output": job["output"],
        "timings": {"assemble_s": round(time.monotonic() - started, 3)},
    }


def main(argv: list[str]) -> int:
    sys.path.insert(0, os.environ.get("LAMBDA_TASK_ROOT", "/var/task"))
    os.environ.setdefault("RENDERZIP_RUNTIME_DIR", RUNTIME_DIR)
    jobs = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    # A world-writable output mount means the host user is not root: leave files it can remove.
    outputs = {Path(job.get("out") or job["output"]).parents[0] for job in jobs}
    shared = any(path.exists() and path.stat().st_mode & 0o002 for path in outputs)
    os.umask(0o000 if shared else 0o022)
    _scratch("main")
    results: list[dict[str, Any]] = []
    ok = True
    began = time.monotonic()
    for job in jobs:
        sys.stderr.write(f"regression: {job['kind']} {job['name']}\n")
        sys.stderr.flush()
        started = time.monotonic()
        try:
            record = render(job) if job["kind"] == "render" else assemble(job)
            record["ok"] = True
        except Exception as error:
            ok = False
            code = getattr(error, "code", type(error).__name__)
            record = {"name": job["name"], "ok": False, "error": {"code": code, "message": str(error)}}
            traceback.print_exc()
        record["seconds"] = round(time.monotonic() - started, 3)
        results.append(record)
    print(json.dumps({"ok": ok, "jobs": results, "seconds": round(time.monotonic() - began, 3)}, sort_keys=True))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
