"""Render on AWS: pack and upload the composition, start an execution, follow it, download the video.

Layout in the stack's bucket, all under the ``renders/`` prefix that expires::

    renders/<RenderId>/project.tar.gz       the composition (ProjectUri)
    renders/<RenderId>/<PlanHash>/...       plan and chunks (OutputPrefix = renders/<RenderId>)
    renders/<RenderId>/output.<suffix>      the video (OutputUri; .mp4, .webm, .mov, .gif, .tar)

``RenderId`` is the UTC time and the start of the archive's sha256; it also
names the execution. Budgets (`deploy.budgets`) are checked before anything
is uploaded.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bundler.cache import Cache, default_cache_root
from bundler.fonts import stage_fonts
from bundler.progress import Reporter, SilentReporter
from deploy import budgets
from deploy.aws import StackOutputs, make_session
from deploy.cost import Estimate, FunctionShape, Usage, accrued, estimate
from deploy.errors import CostLimitExceeded, DeployError, RemoteRenderFailed
from deploy.history import first_failure
from deploy.packing import Packer, default_packer
from deploy.pricing import DEFAULT_PRICES, Prices
from deploy.progress import Progress, ProgressReader
from deploy.retry import DEFAULT_POLICY, RetryPolicy
from deploy.sample import sample_chunk
from deploy.template import RENDER_PREFIX
from handler.render.chunking import chunk_table
from handler.render.composition import read_composition, total_frames
from handler.render.settings import OUTPUT_SUFFIXES

TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


@dataclass(frozen=True)
class Submitted:
    render_id: str
    execution_arn: str
    bucket: str
    prefix_key: str
    output_uri: str
    execution_input: dict[str, object]
    budget: budgets.Budget
    function_arn: str = ""


@dataclass(frozen=True)
class CostOptions:
    """``--estimate``, ``--max-cost`` and what they need: the prices, the image and the zip to sample with."""

    estimate_only: bool = False
    max_cost_usd: float | None = None
    prices: Prices = DEFAULT_PRICES
    image: str | None = None
    zip_path: Path = Path("dist/handler.zip")

    @property
    def wants_estimate(self) -> bool:
        return self.estimate_only or self.max_cost_usd is not None


@dataclass(frozen=True)
class RemoteResult:
    execution_arn: str
    output_uri: str
    output: Path
    sha256: str
    bytes: int
    frames: int
    duration_ms: int
    cost_usd: float = 0.0
    accrued: Usage | None = None


def count_chunks(project_dir: Path, config: Mapping[str, Any]) -> int:
    """The chunk count the plan will make, known before planning from ``index.html`` and ``Config``.

    With ``Chunks`` and no ``data-duration`` it is an upper bound (the plan never makes empty chunks).
    """
    spec = read_composition(project_dir)
    chunks = config.get("Chunks")
    if spec.duration is None:
        if chunks is not None:
            return int(chunks)
        raise DeployError(
            f"{project_dir}: index.html has no data-duration, so the chunk count is unknown before planning",
            "add data-duration to the root element, or set Config.Chunks",
        )
    # The planner's own table on the planner's inputs: the count cannot drift from the plan's.
    table = chunk_table(
        total_frames(spec.duration, spec.fps), chunks=chunks, frames_per_chunk=config.get("FramesPerChunk")
    )
    return len(table)


def _render_id(archive_sha256: str, now: datetime) -> str:
    return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{archive_sha256[:12]}"


def submit(
    session: Any,
    project_dir: Path,
    *,
    stack: str,
    config: Mapping[str, Any] | None = None,
    retry: RetryPolicy | None = None,
    packer: Packer | None = None,
    now: datetime | None = None,
) -> Submitted:
    """Check the budgets, upload the composition and start the execution."""
    if not (project_dir / "index.html").is_file():
        raise DeployError(f"{project_dir}: no index.html", "pass the composition's directory")
    settings = dict(config or {})
    target = StackOutputs.read(session.client("cloudformation"), stack)
    scratch = Path(tempfile.mkdtemp(prefix="renderzip-remote-"))
    try:
        archive = scratch / "project.tar.gz"
        # Google Fonts references become local, pinned files in a copy: the function's network is closed.
        project = stage_fonts(project_dir, scratch / "project", Cache(default_cache_root()), SilentReporter())
        digest = (packer or default_packer())(project, archive)
        render_id = _render_id(digest, now or datetime.now(UTC))
        prefix_key = f"{RENDER_PREFIX}{render_id}"
        base = f"s3://{target.bucket}/{prefix_key}"
        output_uri = f"{base}/output{OUTPUT_SUFFIXES.get(str(settings.get('Format', 'mp4')), '.mp4')}"
        execution_input: dict[str, object] = {
            "ProjectUri": f"{base}/project.tar.gz",
            "OutputPrefix": base,
            "OutputUri": output_uri,
            "Config": settings,
        }
        budget = budgets.check(
            execution_input,
            chunks=count_chunks(project_dir, settings),
            max_concurrency=target.max_concurrency,
            retry=retry or DEFAULT_POLICY,
        )
        s3 = session.client("s3")
        s3.upload_file(
            str(archive), target.bucket, f"{prefix_key}/project.tar.gz", ExtraArgs={"ChecksumAlgorithm": "SHA256"}
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    started = session.client("stepfunctions").start_execution(
        stateMachineArn=target.state_machine_arn, name=render_id, input=json.dumps(execution_input)
    )
    return Submitted(
        render_id,
        started["executionArn"],
        target.bucket,
        prefix_key,
        output_uri,
        execution_input,
        budget,
        target.function_arn,
    )


def function_shape(session: Any, function_arn: str) -> tuple[FunctionShape, str]:
    """How the function is billed, and its runtime."""
    configuration = session.client("lambda").get_function_configuration(FunctionName=function_arn)
    return FunctionShape.from_configuration(configuration), str(configuration.get("Runtime", "python3.13"))


def estimate_render(
    session: Any,
    project_dir: Path,
    *,
    stack: str,
    config: Mapping[str, Any],
    options: CostOptions,
    poll_seconds: float,
    reporter: Reporter,
) -> Estimate:
    """What the render would cost, from a sample chunk in the Lambda image; nothing is uploaded or started."""
    if not (project_dir / "index.html").is_file():
        raise DeployError(f"{project_dir}: no index.html", "pass the composition's directory")
    target = StackOutputs.read(session.client("cloudformation"), stack)
    shape, runtime = function_shape(session, target.function_arn)
    scratch = Path(tempfile.mkdtemp(prefix="renderzip-estimate-"))
    try:
        project = stage_fonts(project_dir, scratch / "project", Cache(default_cache_root()), SilentReporter())
        sample, plan = sample_chunk(
            project,
            config,
            zip_path=options.zip_path,
            runtime=runtime,
            memory_mb=shape.memory_mb,
            image=options.image,
            reporter=reporter,
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    table = chunk_table(
        int(plan["TotalFrames"]), chunks=config.get("Chunks"), frames_per_chunk=config.get("FramesPerChunk")
    )
    return estimate(
        sample,
        [end - start for start, end in table],
        shape,
        options.prices,
        max_concurrency=target.max_concurrency,
        poll_seconds=poll_seconds,
    )


def check_cost(estimated: Estimate, max_cost_usd: float | None) -> None:
    if max_cost_usd is not None and estimated.high_usd > max_cost_usd:
        raise CostLimitExceeded(estimated.high_usd, max_cost_usd)


def follow(
    session: Any,
    submitted: Submitted,
    *,
    progress: Callable[[Progress], None] | None = None,
    poll_seconds: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
    prices: Prices = DEFAULT_PRICES,
) -> dict[str, Any]:
    """Poll until the execution ends; its description once it does, with progress reported on each change."""
    sfn = session.client("stepfunctions")
    reader = ProgressReader(session.client("s3"), submitted.bucket, submitted.prefix_key)
    shape = function_shape(session, submitted.function_arn)[0] if submitted.function_arn else None
    last: Progress | None = None
    started = time.monotonic()
    while True:
        description: dict[str, Any] = sfn.describe_execution(executionArn=submitted.execution_arn)
        status = str(description["status"])
        current = reader.read(status)
        if shape is not None:
            usage = accrued(execution_history(sfn, submitted.execution_arn))
            current = dataclasses.replace(current, cost_usd=usage.usd(shape, prices))
        if progress is not None and current != last:
            progress(dataclasses.replace(current, elapsed_s=time.monotonic() - started))
        last = current
        if status in TERMINAL:
            return description
        sleep(poll_seconds)


def execution_history(sfn: Any, execution_arn: str) -> list[dict[str, Any]]:
    """Every event of the execution, oldest first."""
    events: list[dict[str, Any]] = []
    token: dict[str, str] = {}
    while True:
        page = sfn.get_execution_history(executionArn=execution_arn, maxResults=1000, **token)
        events += page["events"]
        if not page.get("nextToken"):
            return events
        token = {"nextToken": page["nextToken"]}


def _split_s3(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://") or "/" not in uri[5:]:
        raise DeployError(f"{uri!r} is not an s3:// URI", "the execution's output is not an assemble result")
    bucket, key = uri[5:].split("/", 1)
    return bucket, key


def download(
    session: Any, submitted: Submitted, description: Mapping[str, Any], output: Path, prices: Prices = DEFAULT_PRICES
) -> RemoteResult:
    """The video of a finished execution, written to ``output`` once its sha256 matches the result's."""
    if description["status"] != "SUCCEEDED":
        failure = first_failure(execution_history(session.client("stepfunctions"), submitted.execution_arn))
        raise RemoteRenderFailed(
            submitted.execution_arn,
            str(description["status"]),
            description.get("error", ""),
            description.get("cause", ""),
            failure.line() if failure is not None else "",
        )
    result = json.loads(description.get("output") or "{}")
    output_uri = str(result.get("OutputUri", ""))
    bucket, key = _split_s3(output_uri)
    output.parent.mkdir(parents=True, exist_ok=True)
    handle, partial_name = tempfile.mkstemp(prefix=f".{output.name}.", dir=output.parent)
    os.close(handle)
    partial = Path(partial_name)
    try:
        session.client("s3").download_file(bucket, key, str(partial))
        with partial.open("rb") as stream:
            actual = hashlib.file_digest(stream, "sha256").hexdigest()
        if actual != result.get("Sha256"):
            raise DeployError(
                f"{output_uri}: sha256 {actual} differs from the result's {result.get('Sha256')}",
                "download it again; if it persists, the object changed after the render",
            )
        partial.replace(output)
    finally:
        partial.unlink(missing_ok=True)
    return RemoteResult(
        submitted.execution_arn,
        output_uri,
        output,
        actual,
        int(result.get("Bytes", output.stat().st_size)),
        int(result.get("Frames", 0)),
        int(result.get("DurationMs", 0)),
        *_final_cost(session, submitted, prices),
    )


