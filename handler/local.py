"""The embedded default: render a composition on this machine through the Lambda entry point.

Every step is a real event handled by ``handler.app.handler`` with ``file://``
URIs, so a local render exercises exactly what runs on Lambda: plan, the
chunks in a process pool, then assemble.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from handler.archive import pack_tree
from handler.progress import ProgressBar


@dataclass(frozen=True)
class LocalRender:
    output: Path
    plan: dict[str, Any]
    chunks: list[dict[str, Any]]
    assembled: dict[str, Any]
    seconds: float

    @property
    def frames_per_second(self) -> float:
        return int(self.plan["TotalFrames"]) / self.seconds if self.seconds > 0 else 0.0


def _invoke(event: dict[str, Any]) -> dict[str, Any]:
    from handler.app import handler  # noqa: PLC0415 - imported in the worker process

    result: dict[str, Any] = handler(event, None)
    return result


def _config(chunks: int | None, frames_per_chunk: int | None, overrides: dict[str, Any]) -> dict[str, Any]:
    config = dict(overrides)
    if chunks is not None:
        config["Chunks"] = chunks
    if frames_per_chunk is not None:
        config["FramesPerChunk"] = frames_per_chunk
    return config


def render(
    project_dir: Path,
    output: Path,
    *,
    chunks: int | None = None,
    frames_per_chunk: int | None = None,
    workers: int = 2,
    config: dict[str, Any] | None = None,
    stream: TextIO | None = None,
) -> LocalRender:
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="renderzip-local-"))
    try:
        archive = work / "project.tar.gz"
        pack_tree(project_dir.resolve(), archive)
        prefix = (work / "out").as_uri()
        plan = _invoke(
            {
                "Action": "plan",
                "ProjectUri": archive.as_uri(),
                "OutputPrefix": prefix,
                "Config": _config(chunks, frames_per_chunk, config or {}),
            }
        )
        count = int(plan["ChunkCount"])
        bar = ProgressBar(int(plan["TotalFrames"]), f"rendering {count} chunks", stream)
        results: dict[int, dict[str, Any]] = {}
        with ProcessPoolExecutor(max_workers=max(1, min(workers, count))) as pool:
            pending: set[Future[dict[str, Any]]] = {
                pool.submit(
                    _invoke,
                    {
                        "Action": "renderChunk",
                        "PlanUri": plan["PlanUri"],
                        "PlanHash": plan["PlanHash"],
                        "ChunkIndex": index,
                        "OutputPrefix": prefix,
                    },
                )
                for index in range(count)
            }
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    chunk = future.result()
                    results[int(chunk["ChunkIndex"])] = chunk
                    bar.advance(int(chunk["Frames"]), f"chunk {chunk['ChunkIndex']} done")
        ordered = [results[index] for index in range(count)]
        output = output.resolve()
        assembled = _invoke(
            {
                "Action": "assemble",
                "PlanUri": plan["PlanUri"],
                "PlanHash": plan["PlanHash"],
                "ChunkUris": [chunk["ChunkUri"] for chunk in ordered],
                "OutputUri": output.as_uri(),
            }
        )
        return LocalRender(output, plan, ordered, assembled, time.monotonic() - started)
    finally:
        shutil.rmtree(work, ignore_errors=True)
