"""One retry policy (`tooling.retry`): its ASL blocks and `run_with_retry` follow the same numbers and error list."""

from __future__ import annotations

import inspect
import json
from typing import Any

import pytest

from deploy.retry import LAMBDA_RUNTIME_ERRORS, LAMBDA_SERVICE_ERRORS, asl_retry
from deploy.template import TEMPLATE_JSON
from handler.errors import ChromeCrashed, InvalidEvent, PlanHashMismatch, permanent_codes, retryable_codes
from runner import local
from tooling.retry import Retried, RetryPolicy, run_with_retry


def test_policy_takes_its_codes_from_the_errors_module() -> None:
    policy = RetryPolicy()
    assert list(policy.retryable) == retryable_codes()
    assert list(policy.permanent) == permanent_codes()


def test_asl_retries_the_retryable_codes_with_backoff_and_never_the_permanent_ones() -> None:
    policy = RetryPolicy(interval_seconds=3, backoff_rate=1.5, max_attempts=4, max_delay_seconds=30, jitter="NONE")
    permanent, retryable, service = asl_retry(policy)
    assert permanent == {"ErrorEquals": permanent_codes(), "MaxAttempts": 0}
    assert retryable == {
        "ErrorEquals": retryable_codes(),
        "IntervalSeconds": 3,
        "BackoffRate": 1.5,
        "MaxAttempts": 4,
        "MaxDelaySeconds": 30,
        "JitterStrategy": "NONE",
    }
    assert service["ErrorEquals"] == [*LAMBDA_SERVICE_ERRORS, *LAMBDA_RUNTIME_ERRORS]


def test_delays_grow_by_the_backoff_rate_up_to_the_cap() -> None:
    policy = RetryPolicy(interval_seconds=2, backoff_rate=3.0, max_attempts=5, max_delay_seconds=40)
    assert [policy.delay(k) for k in range(5)] == [2.0, 6.0, 18.0, 40.0, 40.0]


def test_a_retryable_error_is_retried_with_the_same_waits_then_succeeds() -> None:
    policy = RetryPolicy(interval_seconds=2, backoff_rate=2.0, max_attempts=3, jitter="NONE")
    waits: list[float] = []
    calls = iter([ChromeCrashed("gone"), ChromeCrashed("gone again"), "done"])

    def flaky() -> str:
        outcome = next(calls)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert run_with_retry(flaky, policy, sleep=waits.append) == "done"
    assert waits == [2.0, 4.0]


def test_retries_stop_after_max_attempts_and_the_last_error_is_raised() -> None:
    policy = RetryPolicy(max_attempts=2, jitter="NONE")
    attempts: list[int] = []

    def always() -> None:
        attempts.append(1)
        raise ChromeCrashed(f"attempt {len(attempts)}")

    with pytest.raises(ChromeCrashed, match="attempt 3"):
        run_with_retry(always, policy, sleep=lambda _: None)
    assert len(attempts) == 3


@pytest.mark.parametrize("error", [InvalidEvent("ChunkIndex", "bad"), PlanHashMismatch("x", "a", "b"), ValueError("x")])
def test_permanent_and_foreign_errors_are_raised_at_once(error: Exception) -> None:
    waits: list[float] = []

    def fails() -> None:
        raise error

    with pytest.raises(type(error)):
        run_with_retry(fails, RetryPolicy(), sleep=waits.append)
    assert waits == []


def test_full_jitter_scales_the_wait_by_the_random_draw() -> None:
    waits: list[float] = []
    calls = iter([ChromeCrashed("x"), None])

    def once() -> None:
        outcome = next(calls)
        if outcome is not None:
            raise outcome

    run_with_retry(once, RetryPolicy(interval_seconds=4, jitter="FULL"), sleep=waits.append, rng=lambda: 0.25)
    assert waits == [1.0]


def test_a_policy_with_a_code_in_both_lists_is_refused() -> None:
    with pytest.raises(ValueError, match="ChromeCrashed"):
        RetryPolicy(permanent=("ChromeCrashed",))


def test_each_retry_is_reported_with_its_number_code_and_wait() -> None:
    seen: list[Retried] = []
    calls = iter([ChromeCrashed("gone"), None])

    def once() -> None:
        outcome = next(calls)
        if outcome is not None:
            raise outcome

    run_with_retry(once, RetryPolicy(jitter="NONE"), sleep=lambda _: None, on_retry=seen.append)
    assert seen == [Retried(1, "ChromeCrashed", "gone", 2.0)]


def _policy_of(retry_blocks: list[dict[str, Any]]) -> RetryPolicy:
    """The policy a task's ASL ``Retry`` field encodes, read back from the ASL alone."""
    permanent, retryable, service = retry_blocks
    assert permanent["MaxAttempts"] == 0
    backoff = {key: value for key, value in retryable.items() if key != "ErrorEquals"}
    assert {key: value for key, value in service.items() if key != "ErrorEquals"} == backoff
    return RetryPolicy(
        interval_seconds=backoff["IntervalSeconds"],
        backoff_rate=backoff["BackoffRate"],
        max_attempts=backoff["MaxAttempts"],
        max_delay_seconds=backoff["MaxDelaySeconds"],
        jitter=backoff["JitterStrategy"],
        retryable=tuple(retryable["ErrorEquals"]),
        permanent=tuple(permanent["ErrorEquals"]),
    )


def test_the_committed_state_machine_retries_every_task_exactly_as_the_local_runner() -> None:
    """deploy/template.json, as deployed, read back into a policy: it equals the local runner's default."""
    template = json.loads(TEMPLATE_JSON.read_text(encoding="utf-8"))
    machine = json.loads(template["Resources"]["RenderStateMachine"]["Properties"]["DefinitionString"]["Fn::Sub"])
    states = machine["States"]
    tasks = [states["Plan"], states["RenderChunks"]["ItemProcessor"]["States"]["RenderChunk"], states["Assemble"]]
    local_default = inspect.signature(local.render).parameters["retry"].default
    assert isinstance(local_default, RetryPolicy)
    for task in tasks:
        assert _policy_of(task["Retry"]) == local_default