def _final_cost(session: Any, submitted: Submitted, prices: Prices) -> tuple[float, Usage | None]:
    if not submitted.function_arn:
        return 0.0, None
    usage = accrued(execution_history(session.client("stepfunctions"), submitted.execution_arn))
    return usage.usd(function_shape(session, submitted.function_arn)[0], prices), usage


def render_remote(
    project_dir: Path,
    output: Path,
    *,
    stack: str,
    region: str | None = None,
    session: Any = None,
    config: Mapping[str, Any] | None = None,
    progress: Callable[[Progress], None] | None = None,
    poll_seconds: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
    packer: Packer | None = None,
    cost: CostOptions | None = None,
    report: Callable[[str], None] = lambda line: None,
) -> RemoteResult | Estimate:
    """Render ``project_dir`` on the stack's state machine and write the video to ``output``.

    With ``cost.estimate_only`` the estimate is returned and nothing runs; with ``cost.max_cost_usd`` a render
    whose high estimate is over it is refused (`CostLimitExceeded`) before anything is uploaded."""
    session = session or make_session(region)
    cost = cost or CostOptions()
    if cost.wants_estimate:
        estimated = estimate_render(
            session,
            project_dir,
            stack=stack,
            config=dict(config or {}),
            options=cost,
            poll_seconds=poll_seconds,
            reporter=_LineReporter(report),
        )
        for line in estimated.lines():
            report(line)
        if cost.estimate_only:
            return estimated
        check_cost(estimated, cost.max_cost_usd)
    submitted = submit(session, project_dir, stack=stack, config=config, packer=packer)
    description = follow(
        session, submitted, progress=progress, poll_seconds=poll_seconds, sleep=sleep, prices=cost.prices
    )
    return download(session, submitted, description, output, cost.prices)


class _LineReporter(SilentReporter):
    def __init__(self, report: Callable[[str], None]) -> None:
        self._report = report

    def step(self, message: str) -> None:
        self._report(message)
