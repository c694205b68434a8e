"""The Step Functions state machine: plan, a Map over the chunk indexes, assemble.

Execution input::

    {"ProjectUri": "s3://...", "OutputPrefix": "s3://...", "OutputUri": "s3://.../out.mp4", "Config": {...}}

``Config`` must be present (``{}`` for the defaults). Each state keeps its
output small: the plan's result is cut down to what the later states need and
placed at ``$.Plan``, together with the chunk indexes ``0..ChunkCount-1``
(``States.ArrayRange``, at most 1000 items, the same cap as the function's
``ChunkUris``). The Map runs one ``renderChunk`` per index, at most
``MaxConcurrency`` at a time, and its output is the list of chunk results
(under 200 bytes each), which ``assemble`` receives as ``ChunkUris``. The
execution's output is the assemble result.

Every Task retries by `tooling.retry.RetryPolicy`, the policy the local
runner applies too; anything else (a permanent code, retries used up, a
Lambda timeout) is caught and ends in the ``Failed`` state, which carries the
error name and cause.
"""

from __future__ import annotations

from typing import Any

from deploy.retry import RetryPolicy, asl_retry

INVOKE = "arn:aws:states:::lambda:invoke"
TASK_TIMEOUT_SECONDS = 960
"""A little over the function's 900 s timeout, so a hung invoke still ends."""
FAILED = "Failed"
MAX_CONCURRENCY = 1000
DEFAULT_MAX_CONCURRENCY = 50

_CHUNK_RESULT = {
    "ChunkIndex.$": "$.Payload.ChunkIndex",
    "ChunkUri.$": "$.Payload.ChunkUri",
    "Sha256.$": "$.Payload.Sha256",
    "Frames.$": "$.Payload.Frames",
    "DurationMs.$": "$.Payload.DurationMs",
}


def _task(function_arn: str, payload: dict[str, Any], retry: RetryPolicy, **rest: Any) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": INVOKE,
        "Parameters": {"FunctionName": function_arn, "Payload": payload},
        "TimeoutSeconds": TASK_TIMEOUT_SECONDS,
        "Retry": asl_retry(retry),
        **rest,
    }


def _catch() -> list[dict[str, Any]]:
    return [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.Failure", "Next": FAILED}]


def definition(function_arn_ref: str, *, max_concurrency: int, retry: RetryPolicy) -> dict[str, Any]:
    """The state machine in Amazon States Language.

    ``function_arn_ref`` is the function's ARN or a placeholder such as
    ``${RenderFunction.Arn}`` that the template substitutes.
    """
    if not 1 <= max_concurrency <= MAX_CONCURRENCY:
        raise ValueError(f"max_concurrency must be from 1 to {MAX_CONCURRENCY}, got {max_concurrency}")
    plan = _task(
        function_arn_ref,
        {
            "Action": "plan",
            "ProjectUri.$": "$.ProjectUri",
            "OutputPrefix.$": "$.OutputPrefix",
            "Config.$": "$.Config",
        },
        retry,
        ResultSelector={
            "PlanHash.$": "$.Payload.PlanHash",
            "PlanUri.$": "$.Payload.PlanUri",
            "ChunkCount.$": "$.Payload.ChunkCount",
            "Pages.$": "$.Payload.Pages",
            "Indexes.$": "States.ArrayRange(0, States.MathAdd($.Payload.ChunkCount, -1), 1)",
        },
        ResultPath="$.Plan",
        Catch=_catch(),
        Next="RenderChunks",
    )
    chunk = _task(
        function_arn_ref,
        {
            "Action": "renderChunk",
            "PlanUri.$": "$.PlanUri",
            "PlanHash.$": "$.PlanHash",
            "ChunkIndex.$": "$.ChunkIndex",
            "OutputPrefix.$": "$.OutputPrefix",
            "Pages.$": "$.Pages",
        },
        retry,
        ResultSelector=_CHUNK_RESULT,
        End=True,
    )
    render_chunks = {
        "Type": "Map",
        "ItemsPath": "$.Plan.Indexes",
        "ItemSelector": {
            "PlanUri.$": "$.Plan.PlanUri",
            "PlanHash.$": "$.Plan.PlanHash",
            "OutputPrefix.$": "$.OutputPrefix",
            "ChunkIndex.$": "$$.Map.Item.Value",
            "Pages.$": "$.Plan.Pages",
        },
        "MaxConcurrency": max_concurrency,
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "INLINE"},
            "StartAt": "RenderChunk",
            "States": {"RenderChunk": chunk},
        },
        "ResultPath": "$.Chunks",
        "Catch": _catch(),
        "Next": "Assemble",
    }
    assemble = _task(
        function_arn_ref,
        {
            "Action": "assemble",
            "PlanUri.$": "$.Plan.PlanUri",
            "PlanHash.$": "$.Plan.PlanHash",
            "ChunkUris.$": "$.Chunks",
            "OutputUri.$": "$.OutputUri",
        },
        retry,
        ResultSelector={
            "OutputUri.$": "$.Payload.OutputUri",
            "Sha256.$": "$.Payload.Sha256",
            "Bytes.$": "$.Payload.Bytes",
            "Frames.$": "$.Payload.Frames",
            "DurationMs.$": "$.Payload.DurationMs",
        },
        Catch=_catch(),
        End=True,
    )
    return {
        "Comment": "renderzip: plan, render every chunk, assemble",
        "StartAt": "Plan",
        "States": {
            "Plan": plan,
            "RenderChunks": render_chunks,
            "Assemble": assemble,
            FAILED: {"Type": "Fail", "ErrorPath": "$.Failure.Error", "CausePath": "$.Failure.Cause"},
        },
    }


def error_names(machine: dict[str, Any]) -> set[str]:
    """Every error name a Retry or Catch of ``machine`` matches, at any depth."""
    names: set[str] = set()

    def visit(states: dict[str, Any]) -> None:
        for state in states.values():
            for block in state.get("Retry", []) + state.get("Catch", []):
                names.update(block["ErrorEquals"])
            processor = state.get("ItemProcessor") or state.get("Iterator")
            if processor:
                visit(processor["States"])

    visit(machine["States"])
    return names
