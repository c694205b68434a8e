"""Cost: the estimate's arithmetic, the cost accrued from a history, the price table's overrides."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from deploy.cost import FunctionShape, Sample, Usage, accrued, estimate, state_transitions
from deploy.errors import DeployError
from deploy.history import first_failure, retried_tasks
from deploy.pricing import DEFAULT_PRICES, Prices, load_prices

SHAPE = FunctionShape(memory_mb=2048, architecture="x86_64", ephemeral_mb=512)
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_usage_is_priced_per_gb_second_request_transition_and_s3_request() -> None:
    usage = Usage(invocations=10, lambda_seconds=100.0, state_transitions=20, s3_puts=1000, s3_gets=1000)
    expected = 100 * 2 * 0.0000166667 + 10 * 0.2e-6 + 20 * 0.025e-3 + 0.005 + 0.0004
    assert usage.usd(SHAPE, DEFAULT_PRICES) == pytest.approx(expected)
    arm = FunctionShape(2048, "arm64", 512)
    assert Usage(0, 100.0, 0).usd(arm, DEFAULT_PRICES) == pytest.approx(100 * 2 * 0.0000133334)
    storage = FunctionShape(1024, "x86_64", 512 + 1024)
    assert Usage(0, 10.0, 0).usd(storage, DEFAULT_PRICES) == pytest.approx(10 * (0.0000166667 + 0.0000000309))


def test_an_estimate_scales_the_sample_by_frames_and_bands_it() -> None:
    sample = Sample(frames=30, seconds=6.0, plan_seconds=2.0, cores=2)
    result = estimate(sample, [30, 30, 30, 10], SHAPE, DEFAULT_PRICES, max_concurrency=2, poll_seconds=5)
    # plan 2 + chunks 0.2 s/frame * 100 + assemble (plan 2 + longest chunk 6)
    assert result.low.lambda_seconds == pytest.approx(30.0 * 0.8)
    assert result.high.lambda_seconds == pytest.approx(30.0 * 1.25)
    assert result.low.invocations == 6 and result.low.state_transitions == state_transitions(4) == 7
    assert result.wall_seconds == pytest.approx(2 + 2 * 6 + 8)
    assert 0 < result.low_usd < result.high_usd
    assert result.lines()[-1].startswith(f"  cost: ${result.low_usd:.4f}-${result.high_usd:.4f}")


def _event(number: int, kind: str, previous: int, seconds: float, **details: Any) -> dict[str, Any]:
    event: dict[str, Any] = {"id": number, "type": kind, "previousEventId": previous}
    event["timestamp"] = T0 + timedelta(seconds=seconds)
    if details:
        event[f"{kind[0].lower()}{kind[1:]}EventDetails"] = details
    return event


def _history() -> list[dict[str, Any]]:
    chunk = json.dumps({"FunctionName": "f", "Payload": {"Action": "renderChunk", "ChunkIndex": 3}})
    cause = json.dumps({"errorType": "PlanHashMismatch", "errorMessage": "for plan.tar.gz: expected a, got b"})
    return [
        _event(1, "ExecutionStarted", 0, 0),
        _event(2, "TaskStateEntered", 1, 0, name="RenderChunk"),
        _event(3, "TaskScheduled", 2, 0, parameters=chunk),
        _event(4, "TaskStarted", 3, 1),
        _event(5, "TaskFailed", 4, 5.5, error="PlanHashMismatch", cause=cause),
        _event(6, "TaskStateEntered", 5, 6, name="RenderChunk"),
        _event(7, "TaskScheduled", 6, 6, parameters=chunk),
        _event(8, "TaskStarted", 7, 7),
    ]


def test_the_accrued_cost_counts_measured_task_time_and_states_entered() -> None:
    usage = accrued(_history())
    assert (usage.invocations, usage.lambda_seconds, usage.state_transitions) == (2, 4.5, 2)


def test_the_first_failure_names_the_state_the_chunk_and_the_error() -> None:
    failure = first_failure(_history())
    assert failure is not None
    assert failure.line() == "state RenderChunk, chunk 3: PlanHashMismatch: for plan.tar.gz: expected a, got b"
    assert retried_tasks(_history()) == [("renderChunk", 3), ("renderChunk", 3)]
    assert first_failure(_history()[:4]) is None


def test_prices_are_overridden_from_a_file_and_bad_tables_are_refused(tmp_path: Path) -> None:
    table = tmp_path / "prices.json"
    table.write_text(json.dumps({"region": "eu-west-1", "lambda_request": 0.0}))
    assert load_prices(table) == Prices(region="eu-west-1", lambda_request=0.0)
    assert load_prices(None) is DEFAULT_PRICES
    for bad, says in (({"lambda_requests": 1}, "unknown"), ({"s3_get": -1}, "zero or more"), ([], "not a table")):
        table.write_text(json.dumps(bad))
        with pytest.raises(DeployError, match=says):
            load_prices(table)
    table.write_text("{")
    with pytest.raises(DeployError, match="--prices"):
        load_prices(table)
