"""The embedded default: render a composition on this machine through the Lambda entry point.

Every step is a real event handled by ``handler.app.handler`` with ``file://``
URIs, so a local render exercises exactly what runs on Lambda: plan, the
chunks in a process pool, then assemble.

Each of those steps is retried as the state machine retries it: the same
`tooling.retry.RetryPolicy`, applied by `tooling.retry.run_with_retry`. A
chunk's retries run in its worker, which keeps its pool slot while it waits,
as a Map iteration keeps its concurrency slot on Step Functions. An error that
ends a step crosses the pool as its own class (see `handler.errors`), so the
caller sees the same error code Step Functions would.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from bundler.cache import Cache, default_cache_root
from bundler.fonts import stage_fonts
from bundler.progress import Reporter, SilentReporter
from handler.edge.archive import pack_tree
from runner.progress import ProgressBar
from tooling.requests import assemble_event, chunk_event, plan_config, plan_event
from tooling.retry import DEFAULT_POLICY, Retried, RetryPolicy, run_with_retry


@dataclass(frozen=True)
class LocalRender:
    output: Path
    plan: dict[str, Any]
    chunks: list[dict[str, Any]]
    assembled: dict[str, Any]
    seconds: float
    retries: tuple[tuple[str, Retried], ...] = ()
    """Every retry, named by its step (``plan``, ``chunk 3``, ``assemble``), in the order the steps ended."""

    @property
    def frames_per_second(self) -> float:
        return int(self.plan["TotalFrames"]) / self.seconds if self.seconds > 0 else 0.0


def _invoke(event: dict[str, Any]) -> dict[str, Any]:
    from handler.app import handler  # noqa: PLC0415 - imported in the worker process

    result: dict[str, Any] = handler(event, None)
    return result


@dataclass(frozen=True)
class _Step:
    result: dict[str, Any]
    retries: tuple[Retried, ...]


def _step(event: dict[str, Any], policy: RetryPolicy) -> _Step:
    """One event handled like a Step Functions task: retried on the policy's retryable codes."""
    retries: list[Retried] = []
    result = run_with_retry(lambda: _invoke(event), policy, on_retry=retries.append)
    return _Step(result, tuple(retries))


def _after(retries: tuple[Retried, ...]) -> str:
    if not retries:
        return ""
    codes = ", ".join(sorted({retry.code for retry in retries}))
    return f" after {len(retries)} {'retry' if len(retries) == 1 else 'retries'} ({codes})"


def _report(stream: TextIO | None, step: str, retries: tuple[Retried, ...]) -> None:
    """Chunks report their retries on the progress bar; plan and assemble on a line of their own."""
    if retries:
        print(f"{step} done{_after(retries)}", file=stream or sys.stderr, flush=True)


def render(
    project_dir: Path,
    output: Path,
    *,
    chunks: int | None = None,
    frames_per_chunk: int | None = None,
    workers: int = 1,
    config: dict[str, Any] | None = None,
    stream: TextIO | None = None,
    retry: RetryPolicy = DEFAULT_POLICY,
    log_file: Path | None = None,
    fonts_reporter: Reporter | None = None,
) -> LocalRender:
    """Render ``project_dir`` to ``output``; with ``log_file``, the handler's JSON log lines go there, not to stdout."""
    policy = retry
    log_file = log_file.resolve() if log_file is not None else None
    with _logs_to(log_file):
        started = time.monotonic()
        retried: list[tuple[str, Retried]] = []
        work = Path(tempfile.mkdtemp(prefix="renderzip-local-"))
        try:
            archive = work / "project.tar.gz"
            # Google Fonts references become local, pinned files in a copy: the page's network is closed.
            project = stage_fonts(
                project_dir.resolve(), work / "project", Cache(default_cache_root()), fonts_reporter or SilentReporter()
            )
            pack_tree(project, archive)
            prefix = (work / "out").as_uri()
            planned = _step(
                plan_event(archive.as_uri(), prefix, plan_config(chunks, frames_per_chunk, config or {})),
                policy,
            )
            plan = planned.result
            retried.extend(("plan", note) for note in planned.retries)
            _report(stream, "plan", planned.retries)
            count = int(plan["ChunkCount"])
            bar = ProgressBar(int(plan["TotalFrames"]), f"rendering {count} chunk{'s' if count != 1 else ''}", stream)
            results: dict[int, dict[str, Any]] = {}
            with ProcessPoolExecutor(
                max_workers=max(1, min(workers, count)), initializer=_log_to, initargs=(log_file,)
            ) as pool:
                pending: set[Future[_Step]] = {
                    pool.submit(_step, chunk_event(plan, prefix, index), policy) for index in range(count)
                }
                while pending:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        step = future.result()
                        chunk = step.result
                        results[int(chunk["ChunkIndex"])] = chunk
                        retried.extend((f"chunk {chunk['ChunkIndex']}", note) for note in step.retries)
                        bar.advance(int(chunk["Frames"]), f"chunk {chunk['ChunkIndex']} done{_after(step.retries)}")
            ordered = [results[index] for index in range(count)]
            output = output.resolve()
            assembled = _step(
                assemble_event(plan, [chunk["ChunkUri"] for chunk in ordered], output.as_uri()),
                policy,
            )
            retried.extend(("assemble", note) for note in assembled.retries)
            _report(stream, "assemble", assembled.retries)
            return LocalRender(output, plan, ordered, assembled.result, time.monotonic() - started, tuple(retried))
        finally:
            _close_browsers()
            shutil.rmtree(work, ignore_errors=True)


def _close_browsers() -> None:
    """The plan and the assemble ran in this process: its handler's browsers end with the render."""
    from handler.app import BROWSERS  # noqa: PLC0415 - imported where the handler ran

    BROWSERS.close()


def _log_to(log_file: Path | None) -> None:
    """Point the handler's logger in this process at ``log_file`` (None: stdout); workers run it at start."""
    from handler.app import LOGGER  # noqa: PLC0415 - imported in the worker process

    LOGGER.use_file(log_file)


@contextlib.contextmanager
def _logs_to(log_file: Path | None) -> Iterator[None]:
    """The handler's lines in this process (plan, assemble) go to ``log_file`` while the render runs."""
    _log_to(log_file)
    try:
        yield
    finally:
        _log_to(None)
