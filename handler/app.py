"""The Lambda entry point: ``handler.app.handler(event, context)``.

One function, three roles chosen by ``Action``. Each invocation parses the
event into a typed object, works in its own scratch directory (removed on
exit; a warm container keeps only the prepared binaries), moves files through
``handler.edge.transport`` and calls the render primitives of ``handler.render.engine``.
Errors leave as the classes of ``handler.errors``, whose names are the codes
Step Functions matches on.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from handler.edge.archive import pack_tree, safe_extract
from handler.edge.events import (
    AssembleEvent,
    AssembleOutput,
    ChunkOutput,
    Event,
    PlanEvent,
    PlanOutput,
    RenderChunkEvent,
    parse_event,
)
from handler.edge.logs import Invocation, Logger
from handler.edge.plancheck import verify_plan_archive
from handler.edge.transport import download, upload
from handler.edge.workspace import workspace
from handler.render import engine
from handler.render.capture import usable_cores
from handler.render.chrome.pool import BrowserPool
from handler.render.framesfile import SUFFIX
from handler.render.planfile import PlanDoc
from handler.render.runtime import Runtime, on_lambda, prepare

LOGGER = Logger()
# Chrome kept between the invocations of a warm container (and the chunks of a local worker):
# launched once the plan's hash is checked, closed whole when an invocation fails.
BROWSERS = BrowserPool(keep=usable_cores())


def _action_of(raw: object) -> str | None:
    action = raw.get("Action") if isinstance(raw, dict) else None
    return action if isinstance(action, str) else None


def handler(event: object, context: object | None) -> dict[str, Any]:
    with LOGGER.invocation(context, _action_of(event)) as invocation:
        parsed = parse_event(event)
        with workspace(sweep_stale=on_lambda()) as work:
            return _dispatch(parsed, work, invocation)


def _dispatch(event: Event, work: Path, invocation: Invocation) -> dict[str, Any]:
    if isinstance(event, PlanEvent):
        return _plan(event, work, invocation)
    if isinstance(event, RenderChunkEvent):
        return _render_chunk(event, work, invocation)
    return _assemble(event, work, invocation)


@contextlib.contextmanager
def _browsers_warming(runtime: Runtime, count: int) -> Iterator[BrowserPool]:
    """:data:`BROWSERS`, ``count`` of them launching now; on any error, no Chrome is left running."""
    BROWSERS.prewarm(runtime, count)
    try:
        yield BROWSERS
    except BaseException:
        BROWSERS.close()
        raise


def _plan(event: PlanEvent, work: Path, invocation: Invocation) -> dict[str, Any]:
    runtime = prepare()
    with _browsers_warming(runtime, 1) as browsers:
        archive = work / "project.tar.gz"
        download(event.project_uri, archive)
        project = work / "project"
        safe_extract(archive, project)
        result = engine.plan(
            project,
            work / "plan",
            event.config.plan_request(),
            runtime=runtime,
            scratch=_scratch(work),
            browsers=browsers,
        )
    packed = work / "plan.tar.gz"
    pack_tree(work / "plan", packed)
    plan_uri = event.plan_uri(result.plan_hash)
    upload(packed, plan_uri)
    invocation.add(project_bytes=archive.stat().st_size, plan_bytes=packed.stat().st_size)
    return PlanOutput(
        plan_hash=result.plan_hash,
        plan_uri=plan_uri,
        chunk_count=result.chunk_count,
        total_frames=result.total_frames,
        fps=result.fps,
        width=result.width,
        height=result.height,
        has_audio=result.has_audio,
        duration_ms=result.duration_ms,
        pages=event.config.pages,
    ).to_json()


def _scratch(work: Path) -> Path:
    """Chrome's profiles and ffmpeg's lists: inside the workspace, so the sweep removes what a timeout leaves."""
    scratch = work / "scratch"
    scratch.mkdir(exist_ok=True)
    return scratch


def _verified_plan_archive(plan_uri: object, plan_hash: str, work: Path, runtime: Runtime) -> tuple[Path, PlanDoc]:
    """Download the plan and check its hash as packed, before anything unpacks it or Chrome starts."""
    archive = work / "plan.tar.gz"
    download(str(plan_uri), archive)
    return archive, verify_plan_archive(archive, plan_hash, runtime.identity.as_dict())


def _unpack_plan(archive: Path, work: Path) -> Path:
    """The plan directory; the engine checks its hash again, on disk."""
    plan_dir = work / "plan"
    safe_extract(archive, plan_dir)
    return plan_dir


def _render_chunk(event: RenderChunkEvent, work: Path, invocation: Invocation) -> dict[str, Any]:
    runtime = prepare()
    archive, doc = _verified_plan_archive(event.plan_uri, event.plan_hash, work, runtime)
    pages = engine.chunk_pages(doc, event.chunk_index, event.pages or None)
    # Chrome launches while the plan unpacks, the engine checks it again and decodes its videos.
    with _browsers_warming(runtime, pages) as browsers:
        plan_dir = _unpack_plan(archive, work)
        out = work / "chunk.mp4"
        result = engine.render_chunk(
            plan_dir,
            event.plan_hash,
            event.chunk_index,
            out,
            runtime=runtime,
            scratch=_scratch(work),
            pages=event.pages or None,
            browsers=browsers,
        )
    upload(out, event.chunk_uri)
    invocation.add(chunk_bytes=out.stat().st_size, frames=result.frames)
    return ChunkOutput.for_event(
        event, sha256=result.sha256, frames=result.frames, duration_ms=result.duration_ms
    ).to_json()


def _assemble(event: AssembleEvent, work: Path, invocation: Invocation) -> dict[str, Any]:
    runtime = prepare()
    plan_dir = _unpack_plan(_verified_plan_archive(event.plan_uri, event.plan_hash, work, runtime)[0], work)
    chunks = []
    for index, (uri, sha256) in enumerate(zip(event.chunk_uris, event.chunk_sha256, strict=True)):
        path = work / "chunks" / f"{index:04d}.mp4"
        download(uri, path, sha256=sha256)
        chunks.append(path)
    out = work / "output.mp4"
    result = engine.assemble(plan_dir, event.plan_hash, chunks, out, runtime=runtime, scratch=_scratch(work))
    upload(out, event.output_uri)
    frames_uri = str(event.output_uri) + SUFFIX
    upload(result.frames_path, frames_uri)
    invocation.add(output_bytes=result.bytes, chunks=len(chunks))
    return AssembleOutput(
        output_uri=event.output_uri,
        sha256=result.sha256,
        bytes=result.bytes,
        frames=result.frames,
        duration_ms=result.duration_ms,
        frames_uri=frames_uri,
        warnings=result.warnings,
    ).to_json()
