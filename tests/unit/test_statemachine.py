"""The state machine: valid ASL whose error names all come from the errors module."""

from __future__ import annotations

import json
from typing import Any

import pytest

from deploy.retry import LAMBDA_RUNTIME_ERRORS, LAMBDA_SERVICE_ERRORS, RetryPolicy
from deploy.statemachine import FAILED, definition, error_names
from handler.errors import all_error_types, permanent_codes, retryable_codes

ARN = "arn:aws:lambda:us-east-1:123456789012:function:render"


def _machine(**kwargs: Any) -> dict[str, Any]:
    return definition(ARN, max_concurrency=kwargs.pop("max_concurrency", 10), retry=RetryPolicy(**kwargs))


def test_is_json_that_round_trips() -> None:
    machine = _machine()
    assert json.loads(json.dumps(machine)) == machine


def test_every_error_name_is_a_module_code_a_lambda_service_error_or_the_catch_all() -> None:
    codes = {cls.__name__ for cls in all_error_types()}
    assert error_names(_machine()) - codes == {*LAMBDA_SERVICE_ERRORS, *LAMBDA_RUNTIME_ERRORS, "States.ALL"}


def test_every_task_retries_every_retryable_code_and_no_permanent_one() -> None:
    machine = _machine()
    tasks = [machine["States"]["Plan"], machine["States"]["Assemble"]]
    tasks.append(machine["States"]["RenderChunks"]["ItemProcessor"]["States"]["RenderChunk"])
    for task in tasks:
        retried = {name for block in task["Retry"] if block["MaxAttempts"] > 0 for name in block["ErrorEquals"]}
        never = {name for block in task["Retry"] if block["MaxAttempts"] == 0 for name in block["ErrorEquals"]}
        assert set(retryable_codes()) <= retried
        assert never == set(permanent_codes())
        assert not retried & set(permanent_codes())


def test_map_runs_renderchunk_per_index_at_the_configured_concurrency_and_feeds_assemble() -> None:
    states = _machine(max_concurrency=7)["States"]
    render = states["RenderChunks"]
    assert render["MaxConcurrency"] == 7
    assert render["ItemsPath"] == "$.Plan.Indexes"
    assert render["ItemSelector"]["ChunkIndex.$"] == "$$.Map.Item.Value"
    assert render["ResultPath"] == "$.Chunks"
    chunk = render["ItemProcessor"]["States"]["RenderChunk"]
    assert chunk["Parameters"]["Payload"]["Action"] == "renderChunk"
    assert set(chunk["ResultSelector"]) == {"ChunkIndex.$", "ChunkUri.$", "Sha256.$", "Frames.$", "DurationMs.$"}
    plan = states["Plan"]
    assert "States.ArrayRange(0, States.MathAdd($.Payload.ChunkCount, -1), 1)" in plan["ResultSelector"].values()
    assert states["Assemble"]["Parameters"]["Payload"]["ChunkUris.$"] == "$.Chunks"


def test_failures_are_caught_into_a_fail_state_with_error_and_cause() -> None:
    states = _machine()["States"]
    for name in ("Plan", "RenderChunks", "Assemble"):
        assert states[name]["Catch"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.Failure", "Next": FAILED}]
    assert states[FAILED] == {"Type": "Fail", "ErrorPath": "$.Failure.Error", "CausePath": "$.Failure.Cause"}


@pytest.mark.parametrize("value", [0, 1001])
def test_concurrency_out_of_range_is_refused(value: int) -> None:
    with pytest.raises(ValueError, match="max_concurrency"):
        definition(ARN, max_concurrency=value, retry=RetryPolicy())
